/*
 * db: one PostgreSQL connection and its transactions, as the service layer
 * sees them. The connection is opened lazily on first use, re-opened when it
 * broke, and rolled back when a caller left a transaction open, so every
 * request starts clean (the kore habit). A struct db belongs to one thread
 * at a time: CivetWeb gives each worker its own.
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

/* A handle for conninfo (libpq URI or key=value). Does not connect. NULL on
 * out of memory. conninfo is copied. */
struct db *db_new(const char *conninfo);

/* Closes the connection and frees db. NULL-safe. */
void db_free(struct db *db);

/*
 * Makes sure db has a healthy, idle connection: connects when there is none
 * or it broke, rolls back an abandoned transaction. 0, or -1 with e set to
 * 503/1199999 (the database cannot be reached).
 */
int db_ready(struct db *db, struct err *e) MUST_CHECK;

/* BEGIN / COMMIT. 0, or -1 with e set. After a failed COMMIT the
 * transaction is over (rolled back by the server). */
int db_begin(struct db *db, struct err *e) MUST_CHECK;
int db_commit(struct db *db, struct err *e) MUST_CHECK;

/* ROLLBACK; never touches an error already reported. */
void db_rollback(struct db *db);

/*
 * From now on db's connection is never replaced: once lost, statements and
 * db_ready fail with 503. For holders of session state that a new
 * connection would silently drop (the migrator's advisory lock).
 */
void db_pin(struct db *db);

#endif
