/*
 * expand: run-time expansion of a step, just before it is sent.
 *
 * A string that is exactly "${v}" becomes the saved JSON value of v; "${v}"
 * inside other text becomes its text. ${i}/${i1} are the 0- and 1-based index
 * of the enclosing $repeat (or step repeat), ${j}/${j1} the one around that,
 * ${p}/${p1} the index of a parallel request (filled in by its worker; an
 * integer when the string is exactly "${p}" or "${p1}"). An array
 * element {"$repeat": N, "item": X} becomes N copies of X.
 *
 * Load-time parameters, $(name), are a different thing: see load.h.
 */
#ifndef RUNNER_EXPAND_H
#define RUNNER_EXPAND_H

#include <jansson.h>

#include "buf.h"

/*
 * Stand for ${p} / ${p1} in a body until a parallel worker writes its index
 * (0- / 1-based) there: inside text, or (the _INT marks, a whole string
 * "${p}") as a JSON integer in place of the quoted mark.
 */
#define PARALLEL_MARK "@@parallel-index@@"
#define PARALLEL_MARK1 "@@parallel-index1@@"
#define PARALLEL_INT_MARK "@@parallel-int@@"
#define PARALLEL_INT1_MARK "@@parallel-int1@@"

/* Loop indexes of the enclosing $repeat / step repeat; -1 when unbound. */
struct scope {
	json_int_t i, j;
};

/*
 * Returns a new, expanded copy of v (borrowed), or NULL with a message in
 * err. vars holds the saved variables (borrowed). v == NULL gives NULL.
 */
json_t *expand(const json_t *v, const json_t *vars, struct scope sc, struct sbuf *err);

#endif
