/*
 * Unit tests of what operators see: the listen address syntax
 * (common/addr) and the redaction of DATABASE_URL in messages
 * (db/conninfo). No server needed; PQconninfoParse is pure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/addr.h"
#include "db/conninfo.h"

static void
test_addr_ok(void **state)
{
	struct addr a;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(addr_parse("8080", &a, &e), 0);
	assert_string_equal(a.host, "");
	assert_int_equal(a.port, 8080);
	assert_string_equal(addr_connect_host(&a), "127.0.0.1");
	assert_int_equal(addr_parse("0.0.0.0:1", &a, &e), 0);
	assert_string_equal(addr_connect_host(&a), "127.0.0.1");
	assert_int_equal(addr_parse("10.1.2.3:65535", &a, &e), 0);
	assert_string_equal(addr_connect_host(&a), "10.1.2.3");
	assert_int_equal(a.port, 65535);
	assert_int_equal(addr_parse("localhost:80", &a, &e), 0);
	assert_int_equal(addr_parse("svc-1.example.org:80", &a, &e), 0);
	assert_false(err_isset(&e));
}

static void
test_addr_bad(void **state)
{
	static const char *const bad[] = { "", "nonsense", "99999", "0", "65536",
		"127.0.0.1:0", "127.0.0.1:", ":80", "999.1.1.1:80", "1.2.3:80",
		"[::1]:80", "::1:80", "8080s", "80,443", "+80", " 80", "-1",
		"a_b:80", "-a:80", "a..b:80", "127.0.0.1:080808" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct addr a;
		struct err e = { 0 };
		if (addr_parse(bad[i], &a, &e) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(strstr(e.msg, "PROCSVC_LISTEN="));
		assert_null(strchr(e.msg, '\n'));
	}
}

static void
check_redact(const char *in, const char *want)
{
	char buf[256];

	assert_string_equal(db_redact(in, buf, sizeof(buf)), want);
}

static void
test_redact(void **state)
{
	(void)state;
	check_redact("postgresql://u:sekret@host:5432/db", "postgresql://u:***@host:5432/db");
	check_redact("postgres://u:p@ss@host/db", "postgres://u:***@host/db");
	check_redact("postgresql://u@host/db", "postgresql://u@host/db");
	check_redact("postgresql://host/db?password=x&sslmode=require",
	    "postgresql://host/db?password=***&sslmode=require");
	check_redact("host=h password=sekret port=1", "host=h password=*** port=1");
	check_redact("host=h password = 'sek ret\\' x' port=1", "host=h password = *** port=1");
	check_redact("password=sekret", "password=***");
	check_redact("host=h passwordx=1 mypassword=2", "host=h passwordx=1 mypassword=2");
	check_redact("invalid URI: \"postgresql://u:sekret@[bad\"",
	    "invalid URI: \"postgresql://u:***@[bad\"");
	check_redact("", "");
}

static void
test_redact_small_buffer(void **state)
{
	char buf[12];

	(void)state;
	db_redact("postgresql://u:sekret@host/db", buf, sizeof(buf));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_null(strstr(buf, "sek"));
}

static void
test_redact_message(void **state)
{
	const char *url = "postgresql://u:sek%zzret@h/db";
	char msg[256] = "invalid percent-encoded token: \"sek%zzret\"\n";
	char two[256] = "connection to server at \"127.0.0.1\", port 1 failed: "
	    "Connection refused\n\tIs the server running on that host?\n";
	char fatal[256] = "FATAL:  database \"x\" does not exist\n";

	(void)state;
	db_redact_message(msg, sizeof(msg), url);
	assert_string_equal(msg, "invalid percent-encoded token: \"***\"");
	db_redact_message(two, sizeof(two), "host=127.0.0.1 port=1");
	assert_string_equal(two, "connection to server at \"127.0.0.1\", port 1 failed: "
	    "Connection refused; Is the server running on that host?");
	db_redact_message(fatal, sizeof(fatal), "dbname=x");
	assert_string_equal(fatal, "FATAL: database \"x\" does not exist");
}

static void
test_conninfo_check(void **state)
{
	static const char *const bad[] = { "postgresql://u:sekret@[bad",
		"postgresql://u:sekret@h:99999/db", "postgresql://u:sekret@h:0/db",
		"postgresql://u:sekret@h/db?sslmode=bogus", "postgresql://u:sekret@h/db?foo=1",
		"host=h password=sekret port=abc", "host=h password='sekret", "nonsense sekret",
		"postgresql://u:sek%zzret@h/db" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err e = { 0 };
		if (db_conninfo_check("DATABASE_URL", bad[i], &e) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(strstr(e.msg, "DATABASE_URL"));
		if (strstr(e.msg, "sek") != NULL || strchr(e.msg, '\n') != NULL)
			fail_msg("\"%s\" -> \"%s\"", bad[i], e.msg);
	}
	{
		struct err e = { 0 };
		assert_int_equal(db_conninfo_check("DATABASE_URL", "postgresql://u:p@h:5432,h2:5433/db", &e), 0);
		assert_int_equal(db_conninfo_check("DATABASE_URL", "host=/tmp dbname=x", &e), 0);
		assert_false(err_isset(&e));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_ok),
		cmocka_unit_test(test_addr_bad),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_redact_small_buffer),
		cmocka_unit_test(test_redact_message),
		cmocka_unit_test(test_conninfo_check),
	};

	return cmocka_run_group_tests_name("ops", tests, NULL, NULL);
}
