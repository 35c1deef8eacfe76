/* src/api/procjson: process_info and template spec decoding and encoding. */
#include "unit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/procjson.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define BASE "p"
/* The two required attributes, valid, to put in front of a case. */
#define NAMES "'bk_process_name': 'n', 'bk_func_name': 'f'"

/* The process_info of seed-api-docs/create_service_instance.v2.md, as is. */
static const char seed_info[] =
    "{\"bk_supplier_account\": \"0\","
    " \"bind_info\": [{\"enable\": false, \"ip\": \"127.0.0.1\", \"port\": \"80\","
    "   \"protocol\": \"1\", \"template_row_id\": 1234}],"
    " \"description\": \"\", \"start_cmd\": \"\", \"restart_cmd\": \"\","
    " \"pid_file\": \"\", \"auto_start\": false, \"timeout\": 30,"
    " \"auto_time_gap\": 60, \"reload_cmd\": \"\", \"bk_func_name\": \"java\","
    " \"work_path\": \"/data/bkee\", \"stop_cmd\": \"\", \"face_stop_cmd\": \"\","
    " \"port\": \"8008,8443\", \"bk_process_name\": \"job_java\", \"user\": \"\","
    " \"proc_num\": 1, \"priority\": 1, \"bk_biz_id\": 2, \"bk_func_id\": \"\","
    " \"bk_process_id\": 1}";

/* Parses test JSON written with ' for " (none of the cases needs a '). */
static json_t *
load(const char *text)
{
	char *buf = strdup(text);
	json_error_t je;
	json_t *j;

	assert_non_null(buf);
	for (char *c = buf; *c != '\0'; c++)
		if (*c == '\'')
			*c = '"';
	j = json_loads(buf, JSON_DECODE_ANY, &je);
	if (j == NULL)
		fail_msg("bad test JSON (%s): %s", je.text, buf);
	free(buf);
	return j;
}

/* Decodes text at BASE into v; the first error, or NULL. */
static const struct err *
decode(const char *text, struct proc_values *v)
{
	struct err e = { 0 };
	json_t *j = load(text);

	memset(v, 0, sizeof(*v));
	assert_int_equal(procjson_decode(j, BASE, v, &e), 0);
	assert_false(err_isset(&e));
	json_decref(j);
	return proc_values_first_error(v, NULL, NULL);
}

static void
check_error(const char *text, const struct err *got, int code, const char *path,
    const char *msg_part)
{
	if (got == NULL)
		fail_msg("%s: no error, expected %d at %s", text, code, path);
	if (got->code != code || strcmp(got->path, path) != 0)
		fail_msg("%s: got %d at %s (%s), expected %d at %s", text, got->code,
		    got->path, got->msg, code, path);
	if (msg_part != NULL && strstr(got->msg, msg_part) == NULL)
		fail_msg("%s: message \"%s\" lacks \"%s\"", text, got->msg, msg_part);
	/* the message names the field by its path first (api-contract.md §2) */
	assert_int_equal(strncmp(got->msg, path, strlen(path)), 0);
}

static void
expect_error(const char *text, int code, const char *path, const char *msg_part)
{
	struct proc_values v;

	check_error(text, decode(text, &v), code, path, msg_part);
	proc_values_clear(&v);
}

static void
expect_ok(const char *text)
{
	struct proc_values v;
	const struct err *e = decode(text, &v);

	if (e != NULL)
		fail_msg("%s: unexpected error %s", text, e->msg);
	proc_values_clear(&v);
}

static void
test_decode_seed(void **state)
{
	struct proc_values v;
	const struct bind_row *r;

	(void)state;
	assert_null(decode(seed_info, &v));
	assert_int_equal(v.attr[PAI_PROCESS_NAME].state, PV_SET);
	assert_string_equal(v.attr[PAI_PROCESS_NAME].s, "job_java");
	assert_string_equal(v.attr[PAI_FUNC_NAME].s, "java");
	assert_string_equal(v.attr[PAI_WORK_PATH].s, "/data/bkee");
	assert_int_equal(v.attr[PAI_DESCRIPTION].state, PV_SET);
	assert_string_equal(v.attr[PAI_DESCRIPTION].s, "");
	assert_int_equal(v.attr[PAI_TIMEOUT].i, 30);
	assert_int_equal(v.attr[PAI_AUTO_TIME_GAP].i, 60);
	assert_int_equal(v.attr[PAI_PROC_NUM].i, 1);
	assert_int_equal(v.attr[PAI_PRIORITY].i, 1);
	assert_int_equal(v.attr[PAI_AUTO_START].state, PV_SET);
	assert_false(v.attr[PAI_AUTO_START].b);
	/* not in the example */
	assert_int_equal(v.attr[PAI_START_PARAM_REGEX].state, PV_ABSENT);
	assert_int_equal(v.attr[PAI_START_CHECK_SECS].state, PV_ABSENT);
	assert_int_equal(v.attr[PAI_BIND_INFO].state, PV_SET);
	assert_int_equal(v.nrows, 1);
	r = &v.rows[0];
	assert_null(r->bad);
	assert_int_equal(r->key[BKI_ENABLE].state, PV_SET);
	assert_false(r->key[BKI_ENABLE].b);
	assert_string_equal(r->key[BKI_IP].s, "127.0.0.1");
	assert_string_equal(r->key[BKI_PORT].s, "80");
	assert_string_equal(r->key[BKI_PROTOCOL].s, "1");
	assert_int_equal(r->key[BKI_TEMPLATE_ROW_ID].i, 1234);
	proc_values_clear(&v);
}

/* Server-owned and unknown keys: ignored whatever their type (§5). */
static void
test_decode_ignored_keys(void **state)
{
	struct proc_values v;
	json_t *out;

	(void)state;
	assert_null(decode("{" NAMES ", 'bk_process_id': 'x', 'bk_biz_id': [1],"
	    " 'bk_supplier_account': 5, 'service_instance_id': {}, 'create_time': 1.5,"
	    " 'last_time': true, 'port': 8080, 'whatever': null}", &v));
	out = procjson_encode(&v);
	assert_non_null(out);
	assert_int_equal(json_object_size(out), PROC_ATTR_COUNT);
	assert_null(json_object_get(out, "port"));
	assert_null(json_object_get(out, "bk_process_id"));
	json_decref(out);
	proc_values_clear(&v);
}

static void
test_wrong_types(void **state)
{
	static const struct { const char *json, *path, *msg; } cases[] = {
		{ "{" NAMES ", 'bind_info': [{'port': 80}]}", BASE ".bind_info[0].port",
		  "must be a string, got an integer" },
		{ "{" NAMES ", 'bind_info': [{'enable': 'true'}]}", BASE ".bind_info[0].enable",
		  "must be a boolean, got a string" },
		{ "{" NAMES ", 'bind_info': [{'template_row_id': '1'}]}",
		  BASE ".bind_info[0].template_row_id", "must be an integer, got a string" },
		{ "{" NAMES ", 'bind_info': [{'row_id': '1'}]}", BASE ".bind_info[0].row_id",
		  "must be an integer" },
		{ "{" NAMES ", 'bind_info': [{'ip': 1}]}", BASE ".bind_info[0].ip", NULL },
		{ "{" NAMES ", 'bind_info': [{'protocol': 1}]}", BASE ".bind_info[0].protocol", NULL },
		{ "{" NAMES ", 'bind_info': {}}", BASE ".bind_info",
		  "must be an array of bind rows or null, got an object" },
		{ "{" NAMES ", 'bind_info': '80'}", BASE ".bind_info", NULL },
		{ "{" NAMES ", 'bind_info': true}", BASE ".bind_info", NULL },
		{ "{" NAMES ", 'bind_info': [{}, 1]}", BASE ".bind_info[1]",
		  "must be a bind row object, got an integer" },
		{ "{" NAMES ", 'bind_info': [[]]}", BASE ".bind_info[0]", NULL },
		{ "{" NAMES ", 'bind_info': [null]}", BASE ".bind_info[0]", NULL },
		{ "{" NAMES ", 'proc_num': 1.5}", BASE ".proc_num",
		  "must be an integer, got a number that is not a 64-bit integer" },
		{ "{" NAMES ", 'proc_num': 30.0}", BASE ".proc_num", NULL },
		{ "{" NAMES ", 'proc_num': 1e2}", BASE ".proc_num", NULL },
		{ "{" NAMES ", 'proc_num': '30'}", BASE ".proc_num", "got a string" },
		{ "{" NAMES ", 'proc_num': true}", BASE ".proc_num", "got a boolean" },
		{ "{" NAMES ", 'auto_start': 'true'}", BASE ".auto_start", NULL },
		{ "{" NAMES ", 'auto_start': 1}", BASE ".auto_start", NULL },
		{ "{" NAMES ", 'description': []}", BASE ".description", "got an array" },
		{ "{'bk_process_name': 5, 'bk_func_name': 'f'}", BASE ".bk_process_name", NULL },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		expect_error(cases[i].json, ERR_WRONG_TYPE, cases[i].path, cases[i].msg);
}

/* Every attribute, from the table: a value of another JSON type. */
static void
test_wrong_type_every_attr(void **state)
{
	static const char *const wrong[] = {
		[PA_STR] = "1", [PA_INT] = "'1'", [PA_BOOL] = "'true'", [PA_BIND] = "{}",
	};

	(void)state;
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++) {
		char json[256], path[64];

		snprintf(json, sizeof(json), "{" NAMES ", '%s': %s}", proc_attrs[i].name,
		    wrong[proc_attrs[i].kind]);
		snprintf(path, sizeof(path), BASE ".%s", proc_attrs[i].name);
		expect_error(json, ERR_WRONG_TYPE, path, NULL);
	}
}

static void
test_bad_bind_values(void **state)
{
	static const struct { const char *json, *path, *msg; } cases[] = {
		{ "{" NAMES ", 'bind_info': [{'port': '80', 'foo': 1}]}", BASE ".bind_info[0].foo",
		  "unknown key; a bind_info row takes enable, ip, port, protocol, template_row_id" },
		/* the first row fault is kept: input order */
		{ "{" NAMES ", 'bind_info': [{'b': 1, 'a': 2}]}", BASE ".bind_info[0].b", NULL },
		{ "{" NAMES ", 'bind_info': [{'row_id': 1, 'template_row_id': 2}]}",
		  BASE ".bind_info[0].row_id", "differs from template_row_id" },
		{ "{" NAMES ", 'bind_info': [{}, {'port': '70000'}]}", BASE ".bind_info[1].port",
		  BASE ".bind_info[1].port: \"70000\" is not a port (1-65535), a range "
		  "\"8000-8010\", or a comma list of those" },
		{ "{" NAMES ", 'bind_info': [{'port': '80,80'}]}", BASE ".bind_info[0].port", "overlap" },
		{ "{" NAMES ", 'bind_info': [{'port': '0'}]}", BASE ".bind_info[0].port", NULL },
		{ "{" NAMES ", 'bind_info': [{'port': '10-5'}]}", BASE ".bind_info[0].port", NULL },
		{ "{" NAMES ", 'bind_info': [{'port': '1-10,10-20'}]}", BASE ".bind_info[0].port", NULL },
		{ "{" NAMES ", 'bind_info': [{'port': '080'}]}", BASE ".bind_info[0].port", NULL },
		{ "{" NAMES ", 'bind_info': [{'port': '+80'}]}", BASE ".bind_info[0].port", NULL },
		{ "{" NAMES ", 'bind_info': [{'port': ' 80'}]}", BASE ".bind_info[0].port", NULL },
		{ "{" NAMES ", 'bind_info': [{'port': '80, 443'}]}", BASE ".bind_info[0].port", NULL },
		{ "{" NAMES ", 'bind_info': [{'protocol': 'tcp'}]}", BASE ".bind_info[0].protocol",
		  "is not a protocol" },
		{ "{" NAMES ", 'bind_info': [{'protocol': '5'}]}", BASE ".bind_info[0].protocol", NULL },
		{ "{" NAMES ", 'bind_info': [{'protocol': ' 1'}]}", BASE ".bind_info[0].protocol", NULL },
		{ "{" NAMES ", 'bind_info': [{'ip': '1.2.3'}]}", BASE ".bind_info[0].ip",
		  "is not an IPv4 or IPv6 address" },
		{ "{" NAMES ", 'bind_info': [{'ip': ' 10.0.0.1'}]}", BASE ".bind_info[0].ip", NULL },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		expect_error(cases[i].json, ERR_BAD_VALUE, cases[i].path, cases[i].msg);
	/* valid edge cases of the same keys */
	expect_ok("{" NAMES ", 'bind_info': [{'port': ''}, {'port': '8000-8000'},"
	    " {'port': '443,80', 'ip': '::1', 'protocol': '1'}, {'ip': '', 'protocol': ''},"
	    " {'ip': null, 'port': null, 'protocol': null, 'enable': null, 'template_row_id': null}]}");
}

/* A row fault comes before the row's key errors (proc_values_first_error),
 * and a wrong type inside the row is still found. */
static void
test_row_fault_and_key_error(void **state)
{
	struct proc_values v;
	const char *text = "{" NAMES ", 'bind_info': [{'port': 80, 'zzz': 1}]}";

	(void)state;
	check_error(text, decode(text, &v), ERR_BAD_VALUE, BASE ".bind_info[0].zzz", NULL);
	assert_int_equal(v.rows[0].key[BKI_PORT].state, PV_BAD);
	assert_int_equal(v.rows[0].key[BKI_PORT].bad->code, ERR_WRONG_TYPE);
	proc_values_clear(&v);
}

static void
test_row_id_alias(void **state)
{
	static const struct { const char *row; enum pv_state st; int64_t id; } cases[] = {
		{ "{'row_id': 7}", PV_SET, 7 },
		{ "{'row_id': 7, 'template_row_id': 7}", PV_SET, 7 },
		{ "{'template_row_id': 7, 'row_id': null}", PV_SET, 7 },
		{ "{'template_row_id': null, 'row_id': 7}", PV_SET, 7 },
		{ "{'template_row_id': null}", PV_NULL, 0 },
		{ "{}", PV_ABSENT, 0 },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		char json[256];
		struct proc_values v;
		const struct err *e;

		snprintf(json, sizeof(json), "{" NAMES ", 'bind_info': [%s]}", cases[i].row);
		e = decode(json, &v);
		if (e != NULL)
			fail_msg("%s: %s", json, e->msg);
		assert_int_equal(v.rows[0].key[BKI_TEMPLATE_ROW_ID].state, cases[i].st);
		assert_int_equal(v.rows[0].key[BKI_TEMPLATE_ROW_ID].i, cases[i].id);
		proc_values_clear(&v);
	}
}

/* Required attributes, from the table: missing, null, "" and blank. */
static void
test_required(void **state)
{
	static const char *const forms[] = { NULL, "null", "''", "'  \\t\\r\\n '" };
	struct proc_values v;

	(void)state;
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++) {
		if (!(proc_attrs[i].flags & PA_REQUIRED))
			continue;
		for (size_t f = 0; f < N(forms); f++) {
			char json[512] = "{", path[64];
			for (size_t j = 0; j < PROC_ATTR_COUNT; j++) {
				if (!(proc_attrs[j].flags & PA_REQUIRED) || (j == i && forms[f] == NULL))
					continue;
				snprintf(json + strlen(json), sizeof(json) - strlen(json),
				    "%s'%s': %s", json[1] ? ", " : "", proc_attrs[j].name,
				    j == i ? forms[f] : "'x'");
			}
			strcat(json, "}");
			snprintf(path, sizeof(path), BASE ".%s", proc_attrs[i].name);
			expect_error(json, ERR_REQUIRED, path, "is required");
		}
	}
	/* process_info null or missing is {} (api-contract.md §10) */
	check_error("null", decode("null", &v), ERR_REQUIRED, BASE ".bk_process_name", NULL);
	proc_values_clear(&v);
	{
		struct err e = { 0 };
		memset(&v, 0, sizeof(v));
		assert_int_equal(procjson_decode(NULL, BASE, &v, &e), 0);
		check_error("NULL", proc_values_first_error(&v, NULL, NULL), ERR_REQUIRED,
		    BASE ".bk_process_name", NULL);
		proc_values_clear(&v);
	}
}

/* A string of exactly n bytes, of 2-byte characters (plus one 'a' if odd),
 * surrounded by blanks that trimming removes. */
static char *
string_of(size_t n)
{
	char *s = malloc(n + 8);

	assert_non_null(s);
	strcpy(s, " \t");
	for (size_t i = 0; i + 1 < n; i += 2)
		strcat(s, "\xc3\xa9");
	if (n % 2)
		strcat(s, "a");
	strcat(s, "\n ");
	return s;
}

/* String attributes, from the table: max bytes fit, max + 1 do not. */
static void
test_lengths(void **state)
{
	(void)state;
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++) {
		const struct proc_attr *a = &proc_attrs[i];

		if (a->kind != PA_STR)
			continue;
		for (int over = 0; over <= 1; over++) {
			char *val = string_of((size_t)a->max + (size_t)over), path[64];
			json_t *j = load("{" NAMES "}");
			struct proc_values v = { 0 };
			struct err e = { 0 };
			const struct err *got;

			json_object_set_new(j, a->name, json_string(val));
			assert_int_equal(procjson_decode(j, BASE, &v, &e), 0);
			got = proc_values_first_error(&v, NULL, NULL);
			snprintf(path, sizeof(path), BASE ".%s", a->name);
			if (over) {
				char limit[64];
				snprintf(limit, sizeof(limit), "the limit is %lld bytes", (long long)a->max);
				check_error(a->name, got, ERR_TOO_LONG, path, limit);
			} else {
				if (got != NULL)
					fail_msg("%s: %s", a->name, got->msg);
				assert_int_equal(strlen(v.attr[i].s), (size_t)a->max);
			}
			proc_values_clear(&v);
			json_decref(j);
			free(val);
		}
	}
}

/* Integer attributes, from the table: both edges in, one past each out. */
static void
test_ranges(void **state)
{
	(void)state;
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++) {
		const struct proc_attr *a = &proc_attrs[i];
		const int64_t vals[] = { a->min, a->max, a->min - 1, a->max + 1 };

		if (a->kind != PA_INT)
			continue;
		for (size_t k = 0; k < N(vals); k++) {
			char json[256], path[64];
			snprintf(json, sizeof(json), "{" NAMES ", '%s': %lld}", a->name,
			    (long long)vals[k]);
			snprintf(path, sizeof(path), BASE ".%s", a->name);
			if (k < 2) {
				struct proc_values v;
				assert_null(decode(json, &v));
				assert_int_equal(v.attr[i].i, vals[k]);
				proc_values_clear(&v);
			} else {
				expect_error(json, ERR_BAD_VALUE, path, "is out of range");
			}
		}
	}
}

static void
test_trimming(void **state)
{
	struct proc_values v;

	(void)state;
	assert_null(decode("{'bk_process_name': ' \\tjob\\r\\n', 'bk_func_name': 'java ',"
	    " 'start_cmd': '\\n./start.sh  -x ', 'user': '   '}", &v));
	assert_string_equal(v.attr[PAI_PROCESS_NAME].s, "job");
	assert_string_equal(v.attr[PAI_FUNC_NAME].s, "java");
	assert_string_equal(v.attr[PAI_START_CMD].s, "./start.sh  -x");
	/* optional and blank: set, and empty */
	assert_int_equal(v.attr[PAI_USER].state, PV_SET);
	assert_string_equal(v.attr[PAI_USER].s, "");
	proc_values_clear(&v);
}

static void
test_base_path(void **state)
{
	struct proc_values v = { 0 };
	struct err e = { 0 };
	json_t *j = load("{'bk_process_name': 'n', 'bk_func_name': 'f', 'proc_num': 0}");
	const char *base = "instances[3].processes[0].process_info";

	(void)state;
	assert_int_equal(procjson_decode(j, "", &v, &e), 0);
	assert_string_equal(proc_values_first_error(&v, NULL, NULL)->path, "proc_num");
	proc_values_clear(&v);
	assert_int_equal(procjson_decode(j, base, &v, &e), 0);
	assert_string_equal(proc_values_first_error(&v, NULL, NULL)->path,
	    "instances[3].processes[0].process_info.proc_num");
	proc_values_clear(&v);
	json_decref(j);
}

/* Unset values read back as the contract's defaults (§5, §10). */
static void
test_encode_defaults(void **state)
{
	struct proc_values v = { 0 };
	json_t *out;
	const char *key;
	json_t *val;
	size_t i = 0;

	(void)state;
	out = procjson_encode(&v);
	assert_non_null(out);
	assert_int_equal(json_object_size(out), PROC_ATTR_COUNT);
	json_object_foreach(out, key, val) {
		/* table order */
		assert_string_equal(key, proc_attrs[i].name);
		switch (proc_attrs[i].kind) {
		case PA_STR:
			assert_string_equal(json_string_value(val), "");
			break;
		case PA_INT:
		case PA_BIND:
			assert_true(json_is_null(val));
			break;
		case PA_BOOL:
			assert_true(json_is_false(val));
			break;
		}
		i++;
	}
	json_decref(out);
	/* explicit null bind_info is null too; an empty array stays [] */
	v.attr[PAI_BIND_INFO].state = PV_NULL;
	out = procjson_encode(&v);
	assert_true(json_is_null(json_object_get(out, "bind_info")));
	json_decref(out);
	v.attr[PAI_BIND_INFO].state = PV_SET;
	out = procjson_encode(&v);
	assert_true(json_is_array(json_object_get(out, "bind_info")));
	assert_int_equal(json_array_size(json_object_get(out, "bind_info")), 0);
	json_decref(out);
}

static void
expect_json(json_t *got, const char *want_text)
{
	json_t *want = load(want_text);

	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);
		fail_msg("got %s\nwant %s", g, w);
	}
	json_decref(want);
}

static void
test_encode_rows(void **state)
{
	struct proc_values v;
	json_t *out;

	(void)state;
	assert_null(decode("{" NAMES ", 'bind_info': []}", &v));
	assert_int_equal(v.attr[PAI_BIND_INFO].state, PV_SET);
	assert_int_equal(v.nrows, 0);
	out = procjson_encode(&v);
	expect_json(json_object_get(out, "bind_info"), "[]");
	json_decref(out);
	proc_values_clear(&v);

	assert_null(decode("{" NAMES ", 'bind_info': [{'port': '80'}, {'row_id': 3, 'enable': true}]}", &v));
	out = procjson_encode(&v);
	expect_json(json_object_get(out, "bind_info"),
	    "[{'enable': false, 'ip': '', 'port': '80', 'protocol': '', 'template_row_id': 0},"
	    " {'enable': true, 'ip': '', 'port': '', 'protocol': '', 'template_row_id': 3}]");
	json_decref(out);
	proc_values_clear(&v);
}

/* The seed example, decoded then encoded: the §8 property object. */
static void
test_encode_seed(void **state)
{
	struct proc_values v, w;
	json_t *out, *again;
	struct err e = { 0 };

	(void)state;
	assert_null(decode(seed_info, &v));
	out = procjson_encode(&v);
	expect_json(out, "{'bk_process_name': 'job_java', 'bk_func_name': 'java',"
	    " 'bk_func_id': '', 'bk_start_param_regex': '', 'description': '', 'user': '',"
	    " 'work_path': '/data/bkee', 'pid_file': '', 'start_cmd': '', 'stop_cmd': '',"
	    " 'restart_cmd': '', 'face_stop_cmd': '', 'reload_cmd': '', 'proc_num': 1,"
	    " 'priority': 1, 'timeout': 30, 'auto_time_gap': 60, 'bk_start_check_secs': null,"
	    " 'auto_start': false, 'bind_info': [{'enable': false, 'ip': '127.0.0.1',"
	    " 'port': '80', 'protocol': '1', 'template_row_id': 1234}]}");
	/* what we encode decodes to the same object again */
	memset(&w, 0, sizeof(w));
	assert_int_equal(procjson_decode(out, BASE, &w, &e), 0);
	assert_null(proc_values_first_error(&w, NULL, NULL));
	again = procjson_encode(&w);
	assert_true(json_equal(out, again));
	json_decref(again);
	json_decref(out);
	proc_values_clear(&v);
	proc_values_clear(&w);
}

/* ---- templates ---- */

static const char tpl_spec[] =
    "{'bk_process_name': {'value': ' job ', 'as_default_value': false},"
    " 'bk_func_name': {'value': 'java'},"
    " 'proc_num': {'value': 3, 'as_default_value': true},"
    " 'description': {'value': 'd', 'as_default_value': false},"
    " 'auto_start': {'value': true, 'as_default_value': null},"
    " 'user': {'value': null, 'as_default_value': true},"
    " 'timeout': null,"
    " 'bk_biz_id': 5, 'unknown': 'x',"
    " 'bind_info': {'as_default_value': 'ignored', 'value': ["
    "   {'row_id': 1, 'ip': {'value': '1', 'as_default_value': true},"
    "    'port': {'value': '80', 'as_default_value': false},"
    "    'protocol': {'value': '1', 'as_default_value': true},"
    "    'enable': {'value': true, 'as_default_value': false}},"
    "   {'row_id': 2, 'port': {'value': '8080,8443'}}]}}";

static const char tpl_encoded[] =
    "{'bk_process_name': {'value': 'job', 'as_default_value': true},"
    " 'bk_func_name': {'value': 'java', 'as_default_value': true},"
    " 'description': {'value': 'd', 'as_default_value': false},"
    " 'proc_num': {'value': 3, 'as_default_value': true},"
    " 'user': {'value': null, 'as_default_value': true},"
    " 'auto_start': {'value': true, 'as_default_value': false},"
    " 'bind_info': {'value': ["
    "   {'row_id': 1, 'enable': {'value': true, 'as_default_value': false},"
    "    'ip': {'value': '1', 'as_default_value': true},"
    "    'port': {'value': '80', 'as_default_value': false},"
    "    'protocol': {'value': '1', 'as_default_value': true}},"
    "   {'row_id': 2, 'port': {'value': '8080,8443', 'as_default_value': false}}]}}";

struct tpl {
	struct proc_values v;
	bool locked[PROC_ATTR_COUNT];
	bool (*row_locked)[BIND_KEY_COUNT];
};

static const struct err *
decode_tpl(json_t *spec, struct tpl *t)
{
	struct err e = { 0 };

	memset(t, 0, sizeof(*t));
	assert_int_equal(procjson_decode_template(spec, BASE, &t->v, t->locked,
	    &t->row_locked, &e), 0);
	return proc_values_first_error(&t->v, NULL, NULL);
}

static void
tpl_clear(struct tpl *t)
{
	proc_values_clear(&t->v);
	free(t->row_locked);
	t->row_locked = NULL;
}

static void
test_template_round_trip(void **state)
{
	static const bool want_locked[PROC_ATTR_COUNT] = {
		[PAI_PROCESS_NAME] = true, [PAI_FUNC_NAME] = true, [PAI_PROC_NUM] = true,
		[PAI_USER] = true, /* locked to "not set": listed, so it survives */
	};
	struct tpl t, u;
	json_t *spec = load(tpl_spec), *out, *again;
	const struct err *e;

	(void)state;
	e = decode_tpl(spec, &t);
	if (e != NULL)
		fail_msg("%s", e->msg);
	assert_string_equal(t.v.attr[PAI_PROCESS_NAME].s, "job");
	assert_true(t.locked[PAI_PROCESS_NAME]); /* always locked */
	assert_true(t.locked[PAI_FUNC_NAME]);
	assert_true(t.locked[PAI_PROC_NUM]);
	assert_false(t.locked[PAI_DESCRIPTION]);
	assert_false(t.locked[PAI_AUTO_START]);
	assert_true(t.locked[PAI_USER]); /* locked to "not set" */
	assert_int_equal(t.v.attr[PAI_USER].state, PV_NULL);
	assert_int_equal(t.v.attr[PAI_TIMEOUT].state, PV_NULL);
	assert_int_equal(t.v.attr[PAI_PRIORITY].state, PV_ABSENT);
	assert_int_equal(t.v.nrows, 2);
	assert_int_equal(t.v.rows[0].key[BKI_TEMPLATE_ROW_ID].i, 1);
	assert_int_equal(t.v.rows[1].key[BKI_TEMPLATE_ROW_ID].i, 2);
	assert_true(t.row_locked[0][BKI_IP]);
	assert_true(t.row_locked[0][BKI_PROTOCOL]);
	assert_false(t.row_locked[0][BKI_PORT]);
	assert_false(t.row_locked[0][BKI_ENABLE]);
	assert_false(t.row_locked[1][BKI_PORT]);
	assert_int_equal(t.v.rows[1].key[BKI_IP].state, PV_ABSENT);

	out = procjson_encode_template(&t.v, t.locked,
	    (const bool (*)[BIND_KEY_COUNT])t.row_locked);
	expect_json(out, tpl_encoded);
	/* and back: the same values and locks */
	assert_null(decode_tpl(out, &u));
	assert_memory_equal(u.locked, want_locked, sizeof(u.locked));
	assert_memory_equal(u.row_locked, t.row_locked, 2 * sizeof(*t.row_locked));
	again = procjson_encode_template(&u.v, u.locked,
	    (const bool (*)[BIND_KEY_COUNT])u.row_locked);
	assert_true(json_equal(out, again));
	json_decref(again);
	json_decref(out);
	json_decref(spec);
	tpl_clear(&t);
	tpl_clear(&u);
}

static void
expect_tpl_error(const char *text, int code, const char *path, const char *msg_part)
{
	struct tpl t;
	json_t *spec = load(text);

	check_error(text, decode_tpl(spec, &t), code, path, msg_part);
	tpl_clear(&t);
	json_decref(spec);
}

#define TNAMES "'bk_process_name': {'value': 'n'}, 'bk_func_name': {'value': 'f'}"

static void
test_template_errors(void **state)
{
	static const struct { const char *json; int code; const char *path, *msg; } cases[] = {
		{ "{" TNAMES ", 'proc_num': 3}", ERR_WRONG_TYPE, BASE ".proc_num",
		  "must be an object {\"value\": ..., \"as_default_value\": true|false}" },
		{ "{" TNAMES ", 'proc_num': {'value': 3, 'as_default_value': 'yes'}}",
		  ERR_WRONG_TYPE, BASE ".proc_num.as_default_value", "must be a boolean" },
		{ "{" TNAMES ", 'proc_num': {'value': '3'}}", ERR_WRONG_TYPE, BASE ".proc_num.value", NULL },
		{ "{" TNAMES ", 'proc_num': {'value': 0}}", ERR_BAD_VALUE, BASE ".proc_num.value", NULL },
		{ "{" TNAMES ", 'user': {'value': 1}}", ERR_WRONG_TYPE, BASE ".user.value", NULL },
		{ "{'bk_func_name': {'value': 'f'}}", ERR_REQUIRED, BASE ".bk_process_name.value", NULL },
		{ "{'bk_process_name': {'value': ' '}, 'bk_func_name': {'value': 'f'}}",
		  ERR_REQUIRED, BASE ".bk_process_name.value", NULL },
		{ "{'bk_process_name': {'as_default_value': true}, 'bk_func_name': {'value': 'f'}}",
		  ERR_REQUIRED, BASE ".bk_process_name.value", NULL },
		{ "{" TNAMES ", 'bind_info': {'value': {}}}", ERR_WRONG_TYPE, BASE ".bind_info.value", NULL },
		{ "{" TNAMES ", 'bind_info': 'x'}", ERR_WRONG_TYPE, BASE ".bind_info", NULL },
		{ "{" TNAMES ", 'bind_info': {'value': [3]}}", ERR_WRONG_TYPE, BASE ".bind_info.value[0]", NULL },
		{ "{" TNAMES ", 'bind_info': {'value': [{'row_id': '1'}]}}", ERR_WRONG_TYPE,
		  BASE ".bind_info.value[0].row_id", NULL },
		{ "{" TNAMES ", 'bind_info': {'value': [{'row_id': 1.0}]}}", ERR_WRONG_TYPE,
		  BASE ".bind_info.value[0].row_id", NULL },
		{ "{" TNAMES ", 'bind_info': {'value': [{'row_id': -1}]}}", ERR_BAD_VALUE,
		  BASE ".bind_info.value[0].row_id", "is not a row id" },
		{ "{" TNAMES ", 'bind_info': {'value': [{'row_id': 1}, {'row_id': 2}, {'row_id': 1}]}}",
		  ERR_DUPLICATE, BASE ".bind_info.value[2].row_id",
		  "is also the row_id of " BASE ".bind_info.value[0].row_id" },
		{ "{" TNAMES ", 'bind_info': {'value': [{'row_id': 1, 'template_row_id': 1}]}}",
		  ERR_BAD_VALUE, BASE ".bind_info.value[0].template_row_id",
		  "a template bind_info row takes row_id, enable, ip, port, protocol" },
		{ "{" TNAMES ", 'bind_info': {'value': [{'row_id': 1, 'port': '80'}]}}",
		  ERR_WRONG_TYPE, BASE ".bind_info.value[0].port", NULL },
		{ "{" TNAMES ", 'bind_info': {'value': [{'row_id': 1, 'port': {'value': 80}}]}}",
		  ERR_WRONG_TYPE, BASE ".bind_info.value[0].port.value", NULL },
		{ "{" TNAMES ", 'bind_info': {'value': [{'row_id': 1, 'port': {'value': '0'}}]}}",
		  ERR_BAD_VALUE, BASE ".bind_info.value[0].port.value", NULL },
		/* a template ip is a code, not an address */
		{ "{" TNAMES ", 'bind_info': {'value': [{'row_id': 1, 'ip': {'value': '10.0.0.1'}}]}}",
		  ERR_BAD_VALUE, BASE ".bind_info.value[0].ip.value", "is not a bind ip code" },
		{ "{" TNAMES ", 'bind_info': {'value': [{'row_id': 1, 'ip': {'value': '9'}}]}}",
		  ERR_BAD_VALUE, BASE ".bind_info.value[0].ip.value", NULL },
		{ "{" TNAMES ", 'bind_info': {'value': [{'row_id': 1,"
		  " 'enable': {'value': true, 'as_default_value': 1}}]}}",
		  ERR_WRONG_TYPE, BASE ".bind_info.value[0].enable.as_default_value", NULL },
		/* a bare array of rows: paths as sent */
		{ "{" TNAMES ", 'bind_info': [{'row_id': 1}, {'row_id': 1}]}", ERR_DUPLICATE,
		  BASE ".bind_info[1].row_id", BASE ".bind_info[0].row_id" },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		expect_tpl_error(cases[i].json, cases[i].code, cases[i].path, cases[i].msg);
}

/* Rows without a row_id (missing, null or 0) are numbered after the
 * largest given one, in row order, as bk-cmdb does. */
static void
test_template_row_id_assigned(void **state)
{
	json_t *spec = load("{" TNAMES ", 'bind_info': {'value': ["
	    " {'row_id': 5}, {'port': {'value': '80'}}, {'row_id': 0}, {'row_id': null},"
	    " {'row_id': 2, 'ip': {'as_default_value': true}}]}}");
	static const int64_t want[] = { 5, 6, 7, 8, 2 };
	struct tpl t;
	const struct err *e;
	json_t *out;

	(void)state;
	e = decode_tpl(spec, &t);
	if (e != NULL)
		fail_msg("%s", e->msg);
	assert_int_equal(t.v.nrows, N(want));
	for (size_t r = 0; r < N(want); r++) {
		assert_int_equal(t.v.rows[r].key[BKI_TEMPLATE_ROW_ID].state, PV_SET);
		assert_int_equal(t.v.rows[r].key[BKI_TEMPLATE_ROW_ID].i, want[r]);
	}
	assert_true(t.row_locked[4][BKI_IP]);
	out = procjson_encode_template(&t.v, t.locked,
	    (const bool (*)[BIND_KEY_COUNT])t.row_locked);
	expect_json(out, "{'bk_process_name': {'value': 'n', 'as_default_value': true},"
	    " 'bk_func_name': {'value': 'f', 'as_default_value': true},"
	    " 'bind_info': {'value': [{'row_id': 5},"
	    "  {'row_id': 6, 'port': {'value': '80', 'as_default_value': false}},"
	    "  {'row_id': 7}, {'row_id': 8},"
	    "  {'row_id': 2, 'ip': {'value': null, 'as_default_value': true}}]}}");
	json_decref(out);
	json_decref(spec);
	tpl_clear(&t);
}

static void
test_template_bind_forms(void **state)
{
	static const struct { const char *bind; enum pv_state st; size_t rows; } cases[] = {
		{ "", PV_ABSENT, 0 },
		{ ", 'bind_info': null", PV_NULL, 0 },
		{ ", 'bind_info': {'value': null}", PV_NULL, 0 },
		{ ", 'bind_info': {}", PV_ABSENT, 0 },
		{ ", 'bind_info': {'value': []}", PV_SET, 0 },
		{ ", 'bind_info': []", PV_SET, 0 },
		{ ", 'bind_info': [{'row_id': 4, 'ip': {'value': '8'}}]", PV_SET, 1 },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		char text[256];
		json_t *spec, *out;
		struct tpl t;
		const struct err *e;

		snprintf(text, sizeof(text), "{" TNAMES "%s}", cases[i].bind);
		spec = load(text);
		e = decode_tpl(spec, &t);
		if (e != NULL)
			fail_msg("%s: %s", text, e->msg);
		assert_int_equal(t.v.attr[PAI_BIND_INFO].state, cases[i].st);
		assert_int_equal(t.v.nrows, cases[i].rows);
		assert_true((t.row_locked != NULL) == (cases[i].rows > 0));
		out = procjson_encode_template(&t.v, t.locked,
		    (const bool (*)[BIND_KEY_COUNT])t.row_locked);
		assert_non_null(out);
		assert_true((json_object_get(out, "bind_info") != NULL) == (cases[i].st == PV_SET));
		json_decref(out);
		json_decref(spec);
		tpl_clear(&t);
	}
}

/* ---- copy, and out of memory everywhere ---- */

static void
expect_same(const struct proc_values *a, const struct proc_values *b)
{
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++) {
		assert_int_equal(a->attr[i].state, b->attr[i].state);
		assert_int_equal(a->attr[i].i, b->attr[i].i);
		assert_int_equal(a->attr[i].b, b->attr[i].b);
		assert_true((a->attr[i].s == NULL) == (b->attr[i].s == NULL));
		if (a->attr[i].s != NULL) {
			assert_ptr_not_equal(a->attr[i].s, b->attr[i].s);
			assert_string_equal(a->attr[i].s, b->attr[i].s);
		}
		assert_true((a->attr[i].bad == NULL) == (b->attr[i].bad == NULL));
		if (a->attr[i].bad != NULL)
			assert_memory_equal(a->attr[i].bad, b->attr[i].bad, sizeof(struct err));
	}
	assert_int_equal(a->nrows, b->nrows);
	for (size_t r = 0; r < a->nrows; r++) {
		assert_true((a->rows[r].bad == NULL) == (b->rows[r].bad == NULL));
		for (size_t k = 0; k < BIND_KEY_COUNT; k++) {
			assert_int_equal(a->rows[r].key[k].state, b->rows[r].key[k].state);
			if (a->rows[r].key[k].s != NULL)
				assert_string_equal(a->rows[r].key[k].s, b->rows[r].key[k].s);
		}
	}
}

/* Valid and invalid values, rows and row faults: every owned kind. */
static const char mixed_info[] =
    "{'bk_process_name': 'n', 'bk_func_name': 'f', 'proc_num': 0, 'user': 5,"
    " 'description': 'd', 'auto_start': true,"
    " 'bind_info': [{'ip': '10.0.0.1', 'port': '80'}, {'x': 1, 'port': 8}, 3]}";

static void
test_copy_clear(void **state)
{
	struct proc_values v, c;

	(void)state;
	assert_non_null(decode(mixed_info, &v));
	assert_int_equal(proc_values_copy(&c, &v), 0);
	expect_same(&v, &c);
	proc_values_clear(&v);
	/* the copy owns its own memory */
	assert_string_equal(c.rows[0].key[BKI_IP].s, "10.0.0.1");
	assert_string_equal(c.rows[1].bad->path, BASE ".bind_info[1].x");
	proc_values_clear(&c);
	proc_values_clear(&c); /* clear leaves it reusable */
	assert_null(c.rows);
}

static void
test_copy_oom(void **state)
{
	struct proc_values v, c;

	(void)state;
	long n;

	assert_non_null(decode(mixed_info, &v));
	for (n = 0;; n++) {
		int rc;
		bool fired;

		fault_arm(n, false);
		rc = proc_values_copy(&c, &v);
		fired = fault_disarm();
		if (rc == 0)
			expect_same(&v, &c);
		proc_values_clear(&c);
		if (!fired)
			break;
		assert_int_equal(rc, -1);
	}
	assert_true(n > 10); /* every allocation of the copy was failed once */
	proc_values_clear(&v);
}

/* Decoding with allocation n failing (alone, or with all after it): -1 with
 * 503, or 0 with every error the full decode finds still reported. */
static void
oom_decode(const char *text, bool tpl)
{
	json_t *j = load(text);

	for (int sticky = 0; sticky <= 1; sticky++) {
		long n;
		for (n = 0;; n++) {
			struct tpl t = { 0 };
			struct err e = { 0 };
			int rc;
			bool fired;

			fault_arm(n, sticky);
			rc = tpl ? procjson_decode_template(j, BASE, &t.v, t.locked,
			    &t.row_locked, &e) : procjson_decode(j, BASE, &t.v, &e);
			fired = fault_disarm();
			if (rc != 0) {
				assert_int_equal(e.code, ERR_SERVER);
				assert_int_equal(e.http_status, 503);
				assert_null(t.row_locked);
			} else {
				assert_false(err_isset(&e));
				assert_non_null(proc_values_first_error(&t.v, NULL, NULL));
			}
			tpl_clear(&t);
			if (!fired)
				break;
		}
		assert_true(n > 5);
	}
	json_decref(j);
}

static void
test_decode_oom(void **state)
{
	(void)state;
	oom_decode(mixed_info, false);
	oom_decode("{'bk_process_name': 'n', 'bk_func_name': 'f', 'bind_info': ["
	    "{'row_id': 1, 'template_row_id': 2, 'y': 1}, {'row_id': 'x'}, {'port': 80}]}", false);
	oom_decode("{'bk_process_name': {'value': 'n'}, 'proc_num': {'value': 0},"
	    " 'user': 3, 'bind_info': {'value': [{'row_id': 1, 'port': {'value': '80'}},"
	    " {'row_id': 1, 'q': 2}, 7, {'row_id': 2, 'ip': {'value': 'x'}}]}}", true);
}

/* Encoding with allocation n failing: NULL, nothing leaked; or the right
 * object when nothing failed. */
static void
test_encode_oom(void **state)
{
	struct tpl t;
	json_t *spec = load(tpl_spec), *want_t, *want_p;

	(void)state;
	assert_null(decode_tpl(spec, &t));
	want_t = procjson_encode_template(&t.v, t.locked,
	    (const bool (*)[BIND_KEY_COUNT])t.row_locked);
	want_p = procjson_encode(&t.v);
	assert_non_null(want_t);
	assert_non_null(want_p);
	for (int which = 0; which < 2; which++) {
		long n;
		for (n = 0;; n++) {
			json_t *out;
			bool fired;

			fault_arm(n, false);
			out = which ? procjson_encode_template(&t.v, t.locked,
			    (const bool (*)[BIND_KEY_COUNT])t.row_locked) : procjson_encode(&t.v);
			fired = fault_disarm();
			if (out != NULL)
				assert_true(json_equal(out, which ? want_t : want_p));
			json_decref(out);
			if (!fired)
				break;
		}
		assert_true(n > 20);
	}
	json_decref(want_t);
	json_decref(want_p);
	json_decref(spec);
	tpl_clear(&t);
}

/*
 * procjson_write is the text twin of procjson_encode (the list answer is
 * written with it): both encode the same values to the same object. With
 * allocation n failing, the buffer says so or holds that same text.
 */
static void
test_write_matches_encode(void **state)
{
	static const char *const infos[] = {
		mixed_info,
		"{'bk_process_name': 'n', 'bk_func_name': 'f', 'proc_num': 7, 'bind_info': []}",
		"{'bk_process_name': 'n', 'bk_func_name': 'f', 'bind_info': null, 'priority': -5}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(infos) / sizeof(infos[0]); i++) {
		struct proc_values v;
		json_t *want;
		long n;

		(void)decode(infos[i], &v);
		want = procjson_encode(&v);
		assert_non_null(want);
		for (n = 0;; n++) {
			struct jbuf b;
			bool fired;

			fault_arm(n, false);
			jbuf_init(&b, 16);
			jbuf_open(&b, '{');
			procjson_write(&b, &v);
			jbuf_close(&b, '}');
			fired = fault_disarm();
			if (!jbuf_failed(&b)) {
				json_t *got = json_loads(b.buf, 0, NULL);
				assert_non_null(got);
				assert_true(json_equal(got, want));
				json_decref(got);
			}
			jbuf_free(&b);
			if (!fired)
				break;
		}
		assert_true(n > 3);
		json_decref(want);
		proc_values_clear(&v);
	}
}

/* jbuf_str escapes what JSON needs escaped and nothing else: every byte
 * comes back through a JSON parser unchanged. */
static void
test_jbuf_escape(void **state)
{
	static const char text[] = "a\"b\\c/d\ne\tf\x01g\x1fh\x7fi\xc3\xa9\xe2\x80\xa8j";
	static const char tail[] = ",0,null,false,{\"k\":[1]},{\"x\":\"\",\"y\":[]}]";
	struct jbuf b;
	json_t *got;

	(void)state;
	jbuf_init(&b, 4);
	jbuf_open(&b, '[');
	jbuf_str(&b, text);
	jbuf_int(&b, INT64_MIN);
	jbuf_int(&b, 0);
	jbuf_null(&b);
	jbuf_bool(&b, false);
	jbuf_json(&b, "{\"k\":[1]}", 9);
	jbuf_open(&b, '{');
	jbuf_key(&b, "x");
	jbuf_str(&b, "");
	jbuf_key(&b, "y");
	jbuf_open(&b, '[');
	jbuf_close(&b, ']');
	jbuf_close(&b, '}');
	jbuf_close(&b, ']');
	assert_false(jbuf_failed(&b));
	got = json_loads(b.buf, 0, NULL);
	assert_non_null(got);
	assert_string_equal(json_string_value(json_array_get(got, 0)), text);
	assert_true(json_integer_value(json_array_get(got, 1)) == INT64_MIN);
	assert_string_equal(b.buf + b.len - (sizeof(tail) - 1), tail);
	json_decref(got);
	jbuf_free(&b);
}

int
run_procjson_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_seed),
		cmocka_unit_test(test_decode_ignored_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_wrong_type_every_attr),
		cmocka_unit_test(test_bad_bind_values),
		cmocka_unit_test(test_row_fault_and_key_error),
		cmocka_unit_test(test_row_id_alias),
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_trimming),
		cmocka_unit_test(test_base_path),
		cmocka_unit_test(test_encode_defaults),
		cmocka_unit_test(test_encode_rows),
		cmocka_unit_test(test_encode_seed),
		cmocka_unit_test(test_template_round_trip),
		cmocka_unit_test(test_template_errors),
		cmocka_unit_test(test_template_bind_forms),
		cmocka_unit_test(test_template_row_id_assigned),
		cmocka_unit_test(test_copy_clear),
		cmocka_unit_test(test_copy_oom),
		cmocka_unit_test(test_decode_oom),
		cmocka_unit_test(test_encode_oom),
		cmocka_unit_test(test_write_matches_encode),
		cmocka_unit_test(test_jbuf_escape),
	};

	return cmocka_run_group_tests_name("procjson", tests, NULL, NULL);
}
