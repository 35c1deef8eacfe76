#include "common/jpath.h"

#include <stdio.h>

void
jpath_init(struct jpath *p)
{
	p->buf[0] = '\0';
	p->len = 0;
}

void
jpath_init_at(struct jpath *p, const char *base)
{
	jpath_init(p);
	jpath_key(p, base);
}

/* Appends the formatted piece, truncating at the buffer's end. */
static size_t
jpath_commit(struct jpath *p, size_t mark, int n)
{
	size_t room = sizeof(p->buf) - mark;

	if (n < 0)
		n = 0;
	p->len = mark + ((size_t)n < room ? (size_t)n : room - 1);
	return mark;
}

size_t
jpath_key(struct jpath *p, const char *key)
{
	size_t mark = p->len;

	return jpath_commit(p, mark, snprintf(p->buf + mark,
	    sizeof(p->buf) - mark, mark == 0 ? "%s" : ".%s", key));
}

size_t
jpath_index(struct jpath *p, size_t index)
{
	size_t mark = p->len;

	return jpath_commit(p, mark, snprintf(p->buf + mark,
	    sizeof(p->buf) - mark, "[%zu]", index));
}

void
jpath_pop(struct jpath *p, size_t mark)
{
	if (mark <= p->len) {
		p->len = mark;
		p->buf[mark] = '\0';
	}
}

size_t
jpath_elem(struct jpath *p, const char *key, size_t index)
{
	size_t mark = jpath_key(p, key);

	jpath_index(p, index);
	return mark;
}
