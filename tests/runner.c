/*
 * test_runner: data-driven HTTP tests for procsvc (run by scripts/test.sh).
 *
 *   test_runner FILE.json...
 *
 * Environment: PROCSVC_URL (default http://127.0.0.1:8080), TEST_DATABASE_URL,
 * PROCSVC_TEST_APP / PROCSVC_TEST_SECRET / PROCSVC_TEST_USER (credentials added
 * to object bodies), TEST_FILTER (run only files whose path contains it),
 * TEST_VERBOSE=1 (print passing steps too).
 *
 * A file is one case: {"name": "...", "steps": [STEP...]}. Before each file every
 * table of schema public except schema_migrations is truncated, and the saved
 * variables are cleared. Each step is one test. A STEP is an object:
 *
 *   name         printed on failure (default "#N")
 *   method       default "POST"; path: "/api/v3/...", appended to PROCSVC_URL
 *   headers      {"Name": "value"}; "" sends an empty header, null removes one
 *   body         any JSON, sent compact with Content-Type: application/json; an
 *                object body gets bk_app_code/bk_app_secret/bk_username unless
 *                present or "auth": false
 *   raw_body     string sent verbatim; raw_body_hex: hex bytes sent verbatim
 *   body_size    N: an object body ({auth..., "x": "aaa..."}) of exactly N bytes
 *   expect       status, code, result, message (exact), message_contains (string
 *                or array), data (exact), data_subset, data_len, body (subset of
 *                the whole response), body_contains (raw), headers ({"Name":
 *                "value" | "$any"}), envelope (true/false; default true for
 *                paths under /api/)
 *   save         {"var": "data[0].property.bk_process_id"}: selectors into the
 *                response JSON, dotted keys and [n] indexes
 *   sql          query run after the request (a step may be sql only), with
 *   sql_params   [...] as $1..$n (numbers as text, null as NULL) and
 *   sql_expect   [[...row...]]: rows of text values (null for NULL, "$any"
 *                for anything), compared exactly and in order
 *   parallel     P: send the request P times at once (${p} in the body = 0..P-1
 *                per request); then instead of expect:
 *   expect_codes {"0": 1, "1199014": 15} exact envelope-code counts, and
 *   expect_statuses [200] allowed HTTP statuses (default [200]);
 *   expect_failure_message "text" every response with a non-zero code
 *   must contain
 *   repeat       N: run the step N times in a row, ${i}/${i1} = iteration
 *   timeout_ms   request timeout (default 30000); comment: ignored
 *
 * Subset matching (data_subset, body): expected object keys must exist and
 * match, arrays must have the same length and match element-wise, scalars must
 * be equal (an integer never equals a real). Special strings: "$any", "$int",
 * "$ts" (YYYY-MM-DDTHH:MM:SS.mmm then Z or +HH:MM/-HH:MM), "$absent".
 *
 * Expansion (whole step, before sending): a string that is exactly "${v}"
 * becomes the saved JSON value; "${v}" inside other text becomes its text. An
 * array element {"$repeat": N, "item": X} becomes N copies of X in which ${i}
 * and ${i1} are the 0- and 1-based index and ${j}/${j1} the enclosing index.
 *
 * Output: FAIL lines with the request and response of failed steps, then
 * "assertions: N" (the checks made, see n_assertions) and "N passed, N
 * failed" as the last line. Exit status 1 when anything failed.
 */
#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>

#define DUMP_MAX 2000            /* bytes of request/response printed on failure */
#define DEFAULT_TIMEOUT_MS 30000
#define PARALLEL_MAX 1000

/* ---- memory and strings --------------------------------------------------- */

/* A test tool has nothing sensible to do when memory runs out. */
static void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL) {
		fputs("test_runner: out of memory\n", stderr);
		abort();
	}
	return q;
}

static char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xrealloc(NULL, n), s, n);
}

/* Growable byte buffer; p is NUL-terminated whenever it is not NULL. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void
sb_addn(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_adds(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = (b->len + (size_t)n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static const char *
sb_str(const struct sbuf *b)
{
	return b->p ? b->p : "";
}

static void
sb_free(struct sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Appends s, escaping control and non-ASCII bytes, up to DUMP_MAX bytes. */
static void
sb_add_dump(struct sbuf *b, const char *s, size_t n)
{
	size_t i, lim = n < DUMP_MAX ? n : DUMP_MAX;

	for (i = 0; i < lim; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || (c >= 0x20 && c < 0x7f))
			sb_addn(b, s + i, 1);
		else
			sb_printf(b, "\\x%02x", c);
	}
	if (lim < n)
		sb_printf(b, "... (%zu bytes in all)", n);
}

/* Compact JSON text of v for messages, capped at 300 bytes. */
static void
sb_add_json(struct sbuf *b, const json_t *v)
{
	char *s;

	if (v == NULL) {
		sb_adds(b, "(missing)");
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s == NULL) {
		sb_adds(b, "(unprintable)");
		return;
	}
	if (strlen(s) > 300)
		sb_printf(b, "%.300s...", s);
	else
		sb_adds(b, s);
	free(s);
}

/* Failure messages of one step: the first is the FAIL line, others follow. */
static void diff_add(struct sbuf *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
diff_add(struct sbuf *d, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];
	size_t n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* libpq and curl messages end in a newline. */
	n = strlen(msg);
	while (n > 0 && isspace((unsigned char)msg[n - 1]))
		msg[--n] = '\0';
	if (d->len > 0)
		sb_adds(d, "\n  also: ");
	sb_adds(d, msg);
}

/*
 * Assertions checked so far: one per expect key (one per message_contains
 * string and per expected header), per envelope check, per saved variable,
 * per sql_expect, and per parallel response and expected code. Printed at
 * the end so a change to the corpus can show that it checks no less.
 */
static unsigned long n_assertions;

/* ---- configuration -------------------------------------------------------- */

static struct {
	const char *base_url, *db_url, *app, *secret, *user, *filter;
	bool verbose;
} cfg;

static const char *
env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && *v ? v : dflt;
}

/* ---- variable expansion --------------------------------------------------- */

/* Stands for ${p} in a body until a parallel worker writes its index there. */
#define PARALLEL_MARK "@@parallel-index@@"

/* Loop indexes of the enclosing $repeat / step repeat; -1 when unbound. */
struct scope {
	json_int_t i, j;
};

/* Value of ${name}: a loop index or a saved variable. New reference or NULL. */
static json_t *
lookup_var(const char *name, size_t n, const json_t *vars, struct scope sc)
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
	/* ${p}: the parallel request's index, filled in by its worker. */
	if (strcmp(key, "p") == 0)
		return json_string(PARALLEL_MARK);
	return json_deep_copy(json_object_get(vars, key));
}

/* Text of a value inside a longer string: strings raw, the rest as JSON. */
static void
sb_add_text(struct sbuf *b, const json_t *v)
{
	char *s;

	if (json_is_string(v)) {
		sb_addn(b, json_string_value(v), json_string_length(v));
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s != NULL)
		sb_adds(b, s);
	free(s);
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
		r = lookup_var(s + 2, (size_t)(end - s - 3), vars, sc);
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
		r = lookup_var(open + 2, (size_t)(close - open - 2), vars, sc);
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

static json_t *expand(const json_t *v, const json_t *vars, struct scope sc,
    struct sbuf *err);

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

/* Returns a new, expanded copy of v, or NULL with a message in err. */
static json_t *
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

/* ---- HTTP ----------------------------------------------------------------- */

struct request {
	char *method, *url;           /* owned */
	struct curl_slist *headers;   /* owned */
	char *body;                   /* owned; NULL = no body */
	size_t body_len;
	char *request_id;             /* X-Request-Id we sent, if valid; owned */
	long timeout_ms;
};

struct header {
	char *name, *value;           /* owned */
};

struct response {
	bool ok;                      /* an HTTP response arrived */
	long status;
	struct sbuf body;
	struct header *hdrs;          /* of the final response only */
	size_t nhdrs;
	json_t *json;                 /* parsed body or NULL; owned */
	char curl_err[CURL_ERROR_SIZE];
};

static void
request_free(struct request *rq)
{
	free(rq->method);
	free(rq->url);
	curl_slist_free_all(rq->headers);
	free(rq->body);
	free(rq->request_id);
	memset(rq, 0, sizeof *rq);
}

static void
response_clear_headers(struct response *rs)
{
	size_t i;

	for (i = 0; i < rs->nhdrs; i++) {
		free(rs->hdrs[i].name);
		free(rs->hdrs[i].value);
	}
	free(rs->hdrs);
	rs->hdrs = NULL;
	rs->nhdrs = 0;
}

static void
response_free(struct response *rs)
{
	response_clear_headers(rs);
	sb_free(&rs->body);
	json_decref(rs->json);
	memset(rs, 0, sizeof *rs);
}

static const char *
response_header(const struct response *rs, const char *name)
{
	size_t i;

	for (i = 0; i < rs->nhdrs; i++)
		if (strcasecmp(rs->hdrs[i].name, name) == 0)
			return rs->hdrs[i].value;
	return NULL;
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	sb_addn(&((struct response *)arg)->body, data, size * n);
	return size * n;
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct response *rs = arg;
	size_t len = size * n, nl;
	char *colon = memchr(data, ':', len), *v;

	/* A new status line (after "100 Continue") starts a new header set. */
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		response_clear_headers(rs);
		return len;
	}
	if (colon == NULL)
		return len;
	nl = (size_t)(colon - data);
	v = colon + 1;
	while (v < data + len && (*v == ' ' || *v == '\t'))
		v++;
	while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n' ||
	    data[len - 1] == ' '))
		len--;
	rs->hdrs = xrealloc(rs->hdrs, (rs->nhdrs + 1) * sizeof *rs->hdrs);
	rs->hdrs[rs->nhdrs].name = strndup(data, nl);
	rs->hdrs[rs->nhdrs].value = strndup(v, v < data + len ? (size_t)(data + len - v) : 0);
	rs->nhdrs++;
	return size * n;
}

/* Sends rq on h (reset first). Fills rs; rs->ok tells whether a response came. */
static void
http_perform(CURL *h, const struct request *rq, struct response *rs)
{
	CURLcode rc;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_PROXY, "");      /* never an http_proxy from env */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);   /* required with threads */
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, rq->headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, rs);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, rs);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, rs->curl_err);
	if (strcmp(rq->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(rq->method, "GET") == 0 && rq->body == NULL) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(rq->body ? rq->body_len : 0));
		if (strcmp(rq->method, "POST") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	rc = curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);  /* rs may not outlive h */
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rs->status);
	/*
	 * A server may answer (413) and close before reading a large body; curl
	 * then reports a send error although the response is complete.
	 */
	rs->ok = rc == CURLE_OK || (rs->status > 0 && rc == CURLE_SEND_ERROR);
	if (rs->curl_err[0] == '\0' && rc != CURLE_OK)
		snprintf(rs->curl_err, sizeof rs->curl_err, "%s", curl_easy_strerror(rc));
	if (rs->ok && rs->body.len > 0)
		rs->json = json_loadb(rs->body.p, rs->body.len,
		    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
}

/* Contract §2: an incoming X-Request-Id is used when 1-64 of [A-Za-z0-9._-]. */
static bool
request_id_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._-", s[i]) == NULL)
			return false;
	return true;
}

static bool
has_header(const json_t *headers, const char *name)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)headers, k, v)
		if (strcasecmp(k, name) == 0)
			return true;
	return false;
}

/* Adds the step's headers; "" → empty header, null → remove curl's default. */
static int
add_step_headers(struct request *rq, const json_t *headers, struct sbuf *err)
{
	struct sbuf line = {0};
	const char *k;
	json_t *v;

	if (headers != NULL && !json_is_object(headers)) {
		diff_add(err, "headers must be an object");
		return -1;
	}
	json_object_foreach((json_t *)headers, k, v) {
		line.len = 0;
		if (json_is_null(v))
			sb_printf(&line, "%s:", k);
		else if (json_is_string(v) && json_string_length(v) == 0)
			sb_printf(&line, "%s;", k);
		else {
			sb_printf(&line, "%s: ", k);
			sb_add_text(&line, v);
		}
		if (strcasecmp(k, "X-Request-Id") == 0 && json_is_string(v) &&
		    request_id_valid(json_string_value(v)))
			rq->request_id = xstrdup(json_string_value(v));
		rq->headers = curl_slist_append(rq->headers, line.p);
	}
	sb_free(&line);
	return 0;
}

static void
add_auth(json_t *body)
{
	static const char *const keys[] = {"bk_app_code", "bk_app_secret", "bk_username"};
	const char *vals[] = {cfg.app, cfg.secret, cfg.user};
	size_t i;

	for (i = 0; i < 3; i++)
		if (vals[i] != NULL && json_object_get(body, keys[i]) == NULL)
			json_object_set_new(body, keys[i], json_string(vals[i]));
}

static int
hex_decode(const char *hex, struct request *rq, struct sbuf *err)
{
	size_t n = strlen(hex), i, out = 0;
	unsigned int byte;

	rq->body = xrealloc(NULL, n / 2 + 1);
	for (i = 0; i < n;) {
		if (isspace((unsigned char)hex[i])) {
			i++;
			continue;
		}
		if (i + 1 >= n || !isxdigit((unsigned char)hex[i]) ||
		    !isxdigit((unsigned char)hex[i + 1]) ||
		    sscanf(hex + i, "%2x", &byte) != 1) {
			diff_add(err, "raw_body_hex: bad hex at offset %zu", i);
			return -1;
		}
		rq->body[out++] = (char)byte;
		i += 2;
	}
	rq->body_len = out;
	return 0;
}

/* {auth..., "x": "aaa..."} of exactly n bytes, for size-limit tests. */
static int
sized_body(json_int_t n, bool auth, struct request *rq, struct sbuf *err)
{
	json_t *o = json_object();
	char *s;
	size_t base;

	if (auth)
		add_auth(o);
	json_object_set_new(o, "x", json_string(""));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	base = strlen(s);
	if (n < (json_int_t)base) {
		diff_add(err, "body_size %" JSON_INTEGER_FORMAT " is below the minimum %zu",
		    n, base);
		free(s);
		return -1;
	}
	/* s ends with ""} : put the padding between the two quotes. */
	rq->body_len = (size_t)n;
	rq->body = xrealloc(NULL, (size_t)n + 1);
	memcpy(rq->body, s, base - 2);
	memset(rq->body + base - 2, 'a', (size_t)n - base);
	memcpy(rq->body + (size_t)n - 2, "\"}", 3);
	free(s);
	return 0;
}

static int
build_body(const json_t *x, struct request *rq, struct sbuf *err)
{
	const json_t *body = json_object_get(x, "body");
	const json_t *raw = json_object_get(x, "raw_body");
	const json_t *hex = json_object_get(x, "raw_body_hex");
	const json_t *size = json_object_get(x, "body_size");
	bool auth = !json_is_false(json_object_get(x, "auth"));
	json_t *copy;

	if ((body != NULL) + (raw != NULL) + (hex != NULL) + (size != NULL) > 1) {
		diff_add(err, "give only one of body, raw_body, raw_body_hex, body_size");
		return -1;
	}
	if (raw != NULL) {
		if (!json_is_string(raw)) {
			diff_add(err, "raw_body must be a string");
			return -1;
		}
		rq->body_len = json_string_length(raw);
		rq->body = xrealloc(NULL, rq->body_len + 1);
		memcpy(rq->body, json_string_value(raw), rq->body_len + 1);
		return 0;
	}
	if (hex != NULL) {
		if (json_is_string(hex))
			return hex_decode(json_string_value(hex), rq, err);
		diff_add(err, "raw_body_hex must be a string");
		return -1;
	}
	if (size != NULL) {
		if (json_is_integer(size))
			return sized_body(json_integer_value(size), auth, rq, err);
		diff_add(err, "body_size must be an integer");
		return -1;
	}
	if (body == NULL)
		return 0;
	copy = json_deep_copy(body);
	if (auth && json_is_object(copy))
		add_auth(copy);
	rq->body = json_dumps(copy, JSON_COMPACT | JSON_ENCODE_ANY);
	rq->body_len = strlen(rq->body);
	json_decref(copy);
	return 0;
}

/* Builds the request of an expanded step x. 0, or -1 with err set. */
static int
build_request(const json_t *x, struct request *rq, struct sbuf *err)
{
	const json_t *method = json_object_get(x, "method");
	const json_t *path = json_object_get(x, "path");
	const json_t *headers = json_object_get(x, "headers");
	const json_t *timeout = json_object_get(x, "timeout_ms");
	struct sbuf url = {0};

	if (!json_is_string(path) || (method != NULL && !json_is_string(method))) {
		diff_add(err, "path and method must be strings");
		return -1;
	}
	sb_adds(&url, cfg.base_url);
	sb_adds(&url, json_string_value(path));
	rq->url = url.p;
	rq->method = xstrdup(method ? json_string_value(method) : "POST");
	rq->timeout_ms = json_is_integer(timeout) ? (long)json_integer_value(timeout)
	    : DEFAULT_TIMEOUT_MS;
	if (build_body(x, rq, err) != 0 || add_step_headers(rq, headers, err) != 0)
		return -1;
	if (rq->body != NULL && !has_header(headers, "Content-Type"))
		rq->headers = curl_slist_append(rq->headers, "Content-Type: application/json");
	/*
	 * curl waits up to a second for "100 Continue" on bodies over 1 KiB; only
	 * worth it for big bodies, where a 413 may come before the body is read.
	 */
	if (!has_header(headers, "Expect"))
		rq->headers = curl_slist_append(rq->headers,
		    rq->body_len > (1 << 20) ? "Expect: 100-continue" : "Expect:");
	return 0;
}

/* ---- matching ------------------------------------------------------------- */

static bool
digits(const char *s, int n)
{
	int k;

	for (k = 0; k < n; k++)
		if (!isdigit((unsigned char)s[k]))
			return false;
	return true;
}

/* Contract §10: YYYY-MM-DDTHH:MM:SS.mmm followed by Z or ±HH:MM. */
static bool
is_rfc3339_ms(const char *s)
{
	if (strlen(s) < 24 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
	    s[7] != '-' || !digits(s + 8, 2) || s[10] != 'T' || !digits(s + 11, 2) ||
	    s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2) ||
	    s[19] != '.' || !digits(s + 20, 3))
		return false;
	s += 23;
	if (strcmp(s, "Z") == 0)
		return true;
	return strlen(s) == 6 && (s[0] == '+' || s[0] == '-') && digits(s + 1, 2) &&
	    s[3] == ':' && digits(s + 4, 2);
}

static bool
is_special(const json_t *e, const char *name)
{
	return json_is_string(e) && strcmp(json_string_value(e), name) == 0;
}

/* Recursive subset match; path is the location printed in messages. */
static bool
subset_match(const json_t *exp, const json_t *act, const char *path, struct sbuf *d)
{
	char sub[512];
	const char *key;
	json_t *e;
	size_t i;
	bool ok = true;

	if (is_special(exp, "$any"))
		return true;
	if (is_special(exp, "$int") && json_is_integer(act))
		return true;
	if (is_special(exp, "$ts") && json_is_string(act) &&
	    is_rfc3339_ms(json_string_value(act)))
		return true;
	if (json_is_object(exp) && json_is_object(act)) {
		json_object_foreach((json_t *)exp, key, e) {
			const json_t *a = json_object_get(act, key);

			snprintf(sub, sizeof sub, "%s.%s", path, key);
			if (is_special(e, "$absent")) {
				if (a != NULL) {
					diff_add(d, "%s: should be absent", sub);
					ok = false;
				}
			} else if (a == NULL) {
				diff_add(d, "%s: missing", sub);
				ok = false;
			} else if (!subset_match(e, a, sub, d))
				ok = false;
		}
		return ok;
	}
	if (json_is_array(exp) && json_is_array(act) &&
	    json_array_size(exp) == json_array_size(act)) {
		json_array_foreach(exp, i, e) {
			snprintf(sub, sizeof sub, "%s[%zu]", path, i);
			if (!subset_match(e, json_array_get(act, i), sub, d))
				ok = false;
		}
		return ok;
	}
	if (json_equal(exp, act) && !json_is_object(exp) && !json_is_array(exp))
		return true;
	{
		struct sbuf m = {0};

		sb_printf(&m, "%s: expected ", path);
		sb_add_json(&m, exp);
		sb_adds(&m, ", got ");
		sb_add_json(&m, act);
		diff_add(d, "%s", m.p);
		sb_free(&m);
	}
	return false;
}

/* Follows "data[2].property.bk_process_id" from root; borrowed or NULL. */
static const json_t *
select_path(const json_t *root, const char *sel)
{
	const json_t *cur = root;
	const char *p = sel;
	char key[256];

	while (cur != NULL && *p != '\0') {
		if (*p == '[') {
			char *end;
			unsigned long idx = strtoul(p + 1, &end, 10);

			if (end == p + 1 || *end != ']')
				return NULL;
			cur = json_array_get(cur, idx);
			p = end + 1;
		} else {
			size_t n = strcspn(p, ".[");

			if (n == 0 || n >= sizeof key)
				return NULL;
			memcpy(key, p, n);
			key[n] = '\0';
			cur = json_object_get(cur, key);
			p += n;
		}
		if (*p == '.')
			p++;
	}
	return cur;
}

static void
expect_equal(struct sbuf *d, const char *what, const json_t *exp, const json_t *act)
{
	struct sbuf m = {0};

	if (act != NULL && json_equal(exp, act))
		return;
	sb_printf(&m, "%s: expected ", what);
	sb_add_json(&m, exp);
	sb_adds(&m, ", got ");
	sb_add_json(&m, act);
	diff_add(d, "%s", m.p);
	sb_free(&m);
}

/* Contract §2 envelope, request_id rules and Content-Type (§10). */
static void
check_envelope(const struct request *rq, const struct response *rs, struct sbuf *d)
{
	static const char *const keys[] = {"result", "code", "message", "permission",
	    "request_id", "data"};
	const json_t *j = rs->json, *rid;
	const char *ct = response_header(rs, "Content-Type"), *hid, *k;
	json_t *v;
	size_t i;

	n_assertions++;
	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
		diff_add(d, "envelope: Content-Type is %s, not application/json",
		    ct ? ct : "(missing)");
	if (!json_is_object(j)) {
		diff_add(d, "envelope: response body is not a JSON object");
		return;
	}
	if (!json_is_boolean(json_object_get(j, "result")) ||
	    !json_is_integer(json_object_get(j, "code")) ||
	    !json_is_string(json_object_get(j, "message")) ||
	    !json_is_null(json_object_get(j, "permission")) ||
	    json_object_get(j, "data") == NULL)
		diff_add(d, "envelope: want result bool, code int, message string, "
		    "permission null, data");
	json_object_foreach((json_t *)j, k, v) {
		for (i = 0; i < 6 && strcmp(k, keys[i]) != 0; i++)
			;
		if (i == 6)
			diff_add(d, "envelope: unexpected key %s", k);
	}
	rid = json_object_get(j, "request_id");
	if (!json_is_string(rid)) {
		diff_add(d, "envelope: request_id is not a string");
		return;
	}
	if (rq->request_id != NULL) {
		if (strcmp(json_string_value(rid), rq->request_id) != 0)
			diff_add(d, "envelope: request_id %s, expected the sent %s",
			    json_string_value(rid), rq->request_id);
	} else if (strlen(json_string_value(rid)) != 32 ||
	    strspn(json_string_value(rid), "0123456789abcdef") != 32)
		diff_add(d, "envelope: request_id %s is not 32 lowercase hex chars",
		    json_string_value(rid));
	hid = response_header(rs, "X-Request-Id");
	if (hid == NULL || strcmp(hid, json_string_value(rid)) != 0)
		diff_add(d, "envelope: X-Request-Id header %s differs from request_id",
		    hid ? hid : "(missing)");
}

static void
check_message(const json_t *exp, const json_t *msg, struct sbuf *d)
{
	const json_t *e;
	size_t i;

	if (json_is_string(exp)) {
		n_assertions++;
		if (!json_is_string(msg) ||
		    strstr(json_string_value(msg), json_string_value(exp)) == NULL)
			diff_add(d, "message: %.300s does not contain %.300s",
			    json_is_string(msg) ? json_string_value(msg) : "(none)",
			    json_string_value(exp));
		return;
	}
	json_array_foreach(exp, i, e)
		check_message(e, msg, d);
}

static void
check_headers(const json_t *exp, const struct response *rs, struct sbuf *d)
{
	const char *k, *got;
	json_t *v;

	json_object_foreach((json_t *)exp, k, v) {
		n_assertions++;
		got = response_header(rs, k);
		if (got == NULL)
			diff_add(d, "headers.%s: missing", k);
		else if (!is_special(v, "$any") &&
		    (!json_is_string(v) || strcmp(got, json_string_value(v)) != 0))
			diff_add(d, "headers.%s: expected %s, got %s", k,
			    json_is_string(v) ? json_string_value(v) : "?", got);
	}
}

static const char *const expect_keys[] = {"status", "code", "result", "message",
    "message_contains", "data", "data_subset", "data_len", "body", "body_contains",
    "headers", "envelope", NULL};

static bool
key_known(const char *k, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(k, *list) == 0)
			return true;
	return false;
}

/* Checks every key of expect against one response. */
static void
check_expect(const json_t *exp, const struct response *rs, struct sbuf *d)
{
	const json_t *j = rs->json, *data = json_object_get(j, "data"), *v;
	const char *k;
	json_t *e;

	json_object_foreach((json_t *)exp, k, e) {
		if (!key_known(k, expect_keys))
			diff_add(d, "unknown expect key %s", k);
		/* message_contains and headers count per element, in their checks. */
		if (strcmp(k, "envelope") != 0 && strcmp(k, "message_contains") != 0 &&
		    strcmp(k, "headers") != 0)
			n_assertions++;
	}
	if ((v = json_object_get(exp, "status")) != NULL && json_integer_value(v) != rs->status)
		diff_add(d, "status: expected %" JSON_INTEGER_FORMAT ", got %ld",
		    json_integer_value(v), rs->status);
	if ((v = json_object_get(exp, "code")) != NULL)
		expect_equal(d, "code", v, json_object_get(j, "code"));
	if ((v = json_object_get(exp, "result")) != NULL)
		expect_equal(d, "result", v, json_object_get(j, "result"));
	if ((v = json_object_get(exp, "message")) != NULL)
		expect_equal(d, "message", v, json_object_get(j, "message"));
	if ((v = json_object_get(exp, "message_contains")) != NULL)
		check_message(v, json_object_get(j, "message"), d);
	if ((v = json_object_get(exp, "data")) != NULL)
		expect_equal(d, "data", v, data);
	if ((v = json_object_get(exp, "data_subset")) != NULL)
		subset_match(v, data, "data", d);
	if ((v = json_object_get(exp, "data_len")) != NULL &&
	    (!json_is_array(data) ||
	    (json_int_t)json_array_size(data) != json_integer_value(v)))
		diff_add(d, "data_len: expected %" JSON_INTEGER_FORMAT ", got %s %zu",
		    json_integer_value(v), json_is_array(data) ? "length" : "non-array",
		    json_array_size(data));
	if ((v = json_object_get(exp, "body")) != NULL) {
		if (j == NULL)
			diff_add(d, "body: response is not JSON");
		else
			subset_match(v, j, "body", d);
	}
	if ((v = json_object_get(exp, "body_contains")) != NULL &&
	    (!json_is_string(v) || rs->body.p == NULL ||
	    memmem(rs->body.p, rs->body.len, json_string_value(v),
	    json_string_length(v)) == NULL))
		diff_add(d, "body_contains: %.300s not in the response",
		    json_is_string(v) ? json_string_value(v) : "?");
	if ((v = json_object_get(exp, "headers")) != NULL)
		check_headers(v, rs, d);
}

/* ---- printing ------------------------------------------------------------- */

static void
print_request(const struct request *rq)
{
	struct sbuf b = {0};
	const struct curl_slist *h;

	sb_printf(&b, "  request: %s %s\n", rq->method, rq->url);
	for (h = rq->headers; h != NULL; h = h->next)
		if (strcmp(h->data, "Expect:") != 0)  /* our own, only noise */
			sb_printf(&b, "    %s\n", h->data);
	if (rq->body != NULL) {
		sb_adds(&b, "    ");
		sb_add_dump(&b, rq->body, rq->body_len);
		sb_adds(&b, "\n");
	}
	fputs(b.p, stdout);
	sb_free(&b);
}

static void
print_response(const struct response *rs)
{
	struct sbuf b = {0};
	size_t i;

	if (!rs->ok) {
		printf("  response: none (%s)\n", rs->curl_err);
		return;
	}
	sb_printf(&b, "  response: HTTP %ld\n", rs->status);
	for (i = 0; i < rs->nhdrs; i++)
		sb_printf(&b, "    %s: %s\n", rs->hdrs[i].name, rs->hdrs[i].value);
	sb_adds(&b, "    ");
	sb_add_dump(&b, sb_str(&rs->body), rs->body.len);
	sb_adds(&b, "\n");
	fputs(b.p, stdout);
	sb_free(&b);
}

/* ---- database ------------------------------------------------------------- */

struct file_ctx {
	const char *path;
	json_t *vars;       /* saved variables; owned */
	PGconn *db;         /* opened on first use; owned */
	CURL *curl;         /* one handle for sequential steps, so keep-alive is used */
};

static PGconn *
db_get(struct file_ctx *fc, struct sbuf *d)
{
	if (fc->db != NULL && PQstatus(fc->db) == CONNECTION_OK)
		return fc->db;
	PQfinish(fc->db);
	fc->db = NULL;
	if (cfg.db_url == NULL) {
		diff_add(d, "TEST_DATABASE_URL is not set");
		return NULL;
	}
	fc->db = PQconnectdb(cfg.db_url);
	if (PQstatus(fc->db) != CONNECTION_OK) {
		diff_add(d, "database: %s", PQerrorMessage(fc->db));
		PQfinish(fc->db);
		fc->db = NULL;
	}
	return fc->db;
}

static const char db_tables_sql[] =
    "SELECT tablename FROM pg_catalog.pg_tables "
    "WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY 1";

/* Empties every table but schema_migrations, in one TRUNCATE. */
static int
db_reset(struct file_ctx *fc, struct sbuf *d)
{
	PGconn *db = db_get(fc, d);
	PGresult *res = NULL, *tr = NULL;
	struct sbuf sql = {0};
	int i, rc = -1;

	if (db == NULL)
		goto out;
	res = PQexec(db, db_tables_sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		diff_add(d, "listing tables: %s", PQerrorMessage(db));
		goto out;
	}
	for (i = 0; i < PQntuples(res); i++) {
		char *id = PQescapeIdentifier(db, PQgetvalue(res, i, 0),
		    (size_t)PQgetlength(res, i, 0));

		sb_adds(&sql, i == 0 ? "TRUNCATE " : ", ");
		sb_adds(&sql, id ? id : "\"?\"");
		PQfreemem(id);
	}
	if (sql.len > 0) {
		sb_adds(&sql, " RESTART IDENTITY CASCADE");
		tr = PQexec(db, sql.p);
		if (PQresultStatus(tr) != PGRES_COMMAND_OK) {
			diff_add(d, "truncate: %s", PQerrorMessage(db));
			goto out;
		}
	}
	rc = 0;
out:
	PQclear(res);
	PQclear(tr);
	sb_free(&sql);
	return rc;
}

/* Text of a parameter/expected cell; NULL for JSON null. Caller frees. */
static char *
cell_text(const json_t *v)
{
	struct sbuf b = {0};

	if (json_is_null(v))
		return NULL;
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "t" : "f");
	sb_add_text(&b, v);
	return b.p ? b.p : xstrdup("");
}

static json_t *
rows_json(const PGresult *res)
{
	json_t *rows = json_array(), *row;
	int r, c;

	for (r = 0; r < PQntuples(res); r++) {
		row = json_array();
		for (c = 0; c < PQnfields(res); c++)
			json_array_append_new(row, PQgetisnull(res, r, c) ? json_null() :
			    json_string(PQgetvalue(res, r, c)));
		json_array_append_new(rows, row);
	}
	return rows;
}

/* Compares rows (strings, numbers/bools as their text, "$any") with the result. */
static bool
rows_match(const json_t *exp, const PGresult *res)
{
	const json_t *row;
	size_t r, c;

	if (!json_is_array(exp) || json_array_size(exp) != (size_t)PQntuples(res))
		return false;
	json_array_foreach(exp, r, row) {
		if (!json_is_array(row) || json_array_size(row) != (size_t)PQnfields(res))
			return false;
		for (c = 0; c < json_array_size(row); c++) {
			char *want;

			if (is_special(json_array_get(row, c), "$any"))
				continue;
			want = cell_text(json_array_get(row, c));
			bool null = PQgetisnull(res, (int)r, (int)c);
			bool same = want == NULL ? null :
			    !null && strcmp(want, PQgetvalue(res, (int)r, (int)c)) == 0;

			free(want);
			if (!same)
				return false;
		}
	}
	return true;
}

static void
run_sql(struct file_ctx *fc, const json_t *x, struct sbuf *d)
{
	const json_t *sql = json_object_get(x, "sql");
	const json_t *params = json_object_get(x, "sql_params");
	const json_t *exp = json_object_get(x, "sql_expect");
	PGconn *db = db_get(fc, d);
	PGresult *res = NULL;
	char **vals = NULL;
	size_t n = json_array_size(params), k;
	ExecStatusType st;
	json_t *got = NULL;
	struct sbuf m = {0};

	if (db == NULL)
		return;
	if (!json_is_string(sql) || (params != NULL && !json_is_array(params))) {
		diff_add(d, "sql must be a string and sql_params an array");
		return;
	}
	vals = xrealloc(NULL, (n ? n : 1) * sizeof *vals);
	for (k = 0; k < n; k++)
		vals[k] = cell_text(json_array_get(params, k));
	res = PQexecParams(db, json_string_value(sql), (int)n, NULL,
	    (const char *const *)vals, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		diff_add(d, "sql failed: %s", PQerrorMessage(db));
		goto out;
	}
	if (exp != NULL)
		n_assertions++;
	if (exp != NULL && !rows_match(exp, res)) {
		got = rows_json(res);
		sb_adds(&m, "sql_expect: expected ");
		sb_add_json(&m, exp);
		sb_adds(&m, ", got ");
		sb_add_json(&m, got);
		diff_add(d, "%s", m.p);
	}
out:
	for (k = 0; k < n; k++)
		free(vals[k]);
	free(vals);
	PQclear(res);
	json_decref(got);
	sb_free(&m);
}

/* ---- parallel requests ---------------------------------------------------- */

struct worker {
	pthread_t tid;
	pthread_barrier_t *start;    /* shared: all workers send together */
	const struct request *rq;    /* shared, read-only */
	long index;                  /* ${p} in the body */
	struct response rs;          /* owned by the worker until joined */
};

/* rq's body with every PARALLEL_MARK replaced by index; NULL: no mark. */
static char *
body_for_worker(const struct request *rq, long index, size_t *len)
{
	struct sbuf b = {0};
	const char *p = rq->body, *end, *m;
	char num[24];

	if (p == NULL || memmem(p, rq->body_len, PARALLEL_MARK, sizeof PARALLEL_MARK - 1) == NULL)
		return NULL;
	end = p + rq->body_len;
	snprintf(num, sizeof num, "%ld", index);
	while ((m = memmem(p, (size_t)(end - p), PARALLEL_MARK, sizeof PARALLEL_MARK - 1)) != NULL) {
		sb_addn(&b, p, (size_t)(m - p));
		sb_adds(&b, num);
		p = m + sizeof PARALLEL_MARK - 1;
	}
	sb_addn(&b, p, (size_t)(end - p));
	*len = b.len;
	return b.p;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	CURL *h = curl_easy_init();
	struct request own = *w->rq;
	char *body = body_for_worker(w->rq, w->index, &own.body_len);

	if (body != NULL)
		own.body = body;
	pthread_barrier_wait(w->start);
	if (h != NULL)
		http_perform(h, &own, &w->rs);
	else
		snprintf(w->rs.curl_err, sizeof w->rs.curl_err, "curl_easy_init failed");
	curl_easy_cleanup(h);
	free(body);
	return NULL;
}

static bool
status_allowed(const json_t *statuses, long status)
{
	const json_t *s;
	size_t i;

	if (statuses == NULL)
		return status == 200;
	json_array_foreach(statuses, i, s)
		if (json_integer_value(s) == status)
			return true;
	return false;
}

/* Checks the histogram of codes; counts[code] = n, -1 = no envelope code. */
static void
check_codes(const json_t *exp, const json_t *counts, struct sbuf *d)
{
	const char *k;
	json_t *v;

	n_assertions++;     /* no code beyond the expected ones */
	json_object_foreach((json_t *)exp, k, v) {
		json_int_t got = json_integer_value(json_object_get(counts, k));

		n_assertions++;
		if (!json_is_integer(v) || got != json_integer_value(v))
			diff_add(d, "expect_codes: code %s: expected %" JSON_INTEGER_FORMAT
			    ", got %" JSON_INTEGER_FORMAT, k, json_integer_value(v), got);
	}
	json_object_foreach((json_t *)counts, k, v)
		if (json_object_get(exp, k) == NULL)
			diff_add(d, "expect_codes: code %s came %" JSON_INTEGER_FORMAT
			    " times, not expected", k, json_integer_value(v));
}

/*
 * Sends rq P times at once from P threads and checks the responses. *shown
 * receives one response for the failure report (the first bad one).
 */
static void
run_parallel(const json_t *x, const struct request *rq, bool envelope, long p,
    struct sbuf *d, struct response *shown)
{
	struct worker *w = xrealloc(NULL, (size_t)p * sizeof *w);
	pthread_barrier_t start;
	json_t *counts = json_object();
	const json_t *statuses = json_object_get(x, "expect_statuses");
	const json_t *loser_msg = json_object_get(x, "expect_failure_message");
	long k, bad = -1;
	char code[32];

	memset(w, 0, (size_t)p * sizeof *w);
	pthread_barrier_init(&start, NULL, (unsigned)p);
	for (k = 0; k < p; k++) {
		w[k].start = &start;
		w[k].rq = rq;
		w[k].index = k;
	}
	/* Threads are started before any sends; a failed create would hang them. */
	for (k = 0; k < p; k++)
		if (pthread_create(&w[k].tid, NULL, worker_main, &w[k]) != 0) {
			fputs("test_runner: pthread_create failed\n", stderr);
			abort();
		}
	for (k = 0; k < p; k++)
		pthread_join(w[k].tid, NULL);
	for (k = 0; k < p; k++) {
		struct sbuf one = {0};
		const json_t *c = json_object_get(w[k].rs.json, "code");

		n_assertions++;     /* a response with an allowed status */
		if (!w[k].rs.ok)
			diff_add(&one, "request %ld: no response (%s)", k, w[k].rs.curl_err);
		else if (!status_allowed(statuses, w[k].rs.status))
			diff_add(&one, "request %ld: HTTP status %ld not allowed", k,
			    w[k].rs.status);
		else if (envelope)
			check_envelope(rq, &w[k].rs, &one);
		/* expect_failure_message: what every failed response must say. */
		if (loser_msg != NULL && json_is_integer(c) && json_integer_value(c) != 0) {
			n_assertions++;
			const char *m = json_string_value(json_object_get(w[k].rs.json, "message"));
			if (m == NULL || strstr(m, json_string_value(loser_msg)) == NULL)
				diff_add(&one, "request %ld: message %s does not contain %s", k,
				    m ? m : "(none)", json_string_value(loser_msg));
		}
		if (json_is_integer(c))
			snprintf(code, sizeof code, "%" JSON_INTEGER_FORMAT, json_integer_value(c));
		else
			snprintf(code, sizeof code, "none");
		json_object_set_new(counts, code, json_integer(
		    json_integer_value(json_object_get(counts, code)) + 1));
		if (one.len > 0 && bad < 0) {
			diff_add(d, "%s", one.p);
			bad = k;
		}
		sb_free(&one);
	}
	if (json_object_get(x, "expect_codes") != NULL)
		check_codes(json_object_get(x, "expect_codes"), counts, d);
	/* Keep one response for the report: the first bad one, else the first. */
	bad = bad < 0 ? 0 : bad;
	*shown = w[bad].rs;
	memset(&w[bad].rs, 0, sizeof w[bad].rs);
	for (k = 0; k < p; k++)
		response_free(&w[k].rs);
	pthread_barrier_destroy(&start);
	json_decref(counts);
	free(w);
}

/* ---- steps ---------------------------------------------------------------- */

static const char *const step_keys[] = {"name", "comment", "method", "path",
    "headers", "body", "raw_body", "raw_body_hex", "body_size", "auth", "expect",
    "envelope", "save", "sql", "sql_params", "sql_expect", "parallel",
    "expect_failure_message",
    "expect_codes", "expect_statuses", "repeat", "timeout_ms", NULL};

static void
save_vars(struct file_ctx *fc, const json_t *save, const struct response *rs,
    struct sbuf *d)
{
	const char *name;
	json_t *sel;

	json_object_foreach((json_t *)save, name, sel) {
		const json_t *v = json_is_string(sel) ?
		    select_path(rs->json, json_string_value(sel)) : NULL;

		n_assertions++;
		if (v == NULL)
			diff_add(d, "save %s: selector %s matches nothing", name,
			    json_is_string(sel) ? json_string_value(sel) : "?");
		else
			json_object_set_new(fc->vars, name, json_deep_copy(v));
	}
}

/* Whether the envelope check applies: expect.envelope, step.envelope, path. */
static bool
wants_envelope(const json_t *x)
{
	const json_t *e = json_object_get(json_object_get(x, "expect"), "envelope");
	const json_t *path = json_object_get(x, "path");

	if (e == NULL)
		e = json_object_get(x, "envelope");
	if (e != NULL)
		return json_is_true(e);
	return json_is_string(path) && strncmp(json_string_value(path), "/api/", 5) == 0;
}

/* One execution of an expanded step x. Failures go to d; rq/rs are for the report. */
static void
run_http(struct file_ctx *fc, const json_t *x, struct sbuf *d, struct request *rq,
    struct response *rs)
{
	const json_t *par = json_object_get(x, "parallel");
	bool envelope = wants_envelope(x);

	if (build_request(x, rq, d) != 0)
		return;
	if (par != NULL) {
		json_int_t p = json_integer_value(par);

		if (!json_is_integer(par) || p < 1 || p > PARALLEL_MAX ||
		    json_object_get(x, "expect") != NULL || json_object_get(x, "save") != NULL)
			diff_add(d, "parallel must be 1..%d, without expect or save", PARALLEL_MAX);
		else
			run_parallel(x, rq, envelope, (long)p, d, rs);
		return;
	}
	http_perform(fc->curl, rq, rs);
	if (!rs->ok) {
		diff_add(d, "no response: %s", rs->curl_err);
		return;
	}
	if (envelope)
		check_envelope(rq, rs, d);
	check_expect(json_object_get(x, "expect"), rs, d);
	save_vars(fc, json_object_get(x, "save"), rs, d);
}

static void
print_failure(const struct file_ctx *fc, const char *name, const struct sbuf *d,
    const struct request *rq, const struct response *rs)
{
	printf("FAIL %s :: %s: %s\n", fc->path, name, sb_str(d));
	if (rq->url != NULL) {
		print_request(rq);
		print_response(rs);
	}
	fflush(stdout);
}

/* Runs one step (all its repeats). true when it passed. */
static bool
run_step(struct file_ctx *fc, const json_t *step, size_t index)
{
	const json_t *jrep = json_object_get(step, "repeat");
	json_int_t it, reps = jrep ? json_integer_value(jrep) : 1;
	char fallback[32], label[300];
	const char *name = json_string_value(json_object_get(step, "name")), *k;
	struct sbuf d = {0};
	struct request rq = {0};
	struct response rs = {0};
	json_t *v;
	bool passed;

	snprintf(fallback, sizeof fallback, "#%zu", index + 1);
	name = name ? name : fallback;
	json_object_foreach((json_t *)step, k, v)
		if (!key_known(k, step_keys))
			diff_add(&d, "unknown step key %s", k);
	if (jrep != NULL && (!json_is_integer(jrep) || reps < 0))
		diff_add(&d, "repeat must be an integer >= 0");
	for (it = 0; d.len == 0 && it < reps; it++) {
		struct scope sc = {.i = jrep ? it : -1, .j = -1};
		json_t *x = expand(step, fc->vars, sc, &d);

		request_free(&rq);
		response_free(&rs);
		if (x != NULL && json_object_get(x, "path") != NULL)
			run_http(fc, x, &d, &rq, &rs);
		if (x != NULL && d.len == 0 && json_object_get(x, "sql") != NULL)
			run_sql(fc, x, &d);
		if (x != NULL && json_object_get(x, "path") == NULL &&
		    json_object_get(x, "sql") == NULL)
			diff_add(&d, "step has neither path nor sql");
		json_decref(x);
		if (d.len > 0 && jrep != NULL) {
			snprintf(label, sizeof label, "%.250s (iteration %" JSON_INTEGER_FORMAT ")",
			    name, it);
			name = label;
		}
	}
	if (d.len > 0)
		print_failure(fc, name, &d, &rq, &rs);
	else if (cfg.verbose)
		printf("ok   %s :: %s\n", fc->path, name);
	passed = d.len == 0;
	request_free(&rq);
	response_free(&rs);
	sb_free(&d);
	return passed;
}

/* Runs one case file, adding to *passed and *failed. */
static void
run_file(const char *path, int *passed, int *failed)
{
	struct file_ctx fc = {.path = path};
	struct sbuf d = {0};
	json_error_t jerr;
	json_t *doc = json_load_file(path, JSON_ALLOW_NUL, &jerr);
	const json_t *steps = json_object_get(doc, "steps"), *step;
	size_t i;

	if (doc == NULL) {
		diff_add(&d, "line %d: %s", jerr.line, jerr.text);
		goto fail;
	}
	if (!json_is_array(steps)) {
		diff_add(&d, "\"steps\" must be an array");
		goto fail;
	}
	if (cfg.db_url != NULL && db_reset(&fc, &d) != 0)
		goto fail;
	fc.vars = json_object();
	fc.curl = curl_easy_init();
	json_array_foreach(steps, i, step) {
		if (run_step(&fc, step, i))
			(*passed)++;
		else
			(*failed)++;
	}
	goto out;
fail:
	printf("FAIL %s :: (setup): %s\n", path, sb_str(&d));
	(*failed)++;
out:
	curl_easy_cleanup(fc.curl);
	PQfinish(fc.db);
	json_decref(fc.vars);
	json_decref(doc);
	sb_free(&d);
}

int
main(int argc, char **argv)
{
	int i, passed = 0, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE.json...\n", argv[0]);
		return 2;
	}
	cfg.base_url = env_or("PROCSVC_URL", "http://127.0.0.1:8080");
	cfg.db_url = env_or("TEST_DATABASE_URL", NULL);
	cfg.app = env_or("PROCSVC_TEST_APP", NULL);
	cfg.secret = env_or("PROCSVC_TEST_SECRET", NULL);
	cfg.user = env_or("PROCSVC_TEST_USER", NULL);
	cfg.filter = env_or("TEST_FILTER", NULL);
	cfg.verbose = strcmp(env_or("TEST_VERBOSE", "0"), "1") == 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("test_runner: curl_global_init failed\n", stderr);
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (cfg.filter == NULL || strstr(argv[i], cfg.filter) != NULL)
			run_file(argv[i], &passed, &failed);
	curl_global_cleanup();
	printf("assertions: %lu\n", n_assertions);
	printf("%d passed, %d failed\n", passed, failed);
	return failed > 0 ? 1 : 0;
}
