#include "service/ctx.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "db/db.h"
#include "db/migrate.h"
#include "db/pool.h"
#include "db/replica.h"

/* Set once by svc_init (and svc_init_replica) before the server starts,
 * read-only afterwards. */
static struct conn_cfg primary;
static struct db_pool *pool;
static struct db_replica *replica;
static size_t pool_connections;
static long pool_wait_ms;
static int64_t want_version;

int
svc_init(const char *conninfo, size_t pool_size, long wait_ms, bool unnamed,
    int64_t schema_version, struct err *e)
{
	primary = (struct conn_cfg){ conninfo, "procsvc", false, unnamed };
	pool = db_pool_new(&primary, pool_size, wait_ms);
	if (pool == NULL)
		return err_oom(e);
	pool_connections = pool_size;
	pool_wait_ms = wait_ms;
	want_version = schema_version;
	return 0;
}

int
svc_init_replica(const char *conninfo, long max_lag_ms, struct err *e)
{
	struct conn_cfg read = { conninfo, "procsvc", false, primary.unnamed };

	replica = db_replica_new(&read, &primary, pool_connections, pool_wait_ms,
	    max_lag_ms);
	return replica != NULL ? 0 : err_oom(e);
}

void
svc_shutdown(void)
{
	db_replica_free(replica);
	replica = NULL;
	db_pool_free(pool);
	pool = NULL;
}

void
svc_ctx_read_replica(struct svc_ctx *ctx)
{
	if (replica != NULL)
		db_prefer_replica(ctx->db, replica);
}

struct svc_ctx *
svc_ctx_new(void)
{
	struct svc_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL)
		return NULL;
	ctx->db = db_new_pooled(pool);
	if (ctx->db == NULL) {
		free(ctx);
		return NULL;
	}
	return ctx;
}

void
svc_ctx_release(struct svc_ctx *ctx)
{
	if (ctx != NULL)
		db_release(ctx->db);
}

void
svc_ctx_free(struct svc_ctx *ctx)
{
	if (ctx == NULL)
		return;
	db_free(ctx->db);
	free(ctx);
}

bool
svc_ready(char *reason, size_t n)
{
	struct svc_ctx *ctx = svc_ctx_new();
	struct err e = { 0 };
	int64_t version;
	bool dirty, ok = false;

	if (ctx == NULL) {
		snprintf(reason, n, "out of memory");
		return false;
	}
	if (migrate_current(ctx->db, &version, &dirty, &e) != 0)
		snprintf(reason, n, "database unavailable");
	else if (dirty)
		snprintf(reason, n, "schema is dirty at version %" PRId64, version);
	else if (version < want_version)
		snprintf(reason, n, "schema at version %" PRId64 ", want %" PRId64,
		    version, want_version);
	else
		ok = true; /* newer is fine: migrations are expand-only (README) */
	svc_ctx_free(ctx);
	return ok;
}

bool
svc_replica_stats(struct svc_replica_stats *out)
{
	struct db_replica_stats s;

	if (replica == NULL)
		return false;
	db_replica_stats(replica, &s);
	out->up = s.up;
	out->lag_s = s.lag_s;
	return true;
}

void
svc_pool_stats(struct svc_pool_stats *out)
{
	struct db_pool_stats s;

	db_pool_stats(pool, &s);
	out->size = s.size;
	out->in_use = s.in_use;
	out->idle = s.idle;
	out->open = s.open;
	out->waiting = s.waiting;
	out->timeouts = s.timeouts;
}
