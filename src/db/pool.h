/*
 * pool: a bounded set of database connections shared by every request
 * (PROCSVC_DB_POOL), so that HTTP connections and PostgreSQL backends are
 * sized apart: hundreds of slow clients cost no backends, and a request
 * holds a connection only while it runs SQL. Mutex + condition variable;
 * connections open lazily, on first use, and are made clean (rolled back,
 * or closed when broken) each time they come back, as kore's pgsql pool
 * does. Internal to src/db/ (db.c leases from it on behalf of a handle).
 *
 * Thread-safe: every function may be called from any thread.
 */
#ifndef PROCSVC_DB_POOL_H
#define PROCSVC_DB_POOL_H

#include <stddef.h>

#include "common/err.h"
#include "db/conn.h"

struct db_pool;

/*
 * A pool of size connections opened as cfg says (copied, with its
 * conninfo); none is opened yet. wait_ms bounds how long db_pool_get waits
 * for a free one. NULL on out of memory.
 */
struct db_pool *db_pool_new(const struct conn_cfg *cfg, size_t size,
    long wait_ms);

/* Closes every connection and frees p. No connection may be out. NULL-safe. */
void db_pool_free(struct db_pool *p);

/*
 * A free connection, waiting up to the pool's wait_ms for one. Not
 * necessarily opened or healthy (the caller checks, as it must before every
 * statement anyway). NULL with e 503/1199999 ("database busy") on timeout.
 * Give it back with db_pool_put.
 */
struct db_conn *db_pool_get(struct db_pool *p, struct err *e) MUST_CHECK;

/* Returns c (from db_pool_get) after conn_clean, and wakes one waiter. */
void db_pool_put(struct db_pool *p, struct db_conn *c);

/* A snapshot for the metrics gauges. */
struct db_pool_stats {
	size_t size;                 /* connections the pool may hold */
	size_t in_use;               /* lent to requests */
	size_t idle;                 /* size - in_use */
	size_t open;                 /* idle ones with a live server session */
	size_t waiting;              /* requests waiting for one */
	unsigned long long timeouts; /* waits that gave up (503), ever */
};
void db_pool_stats(struct db_pool *p, struct db_pool_stats *out);

#endif
