/*
 * Tests of the case-file compiler (load.c): what each load-time feature
 * expands to, and that every malformed use is an error rather than a step
 * that silently vanishes. Case files are written to a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "load.h"

static char dir[] = "/tmp/test_load.XXXXXX";

/* Writes text (single quotes become double quotes) to dir/name. */
static void
put(const char *name, const char *text)
{
	char path[256];
	FILE *f;
	const char *p;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	for (p = text; *p; p++)
		fputc(*p == '\'' ? '"' : *p, f);
	fclose(f);
}

/* Loads dir/name; on success returns its runs' steps as one array per run. */
static json_t *
load(const char *name, struct sbuf *err)
{
	char path[256];
	struct load_file lf = {0};
	json_t *runs = NULL;
	size_t i;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (load_case(path, &lf, err) == 0) {
		runs = json_array();
		for (i = 0; i < lf.nruns; i++)
			json_array_append_new(runs, json_pack("{s:s?, s:O}", "name",
			    lf.runs[i].name, "steps", lf.runs[i].steps));
	}
	load_free(&lf);
	return runs;
}

/* The single run of name compiles to exactly the steps in want (quotes as in put). */
static void
expect_steps(const char *name, const char *want)
{
	struct sbuf err = {0};
	json_t *runs = load(name, &err), *w;
	struct sbuf t = {0};
	const char *p;
	char *got;

	if (runs == NULL)
		fail_msg("%s: %s", name, sb_str(&err));
	for (p = want; *p; p++)
		sb_addn(&t, *p == '\'' ? "\"" : p, 1);
	w = json_loads(t.p, 0, NULL);
	assert_non_null(w);
	assert_int_equal(json_array_size(runs), 1);
	got = json_dumps(json_object_get(json_array_get(runs, 0), "steps"), JSON_COMPACT);
	if (!json_equal(w, json_object_get(json_array_get(runs, 0), "steps")))
		fail_msg("%s:\n got  %s\n want %s", name, got, t.p);
	free(got);
	json_decref(w);
	json_decref(runs);
	sb_free(&t);
	sb_free(&err);
}

/* Loading name fails with a message containing part. */
static void
expect_error(const char *name, const char *part)
{
	struct sbuf err = {0};
	json_t *runs = load(name, &err);

	if (runs != NULL)
		fail_msg("%s loaded, expected an error with \"%s\"", name, part);
	if (strstr(sb_str(&err), part) == NULL)
		fail_msg("%s: error \"%s\" lacks \"%s\"", name, sb_str(&err), part);
	sb_free(&err);
}

static void
test_plain_steps_unchanged(void **state)
{
	(void)state;
	put("plain.json", "{'name': 'x', 'steps': [{'path': '/a', 'body': {'n': '${v}',"
	    " 'l': [{'$repeat': 2, 'item': '${i}'}]}, 'expect': {'code': 0}}, {'sql': 'SELECT 1'}]}");
	expect_steps("plain.json", "[{'path': '/a', 'body': {'n': '${v}', 'l': [{'$repeat': 2,"
	    " 'item': '${i}'}]}, 'expect': {'code': 0}}, {'sql': 'SELECT 1'}]");
}

static void
test_templates(void **state)
{
	(void)state;
	put("tmpl.json", "{'defs': {"
	    "  'fail': {'expect': {'status': 200, 'result': false, 'data': null}},"
	    "  'si': {'path': '/si', 'body': {'biz': 1, 'm': 60, 'list': [1, 2]},"
	    "         'with': {'code': 1199006}, 'expect': {'code': '$(code)'}},"
	    "  'si_fail': {'use': ['si', 'fail']}},"
	    " 'steps': ["
	    "  {'use': 'si_fail', 'body': {'m': '$unset', 'list': [3]}, 'expect': {'data': 5}},"
	    "  {'use': 'si_fail', 'with': {'code': 1199000}, 'name': 'n'}]}");
	expect_steps("tmpl.json", "["
	    "{'path': '/si', 'body': {'biz': 1, 'list': [3]},"
	    " 'expect': {'code': 1199006, 'status': 200, 'result': false, 'data': 5}},"
	    "{'path': '/si', 'body': {'biz': 1, 'm': 60, 'list': [1, 2]},"
	    " 'expect': {'code': 1199000, 'status': 200, 'result': false, 'data': null}, 'name': 'n'}]");
	put("tmpl_unknown.json", "{'steps': [{'use': 'nope', 'path': '/'}]}");
	expect_error("tmpl_unknown.json", "no template nope");
	put("tmpl_cycle.json", "{'defs': {'a': {'use': 'b'}, 'b': {'use': 'a'}},"
	    " 'steps': [{'use': 'a', 'path': '/'}]}");
	expect_error("tmpl_cycle.json", "too deep");
	put("unset_left.json", "{'steps': [{'path': '/', 'body': {'a': '$unset'}}]}");
	expect_error("unset_left.json", "$unset");
}

static void
test_params(void **state)
{
	(void)state;
	put("params.json", "{'with': {'v': [1, 'x'], 'o': {'k': 'deep'}, 's': 'str'},"
	    " 'steps': [{'with': {'n': 7}, 'path': '/$(s)/$(n)', 'body': {'a': '$(v)', 'b': '$(o.k)',"
	    " 'key_$(s)': 'v=$(v)', 'shell': '$(rm -rf /) $( $(1x) ${v}', 'n': '$(n)', 'i': '$(v.1)'}}]}");
	expect_steps("params.json", "[{'path': '/str/7', 'body': {'a': [1, 'x'], 'b': 'deep',"
	    " 'key_str': 'v=[1,\\'x\\']', 'shell': '$(rm -rf /) $( $(1x) ${v}', 'n': 7, 'i': 'x'}}]");
	put("param_unknown.json", "{'steps': [{'path': '/$(nope)'}]}");
	expect_error("param_unknown.json", "no parameter $(nope)");
}

static void
test_matrix(void **state)
{
	(void)state;
	put("matrix.json", "{'steps': [{'matrix': {'cols': ['a', 'code'], 'rows': [['x', 1], ['y', 2]],"
	    " 'each': {'v': [true, null]}}, 'with': {'label': '$(a)-$(v)'},"
	    " 'steps': [{'name': '$(label)', 'body': {'$(a)': '$(v)'}, 'expect': {'code': '$(code)'}}]},"
	    " {'matrix': [{'p': 1}], 'steps': [{'matrix': {'each': {'q': [2, 3]}},"
	    "  'steps': [{'body': ['$(p)', '$(q)']}]}]},"
	    " {'with': {'g': 'group'}, 'steps': [{'path': '/$(g)'}, {'path': '/$(g)2'}]}]}");
	expect_steps("matrix.json", "["
	    "{'name': 'x-true', 'body': {'x': true}, 'expect': {'code': 1}},"
	    "{'name': 'x-null', 'body': {'x': null}, 'expect': {'code': 1}},"
	    "{'name': 'y-true', 'body': {'y': true}, 'expect': {'code': 2}},"
	    "{'name': 'y-null', 'body': {'y': null}, 'expect': {'code': 2}},"
	    "{'body': [1, 2]}, {'body': [1, 3]}, {'path': '/group'}, {'path': '/group2'}]");
	put("matrix_empty.json", "{'steps': [{'matrix': {'each': {'a': []}}, 'steps': [{'path': '/'}]}]}");
	expect_error("matrix_empty.json", "matrix makes no rows");
	put("matrix_short.json", "{'steps': [{'matrix': {'cols': ['a', 'b'], 'rows': [[1]]},"
	    " 'steps': [{'path': '/'}]}]}");
	expect_error("matrix_short.json", "1 values for 2 cols");
	put("matrix_key.json", "{'steps': [{'matrix': {'each': {'a': [1]}}, 'step': {'path': '/'}}]}");
	expect_error("matrix_key.json", "unknown key step");
}

static void
test_str(void **state)
{
	(void)state;
	put("str.json", "{'steps': [{'matrix': {'each': {'n': [2]}}, 'steps': [{'path': '/',"
	    " 'body': {'s': {'$str': [' ', ['\\u00e9', '$(n)'], ['ab', 0], 'z']}}}]}]}");
	expect_steps("str.json", "[{'path': '/', 'body': {'s': ' \\u00e9\\u00e9z'}}]");
	put("str_bad.json", "{'steps': [{'path': '/', 'body': {'$str': [['a', -1]]}}]}");
	expect_error("str_bad.json", "$str piece 0");
}

static void
test_include_import(void **state)
{
	char sub[300];

	(void)state;
	snprintf(sub, sizeof sub, "%s/lib", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	put("lib/defs.json", "{'defs': {'ok': {'expect': {'code': 0}}, 'other': {'x': 1}}}");
	put("lib/fix.json", "{'import': ['defs.json'], 'with': {'host': 1},"
	    " 'steps': [{'use': 'ok', 'path': '/h', 'body': {'id': '$(host)'}}]}");
	put("inc.json", "{'import': ['lib/defs.json'], 'defs': {'other': {'y': 2}},"
	    " 'with': {'h': 9}, 'steps': [{'include': 'lib/fix.json'},"
	    " {'include': 'lib/fix.json', 'with': {'host': '$(h)'}}, {'use': 'other', 'sql': 's'}]}");
	expect_steps("inc.json", "[{'expect': {'code': 0}, 'path': '/h', 'body': {'id': 1}},"
	    "{'expect': {'code': 0}, 'path': '/h', 'body': {'id': 9}}, {'y': 2, 'sql': 's'}]");
	put("lib/needs.json", "{'steps': [{'path': '/$(h)'}]}");
	put("inc_scope.json", "{'with': {'h': 1}, 'steps': [{'include': 'lib/needs.json'}]}");
	expect_error("inc_scope.json", "no parameter $(h)");
	put("inc_loop.json", "{'steps': [{'include': 'inc_loop.json'}]}");
	expect_error("inc_loop.json", "too deep");
	put("inc_missing.json", "{'steps': [{'include': 'lib/none.json'}]}");
	expect_error("inc_missing.json", "lib/none.json");
}

static void
test_variants(void **state)
{
	struct sbuf err = {0};
	json_t *runs, *want;

	(void)state;
	put("var.json", "{'with': {'p': '/native'}, 'variants': [{'name': 'esb', 'with': {'p': '/esb'}},"
	    " {'name': 'native'}], 'steps': [{'path': '$(p)/x'}]}");
	runs = load("var.json", &err);
	assert_non_null(runs);
	want = json_pack("[{s:s, s:[{s:s}]}, {s:s, s:[{s:s}]}]", "name", "esb", "steps", "path",
	    "/esb/x", "name", "native", "steps", "path", "/native/x");
	assert_true(json_equal(runs, want));
	json_decref(runs);
	json_decref(want);
	sb_free(&err);
	put("var_empty.json", "{'variants': [], 'steps': []}");
	expect_error("var_empty.json", "variants");
	put("file_key.json", "{'step': []}");
	expect_error("file_key.json", "unknown key step");
}

static void
test_race_lanes(void **state)
{
	(void)state;
	put("race.json", "{'defs': {'pd': {'path': '/d', 'body': {'biz': 1, 'ids': '$(ids)'}},"
	    "  'ok': {'expect_codes': {'0': 1}}},"
	    " 'with': {'n': 16},"
	    " 'steps': [{'name': 'r', 'with': {'ids': [5]}, 'repeat': 2, 'race': ["
	    "  {'use': ['pd', 'ok']},"
	    "  {'use': 'pd', 'with': {'ids': [6]}, 'parallel': '$(n)', 'expect_one_of': [{'code': 0}]}],"
	    "  'sql': 'SELECT $(n)'}]}");
	expect_steps("race.json", "[{'name': 'r', 'repeat': 2, 'sql': 'SELECT 16', 'race': ["
	    "{'path': '/d', 'body': {'biz': 1, 'ids': [5]}, 'expect_codes': {'0': 1}},"
	    "{'path': '/d', 'body': {'biz': 1, 'ids': [6]}, 'parallel': 16,"
	    " 'expect_one_of': [{'code': 0}]}]}]");
	put("race_lane.json", "{'steps': [{'race': ['x']}]}");
	expect_error("race_lane.json", "race[0]: a lane must be an object");
	put("race_param.json", "{'steps': [{'race': [{'path': '/$(nope)'}]}]}");
	expect_error("race_param.json", "no parameter $(nope)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_steps_unchanged),
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_str),
		cmocka_unit_test(test_include_import),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_race_lanes),
	};
	char cmd[300];
	int failed;

	if (mkdtemp(dir) == NULL)
		return 1;
	failed = cmocka_run_group_tests_name("load", tests, NULL, NULL);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		failed++;
	return failed == 0 ? 0 : 1;
}
