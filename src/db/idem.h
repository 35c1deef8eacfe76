/*
 * db/idem: the SQL of idempotency keys (table idempotency_key of
 * migrations/0003_idempotency.up.sql). A key belongs to an app in a
 * tenant; its row holds the API and the SHA-256 of the request that first
 * used it, and that request's answer.
 *
 * Transactions belong to the caller (service/idem): db_idem_claim,
 * db_idem_get and db_idem_answer run inside the transaction of the request
 * they serve; db_idem_purge runs on its own. Errors come from pq_exec
 * unchanged (503 / 1199999 for database faults).
 */
#ifndef PROCSVC_DB_IDEM_H
#define PROCSVC_DB_IDEM_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "db/db.h"

#define DB_IDEM_SHA256 32

/* A key and the request that carries it; all borrowed. */
struct db_idem_key {
	const char *tenant;
	const char *app;
	const char *key;
	const char *api;
	const unsigned char *sha256; /* DB_IDEM_SHA256 bytes: of the raw body */
};

/*
 * Claims k for the transaction db is in, with an expiry ttl_s seconds from
 * the transaction's start: inserts its row (with no answer yet), or takes
 * over a row that has expired. While another transaction holds an
 * uncommitted claim of k, this waits for its COMMIT or ROLLBACK (the
 * primary key's insert does). *claimed: true when the row is now this
 * transaction's; false when a live row of a committed request holds k
 * (it is then locked until this transaction ends, so it cannot expire
 * under the caller). 0, or -1 with e set.
 */
int db_idem_claim(struct db *db, const struct db_idem_key *k, long ttl_s,
    bool *claimed, struct err *e) MUST_CHECK;

/* The live row that holds a key. */
struct db_idem_row {
	bool found;
	bool same;    /* k's API and body are the row's */
	char api[64]; /* the API the key was first used for */
	char *answer; /* the stored answer (malloc'ed, caller frees); NULL
	                  * when the row has none */
	size_t answer_len;
};

/* Reads the live (unexpired) row of k into out. 0, or -1 with e set. */
int db_idem_get(struct db *db, const struct db_idem_key *k,
    struct db_idem_row *out, struct err *e) MUST_CHECK;

/* Stores answer (len bytes of JSON text, NUL-terminated) on the row k
 * claimed in this transaction. 0, or -1 with e set (also when the row is not there). */
int db_idem_answer(struct db *db, const struct db_idem_key *k,
    const char *answer, size_t len, struct err *e) MUST_CHECK;

/*
 * Deletes up to limit expired keys, oldest first, in one statement of its
 * own transaction, skipping rows another transaction has locked (a claim
 * taking one over). *deleted: how many. 0, or -1 with e set.
 */
int db_idem_purge(struct db *db, int limit, int *deleted, struct err *e)
    MUST_CHECK;

#endif
