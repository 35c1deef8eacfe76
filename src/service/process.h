/*
 * service/process: create_process_instance (api-contract.md §7),
 * list_process_instance (§8), and the uniqueness rule of §5 that
 * create_service_instance shares.
 */
#ifndef PROCSVC_SVC_PROCESS_H
#define PROCSVC_SVC_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/jpath.h"
#include "common/proc_attr.h"
#include "db/db.h" /* struct db_key_list */
#include "service/ctx.h"

/* A decoded create_process_instance request. Owns items. */
struct svc_proc_batch {
	int64_t biz_id;
	int64_t service_instance_id;
	struct proc_values *items;
	size_t n;
};
void svc_proc_batch_free(struct svc_proc_batch *b);

/*
 * Runs checks 2-7 of §7 in order and inserts the batch in one transaction.
 * 0 with out = new bk_process_ids in input order (caller frees with
 * id_list_free), or -1 with e set and nothing written.
 */
int svc_process_create(const struct svc_req *req,
    const struct svc_proc_batch *in, struct id_list *out, struct err *e)
    MUST_CHECK;

/*
 * §8: the processes of a service instance. Missing ids -> 1199006
 * (service_instance_id first). Unknown / other business / other tenant ->
 * 0 with an empty list. Free with proc_record_list_free.
 */
int svc_process_list(const struct svc_req *req, int64_t biz_id,
    int64_t service_instance_id, struct proc_record_list *out,
    struct err *e) MUST_CHECK;

/*
 * Where the uniqueness rule applies and how its breaches are reported:
 * §5 within a service instance (1199014 for both keys), §4 within a
 * service template (1113019 for the name, 1113020 for func + regex).
 */
struct svc_unique_rule {
	int name_code, func_code;
	const char *scope;   /* "service instance" / "service template" */
	const char *stored;  /* how a stored row is named: "existing process" */
	/* Appends to p (empty) the path of the name (by_name) or func field
	 * of item i. */
	void (*path)(struct jpath *p, size_t i, bool by_name, const void *arg);
	const void *arg;
};

/*
 * The uniqueness rule: bk_process_name, and bk_func_name +
 * bk_start_param_regex (missing regex = ""), compared after trimming (the
 * values already are), among procs[0..n) and the stored keys (may be NULL).
 * The first offending item in input order is reported, its name before its
 * func, naming both places. 0 when unique, -1 with e set otherwise (or out
 * of memory). O(n log n).
 */
int svc_check_unique(const struct proc_values *const *procs, size_t n,
    const struct db_key_list *stored, const struct svc_unique_rule *rule,
    struct err *e) MUST_CHECK;

/* Largest batch of processes / instances one request may carry. */
#define SVC_MAX_BATCH 100

#endif
