#include "db/instance.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pq.h"
#include "db/procrow.h"

static const struct pq_stmt module_get_stmt = {
	"module_get",
	"SELECT bk_biz_id, service_template_id, default_kind FROM module "
	"WHERE bk_supplier_account = $1 AND bk_module_id = $2",
	true,
};

int
db_module_get(struct db *db, const char *tenant, int64_t module_id,
    struct db_module *out, bool *found, struct err *e)
{
	char id[24];
	const char *params[] = { tenant, id };
	PGresult *r;

	pq_fmt_id(id, sizeof(id), module_id);
	r = pq_exec(db, &module_get_stmt, 2, params, e);
	if (r == NULL)
		return -1;
	*found = PQntuples(r) == 1;
	if (*found) {
		out->biz_id = pq_int(r, 0, 0);
		out->service_template_id = pq_int(r, 0, 1);
		out->default_kind = pq_int(r, 0, 2);
	}
	PQclear(r);
	return 0;
}

static const struct pq_stmt module_hosts_stmt = {
	"module_hosts",
	"SELECT h.bk_host_id, h.bk_host_innerip, h.bk_host_outerip, "
	"       h.bk_host_innerip_v6, h.bk_host_outerip_v6 "
	"FROM module_host mh JOIN host h USING (bk_supplier_account, bk_host_id) "
	"WHERE mh.bk_supplier_account = $1 AND mh.bk_module_id = $2 "
	"  AND mh.bk_host_id = ANY ($3::bigint[])",
	true,
};

void
db_host_list_free(struct db_host_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].innerip);
		free(l->items[i].outerip);
		free(l->items[i].innerip_v6);
		free(l->items[i].outerip_v6);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

int
db_module_hosts(struct db *db, const char *tenant, int64_t module_id,
    const int64_t *ids, size_t n, struct db_host_list *out, struct err *e)
{
	struct pq_arr arr;
	char mid[24];
	const char *params[3] = { tenant, mid, NULL };
	PGresult *r = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	pq_fmt_id(mid, sizeof(mid), module_id);
	params[2] = (pq_arr_init(&arr), pq_int_array(&arr, ids, n));
	if (params[2] == NULL) {
		err_oom(e);
		goto out;
	}
	r = pq_exec(db, &module_hosts_stmt, 3, params, e);
	if (r == NULL)
		goto out;
	out->items = calloc((size_t)PQntuples(r) + 1, sizeof(*out->items));
	if (out->items == NULL) {
		err_oom(e);
		goto out;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		struct db_host *h = &out->items[out->n++];
		h->id = pq_int(r, i, 0);
		h->innerip = strdup(PQgetvalue(r, i, 1));
		h->outerip = strdup(PQgetvalue(r, i, 2));
		h->innerip_v6 = strdup(PQgetvalue(r, i, 3));
		h->outerip_v6 = strdup(PQgetvalue(r, i, 4));
		if (!h->innerip || !h->outerip || !h->innerip_v6 || !h->outerip_v6) {
			err_oom(e);
			goto out;
		}
	}
	rc = 0;
out:
	if (rc != 0)
		db_host_list_free(out);
	PQclear(r);
	pq_arr_free(&arr);
	return rc;
}

/*
 * The statement of db_si_create. $1 tenant, $2 operator, $3 business,
 * $4 module, $5 service template, $6-$9 the instances (host, given name,
 * first process name, its first port), $10 checked, then the processes
 * (db/procrow). "ok" is the gate; ids come from the sequence in the
 * statement, ascending in input order (si_o.ord).
 */
static char si_create_sql[16384];
static struct pq_stmt si_create_stmt = { "si_create", si_create_sql, false };
static pthread_once_t si_create_once = PTHREAD_ONCE_INIT;

static void
build_si_create(void)
{
	struct procrow_cte cte = { 11, "ok", "p",
		{ NULL, "(SELECT o.id FROM si_o o WHERE o.ord = @)", NULL, NULL } };

	pq_append(si_create_sql, sizeof(si_create_sql),
	    "WITH ok AS (SELECT 1 WHERE $10::boolean OR EXISTS (SELECT 1 FROM module m "
	    "WHERE m.bk_supplier_account = $1 AND m.bk_module_id = $4 AND m.bk_biz_id = $3 "
	    "AND m.service_template_id = 0 AND m.default_kind = 0 "
	    "AND NOT EXISTS (SELECT 1 FROM unnest($6::bigint[]) AS h(id) WHERE NOT EXISTS "
	    "(SELECT 1 FROM module_host mh WHERE mh.bk_supplier_account = $1 "
	    "AND mh.bk_module_id = $4 AND mh.bk_host_id = h.id)))), "
	    "si_ids AS MATERIALIZED (SELECT nextval(pg_get_serial_sequence('service_instance', 'id')) AS id "
	    "FROM ok, generate_series(1, cardinality($6::bigint[]))), "
	    "si_o AS MATERIALIZED (SELECT id, row_number() OVER (ORDER BY id) AS ord FROM si_ids), "
	    "si_r AS (INSERT INTO service_instance (bk_supplier_account, creator, modifier, "
	    "bk_biz_id, bk_module_id, service_template_id, id, bk_host_id, name) "
	    "SELECT $1, $2, $2, $3, $4, $5, o.id, u.host, coalesce(u.name, concat_ws('_', "
	    "nullif(split_part(CASE WHEN h.bk_host_innerip <> '' THEN h.bk_host_innerip "
	    "ELSE h.bk_host_innerip_v6 END, ',', 1), ''), nullif(u.pname, ''), nullif(u.port, ''))) "
	    "FROM unnest($6::bigint[], $7::text[], $8::text[], $9::text[]) WITH ORDINALITY "
	    "AS u(host, name, pname, port, ord) JOIN si_o o ON o.ord = u.ord "
	    "JOIN host h ON h.bk_supplier_account = $1 AND h.bk_host_id = u.host), ");
	procrow_insert_cte(PROCROW_PROCESS, &cte, si_create_sql, sizeof(si_create_sql));
	pq_append(si_create_sql, sizeof(si_create_sql), " SELECT id FROM si_o ORDER BY ord");
}

int
db_si_create(struct db *db, const char *tenant, const char *operator,
    int64_t biz_id, int64_t module_id, int64_t service_template_id,
    bool checked, const struct db_si_new *rows, size_t n,
    const struct db_proc_new *procs, size_t nprocs, int64_t *ids_out,
    bool *done, struct err *e)
{
	const char *params[10 + PROCROW_MAX_PARAMS] = { tenant, operator };
	char biz[24], mod[24], tmpl[24];
	struct pq_arr cols[4];
	struct procrow_params p;
	struct procrow_new *pr;
	PGresult *r = NULL;
	int rc = -1;

	*done = false;
	pthread_once(&si_create_once, build_si_create);
	if ((pr = db_proc_rows(procs, nprocs)) == NULL)
		return err_oom(e);
	for (size_t k = 0; k < 4; k++)
		pq_arr_init(&cols[k]);
	for (size_t i = 0; i < n; i++) {
		pq_arr_int(&cols[0], rows[i].host_id);
		pq_arr_str(&cols[1], rows[i].name);
		pq_arr_str(&cols[2], rows[i].proc_name);
		pq_arr_str(&cols[3], rows[i].port);
	}
	pq_fmt_id(biz, sizeof(biz), biz_id);
	pq_fmt_id(mod, sizeof(mod), module_id);
	pq_fmt_id(tmpl, sizeof(tmpl), service_template_id);
	params[2] = biz;
	params[3] = mod;
	params[4] = tmpl;
	for (size_t k = 0; k < 4; k++)
		params[5 + k] = pq_arr_done(&cols[k]);
	params[9] = checked ? "t" : "f";
	if (procrow_params_pack(PROCROW_PROCESS, pr, nprocs, &p, e) != 0)
		goto out;
	if (!params[5] || !params[6] || !params[7] || !params[8]) {
		err_oom(e);
		goto out;
	}
	memcpy(params + 10, p.params, p.n * sizeof(*params));
	r = pq_exec(db, &si_create_stmt, (int)(10 + p.n), params, e);
	if (r == NULL) {
		if (strcmp(pq_constraint(e), "service_instance_template_host_key") == 0) {
			/* Lost a race with a concurrent request for the same host. */
			err_clear(e);
			err_set(e, ERR_TEMPLATE_HOST_DUP, "instances",
			    "a host already has an instance of this service template in module %" PRId64
			    " (created concurrently)", module_id);
		} else {
			db_proc_race(e);
		}
		goto out;
	}
	if (PQntuples(r) != 0 && (size_t)PQntuples(r) != n) {
		err_server(e, "database returned %d ids for %zu service instances", PQntuples(r), n);
		goto out;
	}
	*done = PQntuples(r) != 0;
	if (!*done && checked) {
		err_server(e, "database wrote no service instance");
		goto out;
	}
	for (size_t i = 0; *done && i < n; i++)
		ids_out[i] = pq_int(r, (int)i, 0);
	rc = 0;
out:
	PQclear(r);
	procrow_params_free(&p);
	for (size_t k = 0; k < 4; k++)
		pq_arr_free(&cols[k]);
	free(pr);
	return rc;
}

/* FOR SHARE (api-contract.md §11.2): a delete of the instance, which takes
 * FOR UPDATE, either commits first (the row is gone: 1199019) or waits
 * until the caller's transaction has added its processes, so it never
 * leaves them without their instance. */
static const struct pq_stmt si_get_stmt = {
	"si_get",
	"SELECT bk_biz_id, bk_module_id, bk_host_id, service_template_id "
	"FROM service_instance WHERE bk_supplier_account = $1 AND id = $2 FOR SHARE",
	false,
};

int
db_si_get(struct db *db, const char *tenant, int64_t id, struct db_si *out,
    bool *found, struct err *e)
{
	char sid[24];
	const char *params[] = { tenant, sid };
	PGresult *r;

	pq_fmt_id(sid, sizeof(sid), id);
	r = pq_exec(db, &si_get_stmt, 2, params, e);
	if (r == NULL)
		return -1;
	*found = PQntuples(r) == 1;
	if (*found) {
		out->id = id;
		out->biz_id = pq_int(r, 0, 0);
		out->module_id = pq_int(r, 0, 1);
		out->host_id = pq_int(r, 0, 2);
		out->service_template_id = pq_int(r, 0, 3);
	}
	PQclear(r);
	return 0;
}

static const struct pq_stmt si_template_hosts_stmt = {
	"si_template_hosts",
	"SELECT u.host FROM unnest($4::bigint[]) WITH ORDINALITY AS u(host, ord) "
	"WHERE EXISTS (SELECT 1 FROM service_instance si "
	"    WHERE si.bk_supplier_account = $1 AND si.bk_module_id = $2 "
	"      AND si.bk_host_id = u.host AND si.service_template_id = $3 "
	/* Lets a generic plan use the partial index service_instance_template_host_key. */
	"      AND si.service_template_id <> 0) "
	"ORDER BY u.ord LIMIT 1",
	true,
};

int
db_si_template_hosts(struct db *db, const char *tenant, int64_t module_id,
    int64_t service_template_id, const int64_t *host_ids, size_t n,
    int64_t *dup_host, struct err *e)
{
	struct pq_arr arr;
	char mod[24], tmpl[24];
	const char *params[4] = { tenant, mod, tmpl, NULL };
	PGresult *r = NULL;
	int rc = -1;

	*dup_host = 0;
	pq_fmt_id(mod, sizeof(mod), module_id);
	pq_fmt_id(tmpl, sizeof(tmpl), service_template_id);
	params[3] = (pq_arr_init(&arr), pq_int_array(&arr, host_ids, n));
	if (params[3] == NULL) {
		err_oom(e);
		goto out;
	}
	r = pq_exec(db, &si_template_hosts_stmt, 4, params, e);
	if (r == NULL)
		goto out;
	if (PQntuples(r) > 0)
		*dup_host = pq_int(r, 0, 0);
	rc = 0;
out:
	PQclear(r);
	pq_arr_free(&arr);
	return rc;
}
