/*
 * err: the first failure of a request, carried from where it is found up to
 * the envelope. Every layer reports through this one shape, so the HTTP layer
 * never has to know which layer failed.
 *
 * C library only; any layer may include it.
 */
#ifndef PROCSVC_ERR_H
#define PROCSVC_ERR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ERR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define MUST_CHECK __attribute__((warn_unused_result))

/* Contract codes (api-contract.md). Named by what they mean to a client. */
enum {
	ERR_BAD_JSON = 1199000,   /* structural: not JSON / wrong top-level type */
	ERR_BAD_VALUE = 1199006,  /* out of range, bad syntax, wrong reference */
	ERR_REQUIRED = 1199010,   /* a required value is missing */
	ERR_WRONG_TYPE = 1199011, /* a process attribute of the wrong JSON type */
	ERR_DUPLICATE = 1199014,  /* uniqueness broken */
	ERR_TOO_LONG = 1199015,   /* string longer than its limit */
	ERR_NOT_FOUND = 1199019,  /* unknown service instance / API */
	ERR_TOO_MANY = 1199035,   /* batch or body over its limit */
	ERR_PAGE_LIMIT = 1199059, /* page.limit over its maximum (bk-cmdb's CCErrCommPageLimitIsExceeded) */
	ERR_SERVER = 1199999,     /* server fault (database, memory): retry later, HTTP 503 */
	ERR_MODULE_UNKNOWN = 1101034,
	ERR_MODULE_OTHER_BIZ = 1113004,
	ERR_HOST_NOT_IN_MODULE = 1110056,
	ERR_TEMPLATE_HOST_DUP = 1113016,
	ERR_PT_NAME_DUP = 1113019,
	ERR_PT_FUNC_DUP = 1113020,
	ERR_SI_FROM_TEMPLATE = 1108035,
	ERR_PROC_FROM_TEMPLATE = 1113022, /* deleting a process made from a template */
	ERR_AUTH_APP = 1306403,
	ERR_AUTH_USER = 1306401,
};

struct err {
	int code;        /* contract code; 0 = no error */
	int http_status; /* 200 for business errors; 401, 404, 405, 413, 503 */
	char path[256];  /* e.g. instances[3].processes[0].process_info.bind_info[1].port */
	char msg[768];   /* English; starts with the path when there is one */
	/* The database constraint a write broke (unique, foreign key, check),
	 * so that src/db/ can name the contract rule it stands for; "" for
	 * every other error. Never shown to clients. */
	char constraint[64];
};

/*
 * Records an error with HTTP status 200. Keeps the first error: when e already
 * holds one, nothing changes. path may be NULL or "" (no field); the message
 * becomes "<path>: <formatted text>".
 */
void err_set(struct err *e, int code, const char *path, const char *fmt, ...)
    ERR_PRINTF(4, 5);

/* As err_set, with an explicit HTTP status (401, 503, ...). */
void err_set_http(struct err *e, int http_status, int code, const char *path,
    const char *fmt, ...) ERR_PRINTF(5, 6);

/*
 * A server fault (HTTP 503, ERR_SERVER): the client is told to retry, the
 * cause belongs in the log. Keeps the first error like err_set.
 */
void err_server(struct err *e, const char *fmt, ...) ERR_PRINTF(2, 3);

/* err_server for a failed allocation. Returns -1, for "return err_oom(e);". */
int err_oom(struct err *e);

/* Forgets e's error: for a caller that replaces a lower layer's generic
 * report (a constraint violation) with the contract's own. */
void err_clear(struct err *e);

/* Copies src into dst unless dst already holds an error. */
void err_copy(struct err *dst, const struct err *src);

static inline bool
err_isset(const struct err *e)
{
	return e->code != 0;
}

/*
 * Writes "1, 2, 3" of ids[0..count) into buf (size n), as many as fit
 * whole. Returns how many were written; the caller says "and K more".
 */
size_t err_id_list(char *buf, size_t n, const int64_t *ids, size_t count);

/*
 * Drops a partial UTF-8 sequence at the end of s (left by a byte-counted
 * truncation such as snprintf's), so s stays valid text.
 */
void err_cut_utf8(char *s);

/*
 * Writes a quoted, length-capped copy of a user value into buf (size n) for
 * use inside messages: control characters become '?', and values over 64
 * bytes end in "...". Never splits a UTF-8 sequence. Returns buf.
 */
const char *err_quote(char *buf, size_t n, const char *value);

#endif
