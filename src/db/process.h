/*
 * db/process: the SQL of tables process and bind_info, process-like rows
 * (db/procrow) whose column lists come from proc_attrs[] (each attribute's
 * JSON key is its column), so a new attribute needs no edit here.
 * Tenant-scoped; runs in the caller's transaction.
 */
#ifndef PROCSVC_DB_PROCESS_H
#define PROCSVC_DB_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/proc_attr.h"
#include "db/db.h"

/* One process to insert; v borrowed (its PV_SET values are stored). */
struct db_proc_new {
	int64_t biz_id;
	int64_t service_instance_id;
	int64_t process_template_id;
	int64_t host_id;
	const struct proc_values *v;
};

/*
 * Inserts n processes and all their bind rows in one statement, whatever
 * n is. ids_out[i] is rows[i]'s
 * new bk_process_id. A name or func+regex already taken in the service
 * instance (a concurrent request won the race) -> ERR_DUPLICATE.
 */
int db_proc_insert(struct db *db, const char *tenant, const char *username,
    const struct db_proc_new *rows, size_t n, int64_t *ids_out, struct err *e)
    MUST_CHECK;

/*
 * Rewrites the processes ids[0..n) (distinct, existing in tenant) with the
 * values of rows[i].v, its final state: every attribute (unset ones as
 * insert stores them), bind_info replaced whole, modifier = operator,
 * last_time = now. The other fields of rows[i] are ignored: a process
 * never moves. Three statements whatever n is. Errors as db_proc_insert.
 * For update_process_instance (api-contract.md §11.5).
 */
int db_proc_update(struct db *db, const char *tenant, const char *username,
    const int64_t *ids, const struct db_proc_new *rows, size_t n,
    struct err *e) MUST_CHECK;

/*
 * create_process_instance's write in one statement, for n processes of
 * service instance rows[*].service_instance_id: written only when that
 * instance exists in tenant, belongs to business biz_id, comes from no
 * service template, and holds no process with the name or the func +
 * regex of one of rows; *done says whether they were (ids_out[i] then is
 * rows[i]'s id), else nothing was written. Errors as db_proc_insert.
 */
int db_proc_create_checked(struct db *db, const char *tenant,
    const char *username, int64_t biz_id, const struct db_proc_new *rows,
    size_t n, int64_t *ids_out, bool *done, struct err *e) MUST_CHECK;

/* For db/instance, which writes processes with service instances: rows as
 * db/procrow takes them (NULL on out of memory; caller frees), and the
 * mapping of a broken uniqueness constraint to ERR_DUPLICATE. */
struct procrow_new;
struct procrow_new *db_proc_rows(const struct db_proc_new *rows, size_t n);
void db_proc_race(struct err *e);

/* The keys of every process of a service instance, ascending id. Free
 * with proc_key_list_free. */
int db_proc_keys(struct db *db, const char *tenant, int64_t service_instance_id,
    struct proc_key_list *out, struct err *e) MUST_CHECK;

/*
 * The processes of a service instance in one business, ascending
 * bk_process_id, bind rows in stored order, in one query. Empty when the
 * instance is unknown or belongs to another business or tenant.
 */
int db_proc_list(struct db *db, const char *tenant, int64_t biz_id,
    int64_t service_instance_id, struct proc_record_list *out,
    struct err *e) MUST_CHECK;

/*
 * As db_proc_list, for the processes among ids[0..n) in the tenant and
 * business (any service instance); unknown ids are simply absent. For the
 * writes of api-contract.md §11, which address processes by id.
 */
int db_proc_list_ids(struct db *db, const char *tenant, int64_t biz_id,
    const int64_t *ids, size_t n, struct proc_record_list *out,
    struct err *e) MUST_CHECK;

/* As db_proc_list, for the processes of every service instance among
 * si_ids[0..n) (ascending bk_process_id; group them by
 * service_instance_id). One query. */
int db_proc_list_instances(struct db *db, const char *tenant, int64_t biz_id,
    const int64_t *si_ids, size_t n, struct proc_record_list *out,
    struct err *e) MUST_CHECK;

/*
 * As db_proc_list_ids, and locks the processes found (FOR UPDATE, in
 * ascending id order, until the caller's transaction ends), reading them
 * as they are once the lock is granted: a process deleted meanwhile is
 * absent. For update_process_instance (api-contract.md §11.2, §11.5).
 */
int db_proc_lock(struct db *db, const char *tenant, int64_t biz_id,
    const int64_t *ids, size_t n, struct proc_record_list *out,
    struct err *e) MUST_CHECK;

/* The keys of every process of the service instances si_ids[0..n),
 * ascending id, each naming its instance (proc_key.parent). */
int db_proc_keys_instances(struct db *db, const char *tenant,
    const int64_t *si_ids, size_t n, struct proc_key_list *out,
    struct err *e) MUST_CHECK;

/* What a delete needs to know of a process. */
struct db_proc_ref {
	int64_t id, service_instance_id, process_template_id;
};

/*
 * Locks FOR UPDATE, in ascending id order, the processes among ids[0..n)
 * of tenant and business biz_id, and reads what *refs says of them
 * (malloc'ed, ascending id, caller frees; NULL when none). 0, or -1 with e.
 */
int db_proc_lock_refs(struct db *db, const char *tenant, int64_t biz_id,
    const int64_t *ids, size_t n, struct db_proc_ref **refs, size_t *nrefs,
    struct err *e) MUST_CHECK;

/* Locks FOR UPDATE, in ascending id order, every process of the service
 * instances si_ids[0..n) of tenant. 0, or -1 with e set. */
int db_proc_lock_instances(struct db *db, const char *tenant,
    const int64_t *si_ids, size_t n, struct err *e) MUST_CHECK;

/* Deletes the processes ids[0..n) of tenant with their bind rows.
 * 0, or -1 with e set. */
int db_proc_delete(struct db *db, const char *tenant, const int64_t *ids,
    size_t n, struct err *e) MUST_CHECK;

#endif
