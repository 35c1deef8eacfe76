/* match: see match.h. */
#include "match.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static unsigned long n_assertions;

void
match_count(unsigned n)
{
	n_assertions += n;
}

unsigned long
match_assertions(void)
{
	return n_assertions;
}

bool
match_is_special(const json_t *e, const char *name)
{
	return json_is_string(e) && strcmp(json_string_value(e), name) == 0;
}

bool
match_key_known(const char *k, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(k, *list) == 0)
			return true;
	return false;
}

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

/* Recursive subset match; path is the location printed in messages. */
static bool
subset_match(const json_t *exp, const json_t *act, const char *path, struct sbuf *d)
{
	char sub[512];
	const char *key;
	json_t *e;
	size_t i;
	bool ok = true;

	if (match_is_special(exp, "$any"))
		return true;
	if (match_is_special(exp, "$int") && json_is_integer(act))
		return true;
	if (match_is_special(exp, "$ts") && json_is_string(act) &&
	    is_rfc3339_ms(json_string_value(act)))
		return true;
	if (json_is_object(exp) && json_is_object(act)) {
		json_object_foreach((json_t *)exp, key, e) {
			const json_t *a = json_object_get(act, key);

			snprintf(sub, sizeof sub, "%s.%s", path, key);
			if (match_is_special(e, "$absent")) {
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

const json_t *
match_select(const json_t *root, const char *sel)
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

void
match_envelope(const struct request *rq, const struct response *rs, struct sbuf *d)
{
	static const char *const keys[] = {"result", "code", "message", "permission",
	    "request_id", "data"};
	const json_t *j = rs->json, *rid;
	const char *ct = response_header(rs, "Content-Type"), *hid, *k;
	json_t *v;
	size_t i;

	match_count(1);
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
		match_count(1);
		if (!json_is_string(msg) ||
		    strstr(json_string_value(msg), json_string_value(exp)) == NULL)
			diff_add(d, "message: %.300s does not contain %.300s",
			    json_is_string(msg) ? json_string_value(msg) : "(none)",
			    json_string_value(exp));
		return;
	}
	json_array_foreach(exp, i, e) {
		check_message(e, msg, d);
	}
}

static void
check_headers(const json_t *exp, const struct response *rs, struct sbuf *d)
{
	const char *k, *got;
	json_t *v;

	json_object_foreach((json_t *)exp, k, v) {
		match_count(1);
		got = response_header(rs, k);
		if (got == NULL)
			diff_add(d, "headers.%s: missing", k);
		else if (!match_is_special(v, "$any") &&
		    (!json_is_string(v) || strcmp(got, json_string_value(v)) != 0))
			diff_add(d, "headers.%s: expected %s, got %s", k,
			    json_is_string(v) ? json_string_value(v) : "?", got);
	}
}

static const char *const expect_keys[] = {"status", "code", "result", "message",
    "message_contains", "data", "data_subset", "data_len", "body", "body_contains",
    "headers", "envelope", NULL};

void
match_expect(const json_t *exp, const struct response *rs, struct sbuf *d)
{
	const json_t *j = rs->json, *data = json_object_get(j, "data"), *v;
	const char *k;
	json_t *e;

	json_object_foreach((json_t *)exp, k, e) {
		if (!match_key_known(k, expect_keys))
			diff_add(d, "unknown expect key %s", k);
		/* message_contains and headers count per element, in their checks. */
		if (strcmp(k, "envelope") != 0 && strcmp(k, "message_contains") != 0 &&
		    strcmp(k, "headers") != 0)
			match_count(1);
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
