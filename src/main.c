/*
 * procsvc: the service-instance and process registry of a CMDB, speaking
 * the BlueKing CMDB API over HTTP and keeping its records in PostgreSQL.
 * This file reads the command line and the environment and hands over to
 * the server or the migrator; it holds no API logic.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "common/addr.h"
#include "common/log.h"
#include "db/conninfo.h"
#include "db/db.h"
#include "db/migrate.h"
#include "http/router.h"
#include "http/server.h"
#include "probe.h"

#define EXIT_CONFIG 2

#ifndef PROCSVC_VERSION
#define PROCSVC_VERSION "0.1.0"
#endif
/* The Makefile bakes in `git describe --always --dirty`. */
#ifndef PROCSVC_COMMIT
#define PROCSVC_COMMIT "unknown"
#endif

static const char usage[] =
    "usage: procsvc serve\n"
    "       procsvc migrate up [N] | down [N] [--yes] | status\n"
    "       procsvc probe [--live] [--timeout SECONDS]\n"
    "       procsvc routes\n"
    "       procsvc --help | --version\n"
    "\n"
    "procsvc serves the BlueKing CMDB service-instance and process APIs\n"
    "(create_service_instance, create_process_instance, list_process_instance,\n"
    "service and process templates, and its own topology mirror) over HTTP,\n"
    "storing everything in PostgreSQL.\n"
    "\n"
    "commands:\n"
    "  serve            run the HTTP server until SIGINT or SIGTERM\n"
    "  migrate up [N]   apply N pending migrations (default: all)\n"
    "  migrate down [N] revert the N newest migrations (default: 1); reverting\n"
    "                   the last one drops every table, and needs N or --yes\n"
    "  migrate status   print the schema version and whether it is dirty\n"
    "  probe            GET /readyz (--live: /healthz) of the server on\n"
    "                   PROCSVC_LISTEN; exit 0 when it answers 200 (health checks)\n"
    "  routes           print every method and path served, \"METHOD /path\" per line\n"
    "                   (ESB paths with their trailing slash; the form without\n"
    "                   it is the same route); openapi.yaml lists the same\n"
    "\n"
    "environment:\n"
    "  DATABASE_URL               libpq URI or conninfo (required by serve, migrate)\n"
    "  PROCSVC_DB_WAIT_S          seconds serve and migrate wait for a database that\n"
    "                             is not up yet (default 0: try once)\n"
    "  PROCSVC_LISTEN             [address:]port to listen on (default 127.0.0.1:8080)\n"
    "  PROCSVC_THREADS            HTTP connections served at once (default 256)\n"
    "  PROCSVC_DB_POOL            database connections (default 4 x CPU cores + 4);\n"
    "                             a request holds one only while it runs SQL\n"
    "  PROCSVC_DB_WAIT_MS         longest wait of a request for a free database\n"
    "                             connection (or decode memory) before 503 (default 2000)\n"
    "  PROCSVC_APPS               accepted apps: code:secret[,code:secret...]\n"
    "  PROCSVC_AUTH=off           accept any app (logs a warning; for local use only)\n"
    "  PROCSVC_MAX_BODY           largest request body in bytes (default 4194304)\n"
    "  PROCSVC_DECODE_MEMORY      bytes large request bodies may hold at once while\n"
    "                             they are decoded (default 1073741824)\n"
    "  PROCSVC_REQUEST_TIMEOUT_MS time a client has to send its request (default 10000)\n"
    "  PROCSVC_IDEMPOTENCY_TTL_S  seconds a write's answer is kept for retries with its\n"
    "                             X-Idempotency-Key (default 86400)\n"
    "  PROCSVC_SHUTDOWN_TIMEOUT_S on SIGTERM, longest wait for requests in flight to\n"
    "                             finish; new ones get 503 meanwhile (default 15)\n"
    "  PROCSVC_LOG_LEVEL          least severe log lines written: debug, info, warn,\n"
    "                             error (default info)\n"
    "  PROCSVC_LOG_PROBES=off     no access lines for GET /healthz, /readyz, /metrics\n"
    "                             (they are still counted in /metrics)\n"
    "  PROCSVC_PREPARE=off        no named prepared statements, no startup options:\n"
    "                             behind PgBouncer in transaction mode (default on)\n"
    "  PROCSVC_READ_URL           a streaming replica of DATABASE_URL for the list\n"
    "                             APIs (default: none, everything on the primary)\n"
    "  PROCSVC_READ_MAX_LAG_MS    lists go to the primary while the replica is\n"
    "                             further behind than this (default 1000)\n"
    "  PROCSVC_MIGRATIONS         migrations directory (default: ./migrations, then\n"
    "                             ../share/procsvc/migrations beside the binary,\n"
    "                             then /usr/share/procsvc/migrations)\n"
    "\n"
    "exit status: 0 ok, 1 runtime failure, 2 bad usage or configuration.\n";

static int config_error(const char *fmt, ...) ERR_PRINTF(1, 2);

/* Bad configuration is one line on stderr and exit status 2. */
static int
config_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "procsvc: %s\n", msg);
	return EXIT_CONFIG;
}

/* A positive integer in [lo, hi] from env name, or def when unset. */
static int
env_long(const char *name, long lo, long hi, long def, long *out)
{
	const char *v = getenv(name);
	char *end;
	long n;

	*out = def;
	if (v == NULL || *v == '\0')
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < lo || n > hi) {
		fprintf(stderr, "procsvc: %s=%s is not an integer in %ld..%ld\n", name, v, lo, hi);
		return -1;
	}
	*out = n;
	return 0;
}

/* PROCSVC_LOG_LEVEL: the least severe log lines written (default info). */
static int
log_config(void)
{
	const char *v = getenv("PROCSVC_LOG_LEVEL");
	enum log_level level = LOG_INFO;

	if (v != NULL && *v != '\0' && !log_level_parse(v, &level))
		return config_error("PROCSVC_LOG_LEVEL=%.32s: use debug, info, warn or error", v);
	log_set_level(level);
	return 0;
}

/* An on/off switch from env name: *out is def when unset. */
static int
env_switch(const char *name, bool def, bool *out)
{
	const char *v = getenv(name);

	*out = def;
	if (v == NULL || *v == '\0')
		return 0;
	if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
		return config_error("%s=%.32s: use on or off", name, v);
	*out = strcmp(v, "on") == 0;
	return 0;
}

/* Where `make install` puts the migrations, relative to the binary:
 * PREFIX/bin/procsvc -> PREFIX/share/procsvc/migrations, for any PREFIX. */
static bool
installed_migrations(char *buf, size_t n)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (len <= 0)
		return false;
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return false;
	*slash = '\0';
	return snprintf(buf, n, "%s/../share/procsvc/migrations", exe) < (int)n;
}

static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *
migrations_dir(void)
{
	static char beside[PATH_MAX + 32];
	const char *env = getenv("PROCSVC_MIGRATIONS");

	if (env != NULL && *env != '\0')
		return env;
	if (is_dir("migrations"))
		return "migrations";
	if (installed_migrations(beside, sizeof(beside)) && is_dir(beside))
		return beside;
	if (is_dir("/usr/share/procsvc/migrations"))
		return "/usr/share/procsvc/migrations";
	return NULL;
}

static int
load_migrations(struct migration_set *set)
{
	const char *dir = migrations_dir();
	struct err e = { 0 };

	if (dir == NULL)
		return config_error("%s", "cannot find the migrations directory; set PROCSVC_MIGRATIONS");
	if (migrate_load(dir, set, &e) != 0)
		return config_error("%s", e.msg);
	return 0;
}

/*
 * DATABASE_URL, checked the way libpq will read it: NULL after printing one
 * line (never the password) when it is unset or malformed.
 */
static const char *
database_url(void)
{
	const char *url = getenv("DATABASE_URL");
	struct err e = { 0 };

	if (url == NULL || *url == '\0') {
		config_error("%s", "DATABASE_URL is not set");
		return NULL;
	}
	if (db_conninfo_check("DATABASE_URL", url, &e) != 0) {
		config_error("%s", e.msg);
		return NULL;
	}
	return url;
}

/* PROCSVC_READ_URL, checked like DATABASE_URL: 0 with *out NULL when it is
 * unset or empty (no replica), -1 after printing one line. */
static int
read_url(const char **out)
{
	const char *url = getenv("PROCSVC_READ_URL");
	struct err e = { 0 };

	*out = NULL;
	if (url == NULL || *url == '\0')
		return 0;
	if (db_conninfo_check("PROCSVC_READ_URL", url, &e) != 0) {
		config_error("%s", e.msg);
		return -1;
	}
	*out = url;
	return 0;
}

/* migrate's command line, checked before the environment is looked at. */
struct migrate_args {
	const char *cmd; /* "up", "down", "status" */
	long steps;      /* -1: all (up) */
	bool yes;        /* down may revert every migration */
};

static int
parse_migrate_args(int argc, char **argv, struct migrate_args *a)
{
	static const char use[] = "usage: procsvc migrate up [N] | down [N] [--yes] | status";
	bool counted = false;

	memset(a, 0, sizeof(*a));
	a->steps = -1;
	if (argc < 1)
		return config_error("migrate needs a command; %s", use);
	a->cmd = argv[0];
	if (strcmp(a->cmd, "up") != 0 && strcmp(a->cmd, "down") != 0 &&
	    strcmp(a->cmd, "status") != 0)
		return config_error("unknown migrate command \"%s\"; %s", a->cmd, use);
	for (int i = 1; i < argc; i++) {
		char *end;
		if (strcmp(a->cmd, "status") == 0)
			return config_error("migrate status takes no arguments (got \"%s\")", argv[i]);
		if (strcmp(argv[i], "--yes") == 0 && strcmp(a->cmd, "down") == 0 && !a->yes) {
			a->yes = true;
			continue;
		}
		if (counted)
			return config_error("migrate %s: unexpected argument \"%s\"; %s",
			    a->cmd, argv[i], use);
		errno = 0;
		a->steps = strtol(argv[i], &end, 10);
		if (errno != 0 || *end != '\0' || end == argv[i] || a->steps < 1)
			return config_error(
			    "migrate %s: the step count must be a positive "
			    "integer, not \"%s\"",
			    a->cmd, argv[i]);
		counted = true;
	}
	/* An explicit count says how far to go; without one, down is one step. */
	if (strcmp(a->cmd, "down") == 0 && !counted)
		a->steps = 1;
	else if (counted)
		a->yes = true;
	return 0;
}

/* "; retry later" only where retrying can help: the database was not
 * reachable or the connection broke, not a refusal or a failed step. */
static void
report_failure(const char *what, const struct err *e)
{
	bool transient = e->http_status == 503;

	fprintf(stderr, "procsvc: %s failed: %s%s\n", what,
	    err_isset(e) ? e->msg : "out of memory",
	    transient && strstr(e->msg, "retry later") == NULL ? "; retry later" : "");
}

static int
cmd_migrate(int argc, char **argv)
{
	struct migration_set set = { 0 };
	struct migrate_args a;
	struct err e = { 0 };
	struct db *db = NULL;
	const char *url;
	char what[32];
	long wait_s;
	int rc = 1;

	if (parse_migrate_args(argc, argv, &a) != 0)
		return EXIT_CONFIG;
	if (log_config() != 0 || (url = database_url()) == NULL ||
	    env_long("PROCSVC_DB_WAIT_S", 0, 3600, 0, &wait_s) != 0 ||
	    load_migrations(&set) != 0) {
		migration_set_free(&set);
		return EXIT_CONFIG;
	}
	snprintf(what, sizeof(what), "migrate %s", a.cmd);
	if (db_conninfo_connect(url, wait_s, &e) != 0)
		goto out;
	db = db_new(url);
	if (db == NULL)
		goto out;
	if (strcmp(a.cmd, "status") == 0) {
		int64_t version;
		bool dirty;
		if (migrate_current(db, &version, &dirty, &e) != 0)
			goto out;
		printf("version %" PRId64 "%s (latest %" PRId64 ")%s\n", version,
		    dirty ? " dirty" : "", migrate_latest(&set),
		    dirty                               ? ": a migration failed; repair, then fix schema_migrations" :
			version == migrate_latest(&set) ? ": up to date" :
							  ": migrations pending");
		rc = 0;
		goto out;
	}
	if ((strcmp(a.cmd, "up") == 0 ? migrate_up(db, &set, a.steps, &e) :
					migrate_down(db, &set, a.steps, a.yes, &e)) != 0) {
		if (e.code == ERR_TOO_MANY)
			rc = EXIT_CONFIG;
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		report_failure(what, &e);
	db_free(db);
	migration_set_free(&set);
	return rc;
}
/* Parses "code:secret,code2:secret2" into cfg. Secrets are never logged. */
static int
parse_apps(char *spec, struct api_config *cfg)
{
	char *save = NULL;

	for (char *tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		struct api_app *apps;
		if (colon == NULL || colon == tok || colon[1] == '\0')
			return config_error("PROCSVC_APPS: entry \"%s\" is not code:secret",
			    colon ? "(hidden)" : tok);
		*colon = '\0';
		apps = realloc(cfg->apps, (cfg->napps + 1) * sizeof(*apps));
		if (apps == NULL)
			return config_error("%s", "out of memory");
		cfg->apps = apps;
		cfg->apps[cfg->napps].code = tok;
		cfg->apps[cfg->napps].secret = colon + 1;
		cfg->napps++;
	}
	return 0;
}

/*
 * One connection before serving, so that a wrong or unreachable database is
 * said at start and not on the first request, and the schema version logged
 * is the database's. The server starts either way: it connects per request
 * and /readyz answers 503 until the database is there and current.
 */
/*
 * Behind a transaction pooler procsvc cannot pin search_path and
 * statement_timeout itself (no startup options, no session state): says
 * so when the sessions it gets do not have them.
 */
static void
check_session_settings(struct db *db, const char *where)
{
	char path[256], timeout[64];
	struct err e = { 0 };

	if (db_setting(db, "search_path", path, sizeof(path), &e) != 0 ||
	    db_setting(db, "statement_timeout", timeout, sizeof(timeout), &e) != 0)
		return; /* check_database says why */
	if (strcmp(path, "public") != 0 || strcmp(timeout, "0") == 0)
		log_warn(
		    "PROCSVC_PREPARE=off: sessions of %s have search_path \"%s\" and "
		    "statement_timeout %s, which procsvc cannot set through a transaction pooler; "
		    "set search_path = public and a statement_timeout (10s) on the role "
		    "(ALTER ROLE ... SET) or in the pooler's connect_query",
		    where, path, timeout);
}

static void
check_database(const char *url, long wait_s, int64_t latest, bool unprepared)
{
	struct err e = { 0 };
	struct db *db = NULL;
	char where[512];
	int64_t version;
	bool dirty;

	db_redact(url, where, sizeof(where));
	if (db_conninfo_connect(url, wait_s, &e) != 0) {
		log_warn(
		    "%s; serving anyway: API requests answer 503 and /readyz 503 "
		    "until the database can be reached",
		    e.msg);
		return;
	}
	db = db_new(url);
	if (db != NULL && unprepared) {
		db_unprepared(db);
		check_session_settings(db, where);
	}
	if (db == NULL || migrate_current(db, &version, &dirty, &e) != 0) {
		log_warn("database %s: cannot read the schema version: %s", where,
		    err_isset(&e) ? e.msg : "out of memory");
	} else if (dirty || version < latest) {
		log_warn("database %s: schema version %" PRId64 "%s, this build needs %" PRId64
			 "; /readyz answers 503 until `procsvc migrate up` has run",
		    where, version,
		    dirty ? " (dirty: a migration failed half-way)" : "", latest);
	} else if (version > latest) {
		log_info("database %s: schema version %" PRId64 ", newer than this build's %" PRId64
			 " (a newer release migrated it; migrations only expand, so this one serves)",
		    where, version, latest);
	} else {
		log_info("database %s: schema version %" PRId64 " (current)", where, version);
	}
	db_free(db);
}

static int
cmd_serve(void)
{
	struct migration_set set = { 0 };
	struct api_config api = { 0 };
	struct http_config http = { 0 };
	struct http_server *server = NULL;
	struct addr listen;
	struct err e = { 0 };
	char *apps = NULL;
	long threads, max_body, timeout, wait_s, decode_memory, pool, wait_ms, max_lag;
	long idem_ttl, shutdown_s, left;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	const char *auth = getenv("PROCSVC_AUTH"), *prepare = getenv("PROCSVC_PREPARE");
	sigset_t sigs;
	bool api_ready_done = false;
	int sig, rc = EXIT_CONFIG;

	http.listen = getenv("PROCSVC_LISTEN");
	if (http.listen == NULL || *http.listen == '\0')
		http.listen = "127.0.0.1:8080";
	if ((api.conninfo = database_url()) == NULL)
		goto out;
	if (addr_parse(http.listen, &listen, &e) != 0) {
		rc = config_error("%s", e.msg);
		goto out;
	}
	if (cores < 1)
		cores = 1;
	/* Sizing: README "Connections and threads". */
	if (env_long("PROCSVC_THREADS", 1, 4096, 256, &threads) != 0 ||
	    env_long("PROCSVC_DB_POOL", 1, 1000, 4 * cores + 4, &pool) != 0 ||
	    env_long("PROCSVC_DB_WAIT_MS", 1, 600000, 2000, &wait_ms) != 0 ||
	    env_long("PROCSVC_DECODE_MEMORY", 16L << 20, 1L << 40, 1L << 30, &decode_memory) != 0 ||
	    env_long("PROCSVC_MAX_BODY", 1024, 1L << 30, 4194304, &max_body) != 0 ||
	    env_long("PROCSVC_REQUEST_TIMEOUT_MS", 100, 3600000, 10000, &timeout) != 0 ||
	    env_long("PROCSVC_DB_WAIT_S", 0, 3600, 0, &wait_s) != 0 ||
	    env_long("PROCSVC_READ_MAX_LAG_MS", 10, 86400000, 1000, &max_lag) != 0 ||
	    env_long("PROCSVC_IDEMPOTENCY_TTL_S", 1, 31536000, 86400, &idem_ttl) != 0 ||
	    env_long("PROCSVC_SHUTDOWN_TIMEOUT_S", 0, 3600, 15, &shutdown_s) != 0 ||
	    read_url(&api.read_conninfo) != 0)
		goto out;
	if (log_config() != 0 || env_switch("PROCSVC_LOG_PROBES", true, &http.log_probes) != 0)
		goto out;
	if (auth != NULL && *auth != '\0' && strcmp(auth, "off") != 0 && strcmp(auth, "on") != 0) {
		rc = config_error("PROCSVC_AUTH=%s: use \"off\" (or leave it unset)", auth);
		goto out;
	}
	if (prepare != NULL && *prepare != '\0' && strcmp(prepare, "off") != 0 &&
	    strcmp(prepare, "on") != 0) {
		rc = config_error(
		    "PROCSVC_PREPARE=%s: use \"off\" (behind a transaction pooler) "
		    "or leave it unset",
		    prepare);
		goto out;
	}
	api.unprepared = prepare != NULL && strcmp(prepare, "off") == 0;
	api.auth_off = auth != NULL && strcmp(auth, "off") == 0;
	apps = strdup(getenv("PROCSVC_APPS") ? getenv("PROCSVC_APPS") : "");
	if (apps == NULL || parse_apps(apps, &api) != 0)
		goto out;
	if (api.napps == 0 && !api.auth_off) {
		rc = config_error("%s", "PROCSVC_APPS is empty: set code:secret pairs, or PROCSVC_AUTH=off for local use");
		goto out;
	}
	if (load_migrations(&set) != 0)
		goto out;
	http.threads = (int)threads;
	http.max_body = (size_t)max_body;
	http.request_timeout_ms = timeout;
	http.version = PROCSVC_VERSION;
	http.commit = PROCSVC_COMMIT;
	api.schema_version = migrate_latest(&set);
	api.db_pool = (size_t)pool;
	api.db_wait_ms = wait_ms;
	api.decode_memory = (size_t)decode_memory;
	api.decode_wait_ms = wait_ms;
	api.read_max_lag_ms = max_lag;
	api.idem_ttl_s = idem_ttl;
	if (api_init(&api, &e) != 0) {
		rc = config_error("%s", e.msg);
		goto out;
	}
	api_ready_done = true;
	log_info("procsvc %s (commit %s) starting", PROCSVC_VERSION, PROCSVC_COMMIT);
	if (api.auth_off)
		log_warn("PROCSVC_AUTH=off: app authentication is disabled, any bk_app_code is accepted");
	check_database(api.conninfo, wait_s, api.schema_version, api.unprepared);
	if (api.read_conninfo != NULL) {
		char where[512];
		log_info(
		    "lists read from the replica %s while it is at most %ld ms behind "
		    "(PROCSVC_READ_MAX_LAG_MS), else from the primary",
		    db_redact(api.read_conninfo, where, sizeof(where)), max_lag);
	}

	/* Block the stop signals before CivetWeb starts its threads, so only
	 * sigwait below receives them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	server = http_start(&http, &e);
	if (server == NULL) {
		/* The address was well-formed (addr_parse): this is the
		 * machine's answer (in use, not local, no permission). */
		log_error("%s", e.msg);
		rc = 1;
		goto out;
	}
	log_info("procsvc listening on http://%s:%d (%ld HTTP workers, %ld database connections)",
	    listen.host[0] ? listen.host : "0.0.0.0", listen.port, threads, pool);
	sigwait(&sigs, &sig);
	/* Requests being served get their answers; new ones are told to go
	 * elsewhere. Whatever is still running after the timeout cannot
	 * answer any more, but its transaction ends as it would have:
	 * committed with its answer stored under its idempotency key, or not
	 * at all. */
	log_info(
	    "signal %d: stopping; requests in flight get up to %ld s "
	    "(PROCSVC_SHUTDOWN_TIMEOUT_S), new ones 503",
	    sig, shutdown_s);
	left = http_drain(server, shutdown_s * 1000);
	if (left > 0)
		log_warn(
		    "stopping with %ld requests still running after %ld s; "
		    "their clients get no answer",
		    left, shutdown_s);
	http_stop(server);
	log_info("stopped");
	rc = 0;
out:
	if (api_ready_done)
		api_shutdown();
	migration_set_free(&set);
	free(api.apps);
	free(apps);
	return rc;
}

static int
cmd_probe(int argc, char **argv)
{
	const char *spec = getenv("PROCSVC_LISTEN"), *path = "/readyz";
	struct addr a;
	struct err e = { 0 };
	char body[128];
	long timeout_s = 5;
	int status;

	for (int i = 0; i < argc; i++) {
		char *end;
		if (strcmp(argv[i], "--live") == 0) {
			path = "/healthz";
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			errno = 0;
			timeout_s = strtol(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || timeout_s < 1 || timeout_s > 600)
				return config_error(
				    "probe --timeout: \"%s\" is not a number of seconds "
				    "in 1..600",
				    argv[i]);
		} else {
			return config_error(
			    "probe: unexpected argument \"%s\"; usage: procsvc probe "
			    "[--live] [--timeout SECONDS]",
			    argv[i]);
		}
	}
	if (spec == NULL || *spec == '\0')
		spec = "127.0.0.1:8080";
	if (addr_parse(spec, &a, &e) != 0)
		return config_error("%s", e.msg);
	status = probe_get(&a, path, timeout_s * 1000, body, sizeof(body), &e);
	if (status < 0) {
		fprintf(stderr, "procsvc probe: http://%s:%d%s: %s\n", addr_connect_host(&a),
		    a.port, path, e.msg);
		return 1;
	}
	fprintf(status == 200 ? stdout : stderr, "procsvc probe: http://%s:%d%s: %d %s\n",
	    addr_connect_host(&a), a.port, path, status, body);
	return status == 200 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return config_error("%s", "no command given; try procsvc --help");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("procsvc %s (commit %s)\n", PROCSVC_VERSION, PROCSVC_COMMIT);
		return 0;
	}
	if (strcmp(argv[1], "serve") == 0) {
		if (argc > 2)
			return config_error(
			    "serve takes no arguments (got \"%s\"); it is configured "
			    "through the environment, see procsvc --help",
			    argv[2]);
		return cmd_serve();
	}
	if (strcmp(argv[1], "migrate") == 0)
		return cmd_migrate(argc - 2, argv + 2);
	if (strcmp(argv[1], "probe") == 0 || strcmp(argv[1], "healthcheck") == 0)
		return cmd_probe(argc - 2, argv + 2);
	if (strcmp(argv[1], "routes") == 0) {
		if (argc > 2)
			return config_error("routes takes no arguments (got \"%s\")", argv[2]);
		if (!router_print(stdout)) {
			fprintf(stderr, "procsvc routes: cannot write the routes: %s\n", strerror(errno));
			return 1;
		}
		return 0;
	}
	return config_error("unknown command \"%s\"; try procsvc --help", argv[1]);
}
