#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/str.h"

static const char *const level_names[] = { "debug", "info", "warn", "error" };

/* Set once at start, read by every thread. */
static _Atomic int min_level = LOG_INFO;

static _Thread_local char current_request[LOG_REQUEST_ID_MAX + 1];

/* Room kept at the end of every line for the closing "}\n" and its NUL. */
#define LINE_TAIL 3

bool
log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; s != NULL && i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	return false;
}

void
log_set_level(enum log_level level)
{
	min_level = (int)level;
}

bool
log_enabled(enum log_level level)
{
	return (int)level >= min_level;
}

void
log_set_request(const char *request_id)
{
	size_t n = request_id ? strnlen(request_id, sizeof(current_request) - 1) : 0;

	/* Twice per request: a copy, not a snprintf. */
	if (n > 0)
		memcpy(current_request, request_id, n);
	current_request[n] = '\0';
}

/* "2026-12-02T01:02:03.456Z" into buf. */
static void
log_now(char buf[static 40])
{
	/* The second, formatted once per second per thread: gmtime_r and
	 * strftime were a tenth of an access line's cost. */
	static _Thread_local time_t last_sec = -1;
	static _Thread_local char last[32];
	static _Thread_local size_t last_len;
	struct timespec ts;
	struct tm tm;
	size_t n;
	int ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != last_sec) {
		gmtime_r(&ts.tv_sec, &tm);
		last_len = strftime(last, sizeof(last), "%Y-%m-%dT%H:%M:%S", &tm);
		last_sec = ts.tv_sec;
	}
	memcpy(buf, last, last_len);
	n = last_len;
	ms = (int)(ts.tv_nsec / 1000000) % 1000;
	buf[n++] = '.';
	buf[n++] = (char)('0' + ms / 100);
	buf[n++] = (char)('0' + ms / 10 % 10);
	buf[n++] = (char)('0' + ms % 10);
	buf[n++] = 'Z';
	buf[n] = '\0';
}

/* Appends raw text when it fits whole; false (nothing added) otherwise. */
static bool
put(struct log_line *l, const char *s, size_t n)
{
	if (l->len + n + LINE_TAIL > sizeof(l->buf))
		return false;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	return true;
}

/*
 * The length of the UTF-8 character at s (at most avail bytes readable),
 * or 0 when the bytes there are not one.
 */
static size_t
utf8_char(const char *s, size_t avail)
{
	unsigned char c = (unsigned char)s[0];
	size_t n = c >= 0xF0 ? 4 : (c >= 0xE0 ? 3 : (c >= 0xC0 ? 2 : 0));

	return n != 0 && n <= avail && utf8_valid(s, n) ? n : 0;
}

/*
 * Appends s (at most max bytes of it) as JSON string content, leaving room
 * for the closing quote. Stops before a character that does not fit.
 */
static void
put_escaped(struct log_line *l, const char *s, size_t max)
{
	size_t i = 0, len = strnlen(s, max);

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		const char *out = s + i;
		char esc[8];
		size_t n = 1, m = 1;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			/* The common case, a run of plain ASCII: copied at once. */
			for (n = 1; i + n < len; n++) {
				c = (unsigned char)s[i + n];
				if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
					break;
			}
			m = n;
			if (l->len + m + 1 + LINE_TAIL > sizeof(l->buf))
				n = m = sizeof(l->buf) - LINE_TAIL - 1 - l->len;
		} else if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			out = esc, m = 2;
		} else if (c < 0x20 || c == 0x7f) {
			out = esc, m = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c);
		} else if ((n = m = utf8_char(s + i, len - i)) == 0) {
			/* Not UTF-8: the byte's value, as nginx writes it. */
			n = 1;
			out = esc, m = (size_t)snprintf(esc, sizeof(esc), "\\\\x%02X", c);
		}
		if (m == 0 || l->len + m + 1 + LINE_TAIL > sizeof(l->buf))
			return;
		memcpy(l->buf + l->len, out, m);
		l->len += m;
		i += n;
	}
}

void
log_str(struct log_line *l, const char *key, const char *value, size_t max)
{
	size_t start = l->len, klen;

	if (l->off)
		return;
	klen = strlen(key);
	/* ,"key":"  plus at least the closing quote */
	if (l->len + klen + 6 + 1 + LINE_TAIL > sizeof(l->buf))
		return;
	(void)put(l, ",\"", 2);
	(void)put(l, key, klen);
	(void)put(l, "\":\"", 3);
	if (value != NULL)
		put_escaped(l, value, max);
	if (!put(l, "\"", 1))
		l->len = start;
}

/* ,"key":  false (nothing added) when it does not fit with room for a
 * 24-character value. */
static bool
put_key(struct log_line *l, const char *key)
{
	size_t klen = strlen(key);

	if (l->off || l->len + klen + 4 + 24 + LINE_TAIL > sizeof(l->buf))
		return false;
	(void)put(l, ",\"", 2);
	(void)put(l, key, klen);
	(void)put(l, "\":", 2);
	return true;
}

/* The digits of v, written backwards from end; returns where they start. */
static char *
digits(char *end, unsigned long long v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

void
log_int(struct log_line *l, const char *key, long long v)
{
	char num[24], *p;

	if (!put_key(l, key))
		return;
	p = digits(num + sizeof(num), v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v);
	if (v < 0)
		*--p = '-';
	(void)put(l, p, (size_t)(num + sizeof(num) - p));
}

void
log_ms(struct log_line *l, const char *key, double v)
{
	char num[24], *p;
	unsigned long long thousandths;

	if (!put_key(l, key))
		return;
	/* Durations: not negative, far below 10^15 ms. */
	thousandths = v > 0 && v < 1e15 ? (unsigned long long)(v * 1000.0 + 0.5) : 0;
	p = digits(num + sizeof(num), thousandths);
	while (num + sizeof(num) - p < 4)
		*--p = '0';
	(void)put(l, p, (size_t)(num + sizeof(num) - p) - 3);
	(void)put(l, ".", 1);
	(void)put(l, num + sizeof(num) - 3, 3);
}

void
log_begin(struct log_line *l, enum log_level level)
{
	char now[40];

	l->len = 0;
	l->off = !log_enabled(level);
	if (l->off)
		return;
	log_now(now);
	(void)put(l, "{\"time\":\"", 9);
	(void)put(l, now, strlen(now));
	(void)put(l, "\",\"level\":\"", 11);
	(void)put(l, level_names[level], strlen(level_names[level]));
	(void)put(l, "\"", 1);
	if (current_request[0] != '\0')
		log_str(l, "request_id", current_request, LOG_REQUEST_ID_MAX);
}

/*
 * The line with write(2), not stdio: stderr is unbuffered, so fwrite made
 * the same single write, but under the FILE's lock, which every worker
 * takes once per request (its access line): with 16 clients strace showed
 * futex waits there. A line is at most 4 KiB, so one write(2) puts it
 * whole into a pipe (PIPE_BUF) or file; a short write is finished.
 */
static void
write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere to say so */
		p += w;
		n -= (size_t)w;
	}
}

void
log_end(struct log_line *l)
{
	if (l->off)
		return;
	/* LINE_TAIL was kept free by every append. */
	memcpy(l->buf + l->len, "}\n", 3);
	write_all(l->buf, l->len + 2);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	struct log_line l;
	char text[2048];
	va_list ap;
	size_t n;

	log_begin(&l, level);
	if (l.off)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* libpq's messages end in a line break: not part of the message. */
	for (n = strlen(text); n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '); n--)
		text[n - 1] = '\0';
	log_str(&l, "msg", text, sizeof(text));
	log_end(&l);
}
