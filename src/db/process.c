#include "db/process.h"

#include <stdlib.h>

#include "db/procrow.h"

/* rows as procrow writes them (fixed: bk_biz_id, service_instance_id,
 * process_template_id, bk_host_id). NULL on out of memory; caller frees. */
static struct procrow_new *
to_procrow(const struct db_proc_new *rows, size_t n)
{
	struct procrow_new *pr = calloc(n + 1, sizeof(*pr));

	for (size_t i = 0; pr != NULL && i < n; i++)
		pr[i] = (struct procrow_new){
			{ rows[i].biz_id, rows[i].service_instance_id,
			  rows[i].process_template_id, rows[i].host_id },
			rows[i].v, NULL, NULL,
		};
	return pr;
}

/* A unique violation at a write: the caller's pre-check passed, so a
 * concurrent request won the race. */
static void
map_race(struct err *e)
{
	enum procrow_key key = procrow_key_broken(PROCROW_PROCESS, e);

	if (key == PROCROW_KEY_NONE)
		return;
	err_clear(e);
	err_set(e, ERR_DUPLICATE, "processes",
	    "%s already exists in the service instance (created by a concurrent request)",
	    key == PROCROW_KEY_NAME ? "a process with this bk_process_name" :
	    "a process with this bk_func_name and bk_start_param_regex");
}

/* Inserts rows (new ids into ids_out) or, with ids, rewrites those. */
static int
write_rows(struct db *db, const char *tenant, const char *operator,
    const int64_t *ids, const struct db_proc_new *rows, size_t n,
    int64_t *ids_out, struct err *e)
{
	struct procrow_new *pr = to_procrow(rows, n);
	int rc;

	if (pr == NULL)
		return err_oom(e);
	if (ids != NULL)
		rc = procrow_update(db, PROCROW_PROCESS, tenant, operator, ids, pr, n, e);
	else
		rc = procrow_insert(db, PROCROW_PROCESS, tenant, operator, pr, n, ids_out, e);
	free(pr);
	if (rc != 0)
		map_race(e);
	return rc;
}

int
db_proc_insert(struct db *db, const char *tenant, const char *operator,
    const struct db_proc_new *rows, size_t n, int64_t *ids_out, struct err *e)
{
	return write_rows(db, tenant, operator, NULL, rows, n, ids_out, e);
}

int
db_proc_update(struct db *db, const char *tenant, const char *operator,
    const int64_t *ids, const struct db_proc_new *rows, size_t n,
    struct err *e)
{
	return write_rows(db, tenant, operator, ids, rows, n, NULL, e);
}

int
db_proc_keys(struct db *db, const char *tenant, int64_t service_instance_id,
    struct proc_key_list *out, struct err *e)
{
	return procrow_keys(db, PROCROW_PROCESS, tenant, service_instance_id, out, e);
}

int
db_proc_list(struct db *db, const char *tenant, int64_t biz_id,
    int64_t service_instance_id, struct proc_record_list *out,
    struct err *e)
{
	out->items = procrow_list(db, PROCROW_PROCESS, tenant, service_instance_id,
	    biz_id, &out->n, e);
	return out->items != NULL ? 0 : -1;
}

int
db_proc_list_ids(struct db *db, const char *tenant, int64_t biz_id,
    const int64_t *ids, size_t n, struct proc_record_list *out,
    struct err *e)
{
	out->items = procrow_list_ids(db, PROCROW_PROCESS, tenant, biz_id, ids, n,
	    &out->n, e);
	return out->items != NULL ? 0 : -1;
}
