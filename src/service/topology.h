/*
 * service/topology: the rules of procsvc's topology mirror (api-contract.md
 * §4, first table): upsert_hosts, upsert_modules and set_module_hosts. The
 * API layer decodes JSON into the batches below, having already reported
 * structural errors (wrong JSON types, 1199000); everything else, from the
 * batch size to "the module exists", is checked here, in the order the
 * functions document, and then written through db/topology.
 *
 * Batches are column-oriented (one array per field) because that is how the
 * database takes them: one unnest() over parallel arrays per statement.
 *
 * Plain C; no JSON, no libpq. Functions are thread-safe as long as each
 * thread uses its own struct svc_req / struct db.
 */
#ifndef PROCSVC_SVC_TOPOLOGY_H
#define PROCSVC_SVC_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "service/ctx.h"
#include "service/ids.h"

/* Most items per upsert_hosts / upsert_modules / set_module_hosts call. */
#define TOPO_BATCH_MAX 1000

/* Longest bk_module_name, in bytes after trimming. */
#define TOPO_MODULE_NAME_MAX 256

/* The IP fields of a host, in this order everywhere (decode, check, SQL). */
enum topo_ip_index {
	TOPO_INNERIP,
	TOPO_OUTERIP,
	TOPO_INNERIP_V6,
	TOPO_OUTERIP_V6,
	TOPO_IP_COUNT
};

struct topo_ip_field {
	const char *name; /* JSON key, and the column of table host */
	int family;       /* AF_INET or AF_INET6: what each list entry must be */
};

extern const struct topo_ip_field topo_ip_fields[TOPO_IP_COUNT];

/*
 * An upsert_hosts batch of n hosts. id[i] is 0 when bk_host_id was missing
 * or null. ip[k][i] is the trimmed value of topo_ip_fields[k], or NULL when
 * missing or null (meaning ""). Everything is owned: topo_hosts_free.
 */
struct topo_hosts {
	size_t n;
	int64_t *id;
	char **ip[TOPO_IP_COUNT];
};

/*
 * An upsert_modules batch of n modules. Missing or null integers are 0;
 * name[i] is the trimmed bk_module_name or NULL (""). Owned:
 * topo_modules_free.
 */
struct topo_modules {
	size_t n;
	int64_t *id;
	int64_t *biz_id;
	int64_t *template_id;
	int64_t *default_kind; /* JSON "default" */
	char **name;
};

/* A set_module_hosts request. host_ids is owned: topo_module_hosts_free. */
struct topo_module_hosts {
	int64_t module_id; /* 0: missing or null */
	bool hosts_given;  /* false: bk_host_ids missing or null */
	size_t n;
	int64_t *host_ids;
};

/*
 * Allocates the arrays of a batch of n items, all zero / NULL (n may be 0).
 * 0, or -1 when out of memory (the batch is then empty and freeable).
 */
int topo_hosts_alloc(struct topo_hosts *h, size_t n) MUST_CHECK;
int topo_modules_alloc(struct topo_modules *m, size_t n) MUST_CHECK;
int topo_module_hosts_alloc(struct topo_module_hosts *mh, size_t n) MUST_CHECK;

/* Free what the batch owns and zero it; NULL-safe, and safe to call twice. */
void topo_hosts_free(struct topo_hosts *h);
void topo_modules_free(struct topo_modules *m);
void topo_module_hosts_free(struct topo_module_hosts *mh);

/*
 * upsert_hosts: inserts or updates every host of in (borrowed) in
 * req->tenant, all four IPs replaced. Checks, first failure wins:
 *   1. no hosts                                   1199010 hosts
 *   2. more than TOPO_BATCH_MAX                   1199035 hosts
 *   3. per host in input order, field by field:
 *      bk_host_id missing or <= 0                 1199006 hosts[i].bk_host_id
 *      an IP field that is not "" nor a comma list of addresses of its
 *      family                                     1199006 hosts[i].<field>
 *   4. a bk_host_id given twice                   1199014 (both paths)
 * 0 when written, or -1 with e set and nothing written (database faults:
 * 503 / 1199999 as db reports them).
 */
int svc_upsert_hosts(const struct svc_req *req, const struct topo_hosts *in,
    struct err *e) MUST_CHECK;

/*
 * upsert_modules: inserts or updates every module of in in req->tenant.
 * Checks as svc_upsert_hosts (1199010 / 1199035 at "modules"), then per
 * module: bk_module_id and bk_biz_id missing or <= 0, service_template_id
 * < 0, default outside 32 bits (1199006); bk_module_name over
 * TOPO_MODULE_NAME_MAX (1199015); then a bk_module_id given twice (1199014).
 */
int svc_upsert_modules(const struct svc_req *req, const struct topo_modules *in,
    struct err *e) MUST_CHECK;

/*
 * set_module_hosts: makes in->host_ids the whole host list of the module,
 * in one transaction that holds the module's row lock, so concurrent calls
 * on one module apply one after the other. Checks, first failure wins:
 *   1. bk_module_id missing or <= 0               1199006 bk_module_id
 *   2. bk_host_ids missing or null                1199010 bk_host_ids
 *   3. more than TOPO_BATCH_MAX ids               1199035 bk_host_ids
 *   4. an id <= 0                                 1199006 bk_host_ids[i]
 *   5. an id given twice                          1199014 (both indexes)
 *   6. the module unknown in req->tenant          1101034 bk_module_id
 *   7. hosts unknown in req->tenant (all listed)  1199006 bk_host_ids
 * 0, or -1 with e set and nothing changed.
 */
int svc_set_module_hosts(const struct svc_req *req,
    const struct topo_module_hosts *in, struct err *e) MUST_CHECK;

#endif
