#include "common/jbuf.h"

#include <stdlib.h>
#include <string.h>

void
jbuf_init(struct jbuf *b, size_t hint)
{
	memset(b, 0, sizeof(*b));
	b->cap = hint;
	b->first[0] = true;
}

void
jbuf_free(struct jbuf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
}

/* reserve when the buffer is full (or not there yet, or failed). */
static bool
grow(struct jbuf *b, size_t n)
{
	size_t cap;
	char *grown;

	if (b->failed)
		return false;
	if (b->buf != NULL && b->len + n < b->cap)
		return true;
	cap = b->cap > 0 ? b->cap : 256;
	while (b->len + n >= cap)
		cap *= 2;
	grown = realloc(b->buf, cap);
	if (grown == NULL) {
		b->failed = true;
		return false;
	}
	b->buf = grown;
	b->cap = cap;
	return true;
}

/* Room for n more bytes and a terminating NUL. A list answer appends a few
 * hundred times; the common case is a compare, inlined (a failed buffer
 * has buf NULL or is never appended to: grow says so). */
static inline bool
reserve(struct jbuf *b, size_t n)
{
	if (b->buf != NULL && !b->failed && b->len + n < b->cap)
		return true;
	return grow(b, n);
}

static inline void
raw(struct jbuf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void
jbuf_raw(struct jbuf *b, const char *s, size_t n)
{
	raw(b, s, n);
}

/* What comes before a value: nothing right after its key, else a comma
 * unless it is the first of its level. */
static void
separate(struct jbuf *b)
{
	if (b->after_key) {
		b->after_key = false;
		return;
	}
	if (!b->first[b->depth])
		raw(b, ",", 1);
	b->first[b->depth] = false;
}

void
jbuf_open(struct jbuf *b, char bracket)
{
	separate(b);
	raw(b, &bracket, 1);
	if (b->depth + 1 >= JBUF_DEPTH) {
		b->failed = true; /* deeper than any answer of ours */
		return;
	}
	b->first[++b->depth] = true;
}

void
jbuf_close(struct jbuf *b, char bracket)
{
	if (b->depth > 0)
		b->depth--;
	raw(b, &bracket, 1);
}

void
jbuf_key(struct jbuf *b, const char *key)
{
	size_t n = strlen(key);

	separate(b);
	if (!reserve(b, n + 3))
		return;
	b->buf[b->len++] = '"';
	memcpy(b->buf + b->len, key, n);
	b->len += n;
	b->buf[b->len++] = '"';
	b->buf[b->len++] = ':';
	b->buf[b->len] = '\0';
	b->after_key = true;
}

/*
 * JSON string escaping as Jansson writes it without flags: '"', '\' and
 * the control characters are escaped, everything else (UTF-8 included,
 * which every string we hold is) is copied. Runs of plain bytes are
 * copied at once.
 */
void
jbuf_str(struct jbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run;

	if (s == NULL) {
		jbuf_null(b);
		return;
	}
	separate(b);
	raw(b, "\"", 1);
	for (run = s; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6] = { '\\', 0, 0, 0, 0, 0 };
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		raw(b, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		raw(b, esc, n);
	}
	raw(b, run, (size_t)(s - run));
	raw(b, "\"", 1);
}

void
jbuf_int(struct jbuf *b, int64_t v)
{
	char num[24], *p = num + sizeof(num);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	separate(b);
	raw(b, p, (size_t)(num + sizeof(num) - p));
}

void
jbuf_json(struct jbuf *b, const char *s, size_t n)
{
	separate(b);
	raw(b, s, n);
}

void
jbuf_bool(struct jbuf *b, bool v)
{
	separate(b);
	raw(b, v ? "true" : "false", v ? 4 : 5);
}

void
jbuf_null(struct jbuf *b)
{
	separate(b);
	raw(b, "null", 4);
}

bool
jbuf_failed(const struct jbuf *b)
{
	return b->failed;
}
