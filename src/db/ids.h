/*
 * db/ids: new ids for the rows a batch is about to insert. Taking them in
 * one query first lets one INSERT write a whole batch and its child rows
 * (which must name their parent's id) with a fixed number of round trips.
 */
#ifndef PROCSVC_DB_IDS_H
#define PROCSVC_DB_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "db/db.h"

/*
 * n new ids (n > 0) from the identity sequence of table.column, ascending,
 * into ids_out, in one round trip. table and column are constants of the
 * caller (they are sent as parameters, never spliced into SQL). 0, or -1
 * with e set. Ids taken by a transaction that later rolls back are not
 * reused (sequences are not transactional).
 */
int db_next_ids(struct db *db, const char *table, const char *column,
    size_t n, int64_t *ids_out, struct err *e) MUST_CHECK;

#endif
