#include "api/topology.h"

int
api_upsert_hosts(const struct svc_req *req, json_t *body, json_t **data, struct err *e)
{
	(void)req;
	(void)body;
	(void)data;
	err_set(e, ERR_NOT_FOUND, NULL, "not implemented yet");
	return -1;
}

int
api_upsert_modules(const struct svc_req *req, json_t *body, json_t **data, struct err *e)
{
	(void)req;
	(void)body;
	(void)data;
	err_set(e, ERR_NOT_FOUND, NULL, "not implemented yet");
	return -1;
}

int
api_set_module_hosts(const struct svc_req *req, json_t *body, json_t **data, struct err *e)
{
	(void)req;
	(void)body;
	(void)data;
	err_set(e, ERR_NOT_FOUND, NULL, "not implemented yet");
	return -1;
}

