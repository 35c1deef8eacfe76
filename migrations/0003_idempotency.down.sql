DROP INDEX idempotency_key_expire_idx;
DROP TABLE idempotency_key;
