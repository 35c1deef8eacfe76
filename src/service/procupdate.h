/*
 * service/procupdate: update_process_instance (api-contract.md §11.5): its
 * check table in order, the partial update of plain and template-made
 * processes, uniqueness on the final state of every service instance the
 * request touches, and the set-based write, in one transaction that locks
 * service instances, then processes, in id order (§11.2).
 *
 * Plain C: no JSON, no libpq. Thread-safe as long as each thread uses its
 * own struct svc_req.
 */
#ifndef PROCSVC_SVC_PROCUPDATE_H
#define PROCSVC_SVC_PROCUPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/proc_attr.h"
#include "service/ctx.h"
#include "service/ids.h"

/* One processes[] item as decoded. Owns v. */
struct svc_proc_change {
	int64_t id; /* bk_process_id; 0 when absent or null */
	/* The keys the item carries: PV_ABSENT for the ones it does not
	 * (they keep their stored values), PV_NULL for null (reset), PV_SET or
	 * PV_BAD (row 8) for values. */
	struct proc_values v;
};

/* A decoded request. Owns items. */
struct svc_proc_changes {
	int64_t biz_id;
	struct svc_proc_change *items;
	size_t n;
};
void svc_proc_changes_free(struct svc_proc_changes *c);

/*
 * Runs rows 2-9 of §11.5 in order and writes the whole batch in one
 * transaction: 0 with out = the bk_process_ids in input order (caller frees
 * with id_list_free), or -1 with e set and nothing written. Every listed
 * process gets modifier = the operator and last_time = now.
 */
int svc_process_update(const struct svc_req *req,
    const struct svc_proc_changes *in, struct id_list *out, struct err *e)
    MUST_CHECK;

#endif
