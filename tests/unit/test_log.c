/* src/common/log (levels, the request id, escaping, the line cap),
 * counter and procstat. Log lines are read back from stderr, which each
 * test points at a temporary file. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/counter.h"
#include "common/log.h"
#include "common/procstat.h"
#include "common/str.h"

static FILE *capture;
static int saved_stderr = -1;

static int
capture_start(void **state)
{
	(void)state;
	fflush(stderr);
	capture = tmpfile();
	if (capture == NULL)
		return -1;
	saved_stderr = dup(fileno(stderr));
	dup2(fileno(capture), fileno(stderr));
	return 0;
}

static int
capture_stop(void **state)
{
	char line[LOG_LINE_MAX + 64];

	(void)state;
	fflush(stderr);
	dup2(saved_stderr, fileno(stderr));
	/* A failing assertion writes to stderr too: pass it on. */
	rewind(capture);
	while (fgets(line, sizeof(line), capture) != NULL)
		if (line[0] != '{')
			fputs(line, stderr);
	close(saved_stderr);
	fclose(capture);
	log_set_level(LOG_INFO);
	log_set_request(NULL);
	return 0;
}

/* Everything written since the capture started (caller frees). */
static char *
captured(void)
{
	long n;
	char *buf;

	fflush(stderr);
	n = ftell(capture);
	buf = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
	assert_non_null(buf);
	rewind(capture);
	if (n > 0)
		assert_int_equal(fread(buf, 1, (size_t)n, capture), (size_t)n);
	return buf;
}

static void
test_level_parse(void **state)
{
	enum log_level l = LOG_ERROR;

	(void)state;
	assert_true(log_level_parse("debug", &l));
	assert_int_equal(l, LOG_DEBUG);
	assert_true(log_level_parse("warn", &l));
	assert_int_equal(l, LOG_WARN);
	assert_false(log_level_parse("WARN", &l));
	assert_false(log_level_parse("warning", &l));
	assert_false(log_level_parse("", &l));
	assert_false(log_level_parse(NULL, &l));
}

static void
test_level_filter(void **state)
{
	char *out;

	(void)state;
	log_set_level(LOG_WARN);
	log_debug("d-line");
	log_info("i-line");
	log_warn("w-line");
	log_error("e-line");
	out = captured();
	assert_null(strstr(out, "d-line"));
	assert_null(strstr(out, "i-line"));
	assert_non_null(strstr(out, "\"level\":\"warn\",\"msg\":\"w-line\"}\n"));
	assert_non_null(strstr(out, "\"level\":\"error\",\"msg\":\"e-line\"}\n"));
	assert_false(log_enabled(LOG_INFO));
	assert_true(log_enabled(LOG_ERROR));
	free(out);
}

static void
test_request_id(void **state)
{
	char *out;

	(void)state;
	log_set_request("req-1");
	log_error("in a request");
	log_set_request(NULL);
	log_error("outside");
	out = captured();
	assert_non_null(strstr(out, "\"request_id\":\"req-1\",\"msg\":\"in a request\""));
	assert_non_null(strstr(out, "\"level\":\"error\",\"msg\":\"outside\""));
	free(out);
}

static void
test_escaping(void **state)
{
	struct log_line l;
	char *out;

	(void)state;
	log_begin(&l, LOG_INFO);
	log_str(&l, "a", "q\"b\\c\n\x01\x7f", 100);
	log_str(&l, "b", "caf\xc3\xa9 \xff\xc3(\xed\xa0\x80!", 100);
	log_str(&l, "c", "abcdef", 3);
	log_str(&l, "d", NULL, 10);
	log_int(&l, "n", -42);
	log_ms(&l, "t", 1.23456);
	log_end(&l);
	out = captured();
	assert_non_null(strstr(out,
	    ",\"a\":\"q\\\"b\\\\c\\u000a\\u0001\\u007f\""
	    ",\"b\":\"caf\xc3\xa9 \\\\xFF\\\\xC3(\\\\xED\\\\xA0\\\\x80!\""
	    ",\"c\":\"abc\",\"d\":\"\",\"n\":-42,\"t\":1.235}\n"));
	assert_true(utf8_valid(out, strlen(out)));
	free(out);
}

static void
test_trailing_newline(void **state)
{
	char *out;

	(void)state;
	log_error("libpq says: %s", "could not connect\n");
	out = captured();
	assert_non_null(strstr(out, "\"msg\":\"libpq says: could not connect\"}\n"));
	free(out);
}

/* Values longer than the line are cut, never a multi-byte character
 * apart, and the line stays one JSON object. */
static void
test_line_cap(void **state)
{
	char big[3 * LOG_LINE_MAX];
	struct log_line l;
	char *out, *nl;
	size_t n;

	(void)state;
	for (n = 0; n + 2 < sizeof(big); n += 2)
		memcpy(big + n, "\xc3\xa9", 2);
	big[n] = '\0';
	log_begin(&l, LOG_INFO);
	log_str(&l, "first", big, sizeof(big));
	log_str(&l, "second", "not there", 20);
	log_int(&l, "n", 7);
	log_end(&l);
	out = captured();
	n = strlen(out);
	assert_true(n <= LOG_LINE_MAX);
	nl = strchr(out, '\n');
	assert_non_null(nl);
	assert_int_equal((size_t)(nl - out), n - 1);
	assert_true(utf8_valid(out, n));
	assert_string_equal(out + n - 3, "\"}\n");
	assert_null(strstr(out, "second"));
	free(out);
}

static void
test_filtered_line(void **state)
{
	struct log_line l;
	char *out;

	(void)state;
	log_set_level(LOG_ERROR);
	log_begin(&l, LOG_INFO);
	assert_true(l.off);
	log_str(&l, "x", "y", 1);
	log_end(&l);
	out = captured();
	assert_string_equal(out, "");
	free(out);
}

static void
test_counter(void **state)
{
	unsigned long long before = counter_get(COUNTER_DB_STATEMENT_ERRORS);

	(void)state;
	counter_inc(COUNTER_DB_STATEMENT_ERRORS);
	assert_int_equal(counter_get(COUNTER_DB_STATEMENT_ERRORS), before + 1);
	/* Families: the first line of a name has the HELP text, the rest not. */
	for (size_t i = 0; i < COUNTER_COUNT; i++) {
		bool first = i == 0 || strcmp(counter_defs[i - 1].name, counter_defs[i].name) != 0;
		assert_true(first == (counter_defs[i].help != NULL));
		assert_non_null(strstr(counter_defs[i].name, "_total"));
	}
}

static void
test_procstat(void **state)
{
	struct procstat p;
	double now = (double)time(NULL);

	(void)state;
	assert_true(procstat_read(&p));
	assert_true(p.open_fds >= 3);
	assert_true(p.max_fds == 0 || p.max_fds >= p.open_fds);
	assert_true(p.resident_bytes > 0);
	assert_true(p.virtual_bytes >= p.resident_bytes);
	assert_true(p.cpu_seconds >= 0);
	assert_true(p.start_time > now - 3600 && p.start_time <= now + 1);
}

int
run_log_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_parse),
		cmocka_unit_test_setup_teardown(test_level_filter, capture_start, capture_stop),
		cmocka_unit_test_setup_teardown(test_request_id, capture_start, capture_stop),
		cmocka_unit_test_setup_teardown(test_escaping, capture_start, capture_stop),
		cmocka_unit_test_setup_teardown(test_trailing_newline, capture_start, capture_stop),
		cmocka_unit_test_setup_teardown(test_line_cap, capture_start, capture_stop),
		cmocka_unit_test_setup_teardown(test_filtered_line, capture_start, capture_stop),
		cmocka_unit_test(test_counter),
		cmocka_unit_test(test_procstat),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
