/*
 * libFuzzer target: any byte string as a request body, through everything
 * procsvc does to a body before the database sees it: the JSON checks of
 * api_parse_body, then the process codec on process_info / spec / each
 * processes[] entry, the first-error walk and both encoders. A crash, a
 * sanitizer report or a leak here is a bug a client could trigger.
 *
 *   make fuzz [FUZZ_SECONDS=60]
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "api/api.h"
#include "api/procjson.h"

static void
exercise_process(json_t *item)
{
	struct proc_values v = { 0 };
	struct err e = { 0 };

	if (procjson_decode_member(item, "processes[0]", &v, &e) == 0) {
		json_decref(procjson_encode(&v));
		(void)proc_values_first_error(&v, NULL, NULL);
	}
	proc_values_clear(&v);
}

static void
exercise_template(json_t *spec)
{
	struct proc_values v = { 0 };
	struct err e = { 0 };
	bool locked[PROC_ATTR_COUNT] = { false };
	bool (*rows)[BIND_KEY_COUNT] = NULL;

	if (procjson_decode_template(spec, "processes[0].spec", &v, locked, &rows, &e) == 0)
		json_decref(procjson_encode_template(&v, locked,
		    (const bool (*)[BIND_KEY_COUNT])rows));
	free(rows);
	proc_values_clear(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = { 0 };
	json_t *body = NULL, *list, *item;
	size_t i;

	if (api_parse_body((const char *)data, size, &body, &e) != 0)
		return 0;
	exercise_process(body);
	exercise_template(json_object_get(body, "spec"));
	list = json_object_get(body, "processes");
	json_array_foreach(list, i, item) {
		if (json_is_object(item)) {
			exercise_process(item);
			exercise_template(json_object_get(item, "spec"));
		}
	}
	json_decref(body);
	return 0;
}
