#include "service/remove.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jpath.h"
#include "db/db.h"
#include "db/instance.h"
#include "db/process.h"

/*
 * Rows 2-5 of both tables: the list required, at most SVC_MAX_DELETE ids
 * (as sent), bk_biz_id, every id positive. field is the list's key, what
 * names its ids ("process", "service instance").
 */
static int
check_request(const struct svc_delete *in, const char *field, const char *what,
    struct err *e)
{
	struct jpath p;

	if (in->ids.n == 0) {
		err_set(e, ERR_REQUIRED, field, "is required (a non-empty array of %s ids)", what);
		return -1;
	}
	if (in->ids.n > SVC_MAX_DELETE) {
		err_set(e, ERR_TOO_MANY, field, "has %zu ids; the limit is %d",
		    in->ids.n, SVC_MAX_DELETE);
		return -1;
	}
	if (svc_require_id(in->biz_id, ERR_BAD_VALUE, "bk_biz_id", e) != 0)
		return -1;
	for (size_t i = 0; i < in->ids.n; i++)
		if (in->ids.ids[i] <= 0) {
			jpath_init(&p);
			jpath_elem(&p, field, i);
			err_set(e, ERR_BAD_VALUE, jpath_str(&p), "%" PRId64 " is not a %s id (a positive integer)",
			    in->ids.ids[i], what);
			return -1;
		}
	return 0;
}

/* The ids once each, in the order of their first mention (§11.2: the same
 * id twice counts once). NULL when out of memory. */
static int64_t *
distinct(const struct id_list *l, size_t *n)
{
	int64_t *out = calloc(l->n + 1, sizeof(*out));

	*n = 0;
	for (size_t i = 0; out != NULL && i < l->n; i++) {
		bool seen = false;
		for (size_t k = 0; k < *n && !seen; k++)
			seen = out[k] == l->ids[i];
		if (!seen)
			out[(*n)++] = l->ids[i];
	}
	return out;
}

static bool
in_ids(const int64_t *ids, size_t n, int64_t id)
{
	for (size_t k = 0; k < n; k++)
		if (ids[k] == id)
			return true;
	return false;
}

/* Row 6 of both tables: every id that was not found, in input order. */
static int
check_unknown(const struct svc_req *req, const int64_t *ids, size_t n,
    const int64_t *found, size_t nfound, int64_t biz_id, const char *field,
    struct err *e)
{
	int64_t *unknown = calloc(n + 1, sizeof(*unknown));
	char one[96], many[96];
	size_t nunknown = 0;

	if (unknown == NULL)
		return err_oom(e);
	for (size_t i = 0; i < n; i++)
		if (!in_ids(found, nfound, ids[i]))
			unknown[nunknown++] = ids[i];
	if (nunknown > 0) {
		snprintf(one, sizeof(one), "does not exist in business %" PRId64, biz_id);
		snprintf(many, sizeof(many), "do not exist in business %" PRId64, biz_id);
		svc_ids_error(req, ERR_BAD_VALUE, field, unknown, nunknown, one, many, e);
	}
	free(unknown);
	return nunknown > 0 ? -1 : 0;
}

/* §11.6 rows 6-7 and the deletes, in the caller's transaction. */
static int
delete_processes(const struct svc_req *req, int64_t biz_id, const int64_t *ids,
    size_t n, struct err *e)
{
	static const char field[] = "process_instance_ids";
	struct db *db = req->ctx->db;
	struct db_proc_ref *refs = NULL;
	int64_t *si = NULL, *found = NULL, *tmpl = NULL;
	size_t nsi = 0, nrefs = 0, ntmpl = 0;
	int rc = -1;

	if (db_si_lock_of_processes(db, req->tenant, biz_id, ids, n, DB_SI_LOCK_DELETE,
		&si, &nsi, e) != 0 ||
	    db_proc_lock_refs(db, req->tenant, biz_id, ids, n, &refs, &nrefs, e) != 0)
		goto out;
	found = calloc(nrefs + 1, sizeof(*found));
	tmpl = calloc(n + 1, sizeof(*tmpl));
	if (found == NULL || tmpl == NULL) {
		err_oom(e);
		goto out;
	}
	for (size_t k = 0; k < nrefs; k++)
		found[k] = refs[k].id;
	/* §11.9: an unknown id is reported even when another is from a template. */
	if (check_unknown(req, ids, n, found, nrefs, biz_id, field, e) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < nrefs; k++)
			if (refs[k].id == ids[i] && refs[k].process_template_id != 0)
				tmpl[ntmpl++] = ids[i];
	if (ntmpl > 0) {
		svc_ids_error(req, ERR_PROC_FROM_TEMPLATE, field, tmpl, ntmpl,
		    "was created from a service template; such a process goes with its service instance (delete_service_instance)",
		    "were created from a service template; such processes go with their service instance (delete_service_instance)",
		    e);
		goto out;
	}
	/* bk-cmdb's checkIfSvcInstNeedCascadeDelete: an instance left without
	 * a process goes too. The instances are locked, so no process can be
	 * added to one meanwhile. */
	if (db_proc_delete(db, req->tenant, ids, n, e) != 0 ||
	    db_si_delete(db, req->tenant, si, nsi, true, e) != 0)
		goto out;
	rc = 0;
out:
	free(refs);
	free(si);
	free(found);
	free(tmpl);
	return rc;
}

/* §11.7 row 6 and the delete, in the caller's transaction. */
static int
delete_instances(const struct svc_req *req, int64_t biz_id, const int64_t *ids,
    size_t n, struct err *e)
{
	struct db *db = req->ctx->db;
	int64_t *found = NULL;
	size_t nfound = 0;
	int rc = -1;

	if (db_si_lock_ids(db, req->tenant, biz_id, ids, n, &found, &nfound, e) != 0 ||
	    check_unknown(req, ids, n, found, nfound, biz_id, "service_instance_ids", e) != 0)
		goto out;
	/* §11.2's order, then the delete cascades to processes and bind rows. */
	if (db_proc_lock_instances(db, req->tenant, found, nfound, e) != 0 ||
	    db_si_delete(db, req->tenant, found, nfound, false, e) != 0)
		goto out;
	rc = 0;
out:
	free(found);
	return rc;
}

typedef int (*delete_fn)(const struct svc_req *req, int64_t biz_id,
    const int64_t *ids, size_t n, struct err *e);

/* Runs fn over the distinct ids in one transaction. */
static int
run(const struct svc_req *req, const struct svc_delete *in, delete_fn fn,
    struct err *e)
{
	struct db *db = req->ctx->db;
	size_t n;
	int64_t *ids = distinct(&in->ids, &n);
	int rc = -1;

	if (ids == NULL)
		return err_oom(e);
	if (db_begin(db, e) != 0)
		goto out;
	if (fn(req, in->biz_id, ids, n, e) != 0) {
		db_rollback(db);
		goto out;
	}
	rc = db_commit(db, e); /* ends the transaction even when it fails */
out:
	free(ids);
	return rc;
}

int
svc_process_delete(const struct svc_req *req, const struct svc_delete *in,
    struct err *e)
{
	if (check_request(in, "process_instance_ids", "process", e) != 0)
		return -1;
	return run(req, in, delete_processes, e);
}

int
svc_instance_delete(const struct svc_req *req, const struct svc_delete *in,
    struct err *e)
{
	if (check_request(in, "service_instance_ids", "service instance", e) != 0)
		return -1;
	return run(req, in, delete_instances, e);
}
