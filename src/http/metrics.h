/*
 * metrics: the counts behind GET /metrics and the page itself, in the
 * Prometheus text format 0.0.4 (README "Metrics" lists every metric).
 *
 * Counting is lock-free (relaxed atomics): a request never waits for
 * another request or for a scrape, and a scrape reads the counters while
 * they move. Label values are bounded: the api label takes only the names
 * given to metrics_add_api before serving ("-" for everything else: unknown
 * paths, requests CivetWeb rejected), status and code take the handful of
 * values the server sends.
 */
#ifndef PROCSVC_HTTP_METRICS_H
#define PROCSVC_HTTP_METRICS_H

#include <stddef.h>

#include "api/api.h"

/* Values read live when the page is rendered. */
struct metrics_gauges {
	struct api_gauges api;           /* database pool, decode memory */
	unsigned long long http_threads; /* PROCSVC_THREADS */
	unsigned long long worker_stack; /* bytes, as a worker observed it */
};

/*
 * Set up before serving, from one thread: the build's labels and every
 * api label value (strings borrowed for the process's life). Names past
 * the table's room (64) are counted as "-".
 */
void metrics_init(const char *version, const char *commit);
void metrics_add_api(const char *api);

/* A request started / ended. api is a name given to metrics_add_api (any
 * other counts as "-"); status the HTTP status sent; code the envelope's. */
void metrics_begin(void);
void metrics_end(const char *api, int status, int code, double seconds);

/* Renders the page with the counters and g; caller frees. NULL on out of
 * memory. */
char *metrics_render(const struct metrics_gauges *g, size_t *len);

#endif
