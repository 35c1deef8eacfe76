/*
 * load: reading a case file and compiling it into plain steps.
 *
 * Everything here happens before the first request, and the result does
 * not depend on the server: include, import/defs/use (templates), with and
 * $(name) (parameters), matrix, $str and variants are expanded into the
 * steps main.c runs (see tests/README.md for the format). `test_runner
 * --expand FILE` prints that result.
 *
 * Run-time expansion (${var}, $repeat) is left in place for expand.h.
 */
#ifndef RUNNER_LOAD_H
#define RUNNER_LOAD_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"

/* One run of a case file over a clean database: the file, or one variant of it. */
struct load_run {
	char *name;         /* the variant's name; NULL without variants; owned */
	json_t *steps;      /* array of compiled steps; owned */
};

struct load_file {
	struct load_run *runs;   /* owned */
	size_t nruns;
};

/*
 * Loads and compiles the case file at path into *out (zeroed by the
 * caller). 0, or -1 with a message naming the file and the place in err;
 * *out is then empty. Free with load_free either way.
 */
int load_case(const char *path, struct load_file *out, struct sbuf *err);

/* Frees what lf owns and zeroes it. */
void load_free(struct load_file *lf);

#endif
