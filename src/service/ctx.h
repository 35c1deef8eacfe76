/*
 * ctx: what the service layer needs per request (a database handle, the
 * tenant and the operator, already authenticated by the API layer), and
 * the process-wide set-up behind it: the database connection pool, made
 * once at start. Nothing here knows about HTTP or JSON.
 */
#ifndef PROCSVC_SVC_CTX_H
#define PROCSVC_SVC_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct db;

/*
 * Opens the service for requests: a pool of pool_size database connections
 * to conninfo (copied; none opened yet), where a request waits at most
 * wait_ms for one. schema_version is what svc_ready insists on. Call once,
 * before any other svc_ function; 0, or -1 with e set (out of memory).
 */
int svc_init(const char *conninfo, size_t pool_size, long wait_ms,
    int64_t schema_version, struct err *e) MUST_CHECK;

/* Closes the pool. No request may be running. */
void svc_shutdown(void);

/* One request's context; not shared between threads. */
struct svc_ctx {
	struct db *db;  /* pooled: takes a connection at its first statement */
};

/* Per request: borrowed for the duration of one call. */
struct svc_req {
	struct svc_ctx *ctx;
	const char *tenant;   /* bk_supplier_account, validated */
	const char *operator; /* creator / modifier of what is written */
	/* Where a failure's whole message goes when struct err cannot hold it
	 * (svc_ids_error); the caller answers with it instead of e->msg and
	 * frees it. NULL: the shortened message in e stands. */
	char **long_msg;
};

/* A request's context (no database connection taken yet). NULL on out of
 * memory. */
struct svc_ctx *svc_ctx_new(void);

/* Gives back the context's connection, if it took one: call as soon as
 * the request's service work is done (before its answer is written).
 * The context stays usable. NULL-safe. */
void svc_ctx_release(struct svc_ctx *ctx);

/* Releases and frees. NULL-safe. */
void svc_ctx_free(struct svc_ctx *ctx);

/*
 * true when the database answers (through the pool) and its schema is at
 * the version given to svc_init, not dirty; else false with a short reason
 * in reason (size n).
 */
bool svc_ready(char *reason, size_t n) MUST_CHECK;

/* Live numbers of the connection pool, for the metrics gauges. */
struct svc_pool_stats {
	size_t size, in_use, idle, open, waiting;
	unsigned long long timeouts;
};
void svc_pool_stats(struct svc_pool_stats *out);

#endif
