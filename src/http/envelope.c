#include "http/envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "common/jbuf.h"
#include "common/log.h"
#include "common/str.h"

static bool
request_id_ok(const char *s)
{
	size_t n;

	if (s == NULL)
		return false;
	n = strlen(s);
	return n >= 1 && n <= REQUEST_ID_MAX &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/*
 * n (at most 16) bytes from the kernel's random pool, taken 256 at a time
 * per thread: a getrandom(2) for every request id was one of the ten
 * system calls of a request (256 bytes: the most getrandom(2) returns
 * whole even when a signal arrives). false when the pool cannot be read.
 */
static bool
random_bytes(unsigned char *out, size_t n)
{
	static _Thread_local unsigned char pool[256];
	static _Thread_local size_t used = sizeof(pool);

	if (used + n > sizeof(pool)) {
		if (getrandom(pool, sizeof(pool), 0) != (ssize_t)sizeof(pool))
			return false;
		used = 0;
	}
	memcpy(out, pool + used, n);
	/* Each byte is handed out once. */
	memset(pool + used, 0, n);
	used += n;
	return true;
}

void
http_request_id(const struct mg_connection *c, char *out)
{
	const char *given = mg_get_header(c, "X-Request-Id");
	char trimmed[REQUEST_ID_MAX + 1];
	unsigned char raw[16];
	size_t n;

	/* Optional whitespace around a header value is not part of it (RFC 9110). */
	if (given != NULL) {
		given += strspn(given, " \t");
		n = strlen(given);
		while (n > 0 && (given[n - 1] == ' ' || given[n - 1] == '\t'))
			n--;
		if (n <= REQUEST_ID_MAX) {
			memcpy(trimmed, given, n);
			trimmed[n] = '\0';
		}
		given = n <= REQUEST_ID_MAX ? trimmed : NULL;
	}
	if (request_id_ok(given)) {
		memcpy(out, given, strlen(given) + 1);
		return;
	}
	if (!random_bytes(raw, sizeof(raw))) {
		/* getrandom does not fail once the pool is ready (Linux); a
		 * clock-and-counter id is still unique enough to find a log line. */
		static _Atomic unsigned long counter;
		struct timespec ts;
		unsigned long k = ++counter;
		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(raw, &ts, sizeof(raw) < sizeof(ts) ? sizeof(raw) : sizeof(ts));
		for (size_t i = 0; i < sizeof(k); i++)
			raw[i] ^= (unsigned char)(k >> (8 * i));
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = "0123456789abcdef"[raw[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[raw[i] & 15];
	}
	out[2 * sizeof(raw)] = '\0';
}

/* Body bytes written on c go into the request's tally, when it keeps one. */
static void
tally(const struct mg_connection *c, size_t len)
{
	struct http_sent *sent = mg_get_user_connection_data(c);

	if (sent != NULL)
		sent->body_bytes += len;
}

/*
 * CivetWeb sends the status line and every header with a send(2) of its
 * own: eight TCP segments for one answer, each a system call here and a
 * wake-up of the client (strace of one list_process_instance). The common
 * answer -- HTTP/1.1 kept alive, not HEAD, not 413 -- is therefore written
 * here, headers and body in one write, with the headers CivetWeb would
 * have sent (its keep-alive rule gives keep-alive for exactly these
 * requests). false: not such an answer, or out of memory; CivetWeb's
 * writer then does it.
 */
static bool
send_one_write(struct mg_connection *c, int status, const char *request_id,
    const char *content_type, const char *text, size_t len,
    const struct http_header *hdrs, size_t nhdrs)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	const char *conn = mg_get_header(c, "Connection");
	static _Thread_local time_t date_sec = -1;
	static _Thread_local char date[40];
	char head[768];
	time_t now = time(NULL);
	struct tm tm;
	char *buf;
	int n;

	if (ri == NULL || ri->http_version == NULL || ri->request_method == NULL ||
	    strcmp(ri->http_version, "1.1") != 0 || strcmp(ri->request_method, "HEAD") == 0 ||
	    status == 413 || status == 304 || (conn != NULL && strcasecmp(conn, "keep-alive") != 0))
		return false;
	/* Formatted once per second per thread. */
	if (now != date_sec) {
		if (gmtime_r(&now, &tm) == NULL ||
		    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
			return false;
		date_sec = now;
	}
	n = snprintf(head, sizeof(head),
	    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nX-Request-Id: %s\r\n",
	    status,
	    mg_get_response_code_text(c, status), content_type, len, request_id);
	for (size_t i = 0; i < nhdrs && n >= 0 && (size_t)n < sizeof(head); i++)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "%s: %s\r\n",
		    hdrs[i].name, hdrs[i].value);
	if (n >= 0 && (size_t)n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t)n,
		    "Date: %s\r\nConnection: keep-alive\r\n\r\n", date);
	if (n < 0 || (size_t)n >= sizeof(head) || (buf = malloc((size_t)n + len)) == NULL)
		return false;
	memcpy(buf, head, (size_t)n);
	memcpy(buf + n, text, len);
	if (mg_write(c, buf, (size_t)n + len) > 0)
		tally(c, len);
	free(buf);
	return true;
}

/* true when c carries a parsed HEAD request. CivetWeb's error paths run
 * on requests it could not parse, where the method may be NULL. */
static bool
is_head(const struct mg_connection *c)
{
	const struct mg_request_info *ri = mg_get_request_info(c);

	return ri != NULL && ri->request_method != NULL &&
	    strcmp(ri->request_method, "HEAD") == 0;
}


/* http_send_text_with; see there. */
static int
send_text(struct mg_connection *c, int status, const char *request_id,
    const char *content_type, const char *text, size_t len,
    const struct http_header *hdrs, size_t nhdrs)
{
	char clen[24];

	if (send_one_write(c, status, request_id, content_type, text, len, hdrs, nhdrs))
		return status;

	snprintf(clen, sizeof(clen), "%zu", len);
	/* Fails only when something was sent already: then adding a body
	 * would corrupt the stream. */
	if (mg_response_header_start(c, status) != 0)
		return status;
	/* A 304 has no content, so nothing describes it (RFC 9110 §15.4.5). */
	if (status != 304) {
		mg_response_header_add(c, "Content-Type", content_type, -1);
		mg_response_header_add(c, "Content-Length", clen, -1);
	}
	mg_response_header_add(c, "X-Request-Id", request_id, -1);
	for (size_t i = 0; i < nhdrs; i++)
		mg_response_header_add(c, hdrs[i].name, hdrs[i].value, -1);
	if (status == 413)
		/* The unread body would otherwise be parsed as the next request. */
		mg_response_header_add(c, "Connection", "close", -1);
	mg_response_header_send(c);
	/* A response to HEAD has the headers of the GET answer and no body. */
	if (status != 304 && !is_head(c) && mg_write(c, text, len) > 0)
		tally(c, len);
	return status;
}

/* The Allow header of a 405 as a header list: *n is 0 without one. */
static const struct http_header *
allow_header(const char *allow, struct http_header *h, size_t *n)
{
	h->name = "Allow";
	h->value = allow;
	*n = allow != NULL;
	return allow != NULL ? h : NULL;
}

int
http_send_text(struct mg_connection *c, int status, const char *request_id,
    const char *content_type, const char *text, size_t len)
{
	return send_text(c, status, request_id, content_type, text, len, NULL, 0);
}

int
http_send_text_with(struct mg_connection *c, int status, const char *request_id,
    const char *content_type, const char *text, size_t len,
    const struct http_header *hdrs, size_t nhdrs)
{
	return send_text(c, status, request_id, content_type, text, len, hdrs, nhdrs);
}

/*
 * For requests CivetWeb could not parse: none of the request's fields is
 * trusted (its "HTTP version" may be any bytes the client sent, and
 * CivetWeb's own header writer would echo it in the status line), so the
 * whole answer is written here, as HTTP/1.1, closing the connection.
 */
static int
send_raw(struct mg_connection *c, int status, const char *request_id,
    const char *text, size_t len)
{
	mg_printf(c,
	    "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "X-Request-Id: %s\r\n"
	    "Connection: close\r\n\r\n",
	    status, mg_get_response_code_text(c, status), len, request_id);
	if (!is_head(c) && mg_write(c, text, len) > 0)
		tally(c, len);
	return status;
}

/* The JSON text of obj, or a fixed 503 body when it cannot be encoded
 * (out of memory); *status is set to match. Caller frees. NULL only when
 * even the copy of the fixed body fails. */
static char *
json_text(json_t *obj, int *status)
{
	static const char oom[] = "{\"status\":\"unavailable\",\"reason\":\"out of memory\"}";
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

	if (text != NULL)
		return text;
	*status = 503;
	return strdup(oom);
}

/* http_send_json with an optional Allow header. */
static int
send_json(struct mg_connection *c, int status, const char *request_id,
    json_t *obj, const char *allow)
{
	char *text = json_text(obj, &status);
	struct http_header h;
	size_t nh;
	const struct http_header *hdrs = allow_header(allow, &h, &nh);
	int rc;

	rc = send_text(c, status, request_id, "application/json; charset=utf-8",
	    text ? text : "", text ? strlen(text) : 0, hdrs, nh);
	free(text);
	return rc;
}

int
http_send_json(struct mg_connection *c, int status, const char *request_id,
    json_t *obj)
{
	return send_json(c, status, request_id, obj, NULL);
}

/*
 * The envelope of api-contract.md §2 for e (NULL or clear: success with
 * data, JSON text of len bytes, NULL meaning null), written as text in one
 * buffer: no tree, and the data (often the largest part) is never parsed or
 * encoded again. A failure's message is message when not NULL (one longer
 * than struct err holds), else e->msg. *status is the HTTP status it goes
 * with. Returns the text (caller frees) and its length in *n, or NULL when
 * out of memory.
 */
static char *
envelope(const char *request_id, const struct err *e, const char *message,
    const char *data, size_t len, int *status, size_t *n)
{
	bool ok = e == NULL || !err_isset(e);
	/* On the heap: a long message would not fit a worker's small stack. */
	char *msg = strdup(ok ? "success" : (message != NULL ? message : e->msg));
	struct jbuf b;

	*status = ok ? 200 : (e->http_status ? e->http_status : 200);
	if (msg == NULL) {
		*status = 503;
		return NULL;
	}
	/* Messages echo user input (paths, values): never let a stray byte
	 * make the envelope itself invalid. */
	if (!utf8_valid(msg, strlen(msg)))
		for (char *p = msg; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
	jbuf_init(&b, 256 + (ok && data != NULL ? len : 0));
	jbuf_open(&b, '{');
	jbuf_key(&b, "result");
	jbuf_bool(&b, ok);
	jbuf_key(&b, "code");
	jbuf_int(&b, ok ? 0 : e->code);
	jbuf_key(&b, "message");
	jbuf_str(&b, msg);
	jbuf_key(&b, "permission");
	jbuf_null(&b);
	jbuf_key(&b, "request_id");
	jbuf_str(&b, request_id);
	jbuf_key(&b, "data");
	if (ok && data != NULL)
		jbuf_json(&b, data, len);
	else
		jbuf_null(&b);
	jbuf_close(&b, '}');
	free(msg);
	if (jbuf_failed(&b)) {
		log_error("request %s: could not build the envelope", request_id);
		jbuf_free(&b);
		*status = 503;
		return NULL;
	}
	*n = b.len;
	return b.buf;
}

/* The envelope for data, e, message and allow as send_text takes them. */
static int
send_envelope(struct mg_connection *c, const char *request_id,
    const struct err *e, const char *message, const char *data, size_t len,
    const char *allow)
{
	static const char oom[] =
	    "{\"result\":false,\"code\":1199999,\"message\":\"out of memory\","
	    "\"permission\":null,\"request_id\":\"\",\"data\":null}";
	int status;
	size_t n = 0, nh;
	struct http_header h;
	const struct http_header *hdrs = allow_header(allow, &h, &nh);
	char *text = envelope(request_id, e, message, data, len, &status, &n);
	int rc = send_text(c, status, request_id, "application/json; charset=utf-8",
	    text ? text : oom, text ? n : sizeof(oom) - 1, hdrs, nh);

	free(text);
	return rc;
}

int
http_send_envelope_text(struct mg_connection *c, const char *request_id,
    const struct err *e, const char *data, size_t len)
{
	return send_envelope(c, request_id, e, NULL, data, len, NULL);
}

int
http_send_envelope_msg(struct mg_connection *c, const char *request_id,
    const struct err *e, const char *message)
{
	return send_envelope(c, request_id, e, message, NULL, 0, NULL);
}

int
http_send_envelope(struct mg_connection *c, const char *request_id,
    const struct err *e, json_t *data)
{
	return http_send_envelope_allow(c, request_id, e, data, NULL);
}

/* Only the data is dumped (a handler's tree); the envelope is text. */
int
http_send_envelope_allow(struct mg_connection *c, const char *request_id,
    const struct err *e, json_t *data, const char *allow)
{
	bool ok = e == NULL || !err_isset(e);
	char *text = ok && data != NULL ? json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	struct err oom = { 0 };
	int rc;

	if (ok && data != NULL && text == NULL) {
		err_oom(&oom);
		e = &oom;
	}
	rc = send_envelope(c, request_id, e, NULL, text, text ? strlen(text) : 0, allow);
	free(text);
	return rc;
}

int
http_send_envelope_raw(struct mg_connection *c, const char *request_id,
    const struct err *e)
{
	int status;
	size_t n = 0;
	char *text = envelope(request_id, e, NULL, NULL, 0, &status, &n);
	int rc = send_raw(c, status, request_id, text ? text : "", text ? n : 0);

	free(text);
	return rc;
}
