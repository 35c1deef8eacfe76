/* sql: see sql.h. */
#include "sql.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "match.h"

static PGconn *
db_get(struct sql_db *db, struct sbuf *d)
{
	PGconn *c = db->conn;

	if (c != NULL && PQstatus(c) == CONNECTION_OK)
		return c;
	PQfinish(c);
	db->conn = NULL;
	if (db->url == NULL) {
		diff_add(d, "TEST_DATABASE_URL is not set");
		return NULL;
	}
	c = PQconnectdb(db->url);
	if (PQstatus(c) != CONNECTION_OK) {
		diff_add(d, "database: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	db->conn = c;
	return c;
}

void
sql_close(struct sql_db *db)
{
	PQfinish(db->conn);
	db->conn = NULL;
}

static const char db_tables_sql[] =
    "SELECT tablename FROM pg_catalog.pg_tables "
    "WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY 1";

int
sql_reset(struct sql_db *db, struct sbuf *d)
{
	PGconn *c = db_get(db, d);
	PGresult *res = NULL, *tr = NULL;
	struct sbuf sql = {0};
	int i, rc = -1;

	if (c == NULL)
		goto out;
	res = PQexec(c, db_tables_sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		diff_add(d, "listing tables: %s", PQerrorMessage(c));
		goto out;
	}
	for (i = 0; i < PQntuples(res); i++) {
		char *id = PQescapeIdentifier(c, PQgetvalue(res, i, 0),
		    (size_t)PQgetlength(res, i, 0));

		sb_adds(&sql, i == 0 ? "TRUNCATE " : ", ");
		sb_adds(&sql, id ? id : "\"?\"");
		PQfreemem(id);
	}
	if (sql.len > 0) {
		sb_adds(&sql, " RESTART IDENTITY CASCADE");
		tr = PQexec(c, sql.p);
		if (PQresultStatus(tr) != PGRES_COMMAND_OK) {
			diff_add(d, "truncate: %s", PQerrorMessage(c));
			goto out;
		}
	}
	rc = 0;
out:
	PQclear(res);
	PQclear(tr);
	sb_free(&sql);
	return rc;
}

/* Text of a parameter/expected cell; NULL for JSON null. Caller frees. */
static char *
cell_text(const json_t *v)
{
	struct sbuf b = {0};

	if (json_is_null(v))
		return NULL;
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "t" : "f");
	sb_add_text(&b, v);
	return b.p ? b.p : xstrdup("");
}

static json_t *
rows_json(const PGresult *res)
{
	json_t *rows = json_array(), *row;
	int r, c;

	for (r = 0; r < PQntuples(res); r++) {
		row = json_array();
		for (c = 0; c < PQnfields(res); c++)
			json_array_append_new(row, PQgetisnull(res, r, c) ? json_null() :
			    json_string(PQgetvalue(res, r, c)));
		json_array_append_new(rows, row);
	}
	return rows;
}

/* Compares rows (strings, numbers/bools as their text, "$any") with the result. */
static bool
rows_match(const json_t *exp, const PGresult *res)
{
	const json_t *row;
	size_t r, c;

	if (!json_is_array(exp) || json_array_size(exp) != (size_t)PQntuples(res))
		return false;
	json_array_foreach(exp, r, row) {
		if (!json_is_array(row) || json_array_size(row) != (size_t)PQnfields(res))
			return false;
		for (c = 0; c < json_array_size(row); c++) {
			char *want;
			bool null, same;

			if (match_is_special(json_array_get(row, c), "$any"))
				continue;
			want = cell_text(json_array_get(row, c));
			null = PQgetisnull(res, (int)r, (int)c);
			same = want == NULL ? null :
			    !null && strcmp(want, PQgetvalue(res, (int)r, (int)c)) == 0;
			free(want);
			if (!same)
				return false;
		}
	}
	return true;
}

void
sql_run_step(struct sql_db *db, const json_t *x, struct sbuf *d)
{
	const json_t *sql = json_object_get(x, "sql");
	const json_t *params = json_object_get(x, "sql_params");
	const json_t *exp = json_object_get(x, "sql_expect");
	const json_t *wait = json_object_get(x, "sql_wait_ms");
	PGconn *c = db_get(db, d);
	PGresult *res = NULL;
	char **vals = NULL;
	long waited = 0;
	size_t n = json_array_size(params), k;
	ExecStatusType st;
	json_t *got = NULL;
	struct sbuf m = {0};

	if (c == NULL)
		return;
	if (!json_is_string(sql) || (params != NULL && !json_is_array(params))) {
		diff_add(d, "sql must be a string and sql_params an array");
		return;
	}
	vals = xrealloc(NULL, (n ? n : 1) * sizeof *vals);
	for (k = 0; k < n; k++)
		vals[k] = cell_text(json_array_get(params, k));
	if (wait != NULL && (!json_is_integer(wait) || json_integer_value(wait) < 0 ||
	    exp == NULL)) {
		diff_add(d, "sql_wait_ms must be an integer >= 0, with sql_expect");
		goto out;
	}
	for (;;) {
		/* sql_wait_ms: asked again every 50 ms until the rows match. */
		struct timespec tick = { 0, 50 * 1000000L };

		res = PQexecParams(c, json_string_value(sql), (int)n, NULL,
		    (const char *const *)vals, NULL, NULL, 0);
		st = PQresultStatus(res);
		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
			diff_add(d, "sql failed: %s", PQerrorMessage(c));
			goto out;
		}
		if (wait == NULL || waited >= json_integer_value(wait) || rows_match(exp, res))
			break;
		PQclear(res);
		nanosleep(&tick, NULL);
		waited += 50;
	}
	if (exp != NULL)
		match_count(1);
	if (exp != NULL && !rows_match(exp, res)) {
		got = rows_json(res);
		sb_adds(&m, "sql_expect: expected ");
		sb_add_json(&m, exp);
		sb_adds(&m, ", got ");
		sb_add_json(&m, got);
		if (wait != NULL)
			sb_printf(&m, " (after %ld ms)", waited);
		diff_add(d, "%s", m.p);
	}
out:
	for (k = 0; k < n; k++)
		free(vals[k]);
	free(vals);
	PQclear(res);
	json_decref(got);
	sb_free(&m);
}
