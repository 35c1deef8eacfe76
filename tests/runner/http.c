/* http: see http.h. */
#include "http.h"

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

void
request_free(struct request *rq)
{
	free(rq->method);
	free(rq->url);
	curl_slist_free_all(rq->headers);
	free(rq->body);
	free(rq->request_id);
	memset(rq, 0, sizeof *rq);
}

static void
response_clear_headers(struct response *rs)
{
	size_t i;

	for (i = 0; i < rs->nhdrs; i++) {
		free(rs->hdrs[i].name);
		free(rs->hdrs[i].value);
	}
	free(rs->hdrs);
	rs->hdrs = NULL;
	rs->nhdrs = 0;
}

void
response_free(struct response *rs)
{
	response_clear_headers(rs);
	sb_free(&rs->body);
	json_decref(rs->json);
	memset(rs, 0, sizeof *rs);
}

const char *
response_header(const struct response *rs, const char *name)
{
	size_t i;

	for (i = 0; i < rs->nhdrs; i++)
		if (strcasecmp(rs->hdrs[i].name, name) == 0)
			return rs->hdrs[i].value;
	return NULL;
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	sb_addn(&((struct response *)arg)->body, data, size * n);
	return size * n;
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct response *rs = arg;
	size_t len = size * n, nl;
	char *colon = memchr(data, ':', len), *v;

	/* A new status line (after "100 Continue") starts a new header set. */
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		response_clear_headers(rs);
		return len;
	}
	if (colon == NULL)
		return len;
	nl = (size_t)(colon - data);
	v = colon + 1;
	while (v < data + len && (*v == ' ' || *v == '\t'))
		v++;
	while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n' ||
	    data[len - 1] == ' '))
		len--;
	rs->hdrs = xrealloc(rs->hdrs, (rs->nhdrs + 1) * sizeof *rs->hdrs);
	rs->hdrs[rs->nhdrs].name = strndup(data, nl);
	rs->hdrs[rs->nhdrs].value = strndup(v, v < data + len ? (size_t)(data + len - v) : 0);
	rs->nhdrs++;
	return size * n;
}

void
http_perform(CURL *h, const struct request *rq, struct response *rs)
{
	CURLcode rc;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_PROXY, "");      /* never an http_proxy from env */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);   /* required with threads */
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, rq->headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, rs);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, rs);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, rs->curl_err);
	if (strcmp(rq->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(rq->method, "GET") == 0 && rq->body == NULL) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(rq->body ? rq->body_len : 0));
		if (strcmp(rq->method, "POST") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	rc = curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);  /* rs may not outlive h */
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rs->status);
	/*
	 * A server may answer (413) and close before reading a large body; curl
	 * then reports a send error although the response is complete.
	 */
	rs->ok = rc == CURLE_OK || (rs->status > 0 && rc == CURLE_SEND_ERROR);
	if (rs->curl_err[0] == '\0' && rc != CURLE_OK)
		snprintf(rs->curl_err, sizeof rs->curl_err, "%s", curl_easy_strerror(rc));
	if (rs->ok && rs->body.len > 0)
		rs->json = json_loadb(rs->body.p, rs->body.len,
		    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
}

/* Contract §2: an incoming X-Request-Id is used when 1-64 of [A-Za-z0-9._-]. */
static bool
request_id_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._-", s[i]) == NULL)
			return false;
	return true;
}

static bool
has_header(const json_t *headers, const char *name)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)headers, k, v)
		if (strcasecmp(k, name) == 0)
			return true;
	return false;
}

/* Adds the step's headers; "" → empty header, null → remove curl's default. */
static int
add_step_headers(struct request *rq, const json_t *headers, struct sbuf *err)
{
	struct sbuf line = {0};
	const char *k;
	json_t *v;

	if (headers != NULL && !json_is_object(headers)) {
		diff_add(err, "headers must be an object");
		return -1;
	}
	json_object_foreach((json_t *)headers, k, v) {
		line.len = 0;
		if (json_is_null(v))
			sb_printf(&line, "%s:", k);
		else if (json_is_string(v) && json_string_length(v) == 0)
			sb_printf(&line, "%s;", k);
		else {
			sb_printf(&line, "%s: ", k);
			sb_add_text(&line, v);
		}
		if (strcasecmp(k, "X-Request-Id") == 0 && json_is_string(v) &&
		    request_id_valid(json_string_value(v)))
			rq->request_id = xstrdup(json_string_value(v));
		rq->headers = curl_slist_append(rq->headers, line.p);
	}
	sb_free(&line);
	return 0;
}

static void
add_auth(json_t *body, const struct http_target *t)
{
	static const char *const keys[] = {"bk_app_code", "bk_app_secret", "bk_username"};
	const char *vals[] = {t->app, t->secret, t->user};
	size_t i;

	for (i = 0; i < 3; i++)
		if (vals[i] != NULL && json_object_get(body, keys[i]) == NULL)
			json_object_set_new(body, keys[i], json_string(vals[i]));
}

static int
hex_decode(const char *hex, struct request *rq, struct sbuf *err)
{
	size_t n = strlen(hex), i, out = 0;
	unsigned int byte;

	rq->body = xrealloc(NULL, n / 2 + 1);
	for (i = 0; i < n;) {
		if (isspace((unsigned char)hex[i])) {
			i++;
			continue;
		}
		if (i + 1 >= n || !isxdigit((unsigned char)hex[i]) ||
		    !isxdigit((unsigned char)hex[i + 1]) ||
		    sscanf(hex + i, "%2x", &byte) != 1) {
			diff_add(err, "raw_body_hex: bad hex at offset %zu", i);
			return -1;
		}
		rq->body[out++] = (char)byte;
		i += 2;
	}
	rq->body_len = out;
	return 0;
}

/* {auth..., "x": "aaa..."} of exactly n bytes, for size-limit tests. */
static int
sized_body(json_int_t n, bool auth, const struct http_target *t, struct request *rq,
    struct sbuf *err)
{
	json_t *o = json_object();
	char *s;
	size_t base;

	if (auth)
		add_auth(o, t);
	json_object_set_new(o, "x", json_string(""));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	base = strlen(s);
	if (n < (json_int_t)base) {
		diff_add(err, "body_size %" JSON_INTEGER_FORMAT " is below the minimum %zu",
		    n, base);
		free(s);
		return -1;
	}
	/* s ends with ""} : put the padding between the two quotes. */
	rq->body_len = (size_t)n;
	rq->body = xrealloc(NULL, (size_t)n + 1);
	memcpy(rq->body, s, base - 2);
	memset(rq->body + base - 2, 'a', (size_t)n - base);
	memcpy(rq->body + (size_t)n - 2, "\"}", 3);
	free(s);
	return 0;
}

static int
build_body(const json_t *x, const struct http_target *t, struct request *rq,
    struct sbuf *err)
{
	const json_t *body = json_object_get(x, "body");
	const json_t *raw = json_object_get(x, "raw_body");
	const json_t *hex = json_object_get(x, "raw_body_hex");
	const json_t *size = json_object_get(x, "body_size");
	bool auth = !json_is_false(json_object_get(x, "auth"));
	json_t *copy;

	if ((body != NULL) + (raw != NULL) + (hex != NULL) + (size != NULL) > 1) {
		diff_add(err, "give only one of body, raw_body, raw_body_hex, body_size");
		return -1;
	}
	if (raw != NULL) {
		if (!json_is_string(raw)) {
			diff_add(err, "raw_body must be a string");
			return -1;
		}
		rq->body_len = json_string_length(raw);
		rq->body = xrealloc(NULL, rq->body_len + 1);
		memcpy(rq->body, json_string_value(raw), rq->body_len + 1);
		return 0;
	}
	if (hex != NULL) {
		if (json_is_string(hex))
			return hex_decode(json_string_value(hex), rq, err);
		diff_add(err, "raw_body_hex must be a string");
		return -1;
	}
	if (size != NULL) {
		if (json_is_integer(size))
			return sized_body(json_integer_value(size), auth, t, rq, err);
		diff_add(err, "body_size must be an integer");
		return -1;
	}
	if (body == NULL)
		return 0;
	copy = json_deep_copy(body);
	if (auth && json_is_object(copy))
		add_auth(copy, t);
	rq->body = json_dumps(copy, JSON_COMPACT | JSON_ENCODE_ANY);
	rq->body_len = strlen(rq->body);
	json_decref(copy);
	return 0;
}

int
request_build(const json_t *x, const struct http_target *t, struct request *rq,
    struct sbuf *err)
{
	const json_t *method = json_object_get(x, "method");
	const json_t *path = json_object_get(x, "path");
	const json_t *headers = json_object_get(x, "headers");
	const json_t *timeout = json_object_get(x, "timeout_ms");
	struct sbuf url = {0};

	if (!json_is_string(path) || (method != NULL && !json_is_string(method))) {
		diff_add(err, "path and method must be strings");
		return -1;
	}
	sb_adds(&url, t->base_url);
	sb_adds(&url, json_string_value(path));
	rq->url = url.p;
	rq->method = xstrdup(method ? json_string_value(method) : "POST");
	rq->timeout_ms = json_is_integer(timeout) ? (long)json_integer_value(timeout)
	    : HTTP_DEFAULT_TIMEOUT_MS;
	if (build_body(x, t, rq, err) != 0 || add_step_headers(rq, headers, err) != 0)
		return -1;
	if (rq->body != NULL && !has_header(headers, "Content-Type"))
		rq->headers = curl_slist_append(rq->headers, "Content-Type: application/json");
	/*
	 * curl waits up to a second for "100 Continue" on bodies over 1 KiB; only
	 * worth it for big bodies, where a 413 may come before the body is read.
	 */
	if (!has_header(headers, "Expect"))
		rq->headers = curl_slist_append(rq->headers,
		    rq->body_len > (1 << 20) ? "Expect: 100-continue" : "Expect:");
	return 0;
}

void
http_print_request(const struct request *rq)
{
	struct sbuf b = {0};
	const struct curl_slist *h;

	sb_printf(&b, "  request: %s %s\n", rq->method, rq->url);
	for (h = rq->headers; h != NULL; h = h->next)
		if (strcmp(h->data, "Expect:") != 0)  /* our own, only noise */
			sb_printf(&b, "    %s\n", h->data);
	if (rq->body != NULL) {
		sb_adds(&b, "    ");
		sb_add_dump(&b, rq->body, rq->body_len);
		sb_adds(&b, "\n");
	}
	fputs(b.p, stdout);
	sb_free(&b);
}

void
http_print_response(const struct response *rs)
{
	struct sbuf b = {0};
	size_t i;

	if (!rs->ok) {
		printf("  response: none (%s)\n", rs->curl_err);
		return;
	}
	sb_printf(&b, "  response: HTTP %ld\n", rs->status);
	for (i = 0; i < rs->nhdrs; i++)
		sb_printf(&b, "    %s: %s\n", rs->hdrs[i].name, rs->hdrs[i].value);
	sb_adds(&b, "    ");
	sb_add_dump(&b, sb_str(&rs->body), rs->body.len);
	sb_adds(&b, "\n");
	fputs(b.p, stdout);
	sb_free(&b);
}

/* Writes all n bytes of p to fd. 0, or -1. */
static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
http_send_and_drop(const struct request *rq, struct sbuf *err)
{
	const char *u = rq->url, *hs, *he, *path;
	struct addrinfo hints = {0}, *ai = NULL;
	const struct curl_slist *h;
	char host[256], port[16] = "80";
	struct sbuf b = {0};
	int fd = -1, rc = -1;

	if (strncmp(u, "http://", 7) != 0) {
		diff_add(err, "drop_answer: %s is not an http:// URL", u);
		return -1;
	}
	hs = u + 7;
	path = strchr(hs, '/');
	path = path ? path : hs + strlen(hs);
	he = memchr(hs, ':', (size_t)(path - hs));
	if (he != NULL)
		snprintf(port, sizeof port, "%.*s", (int)(path - he - 1), he + 1);
	else
		he = path;
	snprintf(host, sizeof host, "%.*s", (int)(he - hs), hs);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &ai) != 0 ||
	    (fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0 ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		diff_add(err, "drop_answer: cannot connect to %s:%s", host, port);
		goto out;
	}
	sb_printf(&b, "%s %s HTTP/1.1\r\nHost: %s:%s\r\n", rq->method, *path ? path : "/", host, port);
	for (h = rq->headers; h != NULL; h = h->next) {
		const char *colon = strchr(h->data, ':');
		size_t n = strlen(h->data);
		/* curl's conventions: "Name:" removes a header, "Name;" sends it empty. */
		if (colon != NULL && colon[1 + strspn(colon + 1, " ")] == '\0')
			continue;
		if (colon == NULL && n > 0 && h->data[n - 1] == ';')
			sb_printf(&b, "%.*s:\r\n", (int)(n - 1), h->data);
		else
			sb_printf(&b, "%s\r\n", h->data);
	}
	sb_printf(&b, "Content-Length: %zu\r\n\r\n", rq->body ? rq->body_len : 0);
	if (rq->body != NULL)
		sb_addn(&b, rq->body, rq->body_len);
	if (write_all(fd, b.p, b.len) != 0) {
		diff_add(err, "drop_answer: the request could not be sent whole");
		goto out;
	}
	rc = 0;
out:
	/* Closed without reading: whatever the server answers is lost. */
	if (fd >= 0)
		close(fd);
	if (ai != NULL)
		freeaddrinfo(ai);
	sb_free(&b);
	return rc;
}
