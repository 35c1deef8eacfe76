#include "service/ctx.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "db/db.h"
#include "db/migrate.h"

struct svc_ctx *
svc_ctx_new(const char *conninfo, int64_t schema_version)
{
	struct svc_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL)
		return NULL;
	ctx->db = db_new(conninfo);
	if (ctx->db == NULL) {
		free(ctx);
		return NULL;
	}
	ctx->schema_version = schema_version;
	return ctx;
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
svc_ready(struct svc_ctx *ctx, char *reason, size_t n)
{
	struct err e = { 0 };
	int64_t version;
	bool dirty;

	if (migrate_current(ctx->db, &version, &dirty, &e) != 0) {
		snprintf(reason, n, "database unavailable");
		return false;
	}
	if (dirty) {
		snprintf(reason, n, "schema is dirty at version %" PRId64, version);
		return false;
	}
	if (version != ctx->schema_version) {
		snprintf(reason, n, "schema at version %" PRId64 ", want %" PRId64,
		    version, ctx->schema_version);
		return false;
	}
	return true;
}

void
id_list_free(struct id_list *l)
{
	free(l->ids);
	l->ids = NULL;
	l->n = 0;
}

int
svc_require_id(int64_t id, int code, const char *field, struct err *e)
{
	if (id > 0)
		return 0;
	err_set(e, code, field, "is required (a positive integer)");
	return -1;
}
