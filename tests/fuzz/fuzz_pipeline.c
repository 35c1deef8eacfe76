/*
 * libFuzzer target: the whole request pipeline. The real server runs in
 * this process (api_init, http_start: CivetWeb's callbacks, routing, the
 * method and framing checks, body reading, auth, decoding, the service and
 * the database); each input is written as raw bytes to a fresh connection
 * and every answer read back. A crash or sanitizer report in any server
 * thread, or an answer 5xx other than 503, is a finding (abort), with the
 * input that caused it.
 *
 *   make fuzz [FUZZ_SECONDS=60]   (scripts/fuzz.sh gives it a database)
 *
 * DATABASE_URL: a migrated database (without one every request that gets
 * as far as SQL is 503, which still exercises everything before).
 */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netinet/in.h>

#include "api/api.h"
#include "common/log.h"
#include "http/server.h"
#include "../hostile/net.h"

static int port;

/* A free loopback port (the kernel's choice, released just before use). */
static int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		abort();
	p = ntohs(a.sin_port);
	close(fd);
	return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct api_app app = { "esb_test", "xxx" };
	static struct api_config api;
	static struct http_config http;
	static char listen[32];
	const char *url = getenv("DATABASE_URL");
	struct err e = { 0 };

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	api.apps = &app;
	api.napps = 1;
	api.conninfo = url ? url : "host=/nonexistent";
	api.schema_version = 1;
	api.db_pool = 4;
	api.db_wait_ms = 500;
	api.decode_memory = 256u << 20;
	api.decode_wait_ms = 500;
	if (api_init(&api, &e) != 0)
		abort();
	port = free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	http.listen = listen;
	http.threads = 16;
	http.max_body = 4194304;
	/* Inputs that stall (a short body) must not cost seconds each. */
	http.request_timeout_ms = 300;
	http.version = "fuzz";
	http.commit = "fuzz";
	/* An access line per input would bury libFuzzer's own output. */
	log_set_level(LOG_WARN);
	if (http_start(&http, &e) == NULL) {
		fprintf(stderr, "fuzz_pipeline: %s\n", e.msg);
		abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resp r[64];
	int n = net_exchange(port, data, size, 0, 2000, r, 64, NULL);

	for (int i = 0; i < n; i++)
		if (r[i].status >= 500 && r[i].status != 503) {
			fprintf(stderr, "fuzz_pipeline: answered %d\n", r[i].status);
			abort();
		}
	return 0;
}
