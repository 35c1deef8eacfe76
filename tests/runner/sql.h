/*
 * sql: the test database, seen directly (not through procsvc): emptying it
 * before each case file and a step's sql / sql_params / sql_expect.
 *
 * The only module of the runner that includes libpq-fe.h. One struct sql_db
 * per thread.
 */
#ifndef RUNNER_SQL_H
#define RUNNER_SQL_H

#include <jansson.h>

#include "buf.h"

struct sql_db {
	const char *url;        /* libpq conninfo; NULL: no database; borrowed */
	void *conn;             /* PGconn, opened on first use; owned */
};

/*
 * Empties every table of schema public but schema_migrations, in one
 * TRUNCATE ... RESTART IDENTITY. 0, or -1 with a message in d.
 */
int sql_reset(struct sql_db *db, struct sbuf *d);

/*
 * Runs the sql of an expanded step x with sql_params as $1..$n (numbers as
 * text, null as NULL, booleans as t/f) and compares the rows with
 * sql_expect, when given (one check). Failures go to d.
 */
void sql_run_step(struct sql_db *db, const json_t *x, struct sbuf *d);

/* Closes the connection; db can be used again (it reconnects). */
void sql_close(struct sql_db *db);

#endif
