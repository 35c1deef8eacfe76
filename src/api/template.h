/*
 * template: create_service_template, batch_create_proc_template and
 * list_proc_template (api-contract.md §4, §10 Templates), api_handlers.
 */
#ifndef PROCSVC_API_TEMPLATE_H
#define PROCSVC_API_TEMPLATE_H

#include "api/api.h"

int api_create_service_template(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e) MUST_CHECK;
int api_batch_create_proc_template(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e) MUST_CHECK;
int api_list_proc_template(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e) MUST_CHECK;

#endif
