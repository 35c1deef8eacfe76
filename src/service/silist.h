/*
 * service/silist: list_service_instance and list_service_instance_detail
 * (api-contract.md §11.3, §11.4): rows 2-5 of their check table in order,
 * the filters, paging and sorting, and for the detail list the processes
 * of the page, all read from one snapshot.
 *
 * Plain C: no JSON, no libpq. Thread-safe as long as each thread uses its
 * own struct svc_req.
 */
#ifndef PROCSVC_SVC_SILIST_H
#define PROCSVC_SVC_SILIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/si_record.h"
#include "service/ctx.h"
#include "service/ids.h"

/*
 * A list request as decoded (row 1, the JSON types, already checked).
 * Absent and null fields are 0 / empty / NULL. Owns its arrays and strings.
 */
struct svc_si_query {
	bool detail; /* list_service_instance_detail */
	int64_t biz_id;
	int64_t module_id;
	struct id_list host_ids;   /* bk_host_ids, as sent */
	struct id_list ids;        /* service_instance_ids, as sent */
	struct id_list host_list;  /* detail: bk_host_list, as sent */
	int64_t host_id;           /* detail: bk_host_id */
	char *search_key;          /* NULL: no filter */
	bool has_start, has_limit; /* page.start / page.limit given */
	int64_t start, limit;
	char *sort;        /* page.sort; NULL: "id" */
	size_t nselectors; /* elements of selectors */
};
void svc_si_query_free(struct svc_si_query *q);

/* The largest page (§11.3 row 4) and the default one. */
#define SVC_PAGE_MAX 500

/* The most ids one filter list may hold (§11.3 row 2). */
#define SVC_MAX_FILTER_IDS 1000

/*
 * Runs rows 2-5 in order, then reads the page: 0 with *out (count and the
 * page in sort order; for the detail list each item with its processes,
 * ascending bk_process_id; free with si_record_list_free), or -1 with e set
 * and out empty. An unknown module, host or id matches nothing. Reads from
 * the replica when there is one (svc_ctx_read_replica).
 */
int svc_si_list(const struct svc_req *req, const struct svc_si_query *q,
    struct si_record_list *out, struct err *e) MUST_CHECK;

#endif
