#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void
grow(struct buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;

	if (b->len + more + 1 <= b->cap)
		return;
	while (cap < b->len + more + 1)
		cap *= 2;
	b->p = realloc(b->p, cap);
	if (b->p == NULL) {
		fprintf(stderr, "hostile: out of memory\n");
		exit(2);
	}
	b->cap = cap;
}

void
buf_add(struct buf *b, const void *data, size_t n)
{
	grow(b, n);
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_fmt(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_rep(struct buf *b, const char *s, size_t times)
{
	size_t n = strlen(s);

	grow(b, n * times);
	for (size_t i = 0; i < times; i++) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
	b->p[b->len] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

double
net_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int
net_connect(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int
net_send(int fd, const void *data, size_t n, int timeout_ms)
{
	const char *p = data;

	while (n > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		ssize_t w;
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return -1;
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Case-insensitive search for a header name at a line start in [h, end). */
static const char *
header(const char *h, const char *end, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = h; p && p < end; p = memchr(p, '\n', (size_t)(end - p))) {
		if (*p == '\n')
			p++;
		if ((size_t)(end - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':')
			return p + n + 1;
	}
	return NULL;
}

static const char *
find(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return hay + i;
	return NULL;
}

/* net_parse; partial: count a last response whose body is cut short. */
static int
parse(const char *data, size_t len, struct resp *r, int max, bool partial)
{
	size_t at = 0;
	int count = 0;

	while (at < len && count < max) {
		const char *start = data + at, *end = find(start, len - at, "\r\n\r\n");
		const char *cl, *code;
		size_t head, body = 0;
		struct resp *x = &r[count];
		if (end == NULL)
			break;
		head = (size_t)(end - start) + 4;
		memset(x, 0, sizeof(*x));
		x->code = -1;
		if (head > 12 && strncmp(start, "HTTP/1.", 7) == 0)
			x->status = atoi(start + 9);
		cl = header(start, end, "Content-Length");
		if (cl != NULL)
			body = (size_t)strtoul(cl, NULL, 10);
		x->has_allow = header(start, end, "Allow") != NULL;
		if (at + head + body > len) {
			/* Cut short (or a HEAD answer): its status still counts. */
			x->body_off = at + head;
			x->body_len = len - (at + head);
			count += partial;
			break;
		}
		x->body_off = at + head;
		x->body_len = body;
		code = find(data + x->body_off, body, "\"code\":");
		if (code != NULL)
			x->code = strtol(code + 7, NULL, 10);
		at += head + body;
		count++;
	}
	return count;
}

int
net_parse(const char *data, size_t len, struct resp *r, int max)
{
	return parse(data, len, r, max, true);
}

int
net_read(int fd, struct buf *out, int want, int idle_ms)
{
	char chunk[65536];
	struct resp r[64];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		if (want > 0 && parse(out->p ? out->p : "", out->len, r, 64, false) >= want)
			break;
		if (poll(&pfd, 1, idle_ms) <= 0)
			break;
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n <= 0)
			break;
		buf_add(out, chunk, (size_t)n);
	}
	return net_parse(out->p ? out->p : "", out->len, r, 64);
}

int
net_exchange(int port, const void *req, size_t n, int want, int idle_ms,
    struct resp *r, int max, struct buf *raw)
{
	struct buf local = { 0 };
	struct buf *b = raw ? raw : &local;
	int fd = net_connect(port), count;

	if (fd < 0)
		return -1;
	b->len = 0;
	(void)net_send(fd, req, n, idle_ms);
	/* Tell the server we are done sending, so that a body it waits for
	 * does not hold the exchange for the whole request timeout. */
	if (want == 0)
		shutdown(fd, SHUT_WR);
	net_read(fd, b, want, idle_ms);
	close(fd);
	count = net_parse(b->p ? b->p : "", b->len, r, max);
	buf_free(&local);
	return count;
}
