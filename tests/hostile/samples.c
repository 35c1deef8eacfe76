#include "samples.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct api apis[] = {
	{ "create_service_instance", "/api/v3/create/proc/service_instance", "" },
	{ "create_process_instance", "/api/v3/create/proc/process_instance", "" },
	{ "list_process_instance", "/api/v3/findmany/proc/process_instance", "" },
	{ "create_service_template", "/api/v3/create/proc/service_template", "" },
	{ "batch_create_proc_template", "/api/v3/createmany/proc/proc_template", "" },
	{ "list_proc_template", "/api/v3/findmany/proc/proc_template", "" },
	{ "upsert_hosts", "/api/v3/procsvc/upsert_hosts", "" },
	{ "upsert_modules", "/api/v3/procsvc/upsert_modules", "" },
	{ "set_module_hosts", "/api/v3/procsvc/set_module_hosts", "" },
};
const size_t napis = sizeof(apis) / sizeof(apis[0]);

void
http_post(struct buf *b, const char *path, const char *body, size_t len, const char *extra)
{
	b->len = 0;
	buf_fmt(b, "POST %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: %zu\r\n%s\r\n",
	    path, len, extra ? extra : "");
	buf_add(b, body, len);
}

static int fixture_port;
static char *fixture_why;
static size_t fixture_n;

/* POSTs body, which must be accepted (200, code 0); notes the first that
 * is not. */
static void
expect(const char *path, const char *body, int status, long code, const char *label)
{
	struct buf b = { 0 };
	struct resp r[2];
	int n;

	http_post(&b, path, body, strlen(body), NULL);
	n = net_exchange(fixture_port, b.p, b.len, 1, 15000, r, 2, NULL);
	if ((n < 1 || r[0].status != status || r[0].code != code) && fixture_why[0] == '\0')
		snprintf(fixture_why, fixture_n, "%s: want %d/%ld, got %d/%ld", label,
		    status, code, n > 0 ? r[0].status : 0, n > 0 ? r[0].code : -1L);
	buf_free(&b);
}

/* The data of a successful answer as an integer: the first id. */
static long
create_id(const char *path, const char *body, const char *key)
{
	struct buf b = { 0 }, rawb = { 0 };
	struct resp r[2];
	long id = 0;
	json_t *j, *d;
	int n;

	http_post(&b, path, body, strlen(body), NULL);
	n = net_exchange(fixture_port, b.p, b.len, 1, 15000, r, 2, &rawb);
	if (n == 1 && r[0].code == 0) {
		j = json_loadb(rawb.p + r[0].body_off, r[0].body_len, 0, NULL);
		d = json_object_get(j, "data");
		id = (long)json_integer_value(key ? json_object_get(d, key) : json_array_get(d, 0));
		json_decref(j);
	}
	buf_free(&b);
	buf_free(&rawb);
	return id;
}

/* A topology of its own (business 9) and one of everything, so that every
 * sample is a request the server accepts. */
bool
samples_fixture(int port, char *why, size_t why_n)
{
	long st, si;
	char body[256];
	int run = (int)getpid(); /* names unique per run: the database may be reused */

	fixture_port = port;
	fixture_why = why;
	fixture_n = why_n;
	why[0] = '\0';

	expect(apis[6].path, "{" AUTH ",\"hosts\":[{\"bk_host_id\":901,\"bk_host_innerip\":\"10.9.0.1\"},{\"bk_host_id\":902,\"bk_host_innerip\":\"10.9.0.2\"}]}", 200, 0, "fixture hosts");
	expect(apis[7].path, "{" AUTH ",\"modules\":[{\"bk_module_id\":9060,\"bk_biz_id\":9,\"service_template_id\":0,\"default\":0,\"bk_module_name\":\"h\"}]}", 200, 0, "fixture module");
	expect(apis[8].path, "{" AUTH ",\"bk_module_id\":9060,\"bk_host_ids\":[901,902]}", 200, 0, "fixture module hosts");
	snprintf(body, sizeof(body), "{" AUTH ",\"bk_biz_id\":9,\"name\":\"hostile-%d\",\"service_category_id\":1}", run);
	st = create_id(apis[3].path, body, "id");
	snprintf(apis[0].sample, sizeof(apis[0].sample), "{" AUTH ",\"bk_biz_id\":9,\"bk_module_id\":9060,\"instances\":[{\"bk_host_id\":901,\"service_instance_name\":\"h1\",\"processes\":[{\"process_template_id\":0,\"process_info\":{\"bk_process_name\":\"p\",\"bk_func_name\":\"f\",\"bk_start_param_regex\":\"r\",\"proc_num\":1,\"priority\":2,\"auto_start\":false,\"description\":\"d\",\"bind_info\":[{\"ip\":\"127.0.0.1\",\"port\":\"80\",\"protocol\":\"1\",\"enable\":true,\"template_row_id\":1}]}}]}]}");
	si = create_id(apis[0].path, apis[0].sample, NULL);
	snprintf(apis[1].sample, sizeof(apis[1].sample), "{" AUTH ",\"bk_biz_id\":9,\"service_instance_id\":%ld,\"processes\":[{\"process_info\":{\"bk_process_name\":\"q\",\"bk_func_name\":\"g\",\"bind_info\":[{\"port\":\"81\"}]}}]}", si);
	snprintf(apis[2].sample, sizeof(apis[2].sample), "{" AUTH ",\"bk_biz_id\":9,\"service_instance_id\":%ld}", si);
	snprintf(apis[3].sample, sizeof(apis[3].sample), "{" AUTH ",\"bk_biz_id\":9,\"name\":\"hostile-%d-2\",\"service_category_id\":1}", run);
	snprintf(apis[4].sample, sizeof(apis[4].sample), "{" AUTH ",\"bk_biz_id\":9,\"service_template_id\":%ld,\"processes\":[{\"spec\":{\"bk_process_name\":{\"value\":\"t\",\"as_default_value\":true},\"bk_func_name\":{\"value\":\"t\",\"as_default_value\":true},\"proc_num\":{\"value\":2,\"as_default_value\":false},\"bind_info\":{\"value\":[{\"row_id\":1,\"ip\":{\"value\":\"1\",\"as_default_value\":true},\"port\":{\"value\":\"80\",\"as_default_value\":false},\"protocol\":{\"value\":\"1\",\"as_default_value\":false},\"enable\":{\"value\":true,\"as_default_value\":false}}]}}}]}", st);
	snprintf(apis[5].sample, sizeof(apis[5].sample), "{" AUTH ",\"bk_biz_id\":9,\"service_template_id\":%ld,\"process_template_ids\":[1,2]}", st);
	snprintf(apis[6].sample, sizeof(apis[6].sample), "{" AUTH ",\"hosts\":[{\"bk_host_id\":903,\"bk_host_innerip\":\"10.9.0.3\",\"bk_host_outerip\":\"\",\"bk_host_innerip_v6\":\"::1\",\"bk_host_outerip_v6\":\"\"}]}");
	snprintf(apis[7].sample, sizeof(apis[7].sample), "{" AUTH ",\"modules\":[{\"bk_module_id\":9061,\"bk_biz_id\":9,\"service_template_id\":0,\"default\":0,\"bk_module_name\":\"m\"}]}");
	snprintf(apis[8].sample, sizeof(apis[8].sample), "{" AUTH ",\"bk_module_id\":9061,\"bk_host_ids\":[903]}");
	if ((st <= 0 || si <= 0) && why[0] == '\0')
		snprintf(why, why_n, "fixture: service template %ld, service instance %ld", st, si);
	/* Every sample must be a request the server accepts: otherwise the
	 * positions below would test an early rejection, not the decoders. */
	for (size_t i = 0; i < napis; i++)
		if (i != 0 && i != 1 && i != 3)  /* creates: run once above or below */
			expect(apis[i].path, apis[i].sample, 200, 0, apis[i].name);
	expect(apis[1].path, apis[1].sample, 200, 0, apis[1].name);
	expect(apis[3].path, apis[3].sample, 200, 0, apis[3].name);
	return why[0] == '\0';
}

/* ---- positions: every value of a sample, generated --------------------- */

static void
walk(json_t *v, char *path, size_t len, struct pos *out, int *n)
{
	const char *k;
	json_t *c;
	size_t i;

	if (*n < MAX_POS) {
		snprintf(out[*n].path, sizeof(out[*n].path), "%s", path);
		out[*n].array = json_is_array(v);
		(*n)++;
	}
	if (json_is_object(v)) {
		json_object_foreach(v, k, c) {
			snprintf(path + len, 256 - len, "%s%s", len ? "." : "", k);
			walk(c, path, strlen(path), out, n);
			path[len] = '\0';
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, c) {
			snprintf(path + len, 256 - len, "[%zu]", i);
			walk(c, path, strlen(path), out, n);
			path[len] = '\0';
		}
	}
}

/* The value at path in root (a borrowed reference), its parent and key. */
static json_t *
lookup(json_t *root, const char *path, json_t **parent, char *key, size_t *index)
{
	json_t *v = root;
	const char *p = path;

	*parent = NULL;
	while (*p) {
		if (*p == '.')
			p++;
		if (*p == '[') {
			*index = strtoul(p + 1, NULL, 10);
			*parent = v;
			key[0] = '\0';
			v = json_array_get(v, *index);
			p = strchr(p, ']') + 1;
		} else {
			size_t n = strcspn(p, ".[");
			memcpy(key, p, n);
			key[n] = '\0';
			*parent = v;
			v = json_object_get(v, key);
			p += n;
		}
	}
	return v;
}

void
samples_body_with(const struct api *a, const char *path, const char *hostile, size_t hlen, struct buf *out)
{
	json_t *root = json_loads(a->sample, 0, NULL), *parent;
	char key[256];
	size_t index = 0;
	char *text, *mark;

	out->len = 0;
	if (path[0] == '\0') {
		buf_add(out, hostile, hlen);
		json_decref(root);
		return;
	}
	lookup(root, path, &parent, key, &index);
	if (key[0])
		json_object_set_new(parent, key, json_string("@@HOSTILE@@"));
	else
		json_array_set_new(parent, index, json_string("@@HOSTILE@@"));
	text = json_dumps(root, JSON_COMPACT);
	mark = strstr(text, "\"@@HOSTILE@@\"");
	buf_add(out, text, (size_t)(mark - text));
	buf_add(out, hostile, hlen);
	buf_str(out, mark + strlen("\"@@HOSTILE@@\""));
	free(text);
	json_decref(root);
}

int
samples_positions(const struct api *a, struct pos *out)
{
	json_t *root = json_loads(a->sample, 0, NULL);
	char path[256] = "";
	int n = 0;

	walk(root, path, 0, out, &n);
	json_decref(root);
	return n;
}

/* ---- hostile values ----------------------------------------------------- */

void
value_deep(struct buf *b, size_t depth, bool objects)
{
	b->len = 0;
	buf_rep(b, objects ? "{\"a\":" : "[", depth);
	buf_str(b, "1");
	buf_rep(b, objects ? "}" : "]", depth);
}

void
value_array(struct buf *b, size_t n, const char *elem)
{
	b->len = 0;
	buf_str(b, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_str(b, ",");
		buf_str(b, elem);
	}
	buf_str(b, "]");
}

void
value_string(struct buf *b, size_t n)
{
	b->len = 0;
	buf_str(b, "\"");
	buf_rep(b, "a", n);
	buf_str(b, "\"");
}

