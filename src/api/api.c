#include "api/api.h"

#include <math.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/jtree.h"
#include "common/budget.h"
#include "common/jpath.h"
#include "common/jscan.h"
#include "common/log.h"
#include "common/str.h"
#include "service/idem.h"

/* Set once by api_init before the server starts, read-only afterwards. */
static const struct api_config *config;

/*
 * Decode memory (PROCSVC_DECODE_MEMORY). A body's estimated cost is taken
 * from it for the whole request: Jansson's tree, then the decoded structs
 * (about as large again). Costs up to DECODE_SMALL are not counted: 256
 * workers times 1 MiB is bounded anyway, and ordinary requests (a full
 * valid batch costs a few hundred KiB) must never wait behind huge ones.
 */
#define DECODE_SMALL (1u << 20)
static struct budget decode_budget;

int
api_init(const struct api_config *cfg, struct err *e)
{
	config = cfg;
	if (svc_init(cfg->conninfo, cfg->db_pool, cfg->db_wait_ms, cfg->unprepared,
		cfg->schema_version, e) != 0)
		return -1;
	if (cfg->read_conninfo != NULL &&
	    svc_init_replica(cfg->read_conninfo, cfg->read_max_lag_ms, e) != 0) {
		svc_shutdown();
		return -1;
	}
	if (svc_idem_start(cfg->idem_ttl_s > 0 ? cfg->idem_ttl_s : SVC_IDEM_TTL_DEFAULT, e) != 0) {
		svc_shutdown();
		return -1;
	}
	budget_init(&decode_budget, cfg->decode_memory, DECODE_SMALL);
	return 0;
}

void
api_shutdown(void)
{
	svc_idem_stop();
	svc_shutdown();
	budget_destroy(&decode_budget);
}

bool
api_ready(char *reason, size_t n)
{
	return svc_ready(reason, n);
}

void
api_gauges(struct api_gauges *out)
{
	struct svc_pool_stats p;
	size_t bytes, waiting;
	struct svc_replica_stats r;

	svc_pool_stats(&p);
	out->replica = svc_replica_stats(&r);
	out->replica_up = out->replica && r.up;
	out->replica_lag_s = out->replica ? r.lag_s : -1.0;
	out->db_pool_size = p.size;
	out->db_in_use = p.in_use;
	out->db_idle = p.idle;
	out->db_open = p.open;
	out->db_waiting = p.waiting;
	out->db_wait_timeouts = p.timeouts;
	budget_usage(&decode_budget, &bytes, &waiting);
	out->decode_bytes = bytes;
	out->decode_waiting = waiting;
}

/* Walks the parsed document for what Jansson accepts but the contract does
 * not: U+0000 inside strings (we parse with JSON_ALLOW_NUL to be able to
 * name the path). Recursion is bounded: jscan let no deeper text through. */
static int
check_tree(json_t *v, struct jpath *p, struct err *e)
{
	if (json_is_string(v)) {
		if (strlen(json_string_value(v)) != json_string_length(v)) {
			err_set(e, ERR_BAD_JSON, jpath_str(p), "string contains U+0000");
			return -1;
		}
	} else if (json_is_object(v)) {
		const char *key;
		json_t *child;
		json_object_foreach(v, key, child) {
			size_t mark = jpath_key(p, key);
			int rc = check_tree(child, p, e);
			jpath_pop(p, mark);
			if (rc != 0)
				return -1;
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *child;
		json_array_foreach(v, i, child) {
			size_t mark = jpath_index(p, i);
			int rc = check_tree(child, p, e);
			jpath_pop(p, mark);
			if (rc != 0)
				return -1;
		}
	}
	return 0;
}

/* true when the integer token s[0..n) lies outside int64_t. */
static bool
int_overflows(const char *s, size_t n)
{
	static const char max[] = "9223372036854775807", min[] = "9223372036854775808";
	bool neg = n > 0 && s[0] == '-';
	const char *lim = neg ? min : max;

	s += neg;
	n -= neg;
	if (n != sizeof(max) - 1)
		return n > sizeof(max) - 1;
	return memcmp(s, lim, n) > 0;
}

/* true when the number token s[0..n) is one Jansson cannot hold: an
 * integer beyond 64 bits, or a real beyond double's range. */
static bool
number_unrepresentable(const char *s, size_t n)
{
	char buf[512];

	if (memchr(s, '.', n) == NULL && memchr(s, 'e', n) == NULL &&
	    memchr(s, 'E', n) == NULL)
		return int_overflows(s, n);
	if (n >= sizeof(buf))
		return true;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return isinf(strtod(buf, NULL));
}

/*
 * Jansson refuses, as invalid JSON, three things the contract (§10) wants
 * reported at their own path: integers beyond 64 bits and reals beyond
 * double ("not an integer": a wrong type), and a raw U+0000 byte inside a
 * string (1199000 with the path). This copy of the body replaces each such
 * number with 0.5 (a number, not an integer) and each raw NUL with the
 * escape \u0000, which check_tree then reports with its path. Everything
 * else is copied untouched. Caller frees; NULL when out of memory.
 */
static char *
rewrite_for_paths(const char *body, size_t len, size_t *outlen)
{
	size_t nuls = 0, i = 0;
	char *out, *w;

	/* Only a NUL grows (to 6 bytes); a replaced number never does: an
	 * overflowing one has at least 5 characters, "0.5" has 3. */
	for (const char *p = body; (p = memchr(p, '\0', len - (size_t)(p - body))) != NULL; p++)
		nuls++;
	out = w = malloc(len + 5 * nuls + 1);
	if (out == NULL)
		return NULL;
	while (i < len) {
		size_t j = i + 1;
		if (body[i] == '"') {
			*w++ = '"';
			for (; j < len && body[j] != '"'; j++) {
				if (body[j] == '\0') {
					memcpy(w, "\\u0000", 6);
					w += 6;
					continue;
				}
				if (body[j] == '\\' && j + 1 < len)
					*w++ = body[j++];
				*w++ = body[j];
			}
			if (j < len)
				*w++ = body[j++];
			i = j;
			continue;
		}
		if (body[i] == '-' || (body[i] >= '0' && body[i] <= '9')) {
			while (j < len && strchr("0123456789.eE+-", body[j]) != NULL)
				j++;
			if (number_unrepresentable(body + i, j - i)) {
				memcpy(w, "0.5", 3);
				w += 3;
				i = j;
				continue;
			}
		}
		memcpy(w, body + i, j - i);
		w += j - i;
		i = j;
	}
	*outlen = (size_t)(w - out);
	return out;
}

/*
 * The parse errors rewrite_for_paths may turn into a path-named error: a
 * number out of range, or (Jansson files a raw control character under
 * plain invalid syntax) a syntax error in a body that holds a NUL byte. A
 * rewrite that does not help is harmless: the first error is then reported.
 */
static bool
rewritable(const json_error_t *jerr, const char *body, size_t len)
{
	switch (json_error_code(jerr)) {
	case json_error_numeric_overflow:
		return true;
	case json_error_invalid_syntax:
		return memchr(body, '\0', len) != NULL;
	default:
		return false;
	}
}

/*
 * The scan of the raw body (common/jscan.h) before Jansson runs: nesting
 * and syntax are judged there, without recursion, and long arrays are cut.
 * *text is the body to parse (body itself, or *copy, which the caller
 * frees); *cost what parsing it will allocate. 0, or -1 with e set.
 */
static int
prescan(const char *body, size_t len, const char **text, size_t *textlen,
    char **copy, size_t *cost, struct err *e)
{
	struct jscan scan;
	bool cut;
	int rc = -1;

	*copy = NULL;
	if (jscan_run(body, len, API_MAX_DEPTH, API_ARRAY_KEEP, &scan) != 0) {
		err_oom(e);
		goto out;
	}
	if (scan.status == JSCAN_DEEP) {
		err_set(e, ERR_BAD_JSON, NULL,
		    "nesting deeper than %d levels (line %d, column %d)",
		    API_MAX_DEPTH, scan.line, scan.column);
		goto out;
	}
	if (scan.status == JSCAN_SYNTAX) {
		err_set(e, ERR_BAD_JSON, NULL,
		    "request body is not valid JSON: %s (line %d, column %d)",
		    scan.why, scan.line, scan.column);
		goto out;
	}
	/* A U+0000 inside a cut is reported with its path, as the contract
	 * wants it, so that body is parsed whole (its cost is still known). */
	cut = scan.ncuts > 0 && !scan.nul_in_cut;
	*cost = cut ? scan.cost_kept : scan.cost_all;
	*text = body;
	*textlen = len;
	if (cut) {
		*copy = jscan_apply(body, len, &scan, textlen);
		if (*copy == NULL) {
			err_oom(e);
			goto out;
		}
		*text = *copy;
	}
	rc = 0;
out:
	jscan_free(&scan);
	return rc;
}

/* Jansson on a text jscan accepted; see api_parse_body. */
static int
parse_text(const char *body, size_t len, json_t **out, struct err *e)
{
	json_error_t jerr;
	struct jpath p;
	json_t *root;

	/* The same tree, built without Jansson's lexer (api/jtree.h); where
	 * that cannot be sure to match, Jansson's parser decides. */
	if (jtree_load(body, len, &root) != 0)
		root = json_loadb(body, len, JSON_ALLOW_NUL, &jerr);
	if (root == NULL && rewritable(&jerr, body, len)) {
		json_error_t again;
		size_t n;
		char *copy = rewrite_for_paths(body, len, &n);
		/* On a second failure the first error is the honest one. */
		if (copy != NULL)
			root = json_loadb(copy, n, JSON_ALLOW_NUL, &again);
		free(copy);
	}
	if (root == NULL) {
		err_set(e, ERR_BAD_JSON, NULL,
		    "request body is not valid JSON: %s (line %d, column %d)",
		    jerr.text, jerr.line, jerr.column);
		return -1;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		err_set(e, ERR_BAD_JSON, NULL, "request body must be a JSON object");
		return -1;
	}
	jpath_init(&p);
	if (check_tree(root, &p, e) != 0) {
		json_decref(root);
		return -1;
	}
	*out = root;
	return 0;
}

/*
 * api_parse_body, holding the body's decode cost in the decode budget from
 * before the parser runs: *held is what to give back once the request is
 * done with what it decoded. A body that cannot get its share within
 * PROCSVC_DB_WAIT_MS is 503 (the server is busy with large bodies).
 */
static int
parse_held(const char *body, size_t len, json_t **out, size_t *held,
    struct err *e)
{
	const char *text;
	char *copy;
	size_t textlen, cost;
	int rc = -1;

	*held = 0;
	if (prescan(body, len, &text, &textlen, &copy, &cost, e) != 0)
		return -1;
	/* The tree, the structs decoded from it, and the text. */
	if (budget_take(&decode_budget, 2 * cost + textlen,
		config ? config->decode_wait_ms : 0, held) != 0) {
		log_warn("a %zu-byte body waited %ld ms for decode memory (PROCSVC_DECODE_MEMORY)",
		    len, config ? config->decode_wait_ms : 0L);
		err_server(e, "server busy with large requests, retry later");
		goto out;
	}
	rc = parse_text(text, textlen, out, e);
out:
	free(copy);
	return rc;
}

int
api_parse_body(const char *body, size_t len, json_t **out, struct err *e)
{
	const char *text;
	char *copy;
	size_t textlen, cost;
	int rc;

	if (prescan(body, len, &text, &textlen, &copy, &cost, e) != 0)
		return -1;
	rc = parse_text(text, textlen, out, e);
	free(copy);
	return rc;
}

void
api_type_error(const char *base, const char *key, const char *what,
    struct err *e)
{
	struct jpath p;

	jpath_init_at(&p, base);
	jpath_key(&p, key);
	err_set(e, ERR_BAD_JSON, jpath_str(&p), "must be %s", what);
}

int
api_get_id(json_t *obj, const char *base, const char *key, int64_t *out,
    struct err *e)
{
	json_t *v = json_object_get(obj, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v)) {
		api_type_error(base, key, "an integer", e);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

int
api_get_array(json_t *obj, const char *base, const char *key, size_t max,
    const char *noun, json_t **out, struct err *e)
{
	json_t *v = json_object_get(obj, key);
	struct jpath p;
	size_t n;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v)) {
		api_type_error(base, key, "an array", e);
		return -1;
	}
	n = json_array_size(v);
	if (n > max) {
		jpath_init_at(&p, base);
		jpath_key(&p, key);
		if (n >= API_ARRAY_KEEP)
			err_set(e, ERR_TOO_MANY, jpath_str(&p), "has more than %d %s; the limit is %zu",
			    API_ARRAY_KEEP - 1, noun, max);
		else
			err_set(e, ERR_TOO_MANY, jpath_str(&p), "has %zu %s; the limit is %zu", n, noun, max);
		return -1;
	}
	*out = v;
	return 0;
}

int
api_get_array_later(json_t *obj, const char *base, const char *key, size_t max,
    const char *noun, json_t **out, struct err *over, struct err *e)
{
	struct err now = { 0 };

	if (api_get_array(obj, base, key, max, noun, out, &now) == 0)
		return 0;
	if (now.code != ERR_TOO_MANY) {
		err_copy(e, &now);
		return -1;
	}
	err_copy(over, &now); /* keeps the first */
	*out = NULL;
	return 0;
}

int
api_report_later(const struct err *over, struct err *e)
{
	if (!err_isset(over))
		return 0;
	err_copy(e, over);
	return -1;
}

int
api_get_ids(json_t *obj, const char *key, size_t max, struct id_list *out,
    struct err *over, struct err *e)
{
	json_t *arr, *v;
	struct jpath p;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (api_get_array_later(obj, "", key, max, "ids", &arr, over, e) != 0)
		return -1;
	if (arr == NULL || json_array_size(arr) == 0)
		return 0;
	jpath_init(&p);
	json_array_foreach(arr, i, v) {
		if (!json_is_integer(v)) {
			jpath_elem(&p, key, i);
			err_set(e, ERR_BAD_JSON, jpath_str(&p), "must be an integer id");
			return -1;
		}
	}
	out->ids = calloc(json_array_size(arr), sizeof(*out->ids));
	if (out->ids == NULL)
		return err_oom(e);
	json_array_foreach(arr, i, v) {
		out->ids[out->n++] = json_integer_value(v);
	}
	return 0;
}

int
api_get_delete(json_t *body, const char *key, size_t max, int64_t *biz_id,
    struct id_list *ids, struct err *e)
{
	struct err over = { 0 };

	memset(ids, 0, sizeof(*ids));
	if (api_get_id(body, "", "bk_biz_id", biz_id, e) != 0 ||
	    api_get_ids(body, key, max, ids, &over, e) != 0)
		return -1;
	return api_report_later(&over, e);
}

json_t *
api_id_array(const struct id_list *ids)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < ids->n; i++)
		if (json_array_append_new(a, json_integer(ids->ids[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Compares without an early exit, so timing does not reveal how much of a
 * guessed secret was right. */
static bool
secret_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t n = la > lb ? la : lb;
	unsigned char diff = (unsigned char)(la != lb);

	for (size_t i = 0; i < n; i++) {
		unsigned char x = i < la ? (unsigned char)a[i] : 0;
		unsigned char y = i < lb ? (unsigned char)b[i] : 0;
		diff |= x ^ y;
	}
	return diff == 0;
}

static const char *
str_field(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s;
}

/*
 * Why the app credentials were refused, for the client: what is missing or
 * malformed, never whether the app exists (an unknown app and a wrong
 * secret read alike). src is where code and secret were taken from.
 */
static void
app_auth_problem(const struct api_call *call, json_t *hdr, json_t *body,
    json_t *src, const char *code, const char *secret, char *buf, size_t n)
{
	const char *where = src != NULL && src == hdr ? "X-Bkapi-Authorization: " : "";
	json_t *jsecret = json_object_get(src, "bk_app_secret");

	if (code == NULL) {
		json_t *bc = json_object_get(body, "bk_app_code");
		json_t *hc = json_object_get(hdr, "bk_app_code");
		if (bc != NULL && !json_is_null(bc))
			snprintf(buf, n, "bk_app_code is not a string");
		else if (hc != NULL && !json_is_null(hc))
			snprintf(buf, n, "X-Bkapi-Authorization: bk_app_code is not a string");
		else if (call->hdr_authorization != NULL && hdr == NULL)
			snprintf(buf, n, "X-Bkapi-Authorization is not a JSON object");
		else
			snprintf(buf, n,
			    "no credentials (bk_app_code/bk_app_secret in the body "
			    "or X-Bkapi-Authorization)");
	} else if (secret == NULL) {
		snprintf(buf, n, "%sbk_app_secret is %s", where,
		    jsecret != NULL && !json_is_null(jsecret) ? "not a string" : "missing");
	} else if (*code == '\0' || *secret == '\0') {
		snprintf(buf, n, "%s%s is empty", where, *code == '\0' ? "bk_app_code" : "bk_app_secret");
	} else {
		snprintf(buf, n, "unknown app or wrong secret");
	}
}

/* true when the header value s is JSON within the nesting limit. */
static bool
header_json_ok(const char *s)
{
	struct jscan scan;
	bool ok;

	if (jscan_run(s, strlen(s), API_MAX_DEPTH, 0, &scan) != 0)
		return false;
	ok = scan.status == JSCAN_OK;
	jscan_free(&scan);
	return ok;
}

/*
 * Credentials and operator of api-contract.md §3 and §10. On success
 * *username is the trimmed operator (caller frees), checked to be UTF-8:
 * header values are raw bytes, and the database would refuse others; *app
 * the app code as given ("" when auth is off and none was), which scopes
 * idempotency keys (caller frees).
 */
static int
authenticate(const struct api_call *call, json_t *body, struct api_reply *out,
    char **username, char **app, struct err *e)
{
	json_t *hdr = NULL, *src;
	const char *code = NULL, *secret = NULL, *user = NULL;
	bool app_ok = false;
	int rc = -1;

	/* The header is client JSON too: judged by the same non-recursive scan
	 * before Jansson parses it (a 16 KiB header holds 8,000 levels). One
	 * that fails counts as absent (§10), as a malformed one does. */
	if (call->hdr_authorization != NULL &&
	    header_json_ok(call->hdr_authorization)) {
		hdr = json_loads(call->hdr_authorization, 0, NULL);
		if (hdr != NULL && !json_is_object(hdr)) {
			json_decref(hdr);
			hdr = NULL;
		}
	}
	/* The header wins when it carries credentials; else the body's. */
	src = hdr != NULL && str_field(hdr, "bk_app_code") != NULL ? hdr : body;
	code = str_field(src, "bk_app_code");
	secret = str_field(src, "bk_app_secret");
	if (hdr != NULL && !str_blank(str_field(hdr, "bk_username")))
		user = str_field(hdr, "bk_username");
	else if (!str_blank(str_field(body, "bk_username")))
		user = str_field(body, "bk_username");
	else if (!str_blank(call->hdr_user))
		user = call->hdr_user;
	else if (!str_blank(call->hdr_bk_user))
		user = call->hdr_bk_user;

	/* The access log's copies: capped, cut at a character boundary. */
	if (code != NULL)
		snprintf(out->app_code, sizeof(out->app_code), "%s", code);
	if (user != NULL)
		snprintf(out->username, sizeof(out->username), "%s", user);
	err_cut_utf8(out->app_code);
	err_cut_utf8(out->username);

	if (config->auth_off) {
		app_ok = true;
	} else if (code != NULL && secret != NULL) {
		/* Every app is compared, so timing does not tell which codes exist. */
		for (size_t i = 0; i < config->napps; i++) {
			bool match = strcmp(config->apps[i].code, code) == 0 &&
			    secret_equal(config->apps[i].secret, secret);
			app_ok |= match;
		}
	}
	if (!app_ok) {
		char why[160];
		app_auth_problem(call, hdr, body, src, code, secret, why, sizeof(why));
		err_set_http(e, 401, ERR_AUTH_APP, NULL, "app authentication failed: %s", why);
		goto out;
	}
	if (user == NULL) {
		err_set_http(e, 401, ERR_AUTH_USER, NULL, "You must specify the current operator");
		goto out;
	}
	if (!utf8_valid(user, strlen(user))) {
		err_set_http(e, 401, ERR_AUTH_USER, NULL, "the operator must be UTF-8 text");
		goto out;
	}
	/* Stored as creator/modifier and echoed in records: refuse rather than
	 * cut a name no BlueKing user has. */
	if (strlen(user) > API_OPERATOR_MAX) {
		err_set_http(e, 401, ERR_AUTH_USER, NULL,
		    "the operator is longer than %d bytes", API_OPERATOR_MAX);
		goto out;
	}
	*username = strdup(user);
	*app = strdup(code != NULL ? code : "");
	if (*username == NULL || *app == NULL) {
		err_oom(e);
		goto out;
	}
	str_trim(*username);
	rc = 0;
out:
	json_decref(hdr);
	return rc;
}

static bool
tenant_ok(const char *t)
{
	size_t n = strlen(t);

	if (n < 1 || n > 64)
		return false;
	return strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

#define IDEM_HEADER "X-Idempotency-Key"

/*
 * The X-Idempotency-Key header into key (API_IDEM_KEY_MAX + 1 bytes): the
 * blanks around a header value are not part of it (RFC 9110 §5.5, as for
 * X-Request-Id); what is left must be 1-128 bytes of 0x21-0x7E. A space
 * inside is refused rather than kept: proxies may fold or trim blanks, and
 * a key that two hops would read differently must not decide whether a
 * batch is written twice. 0, or -1 with e 1199006 naming the header.
 */
static int
idem_key(const struct api_call *call, const char *app, char *key, struct err *e)
{
	const char *v = call->hdr_idem_key != NULL ? call->hdr_idem_key : "";
	size_t n;

	if (call->hdr_idem_key_repeated) {
		err_set(e, ERR_BAD_VALUE, IDEM_HEADER, "is given more than once; send one key");
		return -1;
	}
	v += strspn(v, " \t");
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n == 0) {
		err_set(e, ERR_BAD_VALUE, IDEM_HEADER,
		    "is empty; a key is 1-%d printable "
		    "ASCII characters without spaces (0x21-0x7E), such as a UUID",
		    API_IDEM_KEY_MAX);
		return -1;
	}
	if (n > API_IDEM_KEY_MAX) {
		err_set(e, ERR_BAD_VALUE, IDEM_HEADER, "is %zu bytes long; the limit is %d",
		    n, API_IDEM_KEY_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x21 || c > 0x7e) {
			err_set(e, ERR_BAD_VALUE, IDEM_HEADER,
			    "byte %zu is 0x%02x%s; a key is 1-%d "
			    "printable ASCII characters without spaces (0x21-0x7E)",
			    i + 1, c,
			    c == ' ' ? " (a space)" : "", API_IDEM_KEY_MAX);
			return -1;
		}
	}
	if (strlen(app) > API_IDEM_APP_MAX) {
		err_set(e, ERR_BAD_VALUE, "bk_app_code",
		    "is longer than %d bytes, too long to "
		    "scope an " IDEM_HEADER,
		    API_IDEM_APP_MAX);
		return -1;
	}
	memcpy(key, v, n);
	key[n] = '\0';
	return 0;
}

/* SHA-256 of the raw body: "the same request" is the same bytes. */
static void
body_sha256(const struct api_call *call, unsigned char out[SVC_IDEM_SHA256])
{
	struct sha256_ctx c;

	_Static_assert(SHA256_DIGEST_SIZE == SVC_IDEM_SHA256, "SHA-256");
	sha256_init(&c);
	sha256_update(&c, call->body_len, (const uint8_t *)call->body);
	sha256_digest(&c, SHA256_DIGEST_SIZE, out);
}

/* out's answer becomes len bytes of text (JSON). 0, or -1 out of memory. */
static int
reply_text(struct api_reply *out, const char *text, size_t len)
{
	jbuf_free(&out->text);
	jbuf_init(&out->text, len + 1);
	jbuf_raw(&out->text, text, len);
	out->has_text = !jbuf_failed(&out->text);
	if (!out->has_text)
		jbuf_free(&out->text);
	return out->has_text ? 0 : -1;
}

/*
 * Ends a keyed request (svc_idem): success stores its answer, as text, in
 * the transaction that commits it; a failure rolls back, unless the key
 * turned out to be answered already (the stored answer is sent) or held
 * by another request (409).
 */
static void
finish_keyed(const struct svc_req *req, struct svc_idem *k, const char *key,
    int rc, struct api_reply *out)
{
	char *text = NULL;
	char q[96];

	if (rc == 0 && !out->has_text) {
		text = json_dumps(out->data, JSON_COMPACT | JSON_ENCODE_ANY);
		json_decref(out->data);
		out->data = NULL;
		if (text == NULL || reply_text(out, text, strlen(text)) != 0)
			rc = err_oom(&out->err);
		free(text);
	}
	if (rc == 0 && svc_idem_commit(req, k, out->text.buf, out->text.len, &out->err) != 0)
		rc = -1;
	if (rc == 0)
		return;
	svc_idem_end(req);
	jbuf_free(&out->text);
	out->has_text = false;
	json_decref(out->data);
	out->data = NULL;
	if (k->state != SVC_IDEM_REPLAY && k->state != SVC_IDEM_CONFLICT)
		return;
	free(out->long_msg);
	out->long_msg = NULL;
	err_clear(&out->err);
	if (k->state == SVC_IDEM_CONFLICT) {
		err_quote(q, sizeof(q), key);
		if (strcmp(k->first_api, k->api) != 0)
			err_set_http(&out->err, 409, ERR_BAD_VALUE, IDEM_HEADER,
			    "%s was already used for another request (%s); a key belongs to one "
			    "request, send a new key for a new request",
			    q, k->first_api);
		else
			err_set_http(&out->err, 409, ERR_BAD_VALUE, IDEM_HEADER,
			    "%s was already used for another request (%s with a different body); "
			    "a key belongs to one request, send a new key for a new request",
			    q,
			    k->first_api);
	} else if (reply_text(out, k->answer, k->answer_len) != 0) {
		err_oom(&out->err);
	}
}

/* api_serve for either kind of handler (one of h, th). */
static void
serve(api_handler h, api_text_handler th, const struct api_call *call,
    struct api_reply *out)
{
	json_t *body = NULL;
	const char *tenant;
	struct svc_req req;
	struct svc_ctx *ctx = NULL; /* owned */
	char *username = NULL;      /* owned */
	char *app = NULL;           /* owned */
	size_t held = 0;            /* decode memory, given back at the end */
	struct svc_idem idem = { 0 };
	char key[API_IDEM_KEY_MAX + 1];
	bool keyed = call->hdr_idem_key != NULL || call->hdr_idem_key_repeated;
	int rc;

	memset(out, 0, sizeof(*out));
	if (parse_held(call->body, call->body_len, &body, &held, &out->err) != 0)
		goto out;
	if (authenticate(call, body, out, &username, &app, &out->err) != 0)
		goto out;
	tenant = call->hdr_tenant ? call->hdr_tenant :
	    call->hdr_tenant_alt  ? call->hdr_tenant_alt :
				    "0";
	if (!tenant_ok(tenant)) {
		err_set(&out->err, ERR_BAD_VALUE, "bk_supplier_account",
		    "the tenant must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'");
		goto out;
	}
	snprintf(out->tenant, sizeof(out->tenant), "%s", tenant);
	if (keyed && idem_key(call, app, key, &out->err) != 0)
		goto out;
	if ((ctx = svc_ctx_new()) == NULL) {
		err_oom(&out->err);
		goto out;
	}
	req.ctx = ctx;
	req.tenant = tenant;
	req.username = username;
	req.long_msg = &out->long_msg;
	if (keyed) {
		idem.app = app;
		idem.key = key;
		idem.api = call->api != NULL ? call->api : "";
		body_sha256(call, idem.sha256);
		if (svc_idem_begin(&req, &idem, &out->err) != 0) {
			finish_keyed(&req, &idem, key, -1, out);
			goto out;
		}
	}
	if (th != NULL) {
		/* Room for a typical list answer at once. */
		jbuf_init(&out->text, 8192);
		rc = th(&req, body, &out->text, &out->err);
		if (rc == 0 && jbuf_failed(&out->text))
			rc = err_oom(&out->err);
		out->has_text = rc == 0;
		if (rc != 0)
			jbuf_free(&out->text);
	} else {
		rc = h(&req, body, &out->data, &out->err);
	}
	if (rc != 0) {
		if (!err_isset(&out->err)) {
			/* Breaks api_handler's contract: say so, still answer. */
			log_error("a handler failed without reporting why");
			err_server(&out->err, "internal error");
		}
		out->data = NULL;
	} else {
		free(out->long_msg); /* a message only a failure carries */
		out->long_msg = NULL;
		if (th == NULL && out->data == NULL)
			out->data = json_null();
	}
	if (keyed)
		finish_keyed(&req, &idem, key, rc, out);
out:
	/* The database connection goes back before the answer is written. */
	svc_ctx_free(ctx);
	svc_idem_free(&idem);
	free(app);
	free(username);
	json_decref(body);
	budget_give(&decode_budget, held);
}

void
api_serve(api_handler h, const struct api_call *call, struct api_reply *out)
{
	serve(h, NULL, call, out);
}

void
api_serve_text(api_text_handler h, const struct api_call *call,
    struct api_reply *out)
{
	serve(NULL, h, call, out);
}

void
api_reply_free(struct api_reply *out)
{
	json_decref(out->data);
	out->data = NULL;
	jbuf_free(&out->text);
	out->has_text = false;
	free(out->long_msg);
	out->long_msg = NULL;
}
