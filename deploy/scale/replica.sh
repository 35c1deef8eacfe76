#!/bin/sh
# The scale profile's streaming replica (docker-compose.yml): on an empty
# volume, a base backup of the primary (pg_basebackup -R writes
# standby.signal and primary_conninfo), then PostgreSQL as a hot standby.
# Runs as the postgres user of the postgres image.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	until pg_basebackup -h scale-primary -U replicator -D "$PGDATA.new" -R -X stream -c fast; do
		echo "replica: waiting for the primary" >&2
		rm -rf "$PGDATA.new"
		sleep 2
	done
	rm -rf "$PGDATA"
	mv "$PGDATA.new" "$PGDATA"
	chmod 0700 "$PGDATA"
fi
exec postgres
