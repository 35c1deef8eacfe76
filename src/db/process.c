#include "db/process.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/ids.h"
#include "db/pq.h"

/*
 * Statements whose column lists come from proc_attrs[] and bind_keys[]:
 * built once, then prepared per connection like any other. Only constant
 * identifiers from the tables go into the text; values stay parameters.
 */
static char proc_insert_sql[4096], bind_insert_sql[1024], proc_list_sql[4096];
static struct pq_stmt proc_insert_stmt = { "proc_insert", proc_insert_sql, false };
static struct pq_stmt bind_insert_stmt = { "bind_insert", bind_insert_sql, false };
static struct pq_stmt proc_list_stmt = { "proc_list", proc_list_sql, true };
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;
_Static_assert(6 + PROC_ATTR_COUNT <= PQ_MAX_COLUMNS, "process needs more array parameters");
static int attr_cols; /* attributes stored as process columns (not bind_info) */

/* Process columns before the attributes, shared by insert and list. */
#define PROC_FIXED_INSERT 6 /* bk_process_id .. bind_info_set */
#define LIST_FIXED 9        /* list columns before the attributes */

static void
build_sql(void)
{
	char cols[2048] = "", unnest[2048] = "", list_cols[2048] = "";
	int p = 3 + PROC_FIXED_INSERT;

	for (size_t i = 0; i < PROC_ATTR_COUNT; i++) {
		if (proc_attrs[i].kind == PA_BIND)
			continue;
		pq_append(cols, sizeof(cols), ", \"%s\"", proc_attrs[i].name);
		pq_append(unnest, sizeof(unnest), ", $%d::%s[]", p++, pq_sql_type(proc_attrs[i].kind));
		pq_append(list_cols, sizeof(list_cols), ", p.\"%s\"", proc_attrs[i].name);
		attr_cols++;
	}
	pq_append(proc_insert_sql, sizeof(proc_insert_sql),
	    "INSERT INTO process (bk_supplier_account, creator, modifier, "
	    "bk_process_id, bk_biz_id, service_instance_id, process_template_id, "
	    "bk_host_id, bind_info_set%s) "
	    "SELECT $1, $2, $2, u.* FROM unnest($3::bigint[], $4::bigint[], "
	    "$5::bigint[], $6::bigint[], $7::bigint[], $8::boolean[]%s) AS u",
	    cols, unnest);

	cols[0] = unnest[0] = '\0';
	p = 4;
	for (size_t k = 0; k < BIND_KEY_COUNT; k++) {
		pq_append(cols, sizeof(cols), ", \"%s\"", bind_keys[k].name);
		pq_append(unnest, sizeof(unnest), ", $%d::%s[]", p++, pq_sql_type(bind_keys[k].kind));
		pq_append(list_cols, sizeof(list_cols), ", b.\"%s\"", bind_keys[k].name);
	}
	pq_append(bind_insert_sql, sizeof(bind_insert_sql),
	    "INSERT INTO bind_info (bk_supplier_account, bk_process_id, position%s) "
	    "SELECT $1, u.* FROM unnest($2::bigint[], $3::integer[]%s) AS u",
	    cols, unnest);

	/* The attribute columns follow LIST_FIXED columns; after them come
	 * b.position and the bind keys. */
	pq_append(proc_list_sql, sizeof(proc_list_sql),
	    "SELECT p.bk_process_id, p.bk_biz_id, p.service_instance_id, "
	    "p.process_template_id, p.bk_host_id, p.bk_supplier_account, "
	    PQ_TS("p.create_time") ", " PQ_TS("p.last_time") ", "
	    "p.bind_info_set%.*s, b.position%s "
	    "FROM process p LEFT JOIN bind_info b ON b.bk_process_id = p.bk_process_id "
	    "WHERE p.bk_supplier_account = $1 AND p.service_instance_id = $2 "
	    "  AND p.bk_biz_id = $3 "
	    "ORDER BY p.bk_process_id, b.position",
	    (int)(strstr(list_cols, ", b.") - list_cols), list_cols,
	    strstr(list_cols, ", b."));
}

/* A value in its column: unset strings are "", unset integers NULL,
 * unset booleans false (api-contract.md §5 defaults). */
static void
put_value(struct pq_arr *a, enum pa_kind kind, const struct pval *v)
{
	bool set = v->state == PV_SET;

	if (kind == PA_STR)
		pq_arr_str(a, set ? v->s : "");
	else if (kind == PA_INT && set)
		pq_arr_int(a, v->i);
	else if (kind == PA_INT)
		pq_arr_null(a);
	else
		pq_arr_bool(a, set && v->b);
}

static int
insert_binds(struct db *db, const char *tenant, const struct db_proc_new *rows,
    size_t n, const int64_t *ids, struct err *e)
{
	struct pq_columns c;
	const char *params[3 + BIND_KEY_COUNT] = { tenant };
	PGresult *r = NULL;
	size_t total = 0;
	int rc = -1;

	pq_columns_init(&c, 2 + BIND_KEY_COUNT);
	for (size_t i = 0; i < n; i++) {
		const struct proc_values *v = rows[i].v;
		for (size_t b = 0; b < v->nrows; b++, total++) {
			pq_arr_int(&c.arr[0], ids[i]);
			pq_arr_int(&c.arr[1], (int64_t)b);
			for (size_t k = 0; k < BIND_KEY_COUNT; k++) {
				const struct pval *kv = &v->rows[b].key[k];
				if (bind_keys[k].kind == PA_INT)
					pq_arr_int(&c.arr[2 + k], kv->state == PV_SET ? kv->i : 0);
				else
					put_value(&c.arr[2 + k], bind_keys[k].kind, kv);
			}
		}
	}
	if (total == 0) {
		rc = 0;
		goto out;
	}
	if (!pq_columns_done(&c, params, 1)) {
		err_oom(e);
		goto out;
	}
	r = pq_exec(db, &bind_insert_stmt, (int)(1 + c.n), params, e);
	rc = r ? 0 : -1;
out:
	PQclear(r);
	pq_columns_free(&c);
	return rc;
}

int
db_proc_insert(struct db *db, const char *tenant, const char *operator,
    const struct db_proc_new *rows, size_t n, int64_t *ids_out, struct err *e)
{
	struct pq_columns c;
	const char *params[2 + PROC_FIXED_INSERT + PROC_ATTR_COUNT] = { tenant, operator };
	PGresult *r = NULL;
	size_t ncols = PROC_FIXED_INSERT;
	int rc = -1;

	pthread_once(&sql_once, build_sql);
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++)
		ncols += proc_attrs[i].kind != PA_BIND;
	pq_columns_init(&c, ncols);
	if (n == 0)
		return 0;
	if (db_next_ids(db, "process", "bk_process_id", n, ids_out, e) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		size_t col = PROC_FIXED_INSERT;
		pq_arr_int(&c.arr[0], ids_out[i]);
		pq_arr_int(&c.arr[1], rows[i].biz_id);
		pq_arr_int(&c.arr[2], rows[i].service_instance_id);
		pq_arr_int(&c.arr[3], rows[i].process_template_id);
		pq_arr_int(&c.arr[4], rows[i].host_id);
		pq_arr_bool(&c.arr[5], rows[i].v->attr[PAI_BIND_INFO].state == PV_SET);
		for (size_t a = 0; a < PROC_ATTR_COUNT; a++)
			if (proc_attrs[a].kind != PA_BIND)
				put_value(&c.arr[col++], proc_attrs[a].kind, &rows[i].v->attr[a]);
	}
	if (!pq_columns_done(&c, params, 2)) {
		err_oom(e);
		goto out;
	}
	r = pq_exec(db, &proc_insert_stmt, (int)(2 + ncols), params, e);
	if (r == NULL) {
		const char *cons = pq_constraint(e);
		if (strcmp(cons, "process_name_key") == 0 || strcmp(cons, "process_func_key") == 0) {
			/* The pre-check passed, so a concurrent request won the race. */
			bool name = strcmp(cons, "process_name_key") == 0;
			err_clear(e);
			err_set(e, ERR_DUPLICATE, "processes",
			    "%s already exists in the service instance (created by a concurrent request)",
			    name ? "a process with this bk_process_name" :
			    "a process with this bk_func_name and bk_start_param_regex");
		}
		goto out;
	}
	rc = insert_binds(db, tenant, rows, n, ids_out, e);
out:
	PQclear(r);
	pq_columns_free(&c);
	return rc;
}

static const struct pq_stmt proc_keys_stmt = {
	"proc_keys",
	"SELECT bk_process_id, bk_process_name, bk_func_name, bk_start_param_regex "
	"FROM process WHERE bk_supplier_account = $1 AND service_instance_id = $2 "
	"ORDER BY bk_process_id",
	true,
};

int
db_proc_keys(struct db *db, const char *tenant, int64_t service_instance_id,
    struct proc_key_list *out, struct err *e)
{
	return pq_keys(db, &proc_keys_stmt, tenant, service_instance_id, out, e);
}

static int
read_process(const PGresult *r, int row, struct proc_record *rec)
{
	int col = LIST_FIXED;

	rec->id = pq_int(r, row, 0);
	rec->biz_id = pq_int(r, row, 1);
	rec->service_instance_id = pq_int(r, row, 2);
	rec->process_template_id = pq_int(r, row, 3);
	rec->host_id = pq_int(r, row, 4);
	snprintf(rec->tenant, sizeof(rec->tenant), "%s", PQgetvalue(r, row, 5));
	snprintf(rec->create_time, sizeof(rec->create_time), "%s", PQgetvalue(r, row, 6));
	snprintf(rec->last_time, sizeof(rec->last_time), "%s", PQgetvalue(r, row, 7));
	rec->v.attr[PAI_BIND_INFO].state = pq_bool(r, row, 8) ? PV_SET : PV_NULL;
	for (size_t a = 0; a < PROC_ATTR_COUNT; a++)
		if (proc_attrs[a].kind != PA_BIND &&
		    pq_read_value(r, row, col++, proc_attrs[a].kind, &rec->v.attr[a]) != 0)
			return -1;
	return 0;
}

static int
read_bind(const PGresult *r, int row, struct proc_values *v)
{
	int col = LIST_FIXED + attr_cols + 1; /* after b.position */
	struct bind_row *rows = realloc(v->rows, (v->nrows + 1) * sizeof(*rows));

	if (rows == NULL)
		return -1;
	v->rows = rows;
	memset(&rows[v->nrows], 0, sizeof(rows[0]));
	v->nrows++;
	for (size_t k = 0; k < BIND_KEY_COUNT; k++)
		if (pq_read_value(r, row, col++, bind_keys[k].kind, &rows[v->nrows - 1].key[k]) != 0)
			return -1;
	return 0;
}

int
db_proc_list(struct db *db, const char *tenant, int64_t biz_id,
    int64_t service_instance_id, struct proc_record_list *out,
    struct err *e)
{
	char sid[24], biz[24];
	const char *params[] = { tenant, sid, biz };
	int poscol;
	PGresult *r;
	int rc = -1;

	pthread_once(&sql_once, build_sql);
	poscol = LIST_FIXED + attr_cols;
	memset(out, 0, sizeof(*out));
	snprintf(sid, sizeof(sid), "%" PRId64, service_instance_id);
	snprintf(biz, sizeof(biz), "%" PRId64, biz_id);
	r = pq_exec(db, &proc_list_stmt, 3, params, e);
	if (r == NULL)
		return -1;
	out->items = calloc((size_t)PQntuples(r) + 1, sizeof(*out->items));
	if (out->items == NULL)
		goto oom;
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t id = pq_int(r, i, 0);
		struct proc_record *rec;
		if (out->n == 0 || out->items[out->n - 1].id != id) {
			rec = &out->items[out->n++];
			if (read_process(r, i, rec) != 0)
				goto oom;
		}
		rec = &out->items[out->n - 1];
		if (!PQgetisnull(r, i, poscol) && read_bind(r, i, &rec->v) != 0)
			goto oom;
	}
	rc = 0;
	goto out;
oom:
	err_oom(e);
	proc_record_list_free(out);
out:
	PQclear(r);
	return rc;
}
