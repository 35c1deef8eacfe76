/*
 * conn: one libpq connection and the statements prepared on it. The unit
 * the pool hands out and a standalone handle owns. No policy here (when to
 * reconnect, when a statement may be retried): that is db.c's and pq.c's.
 * Internal to src/db/ (it exposes libpq types). A conn is used by one
 * thread at a time.
 */
#ifndef PROCSVC_DB_CONN_H
#define PROCSVC_DB_CONN_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/*
 * A statement prepared on each connection at first use. Define them as
 * static const objects beside the db_ function that runs them; name must be
 * unique across the program.
 */
struct pq_stmt {
	const char *name;
	const char *sql;
	/* Has no effect but its result, so it may be retried once on a fresh
	 * connection when the old one turns out dead (outside transactions). */
	bool read_only;
};

/* Statements one connection keeps prepared; more run unprepared (still
 * parameterised). Above the number of statements procsvc has (the lists
 * alone have 16 shapes). */
#define CONN_MAX_PREPARED 128

/*
 * How connections are opened: one per pool (and per standalone handle),
 * shared by its connections and read-only while they exist.
 */
struct conn_cfg {
	const char *conninfo; /* libpq URI or key=value; wins over our defaults */
	const char *app_name; /* application_name, unless conninfo sets one */
	/* Failures are not logged here: the owner logs what it decides (the
	 * read replica logs once per state change, not once per request). */
	bool quiet;
	/*
	 * PROCSVC_PREPARE=off, for a pooler that hands a server session to a
	 * client for one transaction only (PgBouncer in transaction mode):
	 * every statement unnamed (PQexecParams: parsed and planned each
	 * time, nothing left in the session), and no startup options (which
	 * PgBouncer 1.18 refuses): search_path and statement_timeout must come
	 * from the role or the pooler.
	 */
	bool unnamed;
};

struct db_conn {
	const struct conn_cfg *cfg; /* set by the owner before conn_open */
	PGconn *pg;                 /* NULL until opened, and after conn_close */
	char failed[256];           /* why the last conn_open failed (conn_error) */
	/* Statements prepared on pg; forgotten whenever pg is replaced. */
	const struct pq_stmt *prepared[CONN_MAX_PREPARED];
	size_t nprepared;
};

/*
 * Opens a connection as c->cfg says (closing c's old one first), with
 * search_path pinned to public, a 10 s statement_timeout (both unless
 * cfg->unnamed) and a 5 s connect timeout (the conninfo may override them).
 * 0, or -1 with e 503/1199999 (details in the log unless cfg->quiet;
 * conn_error then has them).
 */
int conn_open(struct db_conn *c, struct err *e) MUST_CHECK;

/* The first line of libpq's message for c's last failure (connect or
 * statement) into buf (size n), or "no connection". */
void conn_error(const struct db_conn *c, char *buf, size_t n);

/* Closes c's connection; c can be opened again. NULL-safe on c->pg. */
void conn_close(struct db_conn *c);

/*
 * true when c has a connection that is up and idle: nothing waiting on its
 * socket (anything there while idle is the server saying it is going away:
 * a restart, an admin's pg_terminate_backend, an idle timeout). Costs one
 * poll(2).
 */
bool conn_usable(const struct db_conn *c);

/* The server-side transaction state of c (PQTRANS_UNKNOWN without one). */
PGTransactionStatusType conn_tx_status(const struct db_conn *c);

/*
 * Makes c safe for its next user (the kore habit): an open or failed
 * transaction is rolled back; a connection that is broken or still not
 * idle afterwards is closed (the next user reconnects).
 */
void conn_clean(struct db_conn *c);

/*
 * Runs stmt with n text parameters (NULL = SQL NULL), prepared on first use
 * (unnamed each time with cfg->unnamed).
 * Returns the result (caller PQclears) when its status is TUPLES_OK or
 * COMMAND_OK; else NULL with e set by conn_map_error.
 */
PGresult *conn_exec(struct db_conn *c, const struct pq_stmt *stmt, int n,
    const char *const *params, struct err *e) MUST_CHECK;

/* Runs SQL text with no parameters (migrations, BEGIN, COMMIT). As conn_exec. */
PGresult *conn_exec_plain(struct db_conn *c, const char *sql, struct err *e)
    MUST_CHECK;

/*
 * The contract error for a failed result r (NULL: the connection failed):
 *   - unique / foreign-key / check violation: ERR_DUPLICATE (23505) or
 *     ERR_BAD_VALUE (23503, 23514), HTTP 200, path = the constraint name;
 *   - anything else: 503 / 1199999, details in the log only.
 */
void conn_map_error(const PGresult *r, const struct db_conn *c, struct err *e);

#endif
