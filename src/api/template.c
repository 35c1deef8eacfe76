#include "api/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/procjson.h"
#include "common/jpath.h"
#include "common/proc_attr.h"
#include "common/str.h"
#include "service/process.h"
#include "service/template.h"


/* ---- create_service_template ---- */

/* name: a string (trimmed) or absent / null; anything else is 1199000. */
static int
decode_name(json_t *body, struct pval *name, struct err *e)
{
	json_t *v = json_object_get(body, "name");

	name->state = v == NULL ? PV_ABSENT : PV_NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		api_type_error("", "name", "a string", e);
		return -1;
	}
	if ((name->s = strdup(json_string_value(v))) == NULL)
		return err_oom(e);
	str_trim(name->s);
	name->state = PV_SET;
	return 0;
}

static json_t *
encode_stmpl(const struct svc_stmpl *t)
{
	return json_pack("{s:I, s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s}",
	    "id", (json_int_t)t->id,
	    "bk_biz_id", (json_int_t)t->biz_id,
	    "name", t->name,
	    "service_category_id", (json_int_t)t->category_id,
	    "bk_supplier_account", t->tenant,
	    "creator", t->creator,
	    "modifier", t->modifier,
	    "create_time", t->create_time,
	    "last_time", t->last_time);
}

int
api_create_service_template(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e)
{
	struct svc_stmpl_in in = { 0 };
	struct svc_stmpl out;
	int rc = -1;

	/* Structural errors first (1199000), in field order; then the rules. */
	if (api_get_id(body, "", "bk_biz_id", &in.biz_id, e) != 0 ||
	    decode_name(body, &in.name, e) != 0 ||
	    api_get_id(body, "", "service_category_id", &in.category_id, e) != 0 ||
	    svc_stmpl_create(req, &in, &out, e) != 0)
		goto out;
	if ((*data = encode_stmpl(&out)) == NULL) {
		err_oom(e);
		goto out;
	}
	rc = 0;
out:
	svc_stmpl_in_free(&in);
	return rc;
}

/* ---- batch_create_proc_template ---- */

/* processes[i] (at p): an object whose spec is an object, null or absent ({}). */
static int
decode_item(json_t *item, struct jpath *p, struct proc_template *t, struct err *e)
{
	json_t *spec;
	size_t mark;
	int rc;

	if (!json_is_object(item)) {
		err_set(e, ERR_BAD_JSON, jpath_str(p), "must be an object {\"spec\": {...}}");
		return -1;
	}
	spec = json_object_get(item, "spec");
	if (spec != NULL && !json_is_null(spec) && !json_is_object(spec)) {
		api_type_error(jpath_str(p), "spec", "an object of process template properties", e);
		return -1;
	}
	mark = jpath_key(p, "spec");
	rc = procjson_decode_template(spec, jpath_str(p), &t->v, t->locked, &t->row_locked, e);
	jpath_pop(p, mark);
	return rc;
}

static int
decode_batch(json_t *body, struct svc_ptmpl_batch *b, struct err *e)
{
	json_t *items, *item;
	struct jpath p;
	size_t i;

	if (api_get_id(body, "", "bk_biz_id", &b->biz_id, e) != 0 ||
	    api_get_id(body, "", "service_template_id", &b->service_template_id, e) != 0 ||
	    api_get_array(body, "", "processes", SVC_MAX_BATCH, "process templates", &items, e) != 0)
		return -1;
	if (items == NULL || json_array_size(items) == 0)
		return 0;
	b->items.items = calloc(json_array_size(items), sizeof(*b->items.items));
	if (b->items.items == NULL)
		return err_oom(e);
	jpath_init(&p);
	json_array_foreach(items, i, item) {
		size_t mark = jpath_elem(&p, "processes", i);
		int rc;

		b->items.n = i + 1; /* owned so far, for svc_ptmpl_batch_free */
		rc = decode_item(item, &p, &b->items.items[i], e);
		jpath_pop(&p, mark);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int
api_batch_create_proc_template(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e)
{
	struct svc_ptmpl_batch batch = { 0 };
	struct id_list ids = { 0 };
	int rc = -1;

	if (decode_batch(body, &batch, e) != 0 ||
	    svc_ptmpl_create(req, &batch, &ids, e) != 0)
		goto out;
	if ((*data = api_id_array(&ids)) == NULL) {
		err_oom(e);
		goto out;
	}
	rc = 0;
out:
	id_list_free(&ids);
	svc_ptmpl_batch_free(&batch);
	return rc;
}

/* ---- list_proc_template ---- */

/* One info entry of api-contract.md §10 Templates. NULL on out of memory. */
static json_t *
encode_ptmpl(const struct proc_template *t)
{
	const struct pval *name = &t->v.attr[PAI_PROCESS_NAME];
	json_t *prop = procjson_encode_template(&t->v, t->locked,
	    (const bool(*)[BIND_KEY_COUNT])t->row_locked);

	if (prop == NULL)
		return NULL;
	return json_pack("{s:I, s:I, s:I, s:s, s:o, s:s, s:s, s:s, s:s}",
	    "id", (json_int_t)t->id,
	    "bk_biz_id", (json_int_t)t->biz_id,
	    "service_template_id", (json_int_t)t->service_template_id,
	    proc_attrs[PAI_PROCESS_NAME].name, name->state == PV_SET && name->s ? name->s : "",
	    "property", prop,
	    "creator", t->creator,
	    "modifier", t->modifier,
	    "create_time", t->create_time,
	    "last_time", t->last_time);
}

/* Ids in one process_template_ids filter (an array bound of our choosing,
 * as for the topology lists: api-contract.md §10 "Array limits"). */
#define API_MAX_ID_FILTER 1000

/*
 * bk-cmdb's optional process_template_ids narrows the list to those ids;
 * absent, null or [] lists them all. An element that is not an integer is
 * a structural error (1199000).
 */
static int
get_id_filter(json_t *body, json_t **ids, struct err *e)
{
	json_t *v;
	size_t i;

	if (api_get_array(body, "", "process_template_ids", API_MAX_ID_FILTER, "ids", ids, e) != 0)
		return -1;
	json_array_foreach(*ids, i, v)
		if (!json_is_integer(v)) {
			struct jpath p;
			jpath_init(&p);
			jpath_elem(&p, "process_template_ids", i);
			err_set(e, ERR_BAD_JSON, jpath_str(&p), "must be an integer");
			return -1;
		}
	if (*ids != NULL && json_array_size(*ids) == 0)
		*ids = NULL;
	return 0;
}

static bool
id_wanted(json_t *ids, int64_t id)
{
	json_t *v;
	size_t i;

	if (ids == NULL)
		return true;
	json_array_foreach(ids, i, v)
		if (json_integer_value(v) == id)
			return true;
	return false;
}

int
api_list_proc_template(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e)
{
	struct proc_template_list list = { 0 };
	int64_t biz_id, st_id;
	json_t *info = NULL, *ids = NULL;
	int rc = -1;

	if (api_get_id(body, "", "bk_biz_id", &biz_id, e) != 0 ||
	    api_get_id(body, "", "service_template_id", &st_id, e) != 0 ||
	    get_id_filter(body, &ids, e) != 0 ||
	    svc_ptmpl_find(req, biz_id, st_id, &list, e) != 0)
		goto out;
	info = json_array();
	for (size_t i = 0; info != NULL && i < list.n; i++) {
		json_t *t;
		if (!id_wanted(ids, list.items[i].id))
			continue;
		t = encode_ptmpl(&list.items[i]);
		if (t == NULL || json_array_append_new(info, t) != 0) {
			json_decref(info);
			info = NULL;
		}
	}
	if (info == NULL ||
	    (*data = json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(info), "info", info)) == NULL) {
		err_oom(e);
		goto out;
	}
	rc = 0;
out:
	proc_template_list_free(&list);
	return rc;
}
