#include "api/process.h"

#include <stdio.h>
#include <stdlib.h>

#include "api/procjson.h"
#include "common/jpath.h"
#include "service/process.h"

/* §7 row 1: structural errors stop at once; attributes are kept for row 7. */
static int
decode(json_t *body, struct svc_proc_batch *b, struct err *e)
{
	json_t *items, *item;
	struct jpath p;
	size_t i;

	if (api_get_id(body, "", "bk_biz_id", &b->biz_id, e) != 0 ||
	    api_get_id(body, "", "service_instance_id", &b->service_instance_id, e) != 0 ||
	    api_get_array(body, "", "processes", SVC_MAX_BATCH, "processes", &items, e) != 0)
		return -1;
	if (items == NULL || json_array_size(items) == 0)
		return 0;
	b->items = calloc(json_array_size(items), sizeof(*b->items));
	if (b->items == NULL)
		return err_oom(e);
	jpath_init(&p);
	json_array_foreach(items, i, item) {
		size_t mark = jpath_elem(&p, "processes", i);
		int rc = 0;

		b->n = i + 1; /* owned so far, for svc_proc_batch_free */
		if (!json_is_object(item)) {
			err_set(e, ERR_BAD_JSON, jpath_str(&p), "must be an object");
			rc = -1;
		} else {
			rc = procjson_decode_member(item, jpath_str(&p), &b->items[i], e);
		}
		jpath_pop(&p, mark);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int
api_create_process_instance(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e)
{
	struct svc_proc_batch batch = { 0 };
	struct id_list ids = { 0 };
	int rc = -1;

	if (decode(body, &batch, e) != 0 ||
	    svc_process_create(req, &batch, &ids, e) != 0)
		goto out;
	if ((*data = api_id_array(&ids)) == NULL) {
		err_oom(e);
		goto out;
	}
	rc = 0;
out:
	id_list_free(&ids);
	svc_proc_batch_free(&batch);
	return rc;
}

/* §8: {property, relation} per process. */
static json_t *
encode_record(const struct proc_record *r)
{
	json_t *prop = procjson_encode(&r->v), *obj;

	if (prop == NULL)
		return NULL;
	if (json_object_set_new(prop, "bk_process_id", json_integer(r->id)) != 0 ||
	    json_object_set_new(prop, "bk_biz_id", json_integer(r->biz_id)) != 0 ||
	    json_object_set_new(prop, "bk_supplier_account", json_string(r->tenant)) != 0 ||
	    json_object_set_new(prop, "service_instance_id", json_integer(r->service_instance_id)) != 0 ||
	    json_object_set_new(prop, "create_time", json_string(r->create_time)) != 0 ||
	    json_object_set_new(prop, "last_time", json_string(r->last_time)) != 0) {
		json_decref(prop);
		return NULL;
	}
	obj = json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:I, s:s}}", "property", prop,
	    "relation",
	    "bk_biz_id", (json_int_t)r->biz_id,
	    "bk_process_id", (json_int_t)r->id,
	    "service_instance_id", (json_int_t)r->service_instance_id,
	    "process_template_id", (json_int_t)r->process_template_id,
	    "bk_host_id", (json_int_t)r->host_id,
	    "bk_supplier_account", r->tenant);
	return obj;
}

int
api_list_process_instance(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e)
{
	struct proc_record_list list = { 0 };
	int64_t biz_id, si_id;
	json_t *arr = NULL;
	int rc = -1;

	if (api_get_id(body, "", "bk_biz_id", &biz_id, e) != 0 ||
	    api_get_id(body, "", "service_instance_id", &si_id, e) != 0 ||
	    svc_process_list(req, biz_id, si_id, &list, e) != 0)
		goto out;
	arr = json_array();
	for (size_t i = 0; arr != NULL && i < list.n; i++) {
		json_t *rec = encode_record(&list.items[i]);
		if (rec == NULL || json_array_append_new(arr, rec) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	if (arr == NULL) {
		err_oom(e);
		goto out;
	}
	*data = arr;
	rc = 0;
out:
	proc_record_list_free(&list);
	return rc;
}
