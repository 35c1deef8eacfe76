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

/* Hosts as (id, innerip, outerip, innerip_v6, outerip_v6) rows into out
 * (empty). 0, or -1 with e set and out empty. */
static int
read_hosts(const PGresult *r, struct db_host_list *out, struct err *e)
{
	out->items = calloc((size_t)PQntuples(r) + 1, sizeof(*out->items));
	if (out->items == NULL)
		return err_oom(e);
	for (int i = 0; i < PQntuples(r); i++) {
		struct db_host *h = &out->items[out->n++];
		h->id = pq_int(r, i, 0);
		h->innerip = strdup(PQgetvalue(r, i, 1));
		h->outerip = strdup(PQgetvalue(r, i, 2));
		h->innerip_v6 = strdup(PQgetvalue(r, i, 3));
		h->outerip_v6 = strdup(PQgetvalue(r, i, 4));
		if (!h->innerip || !h->outerip || !h->innerip_v6 || !h->outerip_v6) {
			db_host_list_free(out);
			return err_oom(e);
		}
	}
	return 0;
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
	if (r != NULL)
		rc = read_hosts(r, out, e);
out:
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
db_si_create(struct db *db, const char *tenant, const char *username,
    int64_t biz_id, int64_t module_id, int64_t service_template_id,
    bool checked, const struct db_si_new *rows, size_t n,
    const struct db_proc_new *procs, size_t nprocs, int64_t *ids_out,
    bool *done, struct err *e)
{
	const char *params[10 + PROCROW_MAX_PARAMS] = { tenant, username };
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
			    " (created concurrently)",
			    module_id);
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

/*
 * Locked (api-contract.md §11.2): a delete of the instance, which takes
 * FOR UPDATE, either commits first (the row is gone: 1199019) or waits
 * until the caller's transaction has added its processes, so it never
 * leaves them without their instance. FOR NO KEY UPDATE, not FOR SHARE:
 * process_name_key and process_func_key are DEFERRABLE (§11.5 swaps), so
 * two inserts of one key do not wait for each other at the insert but at
 * the end of their statements, each for the other: a deadlock, and a 503
 * instead of 1199014. Creates of one instance therefore take turns, as
 * its updates do; the FOR KEY SHARE of the processes' foreign key does
 * not conflict with this lock.
 */
static const struct pq_stmt si_get_stmt = {
	"si_get",
	"SELECT bk_biz_id, bk_module_id, bk_host_id, service_template_id "
	"FROM service_instance WHERE bk_supplier_account = $1 AND id = $2 FOR NO KEY UPDATE",
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

/* ---- the lifecycle APIs (api-contract.md §11) ---- */

/* An id column of r (column 0) into *ids (malloc'ed; NULL when empty). */
static int
read_ids(const PGresult *r, int64_t **ids, size_t *n, struct err *e)
{
	*ids = NULL;
	*n = 0;
	if (PQntuples(r) == 0)
		return 0;
	*ids = calloc((size_t)PQntuples(r), sizeof(**ids));
	if (*ids == NULL)
		return err_oom(e);
	for (int i = 0; i < PQntuples(r); i++)
		(*ids)[(*n)++] = pq_int(r, i, 0);
	return 0;
}

/* Runs stmt with (tenant, [biz,] ids array) and reads the id column. */
static int
exec_ids(struct db *db, const struct pq_stmt *stmt, const char *tenant,
    const int64_t *biz_id, const int64_t *ids, size_t n, int64_t **out,
    size_t *nout, struct err *e)
{
	PGresult *r = pq_exec_ids(db, stmt, tenant, biz_id, ids, n, e);
	int rc;

	*out = NULL;
	*nout = 0;
	if (r == NULL)
		return -1;
	rc = read_ids(r, out, nout, e);
	PQclear(r);
	return rc;
}

/*
 * FOR NO KEY UPDATE / FOR UPDATE after ORDER BY: rows are locked in id
 * order (LockRows sits above the Sort), the order every write follows.
 */
static const struct pq_stmt si_lock_of_processes_stmt[] = {
	[DB_SI_LOCK_NO_KEY] = {
	    "si_lock_of_processes",
	    "SELECT si.id FROM service_instance si "
	    "WHERE si.bk_supplier_account = $1 AND si.id IN ("
	    "    SELECT p.service_instance_id FROM process p "
	    "    WHERE p.bk_supplier_account = $1 AND p.bk_biz_id = $2::bigint "
	    "      AND p.bk_process_id = ANY ($3::bigint[])) "
	    "ORDER BY si.id FOR NO KEY UPDATE",
	    false,
	},
	[DB_SI_LOCK_DELETE] = {
	    "si_lock_of_processes_delete",
	    "SELECT si.id FROM service_instance si "
	    "WHERE si.bk_supplier_account = $1 AND si.id IN ("
	    "    SELECT p.service_instance_id FROM process p "
	    "    WHERE p.bk_supplier_account = $1 AND p.bk_biz_id = $2::bigint "
	    "      AND p.bk_process_id = ANY ($3::bigint[])) "
	    "ORDER BY si.id FOR UPDATE",
	    false,
	},
};

int
db_si_lock_of_processes(struct db *db, const char *tenant, int64_t biz_id,
    const int64_t *proc_ids, size_t n, enum db_si_lock mode, int64_t **ids,
    size_t *nids, struct err *e)
{
	return exec_ids(db, &si_lock_of_processes_stmt[mode], tenant, &biz_id,
	    proc_ids, n, ids, nids, e);
}

static const struct pq_stmt si_lock_ids_stmt = {
	"si_lock_ids",
	"SELECT id FROM service_instance "
	"WHERE bk_supplier_account = $1 AND bk_biz_id = $2::bigint AND id = ANY ($3::bigint[]) "
	"ORDER BY id FOR UPDATE",
	false,
};

int
db_si_lock_ids(struct db *db, const char *tenant, int64_t biz_id,
    const int64_t *ids, size_t n, int64_t **found, size_t *nfound,
    struct err *e)
{
	return exec_ids(db, &si_lock_ids_stmt, tenant, &biz_id, ids, n, found,
	    nfound, e);
}

/* Processes and bind rows go by the foreign keys' ON DELETE CASCADE. */
static const struct pq_stmt si_delete_stmt[] = {
	{
	    "si_delete",
	    "DELETE FROM service_instance "
	    "WHERE bk_supplier_account = $1 AND id = ANY ($2::bigint[]) RETURNING id",
	    false,
	},
	{
	    /* api-contract.md §11.6: an instance left without a process. */
	    "si_delete_empty",
	    "DELETE FROM service_instance si "
	    "WHERE si.bk_supplier_account = $1 AND si.id = ANY ($2::bigint[]) "
	    "  AND NOT EXISTS (SELECT 1 FROM process p WHERE p.service_instance_id = si.id) "
	    "RETURNING si.id",
	    false,
	},
};

int
db_si_delete(struct db *db, const char *tenant, const int64_t *ids, size_t n,
    bool only_empty, struct err *e)
{
	int64_t *gone;
	size_t ngone;
	int rc = exec_ids(db, &si_delete_stmt[only_empty ? 1 : 0], tenant, NULL,
	    ids, n, &gone, &ngone, e);

	free(gone);
	return rc;
}

static const struct pq_stmt hosts_get_stmt = {
	"hosts_get",
	"SELECT bk_host_id, bk_host_innerip, bk_host_outerip, bk_host_innerip_v6, "
	"       bk_host_outerip_v6 "
	"FROM host WHERE bk_supplier_account = $1 AND bk_host_id = ANY ($2::bigint[])",
	true,
};

int
db_hosts_get(struct db *db, const char *tenant, const int64_t *ids, size_t n,
    struct db_host_list *out, struct err *e)
{
	struct pq_arr arr;
	const char *params[2] = { tenant, NULL };
	PGresult *r = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	pq_arr_init(&arr);
	if ((params[1] = pq_int_array(&arr, ids, n)) == NULL) {
		err_oom(e);
		goto out;
	}
	r = pq_exec(db, &hosts_get_stmt, 2, params, e);
	if (r != NULL)
		rc = read_hosts(r, out, e);
out:
	PQclear(r);
	pq_arr_free(&arr);
	return rc;
}

/* ---- list_service_instance (api-contract.md §11.3, §11.8) ---- */

/* The sortable fields are columns of the same name. */
const char *const db_si_sort_fields[DB_SI_SORT_FIELDS] = {
	[DB_SI_SORT_ID] = "id",
	[DB_SI_SORT_NAME] = "name",
	[DB_SI_SORT_HOST] = "bk_host_id",
	[DB_SI_SORT_MODULE] = "bk_module_id",
	[DB_SI_SORT_CREATE_TIME] = "create_time",
	[DB_SI_SORT_LAST_TIME] = "last_time",
};

/* What a sort key compares: bigints sort descending by negation, the name
 * as bytes (C collation), times as themselves. */
enum sort_kind { SK_BIGINT,
	SK_TEXT,
	SK_TIME,
	SK_KINDS };

static const enum sort_kind sort_kind[DB_SI_SORT_FIELDS] = {
	[DB_SI_SORT_ID] = SK_BIGINT,
	[DB_SI_SORT_NAME] = SK_TEXT,
	[DB_SI_SORT_HOST] = SK_BIGINT,
	[DB_SI_SORT_MODULE] = SK_BIGINT,
	[DB_SI_SORT_CREATE_TIME] = SK_TIME,
	[DB_SI_SORT_LAST_TIME] = SK_TIME,
};

/*
 * The optional filters. Each combination (a "shape", bit i for filter i)
 * is its own statement: a filter that is absent is not in the text, so
 * the planner never has to plan around "$n IS NULL OR ..." and picks the
 * index of what is there (biz, module, host or primary key).
 */
enum si_filter { SF_MODULE,
	SF_HOSTS,
	SF_IDS,
	SF_FILTERS };
#define SHAPES (1u << SF_FILTERS)

/* The parameters of a list, in the order of their numbers ($1, $2, ...);
 * a statement has the ones its shape and order use. */
enum si_param {
	SP_TENANT,
	SP_BIZ,
	SP_LIMIT,
	SP_OFFSET,
	SP_SEARCH,
	SP_SORT, /* generic order only: int[] of sort codes per slot */
	SP_MODULE,
	SP_HOSTS,
	SP_IDS,
	SP_PARAMS
};

/* The filter each optional parameter belongs to. */
static const struct {
	enum si_param param;
	const char *pre, *post; /* around "$n" */
} filter_sql[SF_FILTERS] = {
	[SF_MODULE] = { SP_MODULE, "si.bk_module_id = $", "::bigint" },
	[SF_HOSTS] = { SP_HOSTS, "si.bk_host_id = ANY ($", "::bigint[])" },
	[SF_IDS] = { SP_IDS, "si.id = ANY ($", "::bigint[])" },
};

/* Orders: id ascending (the default; the index returns rows in that order,
 * so a page stops early), or any keys given as parameters. */
enum si_order { ORDER_ID,
	ORDER_KEYS,
	ORDERS };

/* Numbers the parameters a statement uses ($1...); 0 = unused. */
static void
number_params(unsigned shape, enum si_order order, int no[SP_PARAMS])
{
	int next = 1;

	for (int p = 0; p < SP_PARAMS; p++) {
		bool used = p < SP_SORT || (p == SP_SORT && order == ORDER_KEYS);
		for (int f = 0; f < SF_FILTERS; f++)
			if (filter_sql[f].param == (enum si_param)p && (shape & (1u << f)))
				used = true;
		no[p] = used ? next++ : 0;
	}
}

/* A list statement, its text built at first use from the tables above. */
struct list_stmt {
	struct pq_stmt stmt;
	char name[48];
	char sql[16384];
	bool built;
};

static struct list_stmt list_stmts[SHAPES][ORDERS];
static pthread_mutex_t list_build_lock = PTHREAD_MUTEX_INITIALIZER;

/* The rows of shape (alias si), then filtered by search. */
static void
append_where(char *buf, size_t n, unsigned shape, const int no[SP_PARAMS])
{
	pq_append(buf, n,
	    "si.bk_supplier_account = $%d AND si.bk_biz_id = $%d::bigint"
	    " AND strpos(si.name, $%d) > 0",
	    no[SP_TENANT], no[SP_BIZ], no[SP_SEARCH]);
	for (int f = 0; f < SF_FILTERS; f++)
		if (shape & (1u << f))
			pq_append(buf, n, " AND %s%d%s", filter_sql[f].pre,
			    no[filter_sql[f].param], filter_sql[f].post);
}

/*
 * ORDER BY over table alias t. ORDER_KEYS: for each slot (the i-th sort
 * key; slot code +-(field + 1), 0 unused) one expression per kind and
 * direction that is NULL unless the slot names a field of that kind, so a
 * slot sorts by its field alone. id always breaks ties last.
 */
static void
append_order(char *buf, size_t n, const char *t, enum si_order order,
    int sort_param)
{
	for (int slot = 1; order == ORDER_KEYS && slot <= DB_SI_SORT_FIELDS; slot++) {
		for (int k = 0; k < SK_KINDS; k++) {
			for (int desc = 0; desc <= (k == SK_BIGINT ? 0 : 1); desc++) {
				pq_append(buf, n, "CASE ($%d::int[])[%d]", sort_param, slot);
				for (int f = 0; f < DB_SI_SORT_FIELDS; f++) {
					if (sort_kind[f] != (enum sort_kind)k)
						continue;
					if (k == SK_BIGINT)
						pq_append(buf, n, " WHEN %d THEN %s.%s WHEN %d THEN -%s.%s",
						    f + 1, t, db_si_sort_fields[f], -(f + 1), t,
						    db_si_sort_fields[f]);
					else
						pq_append(buf, n, " WHEN %d THEN %s.%s",
						    desc ? -(f + 1) : f + 1, t, db_si_sort_fields[f]);
				}
				pq_append(buf, n, " END%s%s, ", k == SK_TEXT ? " COLLATE \"C\"" : "",
				    desc ? " DESC" : "");
			}
		}
	}
	pq_append(buf, n, "%s.id", t);
}

/*
 * count(*) and the page in one statement, so both come from one snapshot
 * (§11.3). The count is the outer row; a page past the end still yields
 * it, with NULL columns.
 */
static void
build_list(struct list_stmt *s, unsigned shape, enum si_order order)
{
	int no[SP_PARAMS];

	number_params(shape, order, no);
	snprintf(s->name, sizeof(s->name), "si_list_%u_%s", shape,
	    order == ORDER_ID ? "id" : "keys");
	s->sql[0] = '\0';
	pq_append(s->sql, sizeof(s->sql),
	    "SELECT c.n, p.id, p.name, p.bk_biz_id, p.bk_module_id, p.bk_host_id, "
	    "p.service_template_id, p.creator, p.modifier, %s, %s, p.bk_supplier_account "
	    "FROM (SELECT count(*) AS n FROM service_instance si WHERE ",
	    PQ_TS("p.create_time"), PQ_TS("p.last_time"));
	append_where(s->sql, sizeof(s->sql), shape, no);
	pq_append(s->sql, sizeof(s->sql), ") c LEFT JOIN (SELECT si.* FROM service_instance si WHERE ");
	append_where(s->sql, sizeof(s->sql), shape, no);
	pq_append(s->sql, sizeof(s->sql), " ORDER BY ");
	append_order(s->sql, sizeof(s->sql), "si", order, no[SP_SORT]);
	pq_append(s->sql, sizeof(s->sql), " LIMIT $%d::bigint OFFSET $%d::bigint) p ON true ORDER BY ",
	    no[SP_LIMIT], no[SP_OFFSET]);
	append_order(s->sql, sizeof(s->sql), "p", order, no[SP_SORT]);
	s->stmt = (struct pq_stmt){ s->name, s->sql, true };
	s->built = true;
}

static const struct pq_stmt *
list_stmt(unsigned shape, enum si_order order)
{
	struct list_stmt *s = &list_stmts[shape][order];

	pthread_mutex_lock(&list_build_lock);
	if (!s->built)
		build_list(s, shape, order);
	pthread_mutex_unlock(&list_build_lock);
	return &s->stmt;
}

/* The result columns of a list statement, in order. */
enum { LC_COUNT,
	LC_ID,
	LC_NAME,
	LC_BIZ,
	LC_MODULE,
	LC_HOST,
	LC_TEMPLATE,
	LC_CREATOR,
	LC_MODIFIER,
	LC_CREATE_TIME,
	LC_LAST_TIME,
	LC_TENANT };

static int
read_list(const PGresult *r, struct si_record_list *out, struct err *e)
{
	int rows = PQntuples(r);

	out->count = rows > 0 ? pq_int(r, 0, LC_COUNT) : 0;
	if (rows == 0 || PQgetisnull(r, 0, LC_ID))
		return 0;
	out->items = calloc((size_t)rows, sizeof(*out->items));
	if (out->items == NULL)
		return err_oom(e);
	for (int i = 0; i < rows; i++) {
		struct si_record *s = &out->items[out->n++];
		s->id = pq_int(r, i, LC_ID);
		s->biz_id = pq_int(r, i, LC_BIZ);
		s->module_id = pq_int(r, i, LC_MODULE);
		s->host_id = pq_int(r, i, LC_HOST);
		s->service_template_id = pq_int(r, i, LC_TEMPLATE);
		snprintf(s->tenant, sizeof(s->tenant), "%s", PQgetvalue(r, i, LC_TENANT));
		snprintf(s->creator, sizeof(s->creator), "%s", PQgetvalue(r, i, LC_CREATOR));
		snprintf(s->modifier, sizeof(s->modifier), "%s", PQgetvalue(r, i, LC_MODIFIER));
		snprintf(s->create_time, sizeof(s->create_time), "%s", PQgetvalue(r, i, LC_CREATE_TIME));
		snprintf(s->last_time, sizeof(s->last_time), "%s", PQgetvalue(r, i, LC_LAST_TIME));
		if ((s->name = strdup(PQgetvalue(r, i, LC_NAME))) == NULL)
			return err_oom(e);
	}
	return 0;
}

/* The parameters of q's statement, in the order its numbers give. */
struct list_params {
	char biz[24], limit[24], offset[24], module[24];
	struct pq_arr sort, hosts, ids;
	const char *v[SP_PARAMS];
};

static int
fill_params(struct list_params *lp, const char *tenant,
    const struct db_si_query *q, unsigned shape, enum si_order order,
    const char **params, int *n)
{
	int no[SP_PARAMS];

	pq_fmt_id(lp->biz, sizeof(lp->biz), q->biz_id);
	pq_fmt_id(lp->limit, sizeof(lp->limit), q->limit);
	pq_fmt_id(lp->offset, sizeof(lp->offset), q->start);
	pq_fmt_id(lp->module, sizeof(lp->module), q->module_id);
	lp->v[SP_TENANT] = tenant;
	lp->v[SP_BIZ] = lp->biz;
	lp->v[SP_LIMIT] = lp->limit;
	lp->v[SP_OFFSET] = lp->offset;
	lp->v[SP_SEARCH] = q->search;
	lp->v[SP_MODULE] = lp->module;
	for (size_t i = 0; i < DB_SI_SORT_FIELDS; i++) {
		int code = i < q->nsort ? (int)q->sort[i].field + 1 : 0;
		pq_arr_int(&lp->sort, i < q->nsort && q->sort[i].desc ? -code : code);
	}
	lp->v[SP_SORT] = pq_arr_done(&lp->sort);
	lp->v[SP_HOSTS] = pq_int_array(&lp->hosts, q->host_ids, q->nhosts);
	lp->v[SP_IDS] = pq_int_array(&lp->ids, q->ids, q->nids);
	if (!lp->v[SP_SORT] || !lp->v[SP_HOSTS] || !lp->v[SP_IDS])
		return -1;
	number_params(shape, order, no);
	*n = 0;
	for (int p = 0; p < SP_PARAMS; p++)
		if (no[p] > 0)
			params[(*n)++] = lp->v[p];
	return 0;
}

int
db_si_list(struct db *db, const char *tenant, const struct db_si_query *q,
    struct si_record_list *out, struct err *e)
{
	unsigned shape = (q->module_id != 0 ? 1u << SF_MODULE : 0) |
	    (q->nhosts > 0 ? 1u << SF_HOSTS : 0) | (q->nids > 0 ? 1u << SF_IDS : 0);
	enum si_order order = q->nsort == 0 || (q->nsort == 1 && q->sort[0].field == DB_SI_SORT_ID && !q->sort[0].desc) ? ORDER_ID : ORDER_KEYS;
	struct list_params *lp = calloc(1, sizeof(*lp)); /* off the worker's small stack */
	const char *params[SP_PARAMS];
	PGresult *r = NULL;
	int n, rc = -1;

	memset(out, 0, sizeof(*out));
	if (lp == NULL)
		return err_oom(e);
	if (fill_params(lp, tenant, q, shape, order, params, &n) != 0) {
		err_oom(e);
		goto out;
	}
	r = pq_exec_custom_plan(db, list_stmt(shape, order), n, params, e);
	if (r == NULL)
		goto out;
	rc = read_list(r, out, e);
	if (rc != 0)
		si_record_list_free(out);
out:
	PQclear(r);
	pq_arr_free(&lp->sort);
	pq_arr_free(&lp->hosts);
	pq_arr_free(&lp->ids);
	free(lp);
	return rc;
}
