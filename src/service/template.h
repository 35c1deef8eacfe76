/*
 * service/template: service templates and process templates (api-contract.md
 * §4 template part, §10 Templates): creating them, listing them, and loading
 * the process templates that create_service_instance instantiates.
 *
 * The API layer decodes JSON into the structs below, having already reported
 * structural errors (wrong JSON types, 1199000); every other rule is checked
 * here, in the order each function documents, and written through
 * db/template. Plain C: no JSON, no libpq. Thread-safe as long as each
 * thread uses its own struct svc_req.
 */
#ifndef PROCSVC_SVC_TEMPLATE_H
#define PROCSVC_SVC_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/proc_attr.h"
#include "service/ctx.h"
#include "service/ids.h"

/*
 * The process templates of a service template in this tenant and business,
 * ascending id, read in the caller's transaction (or
 * outside one). 0, or -1 with e set.
 */
int svc_ptmpl_load(const struct svc_req *req, int64_t biz_id,
    int64_t service_template_id, struct proc_template_list *out, struct err *e)
    MUST_CHECK;

/* ---- create_service_template ---- */

/* A service template as create_service_template returns it. */
struct svc_stmpl {
	int64_t id, biz_id, category_id;
	char name[257];
	char tenant[65];
	char creator[129], modifier[129];
	char create_time[32], last_time[32]; /* RFC 3339, milliseconds, UTC "Z" */
};

/* A decoded create_service_template request. Owns name. */
struct svc_stmpl_in {
	int64_t biz_id;      /* 0 when missing or null */
	struct pval name;    /* as given: PV_ABSENT / PV_NULL / PV_SET (trimmed) */
	int64_t category_id; /* service_category_id; 0 when missing or null */
};
void svc_stmpl_in_free(struct svc_stmpl_in *in);

/* Longest service template name, in bytes after trimming. */
#define SVC_STMPL_NAME_MAX 256

/*
 * Checks, in this order: bk_biz_id > 0 (1199006), name non-blank (1199010)
 * and at most SVC_STMPL_NAME_MAX bytes (1199015), service_category_id >= 0
 * (1199006), name unused in the business and tenant (1199014 at "name",
 * settled by the constraint under concurrency). Then inserts the template.
 * 0 with *out filled, or -1 with e set and nothing written.
 */
int svc_stmpl_create(const struct svc_req *req, const struct svc_stmpl_in *in,
    struct svc_stmpl *out, struct err *e) MUST_CHECK;

/* ---- batch_create_proc_template ---- */

/*
 * A decoded batch_create_proc_template request: one item per processes[]
 * entry, in input order, with v / locked / row_locked as
 * procjson_decode_template gave them (v may hold PV_BAD values); the other
 * fields of the items are unused. Owns items.
 */
struct svc_ptmpl_batch {
	int64_t biz_id;              /* 0 when missing or null */
	int64_t service_template_id; /* 0 when missing or null */
	struct proc_template_list items;
};
void svc_ptmpl_batch_free(struct svc_ptmpl_batch *b);

/*
 * Checks, in this order: no processes -> success with no ids (as bk-cmdb);
 * more than SVC_MAX_BATCH (100) -> 1199035; bk_biz_id > 0 and
 * service_template_id > 0 (1199006); the service template exists in the
 * tenant (1199006 service_template_id) and belongs to bk_biz_id (1199006
 * bk_biz_id); every attribute valid, the first error in input order
 * (api-contract.md §6 row 11 codes); bk_process_name unique in the service
 * template (1113019) and bk_func_name + bk_start_param_regex too (1113020),
 * within the batch (the message names both paths) and against stored
 * templates. Inserts the batch in one transaction: 0 with out = new ids in
 * input order (caller frees with id_list_free), or -1 with e set and nothing
 * written.
 */
int svc_ptmpl_create(const struct svc_req *req,
    const struct svc_ptmpl_batch *in, struct id_list *out, struct err *e)
    MUST_CHECK;

/*
 * list_proc_template: bk_biz_id, then service_template_id, missing or <= 0
 * -> 1199006. The process templates of that service template in that
 * business and tenant, ascending id (empty when there are none, or the
 * template is unknown). 0 with *out (free with proc_template_list_free), or -1
 * with e set. Reads from the replica when there is one (svc_ctx_read_replica);
 * a write's checks load templates with svc_ptmpl_load, on the primary.
 */
int svc_ptmpl_find(const struct svc_req *req, int64_t biz_id,
    int64_t service_template_id, struct proc_template_list *out, struct err *e)
    MUST_CHECK;

#endif
