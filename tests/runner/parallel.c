/* parallel: see parallel.h. */
#include "parallel.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expand.h"
#include "match.h"

struct worker {
	pthread_t tid;
	pthread_barrier_t *start;    /* shared: all workers send together */
	const struct request *rq;    /* shared, read-only */
	long index;                  /* ${p} in the body */
	struct response rs;          /* owned by the worker until joined */
};

/* rq's body with every PARALLEL_MARK replaced by index; NULL: no mark. */
static char *
body_for_worker(const struct request *rq, long index, size_t *len)
{
	struct sbuf b = {0};
	const char *p = rq->body, *end, *m;
	char num[24];

	if (p == NULL || memmem(p, rq->body_len, PARALLEL_MARK, sizeof PARALLEL_MARK - 1) == NULL)
		return NULL;
	end = p + rq->body_len;
	snprintf(num, sizeof num, "%ld", index);
	while ((m = memmem(p, (size_t)(end - p), PARALLEL_MARK, sizeof PARALLEL_MARK - 1)) != NULL) {
		sb_addn(&b, p, (size_t)(m - p));
		sb_adds(&b, num);
		p = m + sizeof PARALLEL_MARK - 1;
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
	if (h != NULL)
		http_perform(h, &own, &w->rs);
	else
		snprintf(w->rs.curl_err, sizeof w->rs.curl_err, "curl_easy_init failed");
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
