#include "db/pq.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Runs stmt (or, with stmt NULL, the plain sql) on db's connection. A
 * statement that cannot have changed anything, run outside a transaction,
 * is retried once on a fresh connection when the first one turned out to
 * be dead (the server restarted, a proxy dropped it while it sat idle), so
 * the request does not fail for a fault that is already gone. Writes are
 * never retried: they may have been applied.
 */
static PGresult *
run(struct db *db, const struct pq_stmt *stmt, const char *sql, bool harmless,
    int n, const char *const *params, struct err *e)
{
	struct err first = { 0 }; /* kept apart: the retry may succeed */
	struct db_conn *c = db_conn_for_statement(db, e);
	PGresult *r;

	if (c == NULL)
		return NULL;
	r = stmt ? conn_exec(c, stmt, n, params, &first) : conn_exec_plain(c, sql, &first);
	if (r != NULL)
		return r;
	if ((c = db_conn_for_retry(db, harmless, e)) != NULL)
		r = stmt ? conn_exec(c, stmt, n, params, e) : conn_exec_plain(c, sql, e);
	if (r == NULL)
		err_copy(e, &first);
	return r;
}

static pq_trace_fn trace_fn;
static void *trace_arg;

void
pq_set_trace(pq_trace_fn fn, void *arg)
{
	trace_fn = fn;
	trace_arg = arg;
}

PGresult *
pq_exec(struct db *db, const struct pq_stmt *stmt, int n,
    const char *const *params, struct err *e)
{
	if (trace_fn != NULL)
		trace_fn(trace_arg, stmt, n, params);
	return run(db, stmt, NULL, stmt->read_only, n, params, e);
}

PGresult *
pq_exec_custom_plan(struct db *db, const struct pq_stmt *stmt, int n,
    const char *const *params, struct err *e)
{
	struct db_conn *c = db_conn_for_statement(db, e);
	struct err ignored = { 0 };
	PGresult *r;

	if (c == NULL)
		return NULL;
	/* Behind a transaction pooler sessions keep the default mode, which
	 * plans unnamed statements with their values anyway. */
	if (c->cfg->unnamed)
		return pq_exec(db, stmt, n, params, e);
	r = run(db, NULL, "SET plan_cache_mode = force_custom_plan", true, 0, NULL, e);
	if (r == NULL)
		return NULL;
	PQclear(r);
	r = pq_exec(db, stmt, n, params, e);
	/* A RESET that fails leaves a dead connection (replaced on its next
	 * use) or an aborted transaction, whose rollback undoes the SET. */
	PQclear(run(db, NULL, "RESET plan_cache_mode", false, 0, NULL, &ignored));
	return r;
}

PGresult *
pq_exec_plain(struct db *db, const char *sql, struct err *e)
{
	/* Of the plain statements only BEGIN is known to be harmless. */
	return run(db, NULL, sql, strcmp(sql, "BEGIN") == 0, 0, NULL, e);
}

PGconn *
pq_conn(struct db *db)
{
	struct db_conn *c = db_current_conn(db);

	return c ? c->pg : NULL;
}

const char *
pq_constraint(const struct err *e)
{
	return e->constraint;
}

void
pq_arr_init(struct pq_arr *a)
{
	memset(a, 0, sizeof(*a));
}

/* Room for n more bytes (and the closing brace and NUL); false when out of
 * memory. A slice of the columns' block moves to a buffer of its own. */
static bool
arr_grow(struct pq_arr *a, size_t n)
{
	size_t cap = a->cap ? a->cap : 256;
	char *buf;

	if (a->failed)
		return false;
	while (a->len + n + 2 > cap)
		cap *= 2;
	if (a->borrowed) {
		if ((buf = malloc(cap)) != NULL)
			memcpy(buf, a->buf, a->len + 1);
	} else {
		buf = realloc(a->buf, cap);
	}
	if (buf == NULL) {
		a->failed = true;
		return false;
	}
	a->buf = buf;
	a->cap = cap;
	a->borrowed = false;
	return true;
}

/* Called for every element and separator: the common case (room left) is
 * inlined. */
static inline void
arr_put(struct pq_arr *a, const char *s, size_t n)
{
	if ((a->failed || a->len + n + 2 > a->cap) && !arr_grow(a, n))
		return;
	memcpy(a->buf + a->len, s, n);
	a->len += n;
	a->buf[a->len] = '\0';
}

static void
arr_sep(struct pq_arr *a)
{
	arr_put(a, a->count == 0 ? "{" : ",", 1);
	a->count++;
}

/* Array-literal quoting: inside "...", only " and \ need a backslash. */
void
pq_arr_str(struct pq_arr *a, const char *s)
{
	if (s == NULL) {
		pq_arr_null(a);
		return;
	}
	arr_sep(a);
	arr_put(a, "\"", 1);
	for (const char *p = s; *p != '\0';) {
		size_t run = strcspn(p, "\"\\");
		arr_put(a, p, run);
		p += run;
		if (*p != '\0') {
			char esc[2] = { '\\', *p };
			arr_put(a, esc, 2);
			p++;
		}
	}
	arr_put(a, "\"", 1);
}

/* Decimal by hand: a 100-instance batch packs thousands of numbers, and
 * snprintf was most of the packing's cost. */
void
pq_arr_int(struct pq_arr *a, int64_t v)
{
	char buf[24], *d = buf + sizeof(buf);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do
		*--d = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--d = '-';
	arr_sep(a);
	arr_put(a, d, (size_t)(buf + sizeof(buf) - d));
}

void
pq_arr_null(struct pq_arr *a)
{
	arr_sep(a);
	arr_put(a, "NULL", 4);
}

void
pq_arr_bool(struct pq_arr *a, bool v)
{
	arr_sep(a);
	arr_put(a, v ? "t" : "f", 1);
}

const char *
pq_arr_done(struct pq_arr *a)
{
	if (a->count == 0)
		arr_put(a, "{", 1);
	arr_put(a, "}", 1);
	return a->failed ? NULL : a->buf;
}

void
pq_arr_free(struct pq_arr *a)
{
	if (!a->borrowed)
		free(a->buf);
	memset(a, 0, sizeof(*a));
}

int64_t
pq_int(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

bool
pq_bool(const PGresult *r, int row, int col)
{
	return PQgetvalue(r, row, col)[0] == 't';
}

const char *
pq_int_array(struct pq_arr *a, const int64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pq_arr_int(a, v[i]);
	return pq_arr_done(a);
}

/* The bytes each array of a pq_columns starts with: a one-row batch fits. */
#define PQ_COLUMN_START 64

/* A create of one instance packs about 40 short arrays: one allocation
 * for all their first bytes instead of one each (callgrind: 35 reallocs
 * and frees per request, most of them past glibc's per-thread cache). */
void
pq_columns_init(struct pq_columns *c, size_t n)
{
	c->n = n < PQ_MAX_COLUMNS ? n : PQ_MAX_COLUMNS;
	c->block = c->n > 0 ? malloc(c->n * PQ_COLUMN_START) : NULL;
	for (size_t i = 0; i < c->n; i++) {
		pq_arr_init(&c->arr[i]);
		if (c->block != NULL) {
			c->arr[i].buf = c->block + i * PQ_COLUMN_START;
			c->arr[i].buf[0] = '\0';
			c->arr[i].cap = PQ_COLUMN_START;
			c->arr[i].borrowed = true;
		}
	}
}

void
pq_columns_free(struct pq_columns *c)
{
	for (size_t i = 0; i < c->n; i++)
		pq_arr_free(&c->arr[i]);
	free(c->block);
	c->block = NULL;
}

bool
pq_columns_done(struct pq_columns *c, const char **params, size_t first)
{
	bool ok = true;

	for (size_t i = 0; i < c->n; i++)
		ok &= (params[first + i] = pq_arr_done(&c->arr[i])) != NULL;
	return ok;
}

const char *
pq_sql_type(enum pa_kind kind)
{
	return kind == PA_STR ? "text" : (kind == PA_INT ? "bigint" : "boolean");
}

void
pq_append(char *buf, size_t n, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(buf + len, n - len, fmt, ap);
	va_end(ap);
	/* Statement text comes from constant tables: running out of room is
	 * a build mistake, and truncated SQL must never reach the server. */
	if (w < 0 || (size_t)w >= n - len) {
		fprintf(stderr, "procsvc: statement buffer too small for \"%.60s...\"\n", buf);
		abort();
	}
}

void
pq_fmt_id(char *buf, size_t n, int64_t v)
{
	snprintf(buf, n, "%" PRId64, v);
}

int
pq_command(struct db *db, const struct pq_stmt *stmt, int n,
    const char *const *params, struct err *e)
{
	PGresult *r = pq_exec(db, stmt, n, params, e);

	PQclear(r);
	return r ? 0 : -1;
}

int
pq_read_value(const PGresult *r, int row, int col, enum pa_kind kind,
    struct pval *p)
{
	if (PQgetisnull(r, row, col)) {
		p->state = PV_NULL;
		return 0;
	}
	p->state = PV_SET;
	if (kind == PA_STR)
		return (p->s = strdup(PQgetvalue(r, row, col))) ? 0 : -1;
	if (kind == PA_INT)
		p->i = pq_int(r, row, col);
	else
		p->b = pq_bool(r, row, col);
	return 0;
}

PGresult *
pq_exec_ids(struct db *db, const struct pq_stmt *stmt, const char *tenant,
    const int64_t *biz_id, const int64_t *ids, size_t n, struct err *e)
{
	struct pq_arr arr;
	char biz[24];
	const char *params[3] = { tenant, NULL, NULL };
	int np = 1;
	PGresult *r = NULL;

	pq_arr_init(&arr);
	if (biz_id != NULL) {
		pq_fmt_id(biz, sizeof(biz), *biz_id);
		params[np++] = biz;
	}
	if ((params[np++] = pq_int_array(&arr, ids, n)) == NULL)
		err_oom(e);
	else
		r = pq_exec(db, stmt, np, params, e);
	pq_arr_free(&arr);
	return r;
}
