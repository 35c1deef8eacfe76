#include "db/conninfo.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

/* A small append-only writer into a fixed buffer: always NUL-terminated,
 * silently cut when full. */
struct out {
	char *buf;
	size_t n, len;
};

static void
put(struct out *o, const char *s, size_t len)
{
	size_t room = o->n - 1 - o->len;

	if (o->n == 0)
		return;
	if (len > room)
		len = room;
	memcpy(o->buf + o->len, s, len);
	o->len += len;
	o->buf[o->len] = '\0';
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Where a URI that starts at s ends inside a message or conninfo: libpq
 * quotes what it echoes, and a conninfo URI has no blanks. */
static size_t
uri_len(const char *s)
{
	size_t i = 0;

	while (s[i] != '\0' && !blank(s[i]) && s[i] != '"')
		i++;
	return i;
}

/*
 * At s (just past "://"), the user information of a URI of length len:
 * everything before its last '@' (host names never hold one, so a '@'
 * inside the password still ends up inside). Sets *pw to the offset of the
 * password (after the first ':') and returns the offset of that '@';
 * returns 0 when there is no password.
 */
static size_t
uri_password(const char *s, size_t len, size_t *pw)
{
	const char *at = NULL, *colon;

	for (size_t i = 0; i < len; i++)
		if (s[i] == '@')
			at = s + i;
	if (at == NULL)
		return 0;
	colon = memchr(s, ':', (size_t)(at - s));
	if (colon == NULL)
		return 0;
	*pw = (size_t)(colon - s) + 1;
	return (size_t)(at - s);
}

/*
 * A password=value at s (s[-1] is the start, a blank, '?' or '&'). Returns
 * the length of the whole "password = value" and sets *value to where the
 * value starts, or returns 0 when s holds no such keyword. In a URI query
 * ('?'/'&' before it) '&' ends the value; in key=value form a value is a
 * quoted string (with \' escapes) or runs to the next blank.
 */
static size_t
password_kv(const char *s, bool in_query, size_t *value)
{
	static const char kw[] = "password";
	size_t i = sizeof(kw) - 1;

	if (strncmp(s, kw, i) != 0)
		return 0;
	while (blank(s[i]))
		i++;
	if (s[i] != '=')
		return 0;
	i++;
	while (!in_query && blank(s[i]))
		i++;
	*value = i;
	if (!in_query && s[i] == '\'') {
		for (i++; s[i] != '\0' && s[i] != '\''; i++)
			if (s[i] == '\\' && s[i + 1] != '\0')
				i++;
		return s[i] == '\'' ? i + 1 : i;
	}
	while (s[i] != '\0' && !blank(s[i]) && s[i] != '"' && !(in_query && s[i] == '&'))
		i++;
	return i;
}

const char *
db_redact(const char *s, char *buf, size_t n)
{
	struct out o = { buf, n, 0 };
	size_t i = 0;

	if (n > 0)
		buf[0] = '\0';
	while (s[i] != '\0') {
		size_t pw, end, value;
		bool word_start = i == 0 || blank(s[i - 1]) || s[i - 1] == '?' ||
		    s[i - 1] == '&' || s[i - 1] == '"';

		if (strncmp(s + i, "://", 3) == 0 &&
		    (end = uri_password(s + i + 3, uri_len(s + i + 3), &pw)) != 0) {
			put(&o, s + i, 3 + pw);
			put(&o, DB_REDACTED, sizeof(DB_REDACTED) - 1);
			i += 3 + end; /* the '@' is copied next */
			continue;
		}
		if (word_start && (end = password_kv(s + i, i > 0 && (s[i - 1] == '?' || s[i - 1] == '&'), &value)) != 0) {
			put(&o, s + i, value);
			put(&o, DB_REDACTED, sizeof(DB_REDACTED) - 1);
			i += end;
			continue;
		}
		put(&o, s + i, 1);
		i++;
	}
	return buf;
}

/*
 * The password of conninfo as written (still %-encoded, without quotes),
 * into buf; "" when there is none. Lexical, so it works on a conninfo
 * libpq cannot parse: that is when libpq echoes pieces of it.
 */
static void
raw_password(const char *conninfo, char *buf, size_t n)
{
	const char *scheme = strstr(conninfo, "://");
	size_t pw, end, value;

	buf[0] = '\0';
	if (scheme != NULL && (end = uri_password(scheme + 3, uri_len(scheme + 3), &pw)) != 0) {
		snprintf(buf, n, "%.*s", (int)(end - pw), scheme + 3 + pw);
		return;
	}
	for (size_t i = 0; conninfo[i] != '\0'; i++) {
		bool in_query = i > 0 && (conninfo[i - 1] == '?' || conninfo[i - 1] == '&');
		if ((i == 0 || blank(conninfo[i - 1]) || in_query) &&
		    (end = password_kv(conninfo + i, in_query, &value)) != 0) {
			const char *v = conninfo + i + value;
			size_t len = end - value;
			if (len >= 2 && v[0] == '\'' && v[len - 1] == '\'') {
				v++;
				len -= 2;
			}
			snprintf(buf, n, "%.*s", (int)len, v);
			return;
		}
	}
}

/* Replaces every "token" (quoted, as libpq quotes what it echoes) in text
 * (size n) with "***". */
static void
redact_quoted(char *text, size_t n, const char *token)
{
	char quoted[256], *p;
	size_t qlen;

	if (token[0] == '\0' || strlen(token) + 3 > sizeof(quoted))
		return;
	qlen = (size_t)snprintf(quoted, sizeof(quoted), "\"%s\"", token);
	for (p = strstr(text, quoted); p != NULL; p = strstr(p + 5, quoted)) {
		size_t tail = strlen(p + qlen) + 1;
		/* A token of one or two bytes grows to "***": only if it fits. */
		if (qlen < 5 && strlen(text) + 5 - qlen >= n)
			return;
		memmove(p + 5, p + qlen, tail);
		memcpy(p, "\"" DB_REDACTED "\"", 5);
	}
}

void
db_redact_message(char *text, size_t n, const char *conninfo)
{
	char *copy, pw[256];
	size_t len;

	if (n == 0)
		return;
	copy = strdup(text);
	if (copy != NULL) {
		db_redact(copy, text, n);
		free(copy);
	} else {
		text[0] = '\0'; /* out of memory: better nothing than a secret */
	}
	raw_password(conninfo, pw, sizeof(pw));
	redact_quoted(text, n, pw);
	/* libpq ends its messages with "\n" and continues them on indented
	 * lines ("\n\tIs the server running ..."): one line here. */
	len = strlen(text);
	while (len > 0 && blank(text[len - 1]))
		text[--len] = '\0';
	for (char *p = text; *p != '\0'; p++) {
		if (*p == '\n') {
			char *q = p + 1;
			while (blank(*q))
				q++;
			/* "; " replaces the newline and its indent (never longer). */
			if (q - p >= 2) {
				p[0] = ';';
				p[1] = ' ';
				memmove(p + 2, q, strlen(q) + 1);
			} else {
				*p = ' ';
			}
		} else if (blank(*p)) {
			*p = ' ';
		}
	}
	/* "FATAL:  database ..." has two blanks: one is enough. */
	for (char *r = text, *w = text;; r++) {
		if (!(r[0] == ' ' && r[1] == ' '))
			*w++ = *r;
		if (*r == '\0')
			break;
	}
}

/* sslmode values libpq accepts (it checks them only when connecting). */
static bool
sslmode_ok(const char *v)
{
	static const char *const modes[] = { "disable", "allow", "prefer", "require",
		"verify-ca", "verify-full" };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(v, modes[i]) == 0)
			return true;
	return false;
}

/* A port list as libpq takes it: "5432" or "5432,5433", each 1..65535
 * (an empty entry means the default port). */
static bool
ports_ok(const char *v)
{
	while (*v != '\0') {
		char *end;
		long p;

		if (*v == ',') {
			v++;
			continue;
		}
		errno = 0;
		p = strtol(v, &end, 10);
		if (errno != 0 || end == v || p < 1 || p > 65535 || (*end != ',' && *end != '\0') ||
		    *v == '+' || *v == '-' || blank(*v))
			return false;
		v = end;
	}
	return true;
}

int
db_conninfo_check(const char *name, const char *conninfo, struct err *e)
{
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
	char safe[512];
	int rc = -1;

	if (opts == NULL) {
		snprintf(safe, sizeof(safe), "%s", perr ? perr : "out of memory");
		db_redact_message(safe, sizeof(safe), conninfo);
		err_set(e, ERR_BAD_VALUE, NULL, "%s is malformed: %s", name, safe);
		goto out;
	}
	for (const PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "port") == 0 && !ports_ok(o->val)) {
			char q[96];
			err_set(e, ERR_BAD_VALUE, NULL,
			    "%s: port %s is not a port number (1-65535)", name,
			    err_quote(q, sizeof(q), o->val));
			goto out;
		}
		if (strcmp(o->keyword, "sslmode") == 0 && !sslmode_ok(o->val)) {
			char q[96];
			err_set(e, ERR_BAD_VALUE, NULL,
			    "%s: sslmode %s is not one of disable, allow, prefer, "
			    "require, verify-ca, verify-full",
			    name, err_quote(q, sizeof(q), o->val));
			goto out;
		}
	}
	rc = 0;
out:
	PQconninfoFree(opts);
	PQfreemem(perr);
	return rc;
}

/* procsvc's connection defaults, as src/db/db.c uses them: the caller's
 * conninfo comes last, so whatever DATABASE_URL sets wins. */
static const char *const conn_keys[] = { "connect_timeout", "application_name",
	"dbname", NULL };

static PGPing
ping(const char *conninfo)
{
	const char *vals[] = { "5", "procsvc", conninfo, NULL };

	return PQpingParams(conn_keys, vals, 1);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Waits until ping answers anything but "no response" / "rejecting", or
 * until wait_s seconds have passed. Returns the last answer. */
static PGPing
wait_for_server(const char *conninfo, long wait_s)
{
	struct timespec start, now;
	PGPing p = ping(conninfo);
	char where[512];

	if (wait_s <= 0 || (p != PQPING_NO_RESPONSE && p != PQPING_REJECT))
		return p;
	log_info("waiting up to %ld s for the database at %s", wait_s,
	    db_redact(conninfo, where, sizeof(where)));
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		sleep_ms(500);
		p = ping(conninfo);
		if (p != PQPING_NO_RESPONSE && p != PQPING_REJECT)
			return p;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= wait_s)
			return p;
	}
}

int
db_conninfo_connect(const char *conninfo, long wait_s, struct err *e)
{
	const char *vals[] = { "5", "procsvc", conninfo, NULL };
	char where[256], why[512];
	PGconn *conn;
	PGPing p = wait_for_server(conninfo, wait_s);
	int rc = -1;

	db_redact(conninfo, where, sizeof(where));
	conn = PQconnectdbParams(conn_keys, vals, 1);
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK) {
		rc = 0;
		goto out;
	}
	snprintf(why, sizeof(why), "%s", conn ? PQerrorMessage(conn) : "out of memory");
	db_redact_message(why, sizeof(why), conninfo);
	/* The server answered the ping yet refused us (no such database, bad
	 * password, no pg_hba entry): only changing something helps. Asked
	 * again, since it may have come up or gone down meanwhile. */
	if (p == PQPING_OK || p == PQPING_NO_ATTEMPT)
		p = ping(conninfo);
	if (p == PQPING_OK || p == PQPING_NO_ATTEMPT)
		err_set(e, ERR_BAD_VALUE, NULL, "database %s refused the connection: %s", where, why);
	else
		err_server(e, "database %s is not reachable: %s", where, why);
out:
	PQfinish(conn);
	return rc;
}
