/*
 * jtree: the Jansson tree of a request body that jscan (common/jscan.h)
 * has already accepted, built without Jansson's parser.
 *
 * Jansson's lexer reads its input a byte at a time through a stream and
 * copies every token into a growing buffer: on a 330-byte create body it
 * cost about 270 instructions per byte, a third of all procsvc spent on
 * the request. jscan has already judged the syntax, the nesting and the
 * UTF-8, so the tree is built here in one pass: strings without escapes
 * are handed to Jansson straight from the text, numbers are converted as
 * Jansson converts them (strtoll, strtod).
 *
 * The result is the tree json_loadb(text, len, JSON_ALLOW_NUL) returns.
 * Wherever Jansson would fail or this code is not sure to match it (a
 * number out of range, a raw control character or U+0000 in a key, a lone
 * surrogate, anything unexpected, nesting deeper than JTREE_MAX_DEPTH, no
 * memory), jtree_load returns 1 and the caller runs json_loadb, whose
 * answer, error message and position included, is then the one given.
 *
 * Thread-safe (no shared state); non-recursive, bounded stack.
 */
#ifndef PROCSVC_API_JTREE_H
#define PROCSVC_API_JTREE_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

/* The deepest nesting built here; deeper texts go to json_loadb. */
#define JTREE_MAX_DEPTH 64

/*
 * Builds the tree of text[0..len), an object or array at the top. 0: *out
 * is a new reference (caller json_decrefs). 1: nothing built (*out NULL);
 * parse the text with json_loadb(text, len, JSON_ALLOW_NUL, ...) instead.
 */
int jtree_load(const char *text, size_t len, json_t **out) MUST_CHECK;

#endif
