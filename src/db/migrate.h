/*
 * migrate: versioned schema migrations, compatible with golang-migrate's
 * layout and bookkeeping: files NNNN_name.up.sql / NNNN_name.down.sql, and a
 * table schema_migrations(version bigint primary key, dirty boolean not
 * null) holding at most one row, the current version.
 *
 * Each step runs in its own transaction. Before it, the target version is
 * recorded as dirty in a transaction of its own, so a step that fails leaves
 * dirty=true behind (as golang-migrate does) and later runs refuse to guess.
 * The whole run holds a session advisory lock so two migrators never race.
 */
#ifndef PROCSVC_DB_MIGRATE_H
#define PROCSVC_DB_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "db/db.h"

struct migration {
	int64_t version;
	char *name; /* "0001_init" */
	char *up_path;
	char *down_path; /* NULL when the file is missing (down then fails) */
};

struct migration_set {
	struct migration *items; /* ascending version */
	size_t n;
};

/*
 * Reads the migration file names in dir (contents are read when applied).
 * 0, or -1 with e set (unreadable dir, malformed or duplicate versions).
 * Free with migration_set_free.
 */
int migrate_load(const char *dir, struct migration_set *set, struct err *e)
    MUST_CHECK;
void migration_set_free(struct migration_set *set);

/* The highest version in set, 0 when empty. */
int64_t migrate_latest(const struct migration_set *set);

/*
 * Applies up to steps pending migrations (steps < 0: all). Logs each step.
 * Errors of migrate_up and migrate_down are one line for the operator:
 * e->http_status 503 when the connection was lost (retrying may work),
 * 200 otherwise (a failed step names its file and PostgreSQL's message, and
 * says the database is left dirty).
 */
int migrate_up(struct db *db, const struct migration_set *set, long steps,
    struct err *e) MUST_CHECK;

/*
 * Rolls back up to steps applied migrations (steps < 0: all). Unless
 * allow_all, a run that would revert every applied migration (drop every
 * table) does nothing and fails with e->code ERR_TOO_MANY: the caller asks
 * for an explicit count or confirmation.
 */
int migrate_down(struct db *db, const struct migration_set *set, long steps,
    bool allow_all, struct err *e) MUST_CHECK;

/* The database's current version (0: none) and dirty flag. */
int migrate_current(struct db *db, int64_t *version, bool *dirty,
    struct err *e) MUST_CHECK;

#endif
