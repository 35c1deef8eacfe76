-- Safe retries (X-Idempotency-Key, issue 12): the first answer to a write
-- that carried a key, kept for the key's app and tenant until it expires.
-- A row is inserted (claimed) in the same transaction as the request's
-- writes and holds its answer when that transaction commits, so a retry
-- finds either nothing (the request was not written) or the answer (it
-- was). A concurrent request with the same key waits on the primary key
-- for the first one's commit or rollback.
CREATE TABLE idempotency_key (
    bk_supplier_account text        NOT NULL,
    bk_app_code         text        NOT NULL,
    idempotency_key     text        NOT NULL,
    api                 text        NOT NULL,
    -- SHA-256 of the raw request body: a retry must send the same bytes
    request_sha256      bytea       NOT NULL,
    -- the envelope's data as first sent; NULL only until the claiming
    -- transaction stores it (never visible to others)
    answer              text,
    create_time         timestamptz NOT NULL DEFAULT now(),
    expire_time         timestamptz NOT NULL,
    PRIMARY KEY (bk_supplier_account, bk_app_code, idempotency_key)
);

-- The purge deletes expired keys in small batches, oldest first.
CREATE INDEX idempotency_key_expire_idx ON idempotency_key (expire_time);
