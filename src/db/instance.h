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
#include "db/db.h"
#include "db/process.h"

struct db_module {
	int64_t biz_id;
	int64_t service_template_id;
	int64_t default_kind;   /* <> 0: idle / fault / recycle module */
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
int db_si_create(struct db *db, const char *tenant, const char *operator,
    int64_t biz_id, int64_t module_id, int64_t service_template_id,
    bool checked, const struct db_si_new *rows, size_t n,
    const struct db_proc_new *procs, size_t nprocs, int64_t *ids_out,
    bool *done, struct err *e) MUST_CHECK;

struct db_si {
	int64_t id, biz_id, module_id, host_id, service_template_id;
};

/* Reads a service instance and takes its share lock (FOR SHARE, held
 * until the caller's transaction ends): deletes of the instance wait for
 * the caller. *found false when the tenant has none. */
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

#endif
