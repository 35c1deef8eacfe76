/*
 * api: the JSON face of procsvc. The HTTP layer hands over one request (raw
 * body plus the few headers the contract reads); this module parses the
 * body, authenticates (api-contract.md §3), picks the tenant and runs the
 * API's handler, which decodes into service structs, calls the service and
 * encodes the answer. Jansson is used here and in the envelope, nowhere
 * below.
 */
#ifndef PROCSVC_API_H
#define PROCSVC_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/jbuf.h"
#include "service/ctx.h"
#include "service/ids.h"

/* An accepted application (PROCSVC_APPS). */
struct api_app {
	char *code;
	char *secret;
};

struct api_config {
	struct api_app *apps;
	size_t napps;
	bool auth_off;             /* PROCSVC_AUTH=off: any app is accepted */
	const char *conninfo;      /* DATABASE_URL */
	int64_t schema_version;    /* /readyz wants at least this */
	size_t db_pool;            /* PROCSVC_DB_POOL: database connections */
	long db_wait_ms;           /* PROCSVC_DB_WAIT_MS: longest wait for one
	                       * before 503 */
	size_t decode_memory;      /* PROCSVC_DECODE_MEMORY: bytes large bodies may
	                       * hold while decoded, all together */
	long decode_wait_ms;       /* longest wait for decode memory before 503 */
	bool unprepared;           /* PROCSVC_PREPARE=off: behind a transaction pooler */
	const char *read_conninfo; /* PROCSVC_READ_URL: lists' replica, or NULL */
	long read_max_lag_ms;      /* PROCSVC_READ_MAX_LAG_MS: beyond it, lists go
	                       * to the primary */
	long idem_ttl_s;           /* PROCSVC_IDEMPOTENCY_TTL_S: how long a key's
	                       * answer is kept; 0 for the default (a day) */
};

/*
 * Sets the API and the layers below up before the server starts: cfg is
 * borrowed for the life of the process (read-only afterwards, so threads
 * need no lock); the database pool is made (no connection opened yet).
 * 0, or -1 with e set.
 */
int api_init(const struct api_config *cfg, struct err *e) MUST_CHECK;

/* Undoes api_init once no request runs any more. */
void api_shutdown(void);

/*
 * true when the database answers and the schema is this build's or newer
 * (GET /readyz; see svc_ready); else false with a short reason in reason
 * (size n). Uses a pool connection like any request.
 */
bool api_ready(char *reason, size_t n) MUST_CHECK;

/* Live gauges for GET /metrics. */
struct api_gauges {
	unsigned long long db_pool_size, db_in_use, db_idle, db_open, db_waiting;
	unsigned long long db_wait_timeouts;
	unsigned long long decode_bytes, decode_waiting;
	unsigned long long replica_up; /* 1 while lists are read on the replica */
	bool replica;                  /* PROCSVC_READ_URL is set; then: */
	double replica_lag_s;          /* behind the primary; negative: not known */
};
void api_gauges(struct api_gauges *out);

/*
 * An API handler: body is the request object (borrowed). On success returns
 * 0 and *data (a new reference, the envelope's data). On failure -1 with e
 * set and *data untouched.
 */
typedef int (*api_handler)(const struct svc_req *req, json_t *body,
    json_t **data, struct err *e);

/*
 * A handler that writes its data as JSON text instead of building a tree,
 * for answers that grow with what is stored (the list APIs): one pass, no
 * tree, nothing encoded twice. On success 0 with one JSON value appended
 * to out; on failure -1 with e set (out is then discarded).
 */
typedef int (*api_text_handler)(const struct svc_req *req, json_t *body,
    struct jbuf *out, struct err *e);

/* One request, as the HTTP layer sees it; all borrowed. Headers may be NULL. */
struct api_call {
	const char *body;
	size_t body_len;
	const char *hdr_authorization; /* X-Bkapi-Authorization */
	const char *hdr_user;          /* X-Bkcmdb-User */
	const char *hdr_bk_user;       /* BK_User */
	const char *hdr_tenant;        /* X-Bkcmdb-Supplier-Account */
	const char *hdr_tenant_alt;    /* HTTP_BK_SUPPLIER_ACCOUNT */
	/* The write APIs only (the lists ignore the header): X-Idempotency-Key
	 * as sent (NULL: absent), and whether it was sent more than once. */
	const char *hdr_idem_key;
	bool hdr_idem_key_repeated;
	const char *api; /* the API's name; with a key: required */
};

/* Longest X-Idempotency-Key (bytes of 0x21-0x7E, after trimming the
 * blanks around a header value). */
#define API_IDEM_KEY_MAX 128

/* Longest bk_app_code that may scope a key (it is part of the key's row). */
#define API_IDEM_APP_MAX 128

/* Longest operator accepted (bytes, before trimming). */
#define API_OPERATOR_MAX 128

struct api_reply {
	json_t *data;     /* success: owned by the reply; NULL on failure */
	struct jbuf text; /* success of an api_text_handler: the data */
	bool has_text;    /* text holds the data (data is NULL) */
	struct err err;   /* failure: code, HTTP status, message */
	/* failure: the whole message when err.msg holds a shortened one
	 * (svc_req.long_msg); owned by the reply, NULL when none */
	char *long_msg;
	char app_code[65]; /* for the access log (never the secret) */
	char username[129];
	char tenant[65]; /* the tenant the request ran as; "" when refused first */
};

/*
 * Runs one request through JSON decode (1199000), credentials (401), tenant,
 * the idempotency key (README "Safe retries": a stored answer is replayed,
 * a key held by another request is 409) and the handler, in the order of
 * api-contract.md §10. A keyed request's answer is always text
 * (out->has_text), byte for byte what a replay sends. Always fills out;
 * the caller frees it with api_reply_free.
 */
void api_serve(api_handler h, const struct api_call *call,
    struct api_reply *out);

/* As api_serve, for a handler that writes text (out->has_text). */
void api_serve_text(api_text_handler h, const struct api_call *call,
    struct api_reply *out);

/* Frees what a reply holds (data, text). */
void api_reply_free(struct api_reply *out);

/* Every array bound of the contract (§10 "Array limits") is at most 1000.
 * The body parser keeps API_ARRAY_KEEP elements of longer arrays and drops
 * the rest unparsed (no API looks past its bound), so a decoded array of
 * API_ARRAY_KEEP elements means "at least that many". */
#define API_ARRAY_KEEP 1002

/* Nesting limit of api-contract.md §10 (the outermost object is level 1). */
#define API_MAX_DEPTH 64

/*
 * Parses body: one JSON object, valid UTF-8, nesting at most API_MAX_DEPTH
 * levels (judged by a non-recursive scan before the parser runs), no U+0000
 * in any string; arrays cut to API_ARRAY_KEEP elements. 0 with *out (new
 * reference), or -1 with e 1199000 (503 when out of memory).
 */
int api_parse_body(const char *body, size_t len, json_t **out, struct err *e)
    MUST_CHECK;

/*
 * Reads an optional integer id field obj[key]. Absent or null: *out = 0.
 * Anything but a JSON integer: -1 with e 1199000 at path (the key appended
 * to base, which may be "").
 */
int api_get_id(json_t *obj, const char *base, const char *key, int64_t *out,
    struct err *e) MUST_CHECK;

/*
 * Reads an optional array field obj[key] (path: key appended to base) with
 * its bound (api-contract.md §10 "Array limits"), judged before any element
 * is decoded: absent or null gives *out = NULL; a non-array is 1199000;
 * more than max elements is 1199035 ("has N <noun>; the limit is max").
 */
int api_get_array(json_t *obj, const char *base, const char *key, size_t max,
    const char *noun, json_t **out, struct err *e) MUST_CHECK;

/*
 * Sets e to 1199000 "must be <what>" (what: "a string", ...) at the path of
 * obj[key]: key appended to base, which may be "" (the body).
 */
void api_type_error(const char *base, const char *key, const char *what,
    struct err *e);

/*
 * As api_get_array, for a check table whose row 1 (structure) runs over the
 * whole request before its size row (api-contract.md §11): an array over
 * max is not an error yet. It is recorded in *over (the first such array
 * only; see api_report_later) and *out is NULL, so its elements are never
 * decoded (§10 "Array limits") while the rest of the request still is.
 */
int api_get_array_later(json_t *obj, const char *base, const char *key,
    size_t max, const char *noun, json_t **out, struct err *over,
    struct err *e) MUST_CHECK;

/* After the structural checks: e = *over, if set (-1), else 0. */
int api_report_later(const struct err *over, struct err *e) MUST_CHECK;

/*
 * Reads an optional list of ids, obj[key] at the top level of the body,
 * into out (malloc'ed; empty when the key is absent, null or [], and when
 * the list has more than max ids: that goes to *over, as
 * api_get_array_later does): not an array, or an element that is not a
 * JSON integer (a string, a real, true, null) -> -1 with e 1199000 naming
 * the field or the element (api-contract.md §11.2). The values themselves
 * are not judged.
 */
int api_get_ids(json_t *obj, const char *key, size_t max, struct id_list *out,
    struct err *over, struct err *e) MUST_CHECK;

/*
 * Reads a delete's body (api-contract.md §11.6, §11.7): bk_biz_id, then
 * the id list at key (at most max ids), their structure only (row 1,
 * 1199000), then the list's size (row 3, 1199035). 0, or -1 with e set;
 * *ids is the caller's to free either way.
 */
int api_get_delete(json_t *body, const char *key, size_t max, int64_t *biz_id,
    struct id_list *ids, struct err *e) MUST_CHECK;

/* A JSON array of the ids, or NULL when out of memory. */
json_t *api_id_array(const struct id_list *ids);

#endif
