#include "api/process.h"

int
api_create_process_instance(const struct svc_req *req, json_t *body, json_t **data, struct err *e)
{
	(void)req;
	(void)body;
	(void)data;
	err_set(e, ERR_NOT_FOUND, NULL, "not implemented yet");
	return -1;
}

int
api_list_process_instance(const struct svc_req *req, json_t *body, json_t **data, struct err *e)
{
	(void)req;
	(void)body;
	(void)data;
	err_set(e, ERR_NOT_FOUND, NULL, "not implemented yet");
	return -1;
}

