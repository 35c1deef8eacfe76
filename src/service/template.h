/*
 * service/template: service templates and process templates (api-contract.md
 * §4 template part, §10 Templates): creating them, listing them, and loading
 * the process templates that create_service_instance instantiates.
 */
#ifndef PROCSVC_SVC_TEMPLATE_H
#define PROCSVC_SVC_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/proc_attr.h"
#include "service/ctx.h"

/* One process template. Owns v and row_locked. */
struct svc_ptmpl {
	int64_t id;
	int64_t biz_id;
	int64_t service_template_id;
	struct proc_values v;              /* PV_SET: the template sets it */
	bool locked[PROC_ATTR_COUNT];      /* as_default_value */
	bool (*row_locked)[BIND_KEY_COUNT]; /* per bind row (v.nrows) and key */
	char creator[129], modifier[129];
	char create_time[32], last_time[32];
};

struct svc_ptmpl_list {
	struct svc_ptmpl *items;   /* ascending id */
	size_t n;
};
void svc_ptmpl_list_free(struct svc_ptmpl_list *l);

/*
 * The process templates of a service template in this tenant, ascending id,
 * read in the caller's transaction (or outside one). 0, or -1 with e set.
 */
int svc_ptmpl_load(const struct svc_req *req, int64_t service_template_id,
    struct svc_ptmpl_list *out, struct err *e) MUST_CHECK;

#endif
