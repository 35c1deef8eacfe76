/*
 * si_record: a stored service instance as the lists of api-contract.md
 * §11.3 / §11.4 return it, read by db, passed on by the service, encoded
 * by the API (as proc_record is for processes).
 *
 * C library only; any layer may include it.
 */
#ifndef PROCSVC_SI_RECORD_H
#define PROCSVC_SI_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "common/proc_attr.h"

/* One service instance: the 11 keys of §11.3, and for the detail list
 * (§11.4) its processes. Owns name and procs. */
struct si_record {
	int64_t id, biz_id, module_id, host_id, service_template_id;
	char *name;
	char tenant[65];
	char creator[129], modifier[129];
	char create_time[32], last_time[32]; /* RFC 3339, milliseconds, UTC "Z" */
	struct proc_record_list procs;       /* ascending bk_process_id */
};

/* One page of a list, and how many instances match in all. */
struct si_record_list {
	struct si_record *items; /* in the list's sort order */
	size_t n;
	int64_t count;
};

/* Frees what l owns and empties it. NULL-safe items. */
void si_record_list_free(struct si_record_list *l);

#endif
