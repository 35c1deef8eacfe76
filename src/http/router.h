/*
 * router: the one table of APIs and their two paths (api-contract.md §1):
 * the ESB path /api/c/compapi/v2/cc/<name>/ (trailing slash optional) and
 * the native /api/v3/... path.
 */
#ifndef PROCSVC_HTTP_ROUTER_H
#define PROCSVC_HTTP_ROUTER_H

#include "api/api.h"

struct route {
	const char *name;   /* ESB name, also the metrics label */
	const char *native; /* native path */
	api_handler fn;
};

/* The route for path, or NULL (404). */
const struct route *router_find(const char *path);

#endif
