#include "api/process.h"

#include <stdio.h>
#include <stdlib.h>

#include "api/procjson.h"
#include "common/jpath.h"
#include "service/process.h"
#include "service/procupdate.h"
#include "service/remove.h"

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

void
api_write_process_record(struct jbuf *b, const struct proc_record *r,
    const char *property_key)
{
	jbuf_open(b, '{');
	jbuf_key(b, property_key);
	jbuf_open(b, '{');
	procjson_write(b, &r->v);
	jbuf_key(b, "bk_process_id");
	jbuf_int(b, r->id);
	jbuf_key(b, "bk_biz_id");
	jbuf_int(b, r->biz_id);
	jbuf_key(b, "bk_supplier_account");
	jbuf_str(b, r->tenant);
	jbuf_key(b, "service_instance_id");
	jbuf_int(b, r->service_instance_id);
	jbuf_key(b, "create_time");
	jbuf_str(b, r->create_time);
	jbuf_key(b, "last_time");
	jbuf_str(b, r->last_time);
	jbuf_close(b, '}');
	jbuf_key(b, "relation");
	jbuf_open(b, '{');
	jbuf_key(b, "bk_biz_id");
	jbuf_int(b, r->biz_id);
	jbuf_key(b, "bk_process_id");
	jbuf_int(b, r->id);
	jbuf_key(b, "service_instance_id");
	jbuf_int(b, r->service_instance_id);
	jbuf_key(b, "process_template_id");
	jbuf_int(b, r->process_template_id);
	jbuf_key(b, "bk_host_id");
	jbuf_int(b, r->host_id);
	jbuf_key(b, "bk_supplier_account");
	jbuf_str(b, r->tenant);
	jbuf_close(b, '}');
	jbuf_close(b, '}');
}

int
api_list_process_instance(const struct svc_req *req, json_t *body,
    struct jbuf *out, struct err *e)
{
	struct proc_record_list list = { 0 };
	int64_t biz_id, si_id;

	if (api_get_id(body, "", "bk_biz_id", &biz_id, e) != 0 ||
	    api_get_id(body, "", "service_instance_id", &si_id, e) != 0 ||
	    svc_process_list(req, biz_id, si_id, &list, e) != 0)
		return -1;
	jbuf_open(out, '[');
	for (size_t i = 0; i < list.n; i++)
		api_write_process_record(out, &list.items[i], "property");
	jbuf_close(out, ']');
	proc_record_list_free(&list);
	return 0;
}

/* §11.5 row 1: structural errors stop at once; attributes are kept for
 * row 8. The fields of an item sit beside its bk_process_id. More than 100
 * items (row 3) are not looked into (§10 "Array limits"). */
static int
decode_changes(json_t *body, struct svc_proc_changes *c, struct err *e)
{
	struct err over = { 0 };
	json_t *items, *item;
	struct jpath p;
	size_t i;

	if (api_get_id(body, "", "bk_biz_id", &c->biz_id, e) != 0 ||
	    api_get_array_later(body, "", "processes", SVC_MAX_BATCH, "processes", &items,
		&over, e) != 0)
		return -1;
	if (err_isset(&over))
		return api_report_later(&over, e);
	if (items == NULL || json_array_size(items) == 0)
		return 0;
	c->items = calloc(json_array_size(items), sizeof(*c->items));
	if (c->items == NULL)
		return err_oom(e);
	jpath_init(&p);
	json_array_foreach(items, i, item) {
		size_t mark = jpath_elem(&p, "processes", i);
		int rc = -1;

		c->n = i + 1; /* owned so far, for svc_proc_changes_free */
		if (!json_is_object(item))
			err_set(e, ERR_BAD_JSON, jpath_str(&p), "must be an object");
		else if (api_get_id(item, jpath_str(&p), "bk_process_id", &c->items[i].id, e) == 0)
			rc = procjson_decode_partial(item, jpath_str(&p), &c->items[i].v, e);
		jpath_pop(&p, mark);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int
api_update_process_instance(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e)
{
	struct svc_proc_changes changes = { 0 };
	struct id_list ids = { 0 };
	int rc = -1;

	if (decode_changes(body, &changes, e) != 0 ||
	    svc_process_update(req, &changes, &ids, e) != 0)
		goto out;
	if ((*data = api_id_array(&ids)) == NULL) {
		err_oom(e);
		goto out;
	}
	rc = 0;
out:
	id_list_free(&ids);
	svc_proc_changes_free(&changes);
	return rc;
}

int
api_delete_process_instance(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e)
{
	struct svc_delete in = { 0 };
	int rc;

	(void)data; /* null, as bk-cmdb answers */
	rc = api_get_delete(body, "process_instance_ids", SVC_MAX_DELETE, &in.biz_id, &in.ids, e);
	if (rc == 0)
		rc = svc_process_delete(req, &in, e);
	id_list_free(&in.ids);
	return rc;
}
