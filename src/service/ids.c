#include "service/ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
svc_ids_error(const struct svc_req *req, int code, const char *path,
    const int64_t *ids, size_t n, const char *text_one, const char *text_many,
    struct err *e)
{
	const char *text = n == 1 ? text_one : text_many;
	char list[400];
	size_t shown, cap, len;
	char *full;

	if (err_isset(e))
		return -1;
	/* Room for " and N more" after the ids that fit. */
	shown = err_id_list(list, sizeof(list) - 24, ids, n);
	if (shown < n)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), " and %zu more", n - shown);
	err_set(e, code, path, "%s %s", list, text);
	if (shown == n || req->long_msg == NULL)
		return -1;
	/* 20 digits and ", " per id, the path, the text and ": " / " ". */
	cap = n * 22 + strlen(path) + strlen(text) + 8;
	if ((full = malloc(cap)) == NULL)
		return -1; /* the shortened message stands */
	len = (size_t)snprintf(full, cap, "%s: ", path);
	err_id_list(full + len, cap - len, ids, n);
	len = strlen(full);
	snprintf(full + len, cap - len, " %s", text);
	free(*req->long_msg);
	*req->long_msg = full;
	return -1;
}
