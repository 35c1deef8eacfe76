/*
 * router: the one table of APIs, their two paths (api-contract.md §1): the
 * ESB path /api/c/compapi/v2/cc/<name>/ (trailing slash optional) and the
 * native /api/v3/... path, and the methods each path takes (§11.1: POST
 * everywhere; some native paths add PUT or DELETE). 404 and 405 answers,
 * and 405's Allow header, come from here.
 */
#ifndef PROCSVC_HTTP_ROUTER_H
#define PROCSVC_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"

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

/* The route for path, or NULL (404); *esb tells which of its paths it was. */
const struct route *router_find(const char *path, bool *esb);

/* The i-th route of the table (from 0), NULL past the last: every API,
 * for the metrics' api label. */
const struct route *router_route(size_t i);

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

#endif
