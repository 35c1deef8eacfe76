/* src/common/jscan: the pre-parse scan must agree with Jansson about what is
 * JSON (a cut may only ever drop text Jansson would have accepted), stop at
 * the depth limit without recursion, and cut exactly the elements past
 * keep. Checked on hand-picked texts and differentially on seeded random
 * documents and mutations of them. */
#include "unit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jscan.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static enum jscan_status
scan_status(const char *text, size_t len, int depth)
{
	struct jscan s;

	assert_int_equal(jscan_run(text, len, depth, 0, &s), 0);
	jscan_free(&s);
	return s.status;
}

static void
test_valid_texts(void **state)
{
	static const char *const ok[] = {
		"{}", "[]", " { } ", "\t[\r\n]\n", "{\"a\":1}", "[1,-0,0.5,-1.5e10,1E+2,2e-3]",
		"[true,false,null]", "{\"a\":{\"b\":[{}]}}", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
		"[\"\\u00e9\\uD83D\\uDE00\"]", "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]",
		"[\"\\u0000\"]", "{\"dup\":1,\"dup\":2}", "[123456789012345678901234567890]",
		"[1e999]", "[\"\x7f\"]",
	};

	(void)state;
	for (size_t i = 0; i < N(ok); i++)
		if (scan_status(ok[i], strlen(ok[i]), 64) != JSCAN_OK)
			fail_msg("rejected valid %s", ok[i]);
}

static void
test_invalid_texts(void **state)
{
	static const char *const bad[] = {
		"", " ", "1", "\"a\"", "null", "{", "[", "}", "[1,]", "[,1]", "{\"a\"}",
		"{\"a\":}", "{a:1}", "{\"a\":1,}", "[01]", "[1.]", "[.5]", "[-]", "[1e]",
		"[+1]", "[0x1]", "[tru]", "[truex]", "[nul]", "[\"a]", "[\"\\x\"]",
		"[\"\\u12\"]", "[\"\\uD800\"]", "[\"\\uDC00\"]", "[\"\\uD800\\u0041\"]",
		"[\"\t\"]", "[\"\x01\"]", "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]",
		"[\"\xf4\x90\x80\x80\"]", "[\"\xff\"]", "[\"\xc3\"]", "{}{}", "[] x",
		"\xef\xbb\xbf{}", "[1 2]", "{\"a\" 1}", "[1,,2]", "{\"a\":1 \"b\":2}",
	};

	(void)state;
	for (size_t i = 0; i < N(bad); i++)
		if (scan_status(bad[i], strlen(bad[i]), 64) != JSCAN_SYNTAX)
			fail_msg("accepted invalid #%zu %s", i, bad[i]);
}

/* n containers deep: [[[...]]] or {"a":{"a":...}}. Caller frees. */
static char *
nested(size_t n, bool objects)
{
	char *s = malloc(n * 6 + 8), *w = s;

	for (size_t i = 0; i < n; i++)
		w += sprintf(w, "%s", objects ? "{\"a\":" : "[");
	*w++ = '1';
	for (size_t i = 0; i < n; i++)
		*w++ = objects ? '}' : ']';
	*w = '\0';
	return s;
}

static void
test_depth(void **state)
{
	(void)state;
	for (int objects = 0; objects < 2; objects++) {
		char *at = nested(64, objects), *over = nested(65, objects);
		char *huge = nested(200000, objects);
		struct jscan s;
		assert_int_equal(scan_status(at, strlen(at), 64), JSCAN_OK);
		assert_int_equal(scan_status(over, strlen(over), 64), JSCAN_DEEP);
		/* Far past any stack: stops at the limit, where it was crossed. */
		assert_int_equal(jscan_run(huge, strlen(huge), 64, 0, &s), 0);
		assert_int_equal(s.status, JSCAN_DEEP);
		assert_int_equal(s.offset, objects ? 64 * 5 : 64);
		jscan_free(&s);
		free(at);
		free(over);
		free(huge);
	}
}

/* Every array of v cut to keep elements, recursively (what jscan_apply's
 * text must parse to). */
static void
truncate_arrays(json_t *v, size_t keep)
{
	const char *k;
	json_t *child;
	size_t i;

	if (json_is_array(v)) {
		while (json_array_size(v) > keep)
			json_array_remove(v, json_array_size(v) - 1);
		json_array_foreach(v, i, child)
			truncate_arrays(child, keep);
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, child)
			truncate_arrays(child, keep);
	}
}

/* A random document of depth at most d into buf (cap n); returns length. */
static size_t
gen(char *buf, size_t at, size_t n, int d)
{
	static const char *const atoms[] = {
		"0", "-1", "12.5e3", "true", "false", "null", "\"\"", "\"x\\u00e9\"",
		"\"\\\"q\"", "\"\xe2\x82\xac\"", "1e400", "99999999999999999999",
	};
	unsigned kind = d <= 0 ? 2 : unit_rnd(5);

	if (at + 64 >= n)
		kind = 2;
	if (kind == 0 || kind == 1) {
		unsigned len = unit_rnd(9);
		buf[at++] = kind == 0 ? '[' : '{';
		for (unsigned i = 0; i < len && at + 64 < n; i++) {
			if (i > 0)
				buf[at++] = ',';
			if (unit_rnd(4) == 0)
				buf[at++] = ' ';
			if (kind == 1)
				at += (size_t)sprintf(buf + at, "\"k%u\":", unit_rnd(4));
			at = gen(buf, at, n, d - 1);
		}
		buf[at++] = kind == 0 ? ']' : '}';
		return at;
	}
	at += (size_t)sprintf(buf + at, "%s", atoms[unit_rnd(N(atoms))]);
	return at;
}

/* A random document under a top-level array of up to 11 of them. */
static size_t
wrap(char *buf, size_t n, int d)
{
	size_t at = 0;
	unsigned len = unit_rnd(12);

	buf[at++] = '[';
	for (unsigned i = 0; i < len && at + 64 < n; i++) {
		if (i > 0)
			buf[at++] = ',';
		at = gen(buf, at, n, d);
	}
	buf[at++] = ']';
	return at;
}

/* Jansson refuses these as parse errors although they are JSON; the server
 * rewrites them (api.c), so jscan must accept them. */
static bool
jansson_value_error(const json_error_t *e)
{
	return strstr(e->text, "too big") || strstr(e->text, "overflow") ||
	    strstr(e->text, "control character 0x0") || strstr(e->text, "NUL byte in object key");
}

/* jscan and Jansson agree on random documents and on mutations of them. */
static void
test_agrees_with_jansson(void **state)
{
	static char buf[1 << 15];
	size_t agree = 0;

	(void)state;
	unit_seed(20261202);
	for (int round = 0; round < 20000; round++) {
		size_t len = wrap(buf, sizeof(buf) / 2, 4);
		unsigned muts = unit_rnd(3);
		struct jscan s;
		json_error_t je;
		json_t *j;
		len = unit_mutate(buf, len, muts);
		assert_int_equal(jscan_run(buf, len, 64, 0, &s), 0);
		j = json_loadb(buf, len, JSON_ALLOW_NUL, &je);
		if (s.status == JSCAN_OK && j == NULL && !jansson_value_error(&je))
			fail_msg("jscan accepted what Jansson refuses (%s): %.*s", je.text, (int)len, buf);
		/* Jansson skips a raw NUL byte that follows a number (its lexer
		 * takes a pushed-back NUL for an empty buffer): "[1\0]" parses.
		 * jscan refuses it, as RFC 8259 does; stricter is safe. */
		if (s.status != JSCAN_OK && j != NULL && memchr(buf, '\0', len) == NULL)
			fail_msg("jscan refused (%s) what Jansson accepts: %.*s", s.why, (int)len, buf);
		agree++;
		json_decref(j);
		jscan_free(&s);
	}
	assert_int_equal(agree, 20000);
}

/* Cutting arrays to keep elements is the same as parsing everything and
 * truncating every array afterwards; the cost estimate shrinks with it. */
static void
test_cut_matches_truncation(void **state)
{
	static char buf[1 << 16];

	(void)state;
	unit_seed(7);
	for (int round = 0; round < 3000; round++) {
		size_t len = wrap(buf, sizeof(buf) / 2, 5), outlen;
		size_t keep = 1 + unit_rnd(4);
		struct jscan s;
		json_t *full, *cut;
		char *text;
		assert_int_equal(jscan_run(buf, len, 64, keep, &s), 0);
		assert_int_equal(s.status, JSCAN_OK);
		assert_true(s.cost_kept <= s.cost_all);
		full = json_loadb(buf, len, JSON_DECODE_INT_AS_REAL, NULL);
		text = jscan_apply(buf, len, &s, &outlen);
		assert_non_null(text);
		cut = json_loadb(text, outlen, JSON_DECODE_INT_AS_REAL, NULL);
		if (full != NULL) {  /* a huge real makes both fail alike */
			assert_non_null(cut);
			truncate_arrays(full, keep);
			if (!json_equal(full, cut))
				fail_msg("keep %zu: %.*s -> %s", keep, (int)len, buf, text);
		}
		json_decref(full);
		json_decref(cut);
		free(text);
		jscan_free(&s);
	}
}

/* A million-element array costs the parser keep elements; a NUL inside the
 * cut part is flagged so the caller can parse it whole. */
static void
test_big_array(void **state)
{
	size_t n = 1000000, len, outlen;
	char *text = malloc(n * 3 + 32), *w = text, *out;
	struct jscan s;

	(void)state;

	w += sprintf(w, "{\"p\":[");
	for (size_t i = 0; i < n; i++)
		w += sprintf(w, i ? ",{}" : "{}");
	w += sprintf(w, "],\"x\":\"\\u0000\"}");
	len = (size_t)(w - text);
	assert_int_equal(jscan_run(text, len, 64, 1002, &s), 0);
	assert_int_equal(s.status, JSCAN_OK);
	assert_int_equal(s.ncuts, 1);
	assert_true(s.has_nul);
	assert_false(s.nul_in_cut);
	assert_true(s.cost_kept < 1002 * 300 + 1000);
	assert_true(s.cost_all > n * 200);
	out = jscan_apply(text, len, &s, &outlen);
	assert_non_null(out);
	assert_int_equal(outlen, len - (n - 1002) * 3);
	free(out);
	jscan_free(&s);
	memcpy(text + 6 + 3 * 2000, "\"\\u0000\"", 8); /* elements 2000-2002 */
	assert_int_equal(jscan_run(text, len, 64, 1002, &s), 0);
	assert_int_equal(s.status, JSCAN_OK);
	assert_true(s.nul_in_cut);
	jscan_free(&s);
	free(text);
}

int
run_jscan_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_texts),
		cmocka_unit_test(test_invalid_texts),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_agrees_with_jansson),
		cmocka_unit_test(test_cut_matches_truncation),
		cmocka_unit_test(test_big_array),
	};

	return cmocka_run_group_tests_name("jscan", tests, NULL, NULL);
}
