#include "service/ctx.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "db/db.h"
#include "db/migrate.h"
#include "db/pool.h"

/* Set once by svc_init before the server starts, read-only afterwards. */
static struct db_pool *pool;
static int64_t want_version;

int
svc_init(const char *conninfo, size_t pool_size, long wait_ms,
    int64_t schema_version, struct err *e)
{
	pool = db_pool_new(conninfo, pool_size, wait_ms);
	if (pool == NULL)
		return err_oom(e);
	want_version = schema_version;
	return 0;
}

void
svc_shutdown(void)
{
	db_pool_free(pool);
	pool = NULL;
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
	else if (version != want_version)
		snprintf(reason, n, "schema at version %" PRId64 ", want %" PRId64,
		    version, want_version);
	else
		ok = true;
	svc_ctx_free(ctx);
	return ok;
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
