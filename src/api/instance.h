/*
 * instance: create_service_instance (api-contract.md §6), an api_handler.
 */
#ifndef PROCSVC_API_INSTANCE_H
#define PROCSVC_API_INSTANCE_H

#include "api/api.h"

int api_create_service_instance(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e) MUST_CHECK;

#endif
