#include "common/proc_attr.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/str.h"

/* api-contract.md §5. The JSON key is also the column of table process. */
const struct proc_attr proc_attrs[PROC_ATTR_COUNT] = {
	/* name                     kind      min    max  flags */
	[PAI_PROCESS_NAME] = { "bk_process_name", PA_STR, 1, 256, PA_REQUIRED | PA_ALWAYS_LOCKED, NULL },
	[PAI_FUNC_NAME] = { "bk_func_name", PA_STR, 1, 256, PA_REQUIRED | PA_ALWAYS_LOCKED, NULL },
	[PAI_FUNC_ID] = { "bk_func_id", PA_STR, 0, 256, 0, NULL },
	[PAI_START_PARAM_REGEX] = { "bk_start_param_regex", PA_STR, 0, 2000, 0, NULL },
	[PAI_DESCRIPTION] = { "description", PA_STR, 0, 256, 0, NULL },
	[PAI_USER] = { "user", PA_STR, 0, 256, 0, NULL },
	[PAI_WORK_PATH] = { "work_path", PA_STR, 0, 2000, 0, NULL },
	[PAI_PID_FILE] = { "pid_file", PA_STR, 0, 2000, 0, NULL },
	[PAI_START_CMD] = { "start_cmd", PA_STR, 0, 2000, 0, NULL },
	[PAI_STOP_CMD] = { "stop_cmd", PA_STR, 0, 2000, 0, NULL },
	[PAI_RESTART_CMD] = { "restart_cmd", PA_STR, 0, 2000, 0, NULL },
	[PAI_FACE_STOP_CMD] = { "face_stop_cmd", PA_STR, 0, 2000, 0, NULL },
	[PAI_RELOAD_CMD] = { "reload_cmd", PA_STR, 0, 2000, 0, NULL },
	[PAI_PROC_NUM] = { "proc_num", PA_INT, 1, 10000, 0, NULL },
	[PAI_PRIORITY] = { "priority", PA_INT, -100, 10000, 0, NULL },
	[PAI_TIMEOUT] = { "timeout", PA_INT, 0, 10000, 0, NULL },
	[PAI_AUTO_TIME_GAP] = { "auto_time_gap", PA_INT, 1, 10000, 0, NULL },
	[PAI_START_CHECK_SECS] = { "bk_start_check_secs", PA_INT, 0, 600, 0, NULL },
	[PAI_AUTO_START] = { "auto_start", PA_BOOL, 0, 0, 0, NULL },
	[PAI_BIND_INFO] = { "bind_info", PA_BIND, 0, 0, 0, NULL },
};

/*
 * api-contract.md §5, bind_info row. pval_check tests the length before the
 * syntax, so the length must stay well above any valid value: with a tight
 * bound (1 for protocol, 64 for ip) "tcp" or a long garbage ip would come out
 * as 1199015 "too long" instead of the bad-bind_info 1199006 of §6 row 11.
 * 2000 only bounds absurd input.
 */
const struct proc_attr bind_keys[BIND_KEY_COUNT] = {
	[BKI_ENABLE] = { "enable", PA_BOOL, 0, 0, 0, NULL },
	[BKI_IP] = { "ip", PA_STR, 0, 2000, 0, ip_syntax_ok },
	[BKI_PORT] = { "port", PA_STR, 0, 2000, 0, port_syntax_ok },
	[BKI_PROTOCOL] = { "protocol", PA_STR, 0, 2000, 0, protocol_syntax_ok },
	[BKI_TEMPLATE_ROW_ID] = { "template_row_id", PA_INT, INT64_MIN, INT64_MAX, PA_ZERO_DEFAULT, NULL },
};

void
pval_clear(struct pval *p)
{
	free(p->s);
	free(p->bad);
	memset(p, 0, sizeof(*p));
}

void
proc_record_list_free(struct proc_record_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		proc_values_clear(&l->items[i].v);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

const struct proc_template *
proc_template_find(const struct proc_template_list *l, int64_t id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].id == id)
			return &l->items[i];
	return NULL;
}

void
proc_template_list_free(struct proc_template_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		proc_values_clear(&l->items[i].v);
		free(l->items[i].row_locked);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void
proc_key_list_free(struct proc_key_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].name);
		free(l->items[i].func);
		free(l->items[i].regex);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void
proc_values_clear(struct proc_values *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++)
		pval_clear(&v->attr[i]);
	for (size_t r = 0; r < v->nrows; r++) {
		for (size_t k = 0; k < BIND_KEY_COUNT; k++)
			pval_clear(&v->rows[r].key[k]);
		free(v->rows[r].bad);
	}
	free(v->rows);
	v->rows = NULL;
	v->nrows = 0;
}

static int
err_dup(struct err **dst, const struct err *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = malloc(sizeof(**dst));
	if (*dst == NULL)
		return -1;
	**dst = *src;
	return 0;
}

int
pval_copy(struct pval *dst, const struct pval *src)
{
	*dst = *src;
	dst->s = NULL;
	dst->bad = NULL;
	if (src->s != NULL && (dst->s = strdup(src->s)) == NULL)
		return -1;
	return err_dup(&dst->bad, src->bad);
}

int
proc_values_copy(struct proc_values *dst, const struct proc_values *src)
{
	memset(dst, 0, sizeof(*dst));
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++)
		if (pval_copy(&dst->attr[i], &src->attr[i]) != 0)
			goto fail;
	if (src->nrows > 0) {
		dst->rows = calloc(src->nrows, sizeof(*dst->rows));
		if (dst->rows == NULL)
			goto fail;
		dst->nrows = src->nrows;
		for (size_t r = 0; r < src->nrows; r++) {
			for (size_t k = 0; k < BIND_KEY_COUNT; k++)
				if (pval_copy(&dst->rows[r].key[k], &src->rows[r].key[k]) != 0)
					goto fail;
			if (err_dup(&dst->rows[r].bad, src->rows[r].bad) != 0)
				goto fail;
		}
	}
	return 0;
fail:
	proc_values_clear(dst);
	return -1;
}

/* Used when even the error cannot be allocated: the value must stay bad. */
static const struct err oom_err = {
	.code = ERR_SERVER,
	.http_status = 503,
	.path = "",
	.msg = "out of memory, retry later",
};

void
pval_set_bad(struct pval *p, int code, const char *path, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	/* Format first: the arguments may point into p->s (the bad value). */
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	free(p->s);
	p->s = NULL;
	p->state = PV_BAD;
	free(p->bad);
	p->bad = calloc(1, sizeof(*p->bad));
	if (p->bad == NULL) {
		/* pval_clear frees bad: keep a heap copy or nothing at all. */
		p->bad = malloc(sizeof(*p->bad));
		if (p->bad != NULL)
			*p->bad = oom_err;
		return;
	}
	err_set(p->bad, code, path, "%s", text);
}

void
pval_check(struct pval *p, const struct proc_attr *a, const char *path)
{
	char why[256];

	if (p->state == PV_BAD)
		return;
	if ((a->flags & PA_REQUIRED) &&
	    (p->state != PV_SET || (a->kind == PA_STR && str_blank(p->s)))) {
		pval_set_bad(p, ERR_REQUIRED, path, "is required (a non-blank string)");
		return;
	}
	if (p->state != PV_SET)
		return;
	if (a->kind == PA_STR) {
		size_t len = strlen(p->s);
		if (len > (size_t)a->max) {
			pval_set_bad(p, ERR_TOO_LONG, path,
			    "is %zu bytes long; the limit is %lld bytes", len,
			    (long long)a->max);
			return;
		}
		if (a->syntax != NULL && !a->syntax(p->s, why, sizeof(why)))
			pval_set_bad(p, ERR_BAD_VALUE, path, "%s", why);
	} else if (a->kind == PA_INT) {
		if (p->i < a->min || p->i > a->max)
			pval_set_bad(p, ERR_BAD_VALUE, path,
			    "%lld is out of range (%lld..%lld)", (long long)p->i,
			    (long long)a->min, (long long)a->max);
	}
}

/* A PV_BAD value whose error could not even be allocated is still bad. */
static const struct err *
bad_of(const struct pval *p)
{
	return p->bad != NULL ? p->bad : &oom_err;
}

const struct err *
proc_values_first_error(const struct proc_values *v, const bool *skip,
    const bool *skip_bind)
{
	for (size_t i = 0; i < PROC_ATTR_COUNT; i++) {
		if (skip != NULL && skip[i])
			continue;
		if (v->attr[i].state == PV_BAD)
			return bad_of(&v->attr[i]);
		if (i != PAI_BIND_INFO)
			continue;
		for (size_t r = 0; r < v->nrows; r++) {
			if (v->rows[r].bad != NULL)
				return v->rows[r].bad;
			for (size_t k = 0; k < BIND_KEY_COUNT; k++) {
				if (skip_bind != NULL && skip_bind[k])
					continue;
				if (v->rows[r].key[k].state == PV_BAD)
					return bad_of(&v->rows[r].key[k]);
			}
		}
	}
	return NULL;
}

#define PORT_WHY "is not a port (1-65535), a range \"8000-8010\", or a comma list of those"

/* A port number: 1-65535, decimal digits only, no sign, no leading zero. */
static bool
parse_port(const char **pp, long *out)
{
	const char *p = *pp;
	long v = 0;
	int digits = 0;

	if (*p < '1' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (*p - '0');
		if (++digits > 5)
			return false;
		p++;
	}
	if (v < 1 || v > 65535)
		return false;
	*out = v;
	*pp = p;
	return true;
}

struct port_range {
	long lo, hi;
};

static int
range_cmp(const void *a, const void *b)
{
	const struct port_range *x = a, *y = b;
	return (x->lo > y->lo) - (x->lo < y->lo);
}

bool
port_syntax_ok(const char *s, char *why, size_t whylen)
{
	struct port_range ranges[1000];
	size_t n = 0;
	const char *p = s;
	char q[96];

	if (*s == '\0')
		return true; /* api-contract.md §10: "" means no port */
	for (;;) {
		long lo, hi;
		if (n == sizeof(ranges) / sizeof(ranges[0]) || !parse_port(&p, &lo))
			goto bad;
		hi = lo;
		if (*p == '-') {
			p++;
			if (!parse_port(&p, &hi) || hi < lo)
				goto bad;
		}
		ranges[n].lo = lo;
		ranges[n].hi = hi;
		n++;
		if (*p == '\0')
			break;
		if (*p != ',')
			goto bad;
		p++;
	}
	/* List items may come in any order; overlaps are found once sorted. */
	qsort(ranges, n, sizeof(ranges[0]), range_cmp);
	for (size_t i = 1; i < n; i++)
		if (ranges[i].lo <= ranges[i - 1].hi) {
			snprintf(why, whylen,
			    "%s has overlapping ports; use a port (1-65535), "
			    "a range \"8000-8010\", or a comma list of those without overlaps",
			    err_quote(q, sizeof(q), s));
			return false;
		}
	return true;
bad:
	snprintf(why, whylen, "%s %s", err_quote(q, sizeof(q), s), PORT_WHY);
	return false;
}

bool
protocol_syntax_ok(const char *s, char *why, size_t whylen)
{
	char q[96];

	if (s[0] == '\0' || (s[0] >= '1' && s[0] <= '4' && s[1] == '\0'))
		return true;
	snprintf(why, whylen,
	    "%s is not a protocol: use \"1\" (TCP), \"2\" (UDP), \"3\" (TCP6) or \"4\" (UDP6)",
	    err_quote(q, sizeof(q), s));
	return false;
}

bool
ip_syntax_ok(const char *s, char *why, size_t whylen)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char q[96];

	if (s[0] == '\0' || inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1)
		return true;
	snprintf(why, whylen, "%s is not an IPv4 or IPv6 address",
	    err_quote(q, sizeof(q), s));
	return false;
}
