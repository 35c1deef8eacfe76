/*
 * ctx: what the service layer needs per worker thread (its database handle)
 * and per request (tenant and operator, already authenticated by the API
 * layer). Nothing here knows about HTTP or JSON.
 */
#ifndef PROCSVC_SVC_CTX_H
#define PROCSVC_SVC_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct db;

/* Per worker thread; not shared between threads. */
struct svc_ctx {
	struct db *db;
	int64_t schema_version; /* the version /readyz insists on */
};

/* Per request: borrowed for the duration of one call. */
struct svc_req {
	struct svc_ctx *ctx;
	const char *tenant;   /* bk_supplier_account, validated */
	const char *operator; /* creator / modifier of what is written */
};

/* A worker's context for conninfo (copied). NULL on out of memory. Does not
 * connect: the first request does. */
struct svc_ctx *svc_ctx_new(const char *conninfo, int64_t schema_version);
void svc_ctx_free(struct svc_ctx *ctx);

/*
 * true when the database answers and its schema is at schema_version, not
 * dirty; else false with a short reason in reason (size n).
 */
bool svc_ready(struct svc_ctx *ctx, char *reason, size_t n) MUST_CHECK;

/*
 * The request's id field (missing and null decode to 0) must be positive:
 * 0, or -1 with e = code at field ("is required (a positive integer)").
 */
int svc_require_id(int64_t id, int code, const char *field, struct err *e)
    MUST_CHECK;

/* A list of ids in input order, as the create APIs return them. */
struct id_list {
	int64_t *ids;
	size_t n;
};
void id_list_free(struct id_list *l);

#endif
