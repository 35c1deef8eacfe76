/* load: see load.h. */
#include "load.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"

/* Nested includes, imports and templates; deeper means a cycle. */
#define LOAD_MAX_DEPTH 16
/* Steps one run may compile to: a typo in a matrix must not eat the memory. */
#define LOAD_MAX_STEPS 100000
/* Bytes one $str may build. */
#define LOAD_MAX_STR (16 << 20)

/* Where compilation stands; copied, not shared, when it descends. */
struct ctx {
	const char *file;       /* the file being compiled, for messages and paths */
	const json_t *defs;     /* templates visible here; borrowed */
	const json_t *params;   /* $(name) bindings; borrowed */
	int depth;
	char where[256];        /* e.g. steps[3].steps[1] (row 2) */
	size_t *nsteps;         /* compiled so far in this run; shared */
	struct sbuf *err;
};

static void ctx_fail(const struct ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The first error only: later ones are consequences. */
static void
ctx_fail(const struct ctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (c->err->len > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diff_add(c->err, "%s: %s%s%s", c->file, c->where, c->where[0] ? ": " : "", msg);
}

/* A copy of c located one level further down, at "<where><fmt>". */
static struct ctx ctx_at(const struct ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static struct ctx
ctx_at(const struct ctx *c, const char *fmt, ...)
{
	struct ctx n = *c;
	size_t len = strlen(n.where);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(n.where + len, sizeof n.where - len, fmt, ap);
	va_end(ap);
	return n;
}

/* Whether every key of o is in the NULL-terminated list; else says which is not. */
static bool
keys_known(const struct ctx *c, const json_t *o, const char *const *list,
    const char *what)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v)
		if (!match_key_known(k, list)) {
			ctx_fail(c, "unknown key %s in %s", k, what);
			return false;
		}
	return true;
}

/* rel resolved against the directory of from. Caller frees. */
static char *
path_join(const char *from, const char *rel)
{
	const char *slash = strrchr(from, '/');
	struct sbuf b = {0};

	if (rel[0] == '/' || slash == NULL)
		return xstrdup(rel);
	sb_addn(&b, from, (size_t)(slash - from + 1));
	sb_adds(&b, rel);
	return b.p;
}

static json_t *
read_json(const struct ctx *c, const char *path)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, JSON_ALLOW_NUL, &jerr);

	if (doc == NULL)
		ctx_fail(c, "line %d: %s", jerr.line, jerr.text);
	else if (!json_is_object(doc)) {
		ctx_fail(c, "not a JSON object");
		json_decref(doc);
		doc = NULL;
	}
	return doc;
}

/* ---- $(name) parameters --------------------------------------------------- */

/* Length of a parameter reference's name at s ("a", "a.b_2"); 0: none. */
static size_t
param_name_len(const char *s, size_t n)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;

		while (i < n && (s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    ((i > 0 || start > 0) && s[i] >= '0' && s[i] <= '9')))
			i++;
		if (i == start)
			return 0;
		if (i >= n || s[i] != '.')
			return i;
		i++;
	}
}

/*
 * The value bound to name; dots step into objects ("a.b") and arrays
 * ("a.0"). Borrowed or NULL.
 */
static const json_t *
param_get(const json_t *params, const char *name, size_t n)
{
	const json_t *cur = params;
	char key[128];

	while (cur != NULL) {
		size_t k = 0;

		while (k < n && name[k] != '.')
			k++;
		if (k >= sizeof key)
			return NULL;
		memcpy(key, name, k);
		key[k] = '\0';
		if (json_is_array(cur) && strspn(key, "0123456789") == k && k > 0 && k < 10)
			cur = json_array_get(cur, strtoul(key, NULL, 10));
		else
			cur = json_object_get(cur, key);
		if (k == n)
			return cur;
		name += k + 1;
		n -= k + 1;
	}
	return NULL;
}

/*
 * s with each $(name) replaced: exactly "$(name)" by the bound value itself,
 * inside other text by its text. "$(" not followed by a name and ")" is kept
 * as it is; a name without a binding is an error. New reference or NULL.
 */
static json_t *
subst_string(const struct ctx *c, const char *s, size_t n)
{
	struct sbuf out = {0};
	const char *p = s, *end = s + n;
	const json_t *v;
	json_t *r;
	size_t k;

	if (n > 3 && s[0] == '$' && s[1] == '(' && (k = param_name_len(s + 2, n - 2)) > 0 &&
	    k + 3 == n && s[n - 1] == ')') {
		if ((v = param_get(c->params, s + 2, k)) == NULL) {
			ctx_fail(c, "no parameter %.*s", (int)n, s);
			return NULL;
		}
		return json_deep_copy(v);
	}
	while (p < end) {
		const char *open = memmem(p, (size_t)(end - p), "$(", 2);

		if (open == NULL) {
			sb_addn(&out, p, (size_t)(end - p));
			break;
		}
		sb_addn(&out, p, (size_t)(open - p));
		k = param_name_len(open + 2, (size_t)(end - open - 2));
		if (k == 0 || open + 2 + k >= end || open[2 + k] != ')') {
			sb_addn(&out, open, 2);
			p = open + 2;
			continue;
		}
		if ((v = param_get(c->params, open + 2, k)) == NULL) {
			ctx_fail(c, "no parameter $(%.*s)", (int)k, open + 2);
			sb_free(&out);
			return NULL;
		}
		sb_add_text(&out, v);
		p = open + 3 + k;
	}
	r = json_stringn(out.p ? out.p : "", out.len);
	sb_free(&out);
	if (r == NULL)
		ctx_fail(c, "%.60s: not UTF-8 after $(...)", s);
	return r;
}

/* A copy of v with every $(name) in strings and keys replaced. NULL on error. */
static json_t *
subst(const struct ctx *c, const json_t *v)
{
	json_t *out, *x;
	const json_t *e;
	const char *key;
	size_t i;

	if (json_is_string(v))
		return subst_string(c, json_string_value(v), json_string_length(v));
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, e) {
			if ((x = subst(c, e)) == NULL) {
				json_decref(out);
				return NULL;
			}
			json_array_append_new(out, x);
		}
		return out;
	}
	if (json_is_object(v)) {
		out = json_object();
		json_object_foreach((json_t *)v, key, e) {
			json_t *k = subst_string(c, key, strlen(key));

			x = k ? subst(c, e) : NULL;
			if (x == NULL) {
				json_decref(k);
				json_decref(out);
				return NULL;
			}
			json_object_set_new(out, json_string_value(k), x);
			json_decref(k);
		}
		return out;
	}
	return json_deep_copy(v);
}

/* ---- $str ----------------------------------------------------------------- */

/* {"$str": [PIECE...]}: a piece is "text" or ["text", count]. New string or NULL. */
static json_t *
build_str(const struct ctx *c, const json_t *pieces)
{
	struct sbuf b = {0};
	const json_t *pc;
	json_t *r = NULL;
	size_t i;

	if (!json_is_array(pieces)) {
		ctx_fail(c, "$str wants an array of \"text\" and [\"text\", count]");
		return NULL;
	}
	json_array_foreach(pieces, i, pc) {
		const json_t *t = json_is_array(pc) ? json_array_get(pc, 0) : pc;
		const json_t *cnt = json_array_get(pc, 1);
		json_int_t n = json_is_array(pc) ? json_integer_value(cnt) : 1, k;

		if (!json_is_string(t) || (json_is_array(pc) && (json_array_size(pc) != 2 ||
		    !json_is_integer(cnt) || n < 0))) {
			ctx_fail(c, "$str piece %zu: want \"text\" or [\"text\", count >= 0]", i);
			goto out;
		}
		if (n > 0 && json_string_length(t) > 0 &&
		    (size_t)n > (LOAD_MAX_STR - b.len) / json_string_length(t)) {
			ctx_fail(c, "$str longer than %d bytes", LOAD_MAX_STR);
			goto out;
		}
		for (k = 0; k < n; k++)
			sb_addn(&b, json_string_value(t), json_string_length(t));
	}
	r = json_stringn(b.p ? b.p : "", b.len);
out:
	sb_free(&b);
	return r;
}

/* A copy of v with each {"$str": ...} object built; "$unset" left over is an error. */
static json_t *
eval_str(const struct ctx *c, const json_t *v)
{
	json_t *out, *x;
	const json_t *e;
	const char *key;
	size_t i;

	if (match_is_special(v, "$unset")) {
		ctx_fail(c, "\"$unset\" only removes a key of a template");
		return NULL;
	}
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, e) {
			if ((x = eval_str(c, e)) == NULL) {
				json_decref(out);
				return NULL;
			}
			json_array_append_new(out, x);
		}
		return out;
	}
	if (!json_is_object(v))
		return json_deep_copy(v);
	if (json_object_get(v, "$str") != NULL) {
		if (json_object_size(v) == 1)
			return build_str(c, json_object_get(v, "$str"));
		ctx_fail(c, "$str must be alone in its object");
		return NULL;
	}
	out = json_object();
	json_object_foreach((json_t *)v, key, e) {
		if ((x = eval_str(c, e)) == NULL) {
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, key, x);
	}
	return out;
}

/* v with its parameters replaced and its $str built: what a bound value holds. */
static json_t *
finish(const struct ctx *c, const json_t *v)
{
	json_t *s = subst(c, v), *r;

	if (s == NULL)
		return NULL;
	r = eval_str(c, s);
	json_decref(s);
	return r;
}

/*
 * New params: a copy of base, then each key of with, its value finished in
 * c's scope. NULL on error.
 */
static json_t *
bind_params(const struct ctx *c, const json_t *base, const json_t *with)
{
	json_t *p = json_deep_copy(base), *v;
	const char *k;
	const json_t *e;

	if (with != NULL && !json_is_object(with)) {
		ctx_fail(c, "\"with\" must be an object");
		json_decref(p);
		return NULL;
	}
	json_object_foreach((json_t *)with, k, e) {
		if ((v = finish(c, e)) == NULL) {
			json_decref(p);
			return NULL;
		}
		json_object_set_new(p, k, v);
	}
	return p;
}

/* ---- templates ------------------------------------------------------------ */

/*
 * b merged over a, new: objects merge key by key ("$unset" removes a key),
 * anything else in b replaces a. Keys keep a's order, b's new ones follow.
 */
static json_t *
merge(const json_t *a, const json_t *b)
{
	json_t *out, *cur;
	const json_t *v;
	const char *k;

	if (!json_is_object(a) || !json_is_object(b))
		return json_deep_copy(b);
	out = json_deep_copy(a);
	json_object_foreach((json_t *)b, k, v) {
		if (match_is_special(v, "$unset")) {
			json_object_del(out, k);
			continue;
		}
		cur = json_object_get(out, k);
		json_object_set_new(out, k, cur ? merge(cur, v) : json_deep_copy(v));
	}
	return out;
}

static json_t *apply_use(const struct ctx *c, const json_t *step);

/* Template name, with its own "use" applied. New or NULL. */
static json_t *
template_get(const struct ctx *c, const json_t *name)
{
	const json_t *t = json_is_string(name) ?
	    json_object_get(c->defs, json_string_value(name)) : NULL;
	struct ctx deeper = *c;

	if (!json_is_object(t)) {
		ctx_fail(c, "no template %s in defs", json_is_string(name) ?
		    json_string_value(name) : "(not a string)");
		return NULL;
	}
	if (++deeper.depth > LOAD_MAX_DEPTH) {
		ctx_fail(c, "templates nested too deep (a cycle?) at %s",
		    json_string_value(name));
		return NULL;
	}
	return apply_use(&deeper, t);
}

/* step with the templates it names in "use" merged under it, "use" removed. */
static json_t *
apply_use(const struct ctx *c, const json_t *step)
{
	const json_t *use = json_object_get(step, "use"), *n;
	json_t *base = json_object(), *t, *m, *own;
	size_t i;

	if (use != NULL && !json_is_string(use) && !json_is_array(use)) {
		ctx_fail(c, "\"use\" must be a template name or an array of them");
		goto fail;
	}
	for (i = 0; use != NULL && i < (json_is_array(use) ? json_array_size(use) : 1); i++) {
		n = json_is_array(use) ? json_array_get(use, i) : use;
		if ((t = template_get(c, n)) == NULL)
			goto fail;
		m = merge(base, t);
		json_decref(t);
		json_decref(base);
		base = m;
	}
	own = json_deep_copy(step);
	json_object_del(own, "use");
	m = merge(base, own);
	json_decref(own);
	json_decref(base);
	return m;
fail:
	json_decref(base);
	return NULL;
}

/* ---- steps ---------------------------------------------------------------- */

static int compile_steps(const struct ctx *c, const json_t *steps, json_t *out);
static int compile_doc(const struct ctx *c, const json_t *doc, const json_t *params,
    json_t *out);

/*
 * The lanes of a race step, each compiled as a step is (its templates, its
 * own "with" over the step's parameters), into a new array. NULL on error.
 */
static json_t *
compile_lanes(const struct ctx *c, const json_t *lanes)
{
	json_t *out = json_array(), *l = NULL, *p = NULL, *x;
	const json_t *lane;
	size_t i;

	if (!json_is_array(lanes)) {
		ctx_fail(c, "\"race\" must be an array of lanes");
		goto fail;
	}
	json_array_foreach(lanes, i, lane) {
		struct ctx in = ctx_at(c, ".race[%zu]", i);

		if (!json_is_object(lane)) {
			ctx_fail(&in, "a lane must be an object");
			goto fail;
		}
		if ((l = apply_use(&in, lane)) == NULL ||
		    (p = bind_params(&in, c->params, json_object_get(l, "with"))) == NULL)
			goto fail;
		json_object_del(l, "with");
		in.params = p;
		if ((x = finish(&in, l)) == NULL)
			goto fail;
		json_array_append_new(out, x);
		json_decref(l);
		json_decref(p);
		l = p = NULL;
	}
	return out;
fail:
	json_decref(l);
	json_decref(p);
	json_decref(out);
	return NULL;
}

static int
compile_plain(const struct ctx *c, const json_t *e, json_t *out)
{
	json_t *s = apply_use(c, e), *p = NULL, *x = NULL, *lanes = NULL;
	struct ctx in = *c;
	int rc = -1;

	if (s == NULL || (p = bind_params(c, c->params, json_object_get(s, "with"))) == NULL)
		goto out;
	json_object_del(s, "with");
	in.params = p;
	/* Lanes are finished on their own, with their own parameters. */
	if (json_object_get(s, "race") != NULL) {
		if ((lanes = compile_lanes(&in, json_object_get(s, "race"))) == NULL)
			goto out;
		json_object_del(s, "race");
	}
	if ((x = finish(&in, s)) == NULL)
		goto out;
	if (lanes != NULL)
		json_object_set(x, "race", lanes);
	if (++*c->nsteps > LOAD_MAX_STEPS) {
		ctx_fail(c, "more than %d steps", LOAD_MAX_STEPS);
		goto out;
	}
	json_array_append(out, x);
	rc = 0;
out:
	json_decref(s);
	json_decref(p);
	json_decref(x);
	json_decref(lanes);
	return rc;
}

static const char *const include_keys[] = {"include", "with", "comment", NULL};

static int
compile_include(const struct ctx *c, const json_t *e, json_t *out)
{
	const json_t *inc = json_object_get(e, "include");
	struct ctx in = *c;
	json_t *params = NULL, *doc = NULL, *none = json_object();
	char *path = NULL;

	int rc = -1;

	if (!keys_known(c, e, include_keys, "an include"))
		goto out;
	if (!json_is_string(inc)) {
		ctx_fail(c, "\"include\" must be a path");
		goto out;
	}
	/* An included file sees only the parameters passed to it. */
	if ((params = bind_params(c, none, json_object_get(e, "with"))) == NULL)
		goto out;
	path = path_join(c->file, json_string_value(inc));
	in.file = path;
	in.where[0] = '\0';
	if (++in.depth > LOAD_MAX_DEPTH) {
		ctx_fail(c, "includes nested too deep (a cycle?)");
		goto out;
	}
	if ((doc = read_json(&in, path)) == NULL)
		goto out;
	if (json_object_get(doc, "variants") != NULL) {
		ctx_fail(&in, "an included file has no variants");
		goto out;
	}
	rc = compile_doc(&in, doc, params, out);
out:
	json_decref(params);
	json_decref(doc);
	json_decref(none);
	free(path);
	return rc;
}

/* rows (array of objects) times each value of name: every row gets each. */
static json_t *
product(const json_t *rows, const char *name, const json_t *values)
{
	json_t *out = json_array(), *r;
	const json_t *row, *v;
	size_t i, k;

	json_array_foreach(rows, i, row) {
		json_array_foreach(values, k, v) {
			r = json_deep_copy(row);
			json_object_set(r, name, (json_t *)v);
			json_array_append_new(out, r);
		}
	}
	return out;
}

static const char *const matrix_keys[] = {"cols", "rows", "each", NULL};

/* The bindings of a matrix, one object per row; NULL on error (never empty). */
static json_t *
matrix_rows(const struct ctx *c, const json_t *m)
{
	const json_t *cols = json_object_get(m, "cols"), *rows = json_object_get(m, "rows");
	const json_t *each = json_object_get(m, "each"), *row, *v;
	json_t *out = json_array(), *o, *next;
	const char *k;
	size_t i, j;

	if (json_is_array(m)) {
		json_array_foreach(m, i, row) {
			if (!json_is_object(row)) {
				ctx_fail(c, "matrix row %zu is not an object", i);
				goto fail;
			}
			json_array_append(out, (json_t *)row);
		}
	} else if (!json_is_object(m) || !keys_known(c, m, matrix_keys, "a matrix") ||
	    (cols == NULL) != (rows == NULL) || (cols == NULL && each == NULL)) {
		ctx_fail(c, "matrix: want [{...}...], or {\"cols\", \"rows\"} and/or {\"each\"}");
		goto fail;
	} else if (cols == NULL)
		json_array_append_new(out, json_object());
	else {
		if (!json_is_array(cols) || !json_is_array(rows)) {
			ctx_fail(c, "matrix: cols and rows must be arrays");
			goto fail;
		}
		json_array_foreach(rows, i, row) {
			if (json_array_size(row) != json_array_size(cols)) {
				ctx_fail(c, "matrix row %zu: %zu values for %zu cols", i,
				    json_array_size(row), json_array_size(cols));
				goto fail;
			}
			o = json_object();
			json_array_foreach(row, j, v) {
				if (!json_is_string(json_array_get(cols, j))) {
					json_decref(o);
					ctx_fail(c, "matrix: cols must be names");
					goto fail;
				}
				json_object_set(o, json_string_value(json_array_get(cols, j)),
				    (json_t *)v);
			}
			json_array_append_new(out, o);
		}
	}
	if (each != NULL && !json_is_object(each)) {
		ctx_fail(c, "matrix: each must be an object of arrays");
		goto fail;
	}
	json_object_foreach((json_t *)each, k, v) {
		if (!json_is_array(v)) {
			ctx_fail(c, "matrix: each.%s must be an array", k);
			goto fail;
		}
		next = product(out, k, v);
		json_decref(out);
		out = next;
	}
	if (json_array_size(out) == 0) {
		/* A matrix that makes nothing would drop its cases without a word. */
		ctx_fail(c, "matrix makes no rows");
		goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

static const char *const matrix_step_keys[] = {"matrix", "steps", "with", "comment", NULL};

/* A matrix, or a group (steps sharing a "with"): a matrix of one empty row. */
static int
compile_matrix(const struct ctx *c, const json_t *e, json_t *out)
{
	json_t *m = NULL, *rows = NULL, *p = NULL, *pw = NULL;
	const json_t *row;
	size_t i;
	int rc = -1;

	if (!keys_known(c, e, matrix_step_keys, "a matrix or group"))
		goto out;
	if (!json_is_array(json_object_get(e, "steps"))) {
		ctx_fail(c, "a matrix needs \"steps\": [...]");
		goto out;
	}
	if (json_object_get(e, "matrix") == NULL) {
		rows = json_pack("[{}]");
	} else if ((m = finish(c, json_object_get(e, "matrix"))) == NULL ||
	    (rows = matrix_rows(c, m)) == NULL)
		goto out;
	json_array_foreach(rows, i, row) {
		struct ctx in = ctx_at(c, " (row %zu)", i);

		p = json_deep_copy(c->params);
		json_object_update(p, (json_t *)row);
		in.params = p;
		/* with is bound per row, so it may derive values from the row's. */
		if ((pw = bind_params(&in, p, json_object_get(e, "with"))) == NULL)
			goto out;
		in.params = pw;
		if (compile_steps(&in, json_object_get(e, "steps"), out) != 0)
			goto out;
		json_decref(p);
		json_decref(pw);
		p = pw = NULL;
	}
	rc = 0;
out:
	json_decref(m);
	json_decref(rows);
	json_decref(p);
	json_decref(pw);
	return rc;
}

static int
compile_steps(const struct ctx *c, const json_t *steps, json_t *out)
{
	const json_t *e;
	size_t i;

	if (!json_is_array(steps)) {
		ctx_fail(c, "\"steps\" must be an array");
		return -1;
	}
	json_array_foreach(steps, i, e) {
		struct ctx in = ctx_at(c, "%ssteps[%zu]", c->where[0] ? "." : "", i);
		int rc;

		if (!json_is_object(e)) {
			ctx_fail(&in, "a step must be an object");
			return -1;
		}
		if (json_object_get(e, "include") != NULL)
			rc = compile_include(&in, e, out);
		else if (json_object_get(e, "matrix") != NULL ||
		    json_object_get(e, "steps") != NULL)
			rc = compile_matrix(&in, e, out);
		else
			rc = compile_plain(&in, e, out);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* The defs of the files doc imports (in order), then doc's own. New or NULL. */
static json_t *
collect_defs(const struct ctx *c, const json_t *doc)
{
	const json_t *imports = json_object_get(doc, "import"), *own = json_object_get(doc, "defs");
	const json_t *imp;
	json_t *defs = json_object(), *sub, *idoc;
	size_t i;

	if ((imports != NULL && !json_is_array(imports)) || (own != NULL && !json_is_object(own))) {
		ctx_fail(c, "\"import\" must be an array of paths and \"defs\" an object");
		goto fail;
	}
	json_array_foreach(imports, i, imp) {
		struct ctx in = *c;
		char *path;

		if (!json_is_string(imp)) {
			ctx_fail(c, "import[%zu] must be a path", i);
			goto fail;
		}
		path = path_join(c->file, json_string_value(imp));
		in.file = path;
		in.where[0] = '\0';
		idoc = ++in.depth > LOAD_MAX_DEPTH ? NULL : read_json(&in, path);
		if (in.depth > LOAD_MAX_DEPTH)
			ctx_fail(c, "imports nested too deep (a cycle?)");
		sub = idoc ? collect_defs(&in, idoc) : NULL;
		json_decref(idoc);
		free(path);
		if (sub == NULL)
			goto fail;
		json_object_update(defs, sub);
		json_decref(sub);
	}
	json_object_update(defs, (json_t *)own);
	return defs;
fail:
	json_decref(defs);
	return NULL;
}

static const char *const file_keys[] = {"name", "comment", "import", "defs", "with",
    "variants", "steps", NULL};

/*
 * Compiles doc (read from c->file) with its "with" as defaults under params.
 * Appends to out. 0 or -1.
 */
static int
compile_doc(const struct ctx *c, const json_t *doc, const json_t *params, json_t *out)
{
	const json_t *with = json_object_get(doc, "with");
	json_t *defs = NULL, *p = NULL;
	struct ctx in = *c;
	int rc = -1;

	if (!keys_known(c, doc, file_keys, "a case file"))
		goto out;
	if (with != NULL && !json_is_object(with)) {
		ctx_fail(c, "\"with\" must be an object");
		goto out;
	}
	if ((defs = collect_defs(c, doc)) == NULL)
		goto out;
	/* The file's "with" are defaults: what the includer or variant passes wins. */
	in.params = params;
	if ((p = bind_params(&in, params, with)) == NULL)
		goto out;
	json_object_update(p, (json_t *)params);
	in.defs = defs;
	in.params = p;
	rc = compile_steps(&in, json_object_get(doc, "steps"), out);
out:
	json_decref(defs);
	json_decref(p);
	return rc;
}

void
load_free(struct load_file *lf)
{
	size_t i;

	for (i = 0; i < lf->nruns; i++) {
		free(lf->runs[i].name);
		json_decref(lf->runs[i].steps);
	}
	free(lf->runs);
	memset(lf, 0, sizeof *lf);
}

static const char *const variant_keys[] = {"name", "with", "comment", NULL};

/* One run: the variant v (NULL: none) of doc. */
static int
add_run(const struct ctx *c, const json_t *doc, const json_t *v, struct load_file *lf)
{
	const json_t *name = json_object_get(v, "name"), *with = json_object_get(v, "with");
	struct load_run *r;
	json_t *params;
	size_t nsteps = 0;
	struct ctx in = *c;

	if (v != NULL && (!json_is_object(v) || !keys_known(c, v, variant_keys, "a variant") ||
	    !json_is_string(name) || (with != NULL && !json_is_object(with)))) {
		ctx_fail(c, "a variant is {\"name\": \"...\", \"with\": {...}}");
		return -1;
	}
	lf->runs = xrealloc(lf->runs, (lf->nruns + 1) * sizeof *lf->runs);
	r = &lf->runs[lf->nruns++];
	r->name = name ? xstrdup(json_string_value(name)) : NULL;
	r->steps = json_array();
	in.nsteps = &nsteps;
	if ((params = bind_params(c, c->params, with)) == NULL)
		return -1;
	if (compile_doc(&in, doc, params, r->steps) != 0) {
		json_decref(params);
		return -1;
	}
	json_decref(params);
	return 0;
}

int
load_case(const char *path, struct load_file *out, struct sbuf *err)
{
	json_t *none = json_object(), *doc;
	struct ctx c = {.file = path, .defs = none, .params = none, .err = err};
	const json_t *variants, *v;
	size_t i;
	int rc = -1;

	if ((doc = read_json(&c, path)) == NULL)
		goto out;
	variants = json_object_get(doc, "variants");
	if (variants == NULL)
		rc = add_run(&c, doc, NULL, out);
	else if (!json_is_array(variants) || json_array_size(variants) == 0)
		ctx_fail(&c, "\"variants\" must be a non-empty array");
	else {
		rc = 0;
		json_array_foreach(variants, i, v)
			if (rc == 0)
				rc = add_run(&c, doc, v, out);
	}
out:
	if (rc != 0)
		load_free(out);
	json_decref(doc);
	json_decref(none);
	return rc;
}
