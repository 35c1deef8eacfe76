#include "db/db.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "db/pq.h"

#define MAX_PREPARED 64

struct db {
	char *conninfo;
	PGconn *conn;
	/* Statements prepared on conn; reset whenever conn is replaced. */
	const struct pq_stmt *prepared[MAX_PREPARED];
	size_t nprepared;
	/* Inside BEGIN .. COMMIT/ROLLBACK: a lost connection must then fail
	 * the request, never be replaced (the transaction's work is gone). */
	bool in_tx;
	bool pinned; /* db_pin: never replace the connection */
};

struct db *
db_new(const char *conninfo)
{
	struct db *db = calloc(1, sizeof(*db));

	if (db == NULL)
		return NULL;
	db->conninfo = strdup(conninfo);
	if (db->conninfo == NULL) {
		free(db);
		return NULL;
	}
	return db;
}

static void
db_disconnect(struct db *db)
{
	PQfinish(db->conn);
	db->conn = NULL;
	db->nprepared = 0;
	db->in_tx = false;
}

void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	db_disconnect(db);
	free(db->conninfo);
	free(db);
}

static void
ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int
db_connect(struct db *db, struct err *e)
{
	/*
	 * Our defaults come first and the caller's conninfo last, so anything
	 * DATABASE_URL sets wins. search_path is pinned so that no other schema
	 * can capture unqualified names; statement_timeout bounds a stuck query.
	 */
	const char *keys[] = { "connect_timeout", "application_name", "options",
		"dbname", NULL };
	const char *vals[] = { "5", "procsvc",
		"-c search_path=public -c statement_timeout=10000", db->conninfo, NULL };

	db_disconnect(db);
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		log_error("database connection failed: %s",
		    db->conn ? PQerrorMessage(db->conn) : "out of memory");
		db_disconnect(db);
		err_server(e, "database unavailable, retry later");
		return -1;
	}
	/* Server notices (e.g. "already exists, skipping") are not our log. */
	PQsetNoticeProcessor(db->conn, ignore_notice, NULL);
	return 0;
}

/*
 * An idle connection has nothing to read. Anything there is the server
 * telling us it is going away (restart, admin shutdown, idle timeout: a
 * FATAL message, then EOF), or at best a stray notice. Either way the
 * connection is not trusted with the next statement and is replaced.
 * Costs one poll(2) per statement outside a transaction.
 */
static bool
idle_conn_alive(PGconn *conn)
{
	struct pollfd p = { .fd = PQsocket(conn), .events = POLLIN };

	return p.fd >= 0 && poll(&p, 1, 0) == 0;
}

void
db_pin(struct db *db)
{
	db->pinned = true;
}

/* The connection is unusable and db_pin forbids replacing it. */
static int
pinned_lost(struct err *e)
{
	err_server(e, "database connection lost, retry later");
	return -1;
}

int
db_ready(struct db *db, struct err *e)
{
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK ||
	    !idle_conn_alive(db->conn))
		return db->pinned && db->conn != NULL ? pinned_lost(e) : db_connect(db, e);
	switch (PQtransactionStatus(db->conn)) {
	case PQTRANS_IDLE:
		return 0;
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		db_rollback(db);
		if (PQtransactionStatus(db->conn) == PQTRANS_IDLE)
			return 0;
		return db_connect(db, e);
	default:
		/* A query still active or an unknown state: start over. */
		return db_connect(db, e);
	}
}

static int
db_simple(struct db *db, const char *sql, struct err *e)
{
	PGresult *r = pq_exec_plain(db, sql, e);

	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

int
db_begin(struct db *db, struct err *e)
{
	if (db_ready(db, e) != 0 || db_simple(db, "BEGIN", e) != 0)
		return -1;
	db->in_tx = true;
	return 0;
}

static void map_error(const PGresult *r, PGconn *conn, struct err *e);

/*
 * COMMIT runs on the transaction's own connection or not at all: on a
 * fresh one it would answer "no transaction in progress" with success
 * while the work is gone. An aborted transaction (PQTRANS_INERROR) would
 * "commit" as a ROLLBACK, also with success; both are failures here.
 */
int
db_commit(struct db *db, struct err *e)
{
	bool live = db->in_tx && db->conn != NULL &&
	    PQtransactionStatus(db->conn) == PQTRANS_INTRANS;
	PGresult *r;

	db->in_tx = false; /* over either way: committed, or rolled back */
	if (!live) {
		db_rollback(db);
		err_server(e, "database connection lost, retry later");
		return -1;
	}
	r = PQexec(db->conn, "COMMIT");
	if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
		map_error(r, db->conn, e);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

void
db_rollback(struct db *db)
{
	PGresult *r;

	db->in_tx = false;
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return;
	r = PQexec(db->conn, "ROLLBACK");
	PQclear(r);
}

PGconn *
pq_conn(struct db *db)
{
	return db->conn;
}

/* The constraint name travels in e->constraint so the caller can name the
 * rule (pq_constraint). */
static void
map_error(const PGresult *r, PGconn *conn, struct err *e)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *cons = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;

	if (state != NULL && (strcmp(state, "23505") == 0 ||
	    strcmp(state, "23503") == 0 || strcmp(state, "23514") == 0)) {
		if (err_isset(e))
			return;
		err_set(e, strcmp(state, "23505") == 0 ? ERR_DUPLICATE : ERR_BAD_VALUE,
		    NULL, "conflicts with existing data (%s)", cons ? cons : "a constraint");
		snprintf(e->constraint, sizeof(e->constraint), "%s", cons ? cons : "");
		return;
	}
	log_error("database error %s: %s", state ? state : "(none)",
	    r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
	err_server(e, "database error, retry later");
}

static bool
result_ok(const PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

/*
 * A connection that went stale while idle (the server restarted, a proxy
 * dropped it) is only noticed when used. A statement that cannot have
 * changed anything, run outside a transaction, is then retried once on a
 * fresh connection, so the request does not fail for a fault that is
 * already gone. Writes are never retried: they may have been applied.
 */
static bool
retryable(struct db *db, bool read_only)
{
	return read_only && !db->in_tx && !db->pinned &&
	    PQstatus(db->conn) == CONNECTION_BAD;
}

/*
 * Outside a transaction every statement may start on a fresh connection:
 * replace one that is missing, broken or was closed by the server while
 * idle. Inside one, a broken connection is left for the statement to fail.
 */
static int
ensure_conn(struct db *db, struct err *e)
{
	if (db->in_tx)
		return 0;
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK &&
	    idle_conn_alive(db->conn))
		return 0;
	return db->pinned && db->conn != NULL ? pinned_lost(e) : db_connect(db, e);
}

PGresult *
pq_exec_plain(struct db *db, const char *sql, struct err *e)
{
	PGresult *r;

	if (ensure_conn(db, e) != 0)
		return NULL;
	r = PQexec(db->conn, sql);
	if (r != NULL && result_ok(r))
		return r;
	/* Of the plain statements only BEGIN is known to be harmless. */
	if (retryable(db, strcmp(sql, "BEGIN") == 0)) {
		PQclear(r);
		if (db_connect(db, e) != 0)
			return NULL;
		r = PQexec(db->conn, sql);
		if (r != NULL && result_ok(r))
			return r;
	}
	map_error(r, db->conn, e);
	PQclear(r);
	return NULL;
}

static int
prepare(struct db *db, const struct pq_stmt *stmt, struct err *e)
{
	PGresult *r;

	for (size_t i = 0; i < db->nprepared; i++)
		if (db->prepared[i] == stmt)
			return 1;
	if (db->nprepared == MAX_PREPARED)
		return 0;
	r = PQprepare(db->conn, stmt->name, stmt->sql, 0, NULL);
	if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
		map_error(r, db->conn, e);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	db->prepared[db->nprepared++] = stmt;
	return 1;
}

static PGresult *
exec_stmt(struct db *db, const struct pq_stmt *stmt, int n,
    const char *const *params, struct err *e)
{
	switch (prepare(db, stmt, e)) {
	case 1:
		return PQexecPrepared(db->conn, stmt->name, n, params, NULL, NULL, 0);
	case 0:
		/* More statements than MAX_PREPARED: still parameterised. */
		return PQexecParams(db->conn, stmt->sql, n, NULL, params, NULL, NULL, 0);
	default:
		return NULL;
	}
}

PGresult *
pq_exec(struct db *db, const struct pq_stmt *stmt, int n,
    const char *const *params, struct err *e)
{
	struct err pe = { 0 }; /* a failed prepare's error, kept apart from e */
	PGresult *r;

	if (ensure_conn(db, e) != 0)
		return NULL;
	r = exec_stmt(db, stmt, n, params, &pe);
	if (r != NULL && result_ok(r))
		return r;
	if (retryable(db, stmt->read_only)) {
		PQclear(r);
		memset(&pe, 0, sizeof(pe));
		if (db_connect(db, e) != 0)
			return NULL;
		r = exec_stmt(db, stmt, n, params, &pe);
		if (r != NULL && result_ok(r))
			return r;
	}
	if (err_isset(&pe)) { /* the prepare failed and said why */
		PQclear(r);
		err_copy(e, &pe);
		return NULL;
	}
	map_error(r, db->conn, e);
	PQclear(r);
	return NULL;
}

const char *
pq_constraint(const struct err *e)
{
	return e->constraint;
}
