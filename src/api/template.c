#include "api/template.h"

int
api_create_service_template(const struct svc_req *req, json_t *body, json_t **data, struct err *e)
{
	(void)req;
	(void)body;
	(void)data;
	err_set(e, ERR_NOT_FOUND, NULL, "not implemented yet");
	return -1;
}

int
api_batch_create_proc_template(const struct svc_req *req, json_t *body, json_t **data, struct err *e)
{
	(void)req;
	(void)body;
	(void)data;
	err_set(e, ERR_NOT_FOUND, NULL, "not implemented yet");
	return -1;
}

int
api_list_proc_template(const struct svc_req *req, json_t *body, json_t **data, struct err *e)
{
	(void)req;
	(void)body;
	(void)data;
	err_set(e, ERR_NOT_FOUND, NULL, "not implemented yet");
	return -1;
}

