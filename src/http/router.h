/*
 * router: the one table of APIs, their two paths (api-contract.md §1): the
 * ESB path /api/c/compapi/v2/cc/<name>/ (trailing slash optional) and the
 * native /api/v3/... path, and the methods each path takes (§11.1: POST
 * everywhere; some native paths add PUT or DELETE); and the table of the
 * operations endpoints (/healthz, /readyz, /metrics, /openapi.yaml). 404
 * and 405 answers, 405's Allow header, and `procsvc routes` come from
 * here, so what is served and what is listed cannot drift apart.
 */
#ifndef PROCSVC_HTTP_ROUTER_H
#define PROCSVC_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "api/api.h"
#include "common/err.h"

/* Most methods one path takes, plus the terminating NULL. */
#define ROUTER_MAX_METHODS 4

struct route {
	const char *name;   /* ESB name, also the metrics label */
	const char *native; /* native path */
	api_handler fn;
	api_text_handler text_fn; /* instead of fn, for an answer written as text */
	/* Methods of the native path, NULL-terminated, in the order the Allow
	 * header and the 405 message list them. The ESB path takes POST only. */
	const char *native_methods[ROUTER_MAX_METHODS];
	/* Writes something: takes X-Idempotency-Key (the lists ignore it). */
	bool write;
};

/* What an operations endpoint serves. */
enum ops_kind {
	OPS_HEALTHZ,
	OPS_READYZ,
	OPS_METRICS,
	OPS_OPENAPI,
};

/* An operations endpoint: no envelope, no credentials, GET and HEAD. */
struct ops_route {
	const char *path; /* matched exactly */
	const char *name; /* the metrics label */
	enum ops_kind kind;
	/* Called every few seconds by orchestrators or Prometheus:
	 * PROCSVC_LOG_PROBES=off drops its access lines. */
	bool probe;
};

/* The route for path, or NULL (404); *esb tells which of its paths it was. */
const struct route *router_find(const char *path, bool *esb);

/* The i-th route of the table (from 0), NULL past the last: every API,
 * for the metrics' api label. */
const struct route *router_route(size_t i);

/* The operations endpoint at path (exactly), or NULL. */
const struct ops_route *router_find_ops(const char *path);

/* The i-th operations endpoint (from 0), NULL past the last. */
const struct ops_route *router_ops_route(size_t i);

/* The methods every operations endpoint takes, NULL-terminated. */
const char *const *router_ops_methods(void);

/* The methods the path (native or ESB) of r takes, NULL-terminated. */
const char *const *router_methods(const struct route *r, bool esb);

/* true when method is one of methods (NULL-terminated). */
bool router_allows(const char *const *methods, const char *method);

/*
 * Writes methods into buf (size n) joined by sep (", " for the Allow
 * header), with last_sep before the last one (" or " for the 405 message:
 * "PUT or POST"). Returns buf.
 */
const char *router_join(const char *const *methods, const char *sep,
    const char *last_sep, char *buf, size_t n);

/*
 * Writes every method and path served, one "METHOD /path" line each: per
 * API its ESB path (with its trailing slash; the form without it is the
 * same route) and each method of its native path, then the operations
 * endpoints (`procsvc routes`; make test compares it with openapi.yaml).
 * false when out could not be written.
 */
bool router_print(FILE *out) MUST_CHECK;

#endif
