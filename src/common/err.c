#include "common/err.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
err_cut_utf8(char *s)
{
	size_t n = strlen(s), lead = n, need;

	while (lead > 0 && n - lead < 4 && ((unsigned char)s[lead - 1] & 0xC0) == 0x80)
		lead--;
	if (lead == 0 || ((unsigned char)s[lead - 1] & 0x80) == 0)
		return;
	lead--;
	need = ((unsigned char)s[lead] & 0xE0) == 0xC0 ? 2 :
	    ((unsigned char)s[lead] & 0xF0) == 0xE0    ? 3 :
							 4;
	if (n - lead < need)
		s[lead] = '\0';
}

static void
err_vset(struct err *e, int http_status, int code, const char *path,
    const char *fmt, va_list ap)
{
	/* Sized so that "<path>: <text>" always fits in msg. */
	char text[sizeof(e->msg) - sizeof(e->path) - 2];

	if (e->code != 0)
		return;
	e->code = code;
	e->http_status = http_status;
	e->constraint[0] = '\0';
	snprintf(e->path, sizeof(e->path), "%s", path ? path : "");
	vsnprintf(text, sizeof(text), fmt, ap);
	if (e->path[0] != '\0')
		snprintf(e->msg, sizeof(e->msg), "%s: %s", e->path, text);
	else
		snprintf(e->msg, sizeof(e->msg), "%s", text);
	/* snprintf may have cut inside a UTF-8 sequence. */
	err_cut_utf8(e->msg);
}

void
err_set(struct err *e, int code, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, 200, code, path, fmt, ap);
	va_end(ap);
}

void
err_set_http(struct err *e, int http_status, int code, const char *path,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, http_status, code, path, fmt, ap);
	va_end(ap);
}

void
err_server(struct err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, 503, ERR_SERVER, NULL, fmt, ap);
	va_end(ap);
}

int
err_oom(struct err *e)
{
	err_server(e, "out of memory, retry later");
	return -1;
}

void
err_clear(struct err *e)
{
	memset(e, 0, sizeof(*e));
}

void
err_copy(struct err *dst, const struct err *src)
{
	if (dst->code == 0 && src->code != 0)
		*dst = *src;
}

/* 64 bytes is enough to recognise a value; echoing more only bloats logs. */
#define QUOTE_MAX 64

const char *
err_quote(char *buf, size_t n, const char *value)
{
	size_t in = 0, out = 0;

	if (n < QUOTE_MAX + 8)
		return "";
	buf[out++] = '"';
	while (in < QUOTE_MAX && value[in] != '\0') {
		unsigned char c = (unsigned char)value[in];
		buf[out++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
		in++;
	}
	if (value[in] != '\0') {
		/* Back up to a character boundary before the ellipsis. */
		while (out > 1 && ((unsigned char)buf[out - 1] & 0xC0) == 0x80)
			out--;
		if (out > 1 && ((unsigned char)buf[out - 1] & 0x80))
			out--;
		memcpy(buf + out, "...", 3);
		out += 3;
	}
	buf[out++] = '"';
	buf[out] = '\0';
	return buf;
}

size_t
err_id_list(char *buf, size_t n, const int64_t *ids, size_t count)
{
	size_t len = 0, shown;

	if (n > 0)
		buf[0] = '\0';
	for (shown = 0; shown < count; shown++) {
		char one[32];
		int w = snprintf(one, sizeof(one), "%s%" PRId64, shown > 0 ? ", " : "", ids[shown]);
		if (w < 0 || len + (size_t)w >= n)
			break;
		memcpy(buf + len, one, (size_t)w + 1);
		len += (size_t)w;
	}
	return shown;
}
