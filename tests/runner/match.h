/*
 * match: checking a response against what a step expects, and counting
 * the checks.
 *
 * Subset matching (data_subset, body): expected object keys must exist and
 * match, arrays must have the same length and match element-wise, scalars
 * must be equal (an integer never equals a real). Special strings: "$any",
 * "$int", "$ts" (YYYY-MM-DDTHH:MM:SS.mmm then Z or ±HH:MM), "$absent".
 *
 * Every check adds to one counter (match_assertions): one per expect key
 * (one per message_contains string and per expected header), per envelope
 * check, per saved variable, per sql_expect, per parallel response and per
 * expected code. Not thread safe: count from the main thread.
 */
#ifndef RUNNER_MATCH_H
#define RUNNER_MATCH_H

#include <stdbool.h>

#include <jansson.h>

#include "buf.h"
#include "http.h"

/* Adds n checks to the counter. */
void match_count(unsigned n);
/* Checks counted so far. */
unsigned long match_assertions(void);

/* Whether e is the string name (e.g. "$any"). */
bool match_is_special(const json_t *e, const char *name);
/* Whether k is one of the NULL-terminated list. */
bool match_key_known(const char *k, const char *const *list);

/* Follows "data[2].property.bk_process_id" from root; borrowed or NULL. */
const json_t *match_select(const json_t *root, const char *sel);

/*
 * Contract §2 envelope, request_id rules and Content-Type (§10) of rs, the
 * answer to rq. Failures go to d. One check.
 */
void match_envelope(const struct request *rq, const struct response *rs, struct sbuf *d);

/* Every key of a step's expect (NULL: none) against rs. Failures go to d. */
void match_expect(const json_t *exp, const struct response *rs, struct sbuf *d);

#endif
