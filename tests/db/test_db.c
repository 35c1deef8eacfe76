/*
 * Tests of src/db/ against a real PostgreSQL (TEST_DATABASE_URL): what the
 * connection layer does when the server drops a session, inside and
 * outside a transaction. These are the paths where a wrong reconnect would
 * report work as committed that is gone, so they are checked directly
 * rather than through HTTP. Everything happens in schema dbtest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/db.h"
#include "db/pq.h"

static const char *url;
static PGconn *admin;

static const struct pq_stmt insert_stmt = {
	"dbtest_insert", "INSERT INTO dbtest.t VALUES (1)", false,
};
static const struct pq_stmt count_stmt = {
	"dbtest_count", "SELECT count(*) FROM dbtest.t", true,
};

static void
admin_exec(const char *sql)
{
	PGresult *r = PQexec(admin, sql);

	assert_true(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
	PQclear(r);
}

static long
rows(void)
{
	PGresult *r = PQexec(admin, "SELECT count(*) FROM dbtest.t");
	long n = strtol(PQgetvalue(r, 0, 0), NULL, 10);

	PQclear(r);
	return n;
}

/* Ends db's server session the way a restart or an admin would. */
static void
kill_session(struct db *db)
{
	char q[96];

	snprintf(q, sizeof(q), "SELECT pg_terminate_backend(%d)", PQbackendPID(pq_conn(db)));
	admin_exec(q);
	usleep(200 * 1000); /* let the FATAL message reach the socket */
}

static int
setup(void **state)
{
	(void)state;
	admin_exec("DROP SCHEMA IF EXISTS dbtest CASCADE");
	admin_exec("CREATE SCHEMA dbtest");
	admin_exec("CREATE TABLE dbtest.t (x int)");
	return 0;
}

/* The work of a transaction whose session died is never reported as
 * committed: COMMIT must not run on a replacement connection. */
static void
test_commit_after_lost_session_fails(void **state)
{
	struct err e = { 0 };
	struct db *db = db_new(url);
	PGresult *r;

	(void)state;
	assert_int_equal(db_begin(db, &e), 0);
	r = pq_exec(db, &insert_stmt, 0, NULL, &e);
	assert_non_null(r);
	PQclear(r);
	kill_session(db);
	assert_int_equal(db_commit(db, &e), -1);
	assert_int_equal(e.code, ERR_SERVER);
	assert_int_equal(e.http_status, 503);
	assert_int_equal(rows(), 0);
	db_free(db);
}

/* Inside a transaction a lost session fails the statement; it is not
 * replaced (the earlier statements' work would be silently dropped). */
static void
test_statement_in_lost_transaction_fails(void **state)
{
	struct err e = { 0 };
	struct db *db = db_new(url);
	PGresult *r;

	(void)state;
	assert_int_equal(db_begin(db, &e), 0);
	kill_session(db);
	r = pq_exec(db, &insert_stmt, 0, NULL, &e);
	assert_null(r);
	assert_int_equal(e.code, ERR_SERVER);
	db_rollback(db);
	assert_int_equal(rows(), 0);
	db_free(db);
}

/* Outside a transaction a session the server closed while idle is
 * replaced before use: writes and reads both succeed. */
static void
test_idle_lost_session_is_replaced(void **state)
{
	struct err e = { 0 };
	struct db *db = db_new(url);
	PGresult *r;

	(void)state;
	assert_int_equal(db_ready(db, &e), 0);
	kill_session(db);
	r = pq_exec(db, &insert_stmt, 0, NULL, &e);
	assert_non_null(r);
	PQclear(r);
	kill_session(db);
	r = pq_exec(db, &count_stmt, 0, NULL, &e);
	assert_non_null(r);
	assert_string_equal(PQgetvalue(r, 0, 0), "1");
	PQclear(r);
	kill_session(db);
	assert_int_equal(db_begin(db, &e), 0);
	assert_int_equal(db_commit(db, &e), 0);
	assert_int_equal(e.code, 0);
	db_free(db);
}

/* A pinned connection (the migrator's, which holds a session lock) is
 * never replaced: losing it fails the next statement. */
static void
test_pinned_connection_is_not_replaced(void **state)
{
	struct err e = { 0 };
	struct db *db = db_new(url);

	(void)state;
	assert_int_equal(db_ready(db, &e), 0);
	db_pin(db);
	kill_session(db);
	assert_null(pq_exec(db, &count_stmt, 0, NULL, &e));
	assert_int_equal(e.code, ERR_SERVER);
	memset(&e, 0, sizeof(e));
	assert_int_equal(db_ready(db, &e), -1);
	db_free(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_commit_after_lost_session_fails, setup),
		cmocka_unit_test_setup(test_statement_in_lost_transaction_fails, setup),
		cmocka_unit_test_setup(test_idle_lost_session_is_replaced, setup),
		cmocka_unit_test_setup(test_pinned_connection_is_not_replaced, setup),
	};
	int failed;

	url = getenv("TEST_DATABASE_URL");
	if (url == NULL || *url == '\0') {
		fprintf(stderr, "test_db: TEST_DATABASE_URL is not set\n");
		return 2;
	}
	admin = PQconnectdb(url);
	if (PQstatus(admin) != CONNECTION_OK) {
		fprintf(stderr, "test_db: %s", PQerrorMessage(admin));
		PQfinish(admin);
		return 2;
	}
	failed = cmocka_run_group_tests_name("db", tests, NULL, NULL);
	PQclear(PQexec(admin, "DROP SCHEMA IF EXISTS dbtest CASCADE"));
	PQfinish(admin);
	return failed;
}
