#include "unit.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The linker's --wrap names: __real_x is the libc (or sanitizer) x. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

static long countdown = -1; /* < 0: off */
static bool sticky_fail;
static bool fired;

static bool
should_fail(void)
{
	if (countdown < 0)
		return false;
	if (countdown > 0) {
		countdown--;
		return false;
	}
	fired = true;
	if (!sticky_fail)
		countdown = -1;
	return true;
}

void
fault_arm(long n, bool sticky)
{
	countdown = n;
	sticky_fail = sticky;
	fired = false;
}

bool
fault_disarm(void)
{
	bool was = fired;

	countdown = -1;
	fired = false;
	return was;
}

void *
__wrap_malloc(size_t n)
{
	return should_fail() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : __real_realloc(p, n);
}

char *
__wrap_strdup(const char *s)
{
	return should_fail() ? NULL : __real_strdup(s);
}

static void *
jansson_malloc(size_t n)
{
	return __wrap_malloc(n);
}

void
fault_install_jansson(void)
{
	json_set_alloc_funcs(jansson_malloc, free);
}
