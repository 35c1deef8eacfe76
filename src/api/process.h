/*
 * process: create_process_instance (api-contract.md §7) and
 * list_process_instance (§8, an api_text_handler).
 */
#ifndef PROCSVC_API_PROCESS_H
#define PROCSVC_API_PROCESS_H

#include "api/api.h"

int api_create_process_instance(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e) MUST_CHECK;
int api_list_process_instance(const struct svc_req *req, json_t *body,
    struct jbuf *out, struct err *e) MUST_CHECK;

#endif
