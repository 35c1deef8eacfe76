/*
 * procjson: process attributes between JSON and struct proc_values, driven
 * by proc_attrs[] and bind_keys[] (common/proc_attr.h). Used by every API
 * that takes or returns processes or process templates.
 *
 * Decoding never stops at a bad attribute: each value is typed, trimmed and
 * validated (pval_check) and, when wrong, stored as PV_BAD with its code and
 * full path. The service decides which errors matter (locked template fields
 * do not) and reports the first in contract order.
 */
#ifndef PROCSVC_API_PROCJSON_H
#define PROCSVC_API_PROCJSON_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "common/jbuf.h"
#include "common/proc_attr.h"

/* Bind rows per process (api-contract.md §10 "Array limits"); more is
 * 1199035 at the bind_info path (template: bind_info.value). */
#define PROCJSON_MAX_BIND_ROWS 1000

/*
 * Decodes a process_info object (borrowed; NULL or JSON null = {}) into v
 * (must be zeroed). base is the object's path, e.g.
 * "instances[3].processes[0].process_info"; value paths are base + ".key".
 *   - attributes: wrong JSON type -> PV_BAD 1199011; then pval_check
 *     (required 1199010, too long 1199015, range / syntax 1199006);
 *   - bind_info: null -> PV_NULL; not an array -> PV_BAD 1199011; more than
 *     PROCJSON_MAX_BIND_ROWS rows -> PV_BAD 1199035, no row decoded; each row
 *     decoded into v->rows (row not an object -> row.bad 1199011; unknown key
 *     or row_id != template_row_id -> row.bad 1199006; row_id is an alias of
 *     template_row_id);
 *   - server-owned and unknown keys are ignored (api-contract.md §5).
 * Returns 0, or -1 with e set (503) only when out of memory.
 */
int procjson_decode(json_t *info, const char *base, struct proc_values *v,
    struct err *e) MUST_CHECK;

/*
 * As procjson_decode, for an update (api-contract.md §11.5) whose
 * attributes sit in obj itself: a key obj does not carry stays PV_ABSENT,
 * required ones included (the stored value stays), and is not an error;
 * null is PV_NULL (a required one is then 1199010), values are typed and
 * validated as procjson_decode does.
 */
int procjson_decode_partial(json_t *obj, const char *base,
    struct proc_values *v, struct err *e) MUST_CHECK;

/*
 * Decodes item.process_info (item is an element of processes[] at path
 * base): a process_info that is neither an object nor null is a structural
 * error (1199000, §6 row 1) and returns -1; otherwise as procjson_decode.
 */
int procjson_decode_member(json_t *item, const char *base,
    struct proc_values *v, struct err *e) MUST_CHECK;

/*
 * Decodes a process template's spec object: each attribute as
 * {"value": v, "as_default_value": bool} (api-contract.md §4), bind_info as
 * {"value": [{"row_id": n, "ip": {value, as_default_value}, ...}]}.
 * Values are validated as in procjson_decode, at paths
 * base.<field>.value and base.bind_info.value[i].<key>.value; a property that
 * is not an object, or as_default_value that is not a boolean -> 1199011.
 * locked[i] is set for attributes whose as_default_value is true, and always
 * for PA_ALWAYS_LOCKED ones; row_locked (calloc'ed, v->nrows entries, caller
 * frees) likewise per bind row and key. A row's ip is an IP code "1".."8" or
 * "" (§4), not an address. A row's row_id is optional as in bk-cmdb: rows
 * without one (missing, null or 0) are numbered after the largest given id,
 * in row order; a negative one is 1199006, a repeated one 1199014.
 * 0, or -1 with e set on out of memory.
 */
int procjson_decode_template(json_t *spec, const char *base,
    struct proc_values *v, bool locked[PROC_ATTR_COUNT],
    bool (**row_locked)[BIND_KEY_COUNT], struct err *e) MUST_CHECK;

/*
 * The property object of api-contract.md §8: every attribute of v, unset
 * strings as "", unset integers as null, unset auto_start as false,
 * bind_info as null (PV_NULL / PV_ABSENT) or its rows, each with enable, ip,
 * port, protocol, template_row_id. New reference; NULL on out of memory.
 */
json_t *procjson_encode(const struct proc_values *v);

/*
 * The same object's members ("key":value,...) as text, written into the
 * object b has open: list_process_instance writes its answer without a
 * tree. tests/unit holds the two encodings equal.
 */
void procjson_write(struct jbuf *b, const struct proc_values *v);

/*
 * The template property object of api-contract.md §10 (list_proc_template):
 * every attribute that is set, as {"value": v, "as_default_value": locked},
 * and every locked one that is not set, as {"value": null,
 * "as_default_value": true} (it binds instances to "not set"); bind rows
 * likewise per key, each with its row_id.
 */
json_t *procjson_encode_template(const struct proc_values *v,
    const bool locked[PROC_ATTR_COUNT],
    const bool (*row_locked)[BIND_KEY_COUNT]);

#endif
