/* src/common: port / protocol / ip syntax, str (trim, blank, UTF-8), jpath, err,
 * and the proc_attr helpers that procjson does not exercise on its own. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/jpath.h"
#include "common/proc_attr.h"
#include "common/str.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef bool (*syntax_fn)(const char *, char *, size_t);

static void
expect_syntax(syntax_fn fn, const char *const *vals, size_t n, bool valid)
{
	for (size_t i = 0; i < n; i++) {
		char why[256] = "";
		bool ok = fn(vals[i], why, sizeof(why));

		if (ok != valid)
			fail_msg("\"%s\": expected %s, why=%s", vals[i],
			    valid ? "valid" : "invalid", why);
		/* a reason that starts with the quoted value */
		if (!valid && why[0] != '"')
			fail_msg("\"%s\": no reason given", vals[i]);
	}
}

static void
test_port_syntax(void **state)
{
	static const char *const good[] = {
		"", "80", "1", "65535", "8000-8000", "8000-8010", "80,443", "443,80",
		"1-10,11-20", "11-20,1-10", "1,2,3", "65534-65535",
	};
	static const char *const bad[] = {
		"0", "65536", "abc", "10-5", "80,80", "1-10,10-20", "080", "+80",
		" 80", "80 ", "80,", ",80", "-", "1-", "99999999999", "-80", "80-",
		"1-10,5", "20-30,1-25", "80;443", "8 0", "0-5", "1--2", "80,,443",
		"100000", "1-65536",
	};
	char why[256];

	(void)state;
	expect_syntax(port_syntax_ok, good, N(good), true);
	expect_syntax(port_syntax_ok, bad, N(bad), false);
	/* the message quotes the value as the contract's example does */
	assert_false(port_syntax_ok("70000", why, sizeof(why)));
	assert_string_equal(why,
	    "\"70000\" is not a port (1-65535), a range \"8000-8010\", or a comma list of those");
}

static void
test_protocol_syntax(void **state)
{
	static const char *const good[] = { "", "1", "2", "3", "4" };
	static const char *const bad[] = { "0", "5", "12", "tcp", " 1", "1 ", "01", "TCP" };

	(void)state;
	expect_syntax(protocol_syntax_ok, good, N(good), true);
	expect_syntax(protocol_syntax_ok, bad, N(bad), false);
}

static void
test_ip_syntax(void **state)
{
	static const char *const good[] = {
		"", "127.0.0.1", "0.0.0.0", "10.0.0.1", "255.255.255.255", "::", "::1",
		"fe80::1", "2001:db8::8a2e:370:7334", "::ffff:1.2.3.4",
	};
	static const char *const bad[] = {
		"abc", "1.2.3", "256.1.1.1", "1.2.3.4.5", " 10.0.0.1", "10.0.0.1 ",
		"::g", "1::2::3", "localhost", "10.0.0.1/24",
	};

	(void)state;
	expect_syntax(ip_syntax_ok, good, N(good), true);
	expect_syntax(ip_syntax_ok, bad, N(bad), false);
}

static void
test_str_trim(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ " \t\r\nab c\n\t\r ", "ab c" },
		{ "x", "x" },
		{ "", "" },
		{ "   ", "" },
		{ "\t\r\n", "" },
		{ "a \t b", "a \t b" },
		{ "  lead", "lead" },
		{ "trail\n", "trail" },
		{ "\vvt\f", "\vvt\f" }, /* only space, tab, CR, LF are trimmed */
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		assert_ptr_equal(str_trim(buf), buf);
		assert_string_equal(buf, cases[i].out);
		/* blank is exactly "trims to nothing" */
		assert_int_equal(str_blank(cases[i].in), cases[i].out[0] == '\0');
	}
	assert_true(str_blank(NULL));
}

static void
test_utf8_valid(void **state)
{
	static const struct { const char *s; bool ok; } cases[] = {
		{ "", true }, { "ascii", true }, { "\xc3\xa9", true },       /* é */
		{ "\xe2\x82\xac", true },                                    /* € */
		{ "\xf0\x9f\x98\x80", true },                                /* 4-byte */
		{ "\xf4\x8f\xbf\xbf", true },                                /* U+10FFFF */
		{ "\xed\x9f\xbf", true },                                    /* U+D7FF */
		{ "\xc0\x80", false }, { "\xc1\xbf", false },                /* overlong */
		{ "\xe0\x80\x80", false }, { "\xe0\x9f\xbf", false },
		{ "\xf0\x80\x80\x80", false }, { "\xf0\x8f\xbf\xbf", false },
		{ "\xed\xa0\x80", false }, { "\xed\xbf\xbf", false },        /* surrogates */
		{ "\xc3", false }, { "\xe2\x82", false }, { "\xf0\x9f\x98", false },
		{ "a\xc3", false },                                          /* truncated */
		{ "\x80", false }, { "\xbf", false },                        /* stray */
		{ "\xf4\x90\x80\x80", false }, { "\xf5\x80\x80\x80", false }, /* > U+10FFFF */
		{ "\xf8\x88\x80\x80\x80", false }, { "\xff", false },
		{ "\xc3\x28", false },                                       /* bad continuation */
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		if (utf8_valid(cases[i].s, strlen(cases[i].s)) != cases[i].ok)
			fail_msg("case %zu: expected %d", i, cases[i].ok);
	/* the length bounds the scan: a NUL inside is a character, a cut is not */
	assert_true(utf8_valid("a\0b", 3));
	assert_false(utf8_valid("\xc3\xa9", 1));
	assert_true(utf8_valid("\xc3\xa9xyz", 2));
}

static void
test_jpath(void **state)
{
	struct jpath p;
	size_t m1, m2, m3;

	(void)state;
	jpath_init(&p);
	assert_string_equal(jpath_str(&p), "");
	m1 = jpath_key(&p, "instances");
	assert_int_equal(m1, 0);
	m2 = jpath_index(&p, 3);
	m3 = jpath_key(&p, "processes");
	jpath_index(&p, 0);
	jpath_key(&p, "process_info");
	assert_string_equal(jpath_str(&p), "instances[3].processes[0].process_info");
	assert_int_equal(p.len, strlen(p.buf));
	jpath_pop(&p, m3);
	assert_string_equal(jpath_str(&p), "instances[3]");
	jpath_pop(&p, m2);
	assert_string_equal(jpath_str(&p), "instances");
	jpath_pop(&p, m1);
	assert_string_equal(jpath_str(&p), "");
	jpath_index(&p, 7);
	assert_string_equal(jpath_str(&p), "[7]");

	/* a callee handed its value's path as text carries on from there */
	jpath_init_at(&p, "instances[3]");
	m1 = jpath_elem(&p, "processes", 2);
	assert_string_equal(jpath_str(&p), "instances[3].processes[2]");
	jpath_pop(&p, m1);
	assert_string_equal(jpath_str(&p), "instances[3]");
	jpath_init_at(&p, "");
	jpath_elem(&p, "hosts", 0);
	assert_string_equal(jpath_str(&p), "hosts[0]");
}

static void
test_jpath_truncation(void **state)
{
	char key[100];
	struct jpath p;
	size_t marks[64];

	(void)state;
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	jpath_init(&p);
	for (size_t i = 0; i < 64; i++) {
		marks[i] = i % 2 ? jpath_index(&p, (size_t)-1) : jpath_key(&p, key);
		assert_true(p.len < sizeof(p.buf));
		assert_int_equal(strlen(p.buf), p.len);
	}
	assert_int_equal(p.len, sizeof(p.buf) - 1);
	/* popping a truncated level gets back exactly the earlier prefix */
	jpath_pop(&p, marks[2]);
	assert_int_equal(p.len, 99 + strlen("[18446744073709551615]"));
	assert_int_equal(strlen(p.buf), p.len);
	jpath_pop(&p, marks[0]);
	assert_string_equal(jpath_str(&p), "");
}

static void
test_err_set(void **state)
{
	struct err e = { 0 }, f = { 0 };

	(void)state;
	assert_false(err_isset(&e));
	err_set(&e, ERR_BAD_VALUE, "a.b[1]", "is %s", "wrong");
	assert_true(err_isset(&e));
	assert_int_equal(e.code, ERR_BAD_VALUE);
	assert_int_equal(e.http_status, 200);
	assert_string_equal(e.path, "a.b[1]");
	assert_string_equal(e.msg, "a.b[1]: is wrong");
	err_set(&e, ERR_REQUIRED, "c", "later");
	err_set_http(&e, 503, ERR_SERVER, NULL, "later too");
	assert_int_equal(e.code, ERR_BAD_VALUE);
	assert_string_equal(e.msg, "a.b[1]: is wrong");

	err_set_http(&f, 401, ERR_AUTH_APP, NULL, "app authentication failed");
	assert_int_equal(f.http_status, 401);
	assert_string_equal(f.path, "");
	assert_string_equal(f.msg, "app authentication failed");
	err_copy(&f, &e); /* f already holds one */
	assert_int_equal(f.code, ERR_AUTH_APP);

	memset(&f, 0, sizeof(f));
	err_copy(&f, &e);
	assert_memory_equal(&f, &e, sizeof(e));
	memset(&f, 0, sizeof(f));
	err_set(&f, ERR_BAD_VALUE, "", "no path");
	assert_string_equal(f.msg, "no path");
	assert_string_equal(f.constraint, "");
}

static void
test_err_server(void **state)
{
	struct err e = { 0 };

	(void)state;
	assert_int_equal(err_oom(&e), -1);
	assert_int_equal(e.code, ERR_SERVER);
	assert_int_equal(e.http_status, 503);
	assert_string_equal(e.path, "");
	err_server(&e, "later %d", 1); /* keeps the first */
	assert_string_equal(e.msg, "out of memory, retry later");
	memset(&e, 0, sizeof(e));
	err_server(&e, "database %s, retry later", "unavailable");
	assert_int_equal(e.http_status, 503);
	assert_string_equal(e.msg, "database unavailable, retry later");
}

static void
test_err_set_long(void **state)
{
	char path[400], text[1000];
	struct err e = { 0 };

	(void)state;
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	/* 2-byte characters, so that a cut falls inside one */
	for (size_t i = 0; i + 2 < sizeof(text); i += 2)
		memcpy(text + i, "\xc3\xa9", 2);
	text[sizeof(text) - 2] = '\0';
	err_set(&e, ERR_BAD_VALUE, path, "%s", text);
	assert_int_equal(strlen(e.path), sizeof(e.path) - 1);
	assert_true(strlen(e.msg) < sizeof(e.msg));
	assert_true(utf8_valid(e.msg, strlen(e.msg)));
}

static void
test_err_quote(void **state)
{
	char buf[96], in[200];
	const char *q;

	(void)state;
	assert_string_equal(err_quote(buf, sizeof(buf), "abc"), "\"abc\"");
	assert_string_equal(err_quote(buf, sizeof(buf), ""), "\"\"");
	assert_string_equal(err_quote(buf, sizeof(buf), "a\nb\x7f\tc"), "\"a?b??c\"");
	/* 64 bytes fit, 65 are cut to 64 plus "..." */
	memset(in, 'x', 64);
	in[64] = '\0';
	q = err_quote(buf, sizeof(buf), in);
	assert_int_equal(strlen(q), 66);
	in[64] = 'y';
	in[65] = '\0';
	q = err_quote(buf, sizeof(buf), in);
	assert_int_equal(strlen(q), 1 + 64 + 3 + 1);
	assert_string_equal(q + 65, "...\"");
	/* a cut never splits a UTF-8 character, whatever its width */
	for (size_t shift = 0; shift < 4; shift++) {
		memset(in, 'a', shift);
		in[shift] = '\0';
		for (size_t i = 0; i < 40; i++)
			strcat(in, "\xf0\x9f\x98\x80");
		q = err_quote(buf, sizeof(buf), in);
		assert_true(utf8_valid(q, strlen(q)));
		assert_true(strlen(q) <= 1 + 64 + 3 + 1);
		assert_string_equal(q + strlen(q) - 4, "...\"");
	}
	/* too small a buffer gives "" rather than an overflow */
	assert_string_equal(err_quote(buf, 10, "abc"), "");
}

/* pval_set_bad formats before it frees the old string (bug fixed here). */
static void
test_pval_set_bad_own_string(void **state)
{
	struct pval p = { .state = PV_SET };

	(void)state;
	p.s = strdup("value");
	assert_non_null(p.s);
	pval_set_bad(&p, ERR_BAD_VALUE, "x.y", "%s is bad", p.s);
	assert_int_equal(p.state, PV_BAD);
	assert_null(p.s);
	assert_string_equal(p.bad->msg, "x.y: value is bad");
	/* a second call replaces the error without leaking the first */
	pval_set_bad(&p, ERR_TOO_LONG, "x.z", "again");
	assert_int_equal(p.bad->code, ERR_TOO_LONG);
	pval_clear(&p);
	assert_int_equal(p.state, PV_ABSENT);
	assert_null(p.bad);
}

/* Out of memory inside pval_set_bad never leaves a valid-looking value:
 * its error falls back to a copy of a static one, and when even that copy
 * cannot be made proc_values_first_error still reports the value (bug fixed
 * there). */
static void
test_pval_set_bad_oom(void **state)
{
	static const struct { long n; bool sticky; int code; } cases[] = {
		{ 0, true, ERR_SERVER },       /* calloc and the fallback malloc fail */
		{ 0, false, ERR_SERVER },      /* calloc fails, the fallback works */
		{ 1, true, ERR_BAD_VALUE } /* nothing fails */
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct proc_values v = { 0 };
		const struct err *e;

		fault_arm(cases[i].n, cases[i].sticky);
		pval_set_bad(&v.attr[PAI_PROC_NUM], ERR_BAD_VALUE, "proc_num", "bad");
		fault_disarm();
		assert_int_equal(v.attr[PAI_PROC_NUM].state, PV_BAD);
		e = proc_values_first_error(&v, NULL, NULL);
		assert_non_null(e);
		assert_int_equal(e->code, cases[i].code);
		proc_values_clear(&v);
	}
}

static void
test_pval_check(void **state)
{
	struct pval p = { .state = PV_SET };

	(void)state;
	/* protocol and ip: a wrong value is bad syntax (1199006), whatever its
	 * length, not "too long" (bug fixed in bind_keys[]) */
	p.s = strdup("tcp");
	pval_check(&p, &bind_keys[BKI_PROTOCOL], "r.protocol");
	assert_int_equal(p.state, PV_BAD);
	assert_int_equal(p.bad->code, ERR_BAD_VALUE);
	pval_clear(&p);
	p.state = PV_SET;
	p.s = strdup("not-an-ip-address-but-certainly-longer-than-sixty-four-bytes-in-all");
	pval_check(&p, &bind_keys[BKI_IP], "r.ip");
	assert_int_equal(p.bad->code, ERR_BAD_VALUE);
	pval_clear(&p);
	/* required: absent, null and "" are all 1199010 */
	for (int st = PV_ABSENT; st <= PV_SET; st++) {
		p.state = (enum pv_state)st;
		p.s = st == PV_SET ? strdup("") : NULL;
		pval_check(&p, &proc_attrs[PAI_PROCESS_NAME], "n");
		assert_int_equal(p.state, PV_BAD);
		assert_int_equal(p.bad->code, ERR_REQUIRED);
		assert_string_equal(p.bad->path, "n");
		pval_clear(&p);
	}
	/* optional and not set: nothing to check */
	p.state = PV_NULL;
	pval_check(&p, &proc_attrs[PAI_PROC_NUM], "proc_num");
	assert_int_equal(p.state, PV_NULL);
	/* already bad: kept as it is */
	pval_set_bad(&p, ERR_WRONG_TYPE, "proc_num", "first");
	pval_check(&p, &proc_attrs[PAI_PROC_NUM], "proc_num");
	assert_int_equal(p.bad->code, ERR_WRONG_TYPE);
	pval_clear(&p);
}

static void
test_first_error_order(void **state)
{
	struct proc_values v = { 0 };
	bool skip[PROC_ATTR_COUNT] = { 0 }, skip_bind[BIND_KEY_COUNT] = { 0 };

	(void)state;
	assert_null(proc_values_first_error(&v, NULL, NULL));
	v.attr[PAI_BIND_INFO].state = PV_SET;
	v.rows = calloc(2, sizeof(*v.rows));
	assert_non_null(v.rows);
	v.nrows = 2;
	pval_set_bad(&v.rows[1].key[BKI_PORT], ERR_BAD_VALUE, "b[1].port", "x");
	pval_set_bad(&v.rows[1].key[BKI_IP], ERR_BAD_VALUE, "b[1].ip", "x");
	assert_string_equal(proc_values_first_error(&v, NULL, NULL)->path, "b[1].ip");
	skip_bind[BKI_IP] = true;
	assert_string_equal(proc_values_first_error(&v, NULL, skip_bind)->path, "b[1].port");
	pval_set_bad(&v.attr[PAI_PROC_NUM], ERR_BAD_VALUE, "proc_num", "x");
	pval_set_bad(&v.attr[PAI_PROCESS_NAME], ERR_REQUIRED, "bk_process_name", "x");
	assert_string_equal(proc_values_first_error(&v, NULL, NULL)->path, "bk_process_name");
	skip[PAI_PROCESS_NAME] = true;
	assert_string_equal(proc_values_first_error(&v, skip, NULL)->path, "proc_num");
	skip[PAI_PROC_NUM] = skip[PAI_BIND_INFO] = true;
	assert_null(proc_values_first_error(&v, skip, NULL));
	proc_values_clear(&v);
	assert_null(v.rows);
	assert_int_equal(v.nrows, 0);
	proc_values_clear(NULL);
}

/* The table itself: what decode, SQL and encode all rely on. */
static void
test_attr_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++) {
		assert_non_null(proc_attrs[i].name);
		assert_true(proc_attrs[i].min <= proc_attrs[i].max);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(proc_attrs[i].name, proc_attrs[j].name);
		if (proc_attrs[i].flags & PA_REQUIRED)
			assert_true(proc_attrs[i].kind != PA_STR || proc_attrs[i].min >= 1);
	}
	assert_int_equal(proc_attrs[PAI_BIND_INFO].kind, PA_BIND);
	for (size_t k = 0; k < BIND_KEY_COUNT; k++)
		assert_true(bind_keys[k].kind == PA_STR || bind_keys[k].kind == PA_INT ||
		    bind_keys[k].kind == PA_BOOL);
}

int
run_common_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_syntax),
		cmocka_unit_test(test_protocol_syntax),
		cmocka_unit_test(test_ip_syntax),
		cmocka_unit_test(test_str_trim),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_jpath),
		cmocka_unit_test(test_jpath_truncation),
		cmocka_unit_test(test_err_set),
		cmocka_unit_test(test_err_server),
		cmocka_unit_test(test_err_set_long),
		cmocka_unit_test(test_err_quote),
		cmocka_unit_test(test_pval_set_bad_own_string),
		cmocka_unit_test(test_pval_set_bad_oom),
		cmocka_unit_test(test_pval_check),
		cmocka_unit_test(test_first_error_order),
		cmocka_unit_test(test_attr_table),
	};

	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
