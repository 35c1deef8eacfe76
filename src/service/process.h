/*
 * service/process: create_process_instance (api-contract.md §7) and
 * list_process_instance (§8).
 */
#ifndef PROCSVC_SVC_PROCESS_H
#define PROCSVC_SVC_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/proc_attr.h"
#include "service/ctx.h"
#include "service/ids.h"

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
 * 0 with an empty list. Free with proc_record_list_free. Reads from the
 * replica when there is one (svc_ctx_read_replica).
 */
int svc_process_list(const struct svc_req *req, int64_t biz_id,
    int64_t service_instance_id, struct proc_record_list *out,
    struct err *e) MUST_CHECK;

/* Largest batch of processes / instances one request may carry. */
#define SVC_MAX_BATCH 100

#endif
