#!/usr/bin/env bash
# make run: migrate and serve procsvc. Without DATABASE_URL it starts (and on
# the first run creates) a local PostgreSQL 15 cluster in ./.data, listening
# on a Unix socket there and on 127.0.0.1:$PROCSVC_PG_PORT (default 54329).
# `make stop-db` stops that cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg.sh
. scripts/pg.sh

if [ -z "${DATABASE_URL:-}" ]; then
	port=${PROCSVC_PG_PORT:-54329}
	pg_cluster_start "$PWD/.data" "$port"
	DATABASE_URL=$(pg_cluster_url "$PWD/.data" "$port")
	export DATABASE_URL
fi

build/procsvc migrate up

# The seed documents' own credentials, so their examples work as written.
# Set PROCSVC_APPS for anything but a local trial.
export PROCSVC_APPS=${PROCSVC_APPS:-esb_test:xxx}
export PROCSVC_LISTEN=${PROCSVC_LISTEN:-127.0.0.1:8080}
app=${PROCSVC_APPS%%,*}
cat <<EOT
procsvc: serving http://$PROCSVC_LISTEN  (database: $DATABASE_URL)
try:
  curl -s http://$PROCSVC_LISTEN/healthz
  curl -s -X POST http://$PROCSVC_LISTEN/api/v3/procsvc/upsert_hosts \\
    -d '{"bk_app_code":"${app%%:*}","bk_app_secret":"${app#*:}","bk_username":"admin","hosts":[{"bk_host_id":1,"bk_host_innerip":"10.0.0.1"}]}'
stop with Ctrl-C; \`make stop-db\` stops the local database.
EOT
exec build/procsvc serve
