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

#endif
