#include "http/metrics.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/counter.h"
#include "common/procstat.h"

#define MAX_APIS 64

/* (api, status, code) triples: a few per API in practice. The table is
 * open-addressed and never shrinks; past its room, new triples are folded
 * into one series labelled "other". A power of two. */
#define SERIES_BITS 10
#define SERIES_SLOTS (1u << SERIES_BITS)

static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

/* Written by metrics_init / metrics_add_api before the server's threads
 * start, read-only afterwards. Index 0 is "-". */
static const char *apis[MAX_APIS] = { "-" };
static size_t napis = 1;
static const char *build_version = "", *build_commit = "";

/*
 * The counts are kept in stripes, and each thread counts in its own
 * (threads take stripes in turn): two requests that end at the same moment
 * on two cores then rarely touch the same cache line. One shared set of
 * atomics made every request's five increments bounce between the cores;
 * a stripe costs that only when two running threads share it. A scrape
 * adds the stripes up.
 */
#define STRIPES 16

struct stripe {
	/* Per api: requests per latency bucket (the last is +Inf, not
	 * cumulative here) and the sum of their durations in nanoseconds. */
	_Atomic unsigned long long hist[MAX_APIS][NBUCKETS + 1];
	_Atomic unsigned long long hist_sum_ns[MAX_APIS];
	_Atomic unsigned long long count[SERIES_SLOTS]; /* per series slot */
	_Atomic unsigned long long other;               /* past the table */
	_Atomic long in_flight;
} __attribute__((aligned(64)));
static struct stripe stripes[STRIPES];

/* The series of the table, shared by every stripe: key (api index + 1)
 * << 48 | status << 32 | code; 0 is a free slot. */
static _Atomic uint64_t series_key[SERIES_SLOTS];

static _Atomic unsigned next_stripe;
static _Thread_local struct stripe *my_stripe;

static struct stripe *
stripe(void)
{
	if (my_stripe == NULL)
		my_stripe = &stripes[atomic_fetch_add_explicit(&next_stripe, 1,
					 memory_order_relaxed) %
		    STRIPES];
	return my_stripe;
}

void
metrics_init(const char *version, const char *commit)
{
	build_version = version ? version : "";
	build_commit = commit ? commit : "";
}

void
metrics_add_api(const char *api)
{
	for (size_t i = 0; i < napis; i++)
		if (strcmp(apis[i], api) == 0)
			return;
	if (napis < MAX_APIS)
		apis[napis++] = api;
}

/* The index of api, 0 ("-") when it was not added. The names are static
 * strings, so the pointer usually matches at once. */
static size_t
api_index(const char *api)
{
	for (size_t i = 1; i < napis; i++)
		if (apis[i] == api)
			return i;
	for (size_t i = 1; api != NULL && i < napis; i++)
		if (strcmp(apis[i], api) == 0)
			return i;
	return 0;
}

void
metrics_begin(void)
{
	atomic_fetch_add_explicit(&stripe()->in_flight, 1, memory_order_relaxed);
}

/* Counts one request of key in st: finds the key's slot, or claims a free
 * one. */
static void
series_add(struct stripe *st, uint64_t key)
{
	size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> (64 - SERIES_BITS));

	for (size_t i = 0; i < SERIES_SLOTS; i++) {
		size_t slot = (h + i) & (SERIES_SLOTS - 1);
		uint64_t k = atomic_load_explicit(&series_key[slot], memory_order_acquire);
		if (k == 0) {
			/* On failure k receives the key another thread claimed
			 * the slot with, which may be ours. */
			if (atomic_compare_exchange_strong_explicit(&series_key[slot], &k, key,
				memory_order_acq_rel, memory_order_acquire))
				k = key;
		}
		if (k == key) {
			atomic_fetch_add_explicit(&st->count[slot], 1, memory_order_relaxed);
			return;
		}
	}
	atomic_fetch_add_explicit(&st->other, 1, memory_order_relaxed);
}

void
metrics_end(const char *api, int status, int code, double seconds)
{
	struct stripe *st = stripe();
	size_t a = api_index(api), b;

	series_add(st, (uint64_t)(a + 1) << 48 | (uint64_t)(status & 0xffff) << 32 | (uint32_t)code);
	for (b = 0; b < NBUCKETS && seconds > buckets[b]; b++)
		;
	atomic_fetch_add_explicit(&st->hist[a][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->hist_sum_ns[a],
	    seconds > 0 ? (unsigned long long)(seconds * 1e9) : 0, memory_order_relaxed);
	atomic_fetch_sub_explicit(&st->in_flight, 1, memory_order_relaxed);
}

/* The sum over the stripes of the counter at byte offset off in each. */
static unsigned long long
sum_ull(size_t off)
{
	unsigned long long n = 0;

	for (size_t i = 0; i < STRIPES; i++)
		n += atomic_load_explicit((_Atomic unsigned long long *)((char *)&stripes[i] + off),
		    memory_order_relaxed);
	return n;
}

/* A label value, escaped as the text format wants (\\, \", \n). */
static void
put_label(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void
put_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int
cmp_key(const void *a, const void *b)
{
	uint64_t x = ((const uint64_t *)a)[0], y = ((const uint64_t *)b)[0];

	return x < y ? -1 : x > y;
}

/* false when out of memory. */
static bool
render_requests(FILE *f)
{
	uint64_t(*rows)[2] = malloc(SERIES_SLOTS * sizeof(*rows)); /* key, count */
	size_t n = 0;
	unsigned long long other;

	if (rows == NULL)
		return false;
	put_family(f, "procsvc_requests_total", "counter",
	    "Requests answered, by API (\"-\": no API), HTTP status and envelope code.");
	for (size_t i = 0; i < SERIES_SLOTS; i++) {
		uint64_t k = atomic_load_explicit(&series_key[i], memory_order_acquire);
		if (k == 0)
			continue;
		rows[n][0] = k;
		rows[n][1] = sum_ull(offsetof(struct stripe, count) + i * sizeof(stripes[0].count[0]));
		n++;
	}
	qsort(rows, n, sizeof(rows[0]), cmp_key);
	for (size_t i = 0; i < n; i++) {
		size_t a = (size_t)(rows[i][0] >> 48) - 1;
		fprintf(f, "procsvc_requests_total{api=\"%s\",status=\"%u\",code=\"%u\"} %llu\n",
		    a < napis ? apis[a] : "-", (unsigned)(rows[i][0] >> 32 & 0xffff),
		    (unsigned)(rows[i][0] & 0xffffffffu), (unsigned long long)rows[i][1]);
	}
	other = sum_ull(offsetof(struct stripe, other));
	if (other > 0)
		fprintf(f, "procsvc_requests_total{api=\"-\",status=\"other\",code=\"other\"} %llu\n",
		    other);
	free(rows);
	return true;
}

static void
render_latency(FILE *f)
{
	put_family(f, "procsvc_request_duration_seconds", "histogram",
	    "Time from the request's first handling to its answer, by API.");
	for (size_t a = 0; a < napis; a++) {
		unsigned long long cum = 0;
		for (size_t b = 0; b <= NBUCKETS; b++) {
			cum += sum_ull(offsetof(struct stripe, hist) +
			    (a * (NBUCKETS + 1) + b) * sizeof(stripes[0].hist[0][0]));
			if (b < NBUCKETS)
				fprintf(f, "procsvc_request_duration_seconds_bucket{api=\"%s\",le=\"%g\"} %llu\n",
				    apis[a], buckets[b], cum);
			else
				fprintf(f, "procsvc_request_duration_seconds_bucket{api=\"%s\",le=\"+Inf\"} %llu\n",
				    apis[a], cum);
		}
		fprintf(f,
		    "procsvc_request_duration_seconds_sum{api=\"%s\"} %.9f\n"
		    "procsvc_request_duration_seconds_count{api=\"%s\"} %llu\n",
		    apis[a],
		    (double)sum_ull(offsetof(struct stripe, hist_sum_ns) +
			a * sizeof(stripes[0].hist_sum_ns[0])) /
			1e9,
		    apis[a], cum);
	}
}

/* The live values of struct metrics_gauges: one row per metric. */
#define GAUGE(field) offsetof(struct metrics_gauges, field)
static const struct gauge_row {
	const char *name, *type, *help;
	size_t offset; /* of an unsigned long long in struct metrics_gauges */
} gauge_rows[] = {
	{ "procsvc_db_pool_size", "gauge",
	    "Database connections the pool may hold (PROCSVC_DB_POOL).", GAUGE(api.db_pool_size) },
	{ "procsvc_db_pool_in_use", "gauge",
	    "Database connections lent to requests.", GAUGE(api.db_in_use) },
	{ "procsvc_db_pool_idle", "gauge",
	    "Database connections free in the pool.", GAUGE(api.db_idle) },
	{ "procsvc_db_pool_open", "gauge",
	    "Free connections with a live database session.", GAUGE(api.db_open) },
	{ "procsvc_db_pool_waiting", "gauge",
	    "Requests waiting for a database connection.", GAUGE(api.db_waiting) },
	{ "procsvc_db_pool_wait_timeouts_total", "counter",
	    "Requests refused (503) after PROCSVC_DB_WAIT_MS without a connection.",
	    GAUGE(api.db_wait_timeouts) },
	{ "procsvc_decode_memory_bytes", "gauge",
	    "Estimated bytes held by large request bodies being decoded.", GAUGE(api.decode_bytes) },
	{ "procsvc_decode_memory_waiting", "gauge",
	    "Requests waiting for decode memory.", GAUGE(api.decode_waiting) },
	{ "procsvc_http_threads", "gauge",
	    "HTTP connections served at once (PROCSVC_THREADS).", GAUGE(http_threads) },
	{ "procsvc_http_thread_stack_bytes", "gauge",
	    "Stack size of an HTTP worker thread.", GAUGE(worker_stack) },
	{ "procsvc_db_replica_up", "gauge",
	    "1 while list requests are read on the replica (PROCSVC_READ_URL).", GAUGE(api.replica_up) },
};

static void
render_gauges(FILE *f, const struct metrics_gauges *g)
{
	for (size_t i = 0; i < sizeof(gauge_rows) / sizeof(gauge_rows[0]); i++) {
		const struct gauge_row *r = &gauge_rows[i];
		unsigned long long v;
		memcpy(&v, (const char *)g + r->offset, sizeof(v));
		put_family(f, r->name, r->type, r->help);
		fprintf(f, "%s %llu\n", r->name, v);
	}
}

static void
render_counters(FILE *f)
{
	for (size_t i = 0; i < COUNTER_COUNT; i++) {
		const struct counter_def *d = &counter_defs[i];
		if (d->help != NULL)
			put_family(f, d->name, "counter", d->help);
		fprintf(f, "%s%s%s%s %llu\n", d->name, d->labels[0] ? "{" : "", d->labels,
		    d->labels[0] ? "}" : "", counter_get((enum counter_id)i));
	}
}

/* The names and meanings every Prometheus client library gives them. */
static void
render_process(FILE *f)
{
	struct procstat p;
	const struct {
		const char *name, *type, *help;
		double v;
	} rows[] = {
		{ "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", 0 },
		{ "process_open_fds", "gauge", "Number of open file descriptors.", 0 },
		{ "process_max_fds", "gauge", "Maximum number of open file descriptors.", 0 },
		{ "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", 0 },
		{ "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", 0 },
		{ "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", 0 },
	};
	double v[sizeof(rows) / sizeof(rows[0])];

	if (!procstat_read(&p))
		return;
	v[0] = p.cpu_seconds;
	v[1] = (double)p.open_fds;
	v[2] = (double)p.max_fds;
	v[3] = (double)p.virtual_bytes;
	v[4] = (double)p.resident_bytes;
	v[5] = p.start_time;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		put_family(f, rows[i].name, rows[i].type, rows[i].help);
		fprintf(f, "%s %.17g\n", rows[i].name, v[i]);
	}
}

char *
metrics_render(const struct metrics_gauges *g, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	long in_flight;
	bool ok;

	if (f == NULL)
		return NULL;
	put_family(f, "procsvc_build_info", "gauge",
	    "Always 1; the labels name the running build.");
	fputs("procsvc_build_info{version=\"", f);
	put_label(f, build_version);
	fputs("\",commit=\"", f);
	put_label(f, build_commit);
	fputs("\"} 1\n", f);
	ok = render_requests(f);
	render_latency(f);
	put_family(f, "procsvc_in_flight_requests", "gauge", "Requests being served.");
	in_flight = 0;
	for (size_t i = 0; i < STRIPES; i++)
		in_flight += atomic_load_explicit(&stripes[i].in_flight, memory_order_relaxed);
	fprintf(f, "procsvc_in_flight_requests %ld\n", in_flight);
	render_counters(f);
	render_gauges(f, g);
	/* A fraction of seconds, and only where there is a replica to measure. */
	if (g->api.replica && g->api.replica_lag_s >= 0) {
		put_family(f, "procsvc_db_replica_lag_seconds", "gauge",
		    "How far the read replica is behind the primary, at most.");
		fprintf(f, "procsvc_db_replica_lag_seconds %.3f\n", g->api.replica_lag_s);
	}
	render_process(f);
	if (fclose(f) != 0 || !ok) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}
