/*
 * service/remove: delete_process_instance and delete_service_instance
 * (api-contract.md §11.6, §11.7): their check tables in order and the
 * deletes, each in one transaction that locks service instances, then
 * processes, in id order (§11.2), so they never deadlock with each other
 * or with an update, and a concurrent create_process_instance either comes
 * first or waits.
 *
 * Plain C: no JSON, no libpq. Thread-safe as long as each thread uses its
 * own struct svc_req.
 */
#ifndef PROCSVC_SVC_REMOVE_H
#define PROCSVC_SVC_REMOVE_H

#include <stdint.h>

#include "common/err.h"
#include "service/ctx.h"
#include "service/ids.h"

/* A delete request as decoded: the business and the ids as sent (a
 * repeated id counts once, but toward the limit as sent). Owns ids. */
struct svc_delete {
	int64_t biz_id;
	struct id_list ids;
};

/* The most ids one delete may name (§11.6, §11.7). */
#define SVC_MAX_DELETE 500

/*
 * delete_process_instance: rows 2-7 of §11.6 in order, then removes the
 * processes with their bind rows and every service instance left without
 * a process, in one transaction. 0, or -1 with e set and nothing deleted.
 */
int svc_process_delete(const struct svc_req *req, const struct svc_delete *in,
    struct err *e) MUST_CHECK;

/*
 * delete_service_instance: rows 2-6 of §11.7 in order, then removes the
 * instances with all their processes and bind rows (made from a template
 * or not), in one transaction. 0, or -1 with e set and nothing deleted.
 */
int svc_instance_delete(const struct svc_req *req, const struct svc_delete *in,
    struct err *e) MUST_CHECK;

#endif
