/*
 * test_runner: data-driven HTTP tests for procsvc (run by scripts/test.sh).
 *
 *   test_runner FILE.json...
 *
 * The case format is described in tests/README.md. Environment: PROCSVC_URL
 * (default http://127.0.0.1:8080), TEST_DATABASE_URL, PROCSVC_TEST_APP /
 * PROCSVC_TEST_SECRET / PROCSVC_TEST_USER (credentials added to object
 * bodies), TEST_FILTER (run only files whose path contains it),
 * TEST_VERBOSE=1 (print passing steps too).
 *
 * Before each case file every table of schema public except
 * schema_migrations is truncated and the saved variables are cleared; each
 * step is one test.
 *
 * Output: FAIL lines with the request and response of failed steps, then
 * "assertions: N" (the checks made, see match.h) and "N passed, N failed"
 * as the last line. Exit status 1 when anything failed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "expand.h"
#include "http.h"
#include "match.h"
#include "parallel.h"
#include "sql.h"

static struct {
	struct http_target target;
	const char *db_url, *filter;
	bool verbose;
} cfg;

/* What one case file's steps share. */
struct file_ctx {
	const char *path;
	json_t *vars;       /* saved variables; owned */
	struct sql_db db;
	CURL *curl;         /* one handle for sequential steps, so keep-alive is used */
};

static const char *
env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && *v ? v : dflt;
}

static const char *const step_keys[] = {"name", "comment", "method", "path",
    "headers", "body", "raw_body", "raw_body_hex", "body_size", "auth", "expect",
    "envelope", "save", "sql", "sql_params", "sql_expect", "parallel",
    "expect_failure_message",
    "expect_codes", "expect_statuses", "repeat", "timeout_ms", NULL};

static void
save_vars(struct file_ctx *fc, const json_t *save, const struct response *rs,
    struct sbuf *d)
{
	const char *name;
	json_t *sel;

	json_object_foreach((json_t *)save, name, sel) {
		const json_t *v = json_is_string(sel) ?
		    match_select(rs->json, json_string_value(sel)) : NULL;

		match_count(1);
		if (v == NULL)
			diff_add(d, "save %s: selector %s matches nothing", name,
			    json_is_string(sel) ? json_string_value(sel) : "?");
		else
			json_object_set_new(fc->vars, name, json_deep_copy(v));
	}
}

/* Whether the envelope check applies: expect.envelope, step.envelope, path. */
static bool
wants_envelope(const json_t *x)
{
	const json_t *e = json_object_get(json_object_get(x, "expect"), "envelope");
	const json_t *path = json_object_get(x, "path");

	if (e == NULL)
		e = json_object_get(x, "envelope");
	if (e != NULL)
		return json_is_true(e);
	return json_is_string(path) && strncmp(json_string_value(path), "/api/", 5) == 0;
}

/* One execution of an expanded step x. Failures go to d; rq/rs are for the report. */
static void
run_http(struct file_ctx *fc, const json_t *x, struct sbuf *d, struct request *rq,
    struct response *rs)
{
	const json_t *par = json_object_get(x, "parallel");
	bool envelope = wants_envelope(x);

	if (request_build(x, &cfg.target, rq, d) != 0)
		return;
	if (par != NULL) {
		json_int_t p = json_integer_value(par);

		if (!json_is_integer(par) || p < 1 || p > PARALLEL_MAX ||
		    json_object_get(x, "expect") != NULL || json_object_get(x, "save") != NULL)
			diff_add(d, "parallel must be 1..%d, without expect or save", PARALLEL_MAX);
		else
			parallel_run(x, rq, envelope, (long)p, d, rs);
		return;
	}
	http_perform(fc->curl, rq, rs);
	if (!rs->ok) {
		diff_add(d, "no response: %s", rs->curl_err);
		return;
	}
	if (envelope)
		match_envelope(rq, rs, d);
	match_expect(json_object_get(x, "expect"), rs, d);
	save_vars(fc, json_object_get(x, "save"), rs, d);
}

static void
print_failure(const struct file_ctx *fc, const char *name, const struct sbuf *d,
    const struct request *rq, const struct response *rs)
{
	printf("FAIL %s :: %s: %s\n", fc->path, name, sb_str(d));
	if (rq->url != NULL) {
		http_print_request(rq);
		http_print_response(rs);
	}
	fflush(stdout);
}

/* Runs one step (all its repeats). true when it passed. */
static bool
run_step(struct file_ctx *fc, const json_t *step, size_t index)
{
	const json_t *jrep = json_object_get(step, "repeat");
	json_int_t it, reps = jrep ? json_integer_value(jrep) : 1;
	char fallback[32], label[300];
	const char *name = json_string_value(json_object_get(step, "name")), *k;
	struct sbuf d = {0};
	struct request rq = {0};
	struct response rs = {0};
	json_t *v;
	bool passed;

	snprintf(fallback, sizeof fallback, "#%zu", index + 1);
	name = name ? name : fallback;
	json_object_foreach((json_t *)step, k, v)
		if (!match_key_known(k, step_keys))
			diff_add(&d, "unknown step key %s", k);
	if (jrep != NULL && (!json_is_integer(jrep) || reps < 0))
		diff_add(&d, "repeat must be an integer >= 0");
	for (it = 0; d.len == 0 && it < reps; it++) {
		struct scope sc = {.i = jrep ? it : -1, .j = -1};
		json_t *x = expand(step, fc->vars, sc, &d);

		request_free(&rq);
		response_free(&rs);
		if (x != NULL && json_object_get(x, "path") != NULL)
			run_http(fc, x, &d, &rq, &rs);
		if (x != NULL && d.len == 0 && json_object_get(x, "sql") != NULL)
			sql_run_step(&fc->db, x, &d);
		if (x != NULL && json_object_get(x, "path") == NULL &&
		    json_object_get(x, "sql") == NULL)
			diff_add(&d, "step has neither path nor sql");
		json_decref(x);
		if (d.len > 0 && jrep != NULL) {
			snprintf(label, sizeof label, "%.250s (iteration %" JSON_INTEGER_FORMAT ")",
			    name, it);
			name = label;
		}
	}
	if (d.len > 0)
		print_failure(fc, name, &d, &rq, &rs);
	else if (cfg.verbose)
		printf("ok   %s :: %s\n", fc->path, name);
	passed = d.len == 0;
	request_free(&rq);
	response_free(&rs);
	sb_free(&d);
	return passed;
}

/* Runs one case file, adding to *passed and *failed. */
static void
run_file(const char *path, int *passed, int *failed)
{
	struct file_ctx fc = {.path = path, .db = {.url = cfg.db_url}};
	struct sbuf d = {0};
	json_error_t jerr;
	json_t *doc = json_load_file(path, JSON_ALLOW_NUL, &jerr);
	const json_t *steps = json_object_get(doc, "steps"), *step;
	size_t i;

	if (doc == NULL) {
		diff_add(&d, "line %d: %s", jerr.line, jerr.text);
		goto fail;
	}
	if (!json_is_array(steps)) {
		diff_add(&d, "\"steps\" must be an array");
		goto fail;
	}
	if (cfg.db_url != NULL && sql_reset(&fc.db, &d) != 0)
		goto fail;
	fc.vars = json_object();
	fc.curl = curl_easy_init();
	json_array_foreach(steps, i, step) {
		if (run_step(&fc, step, i))
			(*passed)++;
		else
			(*failed)++;
	}
	goto out;
fail:
	printf("FAIL %s :: (setup): %s\n", path, sb_str(&d));
	(*failed)++;
out:
	curl_easy_cleanup(fc.curl);
	sql_close(&fc.db);
	json_decref(fc.vars);
	json_decref(doc);
	sb_free(&d);
}

int
main(int argc, char **argv)
{
	int i, passed = 0, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE.json...\n", argv[0]);
		return 2;
	}
	cfg.target.base_url = env_or("PROCSVC_URL", "http://127.0.0.1:8080");
	cfg.target.app = env_or("PROCSVC_TEST_APP", NULL);
	cfg.target.secret = env_or("PROCSVC_TEST_SECRET", NULL);
	cfg.target.user = env_or("PROCSVC_TEST_USER", NULL);
	cfg.db_url = env_or("TEST_DATABASE_URL", NULL);
	cfg.filter = env_or("TEST_FILTER", NULL);
	cfg.verbose = strcmp(env_or("TEST_VERBOSE", "0"), "1") == 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("test_runner: curl_global_init failed\n", stderr);
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (cfg.filter == NULL || strstr(argv[i], cfg.filter) != NULL)
			run_file(argv[i], &passed, &failed);
	curl_global_cleanup();
	printf("assertions: %lu\n", match_assertions());
	printf("%d passed, %d failed\n", passed, failed);
	return failed > 0 ? 1 : 0;
}
