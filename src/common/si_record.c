#include "common/si_record.h"

#include <stdlib.h>

void
si_record_list_free(struct si_record_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].name);
		proc_record_list_free(&l->items[i].procs);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
	l->count = 0;
}
