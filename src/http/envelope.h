/*
 * envelope: every API response in the shape of api-contract.md §2, and the
 * request id rules. The only place that writes response bytes.
 */
#ifndef PROCSVC_HTTP_ENVELOPE_H
#define PROCSVC_HTTP_ENVELOPE_H

#include <civetweb.h>
#include <jansson.h>

#include "common/err.h"

#define REQUEST_ID_MAX 64

/*
 * What was written for the request being served (the access log's
 * response_bytes). While the connection's user data
 * (mg_set_user_connection_data) points at one, every sender below adds the
 * body bytes it writes; the server sets it for the life of a request.
 */
struct http_sent {
	size_t body_bytes;
};

/*
 * The request id: the X-Request-Id header when it is 1-64 characters of
 * [A-Za-z0-9._-], else 32 fresh random lowercase hex characters. out must
 * hold REQUEST_ID_MAX + 1 bytes.
 */
void http_request_id(const struct mg_connection *c, char *out);

/*
 * Sends the envelope: success with data (borrowed; NULL means null) when e
 * is NULL or clear, else result:false with e's code, message and HTTP
 * status. Returns the HTTP status sent.
 */
int http_send_envelope(struct mg_connection *c, const char *request_id,
    const struct err *e, json_t *data);

/* The same with data already JSON text (len bytes; NULL means null),
 * written into the envelope as it is. */
int http_send_envelope_text(struct mg_connection *c, const char *request_id,
    const struct err *e, const char *data, size_t len);

/* As http_send_envelope, plus an Allow header when allow is not NULL (the
 * methods a 405's path takes, "PUT, POST"). */
int http_send_envelope_allow(struct mg_connection *c, const char *request_id,
    const struct err *e, json_t *data, const char *allow);

/* A failure's envelope (e set, data null) with message in place of e->msg:
 * one longer than struct err holds (api_reply.long_msg). */
int http_send_envelope_msg(struct mg_connection *c, const char *request_id,
    const struct err *e, const char *message);

/*
 * As http_send_envelope with e set (data null), for requests CivetWeb
 * rejected before parsing them: trusts nothing of the request, answers
 * HTTP/1.1 and asks the client to close. Returns the HTTP status sent.
 */
int http_send_envelope_raw(struct mg_connection *c, const char *request_id,
    const struct err *e);

/* Sends a plain JSON object (healthz, readyz) with the given status. */
int http_send_json(struct mg_connection *c, int status, const char *request_id,
    json_t *obj);

/* Sends text (the metrics page). */
int http_send_text(struct mg_connection *c, int status, const char *request_id,
    const char *content_type, const char *text, size_t len);

/* A response header besides those every answer has; both strings borrowed. */
struct http_header {
	const char *name, *value;
};

/*
 * http_send_text plus the headers hdrs[0..nhdrs) (ETag, Cache-Control).
 * Status 304 (Not Modified) sends the headers only: no Content-Type, no
 * Content-Length, no body. Returns the HTTP status sent.
 */
int http_send_text_with(struct mg_connection *c, int status, const char *request_id,
    const char *content_type, const char *text, size_t len,
    const struct http_header *hdrs, size_t nhdrs);

#endif
