/*
 * unit: the cmocka unit tests of the pure code (src/common, src/api/procjson).
 * One binary, build/test_unit; each test_*.c file exports one group runner
 * that test_main.c calls. fault.c makes allocations fail on demand: the
 * binary is linked with -Wl,--wrap=malloc,... so every malloc, calloc,
 * realloc and strdup of src/ and tests/ (and Jansson's, through
 * json_set_alloc_funcs) goes through it.
 */
#ifndef PROCSVC_TEST_UNIT_H
#define PROCSVC_TEST_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Group runners: the number of failed tests. */
int run_common_tests(void);
int run_procjson_tests(void);
int run_jscan_tests(void);
int run_jtree_tests(void);
int run_log_tests(void);

/*
 * Fault injection. fault_arm(n, sticky): the allocation n calls from now
 * (0 = the next one) fails, and with sticky every one after it too.
 * fault_disarm() stops it and says whether a failure was injected.
 * fault_install_jansson() routes Jansson's allocations through the same
 * counter (call it before any json_t exists).
 */
void fault_arm(long n, bool sticky);
bool fault_disarm(void);
void fault_install_jansson(void);

/*
 * Random JSON-ish text (jtext.c), single-threaded: unit_seed starts a
 * reproducible sequence, unit_rnd(n) is in [0, n). unit_mutate applies
 * muts random byte changes (overwrite, delete, insert of a JSON
 * character) to buf[0..len) and returns the new length; buf must have
 * room for len + muts bytes.
 */
void unit_seed(unsigned long long seed);
unsigned unit_rnd(unsigned n);
size_t unit_mutate(char *buf, size_t len, unsigned muts);

#endif
