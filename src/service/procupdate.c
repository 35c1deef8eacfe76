#include "service/procupdate.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jpath.h"
#include "db/db.h"
#include "db/instance.h"
#include "db/process.h"
#include "db/template.h"
#include "service/merge.h"
#include "service/process.h"
#include "service/unique.h"

void
svc_proc_changes_free(struct svc_proc_changes *c)
{
	for (size_t i = 0; i < c->n; i++)
		proc_values_clear(&c->items[i].v);
	free(c->items);
	c->items = NULL;
	c->n = 0;
}

/* What one attempt holds between its steps. */
struct upd_work {
	const struct svc_req *req;
	const struct svc_proc_changes *in;
	int64_t *ids; /* in->n: the items' ids, input order */
	int64_t *si;  /* locked service instances, ascending */
	size_t nsi;
	struct proc_record_list stored; /* locked processes, ascending id */
	const struct proc_record **rec; /* in->n: item i's stored process */
	struct proc_template_list tmpl; /* of the template-made ones */
	struct db_host_list hosts;      /* of those whose bind_info is given */
	struct proc_values *final;      /* in->n: what item i's process becomes */
	struct proc_key_list keys;      /* every process of the locked instances */
};

/* Frees what an attempt built (not ids, kept across attempts). */
static void
work_reset(struct upd_work *w)
{
	free(w->si);
	w->si = NULL;
	w->nsi = 0;
	proc_record_list_free(&w->stored);
	free(w->rec);
	w->rec = NULL;
	proc_template_list_free(&w->tmpl);
	db_host_list_free(&w->hosts);
	for (size_t i = 0; w->final != NULL && i < w->in->n; i++)
		proc_values_clear(&w->final[i]);
	free(w->final);
	w->final = NULL;
	proc_key_list_free(&w->keys);
}

/* "processes[i]", then ".key" unless key is NULL. */
static const char *
item_path(struct jpath *p, size_t i, const char *key)
{
	jpath_init(p);
	jpath_elem(p, "processes", i);
	if (key != NULL)
		jpath_key(p, key);
	return jpath_str(p);
}

/* Rows 2-6: nothing to look up yet. */
static int
check_request(const struct svc_proc_changes *in, struct err *e)
{
	struct jpath p, q;

	if (in->n == 0) {
		err_set(e, ERR_REQUIRED, "processes", "is required (a non-empty array of processes to update)");
		return -1;
	}
	if (in->n > SVC_MAX_BATCH) {
		err_set(e, ERR_TOO_MANY, "processes", "has %zu processes; the limit is %d",
		    in->n, SVC_MAX_BATCH);
		return -1;
	}
	if (svc_require_id(in->biz_id, ERR_BAD_VALUE, "bk_biz_id", e) != 0)
		return -1;
	for (size_t i = 0; i < in->n; i++)
		if (in->items[i].id <= 0) {
			err_set(e, ERR_BAD_VALUE, item_path(&p, i, "bk_process_id"),
			    "is required (a positive integer)");
			return -1;
		}
	/* §11.9: two updates of one process have no defined order. */
	for (size_t j = 1; j < in->n; j++)
		for (size_t i = 0; i < j; i++)
			if (in->items[i].id == in->items[j].id) {
				err_set(e, ERR_BAD_VALUE, item_path(&p, j, "bk_process_id"),
				    "%" PRId64 " is also given at %s; a process is updated once per request",
				    in->items[j].id, item_path(&q, i, "bk_process_id"));
				return -1;
			}
	return 0;
}

static const struct proc_record *
find_record(const struct proc_record_list *l, int64_t id)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) { /* l is in ascending id order */
		size_t mid = lo + (hi - lo) / 2;
		if (l->items[mid].id == id)
			return &l->items[mid];
		if (l->items[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool
locked_instance(const struct upd_work *w, int64_t si)
{
	for (size_t k = 0; k < w->nsi; k++)
		if (w->si[k] == si)
			return true;
	return false;
}

/*
 * §11.2: the service instances, then the processes, in id order; row 7 on
 * what the locked read finds. A process found whose instance was not
 * locked appeared between the two statements: *raced, to start over.
 */
static int
lock_and_read(struct upd_work *w, bool *raced, struct err *e)
{
	const struct svc_req *req = w->req;
	int64_t *unknown;
	size_t nunknown = 0, n = w->in->n;
	char one[96], many[96];
	int rc = -1;

	if (db_si_lock_of_processes(req->ctx->db, req->tenant, w->in->biz_id, w->ids, n,
		DB_SI_LOCK_NO_KEY, &w->si, &w->nsi, e) != 0 ||
	    db_proc_lock(req->ctx->db, req->tenant, w->in->biz_id, w->ids, n, &w->stored, e) != 0)
		return -1;
	w->rec = calloc(n, sizeof(*w->rec));
	unknown = calloc(n, sizeof(*unknown));
	if (w->rec == NULL || unknown == NULL) {
		err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		w->rec[i] = find_record(&w->stored, w->ids[i]);
		if (w->rec[i] == NULL)
			unknown[nunknown++] = w->ids[i];
		else if (!locked_instance(w, w->rec[i]->service_instance_id))
			*raced = true;
	}
	if (nunknown > 0) {
		snprintf(one, sizeof(one), "does not exist in business %" PRId64, w->in->biz_id);
		snprintf(many, sizeof(many), "do not exist in business %" PRId64, w->in->biz_id);
		svc_ids_error(req, ERR_BAD_VALUE, "processes", unknown, nunknown, one, many, e);
		goto out;
	}
	if (*raced) {
		err_server(e, "processes changed while they were being updated, retry later");
		goto out;
	}
	rc = 0;
out:
	free(unknown);
	return rc;
}

/* Whether item i sends bind_info at all (null and [] included). */
static bool
bind_given(const struct upd_work *w, size_t i)
{
	return w->in->items[i].v.attr[PAI_BIND_INFO].state != PV_ABSENT;
}

/* The templates of the template-made processes, and the hosts whose IP
 * codes a merge of bind rows needs: one query each, and only when needed. */
static int
load_templates(struct upd_work *w, struct err *e)
{
	const struct svc_req *req = w->req;
	int64_t *tids = calloc(w->in->n, sizeof(*tids)), *hids = calloc(w->in->n, sizeof(*hids));
	size_t nt = 0, nh = 0;
	int rc = -1;

	if (tids == NULL || hids == NULL) {
		err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < w->in->n; i++) {
		if (w->rec[i]->process_template_id == 0)
			continue;
		tids[nt++] = w->rec[i]->process_template_id;
		if (bind_given(w, i))
			hids[nh++] = w->rec[i]->host_id;
	}
	if (nt > 0 && db_ptmpl_list_ids(req->ctx->db, req->tenant, w->in->biz_id, tids, nt, &w->tmpl, e) != 0)
		goto out;
	if (nh > 0 && db_hosts_get(req->ctx->db, req->tenant, hids, nh, &w->hosts, e) != 0)
		goto out;
	rc = 0;
out:
	free(tids);
	free(hids);
	return rc;
}

/* The host's addresses for IP codes; a host that is gone has none. */
static struct merge_host
host_of(const struct upd_work *w, int64_t id)
{
	for (size_t i = 0; i < w->hosts.n; i++) {
		const struct db_host *h = &w->hosts.items[i];
		if (h->id == id)
			return (struct merge_host){ id, h->innerip, h->outerip,
				h->innerip_v6, h->outerip_v6 };
	}
	return (struct merge_host){ id, "", "", "", "" };
}

/* dst's bind rows become a copy of src's. */
static int
copy_rows(struct proc_values *dst, const struct proc_values *src)
{
	struct proc_values copy = { 0 }, old = { 0 };

	if (proc_values_copy(&copy, src) != 0)
		return -1;
	old.rows = dst->rows;
	old.nrows = dst->nrows;
	dst->rows = copy.rows;
	dst->nrows = copy.nrows;
	copy.rows = NULL;
	copy.nrows = 0;
	proc_values_clear(&copy);
	proc_values_clear(&old);
	return 0;
}

/* f->attr[a] becomes a copy of v (PV_SET), or "not set" (anything else). */
static int
set_attr(struct proc_values *f, size_t a, const struct pval *v)
{
	pval_clear(&f->attr[a]);
	if (v->state != PV_SET) {
		f->attr[a].state = PV_NULL;
		return 0;
	}
	return pval_copy(&f->attr[a], v);
}

/*
 * §11.5 partial semantics on f (a copy of the stored process): a key the
 * item carries replaces the stored value, null resets it; on a
 * template-made process (t) locked fields take the template's value
 * whatever was sent, and a given bind_info is merged with the template's
 * rows. A template bind row whose IP code the host lacks -> 1199006.
 */
static int
apply(const struct upd_work *w, size_t i, const struct proc_template *t,
    struct proc_values *f, struct err *e)
{
	const struct proc_values *in = &w->in->items[i].v;
	struct merge_host host;
	struct jpath path;

	for (size_t a = 0; a < PROC_ATTR_COUNT; a++) {
		if (a == PAI_BIND_INFO)
			continue;
		if (t != NULL && t->locked[a]) {
			if (set_attr(f, a, &t->v.attr[a]) != 0)
				return err_oom(e);
		} else if (in->attr[a].state != PV_ABSENT && set_attr(f, a, &in->attr[a]) != 0) {
			return err_oom(e);
		}
	}
	if (!bind_given(w, i))
		return 0;
	if (t != NULL) {
		host = host_of(w, w->rec[i]->host_id);
		return merge_bind_info(t, &host, in, item_path(&path, i, "bind_info"), f, e);
	}
	/* bind_info is replaced as a whole: the rows given, or none (null). */
	if (copy_rows(f, in) != 0)
		return err_oom(e);
	f->attr[PAI_BIND_INFO].state = in->attr[PAI_BIND_INFO].state;
	return 0;
}

/* Row 8 item by item, building each item's final state as it goes. */
static int
build_final(struct upd_work *w, struct err *e)
{
	w->final = calloc(w->in->n, sizeof(*w->final));
	if (w->final == NULL)
		return err_oom(e);
	for (size_t i = 0; i < w->in->n; i++) {
		const struct proc_record *r = w->rec[i];
		/* A template that is gone leaves nothing locked: a plain process. */
		const struct proc_template *t = r->process_template_id != 0 ?
		    proc_template_find(&w->tmpl, r->process_template_id) :
		    NULL;
		const struct err *bad = t != NULL ?
		    merge_override_error(t, &w->in->items[i].v) :
		    proc_values_first_error(&w->in->items[i].v, NULL, NULL);

		if (bad != NULL) {
			err_copy(e, bad);
			return -1;
		}
		if (proc_values_copy(&w->final[i], &r->v) != 0)
			return err_oom(e);
		if (apply(w, i, t, &w->final[i], e) != 0)
			return -1;
	}
	return 0;
}

static void
update_path(struct jpath *p, size_t i, bool by_name, const void *arg)
{
	(void)arg;
	item_path(p, i, proc_attrs[by_name ? PAI_PROCESS_NAME : PAI_FUNC_NAME].name);
}

/*
 * Row 9 on the final state of every instance touched: the processes the
 * request leaves alone as stored, the others as they become. Swapping two
 * names in one request is therefore fine.
 */
static int
check_unique(struct upd_work *w, struct err *e)
{
	static const struct svc_unique_rule rule = { ERR_DUPLICATE, ERR_DUPLICATE,
		"service instance", "existing process", update_path, NULL };
	const struct svc_req *req = w->req;
	size_t n = w->in->n;
	const struct proc_values **procs = calloc(n, sizeof(*procs));
	int64_t *scopes = calloc(n, sizeof(*scopes));
	struct proc_key_list others = { 0 }; /* borrows the keys' strings */
	int rc = -1;

	if (procs == NULL || scopes == NULL) {
		err_oom(e);
		goto out;
	}
	if (db_proc_keys_instances(req->ctx->db, req->tenant, w->si, w->nsi, &w->keys, e) != 0)
		goto out;
	if ((others.items = calloc(w->keys.n + 1, sizeof(*others.items))) == NULL) {
		err_oom(e);
		goto out;
	}
	for (size_t k = 0; k < w->keys.n; k++)
		if (find_record(&w->stored, w->keys.items[k].id) == NULL)
			others.items[others.n++] = w->keys.items[k];
	for (size_t i = 0; i < n; i++) {
		procs[i] = &w->final[i];
		scopes[i] = w->rec[i]->service_instance_id;
	}
	rc = svc_check_unique_scoped(procs, scopes, n, &others, &rule, e);
out:
	free(others.items);
	free(procs);
	free(scopes);
	return rc;
}

static int
write_all(struct upd_work *w, bool *raced, struct err *e)
{
	const struct svc_req *req = w->req;
	struct db_proc_new *rows = calloc(w->in->n, sizeof(*rows));
	int rc;

	if (rows == NULL)
		return err_oom(e);
	for (size_t i = 0; i < w->in->n; i++)
		rows[i].v = &w->final[i]; /* a process never moves: v is all */
	rc = db_proc_update(req->ctx->db, req->tenant, req->username, w->ids, rows,
	    w->in->n, e);
	/* The instances are locked, so only a writer that ignores the locks
	 * could have broken a name: the retry tells which. */
	if (rc != 0 && e->code == ERR_DUPLICATE)
		*raced = true;
	free(rows);
	return rc;
}

/* One attempt in one transaction. */
static int
attempt(struct upd_work *w, bool *raced, struct err *e)
{
	struct db *db = w->req->ctx->db;
	int rc;

	if (db_begin(db, e) != 0)
		return -1;
	rc = lock_and_read(w, raced, e);
	if (rc == 0)
		rc = load_templates(w, e);
	if (rc == 0)
		rc = build_final(w, e);
	if (rc == 0)
		rc = check_unique(w, e);
	if (rc == 0)
		rc = write_all(w, raced, e);
	if (rc != 0) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db, e); /* ends the transaction even when it fails */
}

int
svc_process_update(const struct svc_req *req, const struct svc_proc_changes *in,
    struct id_list *out, struct err *e)
{
	struct upd_work w = { .req = req, .in = in };
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (check_request(in, e) != 0)
		return -1;
	if ((w.ids = calloc(in->n, sizeof(*w.ids))) == NULL)
		return err_oom(e);
	for (size_t i = 0; i < in->n; i++)
		w.ids[i] = in->items[i].id;
	/*
	 * A lost race answers as if the request had come second (§11.2): a
	 * second attempt sees the winner's commit and its checks name what
	 * collides.
	 */
	for (int round = 0; round < 2; round++) {
		bool raced = false;
		rc = attempt(&w, &raced, e);
		work_reset(&w);
		if (rc == 0 || !raced)
			break;
		if (round == 0)
			err_clear(e);
	}
	if (rc == 0) {
		out->ids = w.ids;
		out->n = in->n;
		w.ids = NULL;
	}
	free(w.ids);
	return rc;
}
