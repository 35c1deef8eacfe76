#include "db/instance.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/ids.h"
#include "db/pq.h"

static const struct pq_stmt module_get_stmt = {
	"module_get",
	"SELECT bk_biz_id, service_template_id, default_kind FROM module "
	"WHERE bk_supplier_account = $1 AND bk_module_id = $2",
	true,
};

int
db_module_get(struct db *db, const char *tenant, int64_t module_id,
    struct db_module *out, bool *found, struct err *e)
{
	char id[24];
	const char *params[] = { tenant, id };
	PGresult *r;

	pq_fmt_id(id, sizeof(id), module_id);
	r = pq_exec(db, &module_get_stmt, 2, params, e);
	if (r == NULL)
		return -1;
	*found = PQntuples(r) == 1;
	if (*found) {
		out->biz_id = pq_int(r, 0, 0);
		out->service_template_id = pq_int(r, 0, 1);
		out->default_kind = pq_int(r, 0, 2);
	}
	PQclear(r);
	return 0;
}

static const struct pq_stmt module_hosts_stmt = {
	"module_hosts",
	"SELECT h.bk_host_id, h.bk_host_innerip, h.bk_host_outerip, "
	"       h.bk_host_innerip_v6, h.bk_host_outerip_v6 "
	"FROM module_host mh JOIN host h USING (bk_supplier_account, bk_host_id) "
	"WHERE mh.bk_supplier_account = $1 AND mh.bk_module_id = $2 "
	"  AND mh.bk_host_id = ANY ($3::bigint[])",
	true,
};

void
db_host_list_free(struct db_host_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].innerip);
		free(l->items[i].outerip);
		free(l->items[i].innerip_v6);
		free(l->items[i].outerip_v6);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

int
db_module_hosts(struct db *db, const char *tenant, int64_t module_id,
    const int64_t *ids, size_t n, struct db_host_list *out, struct err *e)
{
	struct pq_arr arr;
	char mid[24];
	const char *params[3] = { tenant, mid, NULL };
	PGresult *r = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	pq_fmt_id(mid, sizeof(mid), module_id);
	params[2] = (pq_arr_init(&arr), pq_int_array(&arr, ids, n));
	if (params[2] == NULL) {
		err_oom(e);
		goto out;
	}
	r = pq_exec(db, &module_hosts_stmt, 3, params, e);
	if (r == NULL)
		goto out;
	out->items = calloc((size_t)PQntuples(r) + 1, sizeof(*out->items));
	if (out->items == NULL) {
		err_oom(e);
		goto out;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		struct db_host *h = &out->items[out->n++];
		h->id = pq_int(r, i, 0);
		h->innerip = strdup(PQgetvalue(r, i, 1));
		h->outerip = strdup(PQgetvalue(r, i, 2));
		h->innerip_v6 = strdup(PQgetvalue(r, i, 3));
		h->outerip_v6 = strdup(PQgetvalue(r, i, 4));
		if (!h->innerip || !h->outerip || !h->innerip_v6 || !h->outerip_v6) {
			err_oom(e);
			goto out;
		}
	}
	rc = 0;
out:
	if (rc != 0)
		db_host_list_free(out);
	PQclear(r);
	pq_arr_free(&arr);
	return rc;
}

static const struct pq_stmt si_insert_stmt = {
	"si_insert",
	"INSERT INTO service_instance (bk_supplier_account, creator, modifier, "
	"    bk_biz_id, bk_module_id, service_template_id, id, bk_host_id, name) "
	"SELECT $1, $2, $2, $3, $4, $5, u.id, u.host, u.name "
	"FROM unnest($6::bigint[], $7::bigint[], $8::text[]) AS u(id, host, name)",
	false,
};

int
db_si_insert(struct db *db, const char *tenant, const char *operator,
    int64_t biz_id, int64_t module_id, int64_t service_template_id,
    const struct db_si_new *rows, size_t n, int64_t *ids_out, struct err *e)
{
	struct pq_arr ids, hosts, names;
	char biz[24], mod[24], tmpl[24];
	const char *params[8] = { tenant, operator, biz, mod, tmpl };
	PGresult *r = NULL;
	int rc = -1;

	pq_arr_init(&ids);
	pq_arr_init(&hosts);
	pq_arr_init(&names);
	if (db_next_ids(db, "service_instance", "id", n, ids_out, e) != 0)
		goto out;
	pq_fmt_id(biz, sizeof(biz), biz_id);
	pq_fmt_id(mod, sizeof(mod), module_id);
	pq_fmt_id(tmpl, sizeof(tmpl), service_template_id);
	for (size_t i = 0; i < n; i++) {
		pq_arr_int(&ids, ids_out[i]);
		pq_arr_int(&hosts, rows[i].host_id);
		pq_arr_str(&names, rows[i].name);
	}
	params[5] = pq_arr_done(&ids);
	params[6] = pq_arr_done(&hosts);
	params[7] = pq_arr_done(&names);
	if (!params[5] || !params[6] || !params[7]) {
		err_oom(e);
		goto out;
	}
	r = pq_exec(db, &si_insert_stmt, 8, params, e);
	if (r == NULL) {
		if (strcmp(pq_constraint(e), "service_instance_template_host_key") == 0) {
			/* Lost a race with a concurrent request for the same host. */
			err_clear(e);
			err_set(e, ERR_TEMPLATE_HOST_DUP, "instances",
			    "a host already has an instance of this service template in module %" PRId64
			    " (created concurrently)", module_id);
		}
		goto out;
	}
	rc = 0;
out:
	PQclear(r);
	pq_arr_free(&ids);
	pq_arr_free(&hosts);
	pq_arr_free(&names);
	return rc;
}

static const struct pq_stmt si_get_stmt = {
	"si_get",
	"SELECT bk_biz_id, bk_module_id, bk_host_id, service_template_id "
	"FROM service_instance WHERE bk_supplier_account = $1 AND id = $2",
	true,
};

int
db_si_get(struct db *db, const char *tenant, int64_t id, struct db_si *out,
    bool *found, struct err *e)
{
	char sid[24];
	const char *params[] = { tenant, sid };
	PGresult *r;

	pq_fmt_id(sid, sizeof(sid), id);
	r = pq_exec(db, &si_get_stmt, 2, params, e);
	if (r == NULL)
		return -1;
	*found = PQntuples(r) == 1;
	if (*found) {
		out->id = id;
		out->biz_id = pq_int(r, 0, 0);
		out->module_id = pq_int(r, 0, 1);
		out->host_id = pq_int(r, 0, 2);
		out->service_template_id = pq_int(r, 0, 3);
	}
	PQclear(r);
	return 0;
}

static const struct pq_stmt si_template_hosts_stmt = {
	"si_template_hosts",
	"SELECT u.host FROM unnest($4::bigint[]) WITH ORDINALITY AS u(host, ord) "
	"WHERE EXISTS (SELECT 1 FROM service_instance si "
	"    WHERE si.bk_supplier_account = $1 AND si.bk_module_id = $2 "
	"      AND si.bk_host_id = u.host AND si.service_template_id = $3 "
	/* Lets a generic plan use the partial index service_instance_template_host_key. */
	"      AND si.service_template_id <> 0) "
	"ORDER BY u.ord LIMIT 1",
	true,
};

int
db_si_template_hosts(struct db *db, const char *tenant, int64_t module_id,
    int64_t service_template_id, const int64_t *host_ids, size_t n,
    int64_t *dup_host, struct err *e)
{
	struct pq_arr arr;
	char mod[24], tmpl[24];
	const char *params[4] = { tenant, mod, tmpl, NULL };
	PGresult *r = NULL;
	int rc = -1;

	*dup_host = 0;
	pq_fmt_id(mod, sizeof(mod), module_id);
	pq_fmt_id(tmpl, sizeof(tmpl), service_template_id);
	params[3] = (pq_arr_init(&arr), pq_int_array(&arr, host_ids, n));
	if (params[3] == NULL) {
		err_oom(e);
		goto out;
	}
	r = pq_exec(db, &si_template_hosts_stmt, 4, params, e);
	if (r == NULL)
		goto out;
	if (PQntuples(r) > 0)
		*dup_host = pq_int(r, 0, 0);
	rc = 0;
out:
	PQclear(r);
	pq_arr_free(&arr);
	return rc;
}
