/*
 * jbuf: JSON text written straight into one growing buffer. The answers
 * that matter for speed (the list APIs, the envelope around every answer)
 * are written with it in one pass, instead of being built as a Jansson
 * tree and then encoded: on list_process_instance that tree and its
 * encoding were two thirds of procsvc's instructions per request.
 *
 * Sticky failure (the pgbouncer PktBuf habit): after an allocation fails
 * every append does nothing and jbuf_failed says so once at the end.
 * Separators are the caller's: jbuf_key writes the comma before every key
 * but the first of an object (it tracks that per nesting level).
 *
 * C library only; any layer may include it. One jbuf per thread.
 */
#ifndef PROCSVC_JBUF_H
#define PROCSVC_JBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JBUF_DEPTH 16

struct jbuf {
	char *buf;
	size_t len, cap;
	bool failed;
	int depth;              /* open objects and arrays */
	bool first[JBUF_DEPTH]; /* nothing written yet at that level */
	bool after_key;         /* a key was written: its value is next */
};

/* An empty buffer with room for hint bytes (allocated on first write). */
void jbuf_init(struct jbuf *b, size_t hint);
void jbuf_free(struct jbuf *b);

/* Appends n bytes of text as they are (already JSON). */
void jbuf_raw(struct jbuf *b, const char *s, size_t n);

/* A value that is already JSON text (n bytes), with its separator. */
void jbuf_json(struct jbuf *b, const char *s, size_t n);

/* { and }, [ and ]: a value of their own (a comma before it inside an
 * array when it is not the first element). */
void jbuf_open(struct jbuf *b, char bracket);
void jbuf_close(struct jbuf *b, char bracket);

/* "key": inside an object (with the comma before it when needed). key is
 * a constant of ours: written without escaping. */
void jbuf_key(struct jbuf *b, const char *key);

/* Values; inside an array each is preceded by a comma when not first. */
void jbuf_str(struct jbuf *b, const char *s); /* escaped; NULL -> null */
void jbuf_int(struct jbuf *b, int64_t v);
void jbuf_bool(struct jbuf *b, bool v);
void jbuf_null(struct jbuf *b);

/* true when an allocation failed (the text is then incomplete). */
bool jbuf_failed(const struct jbuf *b);

#endif
