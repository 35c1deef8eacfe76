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
#include "db/pq.h"

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
 * Inserts n rows (n may be 0) and all their bind rows in one statement
 * whatever n is (procrow_insert_cte), with tenant and operator (creator,
 * modifier) on every row. ids_out[i] is rows[i]'s new id, ascending. 0, or
 * -1 with e set as pq_exec sets it (for a broken unique constraint
 * procrow_key_broken tells which).
 */
int procrow_insert(struct db *db, enum procrow_table t, const char *tenant,
    const char *username, const struct procrow_new *rows, size_t n,
    int64_t *ids_out, struct err *e) MUST_CHECK;

/*
 * The same insert as part of a larger statement (a create that writes a
 * parent row too, in one round trip). procrow_insert_cte appends to sql
 * (size n) the CTEs "NAME_ids, NAME_o, NAME_r, NAME_b" (comma-separated,
 * none after the last): NAME_o (id, ord) holds the new ids, ord 1.. in the
 * rows' order. The statement's $1 must be the tenant and $2 the operator;
 * the CTEs use the array parameters $first.. and return how many.
 *   gate:  a CTE of the statement; nothing is written unless it has a row
 *          (NULL: always written);
 *   fixed: for fixed column i, NULL (its value is procrow_new.fixed[i]), or
 *          an SQL expression of the statement's own to store instead, in
 *          which '@' (at most one) stands for the procrow_new.fixed[i] of
 *          the row: "(SELECT id FROM parents WHERE ord = @)" gives each
 *          row the id of a parent written in the same statement.
 * procrow_params_pack fills p with those parameters for rows[0..n).
 */
struct procrow_cte {
	int first;
	const char *gate;
	const char *name;
	const char *fixed[PROCROW_FIXED_MAX];
};
size_t procrow_insert_cte(enum procrow_table t, const struct procrow_cte *cte,
    char *sql, size_t n);

#define PROCROW_MAX_PARAMS (2 * PQ_MAX_COLUMNS)
struct procrow_params {
	struct pq_columns rows, binds; /* own the texts */
	const char *params[PROCROW_MAX_PARAMS];
	size_t n;
};
/* 0, or -1 with e set (out of memory); free p with procrow_params_free
 * either way. */
int procrow_params_pack(enum procrow_table t, const struct procrow_new *rows,
    size_t n, struct procrow_params *p, struct err *e) MUST_CHECK;
void procrow_params_free(struct procrow_params *p);

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
    const char *username, const int64_t *ids, const struct procrow_new *rows,
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

/*
 * As procrow_list_ids, and takes the rows' locks (FOR UPDATE, held until
 * the caller's transaction ends) in ascending id order: the lock of a
 * write that rewrites or deletes rows it read (api-contract.md §11.2).
 */
void *procrow_lock_ids(struct db *db, enum procrow_table t, const char *tenant,
    int64_t biz_id, const int64_t *ids, size_t nids, size_t *n, struct err *e)
    MUST_CHECK;

/* As procrow_list, for the rows of every parent among parents[0..n), all
 * in ascending id order (group them by their parent field). */
void *procrow_list_parents(struct db *db, enum procrow_table t,
    const char *tenant, int64_t biz_id, const int64_t *parents,
    size_t nparents, size_t *n, struct err *e) MUST_CHECK;

/* The uniqueness keys of every row of parent in tenant, ascending id, into
 * out (emptied first; free with proc_key_list_free). 0, or -1 with e set
 * and out empty. */
int procrow_keys(struct db *db, enum procrow_table t, const char *tenant,
    int64_t parent, struct proc_key_list *out, struct err *e) MUST_CHECK;

/* As procrow_keys, for every parent among parents[0..nparents); each key
 * names its parent. */
int procrow_keys_parents(struct db *db, enum procrow_table t,
    const char *tenant, const int64_t *parents, size_t nparents,
    struct proc_key_list *out, struct err *e) MUST_CHECK;

/* Which unique constraint of t a failed write broke. */
enum procrow_key {
	PROCROW_KEY_NONE,
	PROCROW_KEY_NAME, /* bk_process_name */
	PROCROW_KEY_FUNC, /* bk_func_name + bk_start_param_regex */
};
enum procrow_key procrow_key_broken(enum procrow_table t, const struct err *e);

#endif
