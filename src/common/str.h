/*
 * str: the string rules every layer applies to what clients send: which
 * blanks are trimmed (api-contract.md §5), what counts as blank, and what
 * is valid UTF-8.
 *
 * C library only; any layer may include it.
 */
#ifndef PROCSVC_STR_H
#define PROCSVC_STR_H

#include <stdbool.h>
#include <stddef.h>

/* Trims space, tab, CR and LF at both ends, in place. Returns s. */
char *str_trim(char *s);

/* true when s is NULL, empty, or nothing but the blanks str_trim removes. */
bool str_blank(const char *s);

/* true when s[0..len) is valid UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t len);

#endif
