#include "db/replica.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/counter.h"
#include "common/deadline.h"
#include "common/log.h"
#include "db/conninfo.h"

/* Samples not yet reached by the replica. When full the oldest goes,
 * which can only make the lag look larger: at the shortest interval (10 ms)
 * this still covers 640 ms, at the default 250 ms sixteen seconds. */
#define SAMPLES 64
/* Longest wait for one answer of the monitor's: a server that does not
 * answer by then counts as down (its connection is dropped). */
#define ANSWER_MS 2000
/* application_name of the monitor's sessions, apart from the pool's. */
#define MONITOR_APP "procsvc-replica-check"

enum state { ST_STARTING,
	ST_CURRENT,
	ST_LAGGING,
	ST_DOWN,
	ST_NOT_STANDBY };

struct sample {
	int64_t at;   /* monotonic ms, taken before the primary was asked */
	uint64_t lsn; /* the primary's WAL write position then */
};

struct db_replica {
	struct db_pool *pool;
	char *read_conninfo, *primary_conninfo;
	struct conn_cfg read_cfg, primary_cfg; /* the monitor's */
	char where[256];                       /* the replica, redacted */
	long max_lag_ms, interval_ms;
	pthread_t thread;
	bool started;

	/* The monitor thread's own. */
	struct db_conn mon_read, mon_primary;
	struct sample ring[SAMPLES];
	size_t first, n;

	pthread_mutex_t lock;
	pthread_cond_t wake; /* signalled to stop the monitor */
	/* Under lock. */
	bool stop;
	enum state state;
	bool current_known;
	int64_t current_at; /* the replica holds what the primary had then */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *monitor(void *arg);

void
db_replica_free(struct db_replica *r)
{
	if (r == NULL)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->lock);
		r->stop = true;
		pthread_cond_signal(&r->wake);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	conn_close(&r->mon_read);
	conn_close(&r->mon_primary);
	db_pool_free(r->pool);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r->read_conninfo);
	free(r->primary_conninfo);
	free(r);
}

struct db_replica *
db_replica_new(const struct conn_cfg *read_cfg, const struct conn_cfg *primary_cfg,
    size_t pool_size, long wait_ms, long max_lag_ms)
{
	struct db_replica *r = calloc(1, sizeof(*r));
	struct conn_cfg pool_cfg = *read_cfg;
	pthread_condattr_t attr;
	sigset_t all, old;
	int rc;

	if (r == NULL)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &attr);
	pthread_condattr_destroy(&attr);
	r->max_lag_ms = max_lag_ms;
	r->interval_ms = max_lag_ms / 4 < 10 ? 10 : (max_lag_ms / 4 > 1000 ? 1000 : max_lag_ms / 4);
	r->read_conninfo = strdup(read_cfg->conninfo);
	r->primary_conninfo = strdup(primary_cfg->conninfo);
	/* Failures on the replica are this module's to log, once per change. */
	pool_cfg.quiet = true;
	r->pool = db_pool_new(&pool_cfg, pool_size, wait_ms);
	if (r->read_conninfo == NULL || r->primary_conninfo == NULL || r->pool == NULL) {
		db_replica_free(r);
		return NULL;
	}
	r->read_cfg = (struct conn_cfg){ r->read_conninfo, MONITOR_APP, true, read_cfg->unnamed };
	r->primary_cfg = (struct conn_cfg){ r->primary_conninfo, MONITOR_APP, true,
		primary_cfg->unnamed };
	r->mon_read.cfg = &r->read_cfg;
	r->mon_primary.cfg = &r->primary_cfg;
	db_redact(r->read_conninfo, r->where, sizeof(r->where));
	/* The thread must not take the stop signals the server sigwaits for. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->thread, NULL, monitor, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		db_replica_free(r);
		return NULL;
	}
	r->started = true;
	return r;
}

/*
 * Runs sql, which returns one row, on c (opened first when needed) and
 * waits at most ANSWER_MS: the result, or NULL with why set and c closed.
 */
static PGresult *
ask(struct db_conn *c, const char *sql, char *why, size_t n)
{
	struct err e = { 0 };
	PGresult *res, *more;
	int64_t deadline;

	if (!conn_usable(c) && conn_open(c, &e) != 0) {
		conn_error(c, why, n);
		return NULL;
	}
	if (!PQsendQuery(c->pg, sql))
		goto fail;
	deadline = now_ms() + ANSWER_MS;
	while (PQisBusy(c->pg)) {
		struct pollfd p = { .fd = PQsocket(c->pg), .events = POLLIN };
		int64_t left = deadline - now_ms();
		int ready = left > 0 ? poll(&p, 1, (int)left) : 0;
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0) {
			snprintf(why, n, "no answer within %d ms", ANSWER_MS);
			conn_close(c);
			return NULL;
		}
		if (!PQconsumeInput(c->pg))
			goto fail;
	}
	res = PQgetResult(c->pg);
	while ((more = PQgetResult(c->pg)) != NULL)
		PQclear(more);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		return res;
	PQclear(res);
fail:
	conn_error(c, why, n);
	conn_close(c);
	return NULL;
}

static void
push(struct db_replica *r, int64_t at, uint64_t lsn)
{
	if (r->n == SAMPLES) {
		r->first = (r->first + 1) % SAMPLES;
		r->n--;
	}
	r->ring[(r->first + r->n) % SAMPLES] = (struct sample){ at, lsn };
	r->n++;
}

/* Drops the samples the replica has replayed up to; *at = the newest of
 * them. false when it reached none. (Positions only grow, so the ring is
 * in order of both time and position.) */
static bool
reach(struct db_replica *r, uint64_t replayed, int64_t *at)
{
	bool any = false;

	while (r->n > 0 && r->ring[r->first].lsn <= replayed) {
		*at = r->ring[r->first].at;
		any = true;
		r->first = (r->first + 1) % SAMPLES;
		r->n--;
	}
	return any;
}

/* Sets the state; logs when it changed. Takes the lock. */
static void
set_state(struct db_replica *r, enum state next, bool reached, int64_t at,
    const char *why, const char *primary_why)
{
	enum state was;
	long lag = -1;

	pthread_mutex_lock(&r->lock);
	if (reached && (!r->current_known || at > r->current_at)) {
		r->current_at = at;
		r->current_known = true;
	}
	if (r->current_known)
		lag = (long)(now_ms() - r->current_at);
	if (next == ST_CURRENT) {
		/* Back to current only well within the limit, so a lag that
		 * hovers around it does not flip (and log) at every check. */
		long limit = r->state == ST_CURRENT ? r->max_lag_ms : r->max_lag_ms / 2;
		if (lag < 0 || lag > limit)
			next = ST_LAGGING;
	}
	was = r->state;
	r->state = next;
	pthread_mutex_unlock(&r->lock);
	if (next == was)
		return;
	switch (next) {
	case ST_CURRENT:
		log_info("read replica %s: %ld ms behind the primary; lists are read there",
		    r->where, lag);
		break;
	case ST_LAGGING:
		if (primary_why[0] != '\0')
			log_warn(
			    "read replica %s: lag unknown, the primary does not answer (%s); "
			    "lists are read from the primary",
			    r->where, primary_why);
		else if (lag < 0)
			log_warn(
			    "read replica %s: has not replayed the primary's current WAL yet; "
			    "lists are read from the primary",
			    r->where);
		else
			log_warn(
			    "read replica %s: %ld ms behind the primary (PROCSVC_READ_MAX_LAG_MS=%ld); "
			    "lists are read from the primary until it catches up",
			    r->where, lag,
			    r->max_lag_ms);
		break;
	case ST_DOWN:
		log_warn(
		    "read replica %s: unavailable (%s); lists are read from the primary "
		    "until it answers",
		    r->where, why);
		break;
	case ST_NOT_STANDBY:
		log_warn(
		    "read replica %s: not a standby (pg_is_in_recovery() is false); lists "
		    "are read from the primary",
		    r->where);
		break;
	case ST_STARTING:
		break;
	}
}

static uint64_t
lsn_of(const PGresult *res, int col)
{
	return strtoull(PQgetvalue(res, 0, col), NULL, 10);
}

/* One measurement: the primary's position, then the replica's. */
static void
check(struct db_replica *r)
{
	char why[256] = "", primary_why[256] = "";
	int64_t t0 = now_ms(), at = 0;
	PGresult *p, *q;
	bool reached = false;
	enum state next = ST_CURRENT;

	p = ask(&r->mon_primary, "SELECT pg_current_wal_lsn() - '0/0'", primary_why,
	    sizeof(primary_why));
	if (p != NULL)
		push(r, t0, lsn_of(p, 0));
	PQclear(p);
	q = ask(&r->mon_read, "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() - '0/0'",
	    why, sizeof(why));
	if (q == NULL)
		next = ST_DOWN;
	else if (PQgetvalue(q, 0, 0)[0] != 't')
		next = ST_NOT_STANDBY;
	else if (!PQgetisnull(q, 0, 1))
		reached = reach(r, lsn_of(q, 1), &at);
	PQclear(q);
	set_state(r, next, reached, at, why, p == NULL ? primary_why : "");
}

static void *
monitor(void *arg)
{
	struct db_replica *r = arg;
	struct timespec next;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		pthread_mutex_unlock(&r->lock);
		check(r);
		deadline_after(&next, r->interval_ms);
		pthread_mutex_lock(&r->lock);
		while (!r->stop && pthread_cond_timedwait(&r->wake, &r->lock, &next) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

struct db_pool *
db_replica_choose(struct db_replica *r)
{
	bool up;

	pthread_mutex_lock(&r->lock);
	up = r->state == ST_CURRENT && r->current_known &&
	    now_ms() - r->current_at <= r->max_lag_ms;
	counter_inc(up ? COUNTER_DB_REPLICA_READS : r->state == ST_DOWN || r->state == ST_NOT_STANDBY ? COUNTER_DB_REPLICA_FALLBACK_DOWN :
													COUNTER_DB_REPLICA_FALLBACK_LAG);
	pthread_mutex_unlock(&r->lock);
	return up ? r->pool : NULL;
}

struct db_pool *
db_replica_pool(struct db_replica *r)
{
	return r->pool;
}

void
db_replica_failed(struct db_replica *r, const char *detail)
{
	bool changed;

	counter_inc(COUNTER_DB_REPLICA_FALLBACK_DOWN);
	pthread_mutex_lock(&r->lock);
	changed = r->state != ST_DOWN;
	r->state = ST_DOWN;
	pthread_mutex_unlock(&r->lock);
	if (changed)
		log_warn(
		    "read replica %s: a read failed (%s); lists are read from the primary "
		    "until it answers",
		    r->where, detail);
}

void
db_replica_stats(struct db_replica *r, struct db_replica_stats *out)
{
	int64_t now = now_ms();

	pthread_mutex_lock(&r->lock);
	out->up = r->state == ST_CURRENT && r->current_known &&
	    now - r->current_at <= r->max_lag_ms;
	out->lag_s = r->current_known ? (double)(now - r->current_at) / 1000.0 : -1.0;
	pthread_mutex_unlock(&r->lock);
}
