/*
 * service/unique: the uniqueness rule of process names (api-contract.md §5
 * within a service instance, §4 within a service template), shared by every
 * API that writes processes or process templates. The database enforces it
 * too (unique constraints); this check runs first so that the client is
 * told which item collides with which.
 *
 * Plain C: no JSON, no libpq. Pure; thread-safe.
 */
#ifndef PROCSVC_SVC_UNIQUE_H
#define PROCSVC_SVC_UNIQUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/jpath.h"
#include "common/proc_attr.h"

/* Where the rule applies and how its breaches are reported: §5 within a
 * service instance (1199014 for both keys), §4 within a service template
 * (1113019 for the name, 1113020 for func + regex). */
struct svc_unique_rule {
	int name_code, func_code;
	const char *scope;  /* "service instance" / "service template" */
	const char *stored; /* how a stored row is named: "existing process" */
	/* Appends to p (empty) the path of the name (by_name) or func field
	 * of item i. */
	void (*path)(struct jpath *p, size_t i, bool by_name, const void *arg);
	const void *arg;
};

/*
 * The uniqueness rule: bk_process_name, and bk_func_name +
 * bk_start_param_regex (missing regex = ""), compared after trimming (the
 * values already are), among procs[0..n) and the stored keys (may be NULL;
 * all borrowed). The first offending item in input order is reported, its
 * name before its func, naming both places. 0 when unique, -1 with e set
 * otherwise (or out of memory). O(n log n).
 */
int svc_check_unique(const struct proc_values *const *procs, size_t n,
    const struct proc_key_list *stored, const struct svc_unique_rule *rule,
    struct err *e) MUST_CHECK;

/*
 * As svc_check_unique, with the rule applied within each scope apart (a
 * service instance): procs[i] belongs to scopes[i], a stored key to its
 * parent. For writes that touch several service instances at once
 * (update_process_instance, api-contract.md §11.5).
 */
int svc_check_unique_scoped(const struct proc_values *const *procs,
    const int64_t *scopes, size_t n, const struct proc_key_list *stored,
    const struct svc_unique_rule *rule, struct err *e) MUST_CHECK;

#endif
