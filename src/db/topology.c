#include "db/topology.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "db/pq.h"

/* Fills a with the literal of n bigints (pq_int_array). Returns its text,
 * NULL when out of memory (e set). */
static const char *
int_array(struct pq_arr *a, const int64_t *v, size_t n, struct err *e)
{
	const char *s = pq_int_array(a, v, n);

	if (s == NULL)
		err_oom(e);
	return s;
}

/* As int_array for strings; NULL entries become "" (the columns are NOT
 * NULL with default '', and a missing IP or name means exactly that). */
static const char *
text_array(struct pq_arr *a, char *const *v, size_t n, struct err *e)
{
	const char *s;

	for (size_t i = 0; i < n; i++)
		pq_arr_str(a, v[i] != NULL ? v[i] : "");
	if ((s = pq_arr_done(a)) == NULL)
		err_oom(e);
	return s;
}

/*
 * ORDER BY u.id makes concurrent batches take their row locks in the same
 * order, so two overlapping upserts wait for each other instead of
 * deadlocking. All four IPs are replaced, as the owning system sent them.
 */
static const struct pq_stmt host_upsert = {
	"topo_host_upsert",
	"INSERT INTO host (bk_supplier_account, bk_host_id, bk_host_innerip,"
	"  bk_host_outerip, bk_host_innerip_v6, bk_host_outerip_v6)"
	" SELECT $1::text, u.id, u.innerip, u.outerip, u.innerip_v6, u.outerip_v6"
	" FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[])"
	"   AS u(id, innerip, outerip, innerip_v6, outerip_v6)"
	" ORDER BY u.id"
	" ON CONFLICT (bk_supplier_account, bk_host_id) DO UPDATE SET"
	"  bk_host_innerip = EXCLUDED.bk_host_innerip,"
	"  bk_host_outerip = EXCLUDED.bk_host_outerip,"
	"  bk_host_innerip_v6 = EXCLUDED.bk_host_innerip_v6,"
	"  bk_host_outerip_v6 = EXCLUDED.bk_host_outerip_v6,"
	"  last_time = now()",
	false,
};

int
db_host_upsert(struct db *db, const char *tenant, const struct db_host_cols *c,
    struct err *e)
{
	struct pq_arr ids, ips[DB_HOST_IP_COUNT];
	const char *params[2 + DB_HOST_IP_COUNT];
	int rc = -1;

	pq_arr_init(&ids);
	for (size_t k = 0; k < DB_HOST_IP_COUNT; k++)
		pq_arr_init(&ips[k]);
	params[0] = tenant;
	if ((params[1] = int_array(&ids, c->id, c->n, e)) == NULL)
		goto out;
	for (size_t k = 0; k < DB_HOST_IP_COUNT; k++)
		if ((params[2 + k] = text_array(&ips[k], c->ip[k], c->n, e)) == NULL)
			goto out;
	rc = pq_command(db, &host_upsert, 2 + DB_HOST_IP_COUNT, params, e);
out:
	pq_arr_free(&ids);
	for (size_t k = 0; k < DB_HOST_IP_COUNT; k++)
		pq_arr_free(&ips[k]);
	return rc;
}

/* Same lock ordering as host_upsert. Moving a module to another business is
 * allowed: the owning system is the authority on where its modules live. */
static const struct pq_stmt module_upsert = {
	"topo_module_upsert",
	"INSERT INTO module (bk_supplier_account, bk_module_id, bk_biz_id,"
	"  service_template_id, default_kind, bk_module_name)"
	" SELECT $1::text, u.id, u.biz_id, u.template_id, u.default_kind, u.name"
	" FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::integer[], $6::text[])"
	"   AS u(id, biz_id, template_id, default_kind, name)"
	" ORDER BY u.id"
	" ON CONFLICT (bk_supplier_account, bk_module_id) DO UPDATE SET"
	"  bk_biz_id = EXCLUDED.bk_biz_id,"
	"  service_template_id = EXCLUDED.service_template_id,"
	"  default_kind = EXCLUDED.default_kind,"
	"  bk_module_name = EXCLUDED.bk_module_name,"
	"  last_time = now()",
	false,
};

int
db_module_upsert(struct db *db, const char *tenant,
    const struct db_module_cols *c, struct err *e)
{
	struct pq_arr a[5];
	const char *params[6];
	int rc = -1;

	for (size_t k = 0; k < 5; k++)
		pq_arr_init(&a[k]);
	params[0] = tenant;
	if ((params[1] = int_array(&a[0], c->id, c->n, e)) == NULL ||
	    (params[2] = int_array(&a[1], c->biz_id, c->n, e)) == NULL ||
	    (params[3] = int_array(&a[2], c->template_id, c->n, e)) == NULL ||
	    (params[4] = int_array(&a[3], c->default_kind, c->n, e)) == NULL ||
	    (params[5] = text_array(&a[4], c->name, c->n, e)) == NULL)
		goto out;
	rc = pq_command(db, &module_upsert, 6, params, e);
out:
	for (size_t k = 0; k < 5; k++)
		pq_arr_free(&a[k]);
	return rc;
}

/* FOR UPDATE (not FOR NO KEY UPDATE) so that it also waits for a concurrent
 * upsert_modules of the same row. */
static const struct pq_stmt module_lock = {
	"topo_module_lock",
	"SELECT 1 FROM module"
	" WHERE bk_supplier_account = $1 AND bk_module_id = $2::bigint"
	" FOR UPDATE",
	false,
};

int
db_module_lock(struct db *db, const char *tenant, int64_t module_id,
    bool *found, struct err *e)
{
	char id[24];
	const char *params[2] = { tenant, id };
	PGresult *r;

	*found = false;
	pq_fmt_id(id, sizeof(id), module_id);
	if ((r = pq_exec(db, &module_lock, 2, params, e)) == NULL)
		return -1;
	*found = PQntuples(r) > 0;
	PQclear(r);
	return 0;
}

/* WITH ORDINALITY keeps the input order, so the message lists the unknown
 * ids as the client sent them. */
static const struct pq_stmt host_missing = {
	"topo_host_missing",
	"SELECT u.id FROM unnest($2::bigint[]) WITH ORDINALITY AS u(id, ord)"
	" WHERE NOT EXISTS (SELECT 1 FROM host h"
	"   WHERE h.bk_supplier_account = $1 AND h.bk_host_id = u.id)"
	" ORDER BY u.ord",
	false,
};

int
db_host_missing(struct db *db, const char *tenant, const int64_t *ids,
    size_t n, int64_t **missing, size_t *nmissing, struct err *e)
{
	struct pq_arr a;
	const char *params[2];
	PGresult *r = NULL;
	int rows, col, rc = -1;

	*missing = NULL;
	*nmissing = 0;
	pq_arr_init(&a);
	params[0] = tenant;
	if ((params[1] = int_array(&a, ids, n, e)) == NULL)
		goto out;
	if ((r = pq_exec(db, &host_missing, 2, params, e)) == NULL)
		goto out;
	rows = PQntuples(r);
	col = PQfnumber(r, "id");
	if (rows > 0) {
		if ((*missing = malloc((size_t)rows * sizeof(**missing))) == NULL) {
			err_oom(e);
			goto out;
		}
		for (int i = 0; i < rows; i++)
			(*missing)[i] = pq_int(r, i, col);
		*nmissing = (size_t)rows;
	}
	rc = 0;
out:
	PQclear(r);
	pq_arr_free(&a);
	return rc;
}

static const struct pq_stmt module_host_clear = {
	"topo_module_host_clear",
	"DELETE FROM module_host"
	" WHERE bk_supplier_account = $1 AND bk_module_id = $2::bigint",
	false,
};

int
db_module_host_clear(struct db *db, const char *tenant, int64_t module_id,
    struct err *e)
{
	char id[24];
	const char *params[2] = { tenant, id };

	pq_fmt_id(id, sizeof(id), module_id);
	return pq_command(db, &module_host_clear, 2, params, e);
}

static const struct pq_stmt module_host_add = {
	"topo_module_host_add",
	"INSERT INTO module_host (bk_supplier_account, bk_module_id, bk_host_id)"
	" SELECT $1::text, $2::bigint, u.id FROM unnest($3::bigint[]) AS u(id)",
	false,
};

int
db_module_host_add(struct db *db, const char *tenant, int64_t module_id,
    const int64_t *ids, size_t n, struct err *e)
{
	struct pq_arr a;
	char id[24];
	const char *params[3] = { tenant, id, NULL };
	int rc = -1;

	pq_arr_init(&a);
	pq_fmt_id(id, sizeof(id), module_id);
	if ((params[2] = int_array(&a, ids, n, e)) == NULL)
		goto out;
	rc = pq_command(db, &module_host_add, 3, params, e);
out:
	pq_arr_free(&a);
	return rc;
}
