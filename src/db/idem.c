#include "db/idem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pq.h"

/*
 * ON CONFLICT DO UPDATE rather than DO NOTHING: an expired row is taken
 * over in the same statement (no purge needs to have run), and a live one
 * is locked without being changed, so it stays put until the caller has
 * read it. RETURNING gives a row only when the key became ours.
 */
static const struct pq_stmt claim_stmt = {
	"idem_claim",
	"INSERT INTO idempotency_key AS k (bk_supplier_account, bk_app_code,"
	"  idempotency_key, api, request_sha256, expire_time)"
	" VALUES ($1::text, $2::text, $3::text, $4::text, $5::bytea,"
	"  now() + $6::bigint * interval '1 second')"
	" ON CONFLICT (bk_supplier_account, bk_app_code, idempotency_key) DO UPDATE SET"
	"  api = EXCLUDED.api, request_sha256 = EXCLUDED.request_sha256, answer = NULL,"
	"  create_time = now(), expire_time = EXCLUDED.expire_time"
	"  WHERE k.expire_time <= now()"
	" RETURNING true",
	false,
};

/* now() is the transaction's: the claim and this read judge expiry alike. */
static const struct pq_stmt get_stmt = {
	"idem_get",
	"SELECT api, api = $4::text AND request_sha256 = $5::bytea, answer"
	" FROM idempotency_key"
	" WHERE bk_supplier_account = $1 AND bk_app_code = $2 AND idempotency_key = $3"
	"  AND expire_time > now()",
	true,
};

static const struct pq_stmt answer_stmt = {
	"idem_answer",
	"UPDATE idempotency_key SET answer = $4::text"
	" WHERE bk_supplier_account = $1 AND bk_app_code = $2 AND idempotency_key = $3",
	false,
};

/* Small batches keep each purge transaction short: a claim that wants an
 * expired row the purge has locked waits for at most one batch. */
static const struct pq_stmt purge_stmt = {
	"idem_purge",
	"DELETE FROM idempotency_key WHERE ctid = ANY (ARRAY("
	"  SELECT ctid FROM idempotency_key WHERE expire_time <= now()"
	"  ORDER BY expire_time LIMIT $1::int FOR UPDATE SKIP LOCKED))",
	false,
};

/* "\x" and the hex digits of the hash: bytea's text input. */
static void
hex_sha256(const unsigned char *h, char out[3 + 2 * DB_IDEM_SHA256])
{
	static const char digits[] = "0123456789abcdef";

	out[0] = '\\';
	out[1] = 'x';
	for (size_t i = 0; i < DB_IDEM_SHA256; i++) {
		out[2 + 2 * i] = digits[h[i] >> 4];
		out[3 + 2 * i] = digits[h[i] & 15];
	}
	out[2 + 2 * DB_IDEM_SHA256] = '\0';
}

int
db_idem_claim(struct db *db, const struct db_idem_key *k, long ttl_s,
    bool *claimed, struct err *e)
{
	char sha[3 + 2 * DB_IDEM_SHA256], ttl[24];
	const char *params[] = { k->tenant, k->app, k->key, k->api, sha, ttl };
	PGresult *r;

	hex_sha256(k->sha256, sha);
	pq_fmt_id(ttl, sizeof(ttl), ttl_s);
	r = pq_exec(db, &claim_stmt, 6, params, e);
	if (r == NULL)
		return -1;
	*claimed = PQntuples(r) == 1;
	PQclear(r);
	return 0;
}

int
db_idem_get(struct db *db, const struct db_idem_key *k, struct db_idem_row *out,
    struct err *e)
{
	char sha[3 + 2 * DB_IDEM_SHA256];
	const char *params[] = { k->tenant, k->app, k->key, k->api, sha };
	PGresult *r;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	hex_sha256(k->sha256, sha);
	r = pq_exec(db, &get_stmt, 5, params, e);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		out->found = true;
		snprintf(out->api, sizeof(out->api), "%s", PQgetvalue(r, 0, 0));
		out->same = pq_bool(r, 0, 1);
		if (!PQgetisnull(r, 0, 2)) {
			out->answer_len = (size_t)PQgetlength(r, 0, 2);
			out->answer = malloc(out->answer_len + 1);
			if (out->answer == NULL)
				rc = err_oom(e);
			else
				memcpy(out->answer, PQgetvalue(r, 0, 2), out->answer_len + 1);
		}
	}
	PQclear(r);
	return rc;
}

int
db_idem_answer(struct db *db, const struct db_idem_key *k, const char *answer,
    size_t len, struct err *e)
{
	const char *params[] = { k->tenant, k->app, k->key, answer };
	PGresult *r;
	bool one;

	/* A text parameter ends at its first NUL: one inside would cut the
	 * answer short (JSON text has none). */
	if (strlen(answer) != len) {
		err_server(e, "an answer to store holds a NUL byte");
		return -1;
	}
	r = pq_exec(db, &answer_stmt, 4, params, e);
	if (r == NULL)
		return -1;
	one = strcmp(PQcmdTuples(r), "1") == 0;
	PQclear(r);
	if (!one) {
		err_server(e, "the idempotency key's row is gone from its own transaction");
		return -1;
	}
	return 0;
}

int
db_idem_purge(struct db *db, int limit, int *deleted, struct err *e)
{
	char n[24];
	const char *params[] = { n };
	PGresult *r;

	pq_fmt_id(n, sizeof(n), limit);
	r = pq_exec(db, &purge_stmt, 1, params, e);
	if (r == NULL)
		return -1;
	*deleted = atoi(PQcmdTuples(r));
	PQclear(r);
	return 0;
}
