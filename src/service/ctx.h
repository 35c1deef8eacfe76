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
 * wait_ms for one. unnamed is PROCSVC_PREPARE=off (no named statements, no
 * startup options: db/conn.h), for these and the replica's connections.
 * schema_version is the least svc_ready accepts. Call once, before any
 * other svc_ function; 0, or -1 with e set (out of memory).
 */
int svc_init(const char *conninfo, size_t pool_size, long wait_ms,
    bool unnamed, int64_t schema_version, struct err *e) MUST_CHECK;

/*
 * Lets reads that may be stale (svc_ctx_read_replica) use the streaming
 * replica at conninfo (PROCSVC_READ_URL; copied) while it is at most
 * max_lag_ms behind the primary: a pool as large as svc_init's, and a
 * thread that measures the lag (db/replica.h). Call after svc_init,
 * before the server starts. 0, or -1 with e set.
 */
int svc_init_replica(const char *conninfo, long max_lag_ms, struct err *e)
    MUST_CHECK;

/* Closes the pools. No request may be running. */
void svc_shutdown(void);

/* One request's context; not shared between threads. */
struct svc_ctx {
	struct db *db; /* pooled: takes a connection at its first statement */
};

/* Per request: borrowed for the duration of one call. */
struct svc_req {
	struct svc_ctx *ctx;
	const char *tenant;   /* bk_supplier_account, validated */
	const char *username; /* creator / modifier of what is written */
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
 * The request's statements may run on the read replica, when there is one
 * and it is current (else they run on the primary, which is also where a
 * read that fails on the replica is repeated). For requests that write
 * nothing and whose answer may be up to PROCSVC_READ_MAX_LAG_MS old: the
 * list APIs. Never for a write or the checks before one. Call before the
 * request's first statement.
 */
void svc_ctx_read_replica(struct svc_ctx *ctx);

/*
 * true when the database answers (through the pool) and its schema is at
 * least at the version given to svc_init, and not dirty; else false with a
 * short reason in reason (size n). A newer schema is one a newer release
 * migrated to during a rolling upgrade: migrations only expand what
 * earlier releases use (README "Upgrades"), so this release still works.
 */
bool svc_ready(char *reason, size_t n) MUST_CHECK;

/* Live numbers of the connection pool, for the metrics gauges. */
struct svc_pool_stats {
	size_t size, in_use, idle, open, waiting;
	unsigned long long timeouts;
};
void svc_pool_stats(struct svc_pool_stats *out);

/* The read replica's state (db/replica.h; its reads and fallbacks are
 * counted in common/counter.h); false when there is none. */
struct svc_replica_stats {
	bool up;      /* lists go to the replica now */
	double lag_s; /* behind the primary; negative: not known */
};
bool svc_replica_stats(struct svc_replica_stats *out);

#endif
