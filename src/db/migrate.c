#include "db/migrate.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "db/pq.h"

/*
 * The advisory lock every migrator takes. Any constant will do, as long as
 * it never changes: migrators of two procsvc versions must still exclude
 * each other. (It spells nothing.)
 */
#define MIGRATE_LOCK_KEY "31078497003647843"

static int
mig_cmp(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

void
migration_set_free(struct migration_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->items[i].name);
		free(set->items[i].up_path);
		free(set->items[i].down_path);
	}
	free(set->items);
	set->items = NULL;
	set->n = 0;
}

static struct migration *
find_or_add(struct migration_set *set, int64_t version, const char *name,
    size_t namelen)
{
	struct migration *m;

	for (size_t i = 0; i < set->n; i++)
		if (set->items[i].version == version)
			return strncmp(set->items[i].name, name, namelen) == 0 &&
				set->items[i].name[namelen] == '\0' ?
			    &set->items[i] :
			    NULL;
	m = realloc(set->items, (set->n + 1) * sizeof(*m));
	if (m == NULL)
		return NULL;
	set->items = m;
	m = &set->items[set->n++];
	memset(m, 0, sizeof(*m));
	m->version = version;
	m->name = strndup(name, namelen);
	return m->name ? m : NULL;
}

/* "0001_init.up.sql" -> version 1, name "0001_init", up. */
static int
add_file(struct migration_set *set, const char *dir, const char *file,
    struct err *e)
{
	const char *dot = strchr(file, '.');
	char *end, *path;
	int64_t version;
	struct migration *m;
	bool up;

	if (dot == NULL || (strcmp(dot, ".up.sql") != 0 && strcmp(dot, ".down.sql") != 0))
		return 0; /* not a migration: README and the like */
	up = strcmp(dot, ".up.sql") == 0;
	errno = 0;
	version = strtoll(file, &end, 10);
	if (errno != 0 || end == file || version <= 0 || (*end != '_' && end != dot)) {
		err_set(e, ERR_BAD_VALUE, NULL, "migration %s: the name must start with a positive version number", file);
		return -1;
	}
	m = find_or_add(set, version, file, (size_t)(dot - file));
	if (m == NULL) {
		err_set(e, ERR_BAD_VALUE, NULL, "migration %s: version %" PRId64 " is used twice (or out of memory)", file, version);
		return -1;
	}
	if (asprintf(&path, "%s/%s", dir, file) < 0) {
		err_oom(e);
		return -1;
	}
	free(up ? m->up_path : m->down_path);
	if (up)
		m->up_path = path;
	else
		m->down_path = path;
	return 0;
}

int
migrate_load(const char *dir, struct migration_set *set, struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	memset(set, 0, sizeof(*set));
	if (d == NULL) {
		err_set(e, ERR_BAD_VALUE, NULL, "cannot open migrations directory %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && add_file(set, dir, de->d_name, e) != 0)
			goto fail;
	closedir(d);
	d = NULL;
	qsort(set->items, set->n, sizeof(*set->items), mig_cmp);
	for (size_t i = 0; i < set->n; i++)
		if (set->items[i].up_path == NULL) {
			err_set(e, ERR_BAD_VALUE, NULL, "migration %s has no .up.sql file", set->items[i].name);
			goto fail;
		}
	return 0;
fail:
	if (d != NULL)
		closedir(d);
	migration_set_free(set);
	return -1;
}

int64_t
migrate_latest(const struct migration_set *set)
{
	return set->n ? set->items[set->n - 1].version : 0;
}

static char *
read_file(const char *path, struct err *e)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (f == NULL)
		goto fail;
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto fail;
	buf = malloc((size_t)len + 1);
	if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len)
		goto fail;
	buf[len] = '\0';
	fclose(f);
	return buf;
fail:
	err_set(e, ERR_BAD_VALUE, NULL, "cannot read %s: %s", path, strerror(errno));
	free(buf);
	if (f != NULL)
		fclose(f);
	return NULL;
}

/* PostgreSQL's text may span lines (DETAIL, a LINE excerpt, "\n" at the
 * end): one line for the operator, blanks folded. */
static void
one_line(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	for (; *s != '\0'; s++)
		if (*s == '\n' || *s == '\t' || *s == '\r')
			*s = ' ';
}

/*
 * Runs SQL text on the migrator's pinned connection. Unlike pq_exec_plain
 * (which logs the detail and tells clients only "retry later"), the
 * operator running migrate is the audience: the error names what was being
 * done and carries PostgreSQL's own message, on one line. A lost
 * connection is transient (503, "retry later"); an SQL error is not.
 */
static int
mig_exec(struct db *db, const char *what, const char *sql, struct err *e)
{
	PGconn *conn = pq_conn(db);
	PGresult *r = NULL;
	ExecStatusType st;
	char msg[400];

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		goto lost;
	r = PQexec(conn, sql);
	st = PQresultStatus(r);
	if (r != NULL && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
		PQclear(r);
		return 0;
	}
	if (PQstatus(conn) != CONNECTION_OK)
		goto lost;
	snprintf(msg, sizeof(msg), "%s", r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : PQresultErrorMessage(r) : PQerrorMessage(conn));
	one_line(msg);
	err_set(e, ERR_BAD_VALUE, NULL, "%s: %s (SQLSTATE %s)", what, msg,
	    r && PQresultErrorField(r, PG_DIAG_SQLSTATE) ?
		PQresultErrorField(r, PG_DIAG_SQLSTATE) :
		"none");
	PQclear(r);
	return -1;
lost:
	PQclear(r);
	err_server(e, "%s: the database connection was lost", what);
	return -1;
}

static const struct pq_stmt clear_version_stmt = {
	"migrate_clear_version",
	"DELETE FROM schema_migrations",
	false,
};

static const struct pq_stmt insert_version_stmt = {
	"migrate_insert_version",
	"INSERT INTO schema_migrations (version, dirty) "
	"SELECT $1::bigint, $2::boolean WHERE $1::bigint > 0",
	false,
};

/* Records version/dirty as the single row (none for version 0). Runs in
 * the caller's transaction, or in one of its own when there is none. */
static int
set_version(struct db *db, int64_t version, bool dirty, bool in_tx,
    struct err *e)
{
	char v[24];
	const char *params[2] = { v, dirty ? "true" : "false" };
	PGresult *r = NULL;

	snprintf(v, sizeof(v), "%" PRId64, version);
	if (!in_tx && db_begin(db, e) != 0)
		return -1;
	PQclear(pq_exec(db, &clear_version_stmt, 0, NULL, e));
	if (!err_isset(e))
		r = pq_exec(db, &insert_version_stmt, 2, params, e);
	PQclear(r);
	if (r != NULL && !in_tx && db_commit(db, e) != 0)
		return -1;
	if (r == NULL && !in_tx)
		db_rollback(db);
	return r ? 0 : -1;
}

int
migrate_current(struct db *db, int64_t *version, bool *dirty, struct err *e)
{
	PGresult *r = NULL;

	*version = 0;
	*dirty = false;
	if (db_ready(db, e) != 0)
		return -1;
	r = pq_exec_plain(db, "SELECT to_regclass('schema_migrations') IS NOT NULL", e);
	if (r == NULL)
		return -1;
	if (!pq_bool(r, 0, 0)) {
		PQclear(r);
		return 0;
	}
	PQclear(r);
	r = pq_exec_plain(db, "SELECT version, dirty FROM schema_migrations LIMIT 1", e);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		*version = pq_int(r, 0, 0);
		*dirty = pq_bool(r, 0, 1);
	}
	PQclear(r);
	return 0;
}

/*
 * One step: mark `mark` dirty, run the file and record `to` as clean, all
 * but the mark in one transaction, so a failure leaves the mark dirty.
 */
static int
run_step(struct db *db, const char *name, const char *path, int64_t mark,
    int64_t to, struct err *e)
{
	char *sql = read_file(path, e);
	int rc = -1;

	if (sql == NULL)
		return -1;
	if (set_version(db, mark, true, false, e) != 0 || db_begin(db, e) != 0)
		goto out;
	if (mig_exec(db, name, sql, e) != 0 || set_version(db, to, false, true, e) != 0 ||
	    db_commit(db, e) != 0) {
		db_rollback(db);
		/* The mark stays: say so, once, with the cause. */
		if (e->http_status != 503) {
			struct err cause = *e;
			memset(e, 0, sizeof(*e));
			err_set(e, ERR_BAD_VALUE, NULL, "%s; the database is now dirty at version %" PRId64 ": repair the schema by hand, then fix the schema_migrations row",
			    cause.msg, mark);
		}
		goto out;
	}
	rc = 0;
out:
	free(sql);
	return rc;
}

/* Sets *locked once the advisory lock is held (the caller releases it). */
static int
lock_and_read(struct db *db, int64_t *version, bool *locked, struct err *e)
{
	bool dirty;

	/* The lock belongs to this session: pin it so a reconnect can never
	 * carry on without the lock. Lock first, so that even the bookkeeping
	 * table is created by one migrator at a time. */
	if (db_ready(db, e) != 0)
		return -1;
	db_pin(db);
	if (mig_exec(db, "taking the migration lock",
		"SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", e) != 0)
		return -1;
	*locked = true;
	if (mig_exec(db, "creating schema_migrations",
		"CREATE TABLE IF NOT EXISTS schema_migrations "
		"(version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)",
		e) != 0)
		return -1;
	if (migrate_current(db, version, &dirty, e) != 0)
		return -1;
	if (dirty) {
		err_set(e, ERR_BAD_VALUE, NULL,
		    "database is dirty at version %" PRId64
		    ": a migration failed half-way; "
		    "repair the schema by hand, then fix the schema_migrations row",
		    *version);
		return -1;
	}
	return 0;
}

/* A session lock ends with its session: when the connection is gone there
 * is nothing to release, and nothing to warn about. */
static void
unlock(struct db *db, bool locked)
{
	struct err failed = { 0 };
	PGconn *conn = pq_conn(db);

	if (!locked || conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return;
	if (mig_exec(db, "releasing the migration lock",
		"SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", &failed) != 0)
		log_warn("%s", failed.msg);
}

int
migrate_up(struct db *db, const struct migration_set *set, long steps,
    struct err *e)
{
	int64_t cur;
	bool locked = false;
	int rc = -1;

	if (lock_and_read(db, &cur, &locked, e) != 0)
		goto out;
	for (size_t i = 0; i < set->n && steps != 0; i++) {
		const struct migration *m = &set->items[i];
		if (m->version <= cur)
			continue;
		log_info("migrate up: applying %s", m->name);
		if (run_step(db, m->name, m->up_path, m->version, m->version, e) != 0)
			goto out;
		cur = m->version;
		steps--;
	}
	log_info("migrate up: at version %" PRId64, cur);
	rc = 0;
out:
	unlock(db, locked);
	return rc;
}

/* How many migrations of set are applied at version cur. */
static size_t
applied(const struct migration_set *set, int64_t cur)
{
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++)
		n += set->items[i].version <= cur;
	return n;
}

int
migrate_down(struct db *db, const struct migration_set *set, long steps,
    bool allow_all, struct err *e)
{
	int64_t cur;
	bool locked = false;
	int rc = -1;

	if (lock_and_read(db, &cur, &locked, e) != 0)
		goto out;
	if (!allow_all && applied(set, cur) > 0 &&
	    (steps < 0 || (size_t)steps >= applied(set, cur))) {
		err_set(e, ERR_TOO_MANY, NULL,
		    "this would revert every migration and drop "
		    "every table; to do that, give the count (migrate down %zu) or --yes",
		    applied(set, cur));
		goto out;
	}
	for (size_t i = set->n; i-- > 0 && steps != 0;) {
		const struct migration *m = &set->items[i];
		int64_t prev = i > 0 ? set->items[i - 1].version : 0;
		if (m->version > cur)
			continue;
		if (m->down_path == NULL) {
			err_set(e, ERR_BAD_VALUE, NULL, "migration %s has no .down.sql file", m->name);
			goto out;
		}
		log_info("migrate down: reverting %s", m->name);
		if (run_step(db, m->name, m->down_path, m->version, prev, e) != 0)
			goto out;
		cur = prev;
		steps--;
	}
	log_info("migrate down: at version %" PRId64, cur);
	rc = 0;
out:
	unlock(db, locked);
	return rc;
}
