#include "http/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/* Enough for every route name times the handful of codes each can give;
 * past that, new (api, code) pairs are folded into one overflow series. */
#define MAX_SERIES 256

static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct series {
	const char *api; /* a route's static name */
	int code;
	unsigned long long count;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct series series[MAX_SERIES];
static size_t nseries;
static unsigned long long hist[NBUCKETS + 1];
static double hist_sum;
static unsigned long long hist_count, db_errors;
static long in_flight;

void
metrics_begin(void)
{
	pthread_mutex_lock(&lock);
	in_flight++;
	pthread_mutex_unlock(&lock);
}

void
metrics_end(const char *api, int code, double seconds)
{
	size_t i, b;

	pthread_mutex_lock(&lock);
	in_flight--;
	for (i = 0; i < nseries; i++)
		if (series[i].code == code && strcmp(series[i].api, api) == 0)
			break;
	if (i == nseries && nseries < MAX_SERIES) {
		series[i].api = api;
		series[i].code = code;
		nseries++;
	}
	if (i < nseries)
		series[i].count++;
	for (b = 0; b < NBUCKETS && seconds > buckets[b]; b++)
		;
	hist[b]++;
	hist_sum += seconds;
	hist_count++;
	if (code == ERR_SERVER)
		db_errors++;
	pthread_mutex_unlock(&lock);
}

char *
metrics_render(const struct metrics_gauges *g, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	unsigned long long cum = 0;

	if (f == NULL)
		return NULL;
	pthread_mutex_lock(&lock);
	fputs("# HELP procsvc_requests_total Requests by API and envelope code.\n"
	    "# TYPE procsvc_requests_total counter\n", f);
	for (size_t i = 0; i < nseries; i++)
		fprintf(f, "procsvc_requests_total{api=\"%s\",code=\"%d\"} %llu\n",
		    series[i].api, series[i].code, series[i].count);
	fputs("# HELP procsvc_request_duration_seconds Request latency.\n"
	    "# TYPE procsvc_request_duration_seconds histogram\n", f);
	for (size_t b = 0; b < NBUCKETS; b++) {
		cum += hist[b];
		fprintf(f, "procsvc_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
		    buckets[b], cum);
	}
	fprintf(f, "procsvc_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "procsvc_request_duration_seconds_sum %.6f\n"
	    "procsvc_request_duration_seconds_count %llu\n",
	    hist_count, hist_sum, hist_count);
	fprintf(f, "# HELP procsvc_db_errors_total Requests that failed on the database.\n"
	    "# TYPE procsvc_db_errors_total counter\nprocsvc_db_errors_total %llu\n"
	    "# HELP procsvc_in_flight_requests Requests being served.\n"
	    "# TYPE procsvc_in_flight_requests gauge\nprocsvc_in_flight_requests %ld\n",
	    db_errors, in_flight);
	pthread_mutex_unlock(&lock);
	fprintf(f, "# HELP procsvc_db_pool_size Database connections the pool may hold (PROCSVC_DB_POOL).\n"
	    "# TYPE procsvc_db_pool_size gauge\nprocsvc_db_pool_size %zu\n"
	    "# HELP procsvc_db_pool_in_use Database connections lent to requests.\n"
	    "# TYPE procsvc_db_pool_in_use gauge\nprocsvc_db_pool_in_use %zu\n"
	    "# HELP procsvc_db_pool_idle Database connections free in the pool.\n"
	    "# TYPE procsvc_db_pool_idle gauge\nprocsvc_db_pool_idle %zu\n"
	    "# HELP procsvc_db_pool_open Free connections with a live database session.\n"
	    "# TYPE procsvc_db_pool_open gauge\nprocsvc_db_pool_open %zu\n"
	    "# HELP procsvc_db_pool_waiting Requests waiting for a database connection.\n"
	    "# TYPE procsvc_db_pool_waiting gauge\nprocsvc_db_pool_waiting %zu\n"
	    "# HELP procsvc_db_pool_wait_timeouts_total Requests refused (503) after PROCSVC_DB_WAIT_MS without a connection.\n"
	    "# TYPE procsvc_db_pool_wait_timeouts_total counter\nprocsvc_db_pool_wait_timeouts_total %llu\n"
	    "# HELP procsvc_decode_memory_bytes Estimated bytes held by large request bodies being decoded.\n"
	    "# TYPE procsvc_decode_memory_bytes gauge\nprocsvc_decode_memory_bytes %zu\n"
	    "# HELP procsvc_decode_memory_waiting Requests waiting for decode memory.\n"
	    "# TYPE procsvc_decode_memory_waiting gauge\nprocsvc_decode_memory_waiting %zu\n"
	    "# HELP procsvc_http_threads HTTP connections served at once (PROCSVC_THREADS).\n"
	    "# TYPE procsvc_http_threads gauge\nprocsvc_http_threads %d\n"
	    "# HELP procsvc_http_thread_stack_bytes Stack size of an HTTP worker thread.\n"
	    "# TYPE procsvc_http_thread_stack_bytes gauge\nprocsvc_http_thread_stack_bytes %zu\n",
	    g->api.db_pool_size, g->api.db_in_use, g->api.db_idle, g->api.db_open,
	    g->api.db_waiting, g->api.db_wait_timeouts, g->api.decode_bytes,
	    g->api.decode_waiting, g->http_threads, g->worker_stack);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}
