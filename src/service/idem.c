#include "service/idem.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/counter.h"
#include "common/deadline.h"
#include "common/log.h"
#include "db/db.h"
#include "db/idem.h"

_Static_assert(SVC_IDEM_SHA256 == DB_IDEM_SHA256, "one hash size");

/* Set once by svc_idem_start before the server starts. */
static long ttl_seconds = SVC_IDEM_TTL_DEFAULT;

static void
db_key(const struct svc_idem *k, struct db_idem_key *out)
{
	*out = (struct db_idem_key){ k->tenant, k->app, k->key, k->api, k->sha256 };
}

/* What runs after every BEGIN of a keyed request's transaction (db_hold);
 * arg is the request's struct svc_idem. */
static int
claim(struct db *db, void *arg, struct err *e)
{
	struct svc_idem *k = arg;
	struct db_idem_key dk;
	struct db_idem_row row;
	bool claimed;

	db_key(k, &dk);
	free(k->answer);
	k->answer = NULL;
	k->answer_len = 0;
	k->state = SVC_IDEM_NEW;
	if (db_idem_claim(db, &dk, ttl_seconds, &claimed, e) != 0)
		return -1;
	if (claimed) {
		k->state = SVC_IDEM_OWNED;
		return 0;
	}
	/* A live, committed row holds the key, locked by the claim. */
	if (db_idem_get(db, &dk, &row, e) != 0)
		return -1;
	if (!row.found || (row.same && row.answer == NULL)) {
		free(row.answer);
		log_error("idempotency key: a claim found a row it then could not read");
		err_server(e, "database unavailable, retry later");
		return -1;
	}
	if (!row.same) {
		free(row.answer);
		k->state = SVC_IDEM_CONFLICT;
		counter_inc(COUNTER_IDEM_CONFLICT);
		memcpy(k->first_api, row.api, sizeof(k->first_api));
		err_server(e, "idempotency key held by another request");
		return -1;
	}
	k->state = SVC_IDEM_REPLAY;
	counter_inc(COUNTER_IDEM_REPLAYED);
	k->answer = row.answer;
	k->answer_len = row.answer_len;
	/* Not an error to the client: the caller answers from k. It stops
	 * the service call like a server fault, which every path obeys. */
	err_server(e, "idempotency key answered before");
	return -1;
}

int
svc_idem_begin(const struct svc_req *req, struct svc_idem *k, struct err *e)
{
	k->tenant = req->tenant;
	k->state = SVC_IDEM_NEW;
	return db_hold_begin(req->ctx->db, claim, k, e);
}

int
svc_idem_commit(const struct svc_req *req, struct svc_idem *k,
    const char *data, size_t len, struct err *e)
{
	struct db *db = req->ctx->db;
	struct db_idem_key dk;

	if (k->state != SVC_IDEM_OWNED) {
		log_error("idempotency key: a request succeeded without owning its key");
		err_server(e, "internal error, retry later");
		db_hold_end(db);
		return -1;
	}
	db_key(k, &dk);
	if (db_idem_answer(db, &dk, data, len, e) != 0) {
		db_hold_end(db);
		return -1;
	}
	if (db_hold_commit(db, e) != 0)
		return -1;
	counter_inc(COUNTER_IDEM_STORED);
	return 0;
}

void
svc_idem_end(const struct svc_req *req)
{
	db_hold_end(req->ctx->db);
}

void
svc_idem_free(struct svc_idem *k)
{
	free(k->answer);
	k->answer = NULL;
	k->answer_len = 0;
}

/* ---- the purge of expired keys ------------------------------------------ */

/* Rows per DELETE: each batch is a short transaction of its own. */
#define PURGE_BATCH 500

static pthread_t purge_thread;
static bool purge_started;
static pthread_mutex_t purge_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t purge_cv;
static bool purge_stopping;

/* Sleeps ms (CLOCK_MONOTONIC) unless asked to stop: true when asked. */
static bool
purge_wait(long ms)
{
	struct timespec until;
	bool stop;

	deadline_after(&until, ms);
	pthread_mutex_lock(&purge_mu);
	while (!purge_stopping &&
	    pthread_cond_timedwait(&purge_cv, &purge_mu, &until) != ETIMEDOUT)
		;
	stop = purge_stopping;
	pthread_mutex_unlock(&purge_mu);
	return stop;
}

/* Deletes expired keys batch by batch; the connection goes back to the
 * pool between batches, so requests never wait behind a long purge. */
static void
purge_expired(void)
{
	struct svc_ctx *ctx = svc_ctx_new();
	struct err e = { 0 };
	long total = 0;
	int n = PURGE_BATCH;

	if (ctx == NULL)
		return;
	while (n == PURGE_BATCH) {
		if (db_idem_purge(ctx->db, PURGE_BATCH, &n, &e) != 0) {
			log_warn("expired idempotency keys not purged: %s", e.msg);
			break;
		}
		total += n;
		svc_ctx_release(ctx);
		if (n == PURGE_BATCH && purge_wait(10))
			break;
	}
	if (total > 0)
		log_debug("purged %ld expired idempotency keys", total);
	svc_ctx_free(ctx);
}

static void *
purge_main(void *arg)
{
	/* Every half lifetime, at most a minute apart: an expired key waits
	 * at most that long for its row to go (it is never replayed). */
	long every_ms = ttl_seconds * 500 < 60000 ? ttl_seconds * 500 : 60000;

	(void)arg;
	if (every_ms < 1000)
		every_ms = 1000;
	while (!purge_wait(every_ms))
		purge_expired();
	return NULL;
}

int
svc_idem_start(long ttl_s, struct err *e)
{
	pthread_condattr_t attr;
	sigset_t all, old;
	int rc;

	if (ttl_s <= 0) {
		err_server(e, "the idempotency key lifetime must be positive");
		return -1;
	}
	ttl_seconds = ttl_s;
	purge_stopping = false;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&purge_cv, &attr);
	pthread_condattr_destroy(&attr);
	/* The thread inherits a mask that blocks every signal: SIGTERM must
	 * reach main's sigwait (a graceful stop), never kill the process
	 * from this thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&purge_thread, NULL, purge_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&purge_cv);
		err_server(e, "cannot start the idempotency key purge: %s", strerror(rc));
		return -1;
	}
	purge_started = true;
	return 0;
}

void
svc_idem_stop(void)
{
	if (!purge_started)
		return;
	pthread_mutex_lock(&purge_mu);
	purge_stopping = true;
	pthread_cond_signal(&purge_cv);
	pthread_mutex_unlock(&purge_mu);
	pthread_join(purge_thread, NULL);
	pthread_cond_destroy(&purge_cv);
	purge_started = false;
}
