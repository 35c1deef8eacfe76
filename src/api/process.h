/*
 * process: create_process_instance (api-contract.md §7),
 * list_process_instance (§8, an api_text_handler), update_process_instance
 * (§11.5) and delete_process_instance (§11.6), api_handlers.
 */
#ifndef PROCSVC_API_PROCESS_H
#define PROCSVC_API_PROCESS_H

#include "api/api.h"
#include "common/jbuf.h"
#include "common/proc_attr.h"

/*
 * One stored process as §8 lists it, written to b: {"<property_key>":
 * {...}, "relation": {...}}; property_key is "property"
 * (list_process_instance) or "process" (list_service_instance_detail,
 * §11.4). Errors are b's (jbuf_failed).
 */
void api_write_process_record(struct jbuf *b, const struct proc_record *r,
    const char *property_key);

int api_create_process_instance(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e) MUST_CHECK;
int api_list_process_instance(const struct svc_req *req, json_t *body,
    struct jbuf *out, struct err *e) MUST_CHECK;

/* update_process_instance (api-contract.md §11.5). */
int api_update_process_instance(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e) MUST_CHECK;

/* delete_process_instance (api-contract.md §11.6); data null. */
int api_delete_process_instance(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e) MUST_CHECK;

#endif
