/*
 * idem: safe retries (the X-Idempotency-Key header, README "Safe
 * retries"). A write that carries a key runs in one transaction held
 * around all of its work (db.h, db_hold): the key is claimed when the
 * transaction begins, and the request's answer is stored on the key just
 * before COMMIT, so the key, the answer and the writes are committed
 * together or not at all.
 *
 * A claim waits while another request holds the same key uncommitted; once
 * that one commits, the key holds its answer and this request replays it
 * (or is a conflict when its API or body differ); once that one rolls back
 * (it failed, or its connection died), this request owns the key and runs.
 * So with one key at most one batch is ever written, and a failed request
 * leaves nothing behind: its retry runs again.
 *
 * Keys expire ttl_s seconds after their claim; an expired key is never
 * replayed (a claim takes it over), and a background thread deletes
 * expired ones in small batches.
 *
 * Plain C; the API layer computes the body's hash and encodes answers.
 */
#ifndef PROCSVC_SVC_IDEM_H
#define PROCSVC_SVC_IDEM_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "service/ctx.h"

#define SVC_IDEM_SHA256 32
#define SVC_IDEM_TTL_DEFAULT 86400

enum svc_idem_state {
	SVC_IDEM_NEW,      /* nothing decided yet (or a database fault) */
	SVC_IDEM_OWNED,    /* the key is this request's: run it */
	SVC_IDEM_REPLAY,   /* the same request committed before: answer */
	SVC_IDEM_CONFLICT, /* another request holds the key: 409 */
};

/* One keyed request. The inputs are borrowed and must outlive the
 * request's service work (a claim may run again during it). */
struct svc_idem {
	const char *app;                       /* bk_app_code the request authenticated as ("" if none) */
	const char *key;                       /* the header's value, already checked */
	const char *api;                       /* the API's name */
	unsigned char sha256[SVC_IDEM_SHA256]; /* of the raw request body */
	const char *tenant;                    /* set by svc_idem_begin: the request's */

	enum svc_idem_state state;
	char *answer; /* REPLAY: the stored data, JSON text (owned) */
	size_t answer_len;
	char first_api[64]; /* CONFLICT: the API the key was first used for */
};

/*
 * Sets the keys' lifetime (seconds, > 0) and starts the purge of expired
 * keys on a thread of its own, which uses the pool of svc_init (call after
 * it). 0, or -1 with e set.
 */
int svc_idem_start(long ttl_s, struct err *e) MUST_CHECK;

/* Stops the purge thread (waits for a batch it is running). NULL-safe in
 * spirit: does nothing when svc_idem_start did not run. */
void svc_idem_stop(void);

/*
 * Claims k for req: begins req's held transaction. 0 when the key is
 * k's (state OWNED): run the request; its statements join the
 * transaction. -1 otherwise, with state REPLAY (k->answer is the first
 * answer), CONFLICT, or NEW with e set (503: the database).
 * A service call that begins its transaction again after a rollback
 * claims the key again and can fail the same way: the caller looks at
 * k->state after any failure.
 */
int svc_idem_begin(const struct svc_req *req, struct svc_idem *k,
    struct err *e) MUST_CHECK;

/* Stores data (len bytes of JSON text, NUL-terminated) as k's answer and
 * commits req's held transaction. 0, or -1 with e set (nothing may have
 * been committed; or, when the COMMIT's answer was lost, everything). */
int svc_idem_commit(const struct svc_req *req, struct svc_idem *k,
    const char *data, size_t len, struct err *e) MUST_CHECK;

/* Rolls back req's held transaction, if any: the key is released. */
void svc_idem_end(const struct svc_req *req);

/* Frees what k owns. */
void svc_idem_free(struct svc_idem *k);

#endif
