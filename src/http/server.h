/*
 * server: the CivetWeb server: start, stop, and the request pipeline of
 * api-contract.md §10 (route -> method -> body size -> the API layer), plus
 * the operations endpoints of router.h (/healthz, /readyz, /metrics,
 * /openapi.yaml). The only module that knows CivetWeb's
 * lifecycle. Reaches the layers below only through api/api.h.
 */
#ifndef PROCSVC_HTTP_SERVER_H
#define PROCSVC_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct http_config {
	const char *listen; /* "127.0.0.1:8080" */
	int threads;        /* CivetWeb workers = HTTP connections served at once */
	size_t max_body;    /* bytes; larger bodies get 413 */
	long request_timeout_ms;
	bool log_probes;     /* access lines for the probes (router.h ops_route.probe) */
	const char *version; /* procsvc_build_info's labels */
	const char *commit;
};

struct http_server;

/*
 * Starts serving; cfg's strings are borrowed for the server's life. The API
 * layer must be set up (api_init) first. NULL with e set when CivetWeb
 * cannot start: e->msg carries CivetWeb's reason ("cannot bind to
 * 127.0.0.1:8080: 98 (Address already in use)"). The listen address is
 * expected to be well-formed (addr_parse).
 */
struct http_server *http_start(const struct http_config *cfg, struct err *e);

/*
 * The first step of a graceful stop: from now on every API request is
 * answered 503 / 1199999 ("server shutting down, retry": nothing of it
 * ran) and /readyz 503, while the requests already being handled run to
 * their answers. Returns once none is left, or after timeout_ms with the
 * number still running. Call from one thread, then http_stop.
 */
long http_drain(struct http_server *s, long timeout_ms);

/* Stops: closes the listening socket and every connection, waits for the
 * workers. A request still running can no longer write its answer (its
 * transaction commits or rolls back as it would have): drain first. */
void http_stop(struct http_server *s);

#endif
