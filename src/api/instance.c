#include "api/instance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/procjson.h"
#include "common/jpath.h"
#include "common/proc_attr.h"
#include "common/str.h"
#include "service/instance.h"
#include "service/process.h"
#include "service/remove.h"

/*
 * Structural decoding of §6 row 1: wrong JSON types of the request's own
 * fields are 1199000 and stop at once; process attributes are only decoded
 * here, their errors kept for row 11.
 */
static int
decode_proc(json_t *obj, const char *base, struct svc_si_proc *out,
    struct err *e)
{
	if (!json_is_object(obj)) {
		err_set(e, ERR_BAD_JSON, base, "must be an object");
		return -1;
	}
	if (api_get_id(obj, base, "process_template_id", &out->template_id, e) != 0)
		return -1;
	return procjson_decode_member(obj, base, &out->v, e);
}

static int
decode_name(json_t *obj, struct jpath *p, struct pval *name, struct err *e)
{
	json_t *v = json_object_get(obj, "service_instance_name");
	size_t mark;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		api_type_error(jpath_str(p), "service_instance_name", "a string", e);
		return -1;
	}
	name->s = strdup(json_string_value(v));
	if (name->s == NULL)
		return err_oom(e);
	str_trim(name->s);
	name->state = PV_SET;
	mark = jpath_key(p, "service_instance_name");
	pval_check(name, &svc_si_name_attr, jpath_str(p));
	jpath_pop(p, mark);
	return 0;
}

/* instances[i] at p. */
static int
decode_instance(json_t *obj, struct jpath *p, struct svc_si_in *out,
    struct err *e)
{
	const char *base = jpath_str(p);
	json_t *procs, *proc;
	size_t k;

	if (!json_is_object(obj)) {
		err_set(e, ERR_BAD_JSON, base, "must be an object");
		return -1;
	}
	if (api_get_id(obj, base, "bk_host_id", &out->host_id, e) != 0 ||
	    decode_name(obj, p, &out->name, e) != 0 ||
	    api_get_array(obj, base, "processes", SVC_MAX_BATCH, "processes", &procs, e) != 0)
		return -1;
	if (procs == NULL || json_array_size(procs) == 0)
		return 0;
	out->procs = calloc(json_array_size(procs), sizeof(*out->procs));
	if (out->procs == NULL)
		return err_oom(e);
	json_array_foreach(procs, k, proc) {
		size_t mark = jpath_elem(p, "processes", k);
		int rc;

		out->nprocs = k + 1; /* owned so far, for svc_si_batch_free */
		rc = decode_proc(proc, jpath_str(p), &out->procs[k], e);
		jpath_pop(p, mark);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int
decode(json_t *body, struct svc_si_batch *b, struct err *e)
{
	json_t *items, *item;
	struct jpath p;
	size_t i;

	if (api_get_id(body, "", "bk_biz_id", &b->biz_id, e) != 0 ||
	    api_get_id(body, "", "bk_module_id", &b->module_id, e) != 0 ||
	    api_get_array(body, "", "instances", SVC_MAX_BATCH, "instances", &items, e) != 0)
		return -1;
	if (items == NULL || json_array_size(items) == 0)
		return 0;
	b->items = calloc(json_array_size(items), sizeof(*b->items));
	if (b->items == NULL)
		return err_oom(e);
	jpath_init(&p);
	json_array_foreach(items, i, item) {
		size_t mark = jpath_elem(&p, "instances", i);
		int rc;

		b->n = i + 1; /* owned so far, for svc_si_batch_free */
		rc = decode_instance(item, &p, &b->items[i], e);
		jpath_pop(&p, mark);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int
api_create_service_instance(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e)
{
	struct svc_si_batch batch = { 0 };
	struct id_list ids = { 0 };
	int rc = -1;

	if (decode(body, &batch, e) != 0 ||
	    svc_instance_create(req, &batch, &ids, e) != 0)
		goto out;
	if ((*data = api_id_array(&ids)) == NULL) {
		err_oom(e);
		goto out;
	}
	rc = 0;
out:
	id_list_free(&ids);
	svc_si_batch_free(&batch);
	return rc;
}

int
api_delete_service_instance(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e)
{
	struct svc_delete in = { 0 };
	int rc;

	(void)data; /* null, as bk-cmdb answers */
	rc = api_get_delete(body, "service_instance_ids", SVC_MAX_DELETE, &in.biz_id, &in.ids, e);
	if (rc == 0)
		rc = svc_instance_delete(req, &in, e);
	id_list_free(&in.ids);
	return rc;
}
