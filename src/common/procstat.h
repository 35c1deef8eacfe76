/*
 * procstat: what the kernel says about this process (Linux /proc), for the
 * standard process_* metrics every Prometheus client library exports under
 * the same names, so dashboards and alerts written for those work here.
 *
 * C library and /proc only; reads a handful of small files and lists
 * /proc/self/fd, so call it per scrape, not per request. Thread-safe.
 */
#ifndef PROCSVC_PROCSTAT_H
#define PROCSVC_PROCSTAT_H

#include <stdbool.h>

struct procstat {
	double cpu_seconds;                /* user + system time */
	double start_time;                 /* seconds since the Unix epoch */
	unsigned long long resident_bytes; /* resident set size */
	unsigned long long virtual_bytes;  /* virtual memory size */
	unsigned long long open_fds;       /* file descriptors open now */
	unsigned long long max_fds;        /* RLIMIT_NOFILE soft limit */
};

/* Fills out; false (out zeroed) when /proc cannot be read or parsed. */
bool procstat_read(struct procstat *out);

#endif
