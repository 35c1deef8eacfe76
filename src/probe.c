#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until deadline. 1 ready, 0 timed out, -1 error. */
static int
wait_fd(int fd, short events, long deadline)
{
	for (;;) {
		long left = deadline - now_ms();
		struct pollfd p = { .fd = fd, .events = events };
		int rc;

		if (left <= 0)
			return 0;
		rc = poll(&p, 1, (int)left);
		if (rc >= 0 || errno != EINTR)
			return rc > 0 ? 1 : rc;
	}
}

/* A non-blocking connect to one resolved address, finished by deadline. */
static int
connect_one(const struct addrinfo *ai, long deadline, struct err *e)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (fd < 0) {
		err_server(e, "socket: %s", strerror(errno));
		return -1;
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	switch (wait_fd(fd, POLLOUT, deadline)) {
	case 0:
		err_server(e, "connect: timed out");
		close(fd);
		return -1;
	case 1:
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
			return fd;
		errno = soerr;
		break;
	default:
		break;
	}
fail:
	err_server(e, "connect: %s", strerror(errno));
	close(fd);
	return -1;
}

/* Sends all of buf, reads the answer into resp (size n) until the server
 * closes or resp is full. Returns the bytes read, -1 with e set. */
static ssize_t
exchange(int fd, const char *req, char *resp, size_t n, long deadline, struct err *e)
{
	size_t sent = 0, got = 0, len = strlen(req);

	while (sent < len) {
		ssize_t w;
		if (wait_fd(fd, POLLOUT, deadline) != 1)
			goto timeout;
		w = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			err_server(e, "send: %s", strerror(errno));
			return -1;
		}
		sent += w > 0 ? (size_t)w : 0;
	}
	while (got + 1 < n) {
		ssize_t r;
		if (wait_fd(fd, POLLIN, deadline) != 1)
			goto timeout;
		r = recv(fd, resp + got, n - 1 - got, 0);
		if (r == 0)
			break;
		if (r < 0 && errno != EAGAIN && errno != EINTR) {
			err_server(e, "recv: %s", strerror(errno));
			return -1;
		}
		got += r > 0 ? (size_t)r : 0;
	}
	resp[got] = '\0';
	return (ssize_t)got;
timeout:
	err_server(e, "no answer within the time limit");
	return -1;
}

int
probe_get(const struct addr *a, const char *path, long timeout_ms,
    char *body, size_t n, struct err *e)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	char port[8], req[512], resp[4096];
	const char *host = addr_connect_host(a), *p;
	long deadline = now_ms() + timeout_ms;
	int fd = -1, status = -1, gai;

	body[0] = '\0';
	snprintf(port, sizeof(port), "%d", a->port);
	gai = getaddrinfo(host, port, &hints, &res);
	if (gai != 0) {
		err_server(e, "%s: %s", host, gai_strerror(gai));
		return -1;
	}
	for (const struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		struct err again = { 0 };
		fd = connect_one(ai, deadline, ai->ai_next ? &again : e);
	}
	freeaddrinfo(res);
	if (fd < 0)
		return -1;
	snprintf(req, sizeof(req),
	    "GET %s HTTP/1.0\r\nHost: %s:%d\r\n"
	    "User-Agent: procsvc-probe\r\nConnection: close\r\n\r\n",
	    path, host, a->port);
	if (exchange(fd, req, resp, sizeof(resp), deadline, e) < 0)
		goto out;
	if (sscanf(resp, "HTTP/1.%*1[01] %3d", &status) != 1 || status < 100 || status > 599) {
		err_server(e, "the answer is not HTTP");
		status = -1;
		goto out;
	}
	p = strstr(resp, "\r\n\r\n");
	if (p != NULL) {
		snprintf(body, n, "%.*s", (int)strcspn(p + 4, "\r\n"), p + 4);
		for (char *c = body; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20)
				*c = '?';
	}
out:
	close(fd);
	return status;
}
