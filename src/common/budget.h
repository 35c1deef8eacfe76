/*
 * budget: a count of bytes shared by threads, taken before work that will
 * allocate about that much and given back after it. The server uses one
 * to bound the memory that request bodies being decoded may hold at once
 * (PROCSVC_DECODE_MEMORY): without it, 256 clients each sending a 4 MiB
 * body of tiny JSON values would make the parser allocate ~80 GB.
 *
 * Takes of at most `small` bytes are not counted (their total is bounded by
 * the number of worker threads), so ordinary requests never wait behind
 * large ones. A take larger than the whole budget is cut to the budget: it
 * runs alone rather than never.
 *
 * C library (pthreads) only. Thread-safe.
 */
#ifndef PROCSVC_COMMON_BUDGET_H
#define PROCSVC_COMMON_BUDGET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

struct budget {
	pthread_mutex_t lock;
	pthread_cond_t given;
	size_t total, small, used;
	size_t waiting;
	bool ready;
};

/* Sets b up with total bytes, of which takes up to small are free. */
void budget_init(struct budget *b, size_t total, size_t small);

/* Tears b down; nothing may be taken. */
void budget_destroy(struct budget *b);

/*
 * Takes n bytes, waiting up to wait_ms for them. 0 with *taken = what to
 * give back (0 for small takes and when b was never set up), or -1 when
 * the wait ran out (*taken = 0).
 */
int budget_take(struct budget *b, size_t n, long wait_ms, size_t *taken)
    MUST_CHECK;

/* Gives back what budget_take reported in *taken. */
void budget_give(struct budget *b, size_t taken);

/* Bytes taken now, and takes waiting (for the metrics). */
void budget_usage(struct budget *b, size_t *used, size_t *waiting);

#endif
