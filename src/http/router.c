#include "http/router.h"

#include <stdio.h>
#include <string.h>

#include "api/instance.h"
#include "api/process.h"
#include "api/silist.h"
#include "api/template.h"
#include "api/topology.h"

#define POST_ONLY \
	{ \
		"POST", NULL \
	}
#define WRITE true
#define READ false

static const struct route routes[] = {
	{ "create_service_instance", "/api/v3/create/proc/service_instance", api_create_service_instance, NULL, POST_ONLY, WRITE },
	{ "create_process_instance", "/api/v3/create/proc/process_instance", api_create_process_instance, NULL, POST_ONLY, WRITE },
	{ "list_process_instance", "/api/v3/findmany/proc/process_instance", NULL, api_list_process_instance, POST_ONLY, READ },
	{ "create_service_template", "/api/v3/create/proc/service_template", api_create_service_template, NULL, POST_ONLY, WRITE },
	{ "batch_create_proc_template", "/api/v3/createmany/proc/proc_template", api_batch_create_proc_template, NULL, POST_ONLY, WRITE },
	{ "list_proc_template", "/api/v3/findmany/proc/proc_template", api_list_proc_template, NULL, POST_ONLY, READ },
	{ "upsert_hosts", "/api/v3/procsvc/upsert_hosts", api_upsert_hosts, NULL, POST_ONLY, WRITE },
	{ "upsert_modules", "/api/v3/procsvc/upsert_modules", api_upsert_modules, NULL, POST_ONLY, WRITE },
	{ "set_module_hosts", "/api/v3/procsvc/set_module_hosts", api_set_module_hosts, NULL, POST_ONLY, WRITE },
	{ "list_service_instance", "/api/v3/findmany/proc/service_instance", NULL, api_list_service_instance, POST_ONLY, READ },
	{ "list_service_instance_detail", "/api/v3/findmany/proc/service_instance/details",
	    NULL, api_list_service_instance_detail, POST_ONLY, READ },
	/* §11.1: the method bk-cmdb registers for each, and POST. */
	{ "update_process_instance", "/api/v3/update/proc/process_instance", api_update_process_instance, NULL,
	    { "PUT", "POST", NULL }, WRITE },
	{ "delete_process_instance", "/api/v3/delete/proc/process_instance", api_delete_process_instance, NULL,
	    { "DELETE", "POST", NULL }, WRITE },
	{ "delete_service_instance", "/api/v3/deletemany/proc/service_instance", api_delete_service_instance, NULL,
	    { "DELETE", "POST", NULL }, WRITE },
};

static const char *const esb_methods[] = POST_ONLY;

static const struct ops_route ops_routes[] = {
	{ "/healthz", "healthz", OPS_HEALTHZ, true },
	{ "/readyz", "readyz", OPS_READYZ, true },
	{ "/metrics", "metrics", OPS_METRICS, true },
	/* Fetched by people and tools now and then, not polled. */
	{ "/openapi.yaml", "openapi", OPS_OPENAPI, false },
};

/* HEAD is GET without the body. */
static const char *const ops_methods[] = { "GET", "HEAD", NULL };

#define ESB_PREFIX "/api/c/compapi/v2/cc/"

/* path equals want, optionally followed by one '/'. */
static bool
same_path(const char *path, size_t len, const char *want)
{
	size_t n = strlen(want);

	return strncmp(path, want, n) == 0 &&
	    (len == n || (len == n + 1 && path[n] == '/'));
}

const struct route *
router_find(const char *path, bool *esb)
{
	size_t len = strlen(path);
	const char *name = path + sizeof(ESB_PREFIX) - 1;

	*esb = strncmp(path, ESB_PREFIX, sizeof(ESB_PREFIX) - 1) == 0;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (*esb && same_path(name, len - (size_t)(name - path), routes[i].name))
			return &routes[i];
		if (!*esb && same_path(path, len, routes[i].native))
			return &routes[i];
	}
	return NULL;
}

const struct route *
router_route(size_t i)
{
	return i < sizeof(routes) / sizeof(routes[0]) ? &routes[i] : NULL;
}

const struct ops_route *
router_find_ops(const char *path)
{
	for (size_t i = 0; i < sizeof(ops_routes) / sizeof(ops_routes[0]); i++)
		if (strcmp(path, ops_routes[i].path) == 0)
			return &ops_routes[i];
	return NULL;
}

const struct ops_route *
router_ops_route(size_t i)
{
	return i < sizeof(ops_routes) / sizeof(ops_routes[0]) ? &ops_routes[i] : NULL;
}

const char *const *
router_ops_methods(void)
{
	return ops_methods;
}

const char *const *
router_methods(const struct route *r, bool esb)
{
	return esb ? esb_methods : r->native_methods;
}

bool
router_allows(const char *const *methods, const char *method)
{
	for (size_t i = 0; methods[i] != NULL; i++)
		if (strcmp(methods[i], method) == 0)
			return true;
	return false;
}

const char *
router_join(const char *const *methods, const char *sep, const char *last_sep,
    char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; methods[i] != NULL && len < n; i++) {
		const char *s = i == 0 ? "" : (methods[i + 1] == NULL ? last_sep : sep);
		int w = snprintf(buf + len, n - len, "%s%s", s, methods[i]);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	return buf;
}

bool
router_print(FILE *out)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];
		for (size_t m = 0; esb_methods[m] != NULL; m++)
			fprintf(out, "%s %s%s/\n", esb_methods[m], ESB_PREFIX, r->name);
		for (size_t m = 0; r->native_methods[m] != NULL; m++)
			fprintf(out, "%s %s\n", r->native_methods[m], r->native);
	}
	for (size_t i = 0; i < sizeof(ops_routes) / sizeof(ops_routes[0]); i++)
		for (size_t m = 0; ops_methods[m] != NULL; m++)
			fprintf(out, "%s %s\n", ops_methods[m], ops_routes[i].path);
	return fflush(out) == 0 && !ferror(out);
}
