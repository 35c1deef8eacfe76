/*
 * jpath: the field path of the value being decoded, built on the way down
 * (".key", "[i]") and cut back on the way up, so that no error site formats
 * a path by hand. Fixed size: a path deeper than the buffer is truncated,
 * never overflowed (the contract caps nesting at 64 levels).
 *
 * C library only.
 */
#ifndef PROCSVC_JPATH_H
#define PROCSVC_JPATH_H

#include <stddef.h>

struct jpath {
	char buf[256];
	size_t len;
};

/* Empties p (the root of the request body). */
void jpath_init(struct jpath *p);

/* Starts p at base, the text of another jpath (or "", the root): for a
 * callee that is handed the path of the value it decodes as a string. */
void jpath_init_at(struct jpath *p, const char *base);

/*
 * Appends ".key" (or "key" at the root) or "[index]". Returns the length
 * before the append, to hand to jpath_pop.
 */
size_t jpath_key(struct jpath *p, const char *key);
size_t jpath_index(struct jpath *p, size_t index);

/* Appends ".key[index]" (an element of array key): jpath_key, then
 * jpath_index. Returns the length before both. */
size_t jpath_elem(struct jpath *p, const char *key, size_t index);

/* Cuts p back to the length a jpath_key/jpath_index call returned. */
void jpath_pop(struct jpath *p, size_t mark);

/* The path as a NUL-terminated string, valid until p changes. */
static inline const char *
jpath_str(const struct jpath *p)
{
	return p->buf;
}

#endif
