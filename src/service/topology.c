#include "service/topology.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jpath.h"
#include "db/db.h"
#include "db/topology.h"

/* api-contract.md §4 and §10 "Hosts and modules": inner/outer IPs may be
 * comma lists (multi-IP hosts); each entry must be of the field's family. */
const struct topo_ip_field topo_ip_fields[TOPO_IP_COUNT] = {
	[TOPO_INNERIP] = { "bk_host_innerip", AF_INET },
	[TOPO_OUTERIP] = { "bk_host_outerip", AF_INET },
	[TOPO_INNERIP_V6] = { "bk_host_innerip_v6", AF_INET6 },
	[TOPO_OUTERIP_V6] = { "bk_host_outerip_v6", AF_INET6 },
};

_Static_assert(TOPO_IP_COUNT == DB_HOST_IP_COUNT,
    "db/topology.h host columns must match topo_ip_fields");

/* ---- batches ------------------------------------------------------------ */

/* calloc that never asks for 0 bytes, so an empty batch still allocates and
 * "NULL" always means "out of memory". */
static void *
zalloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

static void
str_array_free(char **a, size_t n)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(a[i]);
	free(a);
}

int
topo_hosts_alloc(struct topo_hosts *h, size_t n)
{
	memset(h, 0, sizeof(*h));
	h->id = zalloc(n, sizeof(*h->id));
	for (size_t k = 0; k < TOPO_IP_COUNT; k++)
		h->ip[k] = zalloc(n, sizeof(*h->ip[k]));
	h->n = n;
	for (size_t k = 0; k < TOPO_IP_COUNT; k++)
		if (h->ip[k] == NULL)
			goto fail;
	if (h->id == NULL)
		goto fail;
	return 0;
fail:
	topo_hosts_free(h);
	return -1;
}

void
topo_hosts_free(struct topo_hosts *h)
{
	if (h == NULL)
		return;
	for (size_t k = 0; k < TOPO_IP_COUNT; k++)
		str_array_free(h->ip[k], h->n);
	free(h->id);
	memset(h, 0, sizeof(*h));
}

int
topo_modules_alloc(struct topo_modules *m, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->id = zalloc(n, sizeof(*m->id));
	m->biz_id = zalloc(n, sizeof(*m->biz_id));
	m->template_id = zalloc(n, sizeof(*m->template_id));
	m->default_kind = zalloc(n, sizeof(*m->default_kind));
	m->name = zalloc(n, sizeof(*m->name));
	m->n = n;
	if (m->id == NULL || m->biz_id == NULL || m->template_id == NULL ||
	    m->default_kind == NULL || m->name == NULL) {
		topo_modules_free(m);
		return -1;
	}
	return 0;
}

void
topo_modules_free(struct topo_modules *m)
{
	if (m == NULL)
		return;
	str_array_free(m->name, m->n);
	free(m->id);
	free(m->biz_id);
	free(m->template_id);
	free(m->default_kind);
	memset(m, 0, sizeof(*m));
}

int
topo_module_hosts_alloc(struct topo_module_hosts *mh, size_t n)
{
	mh->host_ids = zalloc(n, sizeof(*mh->host_ids));
	mh->n = mh->host_ids != NULL ? n : 0;
	return mh->host_ids != NULL ? 0 : -1;
}

void
topo_module_hosts_free(struct topo_module_hosts *mh)
{
	if (mh == NULL)
		return;
	free(mh->host_ids);
	memset(mh, 0, sizeof(*mh));
}

/* ---- checks ------------------------------------------------------------- */

/* Check rows 1 and 2 of the batch APIs: 1..TOPO_BATCH_MAX items. */
static int
check_batch_size(size_t n, const char *key, const char *noun, struct err *e)
{
	if (n == 0) {
		err_set(e, ERR_REQUIRED, key, "is required (a non-empty array of %s)", noun);
		return -1;
	}
	if (n > TOPO_BATCH_MAX) {
		err_set(e, ERR_TOO_MANY, key, "has %zu %s; the limit is %d per request",
		    n, noun, TOPO_BATCH_MAX);
		return -1;
	}
	return 0;
}

/* A required id field at p.key: 0 is what missing and null decode to. */
static int
check_positive(int64_t v, struct jpath *p, const char *key, struct err *e)
{
	size_t mark;

	if (v > 0)
		return 0;
	mark = jpath_key(p, key);
	if (v == 0)
		err_set(e, ERR_BAD_VALUE, jpath_str(p), "is required (a positive integer)");
	else
		err_set(e, ERR_BAD_VALUE, jpath_str(p), "%" PRId64 " is not a positive integer", v);
	jpath_pop(p, mark);
	return -1;
}

/* One IP or a comma list of them, each accepted by inet_pton for family.
 * No spaces, no empty entries: they would poison IP codes and naming,
 * which use the first entry (api-contract.md §10). */
static bool
ip_list_ok(const char *s, int family)
{
	unsigned char addr[sizeof(struct in6_addr)];
	char one[INET6_ADDRSTRLEN + 1];

	if (s == NULL || *s == '\0')
		return true;
	for (;;) {
		size_t len = strcspn(s, ",");
		if (len == 0 || len >= sizeof(one))
			return false;
		memcpy(one, s, len);
		one[len] = '\0';
		if (inet_pton(family, one, addr) != 1)
			return false;
		s += len;
		if (*s == '\0')
			return true;
		s++; /* past the comma; a trailing one leaves an empty entry */
	}
}

static int
check_ip(const char *s, struct jpath *p, const struct topo_ip_field *f,
    struct err *e)
{
	const char *fam = f->family == AF_INET ? "IPv4" : "IPv6";
	char q[96];
	size_t mark;

	if (ip_list_ok(s, f->family))
		return 0;
	mark = jpath_key(p, f->name);
	err_set(e, ERR_BAD_VALUE, jpath_str(p),
	    "%s is not an %s address or a comma-separated list of %s addresses",
	    err_quote(q, sizeof(q), s), fam, fam);
	jpath_pop(p, mark);
	return -1;
}

/*
 * The first id in input order that repeats an earlier one: *first and
 * *second are their indexes. O(n^2) over at most TOPO_BATCH_MAX ids is half
 * a million comparisons, cheaper than the allocation a sort would need.
 */
static bool
find_duplicate(const int64_t *ids, size_t n, size_t *first, size_t *second)
{
	for (size_t j = 1; j < n; j++)
		for (size_t i = 0; i < j; i++)
			if (ids[i] == ids[j]) {
				*first = i;
				*second = j;
				return true;
			}
	return false;
}

/*
 * 1199014 naming both places of a repeated id: items[j].key, "also given
 * at" items[i].key. key NULL: the items are the ids themselves.
 */
static int
check_unique(const int64_t *ids, size_t n, const char *items, const char *key,
    struct err *e)
{
	struct jpath a, b;
	size_t i, j;

	if (!find_duplicate(ids, n, &i, &j))
		return 0;
	jpath_init(&a);
	jpath_key(&a, items);
	b = a;
	jpath_index(&a, i);
	jpath_index(&b, j);
	if (key != NULL) {
		jpath_key(&a, key);
		jpath_key(&b, key);
	}
	err_set(e, ERR_DUPLICATE, jpath_str(&b), "%" PRId64 " is also given at %s",
	    ids[j], jpath_str(&a));
	return -1;
}

static int
check_hosts(const struct topo_hosts *in, struct err *e)
{
	struct jpath p;

	if (check_batch_size(in->n, "hosts", "hosts", e) != 0)
		return -1;
	jpath_init(&p);
	jpath_key(&p, "hosts");
	for (size_t i = 0; i < in->n; i++) {
		size_t mark = jpath_index(&p, i);
		if (check_positive(in->id[i], &p, "bk_host_id", e) != 0)
			return -1;
		for (size_t k = 0; k < TOPO_IP_COUNT; k++)
			if (check_ip(in->ip[k][i], &p, &topo_ip_fields[k], e) != 0)
				return -1;
		jpath_pop(&p, mark);
	}
	return check_unique(in->id, in->n, "hosts", "bk_host_id", e);
}

static int
check_module(const struct topo_modules *in, size_t i, struct jpath *p,
    struct err *e)
{
	size_t mark, len;

	if (check_positive(in->id[i], p, "bk_module_id", e) != 0 ||
	    check_positive(in->biz_id[i], p, "bk_biz_id", e) != 0)
		return -1;
	if (in->template_id[i] < 0) {
		mark = jpath_key(p, "service_template_id");
		err_set(e, ERR_BAD_VALUE, jpath_str(p),
		    "%" PRId64 " is not a service template id (0 for none)",
		    in->template_id[i]);
		jpath_pop(p, mark);
		return -1;
	}
	/* The column is an integer: reject here what the database would fail
	 * on with a server error. */
	if (in->default_kind[i] < INT32_MIN || in->default_kind[i] > INT32_MAX) {
		mark = jpath_key(p, "default");
		err_set(e, ERR_BAD_VALUE, jpath_str(p),
		    "%" PRId64 " is out of range (%d..%d)", in->default_kind[i],
		    INT32_MIN, INT32_MAX);
		jpath_pop(p, mark);
		return -1;
	}
	len = in->name[i] != NULL ? strlen(in->name[i]) : 0;
	if (len > TOPO_MODULE_NAME_MAX) {
		mark = jpath_key(p, "bk_module_name");
		err_set(e, ERR_TOO_LONG, jpath_str(p),
		    "is %zu bytes long; the limit is %d bytes", len,
		    TOPO_MODULE_NAME_MAX);
		jpath_pop(p, mark);
		return -1;
	}
	return 0;
}

static int
check_modules(const struct topo_modules *in, struct err *e)
{
	struct jpath p;

	if (check_batch_size(in->n, "modules", "modules", e) != 0)
		return -1;
	jpath_init(&p);
	jpath_key(&p, "modules");
	for (size_t i = 0; i < in->n; i++) {
		size_t mark = jpath_index(&p, i);
		if (check_module(in, i, &p, e) != 0)
			return -1;
		jpath_pop(&p, mark);
	}
	return check_unique(in->id, in->n, "modules", "bk_module_id", e);
}

/* Rows 1-5 of svc_set_module_hosts: everything that needs no database. */
static int
check_module_hosts(const struct topo_module_hosts *in, struct err *e)
{
	struct jpath p;

	jpath_init(&p);
	if (check_positive(in->module_id, &p, "bk_module_id", e) != 0)
		return -1;
	if (!in->hosts_given) {
		err_set(e, ERR_REQUIRED, "bk_host_ids",
		    "is required (an array of host ids; [] removes every host)");
		return -1;
	}
	if (in->n > TOPO_BATCH_MAX) {
		err_set(e, ERR_TOO_MANY, "bk_host_ids",
		    "has %zu host ids; the limit is %d per request", in->n,
		    TOPO_BATCH_MAX);
		return -1;
	}
	jpath_key(&p, "bk_host_ids");
	for (size_t i = 0; i < in->n; i++) {
		if (in->host_ids[i] > 0)
			continue;
		jpath_index(&p, i);
		err_set(e, ERR_BAD_VALUE, jpath_str(&p),
		    "%" PRId64 " is not a host id (a positive integer)",
		    in->host_ids[i]);
		return -1;
	}
	return check_unique(in->host_ids, in->n, "bk_host_ids", NULL, e);
}

/*
 * "hosts 7, 9 do not exist; upsert them first": as many ids as fit in a
 * readable message, then how many more there are.
 */
static void
report_missing_hosts(const int64_t *ids, size_t n, struct err *e)
{
	char list[300];
	size_t shown = err_id_list(list, sizeof(list), ids, n);

	if (n == 1)
		err_set(e, ERR_BAD_VALUE, "bk_host_ids",
		    "host %s does not exist; upsert it first", list);
	else if (shown < n)
		err_set(e, ERR_BAD_VALUE, "bk_host_ids",
		    "hosts %s and %zu more do not exist; upsert them first",
		    list, n - shown);
	else
		err_set(e, ERR_BAD_VALUE, "bk_host_ids",
		    "hosts %s do not exist; upsert them first", list);
}

/* ---- operations --------------------------------------------------------- */

/* The batch upserts are one statement each, atomic on their own: an explicit
 * transaction would only add two round trips. db_ready still gives the
 * statement a healthy, idle connection. */
int
svc_upsert_hosts(const struct svc_req *req, const struct topo_hosts *in,
    struct err *e)
{
	struct db_host_cols c = { .n = in->n, .id = in->id };

	if (check_hosts(in, e) != 0)
		return -1;
	for (size_t k = 0; k < TOPO_IP_COUNT; k++)
		c.ip[k] = in->ip[k];
	if (db_ready(req->ctx->db, e) != 0)
		return -1;
	return db_host_upsert(req->ctx->db, req->tenant, &c, e);
}

int
svc_upsert_modules(const struct svc_req *req, const struct topo_modules *in,
    struct err *e)
{
	struct db_module_cols c = {
		.n = in->n,
		.id = in->id,
		.biz_id = in->biz_id,
		.template_id = in->template_id,
		.default_kind = in->default_kind,
		.name = in->name,
	};

	if (check_modules(in, e) != 0)
		return -1;
	if (db_ready(req->ctx->db, e) != 0)
		return -1;
	return db_module_upsert(req->ctx->db, req->tenant, &c, e);
}

/* Adds the hosts; a foreign-key failure can only mean a host vanished after
 * the existence check (another client deleting rows directly). */
static int
add_hosts(const struct svc_req *req, const struct topo_module_hosts *in,
    struct err *e)
{
	struct err add = { 0 };

	if (db_module_host_add(req->ctx->db, req->tenant, in->module_id,
		in->host_ids, in->n, &add) == 0)
		return 0;
	if (add.code == ERR_BAD_VALUE)
		err_set(e, ERR_BAD_VALUE, "bk_host_ids",
		    "a host was removed while the request ran; upsert it and retry");
	else
		err_copy(e, &add);
	return -1;
}

int
svc_set_module_hosts(const struct svc_req *req,
    const struct topo_module_hosts *in, struct err *e)
{
	struct db *db = req->ctx->db;
	int64_t *missing = NULL; /* owned here */
	size_t nmissing = 0;
	bool in_tx = false, found;
	int rc = -1;

	if (check_module_hosts(in, e) != 0)
		return -1;
	if (db_begin(db, e) != 0)
		goto out;
	in_tx = true;
	/* The row lock serialises concurrent calls on this module: the second
	 * one waits here and then replaces what the first committed. */
	if (db_module_lock(db, req->tenant, in->module_id, &found, e) != 0)
		goto out;
	if (!found) {
		err_set(e, ERR_MODULE_UNKNOWN, "bk_module_id",
		    "module %" PRId64 " does not exist", in->module_id);
		goto out;
	}
	if (in->n > 0) {
		if (db_host_missing(db, req->tenant, in->host_ids, in->n, &missing,
			&nmissing, e) != 0)
			goto out;
		if (nmissing > 0) {
			report_missing_hosts(missing, nmissing, e);
			goto out;
		}
	}
	if (db_module_host_clear(db, req->tenant, in->module_id, e) != 0)
		goto out;
	if (in->n > 0 && add_hosts(req, in, e) != 0)
		goto out;
	in_tx = false; /* COMMIT ends the block even when it fails */
	if (db_commit(db, e) != 0)
		goto out;
	rc = 0;
out:
	if (in_tx)
		db_rollback(db);
	free(missing);
	return rc;
}
