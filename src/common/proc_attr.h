/*
 * proc_attr: the one list of process attributes (api-contract.md §5) and the
 * plain-C value types that carry them through every layer. Decoding
 * (api/procjson), validation (here), SQL (db/procrow) and encoding
 * (api/procjson) all loop over proc_attrs[]; adding an attribute is one row
 * here plus a migration adding its column to tables process and
 * process_template (README, "Adding a process attribute").
 *
 * C library only; any layer may include it.
 */
#ifndef PROCSVC_PROC_ATTR_H
#define PROCSVC_PROC_ATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

enum pa_kind {
	PA_STR,  /* JSON string, trimmed; min/max are byte lengths */
	PA_INT,  /* JSON integer; min/max are the inclusive range */
	PA_BOOL, /* JSON boolean */
	PA_BIND, /* array of bind rows (struct bind_row) or null */
};

enum {
	PA_REQUIRED = 1 << 0,      /* missing, null or blank -> 1199010 */
	PA_ALWAYS_LOCKED = 1 << 1, /* a template always imposes its value */
	PA_ZERO_DEFAULT = 1 << 2,  /* PA_INT: "not set" is 0, not null (listed and stored) */
};

/*
 * Extra syntax a string must obey beyond its length: returns true when s is
 * acceptable, else writes the reason (without the path) into why.
 */
typedef bool (*pa_syntax_fn)(const char *s, char *why, size_t whylen);

struct proc_attr {
	const char *name; /* JSON key, and the SQL column of table process */
	enum pa_kind kind;
	int64_t min, max;
	unsigned flags;
	pa_syntax_fn syntax; /* NULL: no syntax beyond length */
};

/* Index of each attribute in proc_attrs[]; the order is the table's. */
enum pa_index {
	PAI_PROCESS_NAME,
	PAI_FUNC_NAME,
	PAI_FUNC_ID,
	PAI_START_PARAM_REGEX,
	PAI_DESCRIPTION,
	PAI_USER,
	PAI_WORK_PATH,
	PAI_PID_FILE,
	PAI_START_CMD,
	PAI_STOP_CMD,
	PAI_RESTART_CMD,
	PAI_FACE_STOP_CMD,
	PAI_RELOAD_CMD,
	PAI_PROC_NUM,
	PAI_PRIORITY,
	PAI_TIMEOUT,
	PAI_AUTO_TIME_GAP,
	PAI_START_CHECK_SECS,
	PAI_AUTO_START,
	PAI_BIND_INFO,
	PROC_ATTR_COUNT
};

extern const struct proc_attr proc_attrs[PROC_ATTR_COUNT];

/* The keys of one bind_info row, in the order they are checked and stored. */
enum bind_index {
	BKI_ENABLE,
	BKI_IP,
	BKI_PORT,
	BKI_PROTOCOL,
	BKI_TEMPLATE_ROW_ID,
	BIND_KEY_COUNT
};

/* Same shape as proc_attrs[]: kind, range and syntax of each bind key. */
extern const struct proc_attr bind_keys[BIND_KEY_COUNT];

/* Decode state of one value. */
enum pv_state {
	PV_ABSENT = 0, /* key not in the input */
	PV_NULL,       /* explicit null: "not set" */
	PV_SET,        /* a valid value */
	PV_BAD,        /* present but invalid; pval.bad says why */
};

/* One attribute or bind-key value. The strings and bad are owned. */
struct pval {
	enum pv_state state;
	bool b;
	int64_t i;
	char *s;         /* PA_STR: trimmed, NUL-terminated, valid UTF-8 */
	struct err *bad; /* PV_BAD only: code, full path and message */
};

struct bind_row {
	struct pval key[BIND_KEY_COUNT];
	struct err *bad; /* row-level fault: not an object, unknown key, ... */
};

/* The attributes of one process, as given (or stored). Owns everything. */
struct proc_values {
	struct pval attr[PROC_ATTR_COUNT]; /* attr[PAI_BIND_INFO] holds only state */
	struct bind_row *rows;             /* bind_info rows, input order */
	size_t nrows;
};

/* A stored process as list_process_instance returns it (read by db,
 * passed on by the service, encoded by the API). Owns v. */
struct proc_record {
	int64_t id, biz_id, service_instance_id, process_template_id, host_id;
	char tenant[65];
	char create_time[32], last_time[32]; /* RFC 3339, milliseconds, UTC "Z" */
	struct proc_values v;
};

struct proc_record_list {
	struct proc_record *items;
	size_t n;
};

/* Frees the records and empties l. */
void proc_record_list_free(struct proc_record_list *l);

/* A process template, as stored, loaded and listed (db -> service -> api).
 * Owns v and row_locked. */
struct proc_template {
	int64_t id, biz_id, service_template_id;
	struct proc_values v;               /* PV_SET: the template sets it */
	bool locked[PROC_ATTR_COUNT];       /* as_default_value (always for PA_ALWAYS_LOCKED) */
	bool (*row_locked)[BIND_KEY_COUNT]; /* per bind row (v.nrows) and key */
	char creator[129], modifier[129];
	char create_time[32], last_time[32]; /* RFC 3339, milliseconds, UTC "Z" */
};

struct proc_template_list {
	struct proc_template *items; /* ascending id */
	size_t n;
};

/* Frees the templates and empties l. */
void proc_template_list_free(struct proc_template_list *l);

/* The template of l with this id, or NULL. */
const struct proc_template *proc_template_find(const struct proc_template_list *l, int64_t id);

/*
 * The uniqueness keys of a stored process or process template
 * (api-contract.md §5, §4): name, and func + regex ("" when not set).
 * Owns the strings.
 */
struct proc_key {
	int64_t id;
	int64_t parent; /* service instance / service template */
	char *name, *func, *regex;
};

struct proc_key_list {
	struct proc_key *items;
	size_t n;
};

/* Frees what l owns and empties it. */
void proc_key_list_free(struct proc_key_list *l);

/* Frees what v owns and zeroes it (v itself is not freed). NULL-safe. */
void proc_values_clear(struct proc_values *v);
void pval_clear(struct pval *p);

/* Deep copy of src into dst (dst must be clear). -1 on out of memory. */
int proc_values_copy(struct proc_values *dst, const struct proc_values *src)
    MUST_CHECK;
int pval_copy(struct pval *dst, const struct pval *src) MUST_CHECK;

/*
 * Marks p as PV_BAD with code and message at path (the full field path).
 * Frees a string p held. Out of memory still leaves p PV_BAD with a
 * generic error, so a value can never silently turn valid.
 */
void pval_set_bad(struct pval *p, int code, const char *path,
    const char *fmt, ...) ERR_PRINTF(4, 5);

/*
 * Validates an already-typed value against its attribute's rules and turns
 * it PV_BAD when it breaks one: string length / syntax (1199015 / 1199006),
 * integer range (1199006), required (1199010; also for PV_ABSENT / PV_NULL /
 * blank strings). path is the value's full field path.
 */
void pval_check(struct pval *p, const struct proc_attr *a, const char *path);

/*
 * The first error among v's attributes and bind rows, in table order and
 * then row order; NULL when v is valid. When skip is non-NULL, attributes
 * with skip[i] true (and bind keys with skip_bind[k] true) are ignored:
 * templates use it for locked fields.
 */
const struct err *proc_values_first_error(const struct proc_values *v,
    const bool *skip, const bool *skip_bind);

/* Syntax checks of api-contract.md §5 and §10, usable as pa_syntax_fn. */
bool port_syntax_ok(const char *s, char *why, size_t whylen);
bool protocol_syntax_ok(const char *s, char *why, size_t whylen);
bool ip_syntax_ok(const char *s, char *why, size_t whylen);

#endif
