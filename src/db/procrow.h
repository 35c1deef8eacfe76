/*
 * db/procrow: the SQL of process-like rows, written once. A process-like
 * table has one column per attribute of proc_attrs[] (named by its JSON
 * key) besides a few fixed columns, and a child table with one row per
 * bind_info row (one column per bind_keys[] entry, plus the parent row's id
 * and the row's position). Tables process + bind_info and process_template
 * + process_template_bind_info are the two such pairs. procrow.c describes
 * each once (table, fixed columns, NULL-or-default policy, bind table,
 * unique constraints); everything else is driven by that description and
 * the attribute tables: column lists, array packing, the batch INSERT, the
 * batch UPDATE and the grouped LEFT JOIN reader. Statement text is built
 * from those constants (never from request data) at first use and prepared
 * like any other statement.
 *
 * Writes take a fixed number of statements whatever the batch size: one
 * array parameter per column, unnested by the server.
 *
 * For the table modules db/process and db/template, which add the
 * contract's meaning (messages, codes). Runs in the caller's transaction;
 * thread-safe.
 */
#ifndef PROCSVC_DB_PROCROW_H
#define PROCSVC_DB_PROCROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/proc_attr.h"
#include "db/db.h"

/* The process-like tables; see procrow.c for what each holds. */
enum procrow_table {
	/* process + bind_info: struct proc_record; unset values stored as
	 * their §5 defaults. Fixed columns: bk_biz_id, service_instance_id
	 * (the parent), process_template_id, bk_host_id. */
	PROCROW_PROCESS,
	/* process_template + process_template_bind_info: struct
	 * proc_template; NULL = not set by the template; locked fields.
	 * Fixed columns: bk_biz_id, service_template_id (the parent). */
	PROCROW_TEMPLATE,
};

/* Most fixed columns a table has. */
#define PROCROW_FIXED_MAX 4

/* One row to write; all borrowed. */
struct procrow_new {
	int64_t fixed[PROCROW_FIXED_MAX];         /* the table's fixed columns (insert) */
	const struct proc_values *v;              /* PV_SET values are stored */
	const bool *locked;                       /* PROC_ATTR_COUNT; NULL: none */
	const bool (*row_locked)[BIND_KEY_COUNT]; /* v->nrows rows; NULL: none */
};

/*
 * Inserts n rows (n may be 0) and all their bind rows in three statements
 * whatever n is (new ids, rows, bind rows), with tenant and operator
 * (creator, modifier) on every row. ids_out[i] is rows[i]'s new id,
 * ascending. 0, or -1 with e set as pq_exec sets it (for a broken unique
 * constraint procrow_key_broken tells which).
 */
int procrow_insert(struct db *db, enum procrow_table t, const char *tenant,
    const char *operator, const struct procrow_new *rows, size_t n,
    int64_t *ids_out, struct err *e) MUST_CHECK;

/*
 * Rewrites the rows ids[0..n) of tenant (distinct, existing) with
 * rows[i]'s values: every attribute (an unset one as the table stores
 * unset values), bind_info replaced whole, locks, modifier = operator,
 * last_time = now(). The fixed columns, creator and create_time stay.
 * Three statements whatever n is (rows, old bind rows out, new bind rows
 * in): the set-based write api-contract.md §11.5 needs, once its caller
 * has computed each row's final state. 0, or -1 with e set as
 * procrow_insert.
 */
int procrow_update(struct db *db, enum procrow_table t, const char *tenant,
    const char *operator, const int64_t *ids, const struct procrow_new *rows,
    size_t n, struct err *e) MUST_CHECK;

/*
 * The rows of parent (service instance / service template) in tenant and
 * business biz_id, ascending id, each with its bind rows in stored order,
 * in one query. Returns a calloc'ed array of *n struct proc_record /
 * struct proc_template (never NULL, also when empty; free with
 * proc_record_list_free / proc_template_list_free), or NULL with e set
 * and *n 0.
 */
void *procrow_list(struct db *db, enum procrow_table t, const char *tenant,
    int64_t parent, int64_t biz_id, size_t *n, struct err *e) MUST_CHECK;

/* As procrow_list, for the rows among ids[0..nids) (in tenant and
 * business biz_id); unknown ids are simply absent. */
void *procrow_list_ids(struct db *db, enum procrow_table t, const char *tenant,
    int64_t biz_id, const int64_t *ids, size_t nids, size_t *n, struct err *e)
    MUST_CHECK;

/* The uniqueness keys of every row of parent in tenant, ascending id, into
 * out (emptied first; free with proc_key_list_free). 0, or -1 with e set
 * and out empty. */
int procrow_keys(struct db *db, enum procrow_table t, const char *tenant,
    int64_t parent, struct proc_key_list *out, struct err *e) MUST_CHECK;

/* Which unique constraint of t a failed write broke. */
enum procrow_key {
	PROCROW_KEY_NONE,
	PROCROW_KEY_NAME, /* bk_process_name */
	PROCROW_KEY_FUNC, /* bk_func_name + bk_start_param_regex */
};
enum procrow_key procrow_key_broken(enum procrow_table t, const struct err *e);

#endif
