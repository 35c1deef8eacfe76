/*
 * Tests of src/db/ against a real PostgreSQL (TEST_DATABASE_URL): what the
 * connection layer does when the server drops a session, inside and
 * outside a transaction (the paths where a wrong reconnect would report
 * work as committed that is gone), and how the connection pool lends,
 * bounds, cleans and replaces connections, in schema dbtest; and the
 * process-row writes no API reaches yet (db_proc_update), in the migrated
 * schema under a tenant of their own; and held transactions (db_hold: one
 * transaction around a request's work, what idempotency keys ride on). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/counter.h"
#include "db/db.h"
#include "db/pool.h"
#include "db/pq.h"
#include "db/process.h"
#include "db/replica.h"

static const char *url;
static PGconn *admin;

/* A pool of size connections to the test database. */
static struct db_pool *
new_pool(size_t size, long wait_ms)
{
	struct conn_cfg cfg = { url, "procsvc", false, false };

	return db_pool_new(&cfg, size, wait_ms);
}

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

/* Ends every server session of procsvc's (the application_name conn.c
 * sets), the way a restart or an admin would. */
static void
kill_sessions(void)
{
	admin_exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
	    " WHERE application_name = 'procsvc' AND pid <> pg_backend_pid()");
	usleep(200 * 1000); /* let the FATAL message reach the socket */
}

/* The one session these tests have open is db's. */
static void
kill_session(struct db *db)
{
	(void)db;
	kill_sessions();
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
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

/* ---- process rows ---- */

#define PR_TENANT "dbtest"

static void
pr_cleanup(void)
{
	admin_exec("DELETE FROM service_instance WHERE bk_supplier_account = '" PR_TENANT "'");
	admin_exec("DELETE FROM module WHERE bk_supplier_account = '" PR_TENANT "'");
	admin_exec("DELETE FROM host WHERE bk_supplier_account = '" PR_TENANT "'");
}

/* A service instance to hang processes on; returns its id. */
static int64_t
pr_setup(void)
{
	PGresult *r;
	int64_t id;

	pr_cleanup();
	admin_exec("INSERT INTO host (bk_supplier_account, bk_host_id) VALUES ('" PR_TENANT "', 1)");
	admin_exec("INSERT INTO module (bk_supplier_account, bk_module_id, bk_biz_id) "
	    "VALUES ('" PR_TENANT "', 1, 7)");
	r = PQexec(admin, "INSERT INTO service_instance (bk_supplier_account, bk_biz_id, "
	    "bk_module_id, bk_host_id, name, creator, modifier) "
	    "VALUES ('" PR_TENANT "', 7, 1, 1, 'si', 'admin', 'admin') RETURNING id");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return id;
}

static void
set_str(struct pval *p, const char *s)
{
	pval_clear(p);
	p->s = strdup(s);
	assert_non_null(p->s);
	p->state = PV_SET;
}

static void
set_int(struct pval *p, int64_t i)
{
	pval_clear(p);
	p->i = i;
	p->state = PV_SET;
}

/* Gives v bind rows whose ports are ports[0..n) (bind_info set). */
static void
set_binds(struct proc_values *v, const char *const *ports, size_t n)
{
	for (size_t r = 0; r < v->nrows; r++)
		for (size_t k = 0; k < BIND_KEY_COUNT; k++)
			pval_clear(&v->rows[r].key[k]);
	free(v->rows);
	v->rows = calloc(n + 1, sizeof(*v->rows));
	assert_non_null(v->rows);
	v->nrows = n;
	for (size_t r = 0; r < n; r++) {
		set_str(&v->rows[r].key[BKI_PORT], ports[r]);
		set_str(&v->rows[r].key[BKI_PROTOCOL], "1");
	}
	v->attr[PAI_BIND_INFO].state = PV_SET;
}

static const struct proc_record *
find_record(const struct proc_record_list *l, int64_t id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].id == id)
			return &l->items[i];
	fail_msg("process %lld not listed", (long long)id);
	return NULL;
}

/*
 * Insert, list and update go through one description of the table: what
 * one writes, the other reads back, and an update replaces every attribute
 * and the whole bind_info while the process stays where it is.
 */
static void
test_process_rows_round_trip(void **state)
{
	static const char *const two[] = { "80", "8080-8090" }, *const one[] = { "443" };
	struct proc_values a = { 0 }, b = { 0 };
	struct proc_record_list l = { 0 };
	struct proc_key_list keys = { 0 };
	const struct proc_record *ra, *rb;
	struct err e = { 0 };
	struct db *db = db_new(url);
	int64_t si = pr_setup(), ids[2];
	struct db_proc_new rows[2];
	char q[160];
	PGresult *r;

	(void)state;
	set_str(&a.attr[PAI_PROCESS_NAME], "a");
	set_str(&a.attr[PAI_FUNC_NAME], "fa");
	set_int(&a.attr[PAI_PRIORITY], -5);
	set_binds(&a, two, 2);
	set_str(&b.attr[PAI_PROCESS_NAME], "b");
	set_str(&b.attr[PAI_FUNC_NAME], "fb");
	rows[0] = (struct db_proc_new){ 7, si, 0, 1, &a };
	rows[1] = (struct db_proc_new){ 7, si, 0, 1, &b };
	assert_int_equal(db_begin(db, &e), 0);
	assert_int_equal(db_proc_insert(db, PR_TENANT, "creator", rows, 2, ids, &e), 0);
	assert_int_equal(db_commit(db, &e), 0);

	assert_int_equal(db_proc_list(db, PR_TENANT, 7, si, &l, &e), 0);
	assert_int_equal(l.n, 2);
	ra = find_record(&l, ids[0]);
	rb = find_record(&l, ids[1]);
	assert_string_equal(ra->v.attr[PAI_PROCESS_NAME].s, "a");
	assert_int_equal(ra->v.attr[PAI_PRIORITY].i, -5);
	assert_int_equal(ra->v.attr[PAI_PROC_NUM].state, PV_NULL);   /* unset integer */
	assert_string_equal(ra->v.attr[PAI_USER].s, "");             /* unset string */
	assert_int_equal(ra->v.nrows, 2);
	assert_string_equal(ra->v.rows[1].key[BKI_PORT].s, "8080-8090");
	assert_int_equal(ra->v.rows[1].key[BKI_TEMPLATE_ROW_ID].i, 0); /* PA_ZERO_DEFAULT */
	assert_int_equal(rb->v.attr[PAI_BIND_INFO].state, PV_NULL);
	assert_int_equal(rb->service_instance_id, si);
	assert_string_equal(rb->tenant, PR_TENANT);
	proc_record_list_free(&l);

	/* a's final state: renamed, its priority unset, one bind row instead
	 * of two; then b tries a's new name. */
	set_str(&a.attr[PAI_PROCESS_NAME], "c");
	pval_clear(&a.attr[PAI_PRIORITY]);
	set_binds(&a, one, 1);
	set_str(&b.attr[PAI_PROCESS_NAME], "c");
	set_binds(&b, two, 2);
	rows[0] = (struct db_proc_new){ 0, 0, 0, 0, &a }; /* only v counts */
	assert_int_equal(db_begin(db, &e), 0);
	assert_int_equal(db_proc_update(db, PR_TENANT, "editor", ids, rows, 1, &e), 0);
	assert_int_equal(db_commit(db, &e), 0);
	assert_int_equal(db_begin(db, &e), 0);
	rows[0].v = &b;
	assert_int_equal(db_proc_update(db, PR_TENANT, "editor", &ids[1], rows, 1, &e), -1);
	assert_int_equal(e.code, ERR_DUPLICATE);
	assert_string_equal(e.path, "processes");
	db_rollback(db);

	assert_int_equal(db_proc_list(db, PR_TENANT, 7, si, &l, &e), 0);
	ra = find_record(&l, ids[0]);
	assert_string_equal(ra->v.attr[PAI_PROCESS_NAME].s, "c");
	assert_int_equal(ra->v.attr[PAI_PRIORITY].state, PV_NULL);
	assert_int_equal(ra->v.nrows, 1);
	assert_string_equal(ra->v.rows[0].key[BKI_PORT].s, "443");
	assert_int_equal(ra->biz_id, 7);
	assert_int_equal(ra->service_instance_id, si);
	assert_int_equal(find_record(&l, ids[1])->v.nrows, 0);
	proc_record_list_free(&l);
	snprintf(q, sizeof(q), "SELECT creator || ',' || modifier || ',' || "
	    "(last_time > create_time) FROM process WHERE bk_process_id = %lld", (long long)ids[0]);
	r = PQexec(admin, q);
	assert_string_equal(PQgetvalue(r, 0, 0), "creator,editor,true");
	PQclear(r);

	/* By ids: ascending, unknown ids and other businesses absent. */
	{
		const int64_t want[] = { ids[1], 999999999, ids[0] };
		assert_int_equal(db_proc_list_ids(db, PR_TENANT, 7, want, 3, &l, &e), 0);
		assert_int_equal(l.n, 2);
		assert_true(l.items[0].id == ids[0] && l.items[1].id == ids[1]);
		assert_int_equal(l.items[0].v.nrows, 1);
		proc_record_list_free(&l);
		assert_int_equal(db_proc_list_ids(db, PR_TENANT, 8, want, 3, &l, &e), 0);
		assert_int_equal(l.n, 0);
		proc_record_list_free(&l);
	}

	assert_int_equal(db_proc_keys(db, PR_TENANT, si, &keys, &e), 0);
	assert_int_equal(keys.n, 2);
	assert_string_equal(keys.items[0].name, "c");
	assert_string_equal(keys.items[1].name, "b");
	assert_string_equal(keys.items[1].regex, "");
	proc_key_list_free(&keys);
	assert_int_equal(e.code, ERR_DUPLICATE); /* untouched since */

	proc_values_clear(&a);
	proc_values_clear(&b);
	db_free(db);
	pr_cleanup();
}

/* A pooled handle's first statement borrows; db_release gives back. The
 * pool never lends more than its size: the next borrower waits wait_ms and
 * gets 503 / 1199999, and is served once one comes back. */
static void
test_pool_is_bounded(void **state)
{
	struct db_pool *pool = new_pool(2, 300);
	struct db *a = db_new_pooled(pool), *b = db_new_pooled(pool), *c = db_new_pooled(pool);
	struct db_pool_stats st;
	struct err e = { 0 };
	double t0;

	(void)state;
	db_pool_stats(pool, &st);
	assert_int_equal(st.size, 2);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(db_ready(a, &e), 0);
	assert_int_equal(db_ready(b, &e), 0);
	db_pool_stats(pool, &st);
	assert_int_equal(st.in_use, 2);
	assert_int_equal(st.idle, 0);
	t0 = now_ms();
	assert_int_equal(db_ready(c, &e), -1);
	assert_true(now_ms() - t0 >= 290);
	assert_int_equal(e.code, ERR_SERVER);
	assert_int_equal(e.http_status, 503);
	db_pool_stats(pool, &st);
	assert_int_equal(st.timeouts, 1);
	db_release(a);
	memset(&e, 0, sizeof(e));
	assert_int_equal(db_ready(c, &e), 0);
	db_free(a);
	db_free(b);
	db_free(c);
	db_pool_stats(pool, &st);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(st.open, 2);
	db_pool_free(pool);
}

/* A connection given back inside a transaction is rolled back before the
 * next borrower sees it (the kore habit): nothing of it is committed. */
static void
test_pool_cleans_returned_connection(void **state)
{
	struct db_pool *pool = new_pool(1, 1000);
	struct db *a = db_new_pooled(pool);
	struct err e = { 0 };
	PGresult *r;

	(void)state;
	assert_int_equal(db_begin(a, &e), 0);
	r = pq_exec(a, &insert_stmt, 0, NULL, &e);
	assert_non_null(r);
	PQclear(r);
	db_release(a);  /* no COMMIT: abandoned */
	assert_int_equal(rows(), 0);
	r = pq_exec(a, &count_stmt, 0, NULL, &e);  /* borrows again: idle, clean */
	assert_non_null(r);
	assert_string_equal(PQgetvalue(r, 0, 0), "0");
	PQclear(r);
	assert_int_equal(db_begin(a, &e), 0);  /* no "already in a transaction" */
	assert_int_equal(db_commit(a, &e), 0);
	db_free(a);
	db_pool_free(pool);
}

/* A pooled connection the server killed while it sat in the pool is
 * replaced by the next borrower's first statement. */
static void
test_pool_replaces_killed_connection(void **state)
{
	struct db_pool *pool = new_pool(1, 1000);
	struct db *a = db_new_pooled(pool);
	struct err e = { 0 };
	PGresult *r;

	(void)state;
	assert_int_equal(db_ready(a, &e), 0);
	db_release(a);
	kill_sessions();
	r = pq_exec(a, &insert_stmt, 0, NULL, &e);
	assert_non_null(r);
	PQclear(r);
	assert_int_equal(rows(), 1);
	db_free(a);
	db_pool_free(pool);
}

#define RACERS 8
#define ROUNDS 25

struct racer {
	struct db_pool *pool;
	int failures;
};

static void *
race(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < ROUNDS; i++) {
		struct db *db = db_new_pooled(r->pool);
		struct err e = { 0 };
		PGresult *res = NULL;
		if (db == NULL || db_begin(db, &e) != 0 ||
		    (res = pq_exec(db, &insert_stmt, 0, NULL, &e)) == NULL ||
		    db_commit(db, &e) != 0)
			r->failures++;
		PQclear(res);
		db_free(db);
	}
	return NULL;
}

/* Eight threads through a pool of three: every transaction commits, none
 * waits out the deadline, and the pool ends with everything back. */
static void
test_pool_under_contention(void **state)
{
	struct racer r[RACERS];
	pthread_t t[RACERS];
	struct db_pool *pool = new_pool(3, 10000);
	struct db_pool_stats st;

	(void)state;
	for (int i = 0; i < RACERS; i++) {
		r[i].pool = pool;
		r[i].failures = 0;
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < RACERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].failures, 0);
	}
	assert_int_equal(rows(), RACERS * ROUNDS);
	db_pool_stats(pool, &st);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(st.waiting, 0);
	assert_int_equal(st.timeouts, 0);
	assert_true(st.open <= 3);
	db_pool_free(pool);
}

/* Reads the replica has counted as sent elsewhere, once its monitor has
 * judged it (up to 5 s): choose() until it does not say "lag" (not known
 * yet) any more. */
static void
wait_judged(struct db_replica *r)
{
	unsigned long long down0 = counter_get(COUNTER_DB_REPLICA_FALLBACK_DOWN);
	double t0 = now_ms();

	do {
		assert_null(db_replica_choose(r));
		if (counter_get(COUNTER_DB_REPLICA_FALLBACK_DOWN) > down0)
			return;
		usleep(10000);
	} while (now_ms() - t0 < 5000);
	fail_msg("the replica monitor gave no verdict within 5 s");
}

/* The "replica" is the primary itself: no standby, so reads that prefer it
 * run on the primary, and count as fallbacks (down), never as reads. */
static void
test_replica_not_standby_reads_primary(void **state)
{
	struct conn_cfg cfg = { url, "procsvc", false, false };
	struct db_pool *pool = new_pool(1, 1000);
	struct db_replica *rep = db_replica_new(&cfg, &cfg, 1, 1000, 1000);
	struct db_replica_stats st;
	struct db *db = db_new_pooled(pool);
	struct err e = { 0 };
	unsigned long long reads0 = counter_get(COUNTER_DB_REPLICA_READS), down0;
	PGresult *r;

	(void)state;
	assert_non_null(rep);
	wait_judged(rep);
	down0 = counter_get(COUNTER_DB_REPLICA_FALLBACK_DOWN);
	db_prefer_replica(db, rep);
	r = pq_exec(db, &count_stmt, 0, NULL, &e);
	assert_non_null(r);
	PQclear(r);
	db_replica_stats(rep, &st);
	assert_false(st.up);
	assert_int_equal(counter_get(COUNTER_DB_REPLICA_READS), reads0);
	assert_int_equal(counter_get(COUNTER_DB_REPLICA_FALLBACK_DOWN), down0 + 1);
	db_free(db);
	db_replica_free(rep);
	db_pool_free(pool);
}

struct reader {
	struct db_pool *pool;
	struct db_replica *rep;
	int failures;
};

static void *
read_preferring_replica(void *arg)
{
	struct reader *r = arg;

	for (int i = 0; i < ROUNDS; i++) {
		struct db *db = db_new_pooled(r->pool);
		struct err e = { 0 };
		PGresult *res = NULL;
		if (db != NULL)
			db_prefer_replica(db, r->rep);
		if (db == NULL || (res = pq_exec(db, &count_stmt, 0, NULL, &e)) == NULL)
			r->failures++;
		PQclear(res);
		db_free(db);
	}
	return NULL;
}

/* A replica that refuses connections: every read that prefers it is
 * served by the primary, from threads racing the monitor; the replica's
 * pool lends nothing. */
static void
test_replica_down_reads_primary(void **state)
{
	struct conn_cfg primary = { url, "procsvc", false, false };
	struct conn_cfg down = { "postgresql://postgres@127.0.0.1:1/procsvc?connect_timeout=1",
		"procsvc", false, false };
	struct db_pool *pool = new_pool(3, 10000);
	struct db_replica *rep = db_replica_new(&down, &primary, 2, 1000, 100);
	struct db_replica_stats st;
	struct reader r[RACERS];
	pthread_t t[RACERS];
	unsigned long long reads0 = counter_get(COUNTER_DB_REPLICA_READS), down0;

	(void)state;
	assert_non_null(rep);
	wait_judged(rep);
	down0 = counter_get(COUNTER_DB_REPLICA_FALLBACK_DOWN);
	for (int i = 0; i < RACERS; i++) {
		r[i] = (struct reader){ pool, rep, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, read_preferring_replica, &r[i]), 0);
	}
	for (int i = 0; i < RACERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].failures, 0);
	}
	db_replica_stats(rep, &st);
	assert_false(st.up);
	assert_int_equal(counter_get(COUNTER_DB_REPLICA_READS), reads0);
	assert_int_equal(counter_get(COUNTER_DB_REPLICA_FALLBACK_DOWN), down0 + RACERS * ROUNDS);
	db_replica_free(rep);
	db_pool_free(pool);
}

/* ---- held transactions ---------------------------------------------- */

static const struct pq_stmt marker_stmt = {
	"dbtest_marker", "INSERT INTO dbtest.t VALUES (2)", false,
};
static const struct pq_stmt fail_stmt = {
	"dbtest_fail", "SELECT 1 / 0", true,
};

static int starts;

/* The hold's start function: counts its runs and writes a marker row in
 * the new transaction, as the idempotency claim writes its key. */
static int
start_marker(struct db *db, void *arg, struct err *e)
{
	PGresult *r;

	starts++;
	if (arg != NULL) {
		err_server(e, "start refused");
		return -1;
	}
	r = pq_exec(db, &marker_stmt, 0, NULL, e);
	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

static int
exec_ok(struct db *db, const struct pq_stmt *stmt)
{
	struct err e = { 0 };
	PGresult *r = pq_exec(db, stmt, 0, NULL, &e);

	PQclear(r);
	return r != NULL ? 0 : -1;
}

/* db_begin and db_commit join the held transaction; nothing is visible
 * before db_hold_commit, everything after; start ran once. */
static void
test_hold_commits_once(void **state)
{
	struct err e = { 0 };
	struct db *db = db_new(url);

	(void)state;
	starts = 0;
	assert_int_equal(db_hold_begin(db, start_marker, NULL, &e), 0);
	assert_int_equal(db_begin(db, &e), 0);
	assert_int_equal(exec_ok(db, &insert_stmt), 0);
	assert_int_equal(db_commit(db, &e), 0);
	assert_int_equal(rows(), 0);
	assert_int_equal(exec_ok(db, &insert_stmt), 0);
	assert_int_equal(db_hold_commit(db, &e), 0);
	assert_int_equal(rows(), 3);
	assert_int_equal(starts, 1);
	/* No longer held: a statement commits on its own again. */
	assert_int_equal(exec_ok(db, &insert_stmt), 0);
	assert_int_equal(rows(), 4);
	db_free(db);
}

/* db_rollback undoes the marker too; the next statement starts the held
 * transaction over (start runs again); db_hold_end commits nothing. */
static void
test_hold_rollback_starts_over(void **state)
{
	struct err e = { 0 };
	struct db *db = db_new(url);

	(void)state;
	starts = 0;
	assert_int_equal(db_hold_begin(db, start_marker, NULL, &e), 0);
	assert_int_equal(exec_ok(db, &insert_stmt), 0);
	db_rollback(db);
	assert_int_equal(rows(), 0);
	assert_int_equal(exec_ok(db, &insert_stmt), 0);
	assert_int_equal(starts, 2);
	assert_int_equal(db_hold_commit(db, &e), 0);
	assert_int_equal(rows(), 2);
	assert_int_equal(db_hold_begin(db, start_marker, NULL, &e), 0);
	assert_int_equal(exec_ok(db, &insert_stmt), 0);
	db_hold_end(db);
	assert_int_equal(rows(), 2);
	db_free(db);
}

/* A failed statement aborts the held transaction: a plain statement after
 * it fails (503), db_begin starts the transaction over. */
static void
test_hold_aborted_restarts_at_begin(void **state)
{
	struct err e = { 0 };
	struct db *db = db_new(url);

	(void)state;
	starts = 0;
	assert_int_equal(db_hold_begin(db, start_marker, NULL, &e), 0);
	assert_int_equal(exec_ok(db, &fail_stmt), -1);
	assert_int_equal(exec_ok(db, &insert_stmt), -1);
	assert_int_equal(db_begin(db, &e), 0);
	assert_int_equal(starts, 2);
	assert_int_equal(exec_ok(db, &insert_stmt), 0);
	assert_int_equal(db_commit(db, &e), 0);
	assert_int_equal(db_hold_commit(db, &e), 0);
	assert_int_equal(rows(), 2);
	db_free(db);
}

/* A refusing start leaves nothing open and the handle not held; a lost
 * connection inside the held transaction is never silently replaced: its
 * work fails, nothing is committed. */
static void
test_hold_failures(void **state)
{
	struct err e = { 0 };
	struct db *db = db_new(url);

	(void)state;
	assert_int_equal(db_hold_begin(db, start_marker, (void *)1, &e), -1);
	assert_string_equal(e.msg, "start refused");
	assert_int_equal(exec_ok(db, &insert_stmt), 0);
	assert_int_equal(rows(), 1);
	memset(&e, 0, sizeof(e));
	assert_int_equal(db_hold_begin(db, start_marker, NULL, &e), 0);
	assert_int_equal(exec_ok(db, &insert_stmt), 0);
	kill_session(db);
	/* libpq may not know yet: db_begin can still join; the loss shows at
	 * the next statement, and nothing is committed. */
	if (db_begin(db, &e) == 0)
		assert_int_equal(exec_ok(db, &insert_stmt), -1);
	assert_int_equal(db_hold_commit(db, &e), -1);
	assert_int_equal(e.http_status, 503);
	assert_int_equal(rows(), 1);
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
		cmocka_unit_test_setup(test_pool_is_bounded, setup),
		cmocka_unit_test_setup(test_pool_cleans_returned_connection, setup),
		cmocka_unit_test_setup(test_pool_replaces_killed_connection, setup),
		cmocka_unit_test_setup(test_pool_under_contention, setup),
		cmocka_unit_test_setup(test_replica_not_standby_reads_primary, setup),
		cmocka_unit_test_setup(test_replica_down_reads_primary, setup),
		cmocka_unit_test(test_process_rows_round_trip),
		cmocka_unit_test_setup(test_hold_commits_once, setup),
		cmocka_unit_test_setup(test_hold_rollback_starts_over, setup),
		cmocka_unit_test_setup(test_hold_aborted_restarts_at_begin, setup),
		cmocka_unit_test_setup(test_hold_failures, setup),
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
