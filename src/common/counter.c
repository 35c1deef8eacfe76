#include "common/counter.h"

#include <stdatomic.h>

const struct counter_def counter_defs[COUNTER_COUNT] = {
#define COUNTER_DEF(id, name, labels, help) { name, labels, help },
	COUNTER_LIST(COUNTER_DEF)
#undef COUNTER_DEF
};

static _Atomic unsigned long long values[COUNTER_COUNT];

void
counter_inc(enum counter_id id)
{
	atomic_fetch_add_explicit(&values[id], 1, memory_order_relaxed);
}

unsigned long long
counter_get(enum counter_id id)
{
	return atomic_load_explicit(&values[id], memory_order_relaxed);
}
