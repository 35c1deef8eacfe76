/*
 * topology: procsvc's own mirror APIs (api-contract.md §4): upsert_hosts,
 * upsert_modules, set_module_hosts. Each is an api_handler.
 */
#ifndef PROCSVC_API_TOPOLOGY_H
#define PROCSVC_API_TOPOLOGY_H

#include "api/api.h"

int api_upsert_hosts(const struct svc_req *req, json_t *body, json_t **data,
    struct err *e) MUST_CHECK;
int api_upsert_modules(const struct svc_req *req, json_t *body, json_t **data,
    struct err *e) MUST_CHECK;
int api_set_module_hosts(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e) MUST_CHECK;

#endif
