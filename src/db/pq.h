/*
 * pq: what the table modules of src/db/ share: statements run on a handle's
 * connection (with the reconnect and retry rules of db.h), contract error
 * mapping, and text-array parameters for batch statements. Internal to
 * src/db/ (it exposes libpq types).
 */
#ifndef PROCSVC_DB_PQ_H
#define PROCSVC_DB_PQ_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/proc_attr.h"
#include "db/conn.h"
#include "db/db.h"

/*
 * Executes stmt with n text parameters (NULL entries are SQL NULL). Returns
 * the result (caller frees with PQclear) when its status is
 * PGRES_TUPLES_OK or PGRES_COMMAND_OK; else NULL with e set:
 *   - unique / foreign-key / check violation: code ERR_DUPLICATE (23505) or
 *     ERR_BAD_VALUE (23503, 23514), HTTP 200, no path, e->constraint = the
 *     constraint's name, so the caller can replace it with a contract
 *     message (pq_constraint);
 *   - anything else: 503 / 1199999, details in the log only.
 */
PGresult *pq_exec(struct db *db, const struct pq_stmt *stmt, int n,
    const char *const *params, struct err *e) MUST_CHECK;

/*
 * pq_exec for a statement whose best plan depends on its values: a filter
 * on a skewed column (one module may hold most of a business's instances,
 * another a handful). Sessions plan with force_generic_plan (db/conn.c),
 * which estimates such a filter from the column's average and may scan
 * the whole business; this plans the statement with its values for this
 * call (two extra round trips: SET and RESET of plan_cache_mode).
 */
PGresult *pq_exec_custom_plan(struct db *db, const struct pq_stmt *stmt, int n,
    const char *const *params, struct err *e) MUST_CHECK;

/*
 * A function pq_exec calls with every statement and its parameters before
 * running it: tests EXPLAIN exactly what the server runs (tests/db). Set
 * it before any thread runs statements; NULL (the default) for none.
 */
typedef void (*pq_trace_fn)(void *arg, const struct pq_stmt *stmt, int n,
    const char *const *params);
void pq_set_trace(pq_trace_fn fn, void *arg);

/* The constraint a failed pq_exec tripped (e->constraint), or "". */
const char *pq_constraint(const struct err *e);

/* The libpq connection db holds now, or NULL: for src/db code that talks
 * to libpq itself (the migrator's operator-facing errors). No reconnect. */
PGconn *pq_conn(struct db *db);

/* Runs SQL text with no parameters (migrations, BEGIN). Same mapping. */
PGresult *pq_exec_plain(struct db *db, const char *sql, struct err *e)
    MUST_CHECK;

/*
 * A growing text buffer for array literals ({"a","b",NULL}) that batch
 * statements unnest. Sticky failure: appends after an allocation failure do
 * nothing, and pq_arr_done reports it once (the pgbouncer PktBuf habit).
 */
struct pq_arr {
	char *buf;
	size_t len, cap;
	size_t count;
	bool failed;
	bool borrowed; /* buf is a slice of its pq_columns' block */
};

void pq_arr_init(struct pq_arr *a);
void pq_arr_str(struct pq_arr *a, const char *s); /* NULL -> NULL element */
void pq_arr_int(struct pq_arr *a, int64_t v);
void pq_arr_null(struct pq_arr *a);
void pq_arr_bool(struct pq_arr *a, bool v);
/* Closes the literal: returns its text (owned by a) or NULL when out of memory. */
const char *pq_arr_done(struct pq_arr *a);
void pq_arr_free(struct pq_arr *a);

/* Fills a (initialised) with the literal of n bigints; as pq_arr_done. */
const char *pq_int_array(struct pq_arr *a, const int64_t *v, size_t n);

/*
 * One array parameter per column of a batch statement, closed and freed
 * together. PQ_MAX_COLUMNS bounds the widest row (db/procrow checks it).
 */
#define PQ_MAX_COLUMNS 48
struct pq_columns {
	struct pq_arr arr[PQ_MAX_COLUMNS];
	size_t n;
	/* The arrays' first bytes, one allocation for all (NULL when it
	 * failed: each array then allocates its own). */
	char *block;
};
void pq_columns_init(struct pq_columns *c, size_t n);
void pq_columns_free(struct pq_columns *c);
/* Closes every array into params[first..]; false when out of memory. */
bool pq_columns_done(struct pq_columns *c, const char **params, size_t first)
    MUST_CHECK;

/* The SQL type of an attribute kind in array parameters ("text", ...). */
const char *pq_sql_type(enum pa_kind kind);

/* Appends formatted text to the NUL-terminated buf (size n), truncating.
 * For building statement text from the constant attribute tables only. */
void pq_append(char *buf, size_t n, const char *fmt, ...) ERR_PRINTF(3, 4);

/*
 * A timestamptz column as RFC 3339 with milliseconds, in UTC ("...Z"). The
 * colons are quoted literals so that no ":name" appears in the statement
 * text: pgbench would take it for a variable when make bench replays it.
 */
#define PQ_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24\":\"MI\":\"SS.MS\"Z\"')"

/* Decimal text of v into buf (24 bytes are always enough). */
void pq_fmt_id(char *buf, size_t n, int64_t v);

/* Runs stmt and discards its result: 0, or -1 with e set by pq_exec. */
int pq_command(struct db *db, const struct pq_stmt *stmt, int n,
    const char *const *params, struct err *e) MUST_CHECK;

/*
 * Runs stmt with the parameters (tenant, [business,] the array of ids),
 * biz_id NULL for none: the shape of the statements that address rows by
 * id. As pq_exec.
 */
PGresult *pq_exec_ids(struct db *db, const struct pq_stmt *stmt,
    const char *tenant, const int64_t *biz_id, const int64_t *ids, size_t n,
    struct err *e) MUST_CHECK;

/* Reads column col of row into p as a value of kind: NULL is PV_NULL,
 * anything else PV_SET. -1 when out of memory. */
int pq_read_value(const PGresult *r, int row, int col, enum pa_kind kind,
    struct pval *p) MUST_CHECK;

/* Parses a bigint / boolean column value ("t"/"f"). */
int64_t pq_int(const PGresult *r, int row, int col);
bool pq_bool(const PGresult *r, int row, int col);

#endif
