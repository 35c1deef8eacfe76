#include "service/process.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jpath.h"
#include "db/db.h"
#include "db/instance.h"
#include "db/process.h"
#include "service/unique.h"

void
svc_proc_batch_free(struct svc_proc_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		proc_values_clear(&b->items[i]);
	free(b->items);
	b->items = NULL;
	b->n = 0;
}

/* §7 rows 2-6, in table order. */
static int
check_request(const struct svc_req *req, const struct svc_proc_batch *in,
    struct db_si *si, struct err *e)
{
	bool found;

	if (in->n == 0) {
		err_set(e, ERR_WRONG_TYPE, "processes", "must be a non-empty array of processes");
		return -1;
	}
	if (in->n > SVC_MAX_BATCH) {
		err_set(e, ERR_TOO_MANY, "processes", "%zu processes in one request; the limit is %d",
		    in->n, SVC_MAX_BATCH);
		return -1;
	}
	if (svc_require_id(in->service_instance_id, ERR_BAD_VALUE, "service_instance_id", e) != 0)
		return -1;
	if (svc_require_id(in->biz_id, ERR_BAD_VALUE, "bk_biz_id", e) != 0)
		return -1;
	if (db_si_get(req->ctx->db, req->tenant, in->service_instance_id, si, &found, e) != 0)
		return -1;
	if (!found) {
		err_set(e, ERR_NOT_FOUND, "service_instance_id", "service instance %" PRId64 " does not exist",
		    in->service_instance_id);
		return -1;
	}
	if (si->biz_id != in->biz_id) {
		err_set(e, ERR_BAD_VALUE, "bk_biz_id", "service instance %" PRId64 " belongs to business %" PRId64 ", not %" PRId64,
		    si->id, si->biz_id, in->biz_id);
		return -1;
	}
	if (si->service_template_id != 0) {
		err_set(e, ERR_SI_FROM_TEMPLATE, "service_instance_id",
		    "service instance %" PRId64 " was created from service template %" PRId64
		    "; its processes come from the template",
		    si->id, si->service_template_id);
		return -1;
	}
	return 0;
}

static void
process_path(struct jpath *p, size_t i, bool by_name, const void *arg)
{
	(void)arg;
	jpath_elem(p, "processes", i);
	jpath_key(p, "process_info");
	jpath_key(p, proc_attrs[by_name ? PAI_PROCESS_NAME : PAI_FUNC_NAME].name);
}

static const struct svc_unique_rule unique_rule = { ERR_DUPLICATE, ERR_DUPLICATE,
	"service instance", "existing process", process_path, NULL };

/* §7 row 7: attribute errors, then duplicates (batch and stored). */
static int
check_processes(const struct svc_req *req, const struct svc_proc_batch *in,
    struct err *e)
{
	struct proc_key_list existing = { 0 };
	const struct proc_values **procs = calloc(in->n, sizeof(*procs));
	int rc = -1;

	if (procs == NULL) {
		err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < in->n; i++) {
		const struct err *bad = proc_values_first_error(&in->items[i], NULL, NULL);
		if (bad != NULL) {
			err_copy(e, bad);
			goto out;
		}
		procs[i] = &in->items[i];
	}
	if (db_proc_keys(req->ctx->db, req->tenant, in->service_instance_id, &existing, e) != 0)
		goto out;
	rc = svc_check_unique(procs, in->n, &existing, &unique_rule, e);
out:
	proc_key_list_free(&existing);
	free(procs);
	return rc;
}

/*
 * The common case in one round trip. When every part of rows 2-7 that
 * needs no database passes (sizes, ids, attributes, the batch's own
 * duplicates), one statement runs the rest of rows 4-7 and the insert
 * (db_proc_create_checked). When it writes nothing (a check failed) or
 * breaks a constraint (a race), nothing was written and the checks run
 * in table order as before, which find and name the error. *done: the
 * processes were created (out holds their ids).
 */
static int
create_at_once(const struct svc_req *req, const struct svc_proc_batch *in,
    struct id_list *out, bool *done, struct err *e)
{
	const struct proc_values **procs = NULL;
	struct db_proc_new *rows = NULL;
	struct err pre = { 0 };
	int rc = -1;

	*done = false;
	if (in->n == 0 || in->n > SVC_MAX_BATCH || in->service_instance_id <= 0 ||
	    in->biz_id <= 0)
		return 0;
	procs = calloc(in->n, sizeof(*procs));
	rows = calloc(in->n, sizeof(*rows));
	out->ids = calloc(in->n, sizeof(*out->ids));
	if (procs == NULL || rows == NULL || out->ids == NULL) {
		err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < in->n; i++) {
		if (proc_values_first_error(&in->items[i], NULL, NULL) != NULL) {
			rc = 0;
			goto out;
		}
		procs[i] = &in->items[i];
		/* The host is the instance's, read by the statement. */
		rows[i] = (struct db_proc_new){ in->biz_id, in->service_instance_id, 0, 0, &in->items[i] };
	}
	if (svc_check_unique(procs, in->n, NULL, &unique_rule, &pre) != 0 ||
	    db_proc_create_checked(req->ctx->db, req->tenant, req->username, in->biz_id,
		rows, in->n, out->ids, done, &pre) != 0) {
		/* A contract error is told by the checks in order; a server
		 * fault is final. */
		if (pre.http_status != 200)
			err_copy(e, &pre);
		else
			rc = 0;
		goto out;
	}
	if (*done)
		out->n = in->n;
	rc = 0;
out:
	if (!*done)
		id_list_free(out);
	free(procs);
	free(rows);
	return rc;
}

int
svc_process_create(const struct svc_req *req, const struct svc_proc_batch *in,
    struct id_list *out, struct err *e)
{
	struct db *db = req->ctx->db;
	struct db_proc_new *rows = NULL;
	struct db_si si;
	bool in_tx = false, raced = false, done;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (in->n == 0 || in->n > SVC_MAX_BATCH) /* rows 2-3 need no database */
		return check_request(req, in, &si, e);
	if (create_at_once(req, in, out, &done, e) != 0 || done)
		return done ? 0 : -1;
	if (db_begin(db, e) != 0)
		goto out;
	in_tx = true;
	if (check_request(req, in, &si, e) != 0 || check_processes(req, in, e) != 0)
		goto out;
	rows = calloc(in->n, sizeof(*rows));
	out->ids = calloc(in->n, sizeof(*out->ids));
	if (rows == NULL || out->ids == NULL) {
		err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < in->n; i++)
		rows[i] = (struct db_proc_new){ si.biz_id, si.id, 0, si.host_id, &in->items[i] };
	if (db_proc_insert(db, req->tenant, req->username, rows, in->n, out->ids, e) != 0) {
		raced = e->code == ERR_DUPLICATE;
		goto out;
	}
	in_tx = false; /* COMMIT ends the transaction even when it fails */
	if (db_commit(db, e) != 0)
		goto out;
	out->n = in->n;
	rc = 0;
out:
	if (in_tx)
		db_rollback(db);
	if (raced) {
		/* Lost a race at the unique constraint: the winner has committed,
		 * so the duplicate check now names both processes. */
		struct err again = { 0 };
		if (check_processes(req, in, &again) != 0 && again.code == ERR_DUPLICATE)
			*e = again;
	}
	if (rc != 0)
		id_list_free(out);
	free(rows);
	return rc;
}

int
svc_process_list(const struct svc_req *req, int64_t biz_id,
    int64_t service_instance_id, struct proc_record_list *out,
    struct err *e)
{
	memset(out, 0, sizeof(*out));
	if (svc_require_id(service_instance_id, ERR_BAD_VALUE, "service_instance_id", e) != 0)
		return -1;
	if (svc_require_id(biz_id, ERR_BAD_VALUE, "bk_biz_id", e) != 0)
		return -1;
	svc_ctx_read_replica(req->ctx);
	if (db_ready(req->ctx->db, e) != 0)
		return -1;
	return db_proc_list(req->ctx->db, req->tenant, biz_id, service_instance_id, out, e);
}
