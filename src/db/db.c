#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/counter.h"
#include "common/log.h"
#include "db/conn.h"
#include "db/pool.h"
#include "db/pq.h"
#include "db/replica.h"

struct db {
	struct db_pool *pool; /* pooled handles: where conn comes from */
	/* db_prefer_replica, until the handle chose the primary or fell back */
	struct db_replica *replica;
	bool on_replica;      /* conn was lent by the replica's pool */
	struct conn_cfg cfg;  /* standalone handles: how own connects */
	char *conninfo;       /* standalone handles: cfg's, owned */
	struct db_conn own;   /* standalone handles: the connection */
	struct db_conn *conn; /* the connection in use: &own, a borrowed one, or NULL */
	/* Inside BEGIN .. COMMIT/ROLLBACK: a lost connection must then fail
	 * the request, never be replaced (the transaction's work is gone). */
	bool in_tx;
	bool pinned; /* db_pin: never replace the connection */
	/* db_hold: the function run after each BEGIN of the held transaction
	 * (NULL: not held) and its argument. */
	db_hold_fn hold_start;
	void *hold_arg;
	bool starting; /* BEGIN and hold_start are running: plain rules */
	/* db_ready has just found conn usable: the statement that follows
	 * need not ask again (each ask is a poll(2)). */
	bool checked;
};

/* Held, and not in the middle of starting the held transaction. */
static bool
held(const struct db *db)
{
	return db->hold_start != NULL && !db->starting;
}

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
	db->cfg = (struct conn_cfg){ db->conninfo, "procsvc", false, false };
	db->own.cfg = &db->cfg;
	db->conn = &db->own;
	return db;
}

struct db *
db_new_pooled(struct db_pool *pool)
{
	struct db *db = calloc(1, sizeof(*db));

	if (db != NULL)
		db->pool = pool;
	return db;
}

/* The pool db's connection came from. */
static struct db_pool *
lender(const struct db *db)
{
	return db->on_replica ? db_replica_pool(db->replica) : db->pool;
}

void
db_release(struct db *db)
{
	if (db == NULL)
		return;
	db->hold_start = NULL;
	if (db->pool == NULL || db->conn == NULL)
		return;
	db_pool_put(lender(db), db->conn); /* rolls back what was left open */
	db->conn = NULL;
	db->on_replica = false;
	db->in_tx = false;
	db->checked = false;
}

void
db_prefer_replica(struct db *db, struct db_replica *r)
{
	if (db->pool != NULL && db->conn == NULL)
		db->replica = r;
}

void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	db_release(db);
	conn_close(&db->own);
	free(db->conninfo);
	free(db);
}

/*
 * Borrows a pooled handle's connection when it has none: from the
 * replica's pool when the handle prefers the replica and it is up and
 * current, else from the primary's.
 */
static int
attach(struct db *db, struct err *e)
{
	struct db_pool *from;

	if (db->conn != NULL)
		return 0;
	if (db->pool == NULL) {
		err_server(e, "database unavailable, retry later");
		return -1;
	}
	from = db->replica ? db_replica_choose(db->replica) : NULL;
	db->on_replica = from != NULL;
	if (from == NULL) {
		db->replica = NULL;
		from = db->pool;
	}
	db->conn = db_pool_get(from, e);
	if (db->conn == NULL)
		db->on_replica = false;
	return db->conn != NULL ? 0 : -1;
}

/*
 * The replica failed db's read (it cannot be reached, or a statement
 * failed there): its connection goes back, the replica is told, and the
 * handle continues on the primary for the rest of its request.
 */
static int
fall_back(struct db *db, struct err *e)
{
	char why[256];

	conn_error(db->conn, why, sizeof(why));
	db_replica_failed(db->replica, why);
	db_pool_put(db_replica_pool(db->replica), db->conn);
	db->conn = NULL;
	db->on_replica = false;
	db->replica = NULL;
	err_clear(e);
	return attach(db, e);
}

static int
reconnect(struct db *db, struct err *e)
{
	db->in_tx = false;
	if (db->pinned && db->conn->pg != NULL) {
		counter_inc(COUNTER_DB_STATEMENT_ERRORS);
		log_error("database connection lost inside a transaction");
		err_server(e, "database connection lost, retry later");
		return -1;
	}
	if (conn_open(db->conn, e) == 0)
		return 0;
	/* Reads only ever run on the replica: moving them is harmless. */
	if (db->on_replica && fall_back(db, e) == 0)
		return conn_usable(db->conn) ? 0 : conn_open(db->conn, e);
	return -1;
}

void
db_unprepared(struct db *db)
{
	db->cfg.unnamed = true;
}

int
db_setting(struct db *db, const char *name, char *out, size_t n, struct err *e)
{
	static const struct pq_stmt setting = {
		"db_setting",
		"SELECT current_setting($1)",
		true,
	};
	PGresult *r = pq_exec(db, &setting, 1, &name, e);

	if (r == NULL)
		return -1;
	snprintf(out, n, "%s", PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return 0;
}

void
db_pin(struct db *db)
{
	db->pinned = true;
}

static int hold_open(struct db *db, struct err *e);

int
db_ready(struct db *db, struct err *e)
{
	if (held(db))
		return db->in_tx ? 0 : hold_open(db, e);
	if (attach(db, e) != 0)
		return -1;
	if (!conn_usable(db->conn))
		return reconnect(db, e);
	switch (conn_tx_status(db->conn)) {
	case PQTRANS_IDLE:
		db->checked = true;
		return 0;
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		db_rollback(db);
		if (conn_tx_status(db->conn) == PQTRANS_IDLE)
			return 0;
		return reconnect(db, e);
	default:
		/* A query still active or an unknown state: start over. */
		return reconnect(db, e);
	}
}

/* BEGIN with sql ("BEGIN" or one with a transaction mode). */
static int
begin(struct db *db, const char *sql, struct err *e)
{
	struct err first = { 0 }; /* kept apart: a retry may still succeed */
	struct db_conn *c;
	PGresult *r;

	if (db_ready(db, e) != 0)
		return -1;
	r = conn_exec_plain(db->conn, sql, &first);
	/* The server may have gone between db_ready's check and BEGIN, which
	 * is harmless to repeat on a fresh connection. */
	if (r == NULL && (c = db_conn_for_retry(db, true, e)) != NULL)
		r = conn_exec_plain(c, sql, e);
	if (r == NULL) {
		err_copy(e, &first);
		return -1;
	}
	PQclear(r);
	db->in_tx = true;
	return 0;
}

/*
 * (Re)starts the held transaction: rolls back what is left of it, BEGIN,
 * then the hold's start function inside the new transaction.
 */
static int
hold_open(struct db *db, struct err *e)
{
	int rc;

	if (db->in_tx)
		db_rollback(db);
	db->starting = true;
	rc = begin(db, "BEGIN", e);
	if (rc == 0 && (rc = db->hold_start(db, db->hold_arg, e)) != 0)
		db_rollback(db);
	db->starting = false;
	return rc;
}

/* The held transaction as db_begin finds it: joined when open and well,
 * started over when absent or aborted by a failed statement. A lost
 * connection is never replaced inside it: its work would be gone. */
static int
hold_join(struct db *db, struct err *e)
{
	if (db->in_tx && db->conn != NULL) {
		switch (conn_tx_status(db->conn)) {
		case PQTRANS_INTRANS:
			return 0;
		case PQTRANS_INERROR:
			break;
		default:
			db_rollback(db);
			err_server(e, "database connection lost, retry later");
			return -1;
		}
	}
	return hold_open(db, e);
}

int
db_begin(struct db *db, struct err *e)
{
	if (held(db))
		return hold_join(db, e);
	return begin(db, "BEGIN", e);
}

int
db_begin_snapshot(struct db *db, struct err *e)
{
	if (held(db))
		return hold_join(db, e);
	return begin(db, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", e);
}

int
db_hold_begin(struct db *db, db_hold_fn start, void *arg, struct err *e)
{
	db->hold_start = start;
	db->hold_arg = arg;
	if (hold_open(db, e) == 0)
		return 0;
	db->hold_start = NULL;
	return -1;
}

int
db_hold_commit(struct db *db, struct err *e)
{
	if (db->hold_start == NULL) {
		err_server(e, "internal error: no held transaction to commit");
		return -1;
	}
	db->hold_start = NULL;
	return db_commit(db, e);
}

void
db_hold_end(struct db *db)
{
	if (db == NULL || db->hold_start == NULL)
		return;
	db->hold_start = NULL;
	if (db->in_tx)
		db_rollback(db);
}

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
	    conn_tx_status(db->conn) == PQTRANS_INTRANS;
	PGresult *r;

	if (held(db) && live)
		return 0;  /* db_hold_commit commits */
	db->in_tx = false; /* over either way: committed, or rolled back */
	if (!live) {
		db_rollback(db);
		err_server(e, "database connection lost, retry later");
		return -1;
	}
	r = conn_exec_plain(db->conn, "COMMIT", e);
	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

void
db_rollback(struct db *db)
{
	db->in_tx = false;
	if (db->conn == NULL || db->conn->pg == NULL ||
	    PQstatus(db->conn->pg) != CONNECTION_OK)
		return;
	PQclear(PQexec(db->conn->pg, "ROLLBACK"));
}

struct db_conn *
db_conn_for_statement(struct db *db, struct err *e)
{
	bool checked = db->checked;

	db->checked = false;
	if (held(db) && !db->in_tx && hold_open(db, e) != 0)
		return NULL;
	if (db->in_tx)
		return db->conn;
	if (attach(db, e) != 0)
		return NULL;
	if (!checked && !conn_usable(db->conn) && reconnect(db, e) != 0)
		return NULL;
	return db->conn;
}

struct db_conn *
db_current_conn(struct db *db)
{
	return db->conn;
}

struct db_conn *
db_conn_for_retry(struct db *db, bool harmless, struct err *e)
{
	char why[256];

	if (db->on_replica && db->conn != NULL) {
		/* Whatever failed on the replica (a lost session, a query
		 * cancelled by a recovery conflict) may work on the primary. */
		if (harmless && !db->in_tx) {
			if (fall_back(db, e) != 0)
				return NULL;
			return conn_usable(db->conn) || conn_open(db->conn, e) == 0 ? db->conn : NULL;
		}
		conn_error(db->conn, why, sizeof(why));
		log_error("read replica: a statement that cannot be retried failed: %s", why);
		return NULL;
	}
	if (!harmless || db->in_tx || db->pinned || db->conn == NULL ||
	    (db->conn->pg != NULL && PQstatus(db->conn->pg) != CONNECTION_BAD))
		return NULL;
	return conn_open(db->conn, e) == 0 ? db->conn : NULL;
}
