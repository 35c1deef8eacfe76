/* bodies: see bodies.h. */
#include "bodies.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static struct {
	FILE *f;
	char *base;            /* owned */
	char *where;           /* owned */
	bool failed;
	pthread_mutex_t lock;  /* f and failed, between workers */
} out = { .lock = PTHREAD_MUTEX_INITIALIZER };

bool
bodies_open(const char *path, const char *base_url)
{
	out.f = fopen(path, "w");
	if (out.f == NULL)
		return false;
	out.base = xstrdup(base_url);
	out.where = xstrdup("");
	out.failed = false;
	return true;
}

void
bodies_where(const char *where)
{
	if (out.f == NULL)
		return;
	free(out.where);
	out.where = xstrdup(where);
}

/* HTTP 200, result true, code 0: the server took the request. */
static bool
accepted(const struct response *rs)
{
	const json_t *code = json_object_get(rs->json, "code");

	return rs->ok && rs->status == 200 && json_is_integer(code) &&
	    json_integer_value(code) == 0 && json_is_true(json_object_get(rs->json, "result"));
}

void
bodies_record(const struct request *rq, const struct response *rs, long index)
{
	size_t nbase;
	const char *path;
	json_t *body, *line;
	char where[64];
	char *text;

	if (out.f == NULL || rq->body == NULL || !accepted(rs))
		return;
	/* As the server reads it: the last of duplicate keys wins. */
	body = json_loadb(rq->body, rq->body_len, JSON_DECODE_ANY, NULL);
	if (body == NULL)
		return;
	nbase = strlen(out.base);
	path = strncmp(rq->url, out.base, nbase) == 0 ? rq->url + nbase : rq->url;
	snprintf(where, sizeof where, " #%ld", index);
	line = json_pack("{s:s, s:s, s:o, s:s+}", "method", rq->method, "path", path,
	    "body", body, "where", out.where, index >= 0 ? where : "");
	text = line ? json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	pthread_mutex_lock(&out.lock);
	if (text == NULL || fprintf(out.f, "%s\n", text) < 0)
		out.failed = true;
	pthread_mutex_unlock(&out.lock);
	free(text);
	json_decref(line);
}

bool
bodies_close(void)
{
	bool ok = !out.failed;

	if (out.f == NULL)
		return true;
	if (fclose(out.f) != 0)
		ok = false;
	out.f = NULL;
	free(out.base);
	free(out.where);
	out.base = out.where = NULL;
	return ok;
}
