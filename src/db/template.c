#include "db/template.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/ids.h"
#include "db/pq.h"


/* ---- service_template ---- */

#define STMPL_COLS "id, bk_biz_id, name, service_category_id, bk_supplier_account, " \
	"creator, modifier, " PQ_TS("create_time") ", " PQ_TS("last_time")

/*
 * The NOT EXISTS keeps a taken name from consuming an id; the constraint
 * still settles two concurrent creates (api-contract.md §10 Templates).
 */
static const struct pq_stmt stmpl_insert_stmt = {
	"stmpl_insert",
	"INSERT INTO service_template (bk_supplier_account, creator, modifier, "
	"    bk_biz_id, name, service_category_id) "
	"SELECT $1::text, $2::text, $2::text, $3::bigint, $4::text, $5::bigint "
	"WHERE NOT EXISTS (SELECT 1 FROM service_template "
	"    WHERE bk_supplier_account = $1 AND bk_biz_id = $3 AND name = $4) "
	"RETURNING " STMPL_COLS,
	false,
};

static const struct pq_stmt stmpl_get_stmt = {
	"stmpl_get",
	"SELECT " STMPL_COLS " FROM service_template "
	"WHERE bk_supplier_account = $1 AND id = $2",
	true,
};

static void
read_stmpl(const PGresult *r, struct db_stmpl *out)
{
	out->id = pq_int(r, 0, 0);
	out->biz_id = pq_int(r, 0, 1);
	snprintf(out->name, sizeof(out->name), "%s", PQgetvalue(r, 0, 2));
	out->category_id = pq_int(r, 0, 3);
	snprintf(out->tenant, sizeof(out->tenant), "%s", PQgetvalue(r, 0, 4));
	snprintf(out->creator, sizeof(out->creator), "%s", PQgetvalue(r, 0, 5));
	snprintf(out->modifier, sizeof(out->modifier), "%s", PQgetvalue(r, 0, 6));
	snprintf(out->create_time, sizeof(out->create_time), "%s", PQgetvalue(r, 0, 7));
	snprintf(out->last_time, sizeof(out->last_time), "%s", PQgetvalue(r, 0, 8));
}

static void
stmpl_name_taken(const char *name, int64_t biz_id, bool race, struct err *e)
{
	char q[96];

	err_set(e, ERR_DUPLICATE, "name",
	    "%s is already the name of a service template of business %" PRId64 "%s",
	    err_quote(q, sizeof(q), name), biz_id, race ? " (created by a concurrent request)" : "");
}

int
db_stmpl_insert(struct db *db, const char *tenant, const char *operator,
    int64_t biz_id, const char *name, int64_t category_id,
    struct db_stmpl *out, struct err *e)
{
	char biz[24], cat[24];
	const char *params[] = { tenant, operator, biz, name, cat };
	PGresult *r;

	pq_fmt_id(biz, sizeof(biz), biz_id);
	pq_fmt_id(cat, sizeof(cat), category_id);
	r = pq_exec(db, &stmpl_insert_stmt, 5, params, e);
	if (r == NULL) {
		if (strcmp(pq_constraint(e), "service_template_name_key") == 0) {
			err_clear(e);
			stmpl_name_taken(name, biz_id, true, e);
		}
		return -1;
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		stmpl_name_taken(name, biz_id, false, e);
		return -1;
	}
	read_stmpl(r, out);
	PQclear(r);
	return 0;
}

int
db_stmpl_get(struct db *db, const char *tenant, int64_t id,
    struct db_stmpl *out, bool *found, struct err *e)
{
	char sid[24];
	const char *params[] = { tenant, sid };
	PGresult *r;

	pq_fmt_id(sid, sizeof(sid), id);
	r = pq_exec(db, &stmpl_get_stmt, 2, params, e);
	if (r == NULL)
		return -1;
	*found = PQntuples(r) == 1;
	if (*found)
		read_stmpl(r, out);
	PQclear(r);
	return 0;
}

/* ---- process_template: statements built from proc_attrs[] ---- */

/*
 * Only constant identifiers from the attribute tables go into the text;
 * values stay parameters. The locked flags travel as one comma-joined text
 * per row (attribute names hold no comma) because unnest() cannot carry an
 * array per row.
 */
static char pt_insert_sql[4096], ptb_insert_sql[2048], pt_list_sql[4096];
static struct pq_stmt pt_insert_stmt = { "ptmpl_insert", pt_insert_sql, false };
static struct pq_stmt ptb_insert_stmt = { "ptmpl_bind_insert", ptb_insert_sql, false };
static struct pq_stmt pt_list_stmt = { "ptmpl_list", pt_list_sql, true };
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;
_Static_assert(3 + PROC_ATTR_COUNT + BIND_KEY_COUNT <= PQ_MAX_COLUMNS, "process_template needs more array parameters");

#define PT_FIXED 3   /* id, bind_info_set, locked (before the attributes) */
#define PTB_FIXED 3  /* process_template_id, position, locked */
#define LIST_FIXED 9 /* list columns before the attributes */
static int attr_cols; /* attributes stored as columns (all but bind_info) */

/* The column of bind key k in process_template_bind_info. */
static const char *
bind_column(size_t k)
{
	return k == BKI_TEMPLATE_ROW_ID ? "row_id" : bind_keys[k].name;
}

static void
build_insert_sql(void)
{
	char cols[2048] = "", sel[2048] = "", types[2048] = "", alias[1024] = "";
	int p = 5, c = PT_FIXED;

	for (size_t i = 0; i < PROC_ATTR_COUNT; i++) {
		if (proc_attrs[i].kind == PA_BIND)
			continue;
		pq_append(cols, sizeof(cols), ", \"%s\"", proc_attrs[i].name);
		pq_append(sel, sizeof(sel), ", u.c%d", c);
		pq_append(types, sizeof(types), ", $%d::%s[]", p + c, pq_sql_type(proc_attrs[i].kind));
		pq_append(alias, sizeof(alias), ", c%d", c);
		c++;
		attr_cols++;
	}
	pq_append(pt_insert_sql, sizeof(pt_insert_sql),
	    "INSERT INTO process_template (bk_supplier_account, creator, modifier, "
	    "bk_biz_id, service_template_id, id, bind_info_set, locked_fields%s) "
	    "SELECT $1, $2, $2, $3, $4, u.c0, u.c1, string_to_array(u.c2, ',')%s "
	    "FROM unnest($5::bigint[], $6::boolean[], $7::text[]%s) AS u(c0, c1, c2%s)",
	    cols, sel, types, alias);

	cols[0] = sel[0] = types[0] = alias[0] = '\0';
	p = 2;
	c = PTB_FIXED;
	for (size_t k = 0; k < BIND_KEY_COUNT; k++, c++) {
		pq_append(cols, sizeof(cols), ", \"%s\"", bind_column(k));
		pq_append(sel, sizeof(sel), ", u.c%d", c);
		pq_append(types, sizeof(types), ", $%d::%s[]", p + c, pq_sql_type(bind_keys[k].kind));
		pq_append(alias, sizeof(alias), ", c%d", c);
	}
	pq_append(ptb_insert_sql, sizeof(ptb_insert_sql),
	    "INSERT INTO process_template_bind_info (bk_supplier_account, "
	    "process_template_id, position, locked_keys%s) "
	    "SELECT $1, u.c0, u.c1, string_to_array(u.c2, ',')%s "
	    "FROM unnest($2::bigint[], $3::integer[], $4::text[]%s) AS u(c0, c1, c2%s)",
	    cols, sel, types, alias);
}

/* Columns: LIST_FIXED, the attributes, b.position, b.locked, the bind keys. */
static void
build_list_sql(void)
{
	char tcols[2048] = "", bcols[1024] = "";

	for (size_t i = 0; i < PROC_ATTR_COUNT; i++)
		if (proc_attrs[i].kind != PA_BIND)
			pq_append(tcols, sizeof(tcols), ", t.\"%s\"", proc_attrs[i].name);
	for (size_t k = 0; k < BIND_KEY_COUNT; k++)
		pq_append(bcols, sizeof(bcols), ", b.\"%s\"", bind_column(k));
	pq_append(pt_list_sql, sizeof(pt_list_sql),
	    "SELECT t.id, t.bk_biz_id, t.service_template_id, t.creator, t.modifier, "
	    PQ_TS("t.create_time") ", " PQ_TS("t.last_time") ", "
	    "t.bind_info_set, array_to_string(t.locked_fields, ',')%s, "
	    "b.position, array_to_string(b.locked_keys, ',')%s "
	    "FROM process_template t "
	    "LEFT JOIN process_template_bind_info b ON b.process_template_id = t.id "
	    "WHERE t.bk_supplier_account = $1 AND t.service_template_id = $2 "
	    "  AND ($3::bigint = 0 OR t.bk_biz_id = $3) "
	    "ORDER BY t.id, b.position",
	    tcols, bcols);
}

static void
build_sql(void)
{
	build_insert_sql();
	build_list_sql();
}

/* A template value in its column: NULL when the template does not set it. */
static void
put_value(struct pq_arr *a, enum pa_kind kind, const struct pval *v)
{
	if (v->state != PV_SET)
		pq_arr_null(a);
	else if (kind == PA_STR)
		pq_arr_str(a, v->s);
	else if (kind == PA_INT)
		pq_arr_int(a, v->i);
	else
		pq_arr_bool(a, v->b);
}

static const char *
attr_name(size_t i)
{
	return proc_attrs[i].name;
}

/* "name1,name2" of the flagged entries (name(i) names entry i), as one
 * array element; "" when flags is NULL or none is set. */
static void
put_locks(struct pq_arr *a, size_t n, const bool *flags,
    const char *(*name)(size_t))
{
	char buf[1024] = "";

	for (size_t i = 0; flags != NULL && i < n; i++)
		if (flags[i])
			pq_append(buf, sizeof(buf), "%s%s", buf[0] ? "," : "", name(i));
	pq_arr_str(a, buf);
}

static int
insert_binds(struct db *db, const char *tenant, const struct db_ptmpl_new *rows,
    size_t n, const int64_t *ids, struct err *e)
{
	struct pq_columns c;
	const char *params[1 + PTB_FIXED + BIND_KEY_COUNT] = { tenant };
	PGresult *r = NULL;
	size_t total = 0;
	int rc = -1;

	pq_columns_init(&c, PTB_FIXED + BIND_KEY_COUNT);
	for (size_t i = 0; i < n; i++) {
		const struct proc_values *v = rows[i].v;
		for (size_t b = 0; b < v->nrows; b++, total++) {
			pq_arr_int(&c.arr[0], ids[i]);
			pq_arr_int(&c.arr[1], (int64_t)b);
			put_locks(&c.arr[2], BIND_KEY_COUNT,
			    rows[i].row_locked ? rows[i].row_locked[b] : NULL, bind_column);
			for (size_t k = 0; k < BIND_KEY_COUNT; k++)
				put_value(&c.arr[PTB_FIXED + k], bind_keys[k].kind, &v->rows[b].key[k]);
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
	r = pq_exec(db, &ptb_insert_stmt, (int)(1 + c.n), params, e);
	rc = r ? 0 : -1;
out:
	PQclear(r);
	pq_columns_free(&c);
	return rc;
}

/* A unique violation on insert: a concurrent request won the race. */
static void
map_race(struct err *e)
{
	const char *cons = pq_constraint(e);
	bool name = strcmp(cons, "process_template_name_key") == 0;

	if (!name && strcmp(cons, "process_template_func_key") != 0)
		return;
	err_clear(e);
	if (name)
		err_set(e, ERR_PT_NAME_DUP, "processes",
		    "a process template with this bk_process_name already exists in the service template (created by a concurrent request)");
	else
		err_set(e, ERR_PT_FUNC_DUP, "processes",
		    "a process template with this bk_func_name and bk_start_param_regex already exists in the service template (created by a concurrent request)");
}

int
db_ptmpl_insert(struct db *db, const char *tenant, const char *operator,
    int64_t biz_id, int64_t service_template_id,
    const struct db_ptmpl_new *rows, size_t n, int64_t *ids_out,
    struct err *e)
{
	struct pq_columns c;
	const char *params[4 + PT_FIXED + PROC_ATTR_COUNT] = { tenant, operator };
	char biz[24], stid[24];
	PGresult *r = NULL;
	int rc = -1;

	pthread_once(&sql_once, build_sql);
	if (n == 0)
		return 0;
	pq_columns_init(&c, PT_FIXED + (size_t)attr_cols);
	pq_fmt_id(biz, sizeof(biz), biz_id);
	pq_fmt_id(stid, sizeof(stid), service_template_id);
	params[2] = biz;
	params[3] = stid;
	if (db_next_ids(db, "process_template", "id", n, ids_out, e) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		size_t col = PT_FIXED;
		pq_arr_int(&c.arr[0], ids_out[i]);
		pq_arr_bool(&c.arr[1], rows[i].v->attr[PAI_BIND_INFO].state == PV_SET);
		put_locks(&c.arr[2], PROC_ATTR_COUNT, rows[i].locked, attr_name);
		for (size_t a = 0; a < PROC_ATTR_COUNT; a++)
			if (proc_attrs[a].kind != PA_BIND)
				put_value(&c.arr[col++], proc_attrs[a].kind, &rows[i].v->attr[a]);
	}
	if (!pq_columns_done(&c, params, 4)) {
		err_oom(e);
		goto out;
	}
	r = pq_exec(db, &pt_insert_stmt, (int)(4 + c.n), params, e);
	if (r == NULL) {
		map_race(e);
		goto out;
	}
	rc = insert_binds(db, tenant, rows, n, ids_out, e);
out:
	PQclear(r);
	pq_columns_free(&c);
	return rc;
}

/* ---- reading process templates ---- */


/* Sets flags[i] for each name of the comma list that names entry i. */
static void
read_locks(const char *list, bool *flags, size_t n, const char *(*name)(size_t))
{
	while (*list != '\0') {
		size_t len = strcspn(list, ",");
		for (size_t i = 0; i < n; i++)
			if (strlen(name(i)) == len && strncmp(name(i), list, len) == 0)
				flags[i] = true;
		list += len;
		if (*list == ',')
			list++;
	}
}

static int
read_template(const PGresult *r, int row, struct proc_template *t)
{
	int col = LIST_FIXED;

	t->id = pq_int(r, row, 0);
	t->biz_id = pq_int(r, row, 1);
	t->service_template_id = pq_int(r, row, 2);
	snprintf(t->creator, sizeof(t->creator), "%s", PQgetvalue(r, row, 3));
	snprintf(t->modifier, sizeof(t->modifier), "%s", PQgetvalue(r, row, 4));
	snprintf(t->create_time, sizeof(t->create_time), "%s", PQgetvalue(r, row, 5));
	snprintf(t->last_time, sizeof(t->last_time), "%s", PQgetvalue(r, row, 6));
	t->v.attr[PAI_BIND_INFO].state = pq_bool(r, row, 7) ? PV_SET : PV_NULL;
	read_locks(PQgetvalue(r, row, 8), t->locked, PROC_ATTR_COUNT, attr_name);
	for (size_t a = 0; a < PROC_ATTR_COUNT; a++) {
		if (proc_attrs[a].flags & PA_ALWAYS_LOCKED)
			t->locked[a] = true;
		if (proc_attrs[a].kind != PA_BIND &&
		    pq_read_value(r, row, col++, proc_attrs[a].kind, &t->v.attr[a]) != 0)
			return -1;
	}
	return 0;
}

static int
read_bind(const PGresult *r, int row, struct proc_template *t)
{
	int col = LIST_FIXED + attr_cols + 2; /* after b.position, b.locked */
	size_t n = t->v.nrows;
	struct bind_row *rows = realloc(t->v.rows, (n + 1) * sizeof(*rows));
	bool (*locks)[BIND_KEY_COUNT];

	if (rows == NULL)
		return -1;
	t->v.rows = rows;
	memset(&rows[n], 0, sizeof(rows[0]));
	t->v.nrows = n + 1;
	locks = realloc(t->row_locked, (n + 1) * sizeof(*locks));
	if (locks == NULL)
		return -1;
	t->row_locked = locks;
	memset(locks[n], 0, sizeof(locks[n]));
	read_locks(PQgetvalue(r, row, LIST_FIXED + attr_cols + 1), locks[n],
	    BIND_KEY_COUNT, bind_column);
	for (size_t k = 0; k < BIND_KEY_COUNT; k++)
		if (pq_read_value(r, row, col++, bind_keys[k].kind, &rows[n].key[k]) != 0)
			return -1;
	return 0;
}

int
db_ptmpl_list(struct db *db, const char *tenant, int64_t biz_id,
    int64_t service_template_id, struct proc_template_list *out, struct err *e)
{
	char stid[24], biz[24];
	const char *params[] = { tenant, stid, biz };
	PGresult *r;
	int poscol, rc = -1;

	pthread_once(&sql_once, build_sql);
	poscol = LIST_FIXED + attr_cols;
	memset(out, 0, sizeof(*out));
	pq_fmt_id(stid, sizeof(stid), service_template_id);
	pq_fmt_id(biz, sizeof(biz), biz_id);
	r = pq_exec(db, &pt_list_stmt, 3, params, e);
	if (r == NULL)
		return -1;
	out->items = calloc((size_t)PQntuples(r) + 1, sizeof(*out->items));
	if (out->items == NULL)
		goto fail;
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t id = pq_int(r, i, 0);
		struct proc_template *t;
		if (out->n == 0 || out->items[out->n - 1].id != id) {
			t = &out->items[out->n++];
			if (read_template(r, i, t) != 0)
				goto fail;
		}
		t = &out->items[out->n - 1];
		if (!PQgetisnull(r, i, poscol) && read_bind(r, i, t) != 0)
			goto fail;
	}
	rc = 0;
	goto out;
fail:
	err_oom(e);
	proc_template_list_free(out);
out:
	PQclear(r);
	return rc;
}

static const struct pq_stmt ptmpl_keys_stmt = {
	"ptmpl_keys",
	"SELECT id, bk_process_name, bk_func_name, coalesce(bk_start_param_regex, '') "
	"FROM process_template WHERE bk_supplier_account = $1 AND service_template_id = $2 "
	"ORDER BY id",
	true,
};

int
db_ptmpl_keys(struct db *db, const char *tenant, int64_t service_template_id,
    struct proc_key_list *out, struct err *e)
{
	return pq_keys(db, &ptmpl_keys_stmt, tenant, service_template_id, out, e);
}
