#include "service/template.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jpath.h"
#include "db/db.h"
#include "db/template.h"
#include "service/process.h"
#include "service/unique.h"


int
svc_ptmpl_load(const struct svc_req *req, int64_t biz_id,
    int64_t service_template_id, struct proc_template_list *out, struct err *e)
{
	return db_ptmpl_list(req->ctx->db, req->tenant, biz_id, service_template_id,
	    out, e);
}

int
svc_ptmpl_find(const struct svc_req *req, int64_t biz_id,
    int64_t service_template_id, struct proc_template_list *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	if (svc_require_id(biz_id, ERR_BAD_VALUE, "bk_biz_id", e) != 0)
		return -1;
	if (svc_require_id(service_template_id, ERR_BAD_VALUE, "service_template_id", e) != 0)
		return -1;
	svc_ctx_read_replica(req->ctx);
	return svc_ptmpl_load(req, biz_id, service_template_id, out, e);
}

/* ---- create_service_template ---- */

static const struct proc_attr stmpl_name_attr = {
	"name",
	PA_STR,
	1,
	SVC_STMPL_NAME_MAX,
	PA_REQUIRED,
	NULL,
};

void
svc_stmpl_in_free(struct svc_stmpl_in *in)
{
	pval_clear(&in->name);
}

static void
stmpl_from_db(struct svc_stmpl *out, const struct db_stmpl *t)
{
	out->id = t->id;
	out->biz_id = t->biz_id;
	out->category_id = t->category_id;
	snprintf(out->name, sizeof(out->name), "%s", t->name);
	snprintf(out->tenant, sizeof(out->tenant), "%s", t->tenant);
	snprintf(out->creator, sizeof(out->creator), "%s", t->creator);
	snprintf(out->modifier, sizeof(out->modifier), "%s", t->modifier);
	snprintf(out->create_time, sizeof(out->create_time), "%s", t->create_time);
	snprintf(out->last_time, sizeof(out->last_time), "%s", t->last_time);
}

int
svc_stmpl_create(const struct svc_req *req, const struct svc_stmpl_in *in,
    struct svc_stmpl *out, struct err *e)
{
	struct pval name = { 0 };
	struct db_stmpl row;
	int rc = -1;

	if (svc_require_id(in->biz_id, ERR_BAD_VALUE, "bk_biz_id", e) != 0)
		return -1;
	if (pval_copy(&name, &in->name) != 0)
		return err_oom(e);
	pval_check(&name, &stmpl_name_attr, "name");
	if (name.state == PV_BAD) {
		err_copy(e, name.bad);
		goto out;
	}
	if (in->category_id < 0) {
		err_set(e, ERR_BAD_VALUE, "service_category_id",
		    "%" PRId64 " is not an integer >= 0", in->category_id);
		goto out;
	}
	/* One statement: no transaction needed; the constraint settles races. */
	rc = db_stmpl_insert(req->ctx->db, req->tenant, req->username, in->biz_id,
	    name.s, in->category_id, &row, e);
	if (rc == 0)
		stmpl_from_db(out, &row);
out:
	pval_clear(&name);
	return rc;
}

/* ---- batch_create_proc_template ---- */

void
svc_ptmpl_batch_free(struct svc_ptmpl_batch *b)
{
	proc_template_list_free(&b->items);
}

/* Rows 2-5 of the batch: nothing to look up yet. */
static int
check_request(const struct svc_ptmpl_batch *in, struct err *e)
{
	if (in->items.n > SVC_MAX_BATCH) {
		err_set(e, ERR_TOO_MANY, "processes", "%zu process templates in one request; the limit is %d",
		    in->items.n, SVC_MAX_BATCH);
		return -1;
	}
	if (svc_require_id(in->biz_id, ERR_BAD_VALUE, "bk_biz_id", e) != 0)
		return -1;
	if (svc_require_id(in->service_template_id, ERR_BAD_VALUE, "service_template_id", e) != 0)
		return -1;
	return 0;
}

static int
check_service_template(const struct svc_req *req,
    const struct svc_ptmpl_batch *in, struct err *e)
{
	struct db_stmpl st;
	bool found;

	if (db_stmpl_get(req->ctx->db, req->tenant, in->service_template_id, &st, &found, e) != 0)
		return -1;
	if (!found) {
		err_set(e, ERR_BAD_VALUE, "service_template_id",
		    "service template %" PRId64 " does not exist", in->service_template_id);
		return -1;
	}
	if (st.biz_id != in->biz_id) {
		err_set(e, ERR_BAD_VALUE, "bk_biz_id",
		    "service template %" PRId64 " belongs to business %" PRId64 ", not %" PRId64,
		    st.id, st.biz_id, in->biz_id);
		return -1;
	}
	return 0;
}

/* Every value counts, locked or not: it is what instances will get. */
static int
check_attributes(const struct svc_ptmpl_batch *in, struct err *e)
{
	for (size_t i = 0; i < in->items.n; i++) {
		const struct err *bad = proc_values_first_error(&in->items.items[i].v, NULL, NULL);
		if (bad != NULL) {
			err_copy(e, bad);
			return -1;
		}
	}
	return 0;
}

static void
template_path(struct jpath *p, size_t i, bool by_name, const void *arg)
{
	(void)arg;
	jpath_elem(p, "processes", i);
	jpath_key(p, "spec");
	jpath_key(p, proc_attrs[by_name ? PAI_PROCESS_NAME : PAI_FUNC_NAME].name);
	jpath_key(p, "value");
}

/* api-contract.md §4: names unique within the service template, among the
 * batch and the templates already stored (read here). */
static int
check_unique(const struct svc_req *req, const struct svc_ptmpl_batch *in,
    struct err *e)
{
	static const struct svc_unique_rule rule = { ERR_PT_NAME_DUP, ERR_PT_FUNC_DUP,
		"service template", "process template", template_path, NULL };
	const struct proc_values **procs = calloc(in->items.n + 1, sizeof(*procs));
	struct proc_key_list stored = { 0 };
	int rc = -1;

	if (procs == NULL)
		return err_oom(e);
	for (size_t i = 0; i < in->items.n; i++)
		procs[i] = &in->items.items[i].v;
	if (db_ptmpl_keys(req->ctx->db, req->tenant, in->service_template_id, &stored, e) == 0)
		rc = svc_check_unique(procs, in->items.n, &stored, &rule, e);
	proc_key_list_free(&stored);
	free(procs);
	return rc;
}

static int
insert_batch(const struct svc_req *req, const struct svc_ptmpl_batch *in,
    struct id_list *out, struct err *e)
{
	struct db_ptmpl_new *rows = calloc(in->items.n, sizeof(*rows));
	int rc = -1;

	out->ids = calloc(in->items.n, sizeof(*out->ids));
	if (rows == NULL || out->ids == NULL) {
		rc = err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < in->items.n; i++) {
		const struct proc_template *t = &in->items.items[i];
		rows[i] = (struct db_ptmpl_new){ &t->v, t->locked,
			(const bool(*)[BIND_KEY_COUNT])t->row_locked };
	}
	if (db_ptmpl_insert(req->ctx->db, req->tenant, req->username, in->biz_id,
		in->service_template_id, rows, in->items.n, out->ids, e) != 0)
		goto out;
	out->n = in->items.n;
	rc = 0;
out:
	free(rows);
	return rc;
}

int
svc_ptmpl_create(const struct svc_req *req, const struct svc_ptmpl_batch *in,
    struct id_list *out, struct err *e)
{
	struct db *db = req->ctx->db;
	bool in_tx = false, raced = false;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (in->items.n == 0) /* bk-cmdb answers an empty batch with [] */
		return 0;
	if (check_request(in, e) != 0)
		return -1;
	if (db_begin(db, e) != 0)
		goto out;
	in_tx = true;
	if (check_service_template(req, in, e) != 0 || check_attributes(in, e) != 0 ||
	    check_unique(req, in, e) != 0)
		goto out;
	if (insert_batch(req, in, out, e) != 0) {
		raced = e->code == ERR_PT_NAME_DUP || e->code == ERR_PT_FUNC_DUP;
		goto out;
	}
	in_tx = false; /* COMMIT ends the transaction even when it fails */
	if (db_commit(db, e) != 0)
		goto out;
	rc = 0;
out:
	if (in_tx)
		db_rollback(db);
	if (raced) {
		/* Lost a race at a unique constraint: with the winner committed,
		 * the uniqueness check names the item and what it collides with. */
		struct err again = { 0 };
		if (check_unique(req, in, &again) != 0 &&
		    (again.code == ERR_PT_NAME_DUP || again.code == ERR_PT_FUNC_DUP))
			*e = again;
	}
	if (rc != 0)
		id_list_free(out);
	return rc;
}
