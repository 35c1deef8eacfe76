#!/bin/sh
# The scale profile's primary, on its first start (run by the postgres
# image from /docker-entrypoint-initdb.d): a role for the replica's
# streaming connection, and the session settings procsvc sets itself when
# it connects directly but cannot send through PgBouncer in transaction
# mode (PROCSVC_PREPARE=off): search_path pinned to public, and a 10 s
# statement_timeout.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '$REPLICATION_PASSWORD';
ALTER ROLE "$POSTGRES_USER" IN DATABASE "$POSTGRES_DB" SET search_path = public;
ALTER ROLE "$POSTGRES_USER" IN DATABASE "$POSTGRES_DB" SET statement_timeout = '10s';
SQL
echo "host replication replicator all scram-sha-256" >>"$PGDATA/pg_hba.conf"
