/*
 * mutant: reads the mutant list (tests/mutants.txt, format in its header
 * and in tests/README.md) and applies its mutants, for scripts/mutate.sh
 * (make mutate) and for the drift check of make test.
 *
 *   mutant check LIST [ROOT]    every mutant applies to the tree at ROOT
 *                               (default .): each hunk's old text occurs
 *                               exactly once, each test it names exists
 *   mutant list LIST            one line per mutant, tab-separated: id,
 *                               kind, tests ("-": none named), what it does
 *   mutant apply LIST ID ROOT   applies mutant ID to the files under ROOT,
 *                               printing each file it changed
 *
 * A hunk is located by its text, never by line numbers, so the list
 * survives edits elsewhere in a file; a hunk whose old text is missing or
 * ambiguous is STALE, and check and apply fail loudly on it rather than
 * run a mutant that no longer means what it says.
 *
 * Exit status: 0, 1 on a stale or malformed list, 2 on usage errors. A
 * test tool: out of memory aborts.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The kinds of mutant issue 9 asks for; list and check count by them. */
static const char *const kinds[] = { "constraint", "row", "limit", "swap" };
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* Growable text; p is NUL-terminated whenever it is not NULL. */
struct text {
	char *p;
	size_t len, cap;
};

/* One edit: old must occur exactly once in file, at the start of a line. */
struct hunk {
	char *file;        /* relative to the tree's root */
	struct text old, new;
	int line;          /* of its "@" line in the list */
};

struct mutant {
	char *id, *kind, *what;
	char *tests;       /* space-separated; NULL: none named */
	struct hunk *hunks;
	size_t nhunks;
	int line;          /* of its "===" line */
};

struct list {
	const char *path;
	struct mutant *m;
	size_t n;
};

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL) {
		fputs("mutant: out of memory\n", stderr);
		abort();
	}
	return p;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *d = xrealloc(NULL, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static void
text_add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->p = xrealloc(t->p, t->cap);
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

/* The whole file at path into t (caller frees t->p); false with errno set. */
static bool
read_file(const char *path, struct text *t)
{
	char buf[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	memset(t, 0, sizeof(*t));
	if (f == NULL)
		return false;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		text_add(t, buf, n);
	text_add(t, "", 0);
	if (ferror(f)) {
		fclose(f);
		free(t->p);
		return false;
	}
	fclose(f);
	return true;
}

static bool
write_file(const char *path, const struct text *t)
{
	FILE *f = fopen(path, "wb");
	bool ok;

	if (f == NULL)
		return false;
	ok = fwrite(t->p, 1, t->len, f) == t->len;
	return fclose(f) == 0 && ok;
}

static int parse_error(const struct list *l, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
parse_error(const struct list *l, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", l->path, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static bool
kind_known(const char *k)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (strcmp(k, kinds[i]) == 0)
			return true;
	return false;
}

/* "=== ID (KIND) WHAT" into a new mutant. */
static int
start_mutant(struct list *l, const char *s, int line)
{
	struct mutant *m;
	const char *id = s + 3, *open, *close;

	while (*id == ' ')
		id++;
	open = strstr(id, " (");
	close = open != NULL ? strchr(open, ')') : NULL;
	if (open == NULL || close == NULL || open == id)
		return parse_error(l, line, "expected \"=== ID (KIND) WHAT\"");
	l->m = xrealloc(l->m, (l->n + 1) * sizeof(*l->m));
	m = &l->m[l->n++];
	memset(m, 0, sizeof(*m));
	m->id = xstrndup(id, (size_t)(open - id));
	m->kind = xstrndup(open + 2, (size_t)(close - open - 2));
	m->what = xstrndup(close + 1 + (close[1] == ' '), strlen(close + 1 + (close[1] == ' ')));
	m->line = line;
	if (strchr(m->id, ' ') != NULL || strchr(m->id, '\t') != NULL)
		return parse_error(l, line, "a mutant id has no blanks: \"%s\"", m->id);
	if (!kind_known(m->kind))
		return parse_error(l, line, "unknown kind \"%s\" (constraint, row, limit, swap)", m->kind);
	for (size_t i = 0; i + 1 < l->n; i++)
		if (strcmp(l->m[i].id, m->id) == 0)
			return parse_error(l, line, "mutant %s is also at line %d", m->id, l->m[i].line);
	return 0;
}

/* Whether mutant m (just finished) is complete. */
static int
finish_mutant(const struct list *l, const struct mutant *m)
{
	if (m == NULL)
		return 0;
	if (m->nhunks == 0)
		return parse_error(l, m->line, "mutant %s has no \"@ FILE\" hunk", m->id);
	for (size_t i = 0; i < m->nhunks; i++) {
		const struct hunk *h = &m->hunks[i];
		if (h->old.len == 0)
			return parse_error(l, h->line, "mutant %s: a hunk without old (\"-\" or \" \") lines", m->id);
		if (h->new.len == h->old.len && memcmp(h->new.p, h->old.p, h->old.len) == 0)
			return parse_error(l, h->line, "mutant %s: a hunk that changes nothing", m->id);
	}
	return 0;
}

/*
 * Parses the list. Lines: "#..." comment, "=== ID (KIND) WHAT", "tests:
 * NAMES", "@ FILE" then hunk lines (" " context, "-" old, "+" new) up to
 * the first line that is none of those. An empty line inside a hunk is an
 * empty context line (editors strip the blank that would mark it); empty
 * lines at its end only separate it from what follows.
 */
static int
parse(struct list *l)
{
	struct text src;
	struct mutant *m = NULL;
	struct hunk *h = NULL;
	char *s, *next;
	int line = 0, rc = 0, blanks = 0;

	if (!read_file(l->path, &src)) {
		fprintf(stderr, "mutant: %s: %s\n", l->path, strerror(errno));
		return -1;
	}
	for (s = src.p; rc == 0 && s != NULL && *s != '\0'; s = next) {
		next = strchr(s, '\n');
		if (next != NULL)
			*next++ = '\0';
		line++;
		if (h != NULL && s[0] == '\0') {
			blanks++; /* context, if more of the hunk follows */
			continue;
		}
		if (h != NULL && (s[0] == ' ' || s[0] == '-' || s[0] == '+')) {
			for (; blanks > 0; blanks--) {
				text_add(&h->old, "\n", 1);
				text_add(&h->new, "\n", 1);
			}
			if (s[0] != '+') {
				text_add(&h->old, s + 1, strlen(s + 1));
				text_add(&h->old, "\n", 1);
			}
			if (s[0] != '-') {
				text_add(&h->new, s + 1, strlen(s + 1));
				text_add(&h->new, "\n", 1);
			}
			continue;
		}
		h = NULL;
		blanks = 0;
		if (s[0] == '\0' || s[0] == '#')
			continue;
		if (strncmp(s, "===", 3) == 0) {
			rc = finish_mutant(l, m);
			if (rc == 0)
				rc = start_mutant(l, s, line);
			m = rc == 0 ? &l->m[l->n - 1] : NULL;
		} else if (m == NULL) {
			rc = parse_error(l, line, "expected \"=== ID (KIND) WHAT\" first");
		} else if (strncmp(s, "tests:", 6) == 0) {
			const char *t = s + 6 + strspn(s + 6, " \t");
			if (m->tests != NULL || *t == '\0')
				rc = parse_error(l, line, "one \"tests:\" line with at least one name");
			else
				m->tests = xstrndup(t, strlen(t));
		} else if (strncmp(s, "@ ", 2) == 0 && s[2] != '\0') {
			m->hunks = xrealloc(m->hunks, (m->nhunks + 1) * sizeof(*m->hunks));
			h = &m->hunks[m->nhunks++];
			memset(h, 0, sizeof(*h));
			h->file = xstrndup(s + 2, strlen(s + 2));
			h->line = line;
		} else {
			rc = parse_error(l, line, "not a list line (after a hunk, write a blank line)");
		}
	}
	if (rc == 0)
		rc = finish_mutant(l, m);
	free(src.p);
	return rc;
}

/* Where old occurs in t at the start of a line; *count how often. */
static const char *
locate(const struct text *t, const struct text *old, int *count)
{
	const char *first = NULL;

	*count = 0;
	for (const char *p = t->p; (p = strstr(p, old->p)) != NULL; p++) {
		if (p != t->p && p[-1] != '\n')
			continue;
		if ((*count)++ == 0)
			first = p;
	}
	return first;
}

/* t with [at, at + old_len) replaced by rep. */
static void
splice(struct text *t, const char *at, size_t old_len, const struct text *rep)
{
	struct text out = { 0 };
	size_t off = (size_t)(at - t->p);

	text_add(&out, t->p, off);
	text_add(&out, rep->p, rep->len);
	text_add(&out, t->p + off + old_len, t->len - off - old_len);
	free(t->p);
	*t = out;
}

/* The files a mutant changes, each with its text as the hunks leave it. */
struct edited {
	char *path;
	struct text t;
};

static void
edited_free(struct edited *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].path);
		free(f[i].t.p);
	}
	free(f);
}

/*
 * Applies m's hunks in order to copies of the files under root (a later
 * hunk sees what earlier ones did). 0 with *out (caller frees with
 * edited_free), or -1 after saying why on stderr.
 */
static int
apply_in_memory(const struct list *l, const struct mutant *m, const char *root,
    struct edited **out, size_t *nout)
{
	struct edited *f = NULL;
	size_t nf = 0;

	for (size_t i = 0; i < m->nhunks; i++) {
		const struct hunk *h = &m->hunks[i];
		struct edited *e = NULL;
		const char *at;
		int count;

		for (size_t k = 0; k < nf && e == NULL; k++)
			if (strcmp(f[k].path, h->file) == 0)
				e = &f[k];
		if (e == NULL) {
			size_t len = strlen(root) + strlen(h->file) + 2;
			f = xrealloc(f, (nf + 1) * sizeof(*f));
			e = &f[nf++];
			e->path = xrealloc(NULL, len);
			snprintf(e->path, len, "%s/%s", root, h->file);
			if (!read_file(e->path, &e->t)) {
				fprintf(stderr, "STALE %s (%s:%d): %s: %s\n", m->id, l->path, h->line,
				    e->path, strerror(errno));
				e->t.p = NULL;
				goto fail;
			}
			free(e->path);
			e->path = xstrndup(h->file, strlen(h->file));
		}
		at = locate(&e->t, &h->old, &count);
		if (count != 1) {
			fprintf(stderr, "STALE %s (%s:%d): the old text of the hunk on %s occurs %d times, not once:\n%s",
			    m->id, l->path, h->line, h->file, count, h->old.p);
			goto fail;
		}
		splice(&e->t, at, h->old.len, &h->new);
	}
	*out = f;
	*nout = nf;
	return 0;
fail:
	edited_free(f, nf);
	return -1;
}

/* Whether each name in m->tests is a case file of root or a group. */
static bool
tests_exist(const struct list *l, const struct mutant *m, const char *root)
{
	static const char *const groups[] = { "unit", "explain", "cases" };
	char *names, *save = NULL, path[4096];
	bool ok = true;

	if (m->tests == NULL)
		return true;
	names = xstrndup(m->tests, strlen(m->tests));
	for (char *t = strtok_r(names, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save)) {
		struct stat st;
		bool group = false;
		for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
			group |= strcmp(t, groups[g]) == 0;
		snprintf(path, sizeof(path), "%s/tests/cases/%s.json", root, t);
		if (!group && stat(path, &st) != 0) {
			fprintf(stderr, "STALE %s (%s:%d): test %s: no %s\n", m->id, l->path,
			    m->line, t, path);
			ok = false;
		}
	}
	free(names);
	return ok;
}

static int
cmd_check(const struct list *l, const char *root)
{
	size_t bad = 0, count[NKINDS] = { 0 };

	for (size_t i = 0; i < l->n; i++) {
		const struct mutant *m = &l->m[i];
		struct edited *f;
		size_t nf;

		if (apply_in_memory(l, m, root, &f, &nf) != 0 || !tests_exist(l, m, root)) {
			bad++;
			continue;
		}
		edited_free(f, nf);
		for (size_t k = 0; k < NKINDS; k++)
			count[k] += strcmp(m->kind, kinds[k]) == 0;
	}
	if (bad > 0) {
		fprintf(stderr, "mutant: %zu of %zu mutants in %s do not apply to %s (above)\n",
		    bad, l->n, l->path, root);
		return 1;
	}
	printf("%zu mutants apply cleanly:", l->n);
	for (size_t k = 0; k < NKINDS; k++)
		printf(" %zu %s%s", count[k], kinds[k], k + 1 < NKINDS ? "," : "\n");
	return 0;
}

static int
cmd_list(const struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		printf("%s\t%s\t%s\t%s\n", l->m[i].id, l->m[i].kind,
		    l->m[i].tests != NULL ? l->m[i].tests : "-", l->m[i].what);
	return 0;
}

static int
cmd_apply(const struct list *l, const char *id, const char *root)
{
	const struct mutant *m = NULL;
	struct edited *f;
	size_t nf;
	char path[4096];
	int rc = 0;

	for (size_t i = 0; i < l->n && m == NULL; i++)
		if (strcmp(l->m[i].id, id) == 0)
			m = &l->m[i];
	if (m == NULL) {
		fprintf(stderr, "mutant: no mutant %s in %s\n", id, l->path);
		return 1;
	}
	if (apply_in_memory(l, m, root, &f, &nf) != 0)
		return 1;
	for (size_t k = 0; k < nf && rc == 0; k++) {
		snprintf(path, sizeof(path), "%s/%s", root, f[k].path);
		if (!write_file(path, &f[k].t)) {
			fprintf(stderr, "mutant: %s: %s\n", path, strerror(errno));
			rc = 1;
		} else {
			printf("%s\n", f[k].path);
		}
	}
	edited_free(f, nf);
	return rc;
}

static void
list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct mutant *m = &l->m[i];
		for (size_t k = 0; k < m->nhunks; k++) {
			free(m->hunks[k].file);
			free(m->hunks[k].old.p);
			free(m->hunks[k].new.p);
		}
		free(m->hunks);
		free(m->id);
		free(m->kind);
		free(m->what);
		free(m->tests);
	}
	free(l->m);
}

int
main(int argc, char **argv)
{
	struct list l = { 0 };
	int rc;

	if (argc < 3 || (strcmp(argv[1], "check") == 0 && argc > 4) ||
	    (strcmp(argv[1], "list") == 0 && argc != 3) ||
	    (strcmp(argv[1], "apply") == 0 && argc != 5)) {
		fprintf(stderr, "usage: mutant check LIST [ROOT] | list LIST | apply LIST ID ROOT\n");
		return 2;
	}
	l.path = argv[2];
	if (parse(&l) != 0) {
		list_free(&l);
		return 1;
	}
	if (strcmp(argv[1], "check") == 0)
		rc = cmd_check(&l, argc == 4 ? argv[3] : ".");
	else if (strcmp(argv[1], "list") == 0)
		rc = cmd_list(&l);
	else if (strcmp(argv[1], "apply") == 0)
		rc = cmd_apply(&l, argv[3], argv[4]);
	else {
		fprintf(stderr, "mutant: unknown command %s\n", argv[1]);
		rc = 2;
	}
	list_free(&l);
	return rc;
}
