#include "db/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/deadline.h"
#include "common/log.h"

/*
 * A request waiting for a connection. db_pool_put hands a returned
 * connection straight to the longest waiting one (FIFO): with one shared
 * condition variable a thread that had just given a connection back, or
 * had just arrived, took it again ahead of the ones woken for it, and a
 * few requests waited for hundreds of milliseconds while the median took
 * one (make bench, list_process_instance p99 300-400 ms at a 6-12 pool).
 */
struct waiter {
	pthread_cond_t handed; /* signalled when conn is set */
	struct db_conn *conn;
	struct waiter *next;
};

struct db_pool {
	pthread_mutex_t lock;
	pthread_condattr_t clock;   /* for the waiters' conditions */
	struct waiter *head, *tail; /* waiting requests, oldest first */
	struct conn_cfg cfg;        /* its conninfo is ours (conninfo) */
	char *conninfo;
	long wait_ms;
	struct db_conn *conns; /* size of them */
	struct db_conn **free; /* a stack of idle ones: the warmest on top */
	size_t size, nfree, waiting;
	unsigned long long timeouts;
};

struct db_pool *
db_pool_new(const struct conn_cfg *cfg, size_t size, long wait_ms)
{
	struct db_pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->conninfo = strdup(cfg->conninfo);
	p->conns = calloc(size, sizeof(*p->conns));
	p->free = calloc(size, sizeof(*p->free));
	if (p->conninfo == NULL || p->conns == NULL || p->free == NULL) {
		free(p->conninfo);
		free(p->conns);
		free(p->free);
		free(p);
		return NULL;
	}
	p->cfg = *cfg;
	p->cfg.conninfo = p->conninfo;
	p->size = size;
	p->wait_ms = wait_ms;
	for (size_t i = 0; i < size; i++)
		p->conns[i].cfg = &p->cfg;
	/* Pushed in reverse, so the first connection is handed out first and
	 * a quiet server keeps using the same few. */
	for (size_t i = 0; i < size; i++)
		p->free[p->nfree++] = &p->conns[size - 1 - i];
	pthread_mutex_init(&p->lock, NULL);
	/* Deadlines on the monotonic clock: a wall-clock jump must not turn a
	 * 2 s wait into an hour or into nothing. */
	pthread_condattr_init(&p->clock);
	pthread_condattr_setclock(&p->clock, CLOCK_MONOTONIC);
	return p;
}

void
db_pool_free(struct db_pool *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->size; i++)
		conn_close(&p->conns[i]);
	pthread_condattr_destroy(&p->clock);
	pthread_mutex_destroy(&p->lock);
	free(p->conns);
	free(p->free);
	free(p->conninfo);
	free(p);
}

/* Takes w out of the queue (it timed out before being handed one). */
static void
unqueue(struct db_pool *p, struct waiter *w)
{
	struct waiter **at = &p->head, *prev = NULL;

	while (*at != NULL && *at != w) {
		prev = *at;
		at = &(*at)->next;
	}
	if (*at == NULL)
		return;
	*at = w->next;
	if (p->tail == w)
		p->tail = prev;
}

/* A thread waits for one connection at a time: its queue entry is its own
 * (and lives as long as the thread, longer than any wait). */
static _Thread_local struct waiter self;

struct db_conn *
db_pool_get(struct db_pool *p, struct err *e)
{
	struct waiter *w = &self;
	struct db_conn *c = NULL;
	struct timespec deadline;
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	/* A free connection goes to a newcomer only when nobody queues. */
	if (p->head == NULL && p->nfree > 0) {
		c = p->free[--p->nfree];
		pthread_mutex_unlock(&p->lock);
		return c;
	}
	deadline_after(&deadline, p->wait_ms);
	w->conn = NULL;
	w->next = NULL;
	pthread_cond_init(&w->handed, &p->clock);
	if (p->tail != NULL)
		p->tail->next = w;
	else
		p->head = w;
	p->tail = w;
	p->waiting++;
	while (w->conn == NULL && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->handed, &p->lock, &deadline);
	p->waiting--;
	if ((c = w->conn) == NULL) {
		unqueue(p, w);
		p->timeouts++;
	}
	pthread_mutex_unlock(&p->lock);
	pthread_cond_destroy(&w->handed);
	if (c == NULL) {
		log_warn("no database connection free within %ld ms (PROCSVC_DB_POOL=%zu)",
		    p->wait_ms, p->size);
		err_server(e, "database busy, retry later");
	}
	return c;
}

void
db_pool_put(struct db_pool *p, struct db_conn *c)
{
	struct waiter *w;

	/* Outside the lock: a ROLLBACK is a round trip. */
	conn_clean(c);
	pthread_mutex_lock(&p->lock);
	if ((w = p->head) != NULL) {
		p->head = w->next;
		if (p->head == NULL)
			p->tail = NULL;
		w->conn = c;
		pthread_cond_signal(&w->handed);
	} else {
		p->free[p->nfree++] = c;
	}
	pthread_mutex_unlock(&p->lock);
}

void
db_pool_stats(struct db_pool *p, struct db_pool_stats *out)
{
	pthread_mutex_lock(&p->lock);
	out->size = p->size;
	out->idle = p->nfree;
	out->in_use = p->size - p->nfree;
	out->waiting = p->waiting;
	out->timeouts = p->timeouts;
	out->open = 0;
	/* Idle connections are not touched by anyone else while we hold the
	 * lock; lent ones are, so they are not looked at. */
	for (size_t i = 0; i < p->nfree; i++)
		out->open += p->free[i]->pg != NULL;
	pthread_mutex_unlock(&p->lock);
}
