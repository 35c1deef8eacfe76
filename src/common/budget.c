#include "common/budget.h"

#include <errno.h>
#include <time.h>

#include "common/deadline.h"

void
budget_init(struct budget *b, size_t total, size_t small)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&b->lock, NULL);
	/* A wall-clock jump must not stretch or skip a wait. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&b->given, &attr);
	pthread_condattr_destroy(&attr);
	b->total = total;
	b->small = small;
	b->used = 0;
	b->waiting = 0;
	b->ready = true;
}

void
budget_destroy(struct budget *b)
{
	if (!b->ready)
		return;
	pthread_cond_destroy(&b->given);
	pthread_mutex_destroy(&b->lock);
	b->ready = false;
}

int
budget_take(struct budget *b, size_t n, long wait_ms, size_t *taken)
{
	struct timespec deadline;
	int rc = 0;

	*taken = 0;
	if (!b->ready || n <= b->small)
		return 0;
	if (n > b->total)
		n = b->total;
	deadline_after(&deadline, wait_ms);
	pthread_mutex_lock(&b->lock);
	b->waiting++;
	while (b->total - b->used < n && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&b->given, &b->lock, &deadline);
	b->waiting--;
	if (b->total - b->used >= n) {
		b->used += n;
		*taken = n;
	}
	pthread_mutex_unlock(&b->lock);
	return *taken == n ? 0 : -1;
}

void
budget_give(struct budget *b, size_t taken)
{
	if (taken == 0)
		return;
	pthread_mutex_lock(&b->lock);
	b->used -= taken;
	/* Waiters want different amounts: let each look again. */
	pthread_cond_broadcast(&b->given);
	pthread_mutex_unlock(&b->lock);
}

void
budget_usage(struct budget *b, size_t *used, size_t *waiting)
{
	*used = 0;
	*waiting = 0;
	if (!b->ready)
		return;
	pthread_mutex_lock(&b->lock);
	*used = b->used;
	*waiting = b->waiting;
	pthread_mutex_unlock(&b->lock);
}
