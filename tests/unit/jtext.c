/*
 * jtext: random numbers and byte mutations for the unit tests that compare
 * procsvc's JSON scanning and tree building with Jansson (unit.h).
 */
#include <string.h>

#include "unit.h"

static unsigned long long rng;

void
unit_seed(unsigned long long seed)
{
	rng = seed;
}

unsigned
unit_rnd(unsigned n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rng >> 33) % n);
}

size_t
unit_mutate(char *buf, size_t len, unsigned muts)
{
	for (unsigned m = 0; m < muts && len > 1; m++) {
		size_t at = unit_rnd((unsigned)len);
		switch (unit_rnd(3)) {
		case 0:
			buf[at] = (char)unit_rnd(256);
			break;
		case 1:
			memmove(buf + at, buf + at + 1, len - at - 1);
			len--;
			break;
		default:
			memmove(buf + at + 1, buf + at, len - at);
			buf[at] = "{}[],:\"\\ 0e-.u\x80"[unit_rnd(16)];
			len++;
		}
	}
	return len;
}
