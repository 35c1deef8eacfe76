/*
 * counter: process-wide event counters that any layer bumps where the event
 * happens (src/db counts its errors) and GET /metrics renders, so that a
 * lower layer can be counted without a path of its own up through every
 * layer above it.
 *
 * Adding one is one line in COUNTER_LIST: its id, the metric name (a
 * Prometheus counter, ending in _total), its labels (a fixed string, "" for
 * none) and its HELP text. Lines of one metric name form one family: they
 * are adjacent, and only the first carries the HELP text (NULL after it).
 *
 * Lock-free (relaxed atomics): cheap on any path. C library only.
 */
#ifndef PROCSVC_COUNTER_H
#define PROCSVC_COUNTER_H

#include <stddef.h>

#define COUNTER_LIST(X) \
	X(DB_CONNECT_ERRORS, "procsvc_db_errors_total", "kind=\"connect\"", \
	    "Database errors: connection attempts that failed (connect), statements that " \
	    "failed other than on a constraint, including lost connections and timeouts (statement).") \
	X(DB_STATEMENT_ERRORS, "procsvc_db_errors_total", "kind=\"statement\"", NULL) \
	X(DB_REPLICA_READS, "procsvc_db_replica_reads_total", "", \
	    "List requests sent to the read replica (PROCSVC_READ_URL).") \
	X(DB_REPLICA_FALLBACK_DOWN, "procsvc_db_replica_fallbacks_total", "reason=\"down\"", \
	    "List requests read on the primary instead of the replica: it is down, failed the " \
	    "read or is not a standby (down); too far behind, or not measured yet (lag).") \
	X(DB_REPLICA_FALLBACK_LAG, "procsvc_db_replica_fallbacks_total", "reason=\"lag\"", NULL) \
	X(IDEM_STORED, "procsvc_idempotent_requests_total", "outcome=\"stored\"", \
	    "Writes sent with an X-Idempotency-Key: committed with their answer stored " \
	    "(stored), answered from a stored answer (replayed), refused because the key " \
	    "holds another request (conflict).") \
	X(IDEM_REPLAYED, "procsvc_idempotent_requests_total", "outcome=\"replayed\"", NULL) \
	X(IDEM_CONFLICT, "procsvc_idempotent_requests_total", "outcome=\"conflict\"", NULL)

enum counter_id {
#define COUNTER_ENUM(id, name, labels, help) COUNTER_##id,
	COUNTER_LIST(COUNTER_ENUM)
#undef COUNTER_ENUM
	    COUNTER_COUNT
};

struct counter_def {
	const char *name;   /* procsvc_db_errors_total */
	const char *labels; /* kind="connect", or "" */
	const char *help;   /* NULL: same family as the line before */
};

/* COUNTER_LIST as data, indexed by enum counter_id. */
extern const struct counter_def counter_defs[COUNTER_COUNT];

/* Adds one. Any thread. */
void counter_inc(enum counter_id id);

/* The value now. Any thread. */
unsigned long long counter_get(enum counter_id id);

#endif
