#include "api/jtree.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Decoded strings with escapes; plain ones are used where they stand. */
struct scratch {
	char *p;
	size_t cap;
};

struct builder {
	const char *s;
	size_t len, pos;
	struct scratch key, val;
};

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
skip_ws(struct builder *b)
{
	while (b->pos < b->len && is_ws(b->s[b->pos]))
		b->pos++;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at s[pos..pos+4), or -1. */
static long
hex4(const struct builder *b, size_t pos)
{
	long v = 0;

	if (b->len - pos < 4 || pos > b->len)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		int d = hexval(b->s[pos + i]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static bool
reserve(struct scratch *sc, size_t n)
{
	char *p;

	if (n <= sc->cap)
		return true;
	p = realloc(sc->p, n);
	if (p == NULL)
		return false;
	sc->p = p;
	sc->cap = n;
	return true;
}

static size_t
put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * The string at pos (on its opening quote): *str and *n are where its
 * bytes are, in the text itself when it has no escapes, else decoded into
 * sc. false when it is anything json_loadb might judge otherwise: a raw
 * control character (NUL included), a lone surrogate, no closing quote.
 */
static bool
string(struct builder *b, struct scratch *sc, const char **str, size_t *n)
{
	size_t start = ++b->pos, w = 0;

	while (b->pos < b->len) {
		unsigned char c = (unsigned char)b->s[b->pos];
		if (c == '"') {
			*str = b->s + start;
			*n = b->pos - start;
			b->pos++;
			return true;
		}
		if (c == '\\')
			break;
		if (c < 0x20)
			return false;
		b->pos++;
	}
	if (b->pos >= b->len)
		return false;
	/* Escapes: decode; the decoded text is never longer than the raw. */
	w = b->pos - start;
	if (!reserve(sc, b->len - start + 1))
		return false;
	memcpy(sc->p, b->s + start, w);
	while (b->pos < b->len) {
		unsigned char c = (unsigned char)b->s[b->pos];
		long cp, lo;
		if (c == '"') {
			*str = sc->p;
			*n = w;
			b->pos++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\') {
			sc->p[w++] = (char)c;
			b->pos++;
			continue;
		}
		if (b->pos + 1 >= b->len)
			return false;
		c = (unsigned char)b->s[b->pos + 1];
		b->pos += 2;
		switch (c) {
		case '"': sc->p[w++] = '"'; continue;
		case '\\': sc->p[w++] = '\\'; continue;
		case '/': sc->p[w++] = '/'; continue;
		case 'b': sc->p[w++] = '\b'; continue;
		case 'f': sc->p[w++] = '\f'; continue;
		case 'n': sc->p[w++] = '\n'; continue;
		case 'r': sc->p[w++] = '\r'; continue;
		case 't': sc->p[w++] = '\t'; continue;
		case 'u': break;
		default: return false;
		}
		if ((cp = hex4(b, b->pos)) < 0)
			return false;
		b->pos += 4;
		if (cp >= 0xDC00 && cp <= 0xDFFF)
			return false;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (b->len - b->pos < 6 || b->s[b->pos] != '\\' || b->s[b->pos + 1] != 'u')
				return false;
			lo = hex4(b, b->pos + 2);
			if (lo < 0xDC00 || lo > 0xDFFF)
				return false;
			b->pos += 6;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		}
		/* "\u0041" is 6 bytes in, at most 3 out; a pair 12 in, 4 out. */
		w += put_utf8(sc->p + w, (uint32_t)cp);
	}
	return false;
}

/* A number at pos, as Jansson's lexer reads it; NULL to fall back. */
static json_t *
number(struct builder *b)
{
	char tok[64], *end;
	size_t start = b->pos, n;
	bool real = false;

	while (b->pos < b->len) {
		char c = b->s[b->pos];
		if (c == '.' || c == 'e' || c == 'E')
			real = true;
		else if (!(c == '-' || c == '+' || (c >= '0' && c <= '9')))
			break;
		b->pos++;
	}
	n = b->pos - start;
	if (n == 0 || n >= sizeof(tok))
		return NULL;
	memcpy(tok, b->s + start, n);
	tok[n] = '\0';
	errno = 0;
	if (real) {
		double d = strtod(tok, &end);
		if (end != tok + n || errno == ERANGE)
			return NULL; /* Jansson fails on overflow; underflow is rare */
		return json_real(d);
	}
	long long i = strtoll(tok, &end, 10);
	if (end != tok + n || errno == ERANGE)
		return NULL;
	return json_integer(i);
}

/* A literal at pos: true, false or null; NULL to fall back. */
static json_t *
literal(struct builder *b)
{
	static const struct {
		const char *word;
		size_t n;
	} words[] = { { "true", 4 }, { "false", 5 }, { "null", 4 } };

	for (size_t i = 0; i < 3; i++) {
		if (b->len - b->pos >= words[i].n &&
		    memcmp(b->s + b->pos, words[i].word, words[i].n) == 0) {
			b->pos += words[i].n;
			return i == 0 ? json_true() : (i == 1 ? json_false() : json_null());
		}
	}
	return NULL;
}

/* A scalar at pos; NULL to fall back. */
static json_t *
scalar(struct builder *b)
{
	const char *str;
	size_t n;
	char c = b->s[b->pos];

	if (c == '"')
		return string(b, &b->val, &str, &n) ? json_stringn_nocheck(str, n) : NULL;
	if (c == '-' || (c >= '0' && c <= '9'))
		return number(b);
	return literal(b);
}

static int
build(struct builder *b, json_t **out)
{
	json_t *stack[JTREE_MAX_DEPTH];
	int depth = 0;

	skip_ws(b);
	if (b->pos >= b->len || (b->s[b->pos] != '{' && b->s[b->pos] != '['))
		return 1;
	*out = b->s[b->pos] == '{' ? json_object() : json_array();
	if (*out == NULL)
		return 1;
	stack[depth++] = *out;
	b->pos++;
	/* Syntax is jscan's: only what the walk needs is checked here. */
	bool after_value = false;
	while (depth > 0) {
		json_t *top = stack[depth - 1], *v;
		const char *key = NULL;
		size_t klen = 0;
		char c;

		skip_ws(b);
		if (b->pos >= b->len)
			return 1;
		c = b->s[b->pos];
		if (c == '}' || c == ']') {
			if ((c == '}') != json_is_object(top))
				return 1;
			b->pos++;
			depth--;
			after_value = true;
			continue;
		}
		if (after_value) {
			if (c != ',')
				return 1;
			b->pos++;
			after_value = false;
			continue;
		}
		if (json_is_object(top)) {
			if (c != '"' || !string(b, &b->key, &key, &klen) ||
			    memchr(key, '\0', klen) != NULL)
				return 1; /* Jansson refuses a NUL in a key */
			skip_ws(b);
			if (b->pos >= b->len || b->s[b->pos] != ':')
				return 1;
			b->pos++;
			skip_ws(b);
			if (b->pos >= b->len)
				return 1;
			c = b->s[b->pos];
		}
		if (c == '{' || c == '[') {
			if (depth == JTREE_MAX_DEPTH)
				return 1;
			v = c == '{' ? json_object() : json_array();
			b->pos++;
		} else {
			v = scalar(b);
		}
		if (v == NULL)
			return 1;
		/* The container's parent holds it from now on, so that a
		 * failure further in frees everything with the root. */
		if (json_is_object(top) ?
			json_object_setn_new_nocheck(top, key, klen, v) != 0 :
			json_array_append_new(top, v) != 0)
			return 1;
		if (json_is_object(v) || json_is_array(v))
			stack[depth++] = v;
		else
			after_value = true;
	}
	skip_ws(b);
	return b->pos == b->len ? 0 : 1;
}

int
jtree_load(const char *text, size_t len, json_t **out)
{
	struct builder b = { .s = text, .len = len };
	int rc;

	*out = NULL;
	rc = build(&b, out);
	free(b.key.p);
	free(b.val.p);
	if (rc != 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}
