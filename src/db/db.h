/*
 * db: a database handle and its transactions, as the service layer sees
 * them. A handle is either standalone (it owns one connection: the
 * migrator, tests) or pooled (it borrows one of the pool's connections at
 * its first statement and gives it back on db_release, so a request holds a
 * connection only while it runs SQL). Either way the connection is opened
 * lazily, re-opened when it broke while idle, and made clean before it is
 * reused (the kore habit). A handle belongs to one thread at a time.
 *
 * Only src/db/ includes libpq; nothing here exposes PGconn or PGresult.
 */
#ifndef PROCSVC_DB_H
#define PROCSVC_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct db;
struct db_pool;
struct db_conn;
struct db_replica;

/* A standalone handle for conninfo (libpq URI or key=value; copied). Does
 * not connect. NULL on out of memory. */
struct db *db_new(const char *conninfo);

/* A standalone handle's connections from now on: no named prepared
 * statements, no startup options (PROCSVC_PREPARE=off, db/conn.h). Call
 * before its first statement. */
void db_unprepared(struct db *db);

/*
 * current_setting(name) of db's session into out (size n): 0, or -1 with e
 * set. (Through a transaction pooler: of the session the statement ran on.)
 */
int db_setting(struct db *db, const char *name, char *out, size_t n,
    struct err *e) MUST_CHECK;

/* A handle that borrows its connection from pool (borrowed; must outlive
 * the handle). Does not take one yet. NULL on out of memory. */
struct db *db_new_pooled(struct db_pool *pool);

/*
 * From now until its connection is released, a pooled handle's statements
 * run on the read replica r (db/replica.h) when it is up and current, and
 * on the primary otherwise; a statement that fails on the replica is run
 * again on the primary when it is harmless (read only, outside a
 * transaction), and the handle stays there. Only for work that writes
 * nothing and may see data up to the replica's lag limit old. Call before
 * the first statement (later calls are ignored); r must outlive the handle.
 */
void db_prefer_replica(struct db *db, struct db_replica *r);

/* Releases, closes what db owns and frees db. NULL-safe. */
void db_free(struct db *db);

/*
 * Gives a pooled handle's connection back to the pool (rolled back first if
 * a transaction was left open); the next statement borrows again. A
 * standalone handle keeps its connection. NULL-safe.
 */
void db_release(struct db *db);

/*
 * Makes sure db has a healthy, idle connection: borrows one (waiting up to
 * PROCSVC_DB_WAIT_MS), connects when there is none or it broke, rolls back
 * an abandoned transaction. 0, or -1 with e set to 503/1199999 (the
 * database cannot be reached, or the pool stayed busy).
 */
int db_ready(struct db *db, struct err *e) MUST_CHECK;

/* BEGIN / COMMIT. 0, or -1 with e set. After a failed COMMIT the
 * transaction is over (rolled back by the server). */
int db_begin(struct db *db, struct err *e) MUST_CHECK;
int db_commit(struct db *db, struct err *e) MUST_CHECK;

/* BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY: every statement until
 * COMMIT sees one snapshot (a list read in several statements). As
 * db_begin. */
int db_begin_snapshot(struct db *db, struct err *e) MUST_CHECK;

/* ROLLBACK; never touches an error already reported. */
void db_rollback(struct db *db);

/*
 * A held transaction: one transaction around all of a request's work,
 * committed only by db_hold_commit, so that something else can be written
 * atomically with that work (the answer of an idempotency key, service/
 * idem). While a handle is held:
 *   - start (with arg) runs right after every BEGIN of the held
 *     transaction, inside it; when it fails, the transaction is rolled
 *     back and whatever started it fails with start's error;
 *   - statements outside db_begin .. db_commit are not autocommitted:
 *     they join the held transaction, which a statement starts (BEGIN,
 *     start) when there is none;
 *   - db_begin joins the held transaction when it is open and well;
 *     when there is none, or a failed statement aborted it, it starts it
 *     over. Code that wrote outside db_begin must therefore not call
 *     db_begin after a failed statement (none does: the one-statement
 *     creates fall back to db_begin only when they wrote nothing);
 *   - db_commit commits nothing (0 while the transaction is well);
 *     db_rollback rolls the held transaction back for real, and the next
 *     statement or db_begin starts it over;
 *   - db_ready makes sure there is a held transaction; it never rolls one
 *     back.
 * db_hold_begin starts it (BEGIN, start). 0, or -1 with e set; the handle
 * is then no longer held. start's own statements run as plain statements
 * of the open transaction.
 */
typedef int (*db_hold_fn)(struct db *db, void *arg, struct err *e);
int db_hold_begin(struct db *db, db_hold_fn start, void *arg, struct err *e)
    MUST_CHECK;

/* Ends the hold with COMMIT: 0, or -1 with e set (the transaction is over
 * either way; a COMMIT whose answer was lost may still have committed). */
int db_hold_commit(struct db *db, struct err *e) MUST_CHECK;

/* Ends the hold, rolling back what it left open. NULL-safe; a handle that
 * is not held is left alone. db_release ends a hold too. */
void db_hold_end(struct db *db);

/*
 * From now on db's connection is never replaced: once lost, statements and
 * db_ready fail with 503. For holders of session state that a new
 * connection would silently drop (the migrator's advisory lock).
 * Standalone handles only.
 */
void db_pin(struct db *db);

/*
 * For src/db/pq.c, which runs statements on db's behalf: the connection
 * for the next statement. Outside a transaction it is borrowed, opened or
 * replaced as needed; inside one it is the transaction's, whatever its
 * state (a lost one must fail the statement, never be replaced). NULL
 * with e set when none can be had.
 */
struct db_conn *db_conn_for_statement(struct db *db, struct err *e)
    MUST_CHECK;

/* For src/db: the connection db holds now (NULL when none), untouched. */
struct db_conn *db_current_conn(struct db *db);

/*
 * For src/db/pq.c, after a statement failed on the connection it got: a
 * fresh connection to run it once more, when that is safe: the statement
 * is harmless (read only, or BEGIN), the handle is outside a transaction
 * and not pinned, and the old connection is broken (a session the server
 * closed while idle is only noticed when used). NULL otherwise; e is set
 * only when reconnecting itself failed.
 */
struct db_conn *db_conn_for_retry(struct db *db, bool harmless,
    struct err *e) MUST_CHECK;

#endif
