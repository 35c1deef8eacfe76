/* src/api/jtree: the tree built without Jansson's parser must be the tree
 * json_loadb(JSON_ALLOW_NUL) builds (same types, values and key order), or
 * jtree_load must step aside (1) and leave the text to Jansson. Checked on
 * hand-picked texts and differentially on seeded random documents and
 * mutations of them that jscan accepts, as the server runs it. */
#include "unit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/jtree.h"
#include "common/jscan.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Jansson's dump with every type kept apart (1 and 1.0 differ, as do
 * "a\u0000" and "a"), in key order. */
static bool
same_tree(json_t *a, json_t *b)
{
	char *da, *db;
	bool same;

	if (!json_equal(a, b))
		return false;
	da = json_dumps(a, JSON_ENCODE_ANY);
	db = json_dumps(b, JSON_ENCODE_ANY);
	same = da != NULL && db != NULL && strcmp(da, db) == 0;
	free(da);
	free(db);
	return same;
}

/* jtree on text: 0 and Jansson's tree, or 1; never a tree Jansson would
 * not give. Returns jtree's answer. */
static int
check_text(const char *text, size_t len)
{
	json_error_t je;
	json_t *want = json_loadb(text, len, JSON_ALLOW_NUL, &je), *got = NULL;
	int rc = jtree_load(text, len, &got);

	if (rc == 0) {
		if (want == NULL)
			fail_msg("jtree built what Jansson refuses (%s): %.*s", je.text, (int)len, text);
		if (!same_tree(got, want))
			fail_msg("jtree and Jansson differ on: %.*s", (int)len, text);
	} else {
		assert_int_equal(rc, 1);
		assert_null(got);
	}
	json_decref(got);
	json_decref(want);
	return rc;
}

static void
test_texts(void **state)
{
	static const char *const built[] = {
		"{}",
		"[]",
		" {\"a\" : 1 , \"b\":[true,false,null,-0,0.5,-1.5e-3,1E2,\"x\"]}\n",
		"{\"a\":1,\"a\":{\"b\":2},\"c\":3,\"a\":[4]}",
		"{\"z\":1,\"a\":2,\"m\":{\"y\":1,\"b\":2}}",
		"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\",\"\\u00e9\\u20ac\\ud83d\\ude00\",\"caf\xc3\xa9\"]",
		"{\"k\\u00e9y\":\"v\\u0000w\",\"\\n\":\"\"}",
		"[9223372036854775807,-9223372036854775808,1e308,2.5e-308]",
	};
	/* Where Jansson fails (or is not to be second-guessed): step aside. */
	static const char *const aside[] = {
		"[9223372036854775808]",
		"[-9223372036854775809]",
		"[1e400]",
		"[4.9e-320]", /* underflow: strtod says ERANGE, Jansson does not mind */
		"{\"a\\u0000b\":1}",
		"[\"\\ud800\"]",
		"[\"\\udc00\"]",
		"[\"a\x01\"]",
		"[1.00000000000000000000000000000000000000000000000000000000000000001]",
		"1",
		"\"x\"",
		"[1,]x",
		"[1",
	};

	(void)state;
	for (size_t i = 0; i < N(built); i++) {
		if (check_text(built[i], strlen(built[i])) != 0)
			fail_msg("jtree stepped aside on: %s", built[i]);
	}
	for (size_t i = 0; i < N(aside); i++) {
		if (check_text(aside[i], strlen(aside[i])) != 1)
			fail_msg("jtree built: %s", aside[i]);
	}
	/* A raw NUL inside a string: Jansson fails, the server rewrites. */
	assert_int_equal(check_text("[\"a\0b\"]", 7), 1);
	/* JTREE_MAX_DEPTH levels are built, one more is left to Jansson. */
	for (int depth = JTREE_MAX_DEPTH; depth <= JTREE_MAX_DEPTH + 1; depth++) {
		char deep[2 * (JTREE_MAX_DEPTH + 1) + 2];
		int n = 0;
		for (int i = 0; i < depth; i++)
			deep[n++] = '[';
		deep[n++] = '1';
		for (int i = 0; i < depth; i++)
			deep[n++] = ']';
		assert_int_equal(check_text(deep, (size_t)n), depth > JTREE_MAX_DEPTH);
	}
}

static size_t
gen(char *buf, size_t at, size_t n, int d)
{
	static const char *const atoms[] = {
		"0", "-1", "12.5e3", "true", "false", "null", "\"\"", "\"x\\u00e9\"",
		"\"\\\"q\"", "\"\xe2\x82\xac\"", "1e400", "99999999999999999999",
		"\"\\ud83d\\ude00\"", "\"a\\u0000\"", "-0.0", "1E-2", "\"\\/\\t\"",
	};
	static const char *const keys[] = { "\"a\"", "\"b\"", "\"\\u0061\"", "\"\"", "\"k\\n\"" };
	unsigned kind = d <= 0 ? 2 : unit_rnd(5);

	if (at + 64 >= n)
		kind = 2;
	if (kind == 0 || kind == 1) {
		unsigned len = unit_rnd(5);
		buf[at++] = kind == 0 ? '[' : '{';
		for (unsigned i = 0; i < len && at + 64 < n; i++) {
			if (i > 0)
				buf[at++] = unit_rnd(4) == 0 ? ' ' : ',';
			if (kind == 1) {
				at += (size_t)sprintf(buf + at, "%s:", keys[unit_rnd(N(keys))]);
			}
			at = gen(buf, at, n, d - 1);
		}
		buf[at++] = kind == 0 ? ']' : '}';
		return at;
	}
	at += (size_t)sprintf(buf + at, "%s", atoms[unit_rnd(N(atoms))]);
	return at;
}

/* On what jscan accepts (what the server hands jtree), jtree builds
 * Jansson's tree or steps aside; it must build most of them. */
static void
test_agrees_with_jansson(void **state)
{
	static char buf[1 << 15];
	size_t built = 0, accepted = 0;

	(void)state;
	unit_seed(20261203);
	for (int round = 0; round < 20000; round++) {
		size_t len = 0;
		unsigned muts = unit_rnd(3);
		struct jscan s;
		buf[len++] = '[';
		for (unsigned i = 0, k = unit_rnd(8); i < k && len + 200 < sizeof(buf) / 2; i++) {
			if (i > 0)
				buf[len++] = ',';
			len = gen(buf, len, sizeof(buf) / 2, 4);
		}
		buf[len++] = ']';
		len = unit_mutate(buf, len, muts);
		assert_int_equal(jscan_run(buf, len, 64, 0, &s), 0);
		if (s.status == JSCAN_OK) {
			accepted++;
			if (check_text(buf, len) == 0)
				built++;
		}
		jscan_free(&s);
	}
	/* The atoms that overflow or hold a NUL make some step aside. */
	if (built * 2 < accepted)
		fail_msg("jtree built only %zu of %zu texts", built, accepted);
}

/* Every allocation failing in turn: never a half tree, never a leak. */
static void
test_out_of_memory(void **state)
{
	static const char text[] = "{\"a\":[1,\"x\\n\",{\"b\":null}],\"c\":\"d\"}";

	(void)state;
	for (long n = 0;; n++) {
		json_t *got = NULL;
		int rc;
		fault_arm(n, false);
		rc = jtree_load(text, sizeof(text) - 1, &got);
		if (!fault_disarm()) {
			assert_int_equal(rc, 0);
			json_decref(got);
			break;
		}
		assert_int_equal(rc, 1);
		assert_null(got);
	}
}

int
run_jtree_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_texts),
		cmocka_unit_test(test_agrees_with_jansson),
		cmocka_unit_test(test_out_of_memory),
	};

	return cmocka_run_group_tests_name("jtree", tests, NULL, NULL);
}
