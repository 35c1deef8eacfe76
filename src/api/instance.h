/*
 * instance: create_service_instance (api-contract.md §6) and
 * delete_service_instance (§11.7), api_handlers.
 */
#ifndef PROCSVC_API_INSTANCE_H
#define PROCSVC_API_INSTANCE_H

#include "api/api.h"

int api_create_service_instance(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e) MUST_CHECK;

/* delete_service_instance; data null. */
int api_delete_service_instance(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e) MUST_CHECK;

#endif
