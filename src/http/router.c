#include "http/router.h"

#include <string.h>

#include "api/instance.h"
#include "api/process.h"
#include "api/template.h"
#include "api/topology.h"

static const struct route routes[] = {
	{ "create_service_instance", "/api/v3/create/proc/service_instance", api_create_service_instance },
	{ "create_process_instance", "/api/v3/create/proc/process_instance", api_create_process_instance },
	{ "list_process_instance", "/api/v3/findmany/proc/process_instance", api_list_process_instance },
	{ "create_service_template", "/api/v3/create/proc/service_template", api_create_service_template },
	{ "batch_create_proc_template", "/api/v3/createmany/proc/proc_template", api_batch_create_proc_template },
	{ "list_proc_template", "/api/v3/findmany/proc/proc_template", api_list_proc_template },
	{ "upsert_hosts", "/api/v3/procsvc/upsert_hosts", api_upsert_hosts },
	{ "upsert_modules", "/api/v3/procsvc/upsert_modules", api_upsert_modules },
	{ "set_module_hosts", "/api/v3/procsvc/set_module_hosts", api_set_module_hosts },
};

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
router_find(const char *path)
{
	size_t len = strlen(path);
	bool esb = strncmp(path, ESB_PREFIX, sizeof(ESB_PREFIX) - 1) == 0;
	const char *name = path + sizeof(ESB_PREFIX) - 1;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (esb && same_path(name, len - (size_t)(name - path), routes[i].name))
			return &routes[i];
		if (!esb && same_path(path, len, routes[i].native))
			return &routes[i];
	}
	return NULL;
}
