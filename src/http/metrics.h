/*
 * metrics: counters for GET /metrics (api-contract.md §9), in Prometheus
 * text format. Thread-safe; cheap enough for every request.
 */
#ifndef PROCSVC_HTTP_METRICS_H
#define PROCSVC_HTTP_METRICS_H

#include <stddef.h>

#include "api/api.h"

/* Values read live when the page is rendered. */
struct metrics_gauges {
	struct api_gauges api;   /* database pool, decode memory */
	int http_threads;        /* PROCSVC_THREADS */
	size_t worker_stack;     /* bytes, as a worker observed it */
};

/* A request started / ended. api is the route name ("-" when none). */
void metrics_begin(void);
void metrics_end(const char *api, int code, double seconds);

/* Renders the page with the counters and g; caller frees. NULL on out of
 * memory. */
char *metrics_render(const struct metrics_gauges *g, size_t *len);

#endif
