#include "http/envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

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
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
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
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

int
http_send_text(struct mg_connection *c, int status, const char *request_id,
    const char *content_type, const char *text, size_t len)
{
	char clen[24];

	snprintf(clen, sizeof(clen), "%zu", len);
	mg_response_header_start(c, status);
	mg_response_header_add(c, "Content-Type", content_type, -1);
	mg_response_header_add(c, "Content-Length", clen, -1);
	mg_response_header_add(c, "X-Request-Id", request_id, -1);
	if (status == 413)
		/* The unread body would otherwise be parsed as the next request. */
		mg_response_header_add(c, "Connection", "close", -1);
	mg_response_header_send(c);
	/* A response to HEAD has the headers of the GET answer and no body. */
	if (strcmp(mg_get_request_info(c)->request_method, "HEAD") != 0)
		mg_write(c, text, len);
	return status;
}

int
http_send_json(struct mg_connection *c, int status, const char *request_id,
    json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	int rc;

	if (text == NULL) {
		static const char oom[] = "{\"status\":\"unavailable\",\"reason\":\"out of memory\"}";
		return http_send_text(c, 503, request_id,
		    "application/json; charset=utf-8", oom, sizeof(oom) - 1);
	}
	rc = http_send_text(c, status, request_id,
	    "application/json; charset=utf-8", text, strlen(text));
	free(text);
	return rc;
}

int
http_send_envelope(struct mg_connection *c, const char *request_id,
    const struct err *e, json_t *data)
{
	bool ok = e == NULL || !err_isset(e);
	int status = ok ? 200 : e->http_status ? e->http_status : 200;
	char msg[sizeof(e->msg)];
	json_t *env;
	int rc;

	/* Messages echo user input (paths, values): never let a stray byte
	 * make the envelope itself unencodable. */
	snprintf(msg, sizeof(msg), "%s", ok ? "success" : e->msg);
	if (!utf8_valid(msg, strlen(msg)))
		for (char *p = msg; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
	env = json_pack("{s:b, s:i, s:s, s:n, s:s, s:O?}",
	    "result", ok,
	    "code", ok ? 0 : e->code,
	    "message", msg,
	    "permission",
	    "request_id", request_id,
	    "data", ok ? data : NULL);
	if (env == NULL) {
		/* Only a message that is not valid UTF-8 or out of memory gets here. */
		log_error("request %s: could not build the envelope", request_id);
		env = json_pack("{s:b, s:i, s:s, s:n, s:s, s:n}", "result", 0,
		    "code", ERR_SERVER, "message", "internal error", "permission",
		    "request_id", request_id, "data");
		status = 503;
	}
	rc = http_send_json(c, status, request_id, env);
	json_decref(env);
	return rc;
}
