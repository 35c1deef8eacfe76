/*
 * libFuzzer target: api/jtree against Jansson's parser. On any bytes
 * jtree_load must not crash; on a text jscan accepts (what the server hands
 * it), a tree it builds must be the one json_loadb(JSON_ALLOW_NUL) builds:
 * equal, and dumped the same (types and key order). A difference aborts.
 *
 *   make fuzz [FUZZ_SECONDS=60]
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/jtree.h"
#include "common/jscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same_tree(json_t *a, json_t *b)
{
	char *da = json_dumps(a, JSON_ENCODE_ANY), *db = json_dumps(b, JSON_ENCODE_ANY);
	bool same = json_equal(a, b) && da != NULL && db != NULL && strcmp(da, db) == 0;

	free(da);
	free(db);
	return same;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	json_t *got = NULL, *want;
	json_error_t je;
	struct jscan s;
	bool valid;
	int rc;

	if (jscan_run(text, size, 64, 0, &s) != 0)
		return 0;
	valid = s.status == JSCAN_OK;
	jscan_free(&s);
	rc = jtree_load(text, size, &got);
	if (valid) {
		want = json_loadb(text, size, JSON_ALLOW_NUL, &je);
		if (rc == 0 && (want == NULL || !same_tree(got, want)))
			abort();
		json_decref(want);
	}
	json_decref(got);
	return 0;
}
