#include "db/process.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "db/pq.h"
#include "db/procrow.h"

struct procrow_new *
db_proc_rows(const struct db_proc_new *rows, size_t n)
{
	struct procrow_new *pr = calloc(n + 1, sizeof(*pr));

	for (size_t i = 0; pr != NULL && i < n; i++)
		pr[i] = (struct procrow_new){
			{ rows[i].biz_id, rows[i].service_instance_id,
			    rows[i].process_template_id, rows[i].host_id },
			rows[i].v,
			NULL,
			NULL,
		};
	return pr;
}

void
db_proc_race(struct err *e)
{
	enum procrow_key key = procrow_key_broken(PROCROW_PROCESS, e);

	if (key == PROCROW_KEY_NONE)
		return;
	err_clear(e);
	err_set(e, ERR_DUPLICATE, "processes",
	    "%s already exists in the service instance (created by a concurrent request)",
	    key == PROCROW_KEY_NAME ? "a process with this bk_process_name" :
				      "a process with this bk_func_name and bk_start_param_regex");
}

/* Inserts rows (new ids into ids_out) or, with ids, rewrites those. */
static int
write_rows(struct db *db, const char *tenant, const char *username,
    const int64_t *ids, const struct db_proc_new *rows, size_t n,
    int64_t *ids_out, struct err *e)
{
	struct procrow_new *pr = db_proc_rows(rows, n);
	int rc;

	if (pr == NULL)
		return err_oom(e);
	if (ids != NULL)
		rc = procrow_update(db, PROCROW_PROCESS, tenant, username, ids, pr, n, e);
	else
		rc = procrow_insert(db, PROCROW_PROCESS, tenant, username, pr, n, ids_out, e);
	free(pr);
	if (rc != 0)
		db_proc_race(e);
	return rc;
}

int
db_proc_insert(struct db *db, const char *tenant, const char *username,
    const struct db_proc_new *rows, size_t n, int64_t *ids_out, struct err *e)
{
	return write_rows(db, tenant, username, NULL, rows, n, ids_out, e);
}

int
db_proc_update(struct db *db, const char *tenant, const char *username,
    const int64_t *ids, const struct db_proc_new *rows, size_t n,
    struct err *e)
{
	return write_rows(db, tenant, username, ids, rows, n, NULL, e);
}

int
db_proc_keys(struct db *db, const char *tenant, int64_t service_instance_id,
    struct proc_key_list *out, struct err *e)
{
	return procrow_keys(db, PROCROW_PROCESS, tenant, service_instance_id, out, e);
}

int
db_proc_list(struct db *db, const char *tenant, int64_t biz_id,
    int64_t service_instance_id, struct proc_record_list *out,
    struct err *e)
{
	out->items = procrow_list(db, PROCROW_PROCESS, tenant, service_instance_id,
	    biz_id, &out->n, e);
	return out->items != NULL ? 0 : -1;
}

int
db_proc_list_ids(struct db *db, const char *tenant, int64_t biz_id,
    const int64_t *ids, size_t n, struct proc_record_list *out,
    struct err *e)
{
	out->items = procrow_list_ids(db, PROCROW_PROCESS, tenant, biz_id, ids, n,
	    &out->n, e);
	return out->items != NULL ? 0 : -1;
}

/*
 * create_process_instance in one statement: the gate "ok" has a row when
 * check_request and the stored half of the duplicate check would pass
 * ($3 instance, $4 business, $5 names, $6 funcs, $7 regexes of the new
 * processes); the processes are written only then. Two NOT EXISTS, one
 * per unique index, so each is an index probe. The instance is locked as
 * the checks in order lock it (db_si_get: FOR NO KEY UPDATE, which says
 * why): a concurrent delete of it either commits first (no row: the checks
 * then say 1199019) or waits for this insert, and a concurrent create of
 * the same instance waits too, then breaks the constraint against the
 * committed winner (23505, never a deadlock).
 */
static char create_sql[12288];
static struct pq_stmt create_stmt = { "process_create_checked", create_sql, false };
static pthread_once_t create_once = PTHREAD_ONCE_INIT;

static void
build_create(void)
{
	/* A process is on its instance's host (fixed column 3). */
	struct procrow_cte cte = { 8, "ok", "p", { NULL, NULL, NULL, "(SELECT host FROM ok)" } };
	const char *name = proc_attrs[PAI_PROCESS_NAME].name;
	const char *func = proc_attrs[PAI_FUNC_NAME].name;
	const char *regex = proc_attrs[PAI_START_PARAM_REGEX].name;

	pq_append(create_sql, sizeof(create_sql),
	    "WITH ok AS (SELECT si.bk_host_id AS host FROM service_instance si "
	    "WHERE si.bk_supplier_account = $1 AND si.id = $3 AND si.bk_biz_id = $4 "
	    "AND si.service_template_id = 0 "
	    "AND NOT EXISTS (SELECT 1 FROM process p WHERE p.service_instance_id = $3 "
	    "AND p.\"%s\" = ANY ($5::text[])) "
	    "AND NOT EXISTS (SELECT 1 FROM process p JOIN unnest($6::text[], $7::text[]) AS k(f, r) "
	    "ON p.\"%s\" = k.f AND p.\"%s\" = k.r WHERE p.service_instance_id = $3) "
	    "FOR NO KEY UPDATE OF si), ",
	    name, func, regex);
	procrow_insert_cte(PROCROW_PROCESS, &cte, create_sql, sizeof(create_sql));
	pq_append(create_sql, sizeof(create_sql), " SELECT id FROM p_o ORDER BY ord");
}

static const char *
str_or_empty(const struct pval *p)
{
	return p->state == PV_SET && p->s ? p->s : "";
}

int
db_proc_create_checked(struct db *db, const char *tenant,
    const char *username, int64_t biz_id, const struct db_proc_new *rows,
    size_t n, int64_t *ids_out, bool *done, struct err *e)
{
	const char *params[7 + PROCROW_MAX_PARAMS] = { tenant, username };
	struct pq_arr keys[3];
	struct procrow_params p;
	struct procrow_new *pr;
	char sid[24], biz[24];
	PGresult *r = NULL;
	int rc = -1;

	*done = false;
	if (n == 0)
		return 0;
	pthread_once(&create_once, build_create);
	if ((pr = db_proc_rows(rows, n)) == NULL)
		return err_oom(e);
	for (size_t k = 0; k < 3; k++)
		pq_arr_init(&keys[k]);
	for (size_t i = 0; i < n; i++) {
		pq_arr_str(&keys[0], str_or_empty(&rows[i].v->attr[PAI_PROCESS_NAME]));
		pq_arr_str(&keys[1], str_or_empty(&rows[i].v->attr[PAI_FUNC_NAME]));
		pq_arr_str(&keys[2], str_or_empty(&rows[i].v->attr[PAI_START_PARAM_REGEX]));
	}
	pq_fmt_id(sid, sizeof(sid), rows[0].service_instance_id);
	pq_fmt_id(biz, sizeof(biz), biz_id);
	params[2] = sid;
	params[3] = biz;
	for (size_t k = 0; k < 3; k++)
		params[4 + k] = pq_arr_done(&keys[k]);
	if (procrow_params_pack(PROCROW_PROCESS, pr, n, &p, e) != 0)
		goto out;
	if (!params[4] || !params[5] || !params[6]) {
		err_oom(e);
		goto out;
	}
	memcpy(params + 7, p.params, p.n * sizeof(*params));
	r = pq_exec(db, &create_stmt, (int)(7 + p.n), params, e);
	if (r == NULL) {
		db_proc_race(e);
		goto out;
	}
	if (PQntuples(r) != 0 && (size_t)PQntuples(r) != n) {
		err_server(e, "database returned %d ids for %zu processes", PQntuples(r), n);
		goto out;
	}
	*done = PQntuples(r) != 0;
	for (size_t i = 0; *done && i < n; i++)
		ids_out[i] = pq_int(r, (int)i, 0);
	rc = 0;
out:
	PQclear(r);
	procrow_params_free(&p);
	for (size_t k = 0; k < 3; k++)
		pq_arr_free(&keys[k]);
	free(pr);
	return rc;
}

int
db_proc_list_instances(struct db *db, const char *tenant, int64_t biz_id,
    const int64_t *si_ids, size_t n, struct proc_record_list *out,
    struct err *e)
{
	out->items = procrow_list_parents(db, PROCROW_PROCESS, tenant, biz_id,
	    si_ids, n, &out->n, e);
	return out->items != NULL ? 0 : -1;
}

int
db_proc_lock(struct db *db, const char *tenant, int64_t biz_id,
    const int64_t *ids, size_t n, struct proc_record_list *out,
    struct err *e)
{
	out->items = procrow_lock_ids(db, PROCROW_PROCESS, tenant, biz_id, ids, n,
	    &out->n, e);
	return out->items != NULL ? 0 : -1;
}

int
db_proc_keys_instances(struct db *db, const char *tenant,
    const int64_t *si_ids, size_t n, struct proc_key_list *out,
    struct err *e)
{
	return procrow_keys_parents(db, PROCROW_PROCESS, tenant, si_ids, n, out, e);
}

static const struct pq_stmt proc_lock_refs_stmt = {
	"process_lock_refs",
	"SELECT bk_process_id, service_instance_id, process_template_id FROM process "
	"WHERE bk_supplier_account = $1 AND bk_biz_id = $2::bigint "
	"  AND bk_process_id = ANY ($3::bigint[]) "
	"ORDER BY bk_process_id FOR UPDATE",
	false,
};

int
db_proc_lock_refs(struct db *db, const char *tenant, int64_t biz_id,
    const int64_t *ids, size_t n, struct db_proc_ref **refs, size_t *nrefs,
    struct err *e)
{
	PGresult *r = pq_exec_ids(db, &proc_lock_refs_stmt, tenant, &biz_id, ids, n, e);

	*refs = NULL;
	*nrefs = 0;
	if (r == NULL)
		return -1;
	if (PQntuples(r) > 0 && (*refs = calloc((size_t)PQntuples(r), sizeof(**refs))) == NULL) {
		PQclear(r);
		return err_oom(e);
	}
	for (int i = 0; i < PQntuples(r); i++)
		(*refs)[(*nrefs)++] = (struct db_proc_ref){ pq_int(r, i, 0),
			pq_int(r, i, 1), pq_int(r, i, 2) };
	PQclear(r);
	return 0;
}

static const struct pq_stmt proc_lock_instances_stmt = {
	"process_lock_instances",
	"SELECT bk_process_id FROM process "
	"WHERE bk_supplier_account = $1 AND service_instance_id = ANY ($2::bigint[]) "
	"ORDER BY bk_process_id FOR UPDATE",
	false,
};

int
db_proc_lock_instances(struct db *db, const char *tenant,
    const int64_t *si_ids, size_t n, struct err *e)
{
	PGresult *r = pq_exec_ids(db, &proc_lock_instances_stmt, tenant, NULL, si_ids, n, e);

	PQclear(r);
	return r != NULL ? 0 : -1;
}

/* Bind rows go by the foreign key's ON DELETE CASCADE. */
static const struct pq_stmt proc_delete_stmt = {
	"process_delete",
	"DELETE FROM process WHERE bk_supplier_account = $1 AND bk_process_id = ANY ($2::bigint[])",
	false,
};

int
db_proc_delete(struct db *db, const char *tenant, const int64_t *ids, size_t n,
    struct err *e)
{
	PGresult *r = pq_exec_ids(db, &proc_delete_stmt, tenant, NULL, ids, n, e);

	PQclear(r);
	return r != NULL ? 0 : -1;
}
