/*
 * db/instance: the SQL of tables module, host (read side) and
 * service_instance. Every function is scoped to one tenant and runs in the
 * caller's transaction (the service layer owns BEGIN/COMMIT).
 */
#ifndef PROCSVC_DB_INSTANCE_H
#define PROCSVC_DB_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/si_record.h"
#include "db/db.h"
#include "db/process.h"

struct db_module {
	int64_t biz_id;
	int64_t service_template_id;
	int64_t default_kind; /* <> 0: idle / fault / recycle module */
};

/* Reads a module. *found false when the tenant has no such module. */
int db_module_get(struct db *db, const char *tenant, int64_t module_id,
    struct db_module *out, bool *found, struct err *e) MUST_CHECK;

/* A host as the naming rule and IP codes need it. Strings owned. */
struct db_host {
	int64_t id;
	char *innerip, *outerip, *innerip_v6, *outerip_v6;
};

struct db_host_list {
	struct db_host *items;
	size_t n;
};

/*
 * The hosts among ids[0..n) that belong to the module, in one query; ids
 * that are unknown or not in the module are simply absent from out (in any
 * order). Free with db_host_list_free.
 */
int db_module_hosts(struct db *db, const char *tenant, int64_t module_id,
    const int64_t *ids, size_t n, struct db_host_list *out, struct err *e)
    MUST_CHECK;
void db_host_list_free(struct db_host_list *l);

/*
 * One service instance to insert and its name (api-contract.md §6): name
 * when the client gave one (else NULL); without it the database builds
 * <the host's first inner IP>_<proc_name>_<port> from the parts that are
 * not empty. Strings borrowed.
 */
struct db_si_new {
	int64_t host_id;
	const char *name;
	const char *proc_name, *port;
};

/*
 * create_service_instance's writes in one statement, whatever the batch
 * size: the service instances rows[0..n) of module_id (with
 * service_template_id) and the processes procs[0..nprocs) with their bind
 * rows, where procs[k].service_instance_id is the 1-based index in rows of
 * the process's instance. ids_out[i] is rows[i]'s new id.
 *
 * checked: the caller has run the checks of §6 in this transaction.
 * Otherwise the statement writes only when module_id is a module of biz_id
 * in tenant without a service template and not an idle/fault/recycle one,
 * and every host of rows is in it (what rows 4-9 of a module without a
 * template ask of the database); *done says whether it wrote, and nothing
 * is written when it did not.
 *
 * A second instance of one template on one host -> ERR_TEMPLATE_HOST_DUP
 * (1113016); a process uniqueness broken -> as db_proc_insert.
 */
int db_si_create(struct db *db, const char *tenant, const char *username,
    int64_t biz_id, int64_t module_id, int64_t service_template_id,
    bool checked, const struct db_si_new *rows, size_t n,
    const struct db_proc_new *procs, size_t nprocs, int64_t *ids_out,
    bool *done, struct err *e) MUST_CHECK;

struct db_si {
	int64_t id, biz_id, module_id, host_id, service_template_id;
};

/* Reads a service instance and locks it (FOR NO KEY UPDATE, held until
 * the caller's transaction ends): deletes of the instance and other
 * writers of its processes wait for the caller. *found false when the
 * tenant has none. */
int db_si_get(struct db *db, const char *tenant, int64_t id, struct db_si *out,
    bool *found, struct err *e) MUST_CHECK;

/*
 * The hosts among host_ids that already have an instance of the template in
 * the module (api-contract.md §6 row 10). *dup_host is the first such host
 * in input order, 0 when none.
 */
int db_si_template_hosts(struct db *db, const char *tenant, int64_t module_id,
    int64_t service_template_id, const int64_t *host_ids, size_t n,
    int64_t *dup_host, struct err *e) MUST_CHECK;

/* ---- the lifecycle APIs (api-contract.md §11) ---- */

/* The fields the lists sort by (§11.3), in the order of their names in
 * db_si_sort_fields. */
enum db_si_sort_field {
	DB_SI_SORT_ID,
	DB_SI_SORT_NAME,
	DB_SI_SORT_HOST,
	DB_SI_SORT_MODULE,
	DB_SI_SORT_CREATE_TIME,
	DB_SI_SORT_LAST_TIME,
	DB_SI_SORT_FIELDS
};

/* "id", "name", "bk_host_id", "bk_module_id", "create_time", "last_time". */
extern const char *const db_si_sort_fields[DB_SI_SORT_FIELDS];

/* One sort key. */
struct db_si_sort {
	enum db_si_sort_field field;
	bool desc;
};

/*
 * Which service instances a list wants, and which page of them; all
 * borrowed. The filters apply together; a zero / empty one does not
 * filter. id ascending breaks every tie.
 */
struct db_si_query {
	int64_t biz_id;
	int64_t module_id;       /* 0: any module */
	const int64_t *host_ids; /* nhosts == 0: any host */
	size_t nhosts;
	const int64_t *ids; /* nids == 0: any id */
	size_t nids;
	const char *search; /* substring of name; "" matches all */
	struct db_si_sort sort[DB_SI_SORT_FIELDS];
	size_t nsort;         /* 0: id ascending; each field at most once */
	int64_t start, limit; /* start >= 0, 1 <= limit */
};

/*
 * The service instances of tenant matching q: out->count of them in all
 * and the page [start, start + limit) in sort order, in one statement (one
 * snapshot). Each filter shape has its own prepared statement, so every
 * one is planned on the index that serves it (api-contract.md §11.8).
 * 0, or -1 with e set and out empty. Free with si_record_list_free.
 */
int db_si_list(struct db *db, const char *tenant, const struct db_si_query *q,
    struct si_record_list *out, struct err *e) MUST_CHECK;

/* How a write locks the service instances it touches. */
enum db_si_lock {
	DB_SI_LOCK_NO_KEY, /* FOR NO KEY UPDATE: processes change, the row stays */
	DB_SI_LOCK_DELETE, /* FOR UPDATE: the row may be deleted */
};

/*
 * Locks, in id order, the service instances of tenant and business biz_id
 * that hold one of the processes proc_ids[0..n); their ids, ascending, go
 * to *ids (malloc'ed, caller frees; NULL when none) and *nids. The first
 * step of every write to processes (§11.2 lock order). 0, or -1 with e.
 */
int db_si_lock_of_processes(struct db *db, const char *tenant, int64_t biz_id,
    const int64_t *proc_ids, size_t n, enum db_si_lock mode, int64_t **ids,
    size_t *nids, struct err *e) MUST_CHECK;

/*
 * Locks FOR UPDATE, in id order, the service instances among ids[0..n) of
 * tenant and business biz_id; the ones found go to *found (ascending,
 * malloc'ed, caller frees; NULL when none) and *nfound. 0, or -1 with e.
 */
int db_si_lock_ids(struct db *db, const char *tenant, int64_t biz_id,
    const int64_t *ids, size_t n, int64_t **found, size_t *nfound,
    struct err *e) MUST_CHECK;

/*
 * Deletes the service instances ids[0..n) of tenant (locked by the
 * caller) with their processes and bind rows. With only_empty, only those
 * left without a process. 0, or -1 with e set.
 */
int db_si_delete(struct db *db, const char *tenant, const int64_t *ids,
    size_t n, bool only_empty, struct err *e) MUST_CHECK;

/*
 * The hosts among ids[0..n) of tenant (any module), in any order; unknown
 * ids are absent. Free with db_host_list_free. 0, or -1 with e set.
 */
int db_hosts_get(struct db *db, const char *tenant, const int64_t *ids,
    size_t n, struct db_host_list *out, struct err *e) MUST_CHECK;

#endif
