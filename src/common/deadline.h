/*
 * deadline: absolute times for pthread_cond_timedwait on condition
 * variables that wait on CLOCK_MONOTONIC (pthread_condattr_setclock), so a
 * wall-clock jump neither stretches nor skips a wait. Thread-safe.
 */
#ifndef PROCSVC_COMMON_DEADLINE_H
#define PROCSVC_COMMON_DEADLINE_H

#include <time.h>

/* *ts = now (CLOCK_MONOTONIC) + ms; ms >= 0. */
void deadline_after(struct timespec *ts, long ms);

#endif
