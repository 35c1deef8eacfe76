/*
 * http: building a step's request and sending it with libcurl.
 *
 * The only module of the runner that includes curl/curl.h. A CURL handle
 * may be used by one thread at a time; everything else here is reentrant.
 */
#ifndef RUNNER_HTTP_H
#define RUNNER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"

#define HTTP_DEFAULT_TIMEOUT_MS 30000

/* Where requests go and the credentials added to object bodies (NULL: none). */
struct http_target {
	const char *base_url;
	const char *app, *secret, *user;
};

struct request {
	char *method, *url;           /* owned */
	struct curl_slist *headers;   /* owned */
	char *body;                   /* owned; NULL = no body */
	size_t body_len;
	char *request_id;             /* X-Request-Id we sent, if valid; owned */
	long timeout_ms;
};

struct header {
	char *name, *value;           /* owned */
};

struct response {
	bool ok;                      /* an HTTP response arrived */
	long status;
	struct sbuf body;
	struct header *hdrs;          /* of the final response only */
	size_t nhdrs;
	json_t *json;                 /* parsed body or NULL; owned */
	char curl_err[CURL_ERROR_SIZE];
};

/*
 * Builds the request of an expanded step x (path, method, headers, body,
 * raw_body, raw_body_hex, body_size, auth, timeout_ms; see tests/README.md).
 * rq must be zeroed; it is filled even on failure, for request_free.
 * 0, or -1 with a message in err.
 */
int request_build(const json_t *x, const struct http_target *t, struct request *rq,
    struct sbuf *err);
/* Frees what rq owns and zeroes it. */
void request_free(struct request *rq);
/* Frees what rs owns and zeroes it. */
void response_free(struct response *rs);
/* Value of the last response header called name (any case), or NULL. Borrowed. */
const char *response_header(const struct response *rs, const char *name);

/*
 * Sends rq on h (reset first) and fills the zeroed rs; rs->ok tells whether
 * a response came, rs->curl_err why not.
 */
void http_perform(CURL *h, const struct request *rq, struct response *rs);

/*
 * A lost response: sends rq whole on a connection of its own (HTTP/1.1,
 * plain http:// URLs only) and closes it without reading a byte, as a
 * client that timed out or was cut off would. 0, or -1 with a message in
 * err when the request could not be sent.
 */
int http_send_and_drop(const struct request *rq, struct sbuf *err);

/* Print a request / response on stdout for a failure report. */
void http_print_request(const struct request *rq);
void http_print_response(const struct response *rs);

#endif
