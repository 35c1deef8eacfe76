/*
 * db/topology: the SQL of the topology mirror (tables host, module and
 * module_host of migrations/0001_init.up.sql). Each function runs one
 * prepared statement; batches travel as array parameters and are unnested
 * by the server, so a batch of 1000 is one round trip. Every statement is
 * scoped by the tenant given.
 *
 * Transactions belong to the caller (service/topology): nothing here BEGINs.
 * Errors come from pq_exec unchanged: 503 / 1199999 for database faults,
 * 1199014 / 1199006 with the constraint name in e->constraint for violations.
 *
 * Does not include anything above src/db/; the column views below are this
 * module's own and only borrow the caller's arrays.
 */
#ifndef PROCSVC_DB_TOPOLOGY_H
#define PROCSVC_DB_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "db/db.h"

/* Host IP columns, in the order of the ip[] arrays below. */
#define DB_HOST_IP_COUNT 4

/*
 * n hosts as parallel columns, all borrowed. ip[0..3] are bk_host_innerip,
 * bk_host_outerip, bk_host_innerip_v6, bk_host_outerip_v6; a NULL string
 * is stored as "".
 */
struct db_host_cols {
	size_t n;
	const int64_t *id;
	char *const *ip[DB_HOST_IP_COUNT];
};

/* n modules as parallel columns, borrowed; a NULL name is stored as "". */
struct db_module_cols {
	size_t n;
	const int64_t *id;
	const int64_t *biz_id;
	const int64_t *template_id;
	const int64_t *default_kind; /* must fit in 32 bits (column integer) */
	char *const *name;
};

/*
 * Inserts the hosts of tenant, or replaces all four IPs (and last_time) of
 * those that exist, in one statement. Ids must be distinct (the statement
 * cannot update one row twice). 0, or -1 with e set.
 */
int db_host_upsert(struct db *db, const char *tenant,
    const struct db_host_cols *c, struct err *e) MUST_CHECK;

/* As db_host_upsert, for modules (every column replaced). */
int db_module_upsert(struct db *db, const char *tenant,
    const struct db_module_cols *c, struct err *e) MUST_CHECK;

/*
 * Takes the row lock (FOR UPDATE) of the module, held until the caller's
 * transaction ends; *found tells whether the module exists in tenant.
 * 0, or -1 with e set.
 */
int db_module_lock(struct db *db, const char *tenant, int64_t module_id,
    bool *found, struct err *e) MUST_CHECK;

/*
 * The ids among ids[0..n) that are not hosts of tenant, in input order, in
 * *missing (malloc'ed, caller frees; NULL when none) and *nmissing.
 * One query. 0, or -1 with e set and *missing NULL.
 */
int db_host_missing(struct db *db, const char *tenant, const int64_t *ids,
    size_t n, int64_t **missing, size_t *nmissing, struct err *e) MUST_CHECK;

/* Removes every host of the module from module_host. 0, or -1 with e set. */
int db_module_host_clear(struct db *db, const char *tenant, int64_t module_id,
    struct err *e) MUST_CHECK;

/*
 * Adds (module, ids[i]) rows to module_host in one statement; ids must be
 * distinct, existing hosts not yet in the module. 0, or -1 with e set.
 */
int db_module_host_add(struct db *db, const char *tenant, int64_t module_id,
    const int64_t *ids, size_t n, struct err *e) MUST_CHECK;

#endif
