#include "common/jpath.h"

#include <string.h>

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

/*
 * Appends a[0..na) and b[0..nb), truncating at the buffer's end; returns
 * the length before. Paths are built for every field a request decodes,
 * most of them never shown, so this is memcpy rather than snprintf (which
 * was a fifth of a 100-instance create's instructions).
 */
static size_t
append(struct jpath *p, const char *a, size_t na, const char *b, size_t nb)
{
	size_t mark = p->len, room = sizeof(p->buf) - 1 - mark;

	if (na > room)
		na = room;
	memcpy(p->buf + mark, a, na);
	room -= na;
	if (nb > room)
		nb = room;
	memcpy(p->buf + mark + na, b, nb);
	p->len = mark + na + nb;
	p->buf[p->len] = '\0';
	return mark;
}

size_t
jpath_key(struct jpath *p, const char *key)
{
	return append(p, ".", p->len == 0 ? 0 : 1, key, strlen(key));
}

size_t
jpath_index(struct jpath *p, size_t index)
{
	char num[24], *d = num + sizeof(num);

	*--d = ']';
	do
		*--d = (char)('0' + index % 10);
	while ((index /= 10) != 0);
	*--d = '[';
	return append(p, d, (size_t)(num + sizeof(num) - d), "", 0);
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
