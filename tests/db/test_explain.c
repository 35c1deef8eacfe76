/*
 * api-contract.md §11.8 on a database of a million service instances: no
 * filter shape of the two lists and no id lookup of the lifecycle writes
 * plans a sequential scan of service_instance, process or bind_info, and
 * the list filtered by a module or by hosts finds its rows through an
 * index on that column (not through the business's index, reading every
 * instance of a business to keep a few).
 *
 * The statements are the server's own: each test calls the src/db function
 * the service calls, with pq_set_trace capturing every statement it runs
 * and its parameters, then EXPLAINs what was captured twice, as a custom
 * plan (EXPLAIN with the parameters bound) and as the generic plan a
 * prepared statement settles on (plan_cache_mode = force_generic_plan,
 * EXPLAIN EXECUTE). Writes run in a transaction that is rolled back.
 *
 * The data lives in a database of its own, procsvc_explain, made next to
 * TEST_DATABASE_URL's, migrated with migrations/ and seeded by SQL
 * (generate_series, then ANALYZE): 1,000,000 instances over 1000
 * businesses, 10,000 modules and 10,000 hosts, one process and one bind row
 * each. Dropped at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "db/db.h"
#include "db/instance.h"
#include "db/migrate.h"
#include "db/pq.h"
#include "db/process.h"

#define EXPLAIN_DB "procsvc_explain"
#define INSTANCES 1000000
#define TENANT "0"
/* Business 8 holds modules 7, 1007, ... 9007, 100 instances each; module 7
 * and host 7 hold instances 6, 10006, 20006, ... */
#define BIZ 8
#define MODULE 7
#define HOST 7

static PGconn *admin;     /* TEST_DATABASE_URL's database: creates and drops ours */
static PGconn *conn;      /* ours: EXPLAIN runs here */
static struct db *db;     /* ours, as the server uses it */

/* ---- statements captured from src/db ---- */

struct captured {
	const char *name;   /* the statement's name (for messages) */
	const char *sql;    /* borrowed: statement texts live as long as the program */
	int n;
	char **params;      /* owned; NULL entries are SQL NULL */
};

static struct captured seen[64];
static size_t nseen;

/* When set, every plan checked must look rows up by this column of
 * service_instance in an index condition (a list shape's own filter). */
static const char *want_index_col;

static void
capture(void *arg, const struct pq_stmt *stmt, int n, const char *const *params)
{
	struct captured *c;

	(void)arg;
	if (nseen == sizeof(seen) / sizeof(seen[0]))
		return;
	c = &seen[nseen++];
	c->name = stmt->name;
	c->sql = stmt->sql;
	c->n = n;
	c->params = calloc((size_t)n + 1, sizeof(*c->params));
	for (int i = 0; i < n; i++)
		c->params[i] = params[i] ? strdup(params[i]) : NULL;
}

static void
forget(void)
{
	for (size_t i = 0; i < nseen; i++) {
		for (int k = 0; k < seen[i].n; k++)
			free(seen[i].params[k]);
		free(seen[i].params);
	}
	nseen = 0;
}

/* Before each test: a failed check jumps out of list() and explain_seen(),
 * which would leave the column asked for and the statements seen to the
 * next test. */
static int
fresh(void **state)
{
	(void)state;
	want_index_col = NULL;
	forget();
	return 0;
}

/* ---- plans ---- */

/* Tables a lifecycle statement must reach through an index. */
static bool
watched(const char *rel)
{
	return strcmp(rel, "service_instance") == 0 || strcmp(rel, "process") == 0 ||
	    strcmp(rel, "bind_info") == 0;
}

/* The first Seq Scan on a watched table in plan, or NULL. */
static const char *
seq_scan(const json_t *plan)
{
	const char *type = json_string_value(json_object_get(plan, "Node Type"));
	const char *rel = json_string_value(json_object_get(plan, "Relation Name"));
	const json_t *sub;
	size_t i;

	if (type != NULL && strcmp(type, "Seq Scan") == 0 && rel != NULL && watched(rel))
		return rel;
	json_array_foreach(json_object_get(plan, "Plans"), i, sub) {
		const char *hit = seq_scan(sub);
		if (hit != NULL)
			return hit;
	}
	return NULL;
}

/* Whether a node of plan scans an index of service_instance with col in
 * its condition. */
static bool
index_on(const json_t *plan, const char *col)
{
	const char *index = json_string_value(json_object_get(plan, "Index Name"));
	const char *cond = json_string_value(json_object_get(plan, "Index Cond"));
	const json_t *sub;
	size_t i;

	if (index != NULL && strncmp(index, "service_instance", 16) == 0 && cond != NULL &&
	    strstr(cond, col) != NULL)
		return true;
	json_array_foreach(json_object_get(plan, "Plans"), i, sub)
		if (index_on(sub, col))
			return true;
	return false;
}

/* Fails the test when the EXPLAIN (FORMAT JSON) result r shows one, or
 * does not use the index want_index_col asks for. */
static void
check_plan(PGresult *r, const struct captured *c, const char *kind)
{
	json_t *doc;
	const char *hit;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s (%s): EXPLAIN failed: %s", c->name, kind, PQresultErrorMessage(r));
	doc = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
	assert_non_null(doc);
	hit = seq_scan(json_object_get(json_array_get(doc, 0), "Plan"));
	if (hit != NULL)
		fail_msg("%s (%s plan): Seq Scan on %s\n%s\n%s", c->name, kind, hit, c->sql,
		    PQgetvalue(r, 0, 0));
	/* The lists run with custom plans (pq_exec_custom_plan: a module or
	 * host may hold most of a business); their generic plan must not scan
	 * the table either, but may prefer another index. */
	if (want_index_col != NULL && strcmp(kind, "custom") == 0 &&
	    !index_on(json_object_get(json_array_get(doc, 0), "Plan"), want_index_col))
		fail_msg("%s (%s plan): no index of service_instance on %s\n%s\n%s", c->name, kind,
		    want_index_col, c->sql, PQgetvalue(r, 0, 0));
	json_decref(doc);
}

/* The custom plan: parameters bound, as the first executions get. */
static void
explain_custom(const struct captured *c)
{
	char *sql = malloc(strlen(c->sql) + 32);
	PGresult *r;

	sprintf(sql, "EXPLAIN (FORMAT JSON) %s", c->sql);
	r = PQexecParams(conn, sql, c->n, NULL, (const char *const *)c->params, NULL, NULL, 0);
	check_plan(r, c, "custom");
	PQclear(r);
	free(sql);
}

static void
exec_ok(PGconn *on, const char *sql)
{
	PGresult *r = PQexec(on, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
}

/* The generic plan a prepared statement uses once it stops re-planning. */
static void
explain_generic(const struct captured *c)
{
	size_t cap = 256;
	char *sql;
	PGresult *r;

	r = PQprepare(conn, "explain_generic", c->sql, 0, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s: prepare: %s", c->name, PQresultErrorMessage(r));
	PQclear(r);
	for (int i = 0; i < c->n; i++)
		cap += c->params[i] ? strlen(c->params[i]) * 2 + 8 : 8;
	sql = malloc(cap);
	strcpy(sql, "EXPLAIN (FORMAT JSON) EXECUTE explain_generic(");
	for (int i = 0; i < c->n; i++) {
		char *lit = c->params[i] ? PQescapeLiteral(conn, c->params[i], strlen(c->params[i])) : NULL;
		strcat(sql, i > 0 ? ", " : "");
		strcat(sql, lit ? lit : "NULL");
		PQfreemem(lit);
	}
	strcat(sql, ")");
	exec_ok(conn, "SET plan_cache_mode = force_generic_plan");
	r = PQexec(conn, sql);
	check_plan(r, c, "generic");
	PQclear(r);
	exec_ok(conn, "RESET plan_cache_mode");
	exec_ok(conn, "DEALLOCATE explain_generic");
	free(sql);
}

/* Every statement captured since the last call, both ways; returns how
 * many there were. */
static size_t
explain_seen(void)
{
	size_t n = nseen;

	for (size_t i = 0; i < nseen; i++) {
		explain_custom(&seen[i]);
		explain_generic(&seen[i]);
	}
	forget();
	return n;
}

/* ---- the lists (§11.3, §11.4) ---- */

/* Lists q, checks its count, and EXPLAINs its statements; with col, each
 * must find the rows through an index on that column. Returns how many
 * statements it ran. */
static size_t
list(const struct db_si_query *q, int64_t want_count, const char *col)
{
	struct si_record_list out = { 0 };
	struct err e = { 0 };
	size_t n;

	if (db_si_list(db, TENANT, q, &out, &e) != 0)
		fail_msg("db_si_list: %s", e.msg);
	assert_int_equal(out.count, want_count);
	si_record_list_free(&out);
	want_index_col = col;
	n = explain_seen();
	want_index_col = NULL;
	return n;
}

static void
test_list_shapes(void **state)
{
	static const int64_t hosts[] = { HOST, HOST + 1000 };
	static const int64_t ids[] = { 6, 10006, 20006 };
	struct db_si_query q;
	size_t n = 0;

	(void)state;
	/* Each shape with the default order (id) and with named keys. */
	for (int named = 0; named < 2; named++) {
		const struct db_si_sort sort[] = { { DB_SI_SORT_CREATE_TIME, true }, { DB_SI_SORT_NAME, false } };
		struct db_si_query base = { .biz_id = BIZ, .search = "", .start = 0, .limit = 500 };

		if (named) {
			memcpy(base.sort, sort, sizeof(sort));
			base.nsort = 2;
		}
		q = base;                                   /* business only */
		n += list(&q, 1000, "bk_biz_id");
		q = base;
		q.module_id = MODULE;                       /* + module */
		n += list(&q, 100, "bk_module_id");
		q = base;
		q.host_ids = hosts;                         /* + hosts */
		q.nhosts = 2;
		n += list(&q, 200, "bk_host_id");
		q = base;
		q.ids = ids;                                /* + ids */
		q.nids = 3;
		n += list(&q, 3, NULL);
		q = base;
		q.search = "si-10006";                      /* + search_key */
		n += list(&q, 1, NULL);
		q = base;                                   /* a far page */
		q.start = 900;
		q.module_id = MODULE;
		q.host_ids = hosts;
		q.nhosts = 1;
		n += list(&q, 100, NULL);
	}
	assert_int_equal(n, 12);
}

static void
test_detail_page(void **state)
{
	struct db_si_query q = { .biz_id = BIZ, .search = "", .limit = 500 };
	struct si_record_list page = { 0 };
	struct proc_record_list procs = { 0 };
	struct err e = { 0 };
	int64_t ids[500];

	(void)state;
	pq_set_trace(NULL, NULL);
	if (db_si_list(db, TENANT, &q, &page, &e) != 0)
		fail_msg("db_si_list: %s", e.msg);
	assert_int_equal(page.n, 500);
	for (size_t i = 0; i < page.n; i++)
		ids[i] = page.items[i].id;
	pq_set_trace(capture, NULL);
	/* The processes and bind rows of a page: one statement. */
	if (db_proc_list_instances(db, TENANT, BIZ, ids, page.n, &procs, &e) != 0)
		fail_msg("db_proc_list_instances: %s", e.msg);
	assert_int_equal(procs.n, 500);
	assert_int_equal(explain_seen(), 1);
	proc_record_list_free(&procs);
	si_record_list_free(&page);
}

/* ---- the writes' id lookups (§11.5-§11.7) ---- */

static void
ok(int rc, const char *what, const struct err *e)
{
	if (rc != 0)
		fail_msg("%s: %s", what, e->msg);
}

static void
test_update_lookups(void **state)
{
	static const int64_t procs[] = { 6, 10006, 20006 };
	struct proc_record_list stored = { 0 };
	struct proc_key_list keys = { 0 };
	struct db_host_list hosts = { 0 };
	struct db_proc_new rows[3];
	struct err e = { 0 };
	int64_t *si = NULL, host = HOST;
	size_t nsi = 0;

	(void)state;
	ok(db_begin(db, &e), "begin", &e);
	forget(); /* not BEGIN */
	ok(db_si_lock_of_processes(db, TENANT, BIZ, procs, 3, DB_SI_LOCK_NO_KEY, &si, &nsi, &e),
	    "lock instances", &e);
	assert_int_equal(nsi, 3);
	ok(db_proc_lock(db, TENANT, BIZ, procs, 3, &stored, &e), "lock processes", &e);
	assert_int_equal(stored.n, 3);
	ok(db_hosts_get(db, TENANT, &host, 1, &hosts, &e), "hosts", &e);
	ok(db_proc_keys_instances(db, TENANT, si, nsi, &keys, &e), "keys", &e);
	for (size_t i = 0; i < 3; i++)
		rows[i] = (struct db_proc_new){ 0, 0, 0, 0, &stored.items[i].v };
	ok(db_proc_update(db, TENANT, "explain", procs, rows, 3, &e), "update", &e);
	db_rollback(db);
	/* lock instances, lock processes, hosts, keys, update rows, bind rows out, bind rows in */
	assert_int_equal(explain_seen(), 7);
	free(si);
	proc_record_list_free(&stored);
	proc_key_list_free(&keys);
	db_host_list_free(&hosts);
}

static void
test_delete_lookups(void **state)
{
	static const int64_t procs[] = { 6, 10006, 20006 };
	static const int64_t sis[] = { 6, 10006, 20006 };
	struct db_proc_ref *refs = NULL;
	struct err e = { 0 };
	int64_t *si = NULL, *found = NULL;
	size_t nsi = 0, nrefs = 0, nfound = 0;

	(void)state;
	/* delete_process_instance */
	ok(db_begin(db, &e), "begin", &e);
	forget();
	ok(db_si_lock_of_processes(db, TENANT, BIZ, procs, 3, DB_SI_LOCK_DELETE, &si, &nsi, &e),
	    "lock instances", &e);
	ok(db_proc_lock_refs(db, TENANT, BIZ, procs, 3, &refs, &nrefs, &e), "lock processes", &e);
	assert_int_equal(nrefs, 3);
	ok(db_proc_delete(db, TENANT, procs, 3, &e), "delete processes", &e);
	ok(db_si_delete(db, TENANT, si, nsi, true, &e), "delete empty instances", &e);
	db_rollback(db);
	assert_int_equal(explain_seen(), 4);
	/* delete_service_instance */
	ok(db_begin(db, &e), "begin", &e);
	forget();
	ok(db_si_lock_ids(db, TENANT, BIZ, sis, 3, &found, &nfound, &e), "lock instances", &e);
	assert_int_equal(nfound, 3);
	ok(db_proc_lock_instances(db, TENANT, found, nfound, &e), "lock processes", &e);
	ok(db_si_delete(db, TENANT, found, nfound, false, &e), "delete instances", &e);
	db_rollback(db);
	assert_int_equal(explain_seen(), 3);
	free(si);
	free(refs);
	free(found);
}

/* ---- the database ---- */

/* conninfo of admin's server with dbname replaced; caller frees. */
static char *
conninfo_for(const char *dbname)
{
	PQconninfoOption *opts = PQconninfo(admin), *o;
	size_t cap = 64;
	char *s;

	for (o = opts; o->keyword != NULL; o++)
		if (o->val != NULL)
			cap += strlen(o->keyword) + 2 * strlen(o->val) + 8;
	s = calloc(1, cap + strlen(dbname));
	for (o = opts; o->keyword != NULL; o++) {
		const char *v = strcmp(o->keyword, "dbname") == 0 ? dbname : o->val;
		if (v == NULL || *v == '\0')
			continue;
		strcat(s, o->keyword);
		strcat(s, "='");
		for (const char *p = v; *p; p++) {
			size_t len = strlen(s);
			if (*p == '\'' || *p == '\\')
				s[len++] = '\\';
			s[len] = *p;
		}
		strcat(s, "' ");
	}
	PQconninfoFree(opts);
	return s;
}

/* The seed: set-based, foreign-key triggers off (replica role) because
 * every reference is made consistent by construction. */
static const char *const seed[] = {
	"SET session_replication_role = replica",
	"INSERT INTO host (bk_supplier_account, bk_host_id, bk_host_innerip) "
	"SELECT '" TENANT "', m, '10.0.' || (m / 256) || '.' || (m % 256) FROM generate_series(1, 10000) m",
	"INSERT INTO module (bk_supplier_account, bk_module_id, bk_biz_id, bk_module_name) "
	"SELECT '" TENANT "', m, m % 1000 + 1, 'm' || m FROM generate_series(1, 10000) m",
	"INSERT INTO service_instance (id, bk_supplier_account, bk_biz_id, bk_module_id, bk_host_id, "
	"    name, creator, modifier, create_time, last_time) "
	"SELECT g, '" TENANT "', (g % 10000 + 1) % 1000 + 1, g % 10000 + 1, g % 10000 + 1, "
	"    'si-' || g, 'seed', 'seed', timestamptz '2020-01-01' + g * interval '1 second', "
	"    timestamptz '2021-01-01' - g * interval '1 second' "
	"FROM generate_series(1, 1000000) g",
	"INSERT INTO process (bk_process_id, bk_supplier_account, bk_biz_id, service_instance_id, "
	"    bk_host_id, bk_process_name, bk_func_name, bind_info_set, creator, modifier) "
	"SELECT g, '" TENANT "', (g % 10000 + 1) % 1000 + 1, g, g % 10000 + 1, 'p', 'p', true, "
	"    'seed', 'seed' FROM generate_series(1, 1000000) g",
	"INSERT INTO bind_info (bk_supplier_account, bk_process_id, position, ip, port, protocol) "
	"SELECT '" TENANT "', g, 0, '127.0.0.1', '80', '1' FROM generate_series(1, 1000000) g",
	"SELECT setval(pg_get_serial_sequence('service_instance', 'id'), 1000000)",
	"SELECT setval(pg_get_serial_sequence('process', 'bk_process_id'), 1000000)",
	"RESET session_replication_role",
	"ANALYZE",
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
setup_db(void **state)
{
	struct migration_set set = { 0 };
	struct err e = { 0 };
	char *info;
	double t0 = now_s();

	(void)state;
	exec_ok(admin, "DROP DATABASE IF EXISTS " EXPLAIN_DB);
	exec_ok(admin, "CREATE DATABASE " EXPLAIN_DB);
	info = conninfo_for(EXPLAIN_DB);
	conn = PQconnectdb(info);
	db = db_new(info);
	free(info);
	assert_int_equal(PQstatus(conn), CONNECTION_OK);
	assert_non_null(db);
	if (migrate_load("migrations", &set, &e) != 0 || migrate_up(db, &set, -1, &e) != 0)
		fail_msg("migrate: %s", e.msg);
	migration_set_free(&set);
	for (size_t i = 0; i < sizeof(seed) / sizeof(seed[0]); i++)
		exec_ok(conn, seed[i]);
	printf("explain: %d instances, processes and bind rows seeded in %.1f s\n",
	    INSTANCES, now_s() - t0);
	pq_set_trace(capture, NULL);
	return 0;
}

static int
teardown_db(void **state)
{
	(void)state;
	pq_set_trace(NULL, NULL);
	forget();
	db_free(db);
	PQfinish(conn);
	exec_ok(admin, "DROP DATABASE IF EXISTS " EXPLAIN_DB);
	return 0;
}

static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message; /* "database ... does not exist, skipping" */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_list_shapes, fresh),
		cmocka_unit_test_setup(test_detail_page, fresh),
		cmocka_unit_test_setup(test_update_lookups, fresh),
		cmocka_unit_test_setup(test_delete_lookups, fresh),
	};
	const char *url = getenv("TEST_DATABASE_URL");
	double t0 = now_s();
	int failed;

	if (url == NULL || *url == '\0') {
		fprintf(stderr, "test_explain: TEST_DATABASE_URL is not set\n");
		return 2;
	}
	admin = PQconnectdb(url);
	if (PQstatus(admin) != CONNECTION_OK) {
		fprintf(stderr, "test_explain: %s", PQerrorMessage(admin));
		PQfinish(admin);
		return 2;
	}
	PQsetNoticeProcessor(admin, quiet, NULL);
	failed = cmocka_run_group_tests_name("explain", tests, setup_db, teardown_db);
	PQfinish(admin);
	printf("explain: done in %.1f s\n", now_s() - t0);
	return failed;
}
