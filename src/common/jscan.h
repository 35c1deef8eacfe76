/*
 * jscan: one non-recursive pass over a request body before any JSON parser
 * sees it (api-contract.md §10: "a body's nesting depth is judged before it
 * is parsed"). Jansson's parser is recursive, so a body nested 100,000 deep
 * would overflow a worker's stack inside it; this scan stops at the first
 * container past the limit using a fixed, bounded stack of its own.
 *
 * The scan also validates the whole text as Jansson would (RFC 8259 syntax,
 * UTF-8 and escapes inside strings, an object or array at the top), so that
 * it can tell the caller two more things with confidence:
 *   - cuts: arrays longer than `keep` elements, as byte ranges that can be
 *     dropped (every API checks an array's length before decoding any of
 *     its elements, and every bound is at most `keep` - 1, so the dropped
 *     elements could never be looked at: api-contract.md §10 "Array
 *     limits"). A 1,000,000-element array then costs the parser 1,001.
 *   - cost: an estimate of the bytes the parser will allocate for the text
 *     with those cuts applied, for the server's decode memory budget.
 *
 * C library only; no allocation except the cut list. Thread-safe (no
 * shared state).
 */
#ifndef PROCSVC_COMMON_JSCAN_H
#define PROCSVC_COMMON_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/* The deepest stack the scan can track; max_depth must not exceed it. */
#define JSCAN_DEPTH_CAP 256

enum jscan_status {
	JSCAN_OK,     /* one valid JSON object or array */
	JSCAN_SYNTAX, /* not valid JSON (or not UTF-8 inside a string) */
	JSCAN_DEEP,   /* containers nested deeper than max_depth */
};

/* A byte range [from, to) of the text that may be dropped. */
struct jscan_cut {
	size_t from, to;
};

struct jscan {
	enum jscan_status status;
	/* JSCAN_SYNTAX / JSCAN_DEEP: where (0-based byte offset, and 1-based
	 * line and byte column), and for JSCAN_SYNTAX what was wrong. */
	size_t offset;
	int line, column;
	char why[64];
	/* A string holds U+0000 (raw or \u0000): somewhere, and inside a cut. */
	bool has_nul, nul_in_cut;
	/* Estimated parser allocation in bytes: of the whole text, and of the
	 * text without the cuts. */
	size_t cost_all, cost_kept;
	/* JSCAN_OK only: arrays over keep elements, in text order, ranges
	 * disjoint. Owned; free with jscan_free. */
	struct jscan_cut *cuts;
	size_t ncuts;
};

/*
 * Scans text[0..len). max_depth: containers allowed one inside another (the
 * outermost counts as 1), at most JSCAN_DEPTH_CAP. keep: elements an array
 * keeps (0 = never cut). Fills *out (which the caller frees with
 * jscan_free whatever the result). Returns 0, or -1 when the cut list
 * cannot be allocated.
 */
int jscan_run(const char *text, size_t len, int max_depth, size_t keep,
    struct jscan *out) MUST_CHECK;

/*
 * The text without the ranges in s->cuts, NUL-terminated, length in
 * *outlen. Caller frees. NULL when out of memory.
 */
char *jscan_apply(const char *text, size_t len, const struct jscan *s,
    size_t *outlen);

/* Frees what s owns. */
void jscan_free(struct jscan *s);

#endif
