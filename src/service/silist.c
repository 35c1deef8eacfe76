#include "service/silist.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jpath.h"
#include "db/db.h"
#include "db/instance.h"
#include "db/process.h"

void
svc_si_query_free(struct svc_si_query *q)
{
	id_list_free(&q->host_ids);
	id_list_free(&q->ids);
	id_list_free(&q->host_list);
	free(q->search_key);
	free(q->sort);
	q->search_key = q->sort = NULL;
}

/* The id lists of a request, in the order the checks visit them. */
static const struct {
	const char *name;
	size_t off;
	bool detail_only;
} id_lists[] = {
	{ "bk_host_ids", offsetof(struct svc_si_query, host_ids), false },
	{ "service_instance_ids", offsetof(struct svc_si_query, ids), false },
	{ "bk_host_list", offsetof(struct svc_si_query, host_list), true },
};
#define ID_LISTS (sizeof(id_lists) / sizeof(id_lists[0]))

static const struct id_list *
id_list_of(const struct svc_si_query *q, size_t i)
{
	return (const struct id_list *)(const void *)((const char *)q + id_lists[i].off);
}

static bool
list_applies(const struct svc_si_query *q, size_t i)
{
	return q->detail || !id_lists[i].detail_only;
}

/* Row 2: every id list as sent (a repeated id counts: §11.2). */
static int
check_list_sizes(const struct svc_si_query *q, struct err *e)
{
	for (size_t i = 0; i < ID_LISTS; i++) {
		const struct id_list *l = id_list_of(q, i);
		if (list_applies(q, i) && l->n > SVC_MAX_FILTER_IDS) {
			err_set(e, ERR_TOO_MANY, id_lists[i].name,
			    "has %zu ids; the limit is %d", l->n, SVC_MAX_FILTER_IDS);
			return -1;
		}
	}
	return 0;
}

/* Row 5 for the id lists: an element <= 0, named by its path. */
static int
check_list_ids(const struct svc_si_query *q, struct err *e)
{
	struct jpath p;

	for (size_t i = 0; i < ID_LISTS; i++) {
		const struct id_list *l = id_list_of(q, i);
		for (size_t k = 0; list_applies(q, i) && k < l->n; k++) {
			if (l->ids[k] > 0)
				continue;
			jpath_init(&p);
			jpath_elem(&p, id_lists[i].name, k);
			err_set(e, ERR_BAD_VALUE, jpath_str(&p),
			    "%" PRId64 " is not an id (a positive integer)", l->ids[k]);
			return -1;
		}
	}
	return 0;
}

/* The field names of page.sort, for its messages. */
static const char *
sort_fields_text(char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t f = 0; f < DB_SI_SORT_FIELDS && len < n; f++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", f ? ", " : "",
		    db_si_sort_fields[f]);
	return buf;
}

/*
 * page.sort (row 5): a comma list of field names, each optionally
 * prefixed with "-" (descending), none twice; "" is "id". Taken exactly as
 * sent: no blanks around names (they are names no field has).
 */
static int
parse_sort(const char *sort, struct db_si_query *dq, struct err *e)
{
	char fields[128], q[96], token[80];
	const char *p = sort;

	dq->nsort = 0;
	if (sort == NULL || sort[0] == '\0')
		return 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		bool desc = *p == '-';
		const char *name = p + desc;
		size_t nlen = len - desc;
		int field = -1;

		for (int f = 0; f < DB_SI_SORT_FIELDS; f++)
			if (strlen(db_si_sort_fields[f]) == nlen &&
			    strncmp(db_si_sort_fields[f], name, nlen) == 0)
				field = f;
		snprintf(token, sizeof(token), "%.*s", (int)(len < 70 ? len : 70), p);
		if (field < 0) {
			err_set(e, ERR_BAD_VALUE, "page.sort",
			    "%s is not a sort key: use %s, each optionally prefixed with \"-\", comma-separated",
			    err_quote(q, sizeof(q), token), sort_fields_text(fields, sizeof(fields)));
			return -1;
		}
		for (size_t k = 0; k < dq->nsort; k++)
			if (dq->sort[k].field == (enum db_si_sort_field)field) {
				err_set(e, ERR_BAD_VALUE, "page.sort",
				    "%s sorts by %s a second time; name each field once",
				    err_quote(q, sizeof(q), token), db_si_sort_fields[field]);
				return -1;
			}
		dq->sort[dq->nsort++] = (struct db_si_sort){ (enum db_si_sort_field)field, desc };
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

/* Rows 2-5 of §11.3 / §11.4, in table order; fills dq on success. */
static int
check(const struct svc_si_query *q, struct db_si_query *dq, struct err *e)
{
	if (check_list_sizes(q, e) != 0 ||
	    svc_require_id(q->biz_id, ERR_BAD_VALUE, "bk_biz_id", e) != 0)
		return -1;
	if (q->has_limit && q->limit > SVC_PAGE_MAX) {
		err_set(e, ERR_PAGE_LIMIT, "page.limit", "%" PRId64 " is over the limit of %d per page",
		    q->limit, SVC_PAGE_MAX);
		return -1;
	}
	if (q->has_limit && q->limit < 1) {
		err_set(e, ERR_BAD_VALUE, "page.limit", "%" PRId64 " is not a page size (1-%d)",
		    q->limit, SVC_PAGE_MAX);
		return -1;
	}
	if (q->has_start && q->start < 0) {
		err_set(e, ERR_BAD_VALUE, "page.start", "%" PRId64 " is not a start (0 or more)", q->start);
		return -1;
	}
	if (q->module_id < 0) {
		err_set(e, ERR_BAD_VALUE, "bk_module_id", "%" PRId64 " is not a module id (0 or absent for any)",
		    q->module_id);
		return -1;
	}
	if (q->detail && q->host_id < 0) {
		err_set(e, ERR_BAD_VALUE, "bk_host_id", "%" PRId64 " is not a host id (0 or absent for any)",
		    q->host_id);
		return -1;
	}
	if (check_list_ids(q, e) != 0 || parse_sort(q->sort, dq, e) != 0)
		return -1;
	if (q->nselectors > 0) {
		err_set(e, ERR_BAD_VALUE, "selectors",
		    "label selectors are not supported (procsvc keeps no labels); send [] or leave it out");
		return -1;
	}
	if (q->detail && q->host_ids.n > 0 && q->host_list.n > 0) {
		err_set(e, ERR_BAD_VALUE, "bk_host_list",
		    "give the hosts in bk_host_ids or in bk_host_list (its alias), not in both");
		return -1;
	}
	return 0;
}

/* The query of a checked request. The detail list's hosts are bk_host_ids,
 * else bk_host_list, else bk_host_id (bk-cmdb's rule). */
static void
to_query(const struct svc_si_query *q, const int64_t *one_host,
    struct db_si_query *dq)
{
	dq->biz_id = q->biz_id;
	dq->module_id = q->module_id;
	dq->host_ids = q->host_ids.ids;
	dq->nhosts = q->host_ids.n;
	if (q->detail && dq->nhosts == 0) {
		dq->host_ids = q->host_list.n > 0 ? q->host_list.ids : one_host;
		dq->nhosts = q->host_list.n > 0 ? q->host_list.n : (*one_host > 0 ? 1 : 0);
	}
	dq->ids = q->ids.ids;
	dq->nids = q->ids.n;
	dq->search = q->search_key != NULL ? q->search_key : "";
	dq->start = q->has_start ? q->start : 0;
	dq->limit = q->has_limit ? q->limit : SVC_PAGE_MAX;
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* An item's id and its position in the page, sorted by id to look up the
 * item of a process. */
struct id_pos {
	int64_t id;
	size_t pos;
};

/*
 * Hands each process of procs to the item of its service instance, in the
 * order given (ascending id). procs' records move; its array is freed.
 */
static int
distribute(struct si_record_list *out, struct proc_record_list *procs,
    struct err *e)
{
	struct id_pos *index = calloc(out->n + 1, sizeof(*index));
	size_t *fill = calloc(out->n + 1, sizeof(*fill));
	int rc = -1;

	if (index == NULL || fill == NULL) {
		err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < out->n; i++)
		index[i] = (struct id_pos){ out->items[i].id, i };
	qsort(index, out->n, sizeof(*index), cmp_id); /* id is the first member */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < procs->n; k++) {
			struct id_pos key = { procs->items[k].service_instance_id, 0 };
			const struct id_pos *hit = bsearch(&key, index, out->n, sizeof(*index), cmp_id);
			struct proc_record_list *l;
			if (hit == NULL) { /* not asked for: cannot happen, never leak */
				if (pass == 1)
					proc_values_clear(&procs->items[k].v);
				continue;
			}
			l = &out->items[hit->pos].procs;
			if (pass == 0)
				fill[hit->pos]++;
			else
				l->items[l->n++] = procs->items[k];
		}
		for (size_t i = 0; pass == 0 && i < out->n; i++) {
			out->items[i].procs.items = calloc(fill[i] + 1, sizeof(struct proc_record));
			if (out->items[i].procs.items == NULL) {
				err_oom(e);
				goto out;
			}
		}
	}
	free(procs->items); /* every record has moved to its instance */
	procs->items = NULL;
	procs->n = 0;
	rc = 0;
out:
	free(index);
	free(fill);
	return rc;
}

/* §11.4: the page and its processes, from one snapshot. */
static int
list_detail(const struct svc_req *req, const struct db_si_query *dq,
    struct si_record_list *out, struct err *e)
{
	struct db *db = req->ctx->db;
	struct proc_record_list procs = { 0 };
	int64_t *ids = NULL;
	int rc = -1;

	if (db_begin_snapshot(db, e) != 0)
		return -1;
	if (db_si_list(db, req->tenant, dq, out, e) != 0)
		goto out;
	if (out->n > 0) {
		if ((ids = calloc(out->n, sizeof(*ids))) == NULL) {
			err_oom(e);
			goto out;
		}
		for (size_t i = 0; i < out->n; i++)
			ids[i] = out->items[i].id;
		if (db_proc_list_instances(db, req->tenant, dq->biz_id, ids, out->n, &procs, e) != 0 ||
		    distribute(out, &procs, e) != 0)
			goto out;
	}
	rc = db_commit(db, e);
out:
	if (rc != 0) {
		db_rollback(db);
		si_record_list_free(out);
	}
	proc_record_list_free(&procs);
	free(ids);
	return rc;
}

int
svc_si_list(const struct svc_req *req, const struct svc_si_query *q,
    struct si_record_list *out, struct err *e)
{
	struct db_si_query dq = { 0 };
	int64_t one_host = q->host_id;

	memset(out, 0, sizeof(*out));
	if (check(q, &dq, e) != 0)
		return -1;
	to_query(q, &one_host, &dq);
	svc_ctx_read_replica(req->ctx);
	if (q->detail)
		return list_detail(req, &dq, out, e);
	/* One statement: count and page from one snapshot without BEGIN. */
	if (db_ready(req->ctx->db, e) != 0 ||
	    db_si_list(req->ctx->db, req->tenant, &dq, out, e) != 0)
		return -1;
	return 0;
}
