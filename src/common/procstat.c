#include "common/procstat.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* The whole of a small /proc file into buf (NUL-terminated); false when
 * it cannot be read. */
static bool
read_small(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t len;

	if (f == NULL)
		return false;
	len = fread(buf, 1, n - 1, f);
	fclose(f);
	buf[len] = '\0';
	return len > 0;
}

/* Seconds since the epoch at which the machine booted (/proc/stat btime,
 * after the per-CPU and interrupt lines, which can be long). */
static bool
boot_time(unsigned long long *out)
{
	FILE *f = fopen("/proc/stat", "r");
	char *line = NULL;
	size_t cap = 0;

	*out = 0;
	if (f == NULL)
		return false;
	while (*out == 0 && getline(&line, &cap, f) > 0)
		if (strncmp(line, "btime ", 6) == 0)
			*out = strtoull(line + 6, NULL, 10);
	free(line);
	fclose(f);
	return *out > 0;
}

/*
 * /proc/self/stat (proc(5)): "pid (comm) state ppid ...". comm may hold
 * spaces and parentheses, so fields are counted from the last ')'; the
 * first after it is field 3.
 */
static bool
read_stat(struct procstat *out)
{
	unsigned long long field[25] = { 0 };
	char buf[1024], *p, *end;
	long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	unsigned long long btime;

	if (ticks <= 0 || page <= 0 || !read_small("/proc/self/stat", buf, sizeof(buf)) ||
	    (p = strrchr(buf, ')')) == NULL || !boot_time(&btime))
		return false;
	p += 2;               /* ") " */
	p += strcspn(p, " "); /* the state letter, field 3 */
	for (int i = 4; i <= 24; i++) {
		field[i] = strtoull(p, &end, 10);
		if (end == p)
			return false;
		p = end;
	}
	out->cpu_seconds = (double)(field[14] + field[15]) / (double)ticks;
	out->start_time = (double)btime + (double)field[22] / (double)ticks;
	out->virtual_bytes = field[23];
	out->resident_bytes = field[24] * (unsigned long long)page;
	return true;
}

/* Entries of /proc/self/fd, without the one this listing opened. */
static bool
count_fds(unsigned long long *out)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int own;

	if (d == NULL)
		return false;
	own = dirfd(d);
	*out = 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && atoi(de->d_name) != own)
			(*out)++;
	closedir(d);
	return true;
}

bool
procstat_read(struct procstat *out)
{
	struct rlimit rl;

	memset(out, 0, sizeof(*out));
	if (!read_stat(out) || !count_fds(&out->open_fds) ||
	    getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		memset(out, 0, sizeof(*out));
		return false;
	}
	out->max_fds = rl.rlim_cur == RLIM_INFINITY ? 0 : (unsigned long long)rl.rlim_cur;
	return true;
}
