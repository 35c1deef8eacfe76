#include "db/ids.h"

#include <stdio.h>
#include <stdlib.h>

#include "db/pq.h"

static const struct pq_stmt next_ids_stmt = {
	"next_ids",
	"SELECT nextval(pg_get_serial_sequence($1, $2)) FROM generate_series(1, $3::int)",
	false,
};

static int
id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int
db_next_ids(struct db *db, const char *table, const char *column, size_t n,
    int64_t *ids_out, struct err *e)
{
	char count[24];
	const char *params[] = { table, column, count };
	PGresult *r;

	snprintf(count, sizeof(count), "%zu", n);
	r = pq_exec(db, &next_ids_stmt, 3, params, e);
	if (r == NULL)
		return -1;
	if ((size_t)PQntuples(r) != n) {
		PQclear(r);
		err_server(e, "database returned too few ids");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		ids_out[i] = pq_int(r, (int)i, 0);
	PQclear(r);
	/* Ascending ids in input order, whatever order the rows came in. */
	qsort(ids_out, n, sizeof(*ids_out), id_cmp);
	return 0;
}
