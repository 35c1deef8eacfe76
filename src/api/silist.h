/*
 * silist: list_service_instance (api-contract.md §11.3) and
 * list_service_instance_detail (§11.4), api_handlers.
 */
#ifndef PROCSVC_API_SILIST_H
#define PROCSVC_API_SILIST_H

#include "api/api.h"
#include "common/jbuf.h"

/* api_text_handlers: the answers grow with what is stored. */
int api_list_service_instance(const struct svc_req *req, json_t *body,
    struct jbuf *out, struct err *e) MUST_CHECK;
int api_list_service_instance_detail(const struct svc_req *req, json_t *body,
    struct jbuf *out, struct err *e) MUST_CHECK;

#endif
