/*
 * ids: the ids a service call takes and gives: the rule that a request's
 * id field must be a positive integer, and the list of new ids the create
 * APIs return in input order. Plain C; any service module and the API
 * layer may include it.
 */
#ifndef PROCSVC_SVC_IDS_H
#define PROCSVC_SVC_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "service/ctx.h"

/*
 * The request's id field (missing and null decode to 0) must be positive:
 * 0, or -1 with e = code at field ("is required (a positive integer)").
 */
int svc_require_id(int64_t id, int code, const char *field, struct err *e)
    MUST_CHECK;

/* A list of ids in input order, as the create APIs return them. */
struct id_list {
	int64_t *ids;
	size_t n;
};

/* Frees l's ids and empties it. */
void id_list_free(struct id_list *l);

/*
 * e = code at path, "<ids> <text>", every id of ids[0..n) (n > 0) listed
 * plainly in the order given (api-contract.md §11.2: "91, 95 do not exist
 * in business 7"); text_one follows a single id, text_many several. When
 * the list does not fit in e, e names the first ones and how many more,
 * and the whole message goes to *req->long_msg. Keeps an error e already
 * holds. Returns -1, for "return svc_ids_error(...);".
 */
int svc_ids_error(const struct svc_req *req, int code, const char *path,
    const int64_t *ids, size_t n, const char *text_one, const char *text_many,
    struct err *e);

#endif
