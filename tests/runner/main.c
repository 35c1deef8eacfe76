/*
 * test_runner: data-driven HTTP tests for procsvc (run by scripts/test.sh).
 *
 *   test_runner FILE.json...
 *   test_runner --expand FILE.json...   (print the compiled steps, send nothing)
 *   test_runner --selftest FILE.json... (every step must fail, see below)
 *   test_runner --dump-bodies OUT FILE.json...  (also write the bodies the
 *               server accepted to OUT, as JSON Lines: bodies.h)
 *   test_runner --fail-fast FILE.json...  (stop at the first failed step:
 *               make mutate only wants to know whether anything fails)
 *
 * The case format is described in tests/README.md. Environment: PROCSVC_URL
 * (default http://127.0.0.1:8080), TEST_DATABASE_URL, PROCSVC_TEST_APP /
 * PROCSVC_TEST_SECRET / PROCSVC_TEST_USER (credentials added to object
 * bodies), TEST_FILTER (run only files whose path contains it),
 * TEST_VERBOSE=1 (print passing steps too).
 *
 * A file is compiled first (load.h: includes, templates, matrices,
 * variants), then run once per variant. Before each run every table of
 * schema public except schema_migrations is truncated and the saved
 * variables are cleared; each compiled step is one test.
 *
 * --selftest turns the verdict round, to show that the checks can fail: a
 * step passes when it fails and its failure message contains the step's
 * "fails_with" (tests/runner/selftest.json). The key exists only there.
 *
 * Output: FAIL lines with the request and response of failed steps, then
 * "assertions: N" (the checks made, see match.h) and "N passed, N failed"
 * as the last line. Exit status 1 when anything failed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bodies.h"
#include "buf.h"
#include "expand.h"
#include "http.h"
#include "load.h"
#include "match.h"
#include "parallel.h"
#include "sql.h"

static struct {
	struct http_target target;
	const char *db_url, *filter;
	bool verbose, selftest, fail_fast;
} cfg;

/* --fail-fast: a step failed, run nothing more. */
static bool stop;

/* What the steps of one run of a case file share. */
struct file_ctx {
	const char *path;
	const char *variant;  /* NULL: the file has none */
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
    "expect_codes", "expect_statuses", "repeat", "timeout_ms", "race",
    "expect_same_data", "drop_answer", "sql_wait_ms", NULL};

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
	if (json_is_true(json_object_get(x, "drop_answer"))) {
		if (par != NULL || json_object_get(x, "expect") != NULL ||
		    json_object_get(x, "save") != NULL)
			diff_add(d, "drop_answer sends one request and reads nothing: "
			    "no parallel, expect or save");
		else if (http_send_and_drop(rq, d) == 0)
			match_count(1);
		return;
	}
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
	bodies_record(rq, rs, -1);
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
	printf("FAIL %s%s%s%s :: %s: %s\n", fc->path, fc->variant ? " [" : "",
	    fc->variant ? fc->variant : "", fc->variant ? "]" : "", name, sb_str(d));
	if (rq->url != NULL) {
		http_print_request(rq);
		http_print_response(rs);
	}
	fflush(stdout);
}

/* --selftest: d (the step's failures) becomes empty when they were expected. */
static void
selftest_verdict(const json_t *fails_with, struct sbuf *d)
{
	struct sbuf got = *d;

	memset(d, 0, sizeof *d);
	if (got.len == 0)
		diff_add(d, "passed, but should have failed");
	else if (!json_is_string(fails_with))
		diff_add(d, "a selftest step needs \"fails_with\": \"part of the message\"");
	else if (strstr(got.p, json_string_value(fails_with)) == NULL)
		diff_add(d, "failed without \"%s\": %s", json_string_value(fails_with), got.p);
	sb_free(&got);
}

/* Runs one step (all its repeats). true when it passed. */
static bool
run_step(struct file_ctx *fc, const json_t *step, size_t index)
{
	const json_t *jrep = json_object_get(step, "repeat");
	json_int_t it, reps = jrep ? json_integer_value(jrep) : 1;
	char fallback[32], label[300], where[400];
	const char *name = json_string_value(json_object_get(step, "name")), *k;
	struct sbuf d = {0};
	struct request rq = {0};
	struct response rs = {0};
	json_t *v;
	bool passed;

	snprintf(fallback, sizeof fallback, "#%zu", index + 1);
	name = name ? name : fallback;
	snprintf(where, sizeof where, "%.120s%s%.60s%s :: %.200s", fc->path, fc->variant ? " [" : "",
	    fc->variant ? fc->variant : "", fc->variant ? "]" : "", name);
	bodies_where(where);
	json_object_foreach((json_t *)step, k, v)
		if (!match_key_known(k, step_keys) &&
		    !(cfg.selftest && strcmp(k, "fails_with") == 0))
			diff_add(&d, "unknown step key %s", k);
	if (jrep != NULL && (!json_is_integer(jrep) || reps < 0))
		diff_add(&d, "repeat must be an integer >= 0");
	for (it = 0; d.len == 0 && it < reps; it++) {
		struct scope sc = {.i = jrep ? it : -1, .j = -1};
		json_t *x = expand(step, fc->vars, sc, &d);

		request_free(&rq);
		response_free(&rs);
		if (x != NULL && json_object_get(x, "race") != NULL &&
		    json_object_get(x, "path") != NULL)
			diff_add(&d, "a race step has its requests in its lanes, not a path");
		else if (x != NULL && json_object_get(x, "race") != NULL)
			race_run(json_object_get(x, "race"), &cfg.target, wants_envelope, &d, &rs);
		else if (x != NULL && json_object_get(x, "path") != NULL)
			run_http(fc, x, &d, &rq, &rs);
		if (x != NULL && d.len == 0 && json_object_get(x, "sql") != NULL)
			sql_run_step(&fc->db, x, &d);
		if (x != NULL && json_object_get(x, "path") == NULL &&
		    json_object_get(x, "race") == NULL && json_object_get(x, "sql") == NULL)
			diff_add(&d, "step has neither path, race nor sql");
		json_decref(x);
		if (d.len > 0 && jrep != NULL) {
			snprintf(label, sizeof label, "%.250s (iteration %" JSON_INTEGER_FORMAT ")",
			    name, it);
			name = label;
		}
	}
	if (cfg.selftest)
		selftest_verdict(json_object_get(step, "fails_with"), &d);
	if (d.len > 0)
		print_failure(fc, name, &d, &rq, &rs);
	else if (cfg.verbose)
		printf("ok   %s%s%s%s :: %s\n", fc->path, fc->variant ? " [" : "",
		    fc->variant ? fc->variant : "", fc->variant ? "]" : "", name);
	passed = d.len == 0;
	request_free(&rq);
	response_free(&rs);
	sb_free(&d);
	return passed;
}

/* Runs the compiled steps of one run over an emptied database. */
static void
run_steps(const char *path, const struct load_run *run, int *passed, int *failed)
{
	struct file_ctx fc = {.path = path, .variant = run->name,
	    .db = {.url = cfg.db_url}};
	struct sbuf d = {0};
	const json_t *step;
	size_t i;

	if (cfg.db_url != NULL && sql_reset(&fc.db, &d) != 0) {
		printf("FAIL %s :: (setup): %s\n", path, sb_str(&d));
		(*failed)++;
		stop = cfg.fail_fast;
		goto out;
	}
	fc.vars = json_object();
	fc.curl = curl_easy_init();
	json_array_foreach(run->steps, i, step) {
		if (run_step(&fc, step, i))
			(*passed)++;
		else
			(*failed)++;
		stop = cfg.fail_fast && *failed > 0;
		if (stop)
			break;
	}
out:
	curl_easy_cleanup(fc.curl);
	sql_close(&fc.db);
	json_decref(fc.vars);
	sb_free(&d);
}

/*
 * Runs one case file, adding to *passed and *failed; a file that does not
 * compile is one failure. With expand_only, prints the compiled steps.
 */
static void
run_file(const char *path, bool expand_only, int *passed, int *failed)
{
	struct load_file lf = {0};
	struct sbuf d = {0};
	size_t i;

	if (load_case(path, &lf, &d) != 0) {
		printf("FAIL %s :: (load): %s\n", path, sb_str(&d));
		(*failed)++;
		stop = cfg.fail_fast;
		goto out;
	}
	for (i = 0; i < lf.nruns && !stop; i++) {
		if (expand_only) {
			json_t *o = json_pack("{s:s, s:s?, s:O}", "file", path, "variant",
			    lf.runs[i].name, "steps", lf.runs[i].steps);

			json_dumpf(o, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
			putchar('\n');
			json_decref(o);
			*passed += (int)json_array_size(lf.runs[i].steps);
		} else
			run_steps(path, &lf.runs[i], passed, failed);
	}
out:
	load_free(&lf);
	sb_free(&d);
}

int
main(int argc, char **argv)
{
	int i = 1, passed = 0, failed = 0;
	bool expand_only = false;
	const char *dump = NULL;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--expand") == 0)
			expand_only = true;
		else if (strcmp(argv[i], "--selftest") == 0)
			cfg.selftest = true;
		else if (strcmp(argv[i], "--dump-bodies") == 0 && i + 1 < argc)
			dump = argv[++i];
		else if (strcmp(argv[i], "--fail-fast") == 0)
			cfg.fail_fast = true;
		else
			break;
	}
	if (i >= argc || strncmp(argv[i], "--", 2) == 0 || expand_only + cfg.selftest +
	    (dump != NULL) > 1) {
		fprintf(stderr, "usage: %s [--fail-fast] [--expand | --selftest | --dump-bodies OUT] FILE.json...\n",
		    argv[0]);
		return 2;
	}
	cfg.target.base_url = env_or("PROCSVC_URL", "http://127.0.0.1:8080");
	cfg.target.app = env_or("PROCSVC_TEST_APP", NULL);
	cfg.target.secret = env_or("PROCSVC_TEST_SECRET", NULL);
	cfg.target.user = env_or("PROCSVC_TEST_USER", NULL);
	cfg.db_url = env_or("TEST_DATABASE_URL", NULL);
	cfg.filter = env_or("TEST_FILTER", NULL);
	cfg.verbose = strcmp(env_or("TEST_VERBOSE", "0"), "1") == 0;
	if (dump != NULL && !bodies_open(dump, cfg.target.base_url)) {
		fprintf(stderr, "test_runner: cannot write %s: %s\n", dump, strerror(errno));
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("test_runner: curl_global_init failed\n", stderr);
		return 2;
	}
	for (; i < argc && !stop; i++)
		if (cfg.filter == NULL || strstr(argv[i], cfg.filter) != NULL)
			run_file(argv[i], expand_only, &passed, &failed);
	curl_global_cleanup();
	if (expand_only) {
		fprintf(stderr, "%d steps, %d files failed to load\n", passed, failed);
		return failed > 0 ? 1 : 0;
	}
	if (!bodies_close()) {
		printf("FAIL --dump-bodies %s: could not be written\n", dump);
		failed++;
	}
	printf("assertions: %lu\n", match_assertions());
	printf("%d passed, %d failed\n", passed, failed);
	return failed > 0 ? 1 : 0;
}
