/*
 * buf: growable strings and failure messages for the test runner.
 *
 * A test tool has nothing sensible to do when memory runs out, so every
 * allocation here aborts instead of failing. Depends on the C library and
 * Jansson only.
 */
#ifndef RUNNER_BUF_H
#define RUNNER_BUF_H

#include <stddef.h>

#include <jansson.h>

#define DUMP_MAX 2000            /* bytes of request/response printed on failure */

/* realloc that aborts on failure; n == 0 is treated as 1. */
void *xrealloc(void *p, size_t n);
/* strdup that aborts on failure. Caller frees. */
char *xstrdup(const char *s);

/* Growable byte buffer; p is NUL-terminated whenever it is not NULL. {0} is empty. */
struct sbuf {
	char *p;
	size_t len, cap;
};

void sb_addn(struct sbuf *b, const char *s, size_t n);
void sb_adds(struct sbuf *b, const char *s);
void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The text so far; "" for an empty buffer. Borrowed until the next change. */
const char *sb_str(const struct sbuf *b);
/* Frees the text; b is empty and reusable afterwards. */
void sb_free(struct sbuf *b);
/* Appends s, escaping control and non-ASCII bytes, up to DUMP_MAX bytes. */
void sb_add_dump(struct sbuf *b, const char *s, size_t n);
/* Compact JSON text of v for messages, capped at 300 bytes; NULL: "(missing)". */
void sb_add_json(struct sbuf *b, const json_t *v);
/* Text of v inside a longer string: a string raw, anything else as JSON. */
void sb_add_text(struct sbuf *b, const json_t *v);

/*
 * Adds one failure message to d: the first becomes the FAIL line, later ones
 * follow as "also:". Trailing blanks (libpq and curl end in a newline) are cut.
 * A step passed when its d is still empty.
 */
void diff_add(struct sbuf *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
