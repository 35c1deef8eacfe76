#include "api/procjson.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/jpath.h"
#include "common/str.h"

/*
 * Everything here loops over proc_attrs[] and bind_keys[]: no attribute or
 * bind key is named by hand, except the template row's "row_id" and the
 * "value" / "as_default_value" wrapper of api-contract.md §4, which are
 * shapes, not attributes.
 */

#define ROW_ID "row_id" /* alias of template_row_id; the template row's id */

/* "a string", "an integer", ... for "must be X, got Y" messages. */
static const char *
type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number that is not a 64-bit integer";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/*
 * Records a row-level fault; only the first one is kept (err_set). -1 when
 * the error cannot be allocated: the caller reports out of memory.
 */
static int row_set_bad(struct bind_row *r, int code, const char *path,
    const char *fmt, ...) ERR_PRINTF(4, 5);

static int
row_set_bad(struct bind_row *r, int code, const char *path, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (r->bad != NULL)
		return 0;
	r->bad = calloc(1, sizeof(*r->bad));
	if (r->bad == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	err_set(r->bad, code, path, "%s", text);
	return 0;
}

/* "enable, ip, port, protocol, template_row_id" (or the template's keys). */
static const char *
row_key_list(char *buf, size_t n, bool tpl)
{
	size_t len = 0;

	buf[0] = '\0';
	if (tpl)
		len = (size_t)snprintf(buf, n, "%s", ROW_ID);
	for (size_t k = 0; k < BIND_KEY_COUNT && len < n; k++) {
		if (tpl && k == BKI_TEMPLATE_ROW_ID)
			continue;
		len += (size_t)snprintf(buf + len, n - len, "%s%s",
		    len > 0 ? ", " : "", bind_keys[k].name);
	}
	return buf;
}

/* Index of key in bind_keys[], or -1. */
static int
bind_key_index(const char *key)
{
	for (size_t k = 0; k < BIND_KEY_COUNT; k++)
		if (strcmp(key, bind_keys[k].name) == 0)
			return (int)k;
	return -1;
}

/*
 * Types one scalar (j borrowed; NULL = key absent) into p, then validates it
 * against a at path. -1 only on out of memory.
 *
 * Strings are trimmed (api-contract.md §5), except those with a syntax of
 * their own (bind ip, port, protocol): those are tokens taken as sent, and
 * §10 makes spaces in a port an error and the protocol "exactly" "1".."4".
 */
static int
decode_scalar(json_t *j, struct pval *p, const struct proc_attr *a,
    const char *path)
{
	static const char *const want[] = {
		[PA_STR] = "a string",
		[PA_INT] = "an integer",
		[PA_BOOL] = "a boolean",
		[PA_BIND] = "an array",
	};
	bool ok;

	p->state = j == NULL ? PV_ABSENT : PV_NULL;
	if (j != NULL && !json_is_null(j)) {
		ok = (a->kind == PA_STR && json_is_string(j)) ||
		    (a->kind == PA_INT && json_is_integer(j)) ||
		    (a->kind == PA_BOOL && json_is_boolean(j));
		if (!ok) {
			pval_set_bad(p, ERR_WRONG_TYPE, path, "must be %s, got %s",
			    want[a->kind], type_name(j));
			return 0;
		}
		if (a->kind == PA_STR) {
			if ((p->s = strdup(json_string_value(j))) == NULL)
				return -1;
			if (a->syntax == NULL)
				str_trim(p->s);
		}
		p->i = a->kind == PA_INT ? json_integer_value(j) : 0;
		p->b = a->kind == PA_BOOL && json_is_true(j);
		p->state = PV_SET;
	}
	pval_check(p, a, path);
	return 0;
}

/* row_id given next to template_row_id (api-contract.md §5): either may be
 * absent or null; both set and different is a row fault. */
static int
merge_row_id(json_t *row, struct bind_row *r, struct jpath *p)
{
	struct pval alias = { 0 }, *tri = &r->key[BKI_TEMPLATE_ROW_ID];
	size_t mark = jpath_key(p, ROW_ID);
	int rc = 0;

	if (decode_scalar(json_object_get(row, ROW_ID), &alias,
		&bind_keys[BKI_TEMPLATE_ROW_ID], jpath_str(p)) != 0)
		rc = -1;
	else if (alias.state == PV_SET && tri->state == PV_SET && alias.i != tri->i)
		rc = row_set_bad(r, ERR_BAD_VALUE, jpath_str(p),
		    "%lld differs from template_row_id %lld; give one of them, or the same value",
		    (long long)alias.i, (long long)tri->i);
	else if ((alias.state == PV_SET || alias.state == PV_BAD) &&
	    tri->state != PV_BAD) {
		/* the alias carries the value, or the error to report */
		pval_clear(tri);
		*tri = alias;
		alias = (struct pval){ 0 };
	}
	pval_clear(&alias);
	jpath_pop(p, mark);
	return rc;
}

/* One process_info bind row at p (".bind_info[i]"). -1 on out of memory. */
static int
decode_row(json_t *row, struct bind_row *r, struct jpath *p)
{
	char keys[128];
	const char *key;
	json_t *val;

	if (!json_is_object(row))
		return row_set_bad(r, ERR_WRONG_TYPE, jpath_str(p),
		    "must be a bind row object, got %s", type_name(row));
	for (size_t k = 0; k < BIND_KEY_COUNT; k++) {
		size_t mark = jpath_key(p, bind_keys[k].name);
		int rc = decode_scalar(json_object_get(row, bind_keys[k].name),
		    &r->key[k], &bind_keys[k], jpath_str(p));
		jpath_pop(p, mark);
		if (rc != 0)
			return -1;
	}
	if (merge_row_id(row, r, p) != 0)
		return -1;
	json_object_foreach(row, key, val) {
		size_t mark;
		int rc = 0;

		if (bind_key_index(key) >= 0 || strcmp(key, ROW_ID) == 0)
			continue;
		mark = jpath_key(p, key);
		rc = row_set_bad(r, ERR_BAD_VALUE, jpath_str(p),
		    "unknown key; a bind_info row takes %s",
		    row_key_list(keys, sizeof(keys), false));
		jpath_pop(p, mark);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/*
 * Types a bind_info value (j borrowed; NULL = absent) at p: state into *bi,
 * rows into v (v->rows allocated, zeroed, v->nrows set). *arr is the array
 * whose rows the caller decodes, NULL when there are none to decode.
 * -1 on out of memory.
 */
static int
decode_bind_array(json_t *j, struct proc_values *v, const struct jpath *p,
    json_t **arr)
{
	struct pval *bi = &v->attr[PAI_BIND_INFO];
	size_t n;

	*arr = NULL;
	bi->state = j == NULL ? PV_ABSENT : PV_NULL;
	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_array(j)) {
		pval_set_bad(bi, ERR_WRONG_TYPE, jpath_str(p),
		    "must be an array of bind rows or null, got %s", type_name(j));
		return 0;
	}
	/* api-contract.md §10 "Array limits": judged before any row is
	 * decoded, reported where row 11 reports attributes. */
	n = json_array_size(j);
	if (n > PROCJSON_MAX_BIND_ROWS) {
		if (n >= API_ARRAY_KEEP)
			pval_set_bad(bi, ERR_TOO_MANY, jpath_str(p),
			    "has more than %d bind rows; the limit is %d per process",
			    API_ARRAY_KEEP - 1, PROCJSON_MAX_BIND_ROWS);
		else
			pval_set_bad(bi, ERR_TOO_MANY, jpath_str(p),
			    "has %zu bind rows; the limit is %d per process", n,
			    PROCJSON_MAX_BIND_ROWS);
		return 0;
	}
	if (n > 0 && (v->rows = calloc(n, sizeof(*v->rows))) == NULL)
		return -1;
	v->nrows = n;
	bi->state = PV_SET;
	*arr = j;
	return 0;
}

/* bind_info of a process_info object. -1 on out of memory. */
static int
decode_bind(json_t *info, struct proc_values *v, struct jpath *p)
{
	const struct proc_attr *a = &proc_attrs[PAI_BIND_INFO];
	size_t mark = jpath_key(p, a->name), i;
	json_t *arr, *row;
	int rc = decode_bind_array(json_object_get(info, a->name), v, p, &arr);

	if (rc == 0 && arr != NULL) {
		json_array_foreach(arr, i, row) {
			size_t m = jpath_index(p, i);
			rc = decode_row(row, &v->rows[i], p);
			jpath_pop(p, m);
			if (rc != 0)
				break;
		}
	}
	if (rc == 0)
		pval_check(&v->attr[PAI_BIND_INFO], a, jpath_str(p));
	jpath_pop(p, mark);
	return rc;
}

int
procjson_decode(json_t *info, const char *base, struct proc_values *v,
    struct err *e)
{
	struct jpath p;

	/* json_object_get on NULL, null or a non-object finds nothing: {}. */
	jpath_init_at(&p, base != NULL ? base : "");
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++) {
		const struct proc_attr *a = &proc_attrs[i];
		int rc;

		if (a->kind == PA_BIND) {
			rc = decode_bind(info, v, &p);
		} else {
			size_t mark = jpath_key(&p, a->name);
			rc = decode_scalar(json_object_get(info, a->name), &v->attr[i],
			    a, jpath_str(&p));
			jpath_pop(&p, mark);
		}
		if (rc != 0)
			goto fail;
	}
	return 0;
fail:
	err_oom(e);
	return -1;
}

int
procjson_decode_partial(json_t *obj, const char *base, struct proc_values *v,
    struct err *e)
{
	if (procjson_decode(obj, base, v, e) != 0)
		return -1;
	/* What the update does not mention it leaves alone, names included. */
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++)
		if (json_object_get(obj, proc_attrs[i].name) == NULL)
			pval_clear(&v->attr[i]);
	return 0;
}

/* ---- process templates (api-contract.md §4) ---- */

/*
 * A template bind ip is not an address but a code resolved per host
 * (api-contract.md §4): "1".."8", or "" for none.
 */
static bool
tpl_ip_syntax_ok(const char *s, char *why, size_t whylen)
{
	char q[96];

	if (s[0] == '\0' || (s[0] >= '1' && s[0] <= '8' && s[1] == '\0'))
		return true;
	snprintf(why, whylen,
	    "%s is not a bind ip code: use \"1\" (127.0.0.1), "
	    "\"2\" (0.0.0.0), \"3\" (first inner IPv4), \"4\" (first outer IPv4), "
	    "\"5\" (::1), \"6\" (::), \"7\" (first inner IPv6) or \"8\" (first outer IPv6)",
	    err_quote(q, sizeof(q), s));
	return false;
}

/*
 * One template property {"value": X, "as_default_value": B} (prop borrowed;
 * NULL = absent, null = not set) at p (".<field>"): X into v as
 * decode_scalar does, at p + ".value"; *locked = B (missing or null = false).
 * -1 on out of memory.
 */
static int
decode_tpl_prop(json_t *prop, struct pval *v, const struct proc_attr *a,
    bool *locked, struct jpath *p)
{
	json_t *adv = json_object_get(prop, "as_default_value");
	size_t mark;
	int rc;

	*locked = false;
	if (prop != NULL && !json_is_null(prop) && !json_is_object(prop)) {
		pval_set_bad(v, ERR_WRONG_TYPE, jpath_str(p),
		    "must be an object {\"value\": ..., \"as_default_value\": true|false}, got %s",
		    type_name(prop));
		return 0;
	}
	mark = jpath_key(p, "value");
	rc = decode_scalar(json_is_null(prop) ? prop : json_object_get(prop, "value"),
	    v, a, jpath_str(p));
	jpath_pop(p, mark);
	if (rc != 0 || adv == NULL || json_is_null(adv))
		return rc;
	mark = jpath_key(p, "as_default_value");
	if (!json_is_boolean(adv) && v->state != PV_BAD)
		pval_set_bad(v, ERR_WRONG_TYPE, jpath_str(p),
		    "must be a boolean, got %s", type_name(adv));
	jpath_pop(p, mark);
	*locked = json_is_true(adv);
	return 0;
}

/*
 * row_id of template row r equal to an earlier row's: 1199014 naming both.
 * stem is the length of p before "[r]", to name the earlier row's path.
 */
static int
check_dup_row_id(struct proc_values *v, size_t r, struct jpath *p, size_t stem)
{
	const struct pval *id = &v->rows[r].key[BKI_TEMPLATE_ROW_ID];
	struct jpath other;
	size_t mark;
	int rc;

	for (size_t s = 0; s < r; s++) {
		const struct pval *o = &v->rows[s].key[BKI_TEMPLATE_ROW_ID];
		if (o->state != PV_SET || o->i != id->i)
			continue;
		other = *p;
		jpath_pop(&other, stem);
		jpath_index(&other, s);
		jpath_key(&other, ROW_ID);
		mark = jpath_key(p, ROW_ID);
		rc = row_set_bad(&v->rows[r], ERR_DUPLICATE, jpath_str(p),
		    "%lld is also the row_id of %s", (long long)id->i, jpath_str(&other));
		jpath_pop(p, mark);
		return rc;
	}
	return 0;
}

/*
 * The template row's own id: a plain integer > 0, unique in the template.
 * Missing, null or 0 leaves it unset for assign_row_ids: bk-cmdb documents
 * row_id as optional and numbers such rows itself.
 */
static int
decode_tpl_row_id(json_t *row, struct proc_values *v, size_t r, struct jpath *p,
    size_t stem)
{
	struct bind_row *br = &v->rows[r];
	json_t *id = json_object_get(row, ROW_ID);
	size_t mark = jpath_key(p, ROW_ID);
	int rc = 0;

	if (id == NULL || json_is_null(id) ||
	    (json_is_integer(id) && json_integer_value(id) == 0)) {
		jpath_pop(p, mark);
		return 0;
	}
	if (!json_is_integer(id))
		rc = row_set_bad(br, ERR_WRONG_TYPE, jpath_str(p),
		    "must be an integer, got %s", type_name(id));
	else if (json_integer_value(id) < 0 || json_integer_value(id) > INT32_MAX)
		/* bk-cmdb's row ids are 32-bit; the bound also leaves room to
		 * number the rows that come without one. */
		rc = row_set_bad(br, ERR_BAD_VALUE, jpath_str(p),
		    "%lld is not a row id (1..2147483647; omit it or give 0 to have one assigned)",
		    (long long)json_integer_value(id));
	jpath_pop(p, mark);
	if (rc != 0 || br->bad != NULL)
		return rc;
	br->key[BKI_TEMPLATE_ROW_ID].state = PV_SET;
	br->key[BKI_TEMPLATE_ROW_ID].i = json_integer_value(id);
	return check_dup_row_id(v, r, p, stem);
}

/*
 * Rows without a row_id get the next ids after the largest given one, in
 * row order, as bk-cmdb's ProcPropertyBindInfo.Validate does; they cannot
 * collide with a given id. A row whose row_id was malformed keeps its error.
 */
static void
assign_row_ids(struct proc_values *v)
{
	int64_t max = 0;

	for (size_t r = 0; r < v->nrows; r++) {
		const struct pval *id = &v->rows[r].key[BKI_TEMPLATE_ROW_ID];
		if (id->state == PV_SET && id->i > max)
			max = id->i;
	}
	for (size_t r = 0; r < v->nrows; r++) {
		struct pval *id = &v->rows[r].key[BKI_TEMPLATE_ROW_ID];
		if (id->state == PV_SET || max == INT64_MAX)
			continue;
		id->state = PV_SET;
		id->i = ++max;
	}
}

/* Template bind row r at p, whose length before "[r]" is stem. -1 on out
 * of memory. */
static int
decode_tpl_row(json_t *row, struct proc_values *v, size_t r,
    bool locks[BIND_KEY_COUNT], struct jpath *p, size_t stem)
{
	struct bind_row *br = &v->rows[r];
	char keys[128];
	const char *key;
	json_t *val;

	if (!json_is_object(row))
		return row_set_bad(br, ERR_WRONG_TYPE, jpath_str(p),
		    "must be a bind row object, got %s", type_name(row));
	if (decode_tpl_row_id(row, v, r, p, stem) != 0)
		return -1;
	for (size_t k = 0; k < BIND_KEY_COUNT; k++) {
		struct proc_attr a = bind_keys[k];
		size_t mark;
		int rc;

		if (k == BKI_TEMPLATE_ROW_ID)
			continue; /* the template row's id is row_id, above */
		if (k == BKI_IP)
			a.syntax = tpl_ip_syntax_ok;
		mark = jpath_key(p, a.name);
		rc = decode_tpl_prop(json_object_get(row, a.name), &br->key[k], &a,
		    &locks[k], p);
		jpath_pop(p, mark);
		if (rc != 0)
			return -1;
	}
	json_object_foreach(row, key, val) {
		int k = bind_key_index(key), rc;
		size_t mark;

		if (strcmp(key, ROW_ID) == 0 || (k >= 0 && k != BKI_TEMPLATE_ROW_ID))
			continue;
		mark = jpath_key(p, key);
		rc = row_set_bad(br, ERR_BAD_VALUE, jpath_str(p),
		    "unknown key; a template bind_info row takes %s",
		    row_key_list(keys, sizeof(keys), true));
		jpath_pop(p, mark);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/*
 * Template bind_info. The contract's shape is {"value": [rows]}; a bare
 * array of rows is accepted too (clients that post what list_process_instance
 * returns), with row paths ".bind_info[i]" instead of ".bind_info.value[i]"
 * so that a message points at what the client sent. bind_info's own
 * as_default_value is ignored: locking is per row key.
 */
static int
decode_tpl_bind(json_t *spec, struct proc_values *v,
    bool (**row_locked)[BIND_KEY_COUNT], struct jpath *p)
{
	size_t mark = jpath_key(p, proc_attrs[PAI_BIND_INFO].name), vmark = p->len, i;
	json_t *prop = json_object_get(spec, proc_attrs[PAI_BIND_INFO].name), *arr, *row;
	int rc;

	if (json_is_object(prop)) {
		vmark = jpath_key(p, "value");
		prop = json_object_get(prop, "value");
	}
	rc = decode_bind_array(prop, v, p, &arr);
	if (rc == 0 && v->nrows > 0 &&
	    (*row_locked = calloc(v->nrows, sizeof(**row_locked))) == NULL)
		rc = -1;
	if (rc == 0 && arr != NULL) {
		json_array_foreach(arr, i, row) {
			size_t m = jpath_index(p, i);
			rc = decode_tpl_row(row, v, i, (*row_locked)[i], p, m);
			jpath_pop(p, m);
			if (rc != 0)
				break;
		}
		assign_row_ids(v);
	}
	if (rc == 0)
		pval_check(&v->attr[PAI_BIND_INFO], &proc_attrs[PAI_BIND_INFO], jpath_str(p));
	jpath_pop(p, vmark);
	jpath_pop(p, mark);
	return rc;
}

int
procjson_decode_template(json_t *spec, const char *base,
    struct proc_values *v, bool locked[PROC_ATTR_COUNT],
    bool (**row_locked)[BIND_KEY_COUNT], struct err *e)
{
	struct jpath p;

	*row_locked = NULL;
	jpath_init_at(&p, base != NULL ? base : "");
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++) {
		const struct proc_attr *a = &proc_attrs[i];
		size_t mark;
		int rc;

		locked[i] = false;
		if (a->kind == PA_BIND) {
			rc = decode_tpl_bind(spec, v, row_locked, &p);
		} else {
			mark = jpath_key(&p, a->name);
			rc = decode_tpl_prop(json_object_get(spec, a->name), &v->attr[i],
			    a, &locked[i], &p);
			jpath_pop(&p, mark);
		}
		if (a->flags & PA_ALWAYS_LOCKED)
			locked[i] = true;
		if (rc != 0)
			goto fail;
	}
	return 0;
fail:
	free(*row_locked);
	*row_locked = NULL;
	err_oom(e);
	return -1;
}

/* ---- encoding (api-contract.md §8) ---- */

/*
 * One scalar as JSON text: its value when PV_SET, else the contract's
 * default ("" / false; integers null, or 0 for PA_ZERO_DEFAULT). The text
 * twin of encode_scalar below (tests/unit checks they agree).
 */
static void
write_scalar(struct jbuf *b, const struct pval *p, const struct proc_attr *a)
{
	bool set = p->state == PV_SET;

	switch (a->kind) {
	case PA_STR:
		jbuf_str(b, set && p->s != NULL ? p->s : "");
		break;
	case PA_INT:
		if (set || (a->flags & PA_ZERO_DEFAULT))
			jbuf_int(b, set ? p->i : 0);
		else
			jbuf_null(b);
		break;
	case PA_BOOL:
		jbuf_bool(b, set && p->b);
		break;
	default:
		jbuf_null(b);
	}
}

/*
 * One scalar as JSON: its value when PV_SET, else the contract's default
 * ("" / false; integers null, or 0 for PA_ZERO_DEFAULT). NULL on out of
 * memory.
 */
static json_t *
encode_scalar(const struct pval *p, const struct proc_attr *a)
{
	bool set = p->state == PV_SET;

	switch (a->kind) {
	case PA_STR:
		return json_string(set && p->s != NULL ? p->s : "");
	case PA_INT:
		return set                       ? json_integer(p->i) :
		    (a->flags & PA_ZERO_DEFAULT) ? json_integer(0) :
						   json_null();
	case PA_BOOL:
		return json_boolean(set && p->b);
	default:
		return json_null();
	}
}

/* {"value": value, "as_default_value": locked}; takes value (which may be
 * NULL: out of memory already). NULL on out of memory. */
static json_t *
tpl_prop(json_t *value, bool locked)
{
	json_t *o = value != NULL ? json_object() : NULL;

	if (o == NULL || json_object_set_new(o, "value", value) != 0 ||
	    json_object_set_new(o, "as_default_value", json_boolean(locked)) != 0) {
		json_decref(o != NULL ? o : value);
		return NULL;
	}
	return o;
}

static json_t *
encode_row(const struct bind_row *r, const bool *locks, bool tpl)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	if (tpl && r->key[BKI_TEMPLATE_ROW_ID].state == PV_SET &&
	    json_object_set_new(o, ROW_ID, json_integer(r->key[BKI_TEMPLATE_ROW_ID].i)) != 0)
		goto fail;
	for (size_t k = 0; k < BIND_KEY_COUNT; k++) {
		const struct proc_attr *a = &bind_keys[k];
		bool locked = locks != NULL && locks[k];
		json_t *val;

		if (tpl && (k == BKI_TEMPLATE_ROW_ID || (r->key[k].state != PV_SET && !locked)))
			continue;
		if (tpl && r->key[k].state != PV_SET)
			val = json_null(); /* locked to "not set" */
		else
			val = encode_scalar(&r->key[k], a);
		if (tpl)
			val = tpl_prop(val, locked);
		if (json_object_set_new(o, a->name, val) != 0)
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

static json_t *
encode_rows(const struct proc_values *v,
    const bool (*row_locked)[BIND_KEY_COUNT], bool tpl)
{
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	for (size_t r = 0; r < v->nrows; r++) {
		const bool *locks = row_locked != NULL ? row_locked[r] : NULL;
		if (json_array_append_new(arr, encode_row(&v->rows[r], locks, tpl)) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

void
procjson_write(struct jbuf *b, const struct proc_values *v)
{
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++) {
		const struct proc_attr *a = &proc_attrs[i];

		jbuf_key(b, a->name);
		if (a->kind != PA_BIND) {
			write_scalar(b, &v->attr[i], a);
			continue;
		}
		if (v->attr[i].state != PV_SET) {
			jbuf_null(b);
			continue;
		}
		jbuf_open(b, '[');
		for (size_t r = 0; r < v->nrows; r++) {
			jbuf_open(b, '{');
			for (size_t k = 0; k < BIND_KEY_COUNT; k++) {
				jbuf_key(b, bind_keys[k].name);
				write_scalar(b, &v->rows[r].key[k], &bind_keys[k]);
			}
			jbuf_close(b, '}');
		}
		jbuf_close(b, ']');
	}
}

json_t *
procjson_encode(const struct proc_values *v)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++) {
		const struct proc_attr *a = &proc_attrs[i];
		json_t *val;

		if (a->kind == PA_BIND)
			val = v->attr[i].state == PV_SET ? encode_rows(v, NULL, false) : json_null();
		else
			val = encode_scalar(&v->attr[i], a);
		if (json_object_set_new(o, a->name, val) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

json_t *
procjson_encode_template(const struct proc_values *v,
    const bool locked[PROC_ATTR_COUNT],
    const bool (*row_locked)[BIND_KEY_COUNT])
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++) {
		const struct proc_attr *a = &proc_attrs[i];
		bool is_locked = locked != NULL && locked[i];
		json_t *val;

		/* A locked, unset field is shown too: it binds every instance to
		 * "not set", and a client must be able to read that back. */
		if (v->attr[i].state != PV_SET && (!is_locked || a->kind == PA_BIND))
			continue;
		if (v->attr[i].state != PV_SET) {
			val = tpl_prop(json_null(), true);
		} else if (a->kind == PA_BIND) {
			val = json_object();
			if (val != NULL && json_object_set_new(val, "value", encode_rows(v, row_locked, true)) != 0) {
				json_decref(val);
				val = NULL;
			}
		} else {
			val = tpl_prop(encode_scalar(&v->attr[i], a), is_locked);
		}
		if (json_object_set_new(o, a->name, val) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int
procjson_decode_member(json_t *item, const char *base, struct proc_values *v,
    struct err *e)
{
	json_t *info = json_object_get(item, "process_info");
	struct jpath p;

	jpath_init_at(&p, base);
	jpath_key(&p, "process_info");
	if (info != NULL && !json_is_null(info) && !json_is_object(info)) {
		err_set(e, ERR_BAD_JSON, jpath_str(&p), "must be an object or null");
		return -1;
	}
	return procjson_decode(info, jpath_str(&p), v, e);
}
