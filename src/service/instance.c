#include "service/instance.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jpath.h"
#include "db/db.h"
#include "db/instance.h"
#include "db/process.h"
#include "service/merge.h"
#include "service/process.h"
#include "service/template.h"
#include "service/unique.h"

const struct proc_attr svc_si_name_attr = {
	"service_instance_name",
	PA_STR,
	0,
	256,
	0,
	NULL,
};

void
svc_si_batch_free(struct svc_si_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct svc_si_in *in = &b->items[i];
		for (size_t p = 0; p < in->nprocs; p++)
			proc_values_clear(&in->procs[p].v);
		free(in->procs);
		pval_clear(&in->name);
	}
	free(b->items);
	b->items = NULL;
	b->n = 0;
}

/* The processes one instance will get, after the template merge. */
struct si_plan {
	const struct db_host *host;
	struct proc_values *procs; /* owned when from a template, else borrowed */
	int64_t *template_ids;
	size_t n;
	bool owned;
};

/* Everything create_service_instance holds between its steps. */
struct si_work {
	const struct svc_req *req;
	const struct svc_si_batch *in;
	struct db_module module;
	struct db_host_list hosts;
	struct proc_template_list tmpl;
	struct si_plan *plans; /* in->n entries */
	/* A host lacking the address an IP code needs: found by the merge,
	 * reported after row 13 so that it never hides a table row. */
	struct err no_address;
};

static void
work_free(struct si_work *w)
{
	for (size_t i = 0; w->plans != NULL && i < w->in->n; i++) {
		struct si_plan *p = &w->plans[i];
		if (p->owned)
			for (size_t k = 0; k < p->n; k++)
				proc_values_clear(&p->procs[k]);
		if (p->owned)
			free(p->procs);
		free(p->template_ids);
	}
	free(w->plans);
	db_host_list_free(&w->hosts);
	proc_template_list_free(&w->tmpl);
}


static bool
is_template_module(const struct si_work *w)
{
	return w->module.service_template_id != 0;
}

/* Sets p to instances[i], then .key unless key is NULL. Returns its text. */
static const char *
item_path(struct jpath *p, size_t i, const char *key)
{
	jpath_init(p);
	jpath_elem(p, "instances", i);
	if (key != NULL)
		jpath_key(p, key);
	return jpath_str(p);
}

/* Sets p to instances[i].processes[k], then .process_info.<field> unless
 * field is NULL. Returns its text. */
static const char *
proc_path(struct jpath *p, size_t i, size_t k, const char *field)
{
	item_path(p, i, NULL);
	jpath_elem(p, "processes", k);
	if (field != NULL) {
		jpath_key(p, "process_info");
		jpath_key(p, field);
	}
	return jpath_str(p);
}

/* Rows 2-3: nothing to look up yet. */
static int
check_batch_size(const struct svc_si_batch *in, struct err *e)
{
	if (in->n == 0) {
		err_set(e, ERR_REQUIRED, "instances", "is required (a non-empty array of instances)");
		return -1;
	}
	if (in->n > SVC_MAX_BATCH) {
		err_set(e, ERR_TOO_MANY, "instances", "%zu instances in one request; the limit is %d",
		    in->n, SVC_MAX_BATCH);
		return -1;
	}
	return 0;
}

/* Rows 4-7: the module and, for a template module, its templates. */
static int
check_module(struct si_work *w, struct err *e)
{
	const struct svc_si_batch *in = w->in;
	bool found;

	if (svc_require_id(in->module_id, ERR_BAD_VALUE, "bk_module_id", e) != 0)
		return -1;
	if (db_module_get(w->req->ctx->db, w->req->tenant, in->module_id, &w->module, &found, e) != 0)
		return -1;
	if (!found) {
		err_set(e, ERR_MODULE_UNKNOWN, "bk_module_id", "module %" PRId64 " does not exist", in->module_id);
		return -1;
	}
	/* §10: a missing business is answered as row 5. */
	if (svc_require_id(in->biz_id, ERR_MODULE_OTHER_BIZ, "bk_biz_id", e) != 0)
		return -1;
	if (w->module.biz_id != in->biz_id) {
		err_set(e, ERR_MODULE_OTHER_BIZ, "bk_biz_id", "module %" PRId64 " belongs to business %" PRId64 ", not %" PRId64,
		    in->module_id, w->module.biz_id, in->biz_id);
		return -1;
	}
	if (w->module.default_kind != 0) {
		err_set(e, ERR_BAD_VALUE, "bk_module_id",
		    "module %" PRId64 " is an idle, fault or recycle module; service instances cannot be created in it",
		    in->module_id);
		return -1;
	}
	if (!is_template_module(w))
		return 0;
	/* A template of another business counts as missing (check 7). */
	if (svc_ptmpl_load(w->req, w->module.biz_id, w->module.service_template_id, &w->tmpl, e) != 0)
		return -1;
	if (w->tmpl.n == 0) {
		err_set(e, ERR_BAD_VALUE, "service_template_id",
		    "service template %" PRId64 " of module %" PRId64 " has no process templates in business %" PRId64,
		    w->module.service_template_id, in->module_id, w->module.biz_id);
		return -1;
	}
	return 0;
}

/* Row 8: without a template, every instance brings its processes. */
static int
check_has_processes(const struct si_work *w, struct err *e)
{
	struct jpath path;

	if (is_template_module(w))
		return 0;
	for (size_t i = 0; i < w->in->n; i++)
		if (w->in->items[i].nprocs == 0) {
			err_set(e, ERR_REQUIRED, item_path(&path, i, "processes"), "is required: a module without a service template needs at least one process per instance");
			return -1;
		}
	return 0;
}

static const struct db_host *
find_host(const struct db_host_list *l, int64_t id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].id == id)
			return &l->items[i];
	return NULL;
}

/* Row 9: one query for all hosts; the message lists every bad id once. */
static int
check_hosts(struct si_work *w, struct err *e)
{
	const struct svc_si_batch *in = w->in;
	int64_t *ids = calloc(in->n, sizeof(*ids)), *bad = calloc(in->n, sizeof(*bad));
	char list[300];
	size_t nbad = 0, shown;
	int rc = -1;

	if (ids == NULL || bad == NULL) {
		rc = err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < in->n; i++)
		ids[i] = in->items[i].host_id;
	if (db_module_hosts(w->req->ctx->db, w->req->tenant, in->module_id, ids, in->n, &w->hosts, e) != 0)
		goto out;
	for (size_t i = 0; i < in->n; i++) {
		bool seen = find_host(&w->hosts, ids[i]) != NULL;
		for (size_t k = 0; !seen && k < nbad; k++)
			seen = bad[k] == ids[i];
		if (!seen)
			bad[nbad++] = ids[i];
	}
	if (nbad > 0) {
		shown = err_id_list(list, sizeof(list) - 24, bad, nbad); /* room for " and N more" */
		if (shown < nbad)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), " and %zu more", nbad - shown);
		err_set(e, ERR_HOST_NOT_IN_MODULE, "instances",
		    "host%s %s %s not exist or %s not in module %" PRId64, nbad > 1 ? "s" : "", list,
		    nbad > 1 ? "do" : "does", nbad > 1 ? "are" : "is", in->module_id);
		goto out;
	}
	rc = 0;
out:
	free(ids);
	free(bad);
	return rc;
}

/* Row 10: one instance per host and template in a module. The unique index
 * service_instance_template_host_key settles races; this names the host. */
static int
check_template_hosts(struct si_work *w, struct err *e)
{
	const struct svc_si_batch *in = w->in;
	int64_t *ids, dup = 0;
	struct jpath path, other;
	int rc = -1;

	if (!is_template_module(w))
		return 0;
	for (size_t i = 0; i < in->n; i++)
		for (size_t k = 0; k < i; k++)
			if (in->items[k].host_id == in->items[i].host_id) {
				item_path(&path, i, "bk_host_id");
				err_set(e, ERR_TEMPLATE_HOST_DUP, jpath_str(&path),
				    "host %" PRId64 " appears twice (also %s); a host gets one instance of service template %" PRId64,
				    in->items[i].host_id, item_path(&other, k, NULL), w->module.service_template_id);
				return -1;
			}
	ids = calloc(in->n, sizeof(*ids));
	if (ids == NULL)
		return err_oom(e);
	for (size_t i = 0; i < in->n; i++)
		ids[i] = in->items[i].host_id;
	if (db_si_template_hosts(w->req->ctx->db, w->req->tenant, in->module_id,
		w->module.service_template_id, ids, in->n, &dup, e) != 0)
		goto out;
	if (dup != 0) {
		size_t i = 0;
		while (ids[i] != dup)
			i++;
		err_set(e, ERR_TEMPLATE_HOST_DUP, item_path(&path, i, "bk_host_id"),
		    "host %" PRId64 " already has an instance of service template %" PRId64 " in module %" PRId64,
		    dup, w->module.service_template_id, in->module_id);
		goto out;
	}
	rc = 0;
out:
	free(ids);
	return rc;
}

/* The first processes[] entry of in for template id, or NULL. */
static const struct proc_values *
override_for(const struct svc_si_in *in, int64_t template_id)
{
	for (size_t p = 0; p < in->nprocs; p++)
		if (in->procs[p].template_id == template_id)
			return &in->procs[p].v;
	return NULL;
}

/* Row 11 across the batch: names, then each process, in input order. */
static int
check_attributes(const struct si_work *w, struct err *e)
{
	for (size_t i = 0; i < w->in->n; i++) {
		const struct svc_si_in *in = &w->in->items[i];
		if (in->name.state == PV_BAD) {
			err_copy(e, in->name.bad);
			return -1;
		}
		for (size_t p = 0; p < in->nprocs; p++) {
			const struct svc_si_proc *sp = &in->procs[p];
			const struct err *bad = NULL;
			if (!is_template_module(w)) {
				bad = proc_values_first_error(&sp->v, NULL, NULL);
			} else if (sp->template_id != 0 &&
			    override_for(in, sp->template_id) == &sp->v) {
				/* Only the first entry per template is merged, so only
				 * it is checked; foreign templates fail at row 13. */
				const struct proc_template *t = proc_template_find(&w->tmpl, sp->template_id);
				bad = t ? merge_override_error(t, &sp->v) : NULL;
			}
			if (bad != NULL) {
				err_copy(e, bad);
				return -1;
			}
		}
	}
	return 0;
}

static int
plan_template(struct si_work *w, size_t i, struct si_plan *plan,
    struct err *e)
{
	const struct svc_si_in *in = &w->in->items[i];
	const struct merge_host host = { plan->host->id, plan->host->innerip,
		plan->host->outerip, plan->host->innerip_v6, plan->host->outerip_v6 };
	struct jpath host_path;

	plan->owned = true;
	plan->procs = calloc(w->tmpl.n, sizeof(*plan->procs));
	plan->template_ids = calloc(w->tmpl.n, sizeof(*plan->template_ids));
	if (plan->procs == NULL || plan->template_ids == NULL)
		return err_oom(e);
	item_path(&host_path, i, "bk_host_id");
	for (size_t t = 0; t < w->tmpl.n; t++) {
		const struct proc_template *pt = &w->tmpl.items[t];
		plan->n = t + 1; /* what plan owns so far, for work_free */
		plan->template_ids[t] = pt->id;
		struct err merge = { 0 };
		if (merge_instantiate(pt, &host, override_for(in, pt->id),
			jpath_str(&host_path), &plan->procs[t], &merge) == 0)
			continue;
		if (merge.http_status != 200) { /* out of memory */
			err_copy(e, &merge);
			return -1;
		}
		err_copy(&w->no_address, &merge); /* keeps the first, in input order */
	}
	return 0;
}

static int
plan_plain(const struct svc_si_in *in, struct si_plan *plan, struct err *e)
{
	/* Without a template the decoded values are final: borrow them. */
	plan->owned = false;
	plan->n = in->nprocs;
	plan->template_ids = calloc(in->nprocs + 1, sizeof(*plan->template_ids));
	return plan->template_ids ? 0 : err_oom(e);
}

/* The merge step: what each instance gets, before rows 12-13. */
static int
build_plans(struct si_work *w, struct err *e)
{
	w->plans = calloc(w->in->n, sizeof(*w->plans));
	if (w->plans == NULL)
		return err_oom(e);
	for (size_t i = 0; i < w->in->n; i++) {
		struct si_plan *plan = &w->plans[i];
		plan->host = find_host(&w->hosts, w->in->items[i].host_id);
		if ((is_template_module(w) ? plan_template(w, i, plan, e) :
					     plan_plain(&w->in->items[i], plan, e)) != 0)
			return -1;
	}
	return 0;
}

static const struct proc_values *
plan_proc(const struct si_work *w, size_t i, size_t k)
{
	const struct si_plan *plan = &w->plans[i];

	return plan->owned ? &plan->procs[k] : &w->in->items[i].procs[k].v;
}

/* The index of the processes[] entry the merge used for template_id, or -1. */
static long
entry_index(const struct svc_si_in *in, int64_t template_id)
{
	for (size_t p = 0; p < in->nprocs; p++)
		if (in->procs[p].template_id == template_id)
			return (long)p;
	return -1;
}

static bool
same_str(const struct pval *a, const struct pval *b)
{
	const char *x = a->state == PV_SET && a->s ? a->s : "";
	const char *y = b->state == PV_SET && b->s ? b->s : "";

	return strcmp(x, y) == 0;
}

/*
 * Row 12 on a template module. Templates are unique in their service
 * template and both names are always locked, so only an unlocked
 * bk_start_param_regex override can make two processes collide. The merged
 * list is in template order, not the input's, so the message names the
 * processes[] entry the client sent (and, for the other side, its entry or
 * the process template it left alone) rather than a merged position.
 */
static int
check_unique_template(const struct si_work *w, size_t i, struct err *e)
{
	const struct si_plan *plan = &w->plans[i];
	const struct svc_si_in *in = &w->in->items[i];
	char q1[96], q2[96], tmpl[200];
	struct jpath path, other_path;
	const char *other;

	for (size_t b = 1; b < plan->n; b++)
		for (size_t a = 0; a < b; a++) {
			const struct proc_values *va = &plan->procs[a], *vb = &plan->procs[b];
			bool name = same_str(&va->attr[PAI_PROCESS_NAME], &vb->attr[PAI_PROCESS_NAME]);
			bool func = same_str(&va->attr[PAI_FUNC_NAME], &vb->attr[PAI_FUNC_NAME]) &&
			    same_str(&va->attr[PAI_START_PARAM_REGEX], &vb->attr[PAI_START_PARAM_REGEX]);
			long ea = entry_index(in, plan->template_ids[a]);
			long eb = entry_index(in, plan->template_ids[b]);
			const char *field = proc_attrs[name ? PAI_PROCESS_NAME : PAI_FUNC_NAME].name;
			size_t off = eb >= 0 ? b : a, oth = off == b ? a : b;
			long eo = off == b ? eb : ea, et = off == b ? ea : eb;

			if (!name && !func)
				continue;
			/* eo >= 0: a collision needs an override (see above). */
			proc_path(&path, i, (size_t)(eo >= 0 ? eo : 0), field);
			if (et >= 0) {
				other = proc_path(&other_path, i, (size_t)et, field);
			} else {
				snprintf(tmpl, sizeof(tmpl), "the process of process template %" PRId64 " (%s)",
				    plan->template_ids[oth], err_quote(q1, sizeof(q1), plan->procs[oth].attr[PAI_PROCESS_NAME].s));
				other = tmpl;
			}
			if (name)
				err_set(e, ERR_DUPLICATE, jpath_str(&path), "%s is already used by %s; bk_process_name must be unique in a service instance",
				    err_quote(q1, sizeof(q1), plan->procs[off].attr[PAI_PROCESS_NAME].s), other);
			else
				err_set(e, ERR_DUPLICATE, jpath_str(&path),
				    "%s with bk_start_param_regex %s is already used by %s; bk_func_name + bk_start_param_regex must be unique in a service instance",
				    err_quote(q1, sizeof(q1), plan->procs[off].attr[PAI_FUNC_NAME].s),
				    err_quote(q2, sizeof(q2), plan->procs[off].attr[PAI_START_PARAM_REGEX].state == PV_SET ? plan->procs[off].attr[PAI_START_PARAM_REGEX].s : ""), other);
			return -1;
		}
	return 0;
}

static void
instance_path(struct jpath *p, size_t k, bool by_name, const void *arg)
{
	proc_path(p, *(const size_t *)arg, k,
	    proc_attrs[by_name ? PAI_PROCESS_NAME : PAI_FUNC_NAME].name);
}

/* Row 12: uniqueness inside each instance, on the final values. */
static int
check_unique(const struct si_work *w, struct err *e)
{
	struct svc_unique_rule rule = { ERR_DUPLICATE, ERR_DUPLICATE,
		"service instance", "existing process", instance_path, NULL };

	for (size_t i = 0; i < w->in->n; i++) {
		const struct si_plan *plan = &w->plans[i];
		const struct proc_values **procs;
		int rc;

		if (is_template_module(w)) {
			if (check_unique_template(w, i, e) != 0)
				return -1;
			continue;
		}
		procs = calloc(plan->n + 1, sizeof(*procs));
		if (procs == NULL)
			return err_oom(e);
		for (size_t k = 0; k < plan->n; k++)
			procs[k] = plan_proc(w, i, k);
		rule.arg = &i;
		rc = svc_check_unique(procs, plan->n, NULL, &rule, e);
		free(procs);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* After row 13: the merge's IP-code failures (see si_work.no_address). */
static int
check_addresses(const struct si_work *w, struct err *e)
{
	if (!err_isset(&w->no_address))
		return 0;
	err_copy(e, &w->no_address);
	return -1;
}

/* Row 13: a non-zero process_template_id must be one of the module's. */
static int
check_template_ids(const struct si_work *w, struct err *e)
{
	struct jpath path;

	if (!is_template_module(w))
		return 0;
	for (size_t i = 0; i < w->in->n; i++)
		for (size_t p = 0; p < w->in->items[i].nprocs; p++) {
			int64_t id = w->in->items[i].procs[p].template_id;
			if (id == 0 || proc_template_find(&w->tmpl, id) != NULL)
				continue;
			proc_path(&path, i, p, NULL);
			jpath_key(&path, "process_template_id");
			err_set(e, ERR_BAD_VALUE, jpath_str(&path),
			    "process template %" PRId64 " is not a process template of service template %" PRId64,
			    id, w->module.service_template_id);
			return -1;
		}
	return 0;
}

static const char *
first_port(const struct proc_values *v)
{
	for (size_t r = 0; v->attr[PAI_BIND_INFO].state == PV_SET && r < v->nrows; r++) {
		const struct pval *port = &v->rows[r].key[BKI_PORT];
		if (port->state == PV_SET && port->s[0] != '\0')
			return port->s;
	}
	return "";
}

/*
 * The one statement that writes the instances and all their processes
 * (db_si_create), each instance named as §6 says: the given name, else
 * <host IP>_<first process name>_<its first port> of the final values,
 * which the database puts together (it has the host's address).
 * checked: rows 4-13 ran in this transaction; else the statement does the
 * database's part of them for a module without a template, and *done says
 * whether it wrote.
 */
static int
insert_all(struct si_work *w, bool checked, struct id_list *out, bool *done,
    struct err *e)
{
	const struct svc_si_batch *in = w->in;
	struct db_si_new *si = calloc(in->n, sizeof(*si));
	struct db_proc_new *procs = NULL;
	size_t nprocs = 0, k = 0;
	int rc = -1;

	out->ids = calloc(in->n, sizeof(*out->ids));
	if (si == NULL || out->ids == NULL) {
		rc = err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < in->n; i++) {
		const struct svc_si_in *item = &in->items[i];
		const struct proc_values *first = w->plans[i].n > 0 ? plan_proc(w, i, 0) : NULL;
		bool named = item->name.state == PV_SET && item->name.s[0] != '\0';
		si[i] = (struct db_si_new){ item->host_id, named ? item->name.s : NULL,
			first != NULL && first->attr[PAI_PROCESS_NAME].state == PV_SET ?
			    first->attr[PAI_PROCESS_NAME].s :
			    "",
			first != NULL ? first_port(first) : "" };
		nprocs += w->plans[i].n;
	}
	procs = calloc(nprocs + 1, sizeof(*procs));
	if (procs == NULL) {
		rc = err_oom(e);
		goto out;
	}
	/* A process names its instance by its place in the batch (1-based). */
	for (size_t i = 0; i < in->n; i++)
		for (size_t p = 0; p < w->plans[i].n; p++)
			procs[k++] = (struct db_proc_new){ in->biz_id, (int64_t)i + 1,
				w->plans[i].template_ids[p], in->items[i].host_id, plan_proc(w, i, p) };
	if (db_si_create(w->req->ctx->db, w->req->tenant, w->req->username,
		in->biz_id, in->module_id, w->module.service_template_id, checked, si,
		in->n, procs, nprocs, out->ids, done, e) != 0)
		goto out;
	if (*done)
		out->n = in->n;
	rc = 0;
out:
	free(si);
	free(procs);
	return rc;
}

/*
 * The common case in one round trip. For a module without a service
 * template the request alone decides rows 8, 11 and 12; when they pass
 * (and the ids are there), one statement does the database's part of
 * rows 4-9 and the writes (db_si_create, checked false). When it writes
 * nothing (a lookup failed, or the module has a template) or breaks a
 * constraint, nothing was written and the checks run in table order as
 * before, which find and name the error. *done: created (out holds ids).
 */
static int
create_at_once(const struct svc_req *req, const struct svc_si_batch *in,
    struct id_list *out, bool *done, struct err *e)
{
	struct si_work w = { .req = req, .in = in }; /* no module: no template */
	struct err pre = { 0 };
	int rc = 0;

	*done = false;
	if (in->module_id <= 0 || in->biz_id <= 0)
		return 0;
	if (check_has_processes(&w, &pre) != 0 || check_attributes(&w, &pre) != 0 ||
	    build_plans(&w, &pre) != 0 || check_unique(&w, &pre) != 0 ||
	    insert_all(&w, false, out, done, &pre) != 0) {
		/* A contract error is told by the checks in order; a server
		 * fault is final. */
		if (pre.http_status != 200) {
			err_copy(e, &pre);
			rc = -1;
		}
	}
	if (!*done)
		id_list_free(out);
	work_free(&w);
	return rc;
}

/*
 * A uniqueness race lost at INSERT (the unique index, 1113016) is told the
 * way row 10 tells it: the winner has committed by now, so the same check
 * finds the host and names its path. Runs after the rollback.
 */
static void
explain_race(struct si_work *w, struct err *e)
{
	struct err again = { 0 };

	if (check_template_hosts(w, &again) != 0 && again.code == e->code)
		*e = again;
}

int
svc_instance_create(const struct svc_req *req, const struct svc_si_batch *in,
    struct id_list *out, struct err *e)
{
	struct db *db = req->ctx->db;
	struct si_work w = { .req = req, .in = in };
	bool in_tx = false, raced = false, done;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (check_batch_size(in, e) != 0)
		return -1;
	if (create_at_once(req, in, out, &done, e) != 0 || done)
		return done ? 0 : -1;
	if (db_begin(db, e) != 0)
		goto out;
	in_tx = true;
	/* §6, rows 4-13 in table order; the merge sits between 11 and 12. */
	if (check_module(&w, e) != 0 || check_has_processes(&w, e) != 0 ||
	    check_hosts(&w, e) != 0 || check_template_hosts(&w, e) != 0 ||
	    check_attributes(&w, e) != 0 || build_plans(&w, e) != 0 ||
	    check_unique(&w, e) != 0 || check_template_ids(&w, e) != 0 ||
	    check_addresses(&w, e) != 0)
		goto out;
	if (insert_all(&w, true, out, &done, e) != 0) {
		raced = e->code == ERR_TEMPLATE_HOST_DUP;
		goto out;
	}
	in_tx = false; /* COMMIT ends the transaction even when it fails */
	if (db_commit(db, e) != 0)
		goto out;
	rc = 0;
out:
	if (in_tx)
		db_rollback(db);
	if (raced)
		explain_race(&w, e);
	if (rc != 0)
		id_list_free(out);
	work_free(&w);
	return rc;
}
