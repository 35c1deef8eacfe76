#include "api/silist.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/process.h"
#include "service/silist.h"

/* An optional string obj[key] at path (base + key): absent or null gives
 * NULL; anything but a string is 1199000. *out is a copy. */
static int
get_string(json_t *obj, const char *base, const char *key, char **out,
    struct err *e)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		api_type_error(base, key, "a string", e);
		return -1;
	}
	*out = strdup(json_string_value(v));
	return *out != NULL ? 0 : err_oom(e);
}

/* page (row 1): absent or null is the default page. */
static int
decode_page(json_t *body, struct svc_si_query *q, struct err *e)
{
	json_t *page = json_object_get(body, "page"), *v;

	if (page == NULL || json_is_null(page))
		return 0;
	if (!json_is_object(page)) {
		api_type_error("", "page", "an object {start, limit, sort}", e);
		return -1;
	}
	v = json_object_get(page, "start");
	q->has_start = v != NULL && !json_is_null(v);
	v = json_object_get(page, "limit");
	q->has_limit = v != NULL && !json_is_null(v);
	if (api_get_id(page, "page", "start", &q->start, e) != 0 ||
	    api_get_id(page, "page", "limit", &q->limit, e) != 0)
		return -1;
	return get_string(page, "page", "sort", &q->sort, e);
}

/*
 * Row 1 of §11.3 (and §11.4), in the table's order of fields, then row 2:
 * an id list over its limit is not looked into (§10), and reported once
 * the rest of the request has passed row 1.
 */
static int
decode(json_t *body, bool detail, struct svc_si_query *q, struct err *e)
{
	struct err over = { 0 };
	json_t *selectors;

	q->detail = detail;
	if (api_get_id(body, "", "bk_biz_id", &q->biz_id, e) != 0 ||
	    api_get_id(body, "", "bk_module_id", &q->module_id, e) != 0 ||
	    api_get_ids(body, "bk_host_ids", SVC_MAX_FILTER_IDS, &q->host_ids, &over, e) != 0 ||
	    api_get_ids(body, "service_instance_ids", SVC_MAX_FILTER_IDS, &q->ids, &over, e) != 0)
		return -1;
	if (detail && (api_get_ids(body, "bk_host_list", SVC_MAX_FILTER_IDS, &q->host_list, &over, e) != 0 || api_get_id(body, "", "bk_host_id", &q->host_id, e) != 0))
		return -1;
	/* selectors: anything but [] is refused at row 5, whatever its size. */
	if (get_string(body, "", "search_key", &q->search_key, e) != 0 ||
	    decode_page(body, q, e) != 0 ||
	    api_get_array(body, "", "selectors", SIZE_MAX, "selectors", &selectors, e) != 0)
		return -1;
	q->nselectors = json_array_size(selectors);
	return api_report_later(&over, e);
}

/* §11.3: exactly these 11 keys; for §11.4 the instance's processes, each
 * as list_process_instance writes it under bk-cmdb's key "process"
 * (ProcessInstanceNG). */
static void
write_instance(struct jbuf *b, const struct si_record *s, bool detail)
{
	jbuf_open(b, '{');
	jbuf_key(b, "id");
	jbuf_int(b, s->id);
	jbuf_key(b, "name");
	jbuf_str(b, s->name);
	jbuf_key(b, "bk_biz_id");
	jbuf_int(b, s->biz_id);
	jbuf_key(b, "bk_module_id");
	jbuf_int(b, s->module_id);
	jbuf_key(b, "bk_host_id");
	jbuf_int(b, s->host_id);
	jbuf_key(b, "service_template_id");
	jbuf_int(b, s->service_template_id);
	jbuf_key(b, "creator");
	jbuf_str(b, s->creator);
	jbuf_key(b, "modifier");
	jbuf_str(b, s->modifier);
	jbuf_key(b, "create_time");
	jbuf_str(b, s->create_time);
	jbuf_key(b, "last_time");
	jbuf_str(b, s->last_time);
	jbuf_key(b, "bk_supplier_account");
	jbuf_str(b, s->tenant);
	if (detail) {
		jbuf_key(b, "process_instances");
		jbuf_open(b, '[');
		for (size_t k = 0; k < s->procs.n; k++)
			api_write_process_record(b, &s->procs.items[k], "process");
		jbuf_close(b, ']');
	}
	jbuf_close(b, '}');
}

static int
list(const struct svc_req *req, json_t *body, bool detail, struct jbuf *out,
    struct err *e)
{
	struct svc_si_query q = { 0 };
	struct si_record_list l = { 0 };
	int rc = -1;

	if (decode(body, detail, &q, e) != 0 || svc_si_list(req, &q, &l, e) != 0)
		goto out;
	jbuf_open(out, '{');
	jbuf_key(out, "count");
	jbuf_int(out, l.count);
	jbuf_key(out, "info");
	jbuf_open(out, '[');
	for (size_t i = 0; i < l.n; i++)
		write_instance(out, &l.items[i], detail);
	jbuf_close(out, ']');
	jbuf_close(out, '}');
	rc = 0;
out:
	si_record_list_free(&l);
	svc_si_query_free(&q);
	return rc;
}

int
api_list_service_instance(const struct svc_req *req, json_t *body,
    struct jbuf *out, struct err *e)
{
	return list(req, body, false, out, e);
}

int
api_list_service_instance_detail(const struct svc_req *req, json_t *body,
    struct jbuf *out, struct err *e)
{
	return list(req, body, true, out, e);
}
