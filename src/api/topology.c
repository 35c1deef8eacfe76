#include "api/topology.h"

#include <stdlib.h>
#include <string.h>

#include "common/jpath.h"
#include "common/str.h"
#include "service/topology.h"

/*
 * The decoders below report only structural errors (1199000: a field of the
 * wrong JSON type, an item that is not an object), and do so over the whole
 * batch before the service sees it; that is the first row of every check
 * table (api-contract.md §6 row 1, §10 "Order of checks"). Missing and null
 * values decode to 0 / NULL and are judged by the service.
 */


/*
 * Optional string obj[key] at base: absent or null gives *out NULL; a
 * non-string is 1199000; else *out is a trimmed copy (caller frees).
 */
static int
get_str(json_t *obj, const char *base, const char *key, char **out,
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
	if ((*out = strdup(json_string_value(v))) == NULL) {
		err_oom(e);
		return -1;
	}
	str_trim(*out);
	return 0;
}

static int
need_object(json_t *item, const struct jpath *p, struct err *e)
{
	if (json_is_object(item))
		return 0;
	err_set(e, ERR_BAD_JSON, jpath_str(p), "must be an object");
	return -1;
}

/* ---- upsert_hosts ------------------------------------------------------- */

/* hosts[i] (at p) into slot i of h. Unknown keys are ignored: the owning
 * system may send its whole host record. */
static int
decode_host(json_t *item, const struct jpath *p, struct topo_hosts *h,
    size_t i, struct err *e)
{
	const char *base = jpath_str(p);

	if (need_object(item, p, e) != 0 ||
	    api_get_id(item, base, "bk_host_id", &h->id[i], e) != 0)
		return -1;
	for (size_t k = 0; k < TOPO_IP_COUNT; k++)
		if (get_str(item, base, topo_ip_fields[k].name, &h->ip[k][i], e) != 0)
			return -1;
	return 0;
}

static int
decode_hosts(json_t *body, struct topo_hosts *h, struct err *e)
{
	json_t *arr, *item;
	struct jpath p;
	size_t i;

	if (api_get_array(body, "", "hosts", TOPO_BATCH_MAX, "hosts", &arr, e) != 0)
		return -1;
	if (topo_hosts_alloc(h, json_array_size(arr)) != 0) {
		err_oom(e);
		return -1;
	}
	jpath_init(&p);
	jpath_key(&p, "hosts");
	json_array_foreach(arr, i, item) {
		size_t mark = jpath_index(&p, i);
		if (decode_host(item, &p, h, i, e) != 0)
			return -1;
		jpath_pop(&p, mark);
	}
	return 0;
}

/* data: the bk_host_ids in input order. */
int
api_upsert_hosts(const struct svc_req *req, json_t *body, json_t **data,
    struct err *e)
{
	struct topo_hosts hosts = { 0 }; /* owned here */
	int rc = -1;

	if (decode_hosts(body, &hosts, e) != 0 ||
	    svc_upsert_hosts(req, &hosts, e) != 0)
		goto out;
	if ((*data = api_id_array(&(struct id_list){ hosts.id, hosts.n })) == NULL) {
		err_oom(e);
		goto out;
	}
	rc = 0;
out:
	topo_hosts_free(&hosts);
	return rc;
}

/* ---- upsert_modules ----------------------------------------------------- */

static int
decode_module(json_t *item, const struct jpath *p, struct topo_modules *m,
    size_t i, struct err *e)
{
	const char *base = jpath_str(p);

	if (need_object(item, p, e) != 0 ||
	    api_get_id(item, base, "bk_module_id", &m->id[i], e) != 0 ||
	    api_get_id(item, base, "bk_biz_id", &m->biz_id[i], e) != 0 ||
	    api_get_id(item, base, "service_template_id", &m->template_id[i], e) != 0 ||
	    api_get_id(item, base, "default", &m->default_kind[i], e) != 0 ||
	    get_str(item, base, "bk_module_name", &m->name[i], e) != 0)
		return -1;
	return 0;
}

static int
decode_modules(json_t *body, struct topo_modules *m, struct err *e)
{
	json_t *arr, *item;
	struct jpath p;
	size_t i;

	if (api_get_array(body, "", "modules", TOPO_BATCH_MAX, "modules", &arr, e) != 0)
		return -1;
	if (topo_modules_alloc(m, json_array_size(arr)) != 0) {
		err_oom(e);
		return -1;
	}
	jpath_init(&p);
	jpath_key(&p, "modules");
	json_array_foreach(arr, i, item) {
		size_t mark = jpath_index(&p, i);
		if (decode_module(item, &p, m, i, e) != 0)
			return -1;
		jpath_pop(&p, mark);
	}
	return 0;
}

/* data: the bk_module_ids in input order. */
int
api_upsert_modules(const struct svc_req *req, json_t *body, json_t **data,
    struct err *e)
{
	struct topo_modules modules = { 0 }; /* owned here */
	int rc = -1;

	if (decode_modules(body, &modules, e) != 0 ||
	    svc_upsert_modules(req, &modules, e) != 0)
		goto out;
	if ((*data = api_id_array(&(struct id_list){ modules.id, modules.n })) == NULL) {
		err_oom(e);
		goto out;
	}
	rc = 0;
out:
	topo_modules_free(&modules);
	return rc;
}

/* ---- set_module_hosts --------------------------------------------------- */

static int
decode_module_hosts(json_t *body, struct topo_module_hosts *in, struct err *e)
{
	json_t *arr, *item;
	struct jpath p;
	size_t i;

	if (api_get_id(body, "", "bk_module_id", &in->module_id, e) != 0 ||
	    api_get_array(body, "", "bk_host_ids", TOPO_BATCH_MAX, "host ids", &arr, e) != 0)
		return -1;
	in->hosts_given = arr != NULL;
	if (topo_module_hosts_alloc(in, json_array_size(arr)) != 0) {
		err_oom(e);
		return -1;
	}
	jpath_init(&p);
	jpath_key(&p, "bk_host_ids");
	json_array_foreach(arr, i, item) {
		if (!json_is_integer(item)) {
			jpath_index(&p, i);
			err_set(e, ERR_BAD_JSON, jpath_str(&p), "must be an integer");
			return -1;
		}
		in->host_ids[i] = json_integer_value(item);
	}
	return 0;
}

/* {"bk_module_id": id, "bk_host_ids": [...]}: the list now stored. */
static json_t *
encode_module_hosts(const struct topo_module_hosts *in)
{
	json_t *o = json_object();
	json_t *ids = api_id_array(&(struct id_list){ in->host_ids, in->n });

	if (o == NULL || ids == NULL ||
	    json_object_set_new(o, "bk_module_id", json_integer(in->module_id)) != 0) {
		json_decref(o);
		json_decref(ids);
		return NULL;
	}
	if (json_object_set_new(o, "bk_host_ids", ids) != 0) {
		json_decref(o); /* set_new released ids already */
		return NULL;
	}
	return o;
}

int
api_set_module_hosts(const struct svc_req *req, json_t *body, json_t **data,
    struct err *e)
{
	struct topo_module_hosts in = { 0 }; /* owned here */
	int rc = -1;

	if (decode_module_hosts(body, &in, e) != 0 ||
	    svc_set_module_hosts(req, &in, e) != 0)
		goto out;
	if ((*data = encode_module_hosts(&in)) == NULL) {
		err_oom(e);
		goto out;
	}
	rc = 0;
out:
	topo_module_hosts_free(&in);
	return rc;
}
