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
#include "common/log.h"
#include "db/db.h"
#include "db/migrate.h"
#include "http/server.h"

#define EXIT_CONFIG 2

static const char usage[] =
"usage: procsvc serve\n"
"       procsvc migrate up [N] | down [N] | status\n"
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
"  migrate down [N] revert the N newest migrations (default: 1)\n"
"  migrate status   print the schema version and whether it is dirty\n"
"\n"
"environment:\n"
"  DATABASE_URL               libpq URI or conninfo (required)\n"
"  PROCSVC_LISTEN             address:port to listen on (default 127.0.0.1:8080)\n"
"  PROCSVC_THREADS            worker threads = database connections (default 32)\n"
"  PROCSVC_APPS               accepted apps: code:secret[,code:secret...]\n"
"  PROCSVC_AUTH=off           accept any app (logs a warning; for local use only)\n"
"  PROCSVC_MAX_BODY           largest request body in bytes (default 4194304)\n"
"  PROCSVC_REQUEST_TIMEOUT_MS time a client has to send its request (default 10000)\n"
"  PROCSVC_MIGRATIONS         migrations directory (default: ./migrations, then\n"
"                             /usr/share/procsvc/migrations)\n"
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

static const char *
migrations_dir(void)
{
	static const char *const candidates[] = { "migrations", "/usr/share/procsvc/migrations" };
	const char *env = getenv("PROCSVC_MIGRATIONS");
	struct stat st;

	if (env != NULL && *env != '\0')
		return env;
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (stat(candidates[i], &st) == 0 && S_ISDIR(st.st_mode))
			return candidates[i];
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

static const char *
database_url(void)
{
	const char *url = getenv("DATABASE_URL");

	return url != NULL && *url != '\0' ? url : NULL;
}

static int
cmd_migrate(int argc, char **argv)
{
	struct migration_set set = { 0 };
	struct err e = { 0 };
	struct db *db = NULL;
	const char *url = database_url();
	long steps = -1;
	int rc = 1;

	if (argc < 1 || argc > 2)
		return config_error("%s", "usage: procsvc migrate up [N] | down [N] | status");
	if (url == NULL)
		return config_error("%s", "DATABASE_URL is not set");
	if (argc == 2) {
		char *end;
		errno = 0;
		steps = strtol(argv[1], &end, 10);
		if (errno != 0 || *end != '\0' || steps < 1 || strcmp(argv[0], "status") == 0)
			return config_error("bad step count: %s", argv[1]);
	} else if (strcmp(argv[0], "down") == 0) {
		steps = 1;
	}
	if (strcmp(argv[0], "up") != 0 && strcmp(argv[0], "down") != 0 &&
	    strcmp(argv[0], "status") != 0)
		return config_error("unknown migrate command: %s", argv[0]);
	if (load_migrations(&set) != 0)
		return EXIT_CONFIG;
	db = db_new(url);
	if (db == NULL)
		goto out;
	if (strcmp(argv[0], "status") == 0) {
		int64_t version;
		bool dirty;
		if (migrate_current(db, &version, &dirty, &e) != 0)
			goto out;
		printf("version %" PRId64 "%s (latest %" PRId64 ")%s\n", version,
		    dirty ? " dirty" : "", migrate_latest(&set),
		    dirty ? ": a migration failed; repair, then fix schema_migrations" :
		    version == migrate_latest(&set) ? ": up to date" : ": migrations pending");
		rc = 0;
		goto out;
	}
	if ((strcmp(argv[0], "up") == 0 ? migrate_up(db, &set, steps, &e) :
	    migrate_down(db, &set, steps, &e)) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "procsvc: migrate %s failed: %s\n", argv[0],
		    err_isset(&e) ? e.msg : "out of memory");
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

static int
cmd_serve(void)
{
	struct migration_set set = { 0 };
	struct api_config api = { 0 };
	struct http_config http = { 0 };
	struct http_server *server = NULL;
	struct err e = { 0 };
	char *apps = NULL;
	long threads, max_body, timeout;
	const char *auth = getenv("PROCSVC_AUTH");
	sigset_t sigs;
	int sig, rc = EXIT_CONFIG;

	http.conninfo = database_url();
	http.listen = getenv("PROCSVC_LISTEN");
	if (http.listen == NULL || *http.listen == '\0')
		http.listen = "127.0.0.1:8080";
	if (http.conninfo == NULL) {
		rc = config_error("%s", "DATABASE_URL is not set");
		goto out;
	}
	if (env_long("PROCSVC_THREADS", 1, 1024, 32, &threads) != 0 ||
	    env_long("PROCSVC_MAX_BODY", 1024, 1L << 30, 4194304, &max_body) != 0 ||
	    env_long("PROCSVC_REQUEST_TIMEOUT_MS", 100, 3600000, 10000, &timeout) != 0)
		goto out;
	if (auth != NULL && *auth != '\0' && strcmp(auth, "off") != 0 && strcmp(auth, "on") != 0) {
		rc = config_error("PROCSVC_AUTH=%s: use \"off\" (or leave it unset)", auth);
		goto out;
	}
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
	http.schema_version = migrate_latest(&set);
	api_configure(&api);
	if (api.auth_off)
		log_warn("PROCSVC_AUTH=off: app authentication is disabled, any bk_app_code is accepted");

	/* Block the stop signals before CivetWeb starts its threads, so only
	 * sigwait below receives them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	server = http_start(&http, &e);
	if (server == NULL) {
		rc = config_error("%s", e.msg);
		goto out;
	}
	log_info("procsvc listening on %s (%ld workers, schema version %" PRId64 ")",
	    http.listen, threads, http.schema_version);
	sigwait(&sigs, &sig);
	log_info("signal %d: stopping", sig);
	http_stop(server);
	log_info("stopped");
	rc = 0;
out:
	migration_set_free(&set);
	free(api.apps);
	free(apps);
	return rc;
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
	if (strcmp(argv[1], "--version") == 0) {
		puts("procsvc 0.1.0");
		return 0;
	}
	if (strcmp(argv[1], "serve") == 0 && argc == 2)
		return cmd_serve();
	if (strcmp(argv[1], "migrate") == 0)
		return cmd_migrate(argc - 2, argv + 2);
	return config_error("unknown command \"%s\"; try procsvc --help", argv[1]);
}
