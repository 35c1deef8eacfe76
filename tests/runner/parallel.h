/*
 * parallel: one request sent P times at once, for races.
 *
 * Threads: P workers, each with its own CURL handle, released together by a
 * barrier; the checks run on the calling thread after every worker is joined.
 */
#ifndef RUNNER_PARALLEL_H
#define RUNNER_PARALLEL_H

#include <stdbool.h>

#include <jansson.h>

#include "buf.h"
#include "http.h"

#define PARALLEL_MAX 1000

/*
 * Sends rq p times at once (1 <= p <= PARALLEL_MAX; ${p} in the body becomes
 * each request's index) and checks the answers against the expanded step x:
 * expect_statuses (default [200]), the envelope when envelope is true,
 * expect_failure_message and expect_codes. Failures go to d; *shown receives
 * one response for the report (the first bad one), owned by the caller.
 */
void parallel_run(const json_t *x, const struct request *rq, bool envelope, long p,
    struct sbuf *d, struct response *shown);

/*
 * A race (tests/README.md, "race"): the lanes (an array of lane objects,
 * each a request with its own parallel count, default 1) all sent at once,
 * released by one barrier; then each lane's answers are checked as
 * parallel_run checks its own (expect_statuses, the envelope when
 * envelope(lane) says so, expect_failure_message, expect_codes) and, with
 * expect_one_of, every answer must match one of its expect objects.
 * Failures go to d; *shown receives one response for the report, owned by
 * the caller.
 */
void race_run(const json_t *lanes, const struct http_target *t,
    bool (*envelope)(const json_t *lane), struct sbuf *d, struct response *shown);

#endif
