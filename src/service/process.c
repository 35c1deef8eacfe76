#include "service/process.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/instance.h"
#include "db/process.h"

void
svc_proc_batch_free(struct svc_proc_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		proc_values_clear(&b->items[i]);
	free(b->items);
	b->items = NULL;
	b->n = 0;
}

/*
 * One member of a uniqueness comparison: a process of the request
 * (idx >= 0) or one already stored (idx = -1, earlier than any request
 * item).
 */
struct member {
	long idx;
	int64_t stored_id;
	const char *k1, *k2; /* name, or func + regex */
};

static int
member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c = strcmp(x->k1, y->k1);

	if (c == 0)
		c = strcmp(x->k2, y->k2);
	if (c == 0)
		c = (x->idx > y->idx) - (x->idx < y->idx);
	return c;
}

static const char *
str_or_empty(const struct pval *p)
{
	return p->state == PV_SET && p->s ? p->s : "";
}

/*
 * Sorts the members and finds, over all groups of equal keys, the request
 * item with the lowest index that has an earlier equal member. *offender
 * and *first are that item and the member it repeats (NULL when unique).
 */
static void
find_duplicate(struct member *m, size_t n, const struct member **offender,
    const struct member **first)
{
	*offender = *first = NULL;
	qsort(m, n, sizeof(*m), member_cmp);
	for (size_t i = 1; i < n; i++) {
		/* m[i-1] is the group's earliest member when keys match. */
		size_t g = i - 1;
		if (strcmp(m[i].k1, m[g].k1) != 0 || strcmp(m[i].k2, m[g].k2) != 0)
			continue;
		while (g > 0 && strcmp(m[g - 1].k1, m[i].k1) == 0 &&
		    strcmp(m[g - 1].k2, m[i].k2) == 0)
			g--;
		if (*offender == NULL || m[i].idx < (*offender)->idx) {
			*offender = &m[i];
			*first = &m[g];
		}
	}
}

static void
report(const struct member *dup, const struct member *first,
    const struct svc_unique_rule *rule, bool by_name, struct err *e)
{
	char q1[96], q2[96], other[300];
	struct jpath path, first_path;

	jpath_init(&path);
	rule->path(&path, (size_t)dup->idx, by_name, rule->arg);
	jpath_init(&first_path);
	if (first->idx >= 0) {
		rule->path(&first_path, (size_t)first->idx, by_name, rule->arg);
		snprintf(other, sizeof(other), "%s", jpath_str(&first_path));
	} else {
		snprintf(other, sizeof(other), "%s %" PRId64, rule->stored, first->stored_id);
	}
	if (by_name)
		err_set(e, rule->name_code, jpath_str(&path),
		    "%s is already used by %s; bk_process_name must be unique in a %s",
		    err_quote(q1, sizeof(q1), dup->k1), other, rule->scope);
	else
		err_set(e, rule->func_code, jpath_str(&path),
		    "%s with bk_start_param_regex %s is already used by %s; bk_func_name + bk_start_param_regex must be unique in a %s",
		    err_quote(q1, sizeof(q1), dup->k1), err_quote(q2, sizeof(q2), dup->k2),
		    other, rule->scope);
}

int
svc_check_unique(const struct proc_values *const *procs, size_t n,
    const struct db_key_list *stored, const struct svc_unique_rule *rule,
    struct err *e)
{
	size_t nstored = stored ? stored->n : 0, total = n + nstored;
	struct member *names = calloc(total + 1, sizeof(*names));
	struct member *funcs = calloc(total + 1, sizeof(*funcs));
	const struct member *dn, *fn, *dn_first, *fn_first;
	int rc = -1;

	if (names == NULL || funcs == NULL) {
		err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < nstored; i++) {
		const struct db_key *k = &stored->items[i];
		names[i] = (struct member){ -1, k->id, k->name, "" };
		funcs[i] = (struct member){ -1, k->id, k->func, k->regex };
	}
	for (size_t i = 0; i < n; i++) {
		const struct proc_values *v = procs[i];
		names[nstored + i] = (struct member){ (long)i, 0,
			str_or_empty(&v->attr[PAI_PROCESS_NAME]), "" };
		funcs[nstored + i] = (struct member){ (long)i, 0,
			str_or_empty(&v->attr[PAI_FUNC_NAME]),
			str_or_empty(&v->attr[PAI_START_PARAM_REGEX]) };
	}
	find_duplicate(names, total, &dn, &dn_first);
	find_duplicate(funcs, total, &fn, &fn_first);
	/* The earlier process in input order is reported; on a tie, its name. */
	if (dn != NULL && (fn == NULL || dn->idx <= fn->idx))
		report(dn, dn_first, rule, true, e);
	else if (fn != NULL)
		report(fn, fn_first, rule, false, e);
	else
		rc = 0;
out:
	free(names);
	free(funcs);
	return rc;
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
		    "; its processes come from the template", si->id, si->service_template_id);
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

/* §7 row 7: attribute errors, then duplicates (batch and stored). */
static int
check_processes(const struct svc_req *req, const struct svc_proc_batch *in,
    struct err *e)
{
	static const struct svc_unique_rule rule = { ERR_DUPLICATE, ERR_DUPLICATE,
		"service instance", "existing process", process_path, NULL };
	struct db_key_list existing = { 0 };
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
	rc = svc_check_unique(procs, in->n, &existing, &rule, e);
out:
	db_key_list_free(&existing);
	free(procs);
	return rc;
}

int
svc_process_create(const struct svc_req *req, const struct svc_proc_batch *in,
    struct id_list *out, struct err *e)
{
	struct db *db = req->ctx->db;
	struct db_proc_new *rows = NULL;
	struct db_si si;
	bool in_tx = false, raced = false;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (in->n == 0 || in->n > SVC_MAX_BATCH) /* rows 2-3 need no database */
		return check_request(req, in, &si, e);
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
	if (db_proc_insert(db, req->tenant, req->operator, rows, in->n, out->ids, e) != 0) {
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
	if (db_ready(req->ctx->db, e) != 0)
		return -1;
	return db_proc_list(req->ctx->db, req->tenant, biz_id, service_instance_id, out, e);
}
