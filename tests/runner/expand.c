/* expand: see expand.h. */
#include "expand.h"

#include <stdbool.h>
#include <string.h>

/* Value of ${name}: a loop index or a saved variable; exact: the string is
 * exactly "${name}". New reference or NULL. */
static json_t *
lookup_var(const char *name, size_t n, const json_t *vars, struct scope sc,
    bool exact)
{
	char key[128];

	if (n == 0 || n >= sizeof key)
		return NULL;
	memcpy(key, name, n);
	key[n] = '\0';
	if (sc.i >= 0 && strcmp(key, "i") == 0)
		return json_integer(sc.i);
	if (sc.i >= 0 && strcmp(key, "i1") == 0)
		return json_integer(sc.i + 1);
	if (sc.j >= 0 && strcmp(key, "j") == 0)
		return json_integer(sc.j);
	if (sc.j >= 0 && strcmp(key, "j1") == 0)
		return json_integer(sc.j + 1);
	/* ${p}, ${p1}: the parallel request's index, filled in by its worker. */
	if (strcmp(key, "p") == 0)
		return json_string(exact ? PARALLEL_INT_MARK : PARALLEL_MARK);
	if (strcmp(key, "p1") == 0)
		return json_string(exact ? PARALLEL_INT1_MARK : PARALLEL_MARK1);
	return json_deep_copy(json_object_get(vars, key));
}

static json_t *
expand_string(const json_t *v, const json_t *vars, struct scope sc, struct sbuf *err)
{
	const char *s = json_string_value(v), *p, *end = s + json_string_length(v);
	struct sbuf out = {0};
	json_t *r;

	/* Exactly "${name}" keeps the variable's JSON type. */
	if (end - s > 3 && s[0] == '$' && s[1] == '{' && end[-1] == '}' &&
	    memchr(s + 2, '}', (size_t)(end - s - 3)) == NULL) {
		r = lookup_var(s + 2, (size_t)(end - s - 3), vars, sc, true);
		if (r == NULL)
			diff_add(err, "undefined variable %s", s);
		return r;
	}
	for (p = s; p < end;) {
		const char *open = memmem(p, (size_t)(end - p), "${", 2), *close;

		if (open == NULL ||
		    (close = memchr(open, '}', (size_t)(end - open))) == NULL) {
			sb_addn(&out, p, (size_t)(end - p));
			break;
		}
		sb_addn(&out, p, (size_t)(open - p));
		r = lookup_var(open + 2, (size_t)(close - open - 2), vars, sc, false);
		if (r == NULL) {
			diff_add(err, "undefined variable %.*s", (int)(close - open + 1), open);
			sb_free(&out);
			return NULL;
		}
		sb_add_text(&out, r);
		json_decref(r);
		p = close + 1;
	}
	r = json_stringn(out.p ? out.p : "", out.len);
	sb_free(&out);
	if (r == NULL)
		diff_add(err, "expansion of %.100s is not valid UTF-8", s);
	return r;
}

/* Appends the N copies of a {"$repeat": N, "item": X} element to out. */
static int
expand_repeat(json_t *out, const json_t *rep, const json_t *vars, struct scope sc,
    struct sbuf *err)
{
	json_t *n = expand(json_object_get(rep, "$repeat"), vars, sc, err);
	const json_t *item = json_object_get(rep, "item");
	json_int_t k, count = json_is_integer(n) ? json_integer_value(n) : -1;
	int rc = -1;

	if (count < 0 || item == NULL || json_object_size(rep) != 2) {
		diff_add(err, "bad $repeat: want {\"$repeat\": N >= 0, \"item\": X}");
		goto out;
	}
	for (k = 0; k < count; k++) {
		struct scope inner = {.i = k, .j = sc.i};
		json_t *x = expand(item, vars, inner, err);

		if (x == NULL)
			goto out;
		json_array_append_new(out, x);
	}
	rc = 0;
out:
	json_decref(n);
	return rc;
}

json_t *
expand(const json_t *v, const json_t *vars, struct scope sc, struct sbuf *err)
{
	json_t *out = NULL, *x;
	const json_t *e;
	const char *key;
	size_t idx;

	if (v == NULL)
		return NULL;
	if (json_is_string(v))
		return expand_string(v, vars, sc, err);
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, idx, e) {
			if (json_is_object(e) && json_object_get(e, "$repeat") != NULL) {
				if (expand_repeat(out, e, vars, sc, err) != 0)
					goto fail;
				continue;
			}
			if ((x = expand(e, vars, sc, err)) == NULL)
				goto fail;
			json_array_append_new(out, x);
		}
		return out;
	}
	if (json_is_object(v)) {
		if (json_object_get(v, "$repeat") != NULL) {
			diff_add(err, "$repeat is only allowed as an array element");
			return NULL;
		}
		out = json_object();
		json_object_foreach((json_t *)v, key, e) {
			if ((x = expand(e, vars, sc, err)) == NULL)
				goto fail;
			json_object_set_new(out, key, x);
		}
		return out;
	}
	return json_deep_copy(v);
fail:
	json_decref(out);
	return NULL;
}
