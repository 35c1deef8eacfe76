/*
 * metrics: counters for GET /metrics (api-contract.md §9), in Prometheus
 * text format. Thread-safe; cheap enough for every request.
 */
#ifndef PROCSVC_HTTP_METRICS_H
#define PROCSVC_HTTP_METRICS_H

#include <stddef.h>

/* Sets the pool size reported (worker threads = database connections). */
void metrics_set_pool_size(int n);

/* A request started / ended. api is the route name ("-" when none). */
void metrics_begin(void);
void metrics_end(const char *api, int code, double seconds);

/* Renders the page; caller frees. NULL on out of memory. */
char *metrics_render(size_t *len);

#endif
