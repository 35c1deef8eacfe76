#include "db/template.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pq.h"
#include "db/procrow.h"


/* ---- service_template ---- */

#define STMPL_COLS "id, bk_biz_id, name, service_category_id, bk_supplier_account, " \
		   "creator, modifier, " PQ_TS("create_time") ", " PQ_TS("last_time")

/*
 * The NOT EXISTS keeps a taken name from consuming an id; the constraint
 * still settles two concurrent creates (api-contract.md §10 Templates).
 */
static const struct pq_stmt stmpl_insert_stmt = {
	"stmpl_insert",
	"INSERT INTO service_template (bk_supplier_account, creator, modifier, "
	"    bk_biz_id, name, service_category_id) "
	"SELECT $1::text, $2::text, $2::text, $3::bigint, $4::text, $5::bigint "
	"WHERE NOT EXISTS (SELECT 1 FROM service_template "
	"    WHERE bk_supplier_account = $1 AND bk_biz_id = $3 AND name = $4) "
	"RETURNING " STMPL_COLS,
	false,
};

static const struct pq_stmt stmpl_get_stmt = {
	"stmpl_get",
	"SELECT " STMPL_COLS " FROM service_template "
	"WHERE bk_supplier_account = $1 AND id = $2",
	true,
};

static void
read_stmpl(const PGresult *r, struct db_stmpl *out)
{
	out->id = pq_int(r, 0, 0);
	out->biz_id = pq_int(r, 0, 1);
	snprintf(out->name, sizeof(out->name), "%s", PQgetvalue(r, 0, 2));
	out->category_id = pq_int(r, 0, 3);
	snprintf(out->tenant, sizeof(out->tenant), "%s", PQgetvalue(r, 0, 4));
	snprintf(out->creator, sizeof(out->creator), "%s", PQgetvalue(r, 0, 5));
	snprintf(out->modifier, sizeof(out->modifier), "%s", PQgetvalue(r, 0, 6));
	snprintf(out->create_time, sizeof(out->create_time), "%s", PQgetvalue(r, 0, 7));
	snprintf(out->last_time, sizeof(out->last_time), "%s", PQgetvalue(r, 0, 8));
}

static void
stmpl_name_taken(const char *name, int64_t biz_id, bool race, struct err *e)
{
	char q[96];

	err_set(e, ERR_DUPLICATE, "name",
	    "%s is already the name of a service template of business %" PRId64 "%s",
	    err_quote(q, sizeof(q), name), biz_id, race ? " (created by a concurrent request)" : "");
}

int
db_stmpl_insert(struct db *db, const char *tenant, const char *username,
    int64_t biz_id, const char *name, int64_t category_id,
    struct db_stmpl *out, struct err *e)
{
	char biz[24], cat[24];
	const char *params[] = { tenant, username, biz, name, cat };
	PGresult *r;

	pq_fmt_id(biz, sizeof(biz), biz_id);
	pq_fmt_id(cat, sizeof(cat), category_id);
	r = pq_exec(db, &stmpl_insert_stmt, 5, params, e);
	if (r == NULL) {
		if (strcmp(pq_constraint(e), "service_template_name_key") == 0) {
			err_clear(e);
			stmpl_name_taken(name, biz_id, true, e);
		}
		return -1;
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		stmpl_name_taken(name, biz_id, false, e);
		return -1;
	}
	read_stmpl(r, out);
	PQclear(r);
	return 0;
}

int
db_stmpl_get(struct db *db, const char *tenant, int64_t id,
    struct db_stmpl *out, bool *found, struct err *e)
{
	char sid[24];
	const char *params[] = { tenant, sid };
	PGresult *r;

	pq_fmt_id(sid, sizeof(sid), id);
	r = pq_exec(db, &stmpl_get_stmt, 2, params, e);
	if (r == NULL)
		return -1;
	*found = PQntuples(r) == 1;
	if (*found)
		read_stmpl(r, out);
	PQclear(r);
	return 0;
}

/* ---- process_template and process_template_bind_info ---- */

int
db_ptmpl_insert(struct db *db, const char *tenant, const char *username,
    int64_t biz_id, int64_t service_template_id,
    const struct db_ptmpl_new *rows, size_t n, int64_t *ids_out,
    struct err *e)
{
	struct procrow_new *pr = calloc(n + 1, sizeof(*pr));
	int rc;

	if (pr == NULL)
		return err_oom(e);
	for (size_t i = 0; i < n; i++)
		pr[i] = (struct procrow_new){ { biz_id, service_template_id },
			rows[i].v, rows[i].locked, rows[i].row_locked };
	rc = procrow_insert(db, PROCROW_TEMPLATE, tenant, username, pr, n, ids_out, e);
	free(pr);
	/* A broken unique constraint: a concurrent request won the race. */
	switch (rc != 0 ? procrow_key_broken(PROCROW_TEMPLATE, e) : PROCROW_KEY_NONE) {
	case PROCROW_KEY_NAME:
		err_clear(e);
		err_set(e, ERR_PT_NAME_DUP, "processes",
		    "a process template with this bk_process_name already exists in the service template (created by a concurrent request)");
		break;
	case PROCROW_KEY_FUNC:
		err_clear(e);
		err_set(e, ERR_PT_FUNC_DUP, "processes",
		    "a process template with this bk_func_name and bk_start_param_regex already exists in the service template (created by a concurrent request)");
		break;
	case PROCROW_KEY_NONE:
		break;
	}
	return rc;
}

int
db_ptmpl_list(struct db *db, const char *tenant, int64_t biz_id,
    int64_t service_template_id, struct proc_template_list *out, struct err *e)
{
	out->items = procrow_list(db, PROCROW_TEMPLATE, tenant, service_template_id,
	    biz_id, &out->n, e);
	return out->items != NULL ? 0 : -1;
}

int
db_ptmpl_list_ids(struct db *db, const char *tenant, int64_t biz_id,
    const int64_t *ids, size_t n, struct proc_template_list *out, struct err *e)
{
	out->items = procrow_list_ids(db, PROCROW_TEMPLATE, tenant, biz_id, ids, n,
	    &out->n, e);
	return out->items != NULL ? 0 : -1;
}

int
db_ptmpl_keys(struct db *db, const char *tenant, int64_t service_template_id,
    struct proc_key_list *out, struct err *e)
{
	return procrow_keys(db, PROCROW_TEMPLATE, tenant, service_template_id, out, e);
}
