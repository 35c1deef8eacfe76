#include "api/instance.h"

int
api_create_service_instance(const struct svc_req *req, json_t *body, json_t **data, struct err *e)
{
	(void)req;
	(void)body;
	(void)data;
	err_set(e, ERR_NOT_FOUND, NULL, "not implemented yet");
	return -1;
}

