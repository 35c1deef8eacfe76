/*
 * soak: a seeded random-request soak against a running server (make soak,
 * scripts/soak.sh). SOAK_THREADS threads each send, until SOAK_SECONDS are
 * up, requests drawn from: valid sample requests of every API, samples with
 * a hostile value at a random JSON position, byte flips / insertions /
 * deletions of a valid request, odd methods, paths, versions and headers,
 * chunked bodies (some malformed), pipelined batches of all of these,
 * truncated requests and random bytes. A probe thread asks for /healthz
 * every 250 ms and a valid list request every second; each must be answered
 * within 2 s.
 *
 * It fails on the first of: the server process gone, an answer 5xx other
 * than 503, a probe not answered in 2 s, an exchange hanging for 30 s. It
 * then prints the seed, the request that was being sent when the failure
 * was seen (escaped) and saves every thread's last request to
 * SOAK_OUT.<thread>.bin, so the run replays (SOAK_SEED=, same SOAK_THREADS)
 * and the request can be sent alone (SOAK_REPLAY=file).
 *
 *   PROCSVC_PORT, PROCSVC_PID   the server under test
 *   SOAK_SECONDS (60), SOAK_SEED (required), SOAK_THREADS (4),
 *   SOAK_OUT (build/soak-last), SOAK_REPLAY (a saved request to send once)
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "net.h"
#include "samples.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_RESP 64
#define MAX_THREADS 32

static int port;
static pid_t server_pid;
static double deadline_ms;
static volatile int stopping;
static const char *out_prefix;
static uint64_t seed;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char failure[512];
static int failed_thread = -1;

enum kind { K_VALID, K_VALUE, K_BYTES, K_ODD, K_CHUNKED, K_PIPELINE, K_TRUNCATE, K_GARBAGE, K_COUNT };
static const char *const kind_names[K_COUNT] = {
	"valid", "hostile value", "byte mutation", "odd method/path/version/header",
	"chunked", "pipelined", "truncated", "random bytes",
};
static unsigned long long kind_count[K_COUNT];
static unsigned long long status_count[600];

struct thread {
	int id;
	uint64_t rng;
	struct buf req;          /* the request being sent */
	char desc[160];
	unsigned long long n;    /* requests sent */
};

static struct thread threads[MAX_THREADS];
static int nthreads;

static uint64_t
next(uint64_t *s)
{
	/* splitmix64: any seed gives a good stream. */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned
rnd(struct thread *t, unsigned n)
{
	return n ? (unsigned)(next(&t->rng) % n) : 0;
}

/* Log-uniform in [1, max]: small sizes often, huge ones sometimes. */
static size_t
rnd_size(struct thread *t, size_t max)
{
	unsigned bits = 0;
	size_t v;

	while ((1ull << bits) < max)
		bits++;
	v = 1 + (size_t)(next(&t->rng) % (1ull << rnd(t, bits + 1)));
	return v < max ? v : max;
}

static void fail(struct thread *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fail(struct thread *t, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&lock);
	if (failure[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(failure, sizeof(failure), fmt, ap);
		va_end(ap);
		failed_thread = t ? t->id : -1;
	}
	stopping = 1;
	pthread_mutex_unlock(&lock);
}

static bool
server_alive(void)
{
	char path[64], stat[256];
	FILE *f;
	char *p;
	bool alive = false;

	if (kill(server_pid, 0) != 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)server_pid);
	if ((f = fopen(path, "r")) == NULL)
		return true;
	if (fgets(stat, sizeof(stat), f) != NULL && (p = strrchr(stat, ')')) != NULL)
		alive = p[2] != 'Z' && p[2] != 'X';
	fclose(f);
	return alive;
}

/* ---- request generators --------------------------------------------------- */

static const struct api *
any_api(struct thread *t)
{
	return &apis[rnd(t, (unsigned)napis)];
}

static void
valid(struct thread *t, struct buf *b, char *desc, size_t n)
{
	const struct api *a = any_api(t);

	http_post(b, a->path, a->sample, strlen(a->sample), NULL);
	snprintf(desc, n, "valid %s", a->name);
}

static void
hostile_value(struct thread *t, struct buf *b, char *desc, size_t n)
{
	static const char *const scalars[] = {
		"\"\\u0000\"", "\"\xff\xfe\"", "\"\\uD800\"", "1e400", "-9223372036854775809",
		"123456789012345678901234567890", "0.5", "true", "null", "\"\"", "\"   \"",
		"\"70000\"", "\"1-0\"", "\"80,80\"", "-1", "0", "2147483648", "{}", "[]",
		"\"\xe2\x82\xac\"", "\"a\\\"b\"", "\"%s%n%x\"", "\"'; DROP TABLE host; --\"",
	};
	const struct api *a = any_api(t);
	struct pos ps[MAX_POS];
	struct buf v = { 0 }, body = { 0 };
	int np = samples_positions(a, ps), at = (int)rnd(t, (unsigned)np);
	const char *what;

	switch (rnd(t, 5)) {
	case 0:
		value_deep(&v, rnd_size(t, 200000), rnd(t, 2));
		what = "deep value";
		break;
	case 1:
		value_array(&v, rnd_size(t, 1000000), rnd(t, 2) ? "{}" : "7");
		what = "long array";
		break;
	case 2:
		/* Up to 5 MiB: some bodies go over the 4 MiB limit (413). */
		value_string(&v, rnd_size(t, 5u << 20));
		what = "long string";
		break;
	default:
		buf_str(&v, scalars[rnd(t, N(scalars))]);
		what = "odd value";
	}
	samples_body_with(a, ps[at].path, v.p, v.len, &body);
	http_post(b, a->path, body.p, body.len, NULL);
	snprintf(desc, n, "%s (%zu bytes) at %s of %s", what, v.len,
	    ps[at].path[0] ? ps[at].path : "the root", a->name);
	buf_free(&v);
	buf_free(&body);
}

static void
byte_mutation(struct thread *t, struct buf *b, char *desc, size_t n)
{
	unsigned edits = 1 + rnd(t, 8);

	valid(t, b, desc, n);
	for (unsigned i = 0; i < edits && b->len > 2; i++) {
		size_t at = rnd(t, (unsigned)b->len);
		switch (rnd(t, 4)) {
		case 0:  /* flip */
			b->p[at] = (char)(b->p[at] ^ (1 << rnd(t, 8)));
			break;
		case 1:  /* random byte */
			b->p[at] = (char)rnd(t, 256);
			break;
		case 2:  /* delete a run */
		{
			size_t len = 1 + rnd(t, 16);
			if (at + len > b->len)
				len = b->len - at;
			memmove(b->p + at, b->p + at + len, b->len - at - len);
			b->len -= len;
			break;
		}
		default: /* insert a structural byte */
		{
			char c = "{}[],:\"\\\r\n 0-\x00\xff"[rnd(t, 15)];
			buf_add(b, "x", 1);
			memmove(b->p + at + 1, b->p + at, b->len - at - 1);
			b->p[at] = c;
		}
		}
	}
	snprintf(desc + strlen(desc), n - strlen(desc), " with %u byte edits", edits);
}

static void
odd(struct thread *t, struct buf *b, char *desc, size_t n)
{
	static const char *const methods[] = {
		"POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO", "post", "CONNECT",
	};
	static const char *const versions[] = {
		"HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "HTTP/", "HTTPS/1.1", "",
	};
	static const char *const headers[] = {
		"", "Content-Length: 5\r\n", "Content-Length: abc\r\n", "Transfer-Encoding: chunked\r\n",
		"X-Bkapi-Authorization: {\"bk_app_code\":\"esb_test\",\"bk_app_secret\":\"xxx\",\"bk_username\":\"u\"}\r\n",
		"X-Bkapi-Authorization: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\r\n",
		"X-Bkcmdb-User: \xff\r\n", "X-Bkcmdb-Supplier-Account: t2\r\n",
		"X-Bkcmdb-Supplier-Account: ../../\r\n", "X-Request-Id: \x01\x02\r\n",
		"Expect: 100-continue\r\n", "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n",
		"Host: a\r\nHost: b\r\n", "Origin: x\r\nAccess-Control-Request-Method: POST\r\n",
	};
	const struct api *a = any_api(t);
	char path[512];
	struct buf extra = { 0 };
	unsigned nh = rnd(t, 4);

	switch (rnd(t, 6)) {
	case 0:
		snprintf(path, sizeof(path), "/api/c/compapi/v2/cc/%s%s", a->name, rnd(t, 2) ? "/" : "");
		break;
	case 1:
		snprintf(path, sizeof(path), "%s%s", a->path, rnd(t, 2) ? "/" : "%00");
		break;
	case 2:
		snprintf(path, sizeof(path), "/healthz");
		break;
	case 3:
		snprintf(path, sizeof(path), "%s/../%s", a->path, a->name);
		break;
	default:
		snprintf(path, sizeof(path), "%s", a->path);
	}
	for (unsigned i = 0; i < nh; i++)
		buf_str(&extra, headers[rnd(t, N(headers))]);
	if (rnd(t, 20) == 0) {  /* a header block near or over 16 KiB */
		buf_str(&extra, "X-Long: ");
		buf_rep(&extra, "v", 15000 + rnd(t, 3000));
		buf_str(&extra, "\r\n");
	}
	b->len = 0;
	buf_fmt(b, "%s %s %s\r\nHost: t\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n%s",
	    methods[rnd(t, N(methods))], path, versions[rnd(t, N(versions))],
	    extra.p ? extra.p : "", strlen(a->sample), a->sample);
	snprintf(desc, n, "odd request to %s (%u extra headers)", path, nh);
	buf_free(&extra);
}

static void
chunked(struct thread *t, struct buf *b, char *desc, size_t n)
{
	const struct api *a = any_api(t);
	size_t len = strlen(a->sample), at = 0;
	bool broken = rnd(t, 3) == 0;

	b->len = 0;
	buf_fmt(b, "POST %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n", a->path);
	while (at < len) {
		size_t c = 1 + rnd(t, 64);
		if (c > len - at)
			c = len - at;
		if (broken && rnd(t, 8) == 0)
			buf_fmt(b, "%zx%s\r\n", c + rnd(t, 3), rnd(t, 2) ? ";x=y" : " ");
		else
			buf_fmt(b, "%zx\r\n", c);
		buf_add(b, a->sample + at, c);
		buf_str(b, broken && rnd(t, 10) == 0 ? "\n" : "\r\n");
		at += c;
	}
	buf_str(b, broken && rnd(t, 2) ? "ffffffffffffffffffff\r\n" : "0\r\n\r\n");
	snprintf(desc, n, "%schunked %s", broken ? "broken " : "", a->name);
}

static void one(struct thread *t, enum kind k, struct buf *b, char *desc, size_t n);

static void
pipeline(struct thread *t, struct buf *b, char *desc, size_t n)
{
	unsigned count = 2 + rnd(t, 5);
	struct buf part = { 0 };
	char sub[160];

	b->len = 0;
	for (unsigned i = 0; i < count; i++) {
		enum kind k = (enum kind)rnd(t, K_PIPELINE);
		char *close;
		one(t, k, &part, sub, sizeof(sub));
		/* Keep the connection open for the next one. */
		if ((close = strstr(part.p, "Connection: close\r\n")) != NULL && i + 1 < count)
			memcpy(close, "X-Pipelined: keep\r\n", 19);
		buf_add(b, part.p, part.len);
	}
	snprintf(desc, n, "%u pipelined requests", count);
	buf_free(&part);
}

static void
truncate_req(struct thread *t, struct buf *b, char *desc, size_t n)
{
	valid(t, b, desc, n);
	b->len = rnd(t, (unsigned)b->len);
	snprintf(desc + strlen(desc), n - strlen(desc), " cut at byte %zu", b->len);
}

static void
garbage(struct thread *t, struct buf *b, char *desc, size_t n)
{
	size_t len = rnd_size(t, 70000);

	b->len = 0;
	for (size_t i = 0; i < len; i++) {
		char c = (char)rnd(t, 256);
		buf_add(b, &c, 1);
	}
	if (rnd(t, 2))
		buf_str(b, "\r\n\r\n");
	snprintf(desc, n, "%zu random bytes", len);
}

static void
one(struct thread *t, enum kind k, struct buf *b, char *desc, size_t n)
{
	switch (k) {
	case K_VALID: valid(t, b, desc, n); break;
	case K_VALUE: hostile_value(t, b, desc, n); break;
	case K_BYTES: byte_mutation(t, b, desc, n); break;
	case K_ODD: odd(t, b, desc, n); break;
	case K_CHUNKED: chunked(t, b, desc, n); break;
	case K_PIPELINE: pipeline(t, b, desc, n); break;
	case K_TRUNCATE: truncate_req(t, b, desc, n); break;
	default: garbage(t, b, desc, n); break;
	}
}

static enum kind
pick(struct thread *t)
{
	/* Weights: valid and hostile values most, raw garbage least. */
	static const unsigned w[K_COUNT] = { 20, 25, 15, 12, 8, 10, 5, 5 };
	unsigned r = rnd(t, 100), acc = 0;

	for (int k = 0; k < K_COUNT; k++)
		if (r < (acc += w[k]))
			return (enum kind)k;
	return K_VALID;
}

static void *
run(void *arg)
{
	struct thread *t = arg;

	while (!stopping && net_now_ms() < deadline_ms) {
		enum kind k = pick(t);
		struct resp r[MAX_RESP];
		double t0;
		int got;
		one(t, k, &t->req, t->desc, sizeof(t->desc));
		t->n++;
		__atomic_add_fetch(&kind_count[k], 1, __ATOMIC_RELAXED);
		t0 = net_now_ms();
		got = net_exchange(port, t->req.p, t->req.len, 0, 12000, r, MAX_RESP, NULL);
		if (got < 0 && !server_alive()) {
			fail(t, "the server process is gone");
			break;
		}
		for (int i = 0; i < got; i++) {
			if (r[i].status >= 100 && r[i].status < 600)
				__atomic_add_fetch(&status_count[r[i].status], 1, __ATOMIC_RELAXED);
			if (r[i].status >= 500 && r[i].status != 503)
				fail(t, "answered %d", r[i].status);
		}
		if (net_now_ms() - t0 > 30000)
			fail(t, "the exchange took %.0f ms", net_now_ms() - t0);
		if (!server_alive())
			fail(t, "the server process is gone");
	}
	return NULL;
}

/* /healthz every 250 ms and a valid list request every second, each
 * answered within 2 s. */
static void *
probe(void *arg)
{
	static const char health[] = "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	struct buf list = { 0 };
	unsigned long long i = 0;

	(void)arg;
	http_post(&list, apis[2].path, apis[2].sample, strlen(apis[2].sample), NULL);
	while (!stopping && net_now_ms() < deadline_ms) {
		struct resp r[2];
		bool api = i++ % 4 == 0;
		double t0 = net_now_ms();
		int got = api ? net_exchange(port, list.p, list.len, 1, 2500, r, 2, NULL) :
		    net_exchange(port, health, sizeof(health) - 1, 1, 2500, r, 2, NULL);
		double ms = net_now_ms() - t0;
		if (got != 1 || ms > 2000 || (api ? r[0].status != 200 && r[0].status != 503 : r[0].status != 200))
			fail(NULL, "probe %s: %d answers, status %d, after %.0f ms",
			    api ? "list_process_instance" : "/healthz", got, got == 1 ? r[0].status : 0, ms);
		usleep(250 * 1000);
	}
	buf_free(&list);
	return NULL;
}

/* Prints bytes readably: printable ASCII as is, the rest as \xNN. */
static void
print_escaped(const char *p, size_t n, size_t max)
{
	for (size_t i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\r')
			fputs("\\r", stdout);
		else if (c == '\n')
			fputs("\\n\n    ", stdout);
		else if (c >= 0x20 && c < 0x7f)
			putchar(c);
		else
			printf("\\x%02x", c);
	}
	if (n > max)
		printf("... (%zu bytes in all)", n);
	putchar('\n');
}

static void
save(const struct thread *t)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s.%d.bin", out_prefix, t->id);
	if ((f = fopen(path, "wb")) == NULL)
		return;
	fwrite(t->req.p, 1, t->req.len, f);
	fclose(f);
}

static int
replay(const char *file)
{
	struct buf b = { 0 };
	struct resp r[MAX_RESP];
	char chunk[65536];
	size_t n;
	FILE *f = fopen(file, "rb");
	int got;

	if (f == NULL) {
		perror(file);
		return 2;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	got = net_exchange(port, b.p, b.len, 0, 12000, r, MAX_RESP, NULL);
	printf("replayed %zu bytes: %d answers", b.len, got);
	for (int i = 0; i < got; i++)
		printf(" %d", r[i].status);
	printf("; server %s\n", server_alive() ? "alive" : "GONE");
	buf_free(&b);
	return server_alive() ? 0 : 1;
}

int
main(void)
{
	const char *p = getenv("PROCSVC_PORT"), *pid = getenv("PROCSVC_PID");
	const char *secs = getenv("SOAK_SECONDS"), *s = getenv("SOAK_SEED");
	const char *th = getenv("SOAK_THREADS");
	pthread_t tid[MAX_THREADS], prober;
	char why[512];
	unsigned long long total = 0;

	if (p == NULL || pid == NULL || s == NULL) {
		fprintf(stderr, "soak: set PROCSVC_PORT, PROCSVC_PID and SOAK_SEED\n");
		return 2;
	}
	port = atoi(p);
	server_pid = (pid_t)atoi(pid);
	seed = strtoull(s, NULL, 10);
	out_prefix = getenv("SOAK_OUT") ? getenv("SOAK_OUT") : "build/soak-last";
	nthreads = th ? atoi(th) : 4;
	if (nthreads < 1 || nthreads > MAX_THREADS)
		nthreads = 4;
	signal(SIGPIPE, SIG_IGN);
	if (getenv("SOAK_REPLAY"))
		return replay(getenv("SOAK_REPLAY"));
	if (!samples_fixture(port, why, sizeof(why))) {
		printf("soak: fixture failed: %s\n", why);
		return 1;
	}
	deadline_ms = net_now_ms() + 1000.0 * (secs ? atof(secs) : 60.0);
	for (int i = 0; i < nthreads; i++) {
		threads[i].id = i;
		threads[i].rng = seed * 0x100000001b3ULL + (uint64_t)i;
		pthread_create(&tid[i], NULL, run, &threads[i]);
	}
	pthread_create(&prober, NULL, probe, NULL);
	for (int i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	stopping = 1;
	pthread_join(prober, NULL);
	for (int i = 0; i < nthreads; i++)
		total += threads[i].n;
	printf("soak: seed %" PRIu64 ", %d threads, %llu requests:", seed, nthreads, total);
	for (int k = 0; k < K_COUNT; k++)
		printf(" %s %llu%s", kind_names[k], kind_count[k], k + 1 < K_COUNT ? "," : "\n");
	printf("soak: answers by status:");
	for (int i = 100; i < 600; i++)
		if (status_count[i])
			printf(" %d x%llu", i, status_count[i]);
	printf("\n");
	if (failure[0] == '\0') {
		printf("soak: no failure\n");
		return 0;
	}
	printf("soak: FAILED (seed %" PRIu64 "): %s\n", seed, failure);
	for (int i = 0; i < nthreads; i++)
		save(&threads[i]);
	if (failed_thread >= 0) {
		const struct thread *t = &threads[failed_thread];
		printf("soak: the request thread %d was sending (#%llu, %s):\n    ", t->id, t->n, t->desc);
		print_escaped(t->req.p, t->req.len, 2000);
	}
	printf("soak: every thread's last request is in %s.<thread>.bin; replay the run with\n"
	    "      SOAK_SEED=%" PRIu64 " SOAK_THREADS=%d make soak, or one request with SOAK_REPLAY=<file>\n",
	    out_prefix, seed, nthreads);
	return 1;
}
