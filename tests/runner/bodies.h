/*
 * bodies: the request bodies the server accepted, written as JSON Lines for
 * tests/openapi/check.mjs (`test_runner --dump-bodies FILE`), which
 * validates each against openapi.yaml's request schema of its operation.
 *
 * "Accepted" is what the server answered, not what the step expected: HTTP
 * 200 with envelope code 0. So every body there is one a success step (or a
 * successful answer of a parallel or race step) really sent: after every
 * template, matrix and ${...} was filled in, with the saved variables'
 * values and the worker's ${p}, and with the credentials the runner adds.
 *
 * Lines: {"method","path","body","where"}; path without the base URL,
 * where = "file [variant] :: step name" (with "#k" for the k-th request of
 * a parallel step or race lane). A body that is not JSON is skipped (it
 * could not have been accepted).
 *
 * Thread safety: bodies_record may be called from parallel workers at
 * once; bodies_open, bodies_where and bodies_close from the main thread
 * only, while no worker runs.
 */
#ifndef RUNNER_BODIES_H
#define RUNNER_BODIES_H

#include <stdbool.h>

#include "http.h"

/* Starts writing to path (truncated); base_url is cut from request URLs.
 * false when the file cannot be opened (errno says why). */
bool bodies_open(const char *path, const char *base_url);

/* The label of the requests recorded next ("file [variant] :: step");
 * copied. Does nothing when no file is open. */
void bodies_where(const char *where);

/* Records rq when rs is an accepted answer and a file is open; index >= 0
 * is the request's number within its parallel step or lane. */
void bodies_record(const struct request *rq, const struct response *rs, long index);

/* Closes the file; false when anything could not be written. */
bool bodies_close(void);

#endif
