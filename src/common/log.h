/*
 * log: one line per event on stderr, each a JSON object so that access-log
 * lines and diagnostics can be read by the same tools. Thread-safe (one
 * fputs per line). C library only.
 */
#ifndef PROCSVC_LOG_H
#define PROCSVC_LOG_H

#include "common/err.h"

/* Messages are formatted, then JSON-escaped. level: "info", "warn", "error". */
void log_msg(const char *level, const char *fmt, ...) ERR_PRINTF(2, 3);

#define log_info(...) log_msg("info", __VA_ARGS__)
#define log_warn(...) log_msg("warn", __VA_ARGS__)
#define log_error(...) log_msg("error", __VA_ARGS__)

/* Writes a prebuilt JSON object line (the access log). */
void log_line(const char *json);

/* Appends s to out (size n, NUL-terminated) as JSON string content. */
void log_escape(char *out, size_t n, const char *s);

/* "2026-12-02T01:02:03.456Z" into buf (at least 32 bytes). */
void log_now(char *buf, size_t n);

#endif
