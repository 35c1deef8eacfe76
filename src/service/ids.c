#include "service/ids.h"

#include <stdlib.h>

void
id_list_free(struct id_list *l)
{
	free(l->ids);
	l->ids = NULL;
	l->n = 0;
}

int
svc_require_id(int64_t id, int code, const char *field, struct err *e)
{
	if (id > 0)
		return 0;
	err_set(e, code, field, "is required (a positive integer)");
	return -1;
}
