#include "service/merge.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* The first bind row of override whose template_row_id is row_id. */
static const struct bind_row *
find_row(const struct proc_values *override, int64_t row_id)
{
	for (size_t r = 0; r < override->nrows; r++) {
		const struct pval *id = &override->rows[r].key[BKI_TEMPLATE_ROW_ID];
		if (id->state == PV_SET && id->i == row_id)
			return &override->rows[r];
	}
	return NULL;
}

/* The index of the template bind row with row_id id, or -1. */
static long
template_row(const struct proc_template *t, int64_t id)
{
	for (size_t r = 0; r < t->v.nrows; r++)
		if (t->v.rows[r].key[BKI_TEMPLATE_ROW_ID].i == id)
			return (long)r;
	return -1;
}

/*
 * Row 11 for one override entry of a template module: only what the entry
 * may change counts: unlocked attributes, and the unlocked keys of bind rows
 * that match a template row (the others are dropped unchecked). Rows are
 * taken in input order (api-contract.md §10: the first bind row wins). A row
 * whose match cannot be told (not an object, a bad template_row_id / row_id,
 * an unknown key) is an error whether or not it would have matched.
 */
const struct err *
merge_override_error(const struct proc_template *t, const struct proc_values *o)
{
	bool skip[PROC_ATTR_COUNT];
	const struct err *bad;

	memcpy(skip, t->locked, sizeof(skip));
	skip[PAI_BIND_INFO] = true;
	if ((bad = proc_values_first_error(o, skip, NULL)) != NULL)
		return bad;
	if (o->attr[PAI_BIND_INFO].state == PV_BAD)
		return o->attr[PAI_BIND_INFO].bad;
	for (size_t r = 0; r < o->nrows; r++) {
		const struct bind_row *in = &o->rows[r];
		const struct pval *id = &in->key[BKI_TEMPLATE_ROW_ID];
		long tr;

		if (in->bad != NULL)
			return in->bad;
		if (id->state == PV_BAD)
			return id->bad;
		/* Unmatched rows, and repeats of a row id (the first one is
		 * merged), are dropped. */
		if (id->state != PV_SET || (tr = template_row(t, id->i)) < 0 ||
		    find_row(o, id->i) != in)
			continue;
		for (size_t k = 0; k < BIND_KEY_COUNT; k++)
			if (!t->row_locked[tr][k] && in->key[k].state == PV_BAD)
				return in->key[k].bad;
	}
	return NULL;
}

/* IP codes of a template bind row (api-contract.md §4), resolved for host. */
static int
resolve_ip(const char *code, const struct merge_host *h, char *out, size_t n)
{
	const char *src = NULL;
	size_t len;

	switch (code[0] != '\0' && code[1] == '\0' ? code[0] : 0) {
	case '1': src = "127.0.0.1"; break;
	case '2': src = "0.0.0.0"; break;
	case '3': src = h->innerip; break;
	case '4': src = h->outerip; break;
	case '5': src = "::1"; break;
	case '6': src = "::"; break;
	case '7': src = h->innerip_v6; break;
	case '8': src = h->outerip_v6; break;
	default: src = code; break; /* "" or a literal address: as is */
	}
	/* Multi-IP hosts: the first entry of the comma list. */
	len = strcspn(src, ",");
	if (len >= n)
		return -1;
	memcpy(out, src, len);
	out[len] = '\0';
	return len == 0 && code[0] != '\0' ? -1 : 0;
}

static int
set_string(struct pval *p, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		return -1;
	free(p->s);
	p->s = copy;
	p->state = PV_SET;
	return 0;
}

/*
 * An override value the merge takes: a valid one. An explicit null is "not
 * set" (api-contract.md §5) and leaves the template value, as bk-cmdb's
 * merge skips nil values.
 */
static bool
given(const struct pval *p)
{
	return p->state == PV_SET;
}

/*
 * Copies o's unlocked, given values of template row r into the row.
 * *ip_given tells whether the row's ip now comes from o (an address, not
 * a code to resolve).
 */
static int
override_row(const struct proc_template *t, size_t r, const struct bind_row *o,
    struct bind_row *dst, bool *ip_given)
{
	for (size_t k = 0; k < BIND_KEY_COUNT; k++) {
		if (k == BKI_TEMPLATE_ROW_ID || t->row_locked[r][k] || !given(&o->key[k]))
			continue;
		pval_clear(&dst->key[k]);
		if (pval_copy(&dst->key[k], &o->key[k]) != 0)
			return -1;
		if (k == BKI_IP)
			*ip_given = true;
	}
	return 0;
}

/*
 * One template process for one host: the template's values, then the
 * unlocked fields of the matching override (if any), then the IP codes
 * still taken from the template resolved for the host. Resolving last means
 * an instance that overrides an unlocked ip does not fail for an address
 * code its host cannot serve.
 */
int
merge_instantiate(const struct proc_template *t, const struct merge_host *host,
    const struct proc_values *o, const char *host_path, struct proc_values *out,
    struct err *e)
{
	char ip[256];

	if (proc_values_copy(out, &t->v) != 0)
		return err_oom(e);
	for (size_t a = 0; o != NULL && a < PROC_ATTR_COUNT; a++) {
		if (a == PAI_BIND_INFO || t->locked[a] || !given(&o->attr[a]))
			continue;
		pval_clear(&out->attr[a]);
		if (pval_copy(&out->attr[a], &o->attr[a]) != 0)
			return err_oom(e);
	}
	for (size_t r = 0; r < out->nrows; r++) {
		const struct bind_row *in = o ? find_row(o, out->rows[r].key[BKI_TEMPLATE_ROW_ID].i) : NULL;
		struct pval *p = &out->rows[r].key[BKI_IP];
		bool ip_given = false;

		if (in != NULL && override_row(t, r, in, &out->rows[r], &ip_given) != 0)
			return err_oom(e);
		if (ip_given || p->state != PV_SET)
			continue;
		if (resolve_ip(p->s, host, ip, sizeof(ip)) != 0) {
			err_set(e, ERR_BAD_VALUE, host_path,
			    "host %" PRId64 " has no address for ip code \"%s\" of bind_info row %" PRId64
			    " (row_id) of process template %" PRId64,
			    host->id, p->s,
			    out->rows[r].key[BKI_TEMPLATE_ROW_ID].i, t->id);
			return -1;
		}
		if (set_string(p, ip) != 0)
			return err_oom(e);
	}
	return 0;
}

int
merge_bind_info(const struct proc_template *t, const struct merge_host *host,
    const struct proc_values *o, const char *host_path,
    struct proc_values *out, struct err *e)
{
	struct proc_values merged = { 0 };
	struct bind_row *rows;
	size_t nrows;

	if (merge_instantiate(t, host, o, host_path, &merged, e) != 0) {
		proc_values_clear(&merged);
		return -1;
	}
	/* Swap the merged rows in; the old ones leave with merged. */
	rows = out->rows;
	nrows = out->nrows;
	out->rows = merged.rows;
	out->nrows = merged.nrows;
	out->attr[PAI_BIND_INFO].state = merged.attr[PAI_BIND_INFO].state;
	merged.rows = rows;
	merged.nrows = nrows;
	proc_values_clear(&merged);
	return 0;
}
