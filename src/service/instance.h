/*
 * service/instance: create_service_instance (api-contract.md §6): the check
 * table in order, the template merge, the naming rule, and the insert of a
 * whole batch in one transaction.
 */
#ifndef PROCSVC_SVC_INSTANCE_H
#define PROCSVC_SVC_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/proc_attr.h"
#include "service/ctx.h"
#include "service/ids.h"

/* One processes[] entry. Owns v. */
struct svc_si_proc {
	int64_t template_id;  /* process_template_id; 0 = none */
	struct proc_values v; /* process_info as decoded (may hold PV_BAD) */
};

/* One instances[] entry. Owns everything. */
struct svc_si_in {
	int64_t host_id;
	struct pval name; /* service_instance_name, checked (≤ 256) */
	struct svc_si_proc *procs;
	size_t nprocs;
};

/* A decoded create_service_instance request. Owns items. */
struct svc_si_batch {
	int64_t biz_id;
	int64_t module_id;
	struct svc_si_in *items;
	size_t n;
};
void svc_si_batch_free(struct svc_si_batch *b);

/* The rule of service_instance_name, for the decoder's pval_check. */
extern const struct proc_attr svc_si_name_attr;

/*
 * Runs checks 2-13 of §6 in order and writes the batch in one transaction.
 * 0 with out = new ids in input order (caller frees with id_list_free), or
 * -1 with e set and nothing written.
 */
int svc_instance_create(const struct svc_req *req,
    const struct svc_si_batch *in, struct id_list *out, struct err *e)
    MUST_CHECK;

#endif
