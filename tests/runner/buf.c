/* buf: see buf.h. */
#include "buf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL) {
		fputs("test_runner: out of memory\n", stderr);
		abort();
	}
	return q;
}

char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xrealloc(NULL, n), s, n);
}

static void
sb_reserve(struct sbuf *b, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
}

void
sb_addn(struct sbuf *b, const char *s, size_t n)
{
	sb_reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
sb_adds(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap, again;
	int n;

	va_start(ap, fmt);
	va_copy(again, ap);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n >= 0) {
		sb_reserve(b, (size_t)n);
		if ((size_t)n < sizeof small)
			memcpy(b->p + b->len, small, (size_t)n + 1);
		else
			vsnprintf(b->p + b->len, (size_t)n + 1, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
}

const char *
sb_str(const struct sbuf *b)
{
	return b->p ? b->p : "";
}

void
sb_free(struct sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
sb_add_dump(struct sbuf *b, const char *s, size_t n)
{
	size_t i, lim = n < DUMP_MAX ? n : DUMP_MAX;

	for (i = 0; i < lim; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || (c >= 0x20 && c < 0x7f))
			sb_addn(b, s + i, 1);
		else
			sb_printf(b, "\\x%02x", c);
	}
	if (lim < n)
		sb_printf(b, "... (%zu bytes in all)", n);
}

void
sb_add_json(struct sbuf *b, const json_t *v)
{
	char *s;

	if (v == NULL) {
		sb_adds(b, "(missing)");
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s == NULL) {
		sb_adds(b, "(unprintable)");
		return;
	}
	if (strlen(s) > 300)
		sb_printf(b, "%.300s...", s);
	else
		sb_adds(b, s);
	free(s);
}

void
sb_add_text(struct sbuf *b, const json_t *v)
{
	char *s;

	if (json_is_string(v)) {
		sb_addn(b, json_string_value(v), json_string_length(v));
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s != NULL)
		sb_adds(b, s);
	free(s);
}

void
diff_add(struct sbuf *d, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];
	size_t n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	n = strlen(msg);
	while (n > 0 && isspace((unsigned char)msg[n - 1]))
		msg[--n] = '\0';
	if (d->len > 0)
		sb_adds(d, "\n  also: ");
	sb_adds(d, msg);
}
