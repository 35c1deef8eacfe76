#include "http/server.h"

#include <civetweb.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "common/log.h"
#include "http/envelope.h"
#include "http/metrics.h"
#include "http/openapi_doc.h"
#include "http/router.h"

struct http_server {
	struct mg_context *mg;
	const struct http_config *cfg;
	/* http_drain: new requests are refused (503) while those already
	 * being handled (active) finish. */
	_Atomic bool draining;
	_Atomic long active;
};

/* The request line and headers together (CivetWeb's max_request_size);
 * CivetWeb parses at most 64 headers and ignores the rest. */
#define HTTP_MAX_HEADER_BYTES 16384
#define HTTP_MAX_HEADER_BYTES_STR "16384"

/* CivetWeb thread types (civetweb.h, init_thread). */
#define MG_THREAD_WORKER 1

/*
 * The stack a worker really got. Debian's CivetWeb is built with
 * USE_STACK_SIZE=102400, which it passes to pthread_attr_setstacksize for
 * every thread it starts, so the process default
 * (pthread_setattr_default_np) does not reach its workers: they have 100 KiB
 * whatever we ask. That is small by design, and every path of a request is
 * bounded to fit: no recursion deeper than the 64 JSON levels jscan lets
 * through, the scanner's own stack on the heap, no large buffers on the
 * stack. /metrics shows the value, so a CivetWeb built otherwise is seen.
 */
static _Atomic size_t worker_stack;

static void *
init_thread(const struct mg_context *mg, int thread_type)
{
	pthread_attr_t attr;
	size_t size = 0;

	(void)mg;
	if (thread_type == MG_THREAD_WORKER && worker_stack == 0 &&
	    pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstacksize(&attr, &size);
		pthread_attr_destroy(&attr);
		worker_stack = size;
	}
	return NULL;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Reads the whole body (Content-Length or chunked) into *out (caller frees).
 * 0 ok; 1 over max (413); -1 the client sent less than it promised, or took
 * longer than timeout_ms (api-contract.md §10: 10 s for a whole request).
 * *len is the bytes received, also on failure (then *out is NULL).
 *
 * mg_read(n) returns only once n bytes arrived or the client went quiet for
 * CivetWeb's request_timeout_ms, so a large n lets a client that trickles a
 * byte at a time hold a worker for ever. Reads therefore start at 16 bytes
 * and double while they complete at once, which costs a fast client only a
 * handful of extra calls; the deadline is checked between reads, and a
 * short read of a Content-Length body means the client fell silent.
 */
static int
read_body(struct mg_connection *c, size_t max, long timeout_ms, char **out,
    size_t *len)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	long long want = ri->content_length;
	size_t cap = want >= 0 ? (size_t)want + 1 : 65536, n = 0, chunk = 16;
	double deadline = now_seconds() + (double)timeout_ms / 1000.0;
	char *buf;

	*out = NULL;
	*len = 0;
	if (want > (long long)max)
		return 1;
	buf = malloc(cap);
	if (buf == NULL)
		return -1;
	while (want < 0 || (long long)n < want) {
		size_t ask;
		double t0 = now_seconds();
		int r;
		if (n == cap - 1) { /* chunked: grow, up to max + 1 bytes */
			char *bigger;
			if (n > max)
				break;
			bigger = realloc(buf, cap * 2);
			if (bigger == NULL)
				goto incomplete;
			buf = bigger;
			cap *= 2;
		}
		ask = cap - 1 - n < chunk ? cap - 1 - n : chunk;
		r = mg_read(c, buf + n, ask);
		if (r < 0)
			goto incomplete;
		if (r == 0)
			break;
		n += (size_t)r;
		if (now_seconds() > deadline && (want < 0 || (long long)n < want))
			goto incomplete;
		if (want >= 0 && (size_t)r < ask)
			break;
		chunk = now_seconds() - t0 < 0.05 ? (chunk < (1u << 20) ? chunk * 2 : chunk) : 16;
	}
	*len = n;
	if (n > max) {
		free(buf);
		return 1;
	}
	if (want >= 0 && (long long)n != want) {
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
incomplete:
	*len = n;
	free(buf);
	return -1;
}

/*
 * One request from its first handling to its answer: what its access line
 * and its metrics need. exchange_begin and exchange_end bracket every
 * answer the server gives, handled or rejected, so each request is counted
 * and logged exactly once.
 */
struct exchange {
	char rid[REQUEST_ID_MAX + 1];
	double start;
	struct http_sent sent; /* the connection's user data meanwhile */
	const char *api;       /* metrics label: a route name, a probe, "-" */
	int status, code;
	size_t bytes_in;                     /* request body bytes received */
	const char *app, *username, *tenant; /* "" until known; never a secret */
	bool quiet;                          /* a probe under PROCSVC_LOG_PROBES=off */
};

static void
exchange_begin(struct mg_connection *c, struct exchange *x)
{
	memset(x, 0, sizeof(*x));
	x->start = now_seconds();
	x->api = "-";
	x->app = x->username = x->tenant = "";
	metrics_begin();
	http_request_id(c, x->rid);
	/* Every line this thread logs until the answer carries the id. */
	log_set_request(x->rid);
	mg_set_user_connection_data(c, &x->sent);
}

/* The first word of s, at most cap bytes: a request line CivetWeb could
 * not parse may run on through the headers in its method or URI. */
static size_t
first_word(const char *s, size_t cap)
{
	size_t n = s != NULL ? strcspn(s, " \t\r\n") : 0;

	return n < cap ? n : cap;
}

/*
 * The access line. ri may be half parsed (CivetWeb's rejections): the
 * method and URI may be NULL or any bytes, so each is optional, capped and
 * escaped. Written at warn for a 5xx, else info.
 */
static void
access_log(const struct mg_request_info *ri, const struct exchange *x, double secs)
{
	const char *path = ri == NULL ? NULL : (ri->local_uri ? ri->local_uri : ri->request_uri);
	struct log_line l;
	char client[80] = "";

	log_begin(&l, x->status >= 500 ? LOG_WARN : LOG_INFO);
	if (l.off)
		return;
	if (ri != NULL)
		snprintf(client, sizeof(client), "%.48s:%d", ri->remote_addr, ri->remote_port);
	log_str(&l, "type", "access", 8);
	log_str(&l, "client", client, sizeof(client));
	log_str(&l, "method", ri ? ri->request_method : NULL,
	    first_word(ri ? ri->request_method : NULL, 32));
	log_str(&l, "path", path, first_word(path, 512));
	log_int(&l, "status", x->status);
	log_int(&l, "code", x->code);
	log_ms(&l, "duration_ms", secs * 1000.0);
	log_int(&l, "request_bytes", (long long)x->bytes_in);
	log_int(&l, "response_bytes", (long long)x->sent.body_bytes);
	log_str(&l, "app", x->app, 64);
	log_str(&l, "operator", x->username, 128);
	log_str(&l, "tenant", x->tenant, 64);
	log_end(&l);
}

static void
exchange_end(struct mg_connection *c, struct exchange *x)
{
	double secs = now_seconds() - x->start;

	metrics_end(x->api, x->status, x->code, secs);
	if (!x->quiet)
		access_log(mg_get_request_info(c), x, secs);
	log_set_request(NULL);
	mg_set_user_connection_data(c, NULL);
}

static int send_error(struct mg_connection *c, const char *rid, int status,
    int code, const char *allow, int *code_out, const char *fmt, ...)
    ERR_PRINTF(7, 8);

/* An error envelope without a request body read; allow (NULL for none) is
 * the Allow header of a 405. */
static int
send_error(struct mg_connection *c, const char *rid, int status, int code,
    const char *allow, int *code_out, const char *fmt, ...)
{
	struct err e = { 0 };
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set_http(&e, status, code, NULL, "%s", msg);
	*code_out = code;
	return http_send_envelope_allow(c, rid, &e, NULL, allow);
}

/* 405 for a method methods does not hold: message and Allow header both
 * from the list (api-contract.md §11.1). */
static int
send_405(struct mg_connection *c, const char *rid, const char *method,
    const char *const *methods, int *code_out)
{
	char allow[64], use[64];

	router_join(methods, ", ", ", ", allow, sizeof(allow));
	router_join(methods, ", ", " or ", use, sizeof(use));
	return send_error(c, rid, 405, ERR_BAD_VALUE, allow, code_out,
	    "method %.32s not allowed, use %s", method, use);
}

/* A header value is 1*DIGIT around optional blanks (RFC 9110 §8.6). */
static bool
digits_only(const char *v)
{
	size_t n;

	v += strspn(v, " \t");
	n = strspn(v, "0123456789");
	return n > 0 && v[n + strspn(v + n, " \t")] == '\0';
}

/*
 * CivetWeb reads the first Content-Length as strtoll does ("10abc" is 10)
 * and lets Transfer-Encoding win over it silently. A request that frames
 * its body ambiguously (unparsable, several different lengths, or a length
 * and chunking together: RFC 9112 §6.3) is refused instead of guessed at.
 * NULL when the framing is clear, else why not.
 */
static const char *
bad_framing(const struct mg_request_info *ri)
{
	const char *first = NULL, *te = NULL;

	for (int i = 0; i < ri->num_headers && i < MG_MAX_HEADERS; i++) {
		const char *name = ri->http_headers[i].name;
		const char *value = ri->http_headers[i].value;
		if (name == NULL || value == NULL)
			continue;
		if (strcasecmp(name, "Transfer-Encoding") == 0)
			te = value;
		if (strcasecmp(name, "Content-Length") != 0)
			continue;
		if (!digits_only(value))
			return "bad Content-Length";
		if (first != NULL && strtoull(first, NULL, 10) != strtoull(value, NULL, 10))
			return "conflicting Content-Length headers";
		first = value;
	}
	if (first != NULL && te != NULL)
		return "both Content-Length and Transfer-Encoding";
	return NULL;
}

/*
 * true when an If-None-Match value lists etag, or is "*": the client holds
 * these bytes already (RFC 9110 §13.1.2, weak comparison, so "W/" before
 * the tag matches too). Any other tag, or a malformed list, is no match.
 */
static bool
etag_listed(const char *inm, const char *etag)
{
	size_t n = strlen(etag);

	for (const char *p = inm; p != NULL && *p != '\0'; p += strcspn(p, ",")) {
		p += strspn(p, " \t,");
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if ((strncmp(p, etag, n) == 0 && (p[n] == '\0' || strchr(" \t,", p[n]))) ||
		    (p[0] == '*' && (p[1] == '\0' || strchr(" \t,", p[1]))))
			return true;
	}
	return false;
}

/*
 * openapi.yaml as built into the binary. Its tag is a hash of its bytes, so
 * a client revalidates (no-cache) and gets 304 without a body until the
 * server is upgraded to another document.
 */
static int
serve_openapi(struct mg_connection *c, const char *rid)
{
	const struct http_header hdrs[] = {
		{ "ETag", openapi_doc_etag },
		{ "Cache-Control", "no-cache" },
	};
	bool fresh = etag_listed(mg_get_header(c, "If-None-Match"), openapi_doc_etag);

	/* The media type the document gives itself (RFC 9512: no charset). */
	return http_send_text_with(c, fresh ? 304 : 200, rid, "application/yaml",
	    (const char *)openapi_doc, fresh ? 0 : openapi_doc_len, hdrs,
	    sizeof(hdrs) / sizeof(hdrs[0]));
}

static int
serve_ops(struct mg_connection *c, const struct http_server *s,
    const struct ops_route *op, const char *rid)
{
	/* /healthz: a constant answer, sent as such. */
	static const char ok[] = "{\"status\":\"ok\"}";
	char reason[128] = "";
	json_t *obj;
	int status = 200;

	switch (op->kind) {
	case OPS_METRICS: {
		struct metrics_gauges g;
		size_t len = 0;
		char *text;
		api_gauges(&g.api);
		g.http_threads = s->cfg->threads;
		g.worker_stack = worker_stack;
		text = metrics_render(&g, &len);
		status = http_send_text(c, text ? 200 : 503, rid,
		    "text/plain; version=0.0.4; charset=utf-8", text ? text : "", len);
		free(text);
		return status;
	}
	case OPS_OPENAPI:
		return serve_openapi(c, rid);
	case OPS_HEALTHZ:
		return http_send_text(c, 200, rid, "application/json; charset=utf-8",
		    ok, sizeof(ok) - 1);
	case OPS_READYZ:
		break;
	}
	if (s->draining)
		snprintf(reason, sizeof(reason), "shutting down");
	if (!s->draining && api_ready(reason, sizeof(reason))) {
		obj = json_pack("{s:s}", "status", "ok");
	} else {
		obj = json_pack("{s:s, s:s}", "status", "unavailable", "reason", reason);
		status = 503;
	}
	status = http_send_json(c, status, rid, obj);
	json_decref(obj);
	return status;
}

/* X-Idempotency-Key for call: its first value, and whether there are more
 * (mg_get_header shows only the first). */
static void
idem_header(const struct mg_request_info *ri, struct api_call *call)
{
	for (int i = 0; ri != NULL && i < ri->num_headers && i < MG_MAX_HEADERS; i++) {
		const char *name = ri->http_headers[i].name;
		if (name == NULL || strcasecmp(name, "X-Idempotency-Key") != 0)
			continue;
		if (call->hdr_idem_key != NULL)
			call->hdr_idem_key_repeated = true;
		else
			call->hdr_idem_key = ri->http_headers[i].value ? ri->http_headers[i].value : "";
	}
}

/* Reads the body and runs the API: the part of the pipeline after the route
 * and method are known good. */
static int
serve_api(struct mg_connection *c, const struct http_server *s,
    const struct route *route, const char *rid, struct api_reply *reply,
    int *code, size_t *bytes_in)
{
	const char *framing = bad_framing(mg_get_request_info(c));
	struct api_call call;
	char *body = NULL;
	size_t body_len = 0;
	int rc, status;

	if (framing != NULL)
		return send_error(c, rid, 400, ERR_BAD_JSON, NULL, code,
		    "malformed HTTP request: %s", framing);
	rc = read_body(c, s->cfg->max_body, s->cfg->request_timeout_ms, &body, &body_len);
	*bytes_in = body_len;
	if (rc != 0)
		return rc > 0 ?
		    send_error(c, rid, 413, ERR_TOO_MANY, NULL, code,
			"request body exceeds %zu bytes", s->cfg->max_body) :
		    send_error(c, rid, 200, ERR_BAD_JSON, NULL, code,
			"request body is incomplete");
	memset(&call, 0, sizeof(call));
	call.body = body;
	call.body_len = body_len;
	call.hdr_authorization = mg_get_header(c, "X-Bkapi-Authorization");
	call.hdr_user = mg_get_header(c, "X-Bkcmdb-User");
	call.hdr_bk_user = mg_get_header(c, "BK_User");
	call.hdr_tenant = mg_get_header(c, "X-Bkcmdb-Supplier-Account");
	call.hdr_tenant_alt = mg_get_header(c, "HTTP_BK_SUPPLIER_ACCOUNT");
	call.api = route->name;
	if (route->write)
		idem_header(mg_get_request_info(c), &call);
	if (route->text_fn != NULL)
		api_serve_text(route->text_fn, &call, reply);
	else
		api_serve(route->fn, &call, reply);
	free(body);
	*code = reply->err.code;
	status = reply->long_msg != NULL && err_isset(&reply->err) ?
	    http_send_envelope_msg(c, rid, &reply->err, reply->long_msg) :
	    reply->has_text ?
	    http_send_envelope_text(c, rid, &reply->err, reply->text.buf, reply->text.len) :
	    http_send_envelope(c, rid, &reply->err, reply->data);
	return status;
}

/*
 * The pipeline of api-contract.md §10: route (404), method (405), then
 * body size and the API. CivetWeb calls this only for requests it parsed,
 * but nothing here relies on a field being set.
 */
static int
handle(struct mg_connection *c, void *cbdata)
{
	struct http_server *s = cbdata;
	const struct mg_request_info *ri = mg_get_request_info(c);
	const char *path = ri && ri->local_uri ? ri->local_uri : "/";
	const char *method = ri && ri->request_method ? ri->request_method : "";
	const struct route *route = NULL;
	const struct ops_route *op = router_find_ops(path);
	struct api_reply reply;
	struct exchange x;
	bool esb = false;

	memset(&reply, 0, sizeof(reply));
	exchange_begin(c, &x);
	/* Counted before draining is looked at, and http_drain sets draining
	 * before it counts: a request either sees the flag or is waited for. */
	atomic_fetch_add(&s->active, 1);
	if (op != NULL) {
		x.api = op->name;
		/* HEAD is GET without the body (http_send_text drops it). */
		if (router_allows(router_ops_methods(), method)) {
			x.quiet = op->probe && !s->cfg->log_probes;
			x.status = serve_ops(c, s, op, x.rid);
		} else {
			x.status = send_405(c, x.rid, method, router_ops_methods(), &x.code);
		}
		goto out;
	}
	route = router_find(path, &esb);
	if (route == NULL) {
		x.status = send_error(c, x.rid, 404, ERR_NOT_FOUND, NULL, &x.code,
		    "no such API: %.200s", path);
		goto out;
	}
	x.api = route->name;
	if (s->draining)
		/* Nothing of it has run: safe to send again, to another server. */
		x.status = send_error(c, x.rid, 503, ERR_SERVER, NULL, &x.code,
		    "server shutting down, retry");
	else if (!router_allows(router_methods(route, esb), method))
		x.status = send_405(c, x.rid, method, router_methods(route, esb), &x.code);
	else
		x.status = serve_api(c, s, route, x.rid, &reply, &x.code, &x.bytes_in);
	x.app = reply.app_code;
	x.username = reply.username;
	x.tenant = reply.tenant;
out:
	exchange_end(c, &x);
	api_reply_free(&reply);
	atomic_fetch_sub(&s->active, 1);
	return x.status;
}

/*
 * true while this worker thread's connection ended in an answer from
 * on_http_error to a request CivetWeb gave no URI (it then closes the
 * connection): on_connection_close must not answer that request again.
 */
static _Thread_local bool rejected_unrouted;

/* The envelope for a request CivetWeb did not route; the exchange is begun. */
static void
answer_rejected(struct mg_connection *c, struct exchange *x, struct err *e)
{
	x->status = http_send_envelope_raw(c, x->rid, e);
	x->code = e->code;
	exchange_end(c, x);
}

/*
 * CivetWeb answers some requests itself before any handler runs: bytes that
 * are no HTTP request line (a TLS or HTTP/2 preface, garbage), a malformed
 * Content-Length (411), an unknown HTTP version (505), a header block over
 * HTTP_MAX_HEADER_BYTES. The request is then parsed partly or not at all:
 * its method, URI and version may be NULL or any bytes, so nothing of it is
 * used but the headers CivetWeb did parse. These answers get the envelope
 * too (api-contract.md §2), an access line and a count under api "-". All
 * are the client's fault, so none is a 5xx: a 505 becomes 400, and only
 * CivetWeb's own internal faults are 503.
 */
static int
on_http_error(struct mg_connection *c, int status, const char *msg)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	struct exchange x;
	struct err e = { 0 };

	exchange_begin(c, &x);
	if (status == 413 || status == 431)
		err_set_http(&e, 431, ERR_TOO_MANY, NULL,
		    "the request line and headers exceed %d bytes", HTTP_MAX_HEADER_BYTES);
	else if (status == 505)
		err_set_http(&e, 400, ERR_BAD_JSON, NULL,
		    "malformed HTTP request: unsupported HTTP version");
	else if (status >= 500)
		err_server(&e, "the request could not be read, retry later");
	else
		err_set_http(&e, 400, ERR_BAD_JSON, NULL, "malformed HTTP request: %.200s",
		    msg ? msg : "");
	rejected_unrouted = ri == NULL || ri->local_uri == NULL;
	answer_rejected(c, &x, &e);
	return 0;
}

/*
 * A request whose target CivetWeb neither routes nor rejects ("*", or an
 * absolute URI: CivetWeb takes one only when it names this port and the
 * authentication domain, which procsvc does not use) gets no answer from
 * it: it only closes the connection. It is answered here, as the last thing on
 * that connection, like the other requests CivetWeb cannot route, so that
 * it too is answered, counted and logged.
 */
static void
on_connection_close(const struct mg_connection *cc)
{
	const struct mg_request_info *ri = mg_get_request_info(cc);
	bool unanswered = ri != NULL && ri->request_method != NULL &&
	    ri->local_uri == NULL && !rejected_unrouted;
	/* CivetWeb hands the connection over as const; it is its own,
	 * writable object, and still open here. */
	struct mg_connection *c = (struct mg_connection *)(uintptr_t)cc;
	struct exchange x;
	struct err e = { 0 };

	rejected_unrouted = false;
	if (!unanswered)
		return;
	exchange_begin(c, &x);
	err_set_http(&e, 400, ERR_BAD_JSON, NULL,
	    "malformed HTTP request: the request "
	    "target must be a path on this server");
	answer_rejected(c, &x, &e);
}

/*
 * Authentication is the API's own (an app code and secret in the body or
 * X-Bkapi-Authorization). Without a handler of its own here CivetWeb looks
 * for a "/.htpasswd" file for every request: a failing stat(2) per request.
 */
static int
authorize_all(struct mg_connection *c, void *cbdata)
{
	(void)c;
	(void)cbdata;
	return 1;
}

/*
 * CivetWeb tells why it cannot listen ("cannot bind to 127.0.0.1:8080: 98
 * (Address already in use)") only through log_message; mg_start2's own
 * error text is a generic "Failed to setup server ports". http_start points
 * this at its buffer while it starts, on its own thread: the first message
 * there is the cause. Every other message goes to our log, with the
 * request id of the request being served when there is one.
 */
static _Thread_local char *start_error;
static _Thread_local size_t start_error_size;

static int
on_log_message(const struct mg_connection *c, const char *msg)
{
	struct log_line l;

	(void)c;
	if (start_error != NULL && start_error[0] == '\0') {
		snprintf(start_error, start_error_size, "%s", msg);
		return 1;
	}
	/* After the cause, start-up says the same again in other words. */
	log_begin(&l, start_error != NULL ? LOG_DEBUG : LOG_WARN);
	log_str(&l, "source", "civetweb", 16);
	log_str(&l, "msg", msg, 1024);
	log_end(&l);
	return 1;
}

struct http_server *
http_start(const struct http_config *cfg, struct err *e)
{
	struct http_server *s = calloc(1, sizeof(*s));
	struct mg_callbacks cb;
	struct mg_init_data init;
	char threads[16], timeout[24], why[256] = "", error_text[256] = "";
	unsigned error_code = 0;
	struct mg_error_data error = { &error_code, error_text, sizeof(error_text) };
	const char *options[] = {
		"listening_ports",
		cfg->listen,
		"num_threads",
		threads,
		"request_timeout_ms",
		timeout,
		"enable_keep_alive",
		"yes",
		/* CivetWeb parks a worker on an idle keep-alive connection: a
		 * short wait keeps idle clients from starving new ones. */
		"keep_alive_timeout_ms",
		"1000",
		"tcp_nodelay",
		"1",
		"max_request_size",
		HTTP_MAX_HEADER_BYTES_STR,
		/* Route on the path as sent: no API path needs %-escapes, and a
		 * decoded %00 would cut "/api/...%00" down to a known API. */
		"decode_url",
		"no",
		/* api-contract.md §10: 1024 connections queue rather than reset. */
		"listen_backlog",
		"1024",
		"connection_queue",
		"1024",
		/* CivetWeb would answer CORS preflights itself (200, "allow any
		 * origin") before routing; this API is for servers, not pages,
		 * so OPTIONS is routed like any method (405). */
		"access_control_allow_origin",
		"",
		"access_control_allow_methods",
		"",
		"access_control_allow_headers",
		"",
		NULL,
	};

	if (s == NULL) {
		err_oom(e);
		return NULL;
	}
	s->cfg = cfg;
	metrics_init(cfg->version, cfg->commit);
	for (size_t i = 0; router_route(i) != NULL; i++)
		metrics_add_api(router_route(i)->name);
	for (size_t i = 0; router_ops_route(i) != NULL; i++)
		metrics_add_api(router_ops_route(i)->name);
	snprintf(threads, sizeof(threads), "%d", cfg->threads);
	snprintf(timeout, sizeof(timeout), "%ld", cfg->request_timeout_ms);
	memset(&cb, 0, sizeof(cb));
	cb.init_thread = init_thread;
	cb.http_error = on_http_error;
	cb.connection_close = on_connection_close;
	cb.log_message = on_log_message;
	mg_init_library(0);
	init.callbacks = &cb;
	init.user_data = s;
	init.configuration_options = options;
	start_error = why;
	start_error_size = sizeof(why);
	s->mg = mg_start2(&init, &error);
	start_error = NULL;
	if (s->mg == NULL) {
		err_server(e, "cannot listen on %s: %s", cfg->listen,
		    why[0] != '\0' ? why : (error_text[0] != '\0' ? error_text : "CivetWeb did not start"));
		mg_exit_library();
		free(s);
		return NULL;
	}
	/* "/" is a prefix of every path: one handler, one routing table. */
	mg_set_request_handler(s->mg, "/", handle, s);
	mg_set_auth_handler(s->mg, "/", authorize_all, NULL);
	return s;
}

long
http_drain(struct http_server *s, long timeout_ms)
{
	struct timespec tick = { 0, 10 * 1000000L };
	double deadline = now_seconds() + (double)timeout_ms / 1000.0;

	if (s == NULL)
		return 0;
	s->draining = true;
	while (s->active > 0 && now_seconds() < deadline)
		nanosleep(&tick, NULL);
	return s->active;
}

void
http_stop(struct http_server *s)
{
	if (s == NULL)
		return;
	mg_stop(s->mg);
	mg_exit_library();
	free(s);
}
