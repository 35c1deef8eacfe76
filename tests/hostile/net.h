/*
 * net: raw-socket HTTP for the hostile suite and the soak: send any bytes,
 * read back whatever the server answers and split it into responses. No
 * HTTP library on purpose: the point is to send what no library would.
 */
#ifndef PROCSVC_TEST_NET_H
#define PROCSVC_TEST_NET_H

#include <stdbool.h>
#include <stddef.h>

/* A growing byte buffer; buf is NUL-terminated (not counted in len). */
struct buf {
	char *p;
	size_t len, cap;
};

void buf_add(struct buf *b, const void *data, size_t n);
void buf_str(struct buf *b, const char *s);
void buf_fmt(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_rep(struct buf *b, const char *s, size_t times);
void buf_free(struct buf *b);

/* A connected TCP socket to 127.0.0.1:port, or -1. */
int net_connect(int port);

/*
 * Writes all of data, giving up after timeout_ms without progress. 0 sent,
 * -1 the server closed or reset first (which hostile requests may well
 * cause: that is not a failure by itself).
 */
int net_send(int fd, const void *data, size_t n, int timeout_ms);

/*
 * Reads into out until the server closes, want complete responses have
 * arrived (0: until close), or idle_ms pass without a byte. Returns the
 * number of complete responses in out (see net_parse).
 */
int net_read(int fd, struct buf *out, int want, int idle_ms);

/* One response split out of a byte stream. */
struct resp {
	int status;          /* 0: not an HTTP/1.x status line */
	long code;           /* the envelope's "code", -1 when none */
	bool has_allow;      /* an Allow header came with it */
	size_t body_off, body_len;
};

/*
 * Splits the stream into responses (status line, headers, Content-Length
 * body), at most max of them into r. Returns how many. A last one whose
 * body is cut short (the server closed, or it answers a HEAD) counts with
 * the bytes there are; one whose headers are incomplete does not.
 */
int net_parse(const char *data, size_t len, struct resp *r, int max);

/*
 * One exchange on a fresh connection: send req (a send that fails half way
 * is fine), read up to want responses (0: until close) with idle_ms.
 * Fills r (up to max). Returns the number of responses, -1 when the
 * connection could not even be made.
 */
int net_exchange(int port, const void *req, size_t n, int want, int idle_ms,
    struct resp *r, int max, struct buf *raw);

/* Milliseconds on the monotonic clock. */
double net_now_ms(void);

#endif
