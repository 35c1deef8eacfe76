/*
 * db/template: the SQL of tables service_template, process_template and
 * process_template_bind_info (api-contract.md §4, §10 Templates). Process
 * templates are process-like rows (db/procrow): their column lists come
 * from proc_attrs[] and bind_keys[] (each attribute's JSON key is its
 * column; a template row's template_row_id is its row_id column), so a new
 * attribute needs no edit here. A NULL column means "the template does not
 * set it".
 *
 * Tenant-scoped; runs in the caller's transaction (the service layer owns
 * BEGIN/COMMIT). Only src/db/ sees libpq.
 */
#ifndef PROCSVC_DB_TEMPLATE_H
#define PROCSVC_DB_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/proc_attr.h"
#include "db/db.h"

/* A service template as create_service_template returns it. */
struct db_stmpl {
	int64_t id, biz_id, category_id;
	char name[257];
	char tenant[65];
	char creator[129], modifier[129];
	char create_time[32], last_time[32]; /* RFC 3339, milliseconds, UTC "Z" */
};

/*
 * Inserts a service template (name borrowed, already trimmed and checked)
 * and reads it back into out, in one round trip. A name already used in
 * the business and tenant -> ERR_DUPLICATE (1199014) at "name", also when
 * a concurrent request took it first (constraint service_template_name_key).
 * No id is consumed when the name is taken.
 */
int db_stmpl_insert(struct db *db, const char *tenant, const char *username,
    int64_t biz_id, const char *name, int64_t category_id,
    struct db_stmpl *out, struct err *e) MUST_CHECK;

/* Reads a service template of the tenant. *found false when there is none;
 * out is filled only when found. */
int db_stmpl_get(struct db *db, const char *tenant, int64_t id,
    struct db_stmpl *out, bool *found, struct err *e) MUST_CHECK;

/* One process template to insert; all borrowed. */
struct db_ptmpl_new {
	const struct proc_values *v;              /* PV_SET values are stored */
	const bool *locked;                       /* PROC_ATTR_COUNT flags */
	const bool (*row_locked)[BIND_KEY_COUNT]; /* v->nrows rows, or NULL */
};

/*
 * Inserts n process templates of one service template with their bind rows
 * in three round trips whatever n is (ids, templates, bind rows);
 * ids_out[i] is rows[i]'s new id, ascending. A bk_process_name or
 * bk_func_name + bk_start_param_regex already taken in the service template
 * (a concurrent request won the race: constraints process_template_name_key,
 * process_template_func_key) -> 1113019 / 1113020 at "processes".
 */
int db_ptmpl_insert(struct db *db, const char *tenant, const char *username,
    int64_t biz_id, int64_t service_template_id,
    const struct db_ptmpl_new *rows, size_t n, int64_t *ids_out,
    struct err *e) MUST_CHECK;

/*
 * The process templates of a service template in the tenant and business
 * biz_id, ascending id, bind rows in stored order, in one query. Empty when
 * there are none. Free with proc_template_list_free.
 */
int db_ptmpl_list(struct db *db, const char *tenant, int64_t biz_id,
    int64_t service_template_id, struct proc_template_list *out, struct err *e)
    MUST_CHECK;

/* As db_ptmpl_list, for the process templates among ids[0..n) of the
 * tenant and business (any service template); unknown ids are absent. */
int db_ptmpl_list_ids(struct db *db, const char *tenant, int64_t biz_id,
    const int64_t *ids, size_t n, struct proc_template_list *out,
    struct err *e) MUST_CHECK;

/* The keys of every process template of a service template, ascending id.
 * Free with proc_key_list_free. */
int db_ptmpl_keys(struct db *db, const char *tenant,
    int64_t service_template_id, struct proc_key_list *out, struct err *e)
    MUST_CHECK;

#endif
