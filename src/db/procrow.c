#include "db/procrow.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pq.h"

/* ---- the tables ---- */

/* How a value that is not set (PV_ABSENT / PV_NULL) is stored. */
enum unset_policy {
	/* The contract's default (api-contract.md §5): "" for strings, false
	 * for booleans, NULL for integers (0 with PA_ZERO_DEFAULT). Such
	 * columns are NOT NULL where the default is not NULL. */
	UNSET_DEFAULT,
	/* NULL: "the template does not set it". */
	UNSET_NULL,
};

enum col_kind {
	COL_INT,  /* bigint into an int64_t */
	COL_TEXT, /* text into a char[size], cut at size - 1 bytes */
	COL_TIME, /* timestamptz as RFC 3339 UTC (PQ_TS) into a char[size] */
};

/* A non-attribute column the reader copies into the item. */
struct col {
	const char *name;
	enum col_kind kind;
	size_t off;  /* of the int64_t / char[] in the item */
	size_t size; /* COL_TEXT / COL_TIME: of the char[] */
};

#define COLS_MAX 8
#define INT_COL(type, field, name) \
	{ \
		name, COL_INT, offsetof(type, field), 0 \
	}
#define STR_COL(type, field, name, kind) \
	{ \
		name, kind, offsetof(type, field), sizeof(((type *)0)->field) \
	}

/* A process-like table and the child table of its bind rows. */
struct desc {
	const char *table;
	const char *id;     /* identity column */
	const char *parent; /* the column lists and keys select on */
	/* bigint columns an insert writes after the id, from
	 * procrow_new.fixed; the parent is one of them */
	const char *fixed[PROCROW_FIXED_MAX];
	size_t nfixed;
	/* What the reader copies besides the attributes; cols[0] is the id
	 * (rows are grouped on it). */
	struct col cols[COLS_MAX];
	size_t ncols;
	enum unset_policy unset;
	/* Locked fields: text[] columns locked_fields (attribute names) and,
	 * in the bind table, locked_keys (bind column names). */
	bool locks;
	const char *bind_table;
	const char *bind_fk;             /* its column holding the row's id */
	const char *row_id_col;          /* its column of BKI_TEMPLATE_ROW_ID */
	const char *name_key, *func_key; /* unique constraints */
	/* The reader's item and where its parts are. */
	size_t item_size, values_off;
	size_t locked_off, row_locked_off; /* locks only */
};

static const struct desc descs[] = {
	[PROCROW_PROCESS] = {
	    .table = "process",
	    .id = "bk_process_id",
	    .parent = "service_instance_id",
	    .fixed = { "bk_biz_id", "service_instance_id", "process_template_id", "bk_host_id" },
	    .nfixed = 4,
	    .cols = {
		INT_COL(struct proc_record, id, "bk_process_id"),
		INT_COL(struct proc_record, biz_id, "bk_biz_id"),
		INT_COL(struct proc_record, service_instance_id, "service_instance_id"),
		INT_COL(struct proc_record, process_template_id, "process_template_id"),
		INT_COL(struct proc_record, host_id, "bk_host_id"),
		STR_COL(struct proc_record, tenant, "bk_supplier_account", COL_TEXT),
		STR_COL(struct proc_record, create_time, "create_time", COL_TIME),
		STR_COL(struct proc_record, last_time, "last_time", COL_TIME),
	    },
	    .ncols = 8,
	    .unset = UNSET_DEFAULT,
	    .locks = false,
	    .bind_table = "bind_info",
	    .bind_fk = "bk_process_id",
	    .row_id_col = "template_row_id",
	    .name_key = "process_name_key",
	    .func_key = "process_func_key",
	    .item_size = sizeof(struct proc_record),
	    .values_off = offsetof(struct proc_record, v),
	},
	[PROCROW_TEMPLATE] = {
	    .table = "process_template",
	    .id = "id",
	    .parent = "service_template_id",
	    .fixed = { "bk_biz_id", "service_template_id" },
	    .nfixed = 2,
	    .cols = {
		INT_COL(struct proc_template, id, "id"),
		INT_COL(struct proc_template, biz_id, "bk_biz_id"),
		INT_COL(struct proc_template, service_template_id, "service_template_id"),
		STR_COL(struct proc_template, creator, "creator", COL_TEXT),
		STR_COL(struct proc_template, modifier, "modifier", COL_TEXT),
		STR_COL(struct proc_template, create_time, "create_time", COL_TIME),
		STR_COL(struct proc_template, last_time, "last_time", COL_TIME),
	    },
	    .ncols = 7,
	    .unset = UNSET_NULL,
	    .locks = true,
	    .bind_table = "process_template_bind_info",
	    .bind_fk = "process_template_id",
	    .row_id_col = "row_id",
	    .name_key = "process_template_name_key",
	    .func_key = "process_template_func_key",
	    .item_size = sizeof(struct proc_template),
	    .values_off = offsetof(struct proc_template, v),
	    .locked_off = offsetof(struct proc_template, locked),
	    .row_locked_off = offsetof(struct proc_template, row_locked),
	},
};

/*
 * Row writes pass one array per column; the widest (an insert) has the id,
 * the fixed columns, bind_info_set, locked_fields and every attribute.
 */
_Static_assert(1 + PROCROW_FIXED_MAX + 2 + PROC_ATTR_COUNT <= PQ_MAX_COLUMNS,
    "a process-like row needs more array parameters than PQ_MAX_COLUMNS");
_Static_assert(3 + BIND_KEY_COUNT <= PQ_MAX_COLUMNS,
    "a bind row needs more array parameters than PQ_MAX_COLUMNS");

/* A statement whose text is built from a description at first use. */
struct stmt {
	struct pq_stmt stmt; /* points at name and sql below */
	char name[64];
	char sql[8192];
};

/* Where a read found each part of its rows (result column numbers): the
 * map is written while the SELECT list is, so nothing counts columns. */
struct map {
	int cols[COLS_MAX];        /* desc.cols[i] */
	int attr[PROC_ATTR_COUNT]; /* -1: not read (bind_info is no column) */
	int bind_set;              /* bind_info_set */
	int locked;                /* locked_fields; -1 without locks */
	int position;              /* the bind row's; NULL: no bind row */
	int bind_locked;           /* its locked_keys; -1 without locks */
	int bind_key[BIND_KEY_COUNT];
	int parent; /* the keys' parent column */
	int ncols;
};

/* What a list selects its rows by ($2; $1 is the tenant, $3 the business). */
enum list_by {
	BY_PARENT,     /* the parent's id */
	BY_IDS,        /* an array of the rows' ids */
	BY_PARENTS,    /* an array of parents' ids */
	BY_IDS_LOCKED, /* as BY_IDS, taking the rows' locks FOR UPDATE */
	LIST_BY_COUNT
};

/* The statement name suffix, and the condition on $2, of each list. */
static const struct {
	const char *name;
	bool parent; /* on the parent column, else on the id */
	const char *cond;
	bool lock;
} list_by[LIST_BY_COUNT] = {
	[BY_PARENT] = { "list", true, "= $2", false },
	[BY_IDS] = { "list_ids", false, "= ANY ($2::bigint[])", false },
	[BY_PARENTS] = { "list_parents", true, "= ANY ($2::bigint[])", false },
	[BY_IDS_LOCKED] = { "lock_ids", false, "= ANY ($2::bigint[])", true },
};

/* A table's statements, built once. */
struct stmts {
	bool built;
	struct stmt insert, update, bind_insert, bind_delete, keys;
	struct stmt list[LIST_BY_COUNT];
	struct map list_map[LIST_BY_COUNT], keys_map;
};

static struct stmts stmts[sizeof(descs) / sizeof(descs[0])];

/*
 * The column of bind key k. A template row's own id is its row_id; a
 * process row's is the template_row_id it came from.
 */
static const char *
bind_column(const struct desc *d, size_t k)
{
	return k == BKI_TEMPLATE_ROW_ID ? d->row_id_col : bind_keys[k].name;
}

/* ---- the columns of a write ---- */

/* What one array parameter of a write carries. */
enum arr_what {
	AW_ID,          /* the row's id */
	AW_FIXED,       /* procrow_new.fixed[index] */
	AW_BIND_SET,    /* bind_info is set (not null) */
	AW_LOCKED,      /* names of the locked attributes, comma-joined */
	AW_ATTR,        /* proc_attrs[index] */
	AW_PARENT,      /* bind row: its row's id */
	AW_POSITION,    /* bind row: its index in bind_info */
	AW_BIND_LOCKED, /* bind row: names of its locked keys, comma-joined */
	AW_KEY,         /* bind row: bind_keys[index] */
};

struct arr_col {
	enum arr_what what;
	size_t index;
	const char *column;
	const char *type; /* element type of the array */
};

/*
 * The array parameters of a row write, in order: id, the fixed columns
 * (insert only: an update never moves a row), bind_info_set,
 * locked_fields (tables with locks), the attributes stored as columns.
 * The statement text and the packing both walk this one list.
 */
static size_t
row_columns(const struct desc *d, bool insert, struct arr_col *out)
{
	size_t n = 0;

	/* An insert's ids are the server's (procrow_insert_cte): the row's
	 * place in the arrays stands for it. */
	if (!insert)
		out[n++] = (struct arr_col){ AW_ID, 0, d->id, "bigint" };
	for (size_t i = 0; insert && i < d->nfixed; i++)
		out[n++] = (struct arr_col){ AW_FIXED, i, d->fixed[i], "bigint" };
	out[n++] = (struct arr_col){ AW_BIND_SET, 0, "bind_info_set", "boolean" };
	if (d->locks)
		out[n++] = (struct arr_col){ AW_LOCKED, 0, "locked_fields", "text" };
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++)
		if (proc_attrs[i].kind != PA_BIND)
			out[n++] = (struct arr_col){ AW_ATTR, i, proc_attrs[i].name,
				pq_sql_type(proc_attrs[i].kind) };
	return n;
}

/* The array parameters of a bind row insert, in order. */
static size_t
bind_columns(const struct desc *d, struct arr_col *out)
{
	size_t n = 0;

	out[n++] = (struct arr_col){ AW_PARENT, 0, d->bind_fk, "bigint" };
	out[n++] = (struct arr_col){ AW_POSITION, 0, "position", "integer" };
	if (d->locks)
		out[n++] = (struct arr_col){ AW_BIND_LOCKED, 0, "locked_keys", "text" };
	for (size_t k = 0; k < BIND_KEY_COUNT; k++)
		out[n++] = (struct arr_col){ AW_KEY, k, bind_column(d, k),
			pq_sql_type(bind_keys[k].kind) };
	return n;
}

/* ---- statement text ---- */

/* The value of column i: u.ci, or the array a comma-joined text stands
 * for (unnest() cannot carry an array per row, so lock names travel as
 * one text; attribute and column names hold no comma). */
static void
append_value(char *buf, size_t n, const struct arr_col *c, size_t i)
{
	if (c[i].what == AW_LOCKED || c[i].what == AW_BIND_LOCKED)
		pq_append(buf, n, "string_to_array(u.c%zu, ',')", i);
	else
		pq_append(buf, n, "u.c%zu", i);
}

/* The parts of a write over unnest()ed arrays: target columns, their
 * values, the array parameters from $first on, and the alias list. */
struct write_sql {
	char cols[2048], vals[2048], arrays[2048], alias[1024];
};

static void
render_write(struct write_sql *w, const struct arr_col *c, size_t n, int first)
{
	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < n; i++) {
		const char *sep = i > 0 ? ", " : "";
		pq_append(w->cols, sizeof(w->cols), "%s\"%s\"", sep, c[i].column);
		pq_append(w->vals, sizeof(w->vals), "%s", sep);
		append_value(w->vals, sizeof(w->vals), c, i);
		pq_append(w->arrays, sizeof(w->arrays), "%s$%zu::%s[]", sep, (size_t)first + i, c[i].type);
		pq_append(w->alias, sizeof(w->alias), "%sc%zu", sep, i);
	}
}

static void
stmt_init(struct stmt *s, const char *table, const char *what, bool read_only)
{
	snprintf(s->name, sizeof(s->name), "%s_%s", table, what);
	s->sql[0] = '\0';
	s->stmt = (struct pq_stmt){ s->name, s->sql, read_only };
}

/*
 * The CTEs of an insert (procrow.h): NAME_ids takes one id per row from
 * the table's sequence (only when the gate has a row), NAME_o numbers them
 * in ascending order, so the k-th row of the arrays gets the k-th id;
 * NAME_r writes the rows and NAME_b their bind rows, whose parent column
 * carries the ordinal of their row.
 */
static size_t
render_insert_cte(const struct desc *d, const struct procrow_cte *cte,
    char *sql, size_t size)
{
	struct arr_col c[PQ_MAX_COLUMNS], bc[PQ_MAX_COLUMNS];
	size_t n = row_columns(d, true, c), nb = bind_columns(d, bc);
	struct write_sql w;
	const char *nm = cte->name;

	pq_append(sql, size,
	    "%s_ids AS MATERIALIZED (SELECT nextval(pg_get_serial_sequence('%s', '%s')) AS id "
	    "FROM %s%sgenerate_series(1, cardinality($%d::%s[]))), "
	    "%s_o AS MATERIALIZED (SELECT id, row_number() OVER (ORDER BY id) AS ord FROM %s_ids), ",
	    nm, d->table, d->id, cte->gate ? cte->gate : "", cte->gate ? ", " : "",
	    cte->first, c[0].type, nm, nm);
	render_write(&w, c, n, cte->first);
	pq_append(sql, size,
	    "%s_r AS (INSERT INTO %s (bk_supplier_account, creator, modifier, \"%s\", %s) "
	    "SELECT $1, $2, $2, o.id",
	    nm, d->table, d->id, w.cols);
	for (size_t i = 0; i < n; i++) {
		const char *expr = c[i].what == AW_FIXED ? cte->fixed[c[i].index] : NULL;
		const char *at = expr != NULL ? strchr(expr, '@') : NULL;
		pq_append(sql, size, ", ");
		if (expr == NULL)
			append_value(sql, size, c, i);
		else if (at == NULL)
			pq_append(sql, size, "%s", expr);
		else
			pq_append(sql, size, "%.*su.c%zu%s", (int)(at - expr), expr, i, at + 1);
	}
	pq_append(sql, size,
	    " FROM unnest(%s) WITH ORDINALITY AS u(%s, ord) "
	    "JOIN %s_o o ON o.ord = u.ord), ",
	    w.arrays, w.alias, nm);
	render_write(&w, bc, nb, cte->first + (int)n);
	pq_append(sql, size, "%s_b AS (INSERT INTO %s (bk_supplier_account, %s) SELECT $1, o.id",
	    nm, d->bind_table, w.cols);
	for (size_t i = 1; i < nb; i++) { /* bc[0], the parent, is o.id */
		pq_append(sql, size, ", ");
		append_value(sql, size, bc, i);
	}
	pq_append(sql, size, " FROM unnest(%s) AS u(%s) JOIN %s_o o ON o.ord = u.c0)",
	    w.arrays, w.alias, nm);
	return n + nb;
}

static void
build_writes(const struct desc *d, struct stmts *st)
{
	struct procrow_cte cte = { 3, NULL, "r", { NULL } };
	struct arr_col c[PQ_MAX_COLUMNS];
	struct write_sql w;
	size_t n;

	stmt_init(&st->insert, d->table, "insert", false);
	pq_append(st->insert.sql, sizeof(st->insert.sql), "WITH ");
	render_insert_cte(d, &cte, st->insert.sql, sizeof(st->insert.sql));
	pq_append(st->insert.sql, sizeof(st->insert.sql), " SELECT id FROM r_o ORDER BY ord");

	n = row_columns(d, false, c);
	render_write(&w, c, n, 3);
	stmt_init(&st->update, d->table, "update", false);
	pq_append(st->update.sql, sizeof(st->update.sql),
	    "UPDATE %s AS t SET modifier = $2, last_time = now()", d->table);
	for (size_t i = 1; i < n; i++) { /* c[0] is the id the WHERE matches */
		pq_append(st->update.sql, sizeof(st->update.sql), ", \"%s\" = ", c[i].column);
		append_value(st->update.sql, sizeof(st->update.sql), c, i);
	}
	pq_append(st->update.sql, sizeof(st->update.sql),
	    " FROM unnest(%s) AS u(%s) "
	    "WHERE t.bk_supplier_account = $1 AND t.\"%s\" = u.c0",
	    w.arrays, w.alias, d->id);

	n = bind_columns(d, c);
	render_write(&w, c, n, 2);
	stmt_init(&st->bind_insert, d->bind_table, "insert", false);
	pq_append(st->bind_insert.sql, sizeof(st->bind_insert.sql),
	    "INSERT INTO %s (bk_supplier_account, %s) "
	    "SELECT $1, %s FROM unnest(%s) AS u(%s)",
	    d->bind_table, w.cols, w.vals, w.arrays, w.alias);

	stmt_init(&st->bind_delete, d->bind_table, "delete", false);
	pq_append(st->bind_delete.sql, sizeof(st->bind_delete.sql),
	    "DELETE FROM %s WHERE bk_supplier_account = $1 AND \"%s\" = ANY ($2::bigint[])",
	    d->bind_table, d->bind_fk);
}

/* Appends one result column (after ", " unless it is the first) and
 * records its number in *slot. */
static void add_col(struct stmt *s, struct map *m, int *slot, const char *fmt,
    ...) ERR_PRINTF(4, 5);

static void
add_col(struct stmt *s, struct map *m, int *slot, const char *fmt, ...)
{
	char expr[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(expr, sizeof(expr), fmt, ap);
	va_end(ap);
	pq_append(s->sql, sizeof(s->sql), "%s%s", m->ncols > 0 ? ", " : "", expr);
	*slot = m->ncols++;
}

/* The uniqueness keys of a parent's rows: id, name, func, regex ("" when
 * not set). $1 tenant, $2 parent. */
static void
build_keys(const struct desc *d, struct stmt *s, struct map *m)
{
	stmt_init(s, d->table, "keys", true);
	pq_append(s->sql, sizeof(s->sql), "SELECT ");
	add_col(s, m, &m->cols[0], "t.\"%s\"", d->id);
	add_col(s, m, &m->attr[PAI_PROCESS_NAME], "t.\"%s\"", proc_attrs[PAI_PROCESS_NAME].name);
	add_col(s, m, &m->attr[PAI_FUNC_NAME], "t.\"%s\"", proc_attrs[PAI_FUNC_NAME].name);
	add_col(s, m, &m->attr[PAI_START_PARAM_REGEX], "coalesce(t.\"%s\", '')",
	    proc_attrs[PAI_START_PARAM_REGEX].name);
	add_col(s, m, &m->parent, "t.\"%s\"", d->parent);
	pq_append(s->sql, sizeof(s->sql),
	    " FROM %s t WHERE t.bk_supplier_account = $1 AND t.\"%s\" = ANY ($2::bigint[]) "
	    "ORDER BY t.\"%s\"",
	    d->table, d->parent, d->id);
}

/* Rows of a business with their bind rows: one result row per bind row
 * (or one with a NULL position for a row without any), in id and then
 * position order. $1 tenant, $2 parent or ids (by), $3 business. */
static void
build_list(const struct desc *d, enum list_by by, struct stmt *s,
    struct map *m)
{
	stmt_init(s, d->table, list_by[by].name, !list_by[by].lock);
	m->locked = m->bind_locked = -1;
	pq_append(s->sql, sizeof(s->sql), "SELECT ");
	for (size_t i = 0; i < d->ncols; i++) {
		if (d->cols[i].kind == COL_TIME)
			add_col(s, m, &m->cols[i], PQ_TS("t.\"%s\""), d->cols[i].name);
		else
			add_col(s, m, &m->cols[i], "t.\"%s\"", d->cols[i].name);
	}
	add_col(s, m, &m->bind_set, "t.bind_info_set");
	if (d->locks)
		add_col(s, m, &m->locked, "array_to_string(t.locked_fields, ',')");
	for (size_t a = 0; a < PROC_ATTR_COUNT; a++) {
		m->attr[a] = -1;
		if (proc_attrs[a].kind != PA_BIND)
			add_col(s, m, &m->attr[a], "t.\"%s\"", proc_attrs[a].name);
	}
	add_col(s, m, &m->position, "b.position");
	if (d->locks)
		add_col(s, m, &m->bind_locked, "array_to_string(b.locked_keys, ',')");
	for (size_t k = 0; k < BIND_KEY_COUNT; k++)
		add_col(s, m, &m->bind_key[k], "b.\"%s\"", bind_column(d, k));
	/* Locking: the rows are locked in id order (LockRows sits above the
	 * Sort), the order every write takes them in (api-contract.md §11.2). */
	pq_append(s->sql, sizeof(s->sql),
	    " FROM %s t LEFT JOIN %s b ON b.\"%s\" = t.\"%s\" "
	    "WHERE t.bk_supplier_account = $1 AND t.\"%s\" %s AND t.bk_biz_id = $3 "
	    "ORDER BY t.\"%s\", b.position%s",
	    d->table, d->bind_table, d->bind_fk, d->id,
	    list_by[by].parent ? d->parent : d->id, list_by[by].cond, d->id,
	    list_by[by].lock ? " FOR UPDATE OF t" : "");
}

/* Statement text is built once, by whichever thread comes first. */
static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;

static struct stmts *
ready(enum procrow_table t)
{
	struct stmts *st = &stmts[t];

	pthread_mutex_lock(&build_lock);
	if (!st->built) {
		build_writes(&descs[t], st);
		for (int by = 0; by < LIST_BY_COUNT; by++)
			build_list(&descs[t], (enum list_by)by, &st->list[by], &st->list_map[by]);
		build_keys(&descs[t], &st->keys, &st->keys_map);
		st->built = true;
	}
	pthread_mutex_unlock(&build_lock);
	return st;
}

/* ---- writing ---- */

/* A value in its column; unset ones as d's policy says. */
static void
put_value(struct pq_arr *a, const struct desc *d, const struct proc_attr *attr,
    const struct pval *v)
{
	if (v->state == PV_SET) {
		if (attr->kind == PA_STR)
			pq_arr_str(a, v->s);
		else if (attr->kind == PA_INT)
			pq_arr_int(a, v->i);
		else
			pq_arr_bool(a, v->b);
	} else if (d->unset == UNSET_NULL) {
		pq_arr_null(a);
	} else if (attr->kind == PA_STR) {
		pq_arr_str(a, "");
	} else if (attr->kind == PA_BOOL) {
		pq_arr_bool(a, false);
	} else if (attr->flags & PA_ZERO_DEFAULT) {
		pq_arr_int(a, 0);
	} else {
		pq_arr_null(a);
	}
}

/* The names lock lists hold: attribute JSON keys, bind columns. */
struct lock_names {
	const char *attr[PROC_ATTR_COUNT];
	const char *bind[BIND_KEY_COUNT];
};

static void
lock_names(const struct desc *d, struct lock_names *ln)
{
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++)
		ln->attr[i] = proc_attrs[i].name;
	for (size_t k = 0; k < BIND_KEY_COUNT; k++)
		ln->bind[k] = bind_column(d, k);
}

/* "name1,name2" of the flagged entries of names[0..n), as one element;
 * "" when flags is NULL or none is set. */
static void
put_locks(struct pq_arr *a, const bool *flags, const char *const *names,
    size_t n)
{
	char buf[1024] = "";

	for (size_t i = 0; flags != NULL && i < n; i++)
		if (flags[i])
			pq_append(buf, sizeof(buf), "%s%s", buf[0] ? "," : "", names[i]);
	pq_arr_str(a, buf);
}

/* Packs column c of row (whose id is id), or of its bind row b. */
static void
pack(struct pq_arr *a, const struct arr_col *c, const struct desc *d,
    const struct lock_names *ln, const struct procrow_new *row, int64_t id,
    size_t b)
{
	const struct proc_values *v = row->v;

	switch (c->what) {
	case AW_ID:
	case AW_PARENT:
		pq_arr_int(a, id);
		break;
	case AW_FIXED:
		pq_arr_int(a, row->fixed[c->index]);
		break;
	case AW_BIND_SET:
		pq_arr_bool(a, v->attr[PAI_BIND_INFO].state == PV_SET);
		break;
	case AW_LOCKED:
		put_locks(a, row->locked, ln->attr, PROC_ATTR_COUNT);
		break;
	case AW_ATTR:
		put_value(a, d, &proc_attrs[c->index], &v->attr[c->index]);
		break;
	case AW_POSITION:
		pq_arr_int(a, (int64_t)b);
		break;
	case AW_BIND_LOCKED:
		put_locks(a, row->row_locked ? row->row_locked[b] : NULL, ln->bind,
		    BIND_KEY_COUNT);
		break;
	case AW_KEY:
		put_value(a, d, &bind_keys[c->index], &v->rows[b].key[c->index]);
		break;
	}
}

/* Runs stmt with tenant[, operator] and the closed column arrays. */
static int
exec_columns(struct db *db, const struct stmt *s, const char *tenant,
    const char *username, struct pq_columns *c, struct err *e)
{
	const char *params[2 + PQ_MAX_COLUMNS] = { tenant, username };
	size_t first = username != NULL ? 2 : 1;

	if (!pq_columns_done(c, params, first))
		return err_oom(e);
	return pq_command(db, &s->stmt, (int)(first + c->n), params, e);
}

/* Packs the row columns cols[0..ncols) of rows[0..n) (ids[i] each, or
 * the ordinal i + 1 without ids) into c (initialised here). */
static void
pack_rows(struct pq_columns *c, const struct arr_col *cols, size_t ncols,
    const struct desc *d, const int64_t *ids, const struct procrow_new *rows,
    size_t n)
{
	struct lock_names ln;

	lock_names(d, &ln);
	pq_columns_init(c, ncols);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < ncols; k++)
			pack(&c->arr[k], &cols[k], d, &ln, &rows[i],
			    ids ? ids[i] : (int64_t)i + 1, 0);
}

/* As pack_rows, for the bind rows of rows[0..n); *total is their number. */
static void
pack_binds(struct pq_columns *c, const struct desc *d, const int64_t *ids,
    const struct procrow_new *rows, size_t n, size_t *total)
{
	struct arr_col cols[PQ_MAX_COLUMNS];
	size_t ncols = bind_columns(d, cols);
	struct lock_names ln;

	*total = 0;
	lock_names(d, &ln);
	pq_columns_init(c, ncols);
	for (size_t i = 0; i < n; i++)
		for (size_t b = 0; b < rows[i].v->nrows; b++, (*total)++)
			for (size_t k = 0; k < ncols; k++)
				pack(&c->arr[k], &cols[k], d, &ln, &rows[i],
				    ids ? ids[i] : (int64_t)i + 1, b);
}

/* One statement rewriting rows[0..n) (ids[i] each). */
static int
update_rows(struct db *db, enum procrow_table t, const char *tenant,
    const char *username, const int64_t *ids, const struct procrow_new *rows,
    size_t n, struct err *e)
{
	struct arr_col cols[PQ_MAX_COLUMNS];
	size_t ncols = row_columns(&descs[t], false, cols);
	struct pq_columns c;
	int rc;

	pack_rows(&c, cols, ncols, &descs[t], ids, rows, n);
	rc = exec_columns(db, &stmts[t].update, tenant, username, &c, e);
	pq_columns_free(&c);
	return rc;
}

/* One statement inserting the bind rows of rows[0..n) (ids[i] each);
 * none when they have none. */
static int
write_binds(struct db *db, enum procrow_table t, const char *tenant,
    const int64_t *ids, const struct procrow_new *rows, size_t n,
    struct err *e)
{
	struct pq_columns c;
	size_t total;
	int rc = 0;

	pack_binds(&c, &descs[t], ids, rows, n, &total);
	if (total > 0)
		rc = exec_columns(db, &stmts[t].bind_insert, tenant, NULL, &c, e);
	pq_columns_free(&c);
	return rc;
}

size_t
procrow_insert_cte(enum procrow_table t, const struct procrow_cte *cte,
    char *sql, size_t n)
{
	return render_insert_cte(&descs[t], cte, sql, n);
}

void
procrow_params_free(struct procrow_params *p)
{
	pq_columns_free(&p->rows);
	pq_columns_free(&p->binds);
	memset(p, 0, sizeof(*p));
}

int
procrow_params_pack(enum procrow_table t, const struct procrow_new *rows,
    size_t n, struct procrow_params *p, struct err *e)
{
	struct arr_col cols[PQ_MAX_COLUMNS];
	size_t ncols = row_columns(&descs[t], true, cols), total;

	pack_rows(&p->rows, cols, ncols, &descs[t], NULL, rows, n);
	pack_binds(&p->binds, &descs[t], NULL, rows, n, &total);
	if (!pq_columns_done(&p->rows, p->params, 0) ||
	    !pq_columns_done(&p->binds, p->params, p->rows.n))
		return err_oom(e);
	p->n = p->rows.n + p->binds.n;
	return 0;
}

int
procrow_insert(struct db *db, enum procrow_table t, const char *tenant,
    const char *username, const struct procrow_new *rows, size_t n,
    int64_t *ids_out, struct err *e)
{
	const char *params[2 + PROCROW_MAX_PARAMS] = { tenant, username };
	struct procrow_params p;
	PGresult *r = NULL;
	int rc = -1;

	if (n == 0)
		return 0;
	ready(t);
	if (procrow_params_pack(t, rows, n, &p, e) != 0)
		goto out;
	memcpy(params + 2, p.params, p.n * sizeof(*params));
	r = pq_exec(db, &stmts[t].insert.stmt, (int)(2 + p.n), params, e);
	if (r == NULL)
		goto out;
	if ((size_t)PQntuples(r) != n) {
		err_server(e, "database returned %d ids for %zu rows", PQntuples(r), n);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		ids_out[i] = pq_int(r, (int)i, 0);
	rc = 0;
out:
	PQclear(r);
	procrow_params_free(&p);
	return rc;
}

int
procrow_update(struct db *db, enum procrow_table t, const char *tenant,
    const char *username, const int64_t *ids, const struct procrow_new *rows,
    size_t n, struct err *e)
{
	struct stmts *st;
	struct pq_arr arr;
	const char *params[2] = { tenant, NULL };
	int rc = -1;

	if (n == 0)
		return 0;
	st = ready(t);
	pq_arr_init(&arr);
	if (update_rows(db, t, tenant, username, ids, rows, n, e) != 0)
		goto out;
	if ((params[1] = pq_int_array(&arr, ids, n)) == NULL) {
		err_oom(e);
		goto out;
	}
	if (pq_command(db, &st->bind_delete.stmt, 2, params, e) != 0)
		goto out;
	rc = write_binds(db, t, tenant, ids, rows, n, e);
out:
	pq_arr_free(&arr);
	return rc;
}

enum procrow_key
procrow_key_broken(enum procrow_table t, const struct err *e)
{
	const char *cons = pq_constraint(e);

	if (strcmp(cons, descs[t].name_key) == 0)
		return PROCROW_KEY_NAME;
	if (strcmp(cons, descs[t].func_key) == 0)
		return PROCROW_KEY_FUNC;
	return PROCROW_KEY_NONE;
}

/* ---- reading ---- */

/* Sets flags[i] for each name of the comma list that is names[i]. */
static void
read_locks(const char *list, bool *flags, const char *const *names, size_t n)
{
	while (*list != '\0') {
		size_t len = strcspn(list, ",");
		for (size_t i = 0; i < n; i++)
			if (strlen(names[i]) == len && strncmp(names[i], list, len) == 0)
				flags[i] = true;
		list += len;
		if (*list == ',')
			list++;
	}
}

static struct proc_values *
item_values(const struct desc *d, char *item)
{
	return (struct proc_values *)(void *)(item + d->values_off);
}

static bool (**item_row_locked(const struct desc *d, char *item))[BIND_KEY_COUNT]
{
	return (bool(**)[BIND_KEY_COUNT])(void *)(item + d->row_locked_off);
}

/* s into dst[size], cut to fit as snprintf "%s" would: a plain copy. */
static void
copy_cut(char *dst, size_t size, const char *s)
{
	size_t n = strnlen(s, size - 1);

	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* What a list read needs besides the result. */
struct reader {
	const struct desc *d;
	const struct map *m;
	struct lock_names ln;
};

/* The first result row of an item: its columns and attributes. */
static int
read_item(const PGresult *r, int row, const struct reader *rd, char *item)
{
	const struct desc *d = rd->d;
	const struct map *m = rd->m;
	struct proc_values *v = item_values(d, item);
	bool *locked = d->locks ? (bool *)(void *)(item + d->locked_off) : NULL;

	for (size_t i = 0; i < d->ncols; i++) {
		const struct col *c = &d->cols[i];
		if (c->kind == COL_INT)
			*(int64_t *)(void *)(item + c->off) = pq_int(r, row, m->cols[i]);
		else
			copy_cut(item + c->off, c->size, PQgetvalue(r, row, m->cols[i]));
	}
	v->attr[PAI_BIND_INFO].state = pq_bool(r, row, m->bind_set) ? PV_SET : PV_NULL;
	if (locked != NULL)
		read_locks(PQgetvalue(r, row, m->locked), locked, rd->ln.attr, PROC_ATTR_COUNT);
	for (size_t a = 0; a < PROC_ATTR_COUNT; a++) {
		if (locked != NULL && (proc_attrs[a].flags & PA_ALWAYS_LOCKED))
			locked[a] = true;
		if (m->attr[a] >= 0 &&
		    pq_read_value(r, row, m->attr[a], proc_attrs[a].kind, &v->attr[a]) != 0)
			return -1;
	}
	return 0;
}

/* One bind row of the item, appended. */
static int
read_bind(const PGresult *r, int row, const struct reader *rd, char *item)
{
	const struct desc *d = rd->d;
	struct proc_values *v = item_values(d, item);
	size_t n = v->nrows;
	struct bind_row *rows = realloc(v->rows, (n + 1) * sizeof(*rows));

	if (rows == NULL)
		return -1;
	v->rows = rows;
	memset(&rows[n], 0, sizeof(rows[0]));
	v->nrows = n + 1;
	if (d->locks) {
		bool(**locks)[BIND_KEY_COUNT] = item_row_locked(d, item);
		bool(*grown)[BIND_KEY_COUNT] = realloc(*locks, (n + 1) * sizeof(**locks));
		if (grown == NULL)
			return -1;
		*locks = grown;
		memset(grown[n], 0, sizeof(grown[n]));
		read_locks(PQgetvalue(r, row, rd->m->bind_locked), grown[n], rd->ln.bind,
		    BIND_KEY_COUNT);
	}
	for (size_t k = 0; k < BIND_KEY_COUNT; k++)
		if (pq_read_value(r, row, rd->m->bind_key[k], bind_keys[k].kind, &rows[n].key[k]) != 0)
			return -1;
	return 0;
}

static void
free_items(const struct desc *d, char *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *item = items + i * d->item_size;
		proc_values_clear(item_values(d, item));
		if (d->locks)
			free(*item_row_locked(d, item));
	}
	free(items);
}

/* Groups the result rows into items (one per id, in result order). */
static int
read_items(const PGresult *r, const struct reader *rd, char **out, size_t *n)
{
	const struct desc *d = rd->d;
	char *items, *item = NULL;
	int64_t last_id = 0;
	size_t count = 0, groups = 0;

	/* One item per run of equal ids (a bind row each): the zeroed array
	 * is sized for the items, not the rows (a list of 3 processes with 2
	 * bind rows each zeroed 7 records of about 1 KiB for 3). */
	for (int i = 0; i < PQntuples(r); i++)
		if (i == 0 || strcmp(PQgetvalue(r, i, rd->m->cols[0]), PQgetvalue(r, i - 1, rd->m->cols[0])) != 0)
			groups++;
	items = calloc(groups + 1, d->item_size);
	if (items == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t id = pq_int(r, i, rd->m->cols[0]);
		if (count == 0 || id != last_id) {
			item = items + count++ * d->item_size;
			last_id = id;
			if (read_item(r, i, rd, item) != 0)
				goto fail;
		}
		if (!PQgetisnull(r, i, rd->m->position) && read_bind(r, i, rd, item) != 0)
			goto fail;
	}
	*out = items;
	*n = count;
	return 0;
fail:
	free_items(d, items, count);
	return -1;
}

/* Runs list statement by with params (tenant, parent or ids, business). */
static void *
list(struct db *db, enum procrow_table t, enum list_by by,
    const char *const *params, size_t *n, struct err *e)
{
	struct stmts *st = ready(t);
	struct reader rd = { &descs[t], &st->list_map[by], { { 0 }, { 0 } } };
	char *items = NULL;
	PGresult *r;

	*n = 0;
	lock_names(rd.d, &rd.ln);
	r = pq_exec(db, &st->list[by].stmt, 3, params, e);
	if (r == NULL)
		return NULL;
	if (read_items(r, &rd, &items, n) != 0)
		err_oom(e);
	PQclear(r);
	return items;
}

void *
procrow_list(struct db *db, enum procrow_table t, const char *tenant,
    int64_t parent, int64_t biz_id, size_t *n, struct err *e)
{
	char pid[24], biz[24];
	const char *params[] = { tenant, pid, biz };

	pq_fmt_id(pid, sizeof(pid), parent);
	pq_fmt_id(biz, sizeof(biz), biz_id);
	return list(db, t, BY_PARENT, params, n, e);
}

/* A list by an array of ids ($2): the rows' own, or their parents'. */
static void *
list_array(struct db *db, enum procrow_table t, enum list_by by,
    const char *tenant, int64_t biz_id, const int64_t *ids, size_t nids,
    size_t *n, struct err *e)
{
	struct pq_arr arr;
	char biz[24];
	const char *params[] = { tenant, NULL, biz };
	void *items = NULL;

	*n = 0;
	pq_fmt_id(biz, sizeof(biz), biz_id);
	pq_arr_init(&arr);
	if ((params[1] = pq_int_array(&arr, ids, nids)) == NULL)
		err_oom(e);
	else
		items = list(db, t, by, params, n, e);
	pq_arr_free(&arr);
	return items;
}

void *
procrow_list_ids(struct db *db, enum procrow_table t, const char *tenant,
    int64_t biz_id, const int64_t *ids, size_t nids, size_t *n, struct err *e)
{
	return list_array(db, t, BY_IDS, tenant, biz_id, ids, nids, n, e);
}

void *
procrow_lock_ids(struct db *db, enum procrow_table t, const char *tenant,
    int64_t biz_id, const int64_t *ids, size_t nids, size_t *n, struct err *e)
{
	return list_array(db, t, BY_IDS_LOCKED, tenant, biz_id, ids, nids, n, e);
}

void *
procrow_list_parents(struct db *db, enum procrow_table t, const char *tenant,
    int64_t biz_id, const int64_t *parents, size_t nparents, size_t *n,
    struct err *e)
{
	return list_array(db, t, BY_PARENTS, tenant, biz_id, parents, nparents, n, e);
}

int
procrow_keys(struct db *db, enum procrow_table t, const char *tenant,
    int64_t parent, struct proc_key_list *out, struct err *e)
{
	return procrow_keys_parents(db, t, tenant, &parent, 1, out, e);
}

int
procrow_keys_parents(struct db *db, enum procrow_table t, const char *tenant,
    const int64_t *parents, size_t nparents, struct proc_key_list *out,
    struct err *e)
{
	struct stmts *st = ready(t);
	const struct map *m = &st->keys_map;
	struct pq_arr arr;
	const char *params[] = { tenant, NULL };
	PGresult *r;

	memset(out, 0, sizeof(*out));
	pq_arr_init(&arr);
	if ((params[1] = pq_int_array(&arr, parents, nparents)) == NULL) {
		pq_arr_free(&arr);
		return err_oom(e);
	}
	r = pq_exec(db, &st->keys.stmt, 2, params, e);
	pq_arr_free(&arr);
	if (r == NULL)
		return -1;
	out->items = calloc((size_t)PQntuples(r) + 1, sizeof(*out->items));
	if (out->items == NULL)
		goto oom;
	for (int i = 0; i < PQntuples(r); i++) {
		struct proc_key *k = &out->items[out->n++];
		k->id = pq_int(r, i, m->cols[0]);
		k->parent = pq_int(r, i, m->parent);
		k->name = strdup(PQgetvalue(r, i, m->attr[PAI_PROCESS_NAME]));
		k->func = strdup(PQgetvalue(r, i, m->attr[PAI_FUNC_NAME]));
		k->regex = strdup(PQgetvalue(r, i, m->attr[PAI_START_PARAM_REGEX]));
		if (!k->name || !k->func || !k->regex)
			goto oom;
	}
	PQclear(r);
	return 0;
oom:
	PQclear(r);
	proc_key_list_free(out);
	return err_oom(e);
}
