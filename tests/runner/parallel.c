/* parallel: see parallel.h. */
#include "parallel.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bodies.h"
#include "expand.h"
#include "match.h"

struct worker {
	pthread_t tid;
	pthread_barrier_t *start;    /* shared: all workers send together */
	const struct request *rq;    /* shared, read-only */
	long index;                  /* ${p} in the body */
	struct response rs;          /* owned by the worker until joined */
};

/* The marks a worker fills in: text, plus 1 for the 1-based ones; the
 * _INT ones replace their whole quoted string with a bare integer. */
static const struct {
	const char *mark;
	long plus;
	bool quoted;
} marks[] = {
	{ "\"" PARALLEL_INT_MARK "\"", 0, true },
	{ "\"" PARALLEL_INT1_MARK "\"", 1, true },
	{ PARALLEL_MARK, 0, false },
	{ PARALLEL_MARK1, 1, false },
};

/* rq's body with every mark replaced by index; NULL: no mark. */
static char *
body_for_worker(const struct request *rq, long index, size_t *len)
{
	struct sbuf b = {0};
	const char *p = rq->body, *end;
	char num[24];
	bool any = false;

	if (p == NULL)
		return NULL;
	end = p + rq->body_len;
	while (p < end) {
		const char *first = NULL;
		size_t which = 0;

		for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
			const char *at = memmem(p, (size_t)(end - p), marks[m].mark, strlen(marks[m].mark));
			if (at != NULL && (first == NULL || at < first)) {
				first = at;
				which = m;
			}
		}
		if (first == NULL)
			break;
		any = true;
		snprintf(num, sizeof num, "%ld", index + marks[which].plus);
		sb_addn(&b, p, (size_t)(first - p));
		sb_adds(&b, num);
		p = first + strlen(marks[which].mark);
	}
	if (!any) {
		sb_free(&b);
		return NULL;
	}
	sb_addn(&b, p, (size_t)(end - p));
	*len = b.len;
	return b.p;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	CURL *h = curl_easy_init();
	struct request own = *w->rq;
	char *body = body_for_worker(w->rq, w->index, &own.body_len);

	if (body != NULL)
		own.body = body;
	pthread_barrier_wait(w->start);
	if (h != NULL) {
		http_perform(h, &own, &w->rs);
		bodies_record(&own, &w->rs, w->index);
	} else {
		snprintf(w->rs.curl_err, sizeof w->rs.curl_err, "curl_easy_init failed");
	}
	curl_easy_cleanup(h);
	free(body);
	return NULL;
}

static bool
status_allowed(const json_t *statuses, long status)
{
	const json_t *s;
	size_t i;

	if (statuses == NULL)
		return status == 200;
	json_array_foreach(statuses, i, s)
		if (json_integer_value(s) == status)
			return true;
	return false;
}

/* Checks the histogram of codes; counts[code] = n, "none" = no envelope code. */
static void
check_codes(const json_t *exp, const json_t *counts, struct sbuf *d)
{
	const char *k;
	json_t *v;

	match_count(1);     /* no code beyond the expected ones */
	json_object_foreach((json_t *)exp, k, v) {
		json_int_t got = json_integer_value(json_object_get(counts, k));

		match_count(1);
		if (!json_is_integer(v) || got != json_integer_value(v))
			diff_add(d, "expect_codes: code %s: expected %" JSON_INTEGER_FORMAT
			    ", got %" JSON_INTEGER_FORMAT, k, json_integer_value(v), got);
	}
	json_object_foreach((json_t *)counts, k, v)
		if (json_object_get(exp, k) == NULL)
			diff_add(d, "expect_codes: code %s came %" JSON_INTEGER_FORMAT
			    " times, not expected", k, json_integer_value(v));
}

/* expect_same_data: every answer of w[0..n) carries the same data (the
 * replays of one idempotency key). One check. */
static void
check_same_data(const json_t *x, const struct worker *w, long n, struct sbuf *d)
{
	const json_t *first;
	struct sbuf m = {0};

	if (!json_is_true(json_object_get(x, "expect_same_data")))
		return;
	match_count(1);
	first = json_object_get(w[0].rs.json, "data");
	for (long k = 1; k < n; k++) {
		const json_t *v = json_object_get(w[k].rs.json, "data");
		if (first != NULL && v != NULL && json_equal(first, v))
			continue;
		sb_printf(&m, "expect_same_data: request %ld's data ", k);
		if (v != NULL)
			sb_add_json(&m, v);
		else
			sb_adds(&m, "(none)");
		sb_adds(&m, " is not request 0's ");
		if (first != NULL)
			sb_add_json(&m, first);
		else
			sb_adds(&m, "(none)");
		diff_add(d, "%s", m.p);
		break;
	}
	sb_free(&m);
}

/* The checks of one parallel answer; failures go to one. */
static void
check_one(const json_t *x, const struct request *rq, bool envelope, long k,
    const struct response *rs, struct sbuf *one)
{
	const json_t *c = json_object_get(rs->json, "code");
	const json_t *loser_msg = json_object_get(x, "expect_failure_message");

	match_count(1);     /* a response with an allowed status */
	if (!rs->ok)
		diff_add(one, "request %ld: no response (%s)", k, rs->curl_err);
	else if (!status_allowed(json_object_get(x, "expect_statuses"), rs->status))
		diff_add(one, "request %ld: HTTP status %ld not allowed", k, rs->status);
	else if (envelope)
		match_envelope(rq, rs, one);
	/* expect_failure_message: what every failed response must say. */
	if (loser_msg != NULL && json_is_integer(c) && json_integer_value(c) != 0) {
		const char *m = json_string_value(json_object_get(rs->json, "message"));

		match_count(1);
		if (m == NULL || strstr(m, json_string_value(loser_msg)) == NULL)
			diff_add(one, "request %ld: message %s does not contain %s", k,
			    m ? m : "(none)", json_string_value(loser_msg));
	}
}

void
parallel_run(const json_t *x, const struct request *rq, bool envelope, long p,
    struct sbuf *d, struct response *shown)
{
	struct worker *w = xrealloc(NULL, (size_t)p * sizeof *w);
	pthread_barrier_t start;
	json_t *counts = json_object();
	long k, bad = -1;
	char code[32];

	memset(w, 0, (size_t)p * sizeof *w);
	pthread_barrier_init(&start, NULL, (unsigned)p);
	for (k = 0; k < p; k++) {
		w[k].start = &start;
		w[k].rq = rq;
		w[k].index = k;
	}
	/* Threads are started before any sends; a failed create would hang them. */
	for (k = 0; k < p; k++)
		if (pthread_create(&w[k].tid, NULL, worker_main, &w[k]) != 0) {
			fputs("test_runner: pthread_create failed\n", stderr);
			abort();
		}
	for (k = 0; k < p; k++)
		pthread_join(w[k].tid, NULL);
	for (k = 0; k < p; k++) {
		struct sbuf one = {0};
		const json_t *c = json_object_get(w[k].rs.json, "code");

		check_one(x, rq, envelope, k, &w[k].rs, &one);
		if (json_is_integer(c))
			snprintf(code, sizeof code, "%" JSON_INTEGER_FORMAT, json_integer_value(c));
		else
			snprintf(code, sizeof code, "none");
		json_object_set_new(counts, code, json_integer(
		    json_integer_value(json_object_get(counts, code)) + 1));
		if (one.len > 0 && bad < 0) {
			diff_add(d, "%s", one.p);
			bad = k;
		}
		sb_free(&one);
	}
	if (json_object_get(x, "expect_codes") != NULL)
		check_codes(json_object_get(x, "expect_codes"), counts, d);
	check_same_data(x, w, p, d);
	/* Keep one response for the report: the first bad one, else the first. */
	bad = bad < 0 ? 0 : bad;
	*shown = w[bad].rs;
	memset(&w[bad].rs, 0, sizeof w[bad].rs);
	for (k = 0; k < p; k++)
		response_free(&w[k].rs);
	pthread_barrier_destroy(&start);
	json_decref(counts);
	free(w);
}

/* ---- races ---------------------------------------------------------------- */

static const char *const lane_keys[] = {"name", "comment", "method", "path",
    "headers", "body", "raw_body", "raw_body_hex", "body_size", "auth", "timeout_ms",
    "envelope", "parallel", "expect_codes", "expect_failure_message",
    "expect_statuses", "expect_one_of", "expect_same_data", NULL};

/* Lane l's parallel count, or 0 when it is not 1..PARALLEL_MAX. */
static long
lane_count(const json_t *lane)
{
	const json_t *par = json_object_get(lane, "parallel");
	json_int_t p = par ? json_integer_value(par) : 1;

	if (par != NULL && !json_is_integer(par))
		return 0;
	return p >= 1 && p <= PARALLEL_MAX ? (long)p : 0;
}

/* Whether rs matches one of the expect objects of one_of; else why not. */
static void
check_one_of(const json_t *one_of, long k, const struct response *rs, struct sbuf *d)
{
	struct sbuf why = {0};
	const json_t *e;
	size_t i;

	match_count(1);
	json_array_foreach(one_of, i, e) {
		struct sbuf alt = {0};
		bool ok;

		match_expect(e, rs, &alt);
		ok = alt.len == 0;
		if (!ok)
			sb_printf(&why, "%s[%zu] %s", i > 0 ? "; " : "", i, alt.p);
		sb_free(&alt);
		if (ok) {
			sb_free(&why);
			return;
		}
	}
	diff_add(d, "request %ld: matches no expect_one_of: %s", k, sb_str(&why));
	sb_free(&why);
}

/* The checks of lane l over its answers rs[0..n); the first failing answer's
 * index into *bad (unchanged when none). */
static void
check_lane(const json_t *lane, size_t l, const struct request *rq, bool envelope,
    const struct worker *w, long n, struct sbuf *d, long *bad, long first)
{
	const json_t *one_of = json_object_get(lane, "expect_one_of");
	json_t *counts = json_object();
	char code[32];

	for (long k = 0; k < n; k++) {
		struct sbuf one = {0};
		const json_t *c = json_object_get(w[k].rs.json, "code");

		check_one(lane, rq, envelope, k, &w[k].rs, &one);
		if (one_of != NULL)
			check_one_of(one_of, k, &w[k].rs, &one);
		if (json_is_integer(c))
			snprintf(code, sizeof code, "%" JSON_INTEGER_FORMAT, json_integer_value(c));
		else
			snprintf(code, sizeof code, "none");
		json_object_set_new(counts, code, json_integer(
		    json_integer_value(json_object_get(counts, code)) + 1));
		if (one.len > 0) {
			diff_add(d, "lane %zu: %s", l, one.p);
			if (*bad < 0)
				*bad = first + k;
		}
		sb_free(&one);
	}
	if (json_object_get(lane, "expect_codes") != NULL) {
		struct sbuf c = {0};
		check_codes(json_object_get(lane, "expect_codes"), counts, &c);
		if (c.len > 0)
			diff_add(d, "lane %zu: %s", l, c.p);
		sb_free(&c);
	}
	{
		struct sbuf same = {0};
		check_same_data(lane, w, n, &same);
		if (same.len > 0)
			diff_add(d, "lane %zu: %s", l, same.p);
		sb_free(&same);
	}
	json_decref(counts);
}

void
race_run(const json_t *lanes, const struct http_target *t,
    bool (*envelope)(const json_t *lane), struct sbuf *d, struct response *shown)
{
	size_t nl = json_array_size(lanes), l;
	struct request *rq = xrealloc(NULL, (nl ? nl : 1) * sizeof *rq);
	long *count = xrealloc(NULL, (nl ? nl : 1) * sizeof *count), total = 0, k, bad = -1;
	struct worker *w = NULL;
	pthread_barrier_t start;
	const json_t *lane;
	const char *key;
	json_t *v;

	memset(rq, 0, (nl ? nl : 1) * sizeof *rq);
	if (!json_is_array(lanes) || nl == 0)
		diff_add(d, "race must be a non-empty array of lanes");
	json_array_foreach(lanes, l, lane) {
		if (d->len > 0)
			break;
		json_object_foreach((json_t *)lane, key, v)
			if (!match_key_known(key, lane_keys))
				diff_add(d, "race[%zu]: unknown lane key %s", l, key);
		count[l] = lane_count(lane);
		if (count[l] == 0)
			diff_add(d, "race[%zu]: parallel must be 1..%d", l, PARALLEL_MAX);
		else if (json_object_get(lane, "expect_one_of") != NULL &&
		    !json_is_array(json_object_get(lane, "expect_one_of")))
			diff_add(d, "race[%zu]: expect_one_of must be an array of expect objects", l);
		else if (request_build(lane, t, &rq[l], d) == 0)
			total += count[l];
	}
	if (d->len == 0 && total > PARALLEL_MAX)
		diff_add(d, "race: %ld requests; at most %d", total, PARALLEL_MAX);
	if (d->len > 0)
		goto out;
	w = xrealloc(NULL, (size_t)total * sizeof *w);
	memset(w, 0, (size_t)total * sizeof *w);
	pthread_barrier_init(&start, NULL, (unsigned)total);
	k = 0;
	for (l = 0; l < nl; l++)
		for (long i = 0; i < count[l]; i++, k++) {
			w[k].start = &start;
			w[k].rq = &rq[l];
			w[k].index = i;
		}
	for (k = 0; k < total; k++)
		if (pthread_create(&w[k].tid, NULL, worker_main, &w[k]) != 0) {
			fputs("test_runner: pthread_create failed\n", stderr);
			abort();
		}
	for (k = 0; k < total; k++)
		pthread_join(w[k].tid, NULL);
	k = 0;
	json_array_foreach(lanes, l, lane) {
		check_lane(lane, l, &rq[l], envelope(lane), &w[k], count[l], d, &bad, k);
		k += count[l];
	}
	bad = bad < 0 ? 0 : bad;
	*shown = w[bad].rs;
	memset(&w[bad].rs, 0, sizeof w[bad].rs);
	for (k = 0; k < total; k++)
		response_free(&w[k].rs);
	pthread_barrier_destroy(&start);
out:
	for (l = 0; l < nl; l++)
		request_free(&rq[l]);
	free(rq);
	free(count);
	free(w);
}
