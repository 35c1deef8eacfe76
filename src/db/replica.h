/*
 * replica: the streaming replica that reads may use (PROCSVC_READ_URL):
 * its own connection pool, and a monitor thread that keeps measuring how
 * far the replica is behind the primary, so that a request learns whether
 * it may read there now without any I/O of its own. Internal to src/db/
 * (db.c asks on behalf of a handle that prefers the replica).
 *
 * Lag is measured against the primary, never from the replica alone. Each
 * check samples the primary's WAL position (pg_current_wal_lsn()), then
 * the replica's replay position (pg_last_wal_replay_lsn()). Once the
 * replica has replayed up to a sample's position it holds everything the
 * primary had at that sample's time: the replica is "current as of" the
 * newest such time, and a read at time t is t minus that time behind.
 * - An idle primary writes no WAL: the replica has replayed everything,
 *   each sample is reached at once, and the lag stays at one check
 *   interval. now() - pg_last_xact_replay_timestamp() would instead grow
 *   for as long as nobody writes.
 * - A replica whose replay is paused, or whose WAL receiver is cut off,
 *   stops advancing while the primary moves on: the lag grows with the
 *   clock. Comparing the replica's receive and replay positions would
 *   call a cut-off replica current.
 * - The lag is computed when a request asks, from the last sample reached,
 *   so a monitor that stalls (a replica or primary that stops answering)
 *   makes the lag grow too: reads fall back without waiting for it.
 * Samples are taken every max_lag/4 (10 ms .. 1 s); the position is the
 * primary's write position, which covers every commit a client has been
 * told about (with synchronous_commit=off, up to wal_writer_delay later).
 *
 * Each state change (current, lagging, down, not a standby) is logged
 * once, by the monitor or by the request that found the replica failing.
 * The monitor holds one connection to each server of its own.
 *
 * Thread-safe: every function may be called from any thread.
 */
#ifndef PROCSVC_DB_REPLICA_H
#define PROCSVC_DB_REPLICA_H

#include <stdbool.h>
#include <stddef.h>

#include "db/conn.h"
#include "db/pool.h"

struct db_replica;

/*
 * A replica read through a pool of pool_size connections opened as
 * read_cfg says (PROCSVC_READ_URL), its lag measured against the primary
 * reached as primary_cfg says (DATABASE_URL); both copied. Reads may go
 * there while it is a standby at most max_lag_ms behind. Starts the
 * monitor, which checks at once. NULL on out of memory or when the thread
 * cannot start.
 */
struct db_replica *db_replica_new(const struct conn_cfg *read_cfg,
    const struct conn_cfg *primary_cfg, size_t pool_size, long wait_ms,
    long max_lag_ms);

/* Stops the monitor (waiting for its check in progress: bounded by the
 * connect timeout), closes every connection and frees r. No connection of
 * r's pool may be out. NULL-safe. */
void db_replica_free(struct db_replica *r);

/*
 * Where a read that may use the replica goes now: r's pool while the
 * replica is up and current within max_lag_ms, else NULL (read from the
 * primary). Counts the read, or the fallback and its reason
 * (common/counter.h: DB_REPLICA_READS, DB_REPLICA_FALLBACK_*).
 */
struct db_pool *db_replica_choose(struct db_replica *r);

/* r's pool (for giving its connections back). */
struct db_pool *db_replica_pool(struct db_replica *r);

/*
 * A read on a connection of r's pool failed (detail: libpq's message) and
 * goes to the primary instead: counts the fallback, and reads avoid the
 * replica until the monitor sees it answer again (logged when that
 * changes the state).
 */
void db_replica_failed(struct db_replica *r, const char *detail);

struct db_replica_stats {
	bool up;      /* reads go to the replica now */
	double lag_s; /* behind the primary now; negative: not known */
};
void db_replica_stats(struct db_replica *r, struct db_replica_stats *out);

#endif
