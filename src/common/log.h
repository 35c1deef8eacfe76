/*
 * log: one line per event on stderr, each a JSON object so that access-log
 * lines and diagnostics are read by the same tools:
 *
 *   {"time":"2026-12-02T01:02:03.456Z","level":"warn","request_id":"ab12","msg":"..."}
 *
 * "request_id" is there when the line is written by a thread that serves a
 * request (log_set_request), so a database error can be matched with its
 * request's access line. Lines below the level set with log_set_level
 * (PROCSVC_LOG_LEVEL) are not written and cost nothing to build. Every
 * string is escaped so that a line is valid JSON and valid UTF-8 whatever
 * bytes it quotes: control characters as \u00XX, bytes that are not UTF-8
 * as the six characters \\xHH. A line is at most LOG_LINE_MAX bytes (one
 * write, which a pipe keeps whole); longer values are cut at a character
 * boundary.
 *
 * Thread-safe: a line is built in the caller's buffer and written with one
 * fputs. C library only.
 */
#ifndef PROCSVC_LOG_H
#define PROCSVC_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

enum log_level { LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR };

#define LOG_LINE_MAX 4096
/* Longest request id log_set_request keeps (envelope's REQUEST_ID_MAX). */
#define LOG_REQUEST_ID_MAX 64

/* "debug", "info", "warn" or "error" into *out; false for anything else. */
bool log_level_parse(const char *s, enum log_level *out) MUST_CHECK;

/* Lines below level are dropped from now on (default LOG_INFO). */
void log_set_level(enum log_level level);

/* true when a line of this level would be written. */
bool log_enabled(enum log_level level);

/* Messages are formatted, then escaped into "msg". */
void log_msg(enum log_level level, const char *fmt, ...) ERR_PRINTF(2, 3);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/*
 * The request this thread now serves: its id (copied, cut to
 * LOG_REQUEST_ID_MAX bytes) goes into every line the thread writes until
 * log_set_request(NULL). The HTTP layer sets it for the life of a request.
 */
void log_set_request(const char *request_id);

/*
 * A structured line, for callers with fields of their own (the access
 * log): log_begin, then fields in order, then log_end, which writes it.
 * log_begin puts "time", "level" and, while set, "request_id". When the
 * level is filtered out every call is a no-op. Lives on the caller's
 * stack; no allocation.
 */
struct log_line {
	char buf[LOG_LINE_MAX];
	size_t len;
	bool off; /* filtered out: nothing is built or written */
};

void log_begin(struct log_line *l, enum log_level level);

/* ,"key":"value" with value escaped; at most max bytes of value are taken
 * (cut at a character boundary). NULL writes "". */
void log_str(struct log_line *l, const char *key, const char *value, size_t max);

/* ,"key":v */
void log_int(struct log_line *l, const char *key, long long v);

/* ,"key":v with 3 decimals (durations in milliseconds). */
void log_ms(struct log_line *l, const char *key, double v);

/* Closes the object and writes the line. */
void log_end(struct log_line *l);

#endif
