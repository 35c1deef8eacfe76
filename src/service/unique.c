#include "service/unique.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * One member of a uniqueness comparison: a process of the request
 * (idx >= 0) or one already stored (idx = -1, earlier than any request
 * item).
 */
struct member {
	long idx;
	int64_t stored_id;
	int64_t scope;       /* the service instance it belongs to; 0: one scope */
	const char *k1, *k2; /* name, or func + regex */
};

/* Same scope and same key. */
static bool
same_key(const struct member *x, const struct member *y)
{
	return x->scope == y->scope && strcmp(x->k1, y->k1) == 0 &&
	    strcmp(x->k2, y->k2) == 0;
}

static int
member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c = (x->scope > y->scope) - (x->scope < y->scope);

	if (c == 0)
		c = strcmp(x->k1, y->k1);
	if (c == 0)
		c = strcmp(x->k2, y->k2);
	if (c == 0)
		c = (x->idx > y->idx) - (x->idx < y->idx);
	return c;
}

static const char *
str_or_empty(const struct pval *p)
{
	return p->state == PV_SET && p->s ? p->s : "";
}

/*
 * Sorts the members and finds, over all groups of equal keys, the request
 * item with the lowest index that has an earlier equal member. *offender
 * and *first are that item and the member it repeats (NULL when unique).
 */
static void
find_duplicate(struct member *m, size_t n, const struct member **offender,
    const struct member **first)
{
	*offender = *first = NULL;
	qsort(m, n, sizeof(*m), member_cmp);
	for (size_t i = 1; i < n; i++) {
		/* m[i-1] is the group's earliest member when keys match. */
		size_t g = i - 1;
		/* Only a request's item is blamed: two stored rows that share a
		 * key (which the constraints forbid) have no path to name. */
		if (!same_key(&m[i], &m[g]) || m[i].idx < 0)
			continue;
		while (g > 0 && same_key(&m[g - 1], &m[i]))
			g--;
		if (*offender == NULL || m[i].idx < (*offender)->idx) {
			*offender = &m[i];
			*first = &m[g];
		}
	}
}

static void
report(const struct member *dup, const struct member *first,
    const struct svc_unique_rule *rule, bool by_name, struct err *e)
{
	char q1[96], q2[96], stored[96];
	struct jpath path, first_path;
	const char *other = stored;

	jpath_init(&path);
	rule->path(&path, (size_t)dup->idx, by_name, rule->arg);
	if (first->idx >= 0) {
		jpath_init(&first_path);
		rule->path(&first_path, (size_t)first->idx, by_name, rule->arg);
		other = jpath_str(&first_path);
	} else {
		snprintf(stored, sizeof(stored), "%s %" PRId64, rule->stored, first->stored_id);
	}
	if (by_name)
		err_set(e, rule->name_code, jpath_str(&path),
		    "%s is already used by %s; bk_process_name must be unique in a %s",
		    err_quote(q1, sizeof(q1), dup->k1), other, rule->scope);
	else
		err_set(e, rule->func_code, jpath_str(&path),
		    "%s with bk_start_param_regex %s is already used by %s; bk_func_name + bk_start_param_regex must be unique in a %s",
		    err_quote(q1, sizeof(q1), dup->k1), err_quote(q2, sizeof(q2), dup->k2),
		    other, rule->scope);
}

int
svc_check_unique(const struct proc_values *const *procs, size_t n,
    const struct proc_key_list *stored, const struct svc_unique_rule *rule,
    struct err *e)
{
	return svc_check_unique_scoped(procs, NULL, n, stored, rule, e);
}

int
svc_check_unique_scoped(const struct proc_values *const *procs,
    const int64_t *scopes, size_t n, const struct proc_key_list *stored,
    const struct svc_unique_rule *rule, struct err *e)
{
	size_t nstored = stored ? stored->n : 0, total = n + nstored;
	struct member *names = calloc(total + 1, sizeof(*names));
	struct member *funcs = calloc(total + 1, sizeof(*funcs));
	const struct member *dn, *fn, *dn_first, *fn_first;
	int rc = -1;

	if (names == NULL || funcs == NULL) {
		err_oom(e);
		goto out;
	}
	for (size_t i = 0; i < nstored; i++) {
		const struct proc_key *k = &stored->items[i];
		int64_t scope = scopes != NULL ? k->parent : 0;
		names[i] = (struct member){ -1, k->id, scope, k->name, "" };
		funcs[i] = (struct member){ -1, k->id, scope, k->func, k->regex };
	}
	for (size_t i = 0; i < n; i++) {
		const struct proc_values *v = procs[i];
		int64_t scope = scopes != NULL ? scopes[i] : 0;
		names[nstored + i] = (struct member){ (long)i, 0, scope,
			str_or_empty(&v->attr[PAI_PROCESS_NAME]), "" };
		funcs[nstored + i] = (struct member){ (long)i, 0, scope,
			str_or_empty(&v->attr[PAI_FUNC_NAME]),
			str_or_empty(&v->attr[PAI_START_PARAM_REGEX]) };
	}
	find_duplicate(names, total, &dn, &dn_first);
	find_duplicate(funcs, total, &fn, &fn_first);
	/* The earlier process in input order is reported; on a tie, its name. */
	if (dn != NULL && (fn == NULL || dn->idx <= fn->idx))
		report(dn, dn_first, rule, true, e);
	else if (fn != NULL)
		report(fn, fn_first, rule, false, e);
	else
		rc = 0;
out:
	free(names);
	free(funcs);
	return rc;
}
