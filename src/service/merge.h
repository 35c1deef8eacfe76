/*
 * merge: the template half of create_service_instance (api-contract.md §6
 * behaviour, §10 Templates): what one host's process gets from one process
 * template plus the request's override entry. Pure: no database, no JSON.
 */
#ifndef PROCSVC_SVC_MERGE_H
#define PROCSVC_SVC_MERGE_H

#include <stdint.h>

#include "common/err.h"
#include "common/proc_attr.h"

/* What IP codes of a host resolve to; all borrowed. Each is "" or a comma
 * list of addresses (the first one is used). */
struct merge_host {
	int64_t id;
	const char *innerip, *outerip, *innerip_v6, *outerip_v6;
};

/*
 * Check 11 for one override entry o of template t: the first error among
 * what o may change (unlocked attributes; unlocked keys of bind rows that
 * match a template row; rows whose match cannot be told), or NULL. Locked
 * fields are ignored whatever they hold. Borrowed; valid while o lives.
 */
const struct err *merge_override_error(const struct proc_template *t,
    const struct proc_values *o);

/*
 * Builds into out (zeroed) the process host gets from template t: the
 * template's values, then o's unlocked fields (o may be NULL), then the IP
 * codes "1".."8" still taken from the template resolved for host (first
 * entry of a comma list). A code the host has no address for -> 1199006 at
 * host_path. 0, or -1 with e set; out is then for proc_values_clear.
 */
int merge_instantiate(const struct proc_template *t, const struct merge_host *host,
    const struct proc_values *o, const char *host_path,
    struct proc_values *out, struct err *e) MUST_CHECK;

/*
 * The bind_info an update of a template-made process gets
 * (api-contract.md §11.5): out's rows and bind_info state are replaced by
 * the template's rows merged with o's rows exactly as merge_instantiate
 * merges them (matched by template_row_id, unlocked given keys apply,
 * unmatched rows dropped, IP codes resolved for host). Nothing else of out
 * changes. 0, or -1 with e set (a missing address: 1199006 at host_path)
 * and out unchanged.
 */
int merge_bind_info(const struct proc_template *t, const struct merge_host *host,
    const struct proc_values *o, const char *host_path,
    struct proc_values *out, struct err *e) MUST_CHECK;

#endif
