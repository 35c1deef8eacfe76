#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void
log_now(char *buf, size_t n)
{
	struct timespec ts;
	struct tm tm;
	char base[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

void
log_escape(char *out, size_t n, const char *s)
{
	size_t len = strlen(out);

	for (; *s != '\0' && len + 7 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[len++] = '\\';
			out[len++] = (char)c;
		} else if (c < 0x20) {
			len += (size_t)snprintf(out + len, n - len, "\\u%04x", c);
		} else {
			out[len++] = (char)c;
		}
	}
	out[len] = '\0';
}

void
log_line(const char *json)
{
	char line[8192];

	snprintf(line, sizeof(line), "%s\n", json);
	fputs(line, stderr);
}

void
log_msg(const char *level, const char *fmt, ...)
{
	char text[2048], line[4096], now[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_now(now, sizeof(now));
	snprintf(line, sizeof(line), "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"",
	    now, level);
	log_escape(line, sizeof(line) - 3, text);
	strcat(line, "\"}");
	log_line(line);
}
