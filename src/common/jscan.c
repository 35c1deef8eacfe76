#include "common/jscan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * What Jansson 2.14 allocates per value (glibc, x86-64, measured with
 * mallinfo2 over a million values of each kind): an empty object 224
 * bytes, an empty array 128, an integer 32, a short string 48 plus its
 * bytes; an object member adds about 80 plus its key, an array element a
 * pointer slot (doubled by growth). true, false and null are shared.
 */
enum {
	COST_OBJECT = 240,
	COST_MEMBER = 80,
	COST_ARRAY = 128,
	COST_SLOT = 16,
	COST_NUMBER = 32,
	COST_STRING = 48,
};

/* Frames kept on the stack; deeper limits allocate theirs. */
#define JSCAN_SMALL_DEPTH 64

struct frame {
	bool object;
	size_t count;    /* members or elements so far */
	size_t cut_from; /* arrays: where the cut began, when cutting */
	bool cutting;
};

/* What the scanner expects next (after skipping whitespace). */
enum want {
	W_TOP, /* the first value: an object or an array */
	W_VALUE,
	W_VALUE_OR_END, /* just after '[' */
	W_KEY_OR_END,   /* just after '{' */
	W_KEY,          /* after ',' in an object */
	W_COLON,
	W_NEXT, /* ',' or the closing bracket */
	W_DONE, /* only whitespace may follow */
};

struct scanner {
	const char *s;
	size_t len, pos;
	int max_depth;
	size_t keep;
	struct frame *stack; /* max_depth frames */
	int depth;
	int cut_depth; /* depth of the array being cut; 0 = none */
	size_t cuts_cap;
	struct jscan *out;
};

static bool
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static void
cost(struct scanner *sc, size_t n)
{
	sc->out->cost_all += n;
	if (sc->cut_depth == 0)
		sc->out->cost_kept += n;
}

/* Records a syntax error at the current position; returns false. */
static bool
syntax(struct scanner *sc, const char *why)
{
	sc->out->status = JSCAN_SYNTAX;
	sc->out->offset = sc->pos;
	snprintf(sc->out->why, sizeof(sc->out->why), "%s", why);
	return false;
}

/*
 * Length of the UTF-8 sequence at p (n bytes left), or 0 when it is not
 * valid: overlong forms, surrogates and code points past U+10FFFF are
 * refused, as Jansson refuses them.
 */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t need;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		need = 2;
		cp = p[0] & 0x1F;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		need = 3;
		cp = p[0] & 0x0F;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		need = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return 0;
	return need;
}

/* Four hex digits at s[pos..pos+4) into *cp; false when they are not. */
static bool
hex4(const struct scanner *sc, size_t pos, uint32_t *cp)
{
	*cp = 0;
	if (sc->len - pos < 4)
		return false;
	for (size_t i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)sc->s[pos + i];
		uint32_t d;
		if (is_digit(c))
			d = (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (uint32_t)(c - 'A' + 10);
		else
			return false;
		*cp = (*cp << 4) | d;
	}
	return true;
}

static void
saw_nul(struct scanner *sc)
{
	sc->out->has_nul = true;
	if (sc->cut_depth > 0)
		sc->out->nul_in_cut = true;
}

/* A \u escape at pos (on the 'u'); adds its UTF-8 size to *bytes. */
static bool
scan_unicode(struct scanner *sc, size_t *bytes)
{
	uint32_t cp, lo;

	if (!hex4(sc, sc->pos + 1, &cp))
		return syntax(sc, "invalid \\u escape");
	sc->pos += 5;
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return syntax(sc, "invalid Unicode escape (a lone low surrogate)");
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (sc->len - sc->pos < 6 || sc->s[sc->pos] != '\\' ||
		    sc->s[sc->pos + 1] != 'u' || !hex4(sc, sc->pos + 2, &lo) ||
		    lo < 0xDC00 || lo > 0xDFFF)
			return syntax(sc, "invalid Unicode escape (a lone high surrogate)");
		sc->pos += 6;
		*bytes += 4;
		return true;
	}
	if (cp == 0)
		saw_nul(sc);
	*bytes += cp < 0x80 ? 1 : (cp < 0x800 ? 2 : 3);
	return true;
}

/* A string starting at pos (on the quote); *bytes gets its decoded size. */
static bool
scan_string(struct scanner *sc, size_t *bytes)
{
	const unsigned char *s = (const unsigned char *)sc->s;

	*bytes = 0;
	sc->pos++;
	for (;;) {
		unsigned char c;
		size_t n;
		if (sc->pos >= sc->len)
			return syntax(sc, "unterminated string");
		c = s[sc->pos];
		if (c == '"') {
			sc->pos++;
			return true;
		}
		if (c == '\\') {
			if (sc->pos + 1 >= sc->len)
				return syntax(sc, "unterminated string");
			c = s[sc->pos + 1];
			if (c == 'u') {
				sc->pos++;
				if (!scan_unicode(sc, bytes))
					return false;
				continue;
			}
			if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
				return syntax(sc, "invalid escape in string");
			sc->pos += 2;
			(*bytes)++;
			continue;
		}
		if (c < 0x20) {
			/* A raw NUL is passed on: the parser's caller reports it
			 * with its path (api-contract.md §10). */
			if (c != '\0')
				return syntax(sc, "control character in string");
			saw_nul(sc);
			sc->pos++;
			(*bytes)++;
			continue;
		}
		n = utf8_seq(s + sc->pos, sc->len - sc->pos);
		if (n == 0)
			return syntax(sc, "invalid UTF-8 in string");
		sc->pos += n;
		*bytes += n;
	}
}

static bool
scan_digits(struct scanner *sc)
{
	size_t start = sc->pos;

	while (sc->pos < sc->len && is_digit((unsigned char)sc->s[sc->pos]))
		sc->pos++;
	return sc->pos > start;
}

/* RFC 8259 number grammar; the value's range is the parser's business. */
static bool
scan_number(struct scanner *sc)
{
	if (sc->s[sc->pos] == '-')
		sc->pos++;
	if (sc->pos < sc->len && sc->s[sc->pos] == '0') {
		sc->pos++;
	} else if (!scan_digits(sc)) {
		return syntax(sc, "invalid number");
	}
	if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
		sc->pos++;
		if (!scan_digits(sc))
			return syntax(sc, "invalid number");
	}
	if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
		sc->pos++;
		if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
			sc->pos++;
		if (!scan_digits(sc))
			return syntax(sc, "invalid number");
	}
	if (sc->pos < sc->len && (is_digit((unsigned char)sc->s[sc->pos]) || sc->s[sc->pos] == '.'))
		return syntax(sc, "invalid number");
	return true;
}

static bool
scan_literal(struct scanner *sc)
{
	static const char *const words[] = { "true", "false", "null" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i]);
		if (sc->len - sc->pos >= n && memcmp(sc->s + sc->pos, words[i], n) == 0) {
			sc->pos += n;
			return true;
		}
	}
	return syntax(sc, "invalid literal");
}

static bool
push(struct scanner *sc, bool object)
{
	struct frame *f;

	if (sc->depth >= sc->max_depth) {
		sc->out->status = JSCAN_DEEP;
		sc->out->offset = sc->pos;
		return false;
	}
	f = &sc->stack[sc->depth++];
	memset(f, 0, sizeof(*f));
	f->object = object;
	sc->pos++;
	return true;
}

static bool
add_cut(struct scanner *sc, size_t from, size_t to)
{
	struct jscan *o = sc->out;

	if (o->ncuts == sc->cuts_cap) {
		size_t cap = sc->cuts_cap ? sc->cuts_cap * 2 : 8;
		struct jscan_cut *c = realloc(o->cuts, cap * sizeof(*c));
		if (c == NULL)
			return false;
		o->cuts = c;
		sc->cuts_cap = cap;
	}
	o->cuts[o->ncuts].from = from;
	o->cuts[o->ncuts].to = to;
	o->ncuts++;
	return true;
}

/* The closing bracket at pos ends the innermost container. -1 OOM. */
static int
pop(struct scanner *sc)
{
	struct frame *f = &sc->stack[--sc->depth];

	if (f->cutting) {
		sc->cut_depth = 0;
		if (!add_cut(sc, f->cut_from, sc->pos))
			return -1;
	}
	sc->pos++;
	return 0;
}

/* A new element of the innermost array begins; comma is the offset of the
 * ',' before it (the first element has none). */
static void
element(struct scanner *sc, size_t comma)
{
	struct frame *f = &sc->stack[sc->depth - 1];

	f->count++;
	if (sc->keep > 0 && f->count == sc->keep + 1 && sc->cut_depth == 0) {
		f->cutting = true;
		f->cut_from = comma;
		sc->cut_depth = sc->depth;
	}
	cost(sc, COST_SLOT);
}

/* One value starting at pos. */
static bool
value(struct scanner *sc, enum want *next)
{
	unsigned char c = (unsigned char)sc->s[sc->pos];
	size_t bytes;

	switch (c) {
	case '{':
		cost(sc, COST_OBJECT);
		*next = W_KEY_OR_END;
		return push(sc, true);
	case '[':
		cost(sc, COST_ARRAY);
		*next = W_VALUE_OR_END;
		return push(sc, false);
	case '"':
		if (!scan_string(sc, &bytes))
			return false;
		cost(sc, COST_STRING + bytes);
		break;
	case 't':
	case 'f':
	case 'n':
		if (!scan_literal(sc))
			return false;
		break;
	default:
		if (c != '-' && !is_digit(c))
			return syntax(sc, "unexpected character");
		if (!scan_number(sc))
			return false;
		cost(sc, COST_NUMBER);
		break;
	}
	*next = sc->depth == 0 ? W_DONE : W_NEXT;
	return true;
}

static bool
key(struct scanner *sc, enum want *next)
{
	size_t bytes;

	if (sc->s[sc->pos] != '"')
		return syntax(sc, "expected a string key");
	if (!scan_string(sc, &bytes))
		return false;
	cost(sc, COST_MEMBER + bytes);
	sc->stack[sc->depth - 1].count++;
	*next = W_COLON;
	return true;
}

/* After a value inside a container: ',' or the matching close. */
static int
next_or_close(struct scanner *sc, enum want *next)
{
	struct frame *f = &sc->stack[sc->depth - 1];
	char c = sc->s[sc->pos];

	if (c == ',') {
		size_t comma = sc->pos++;
		if (f->object) {
			*next = W_KEY;
		} else {
			element(sc, comma);
			*next = W_VALUE;
		}
		return 1;
	}
	if (c != (f->object ? '}' : ']'))
		return syntax(sc, f->object ? "expected ',' or '}'" : "expected ',' or ']'") ? 1 : 0;
	if (pop(sc) != 0)
		return -1;
	*next = sc->depth == 0 ? W_DONE : W_NEXT;
	return 1;
}

/* One step from pos (not whitespace): 1 go on, 0 stop (status set), -1 OOM. */
static int
step(struct scanner *sc, enum want *w)
{
	char c = sc->s[sc->pos];

	switch (*w) {
	case W_TOP:
		if (c != '{' && c != '[')
			return syntax(sc, "'{' or '[' expected") ? 1 : 0;
		return value(sc, w) ? 1 : 0;
	case W_VALUE_OR_END:
		if (c == ']') {
			if (pop(sc) != 0)
				return -1;
			*w = sc->depth == 0 ? W_DONE : W_NEXT;
			return 1;
		}
		element(sc, sc->pos);
		return value(sc, w) ? 1 : 0;
	case W_VALUE:
		return value(sc, w) ? 1 : 0;
	case W_KEY_OR_END:
		if (c == '}') {
			if (pop(sc) != 0)
				return -1;
			*w = sc->depth == 0 ? W_DONE : W_NEXT;
			return 1;
		}
		return key(sc, w) ? 1 : 0;
	case W_KEY:
		return key(sc, w) ? 1 : 0;
	case W_COLON:
		if (c != ':')
			return syntax(sc, "expected ':'") ? 1 : 0;
		sc->pos++;
		*w = W_VALUE;
		return 1;
	case W_NEXT:
		return next_or_close(sc, w);
	case W_DONE:
	default:
		return syntax(sc, "end of input expected") ? 1 : 0;
	}
}

/* 1-based line and byte column of offset. */
static void
locate(const char *s, size_t offset, int *line, int *column)
{
	size_t start = 0;

	*line = 1;
	for (size_t i = 0; i < offset; i++)
		if (s[i] == '\n') {
			(*line)++;
			start = i + 1;
		}
	*column = (int)(offset - start + 1);
}

int
jscan_run(const char *text, size_t len, int max_depth, size_t keep,
    struct jscan *out)
{
	/*
	 * The frames of the depth the server allows (API_MAX_DEPTH, 64: 2 KiB)
	 * live on the caller's stack; deeper limits get theirs from the heap.
	 * A frame is zeroed when it is pushed. An 8 KiB calloc here was more
	 * than the whole scan of a small body (its memset, and glibc merging
	 * its free lists for a large request).
	 */
	struct frame small[JSCAN_SMALL_DEPTH];
	struct scanner scanner = { 0 }, *sc = &scanner;
	enum want w = W_TOP;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	sc->max_depth = max_depth < JSCAN_DEPTH_CAP ? max_depth : JSCAN_DEPTH_CAP;
	sc->stack = small;
	if (sc->max_depth > JSCAN_SMALL_DEPTH &&
	    (sc->stack = malloc((size_t)sc->max_depth * sizeof(*sc->stack))) == NULL)
		return -1;
	sc->s = text;
	sc->len = len;
	sc->keep = keep;
	sc->out = out;
	out->status = JSCAN_OK;
	for (;;) {
		int r;
		while (sc->pos < len && is_ws((unsigned char)text[sc->pos]))
			sc->pos++;
		if (sc->pos == len) {
			if (w != W_DONE)
				syntax(sc, "unexpected end of input");
			break;
		}
		r = step(sc, &w);
		if (r < 0) {
			rc = -1;
			break;
		}
		if (r == 0 || out->status != JSCAN_OK)
			break;
	}
	if (out->status != JSCAN_OK) {
		locate(text, out->offset, &out->line, &out->column);
		/* Cuts are for valid texts only. */
		free(out->cuts);
		out->cuts = NULL;
		out->ncuts = 0;
	}
	if (sc->stack != small)
		free(sc->stack);
	return rc;
}

char *
jscan_apply(const char *text, size_t len, const struct jscan *s, size_t *outlen)
{
	size_t dropped = 0, at = 0, w = 0;
	char *out;

	for (size_t i = 0; i < s->ncuts; i++)
		dropped += s->cuts[i].to - s->cuts[i].from;
	out = malloc(len - dropped + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < s->ncuts; i++) {
		memcpy(out + w, text + at, s->cuts[i].from - at);
		w += s->cuts[i].from - at;
		at = s->cuts[i].to;
	}
	memcpy(out + w, text + at, len - at);
	w += len - at;
	out[w] = '\0';
	*outlen = w;
	return out;
}

void
jscan_free(struct jscan *s)
{
	free(s->cuts);
	s->cuts = NULL;
	s->ncuts = 0;
}
