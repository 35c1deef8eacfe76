#!/usr/bin/env bash
# make run: migrate and serve procsvc. Without DATABASE_URL it starts (and on
# the first run creates) a local PostgreSQL 15 cluster in ./.data (or, when
# the postgres user cannot reach this folder, in /var/tmp/procsvc-<hash>),
# listening on a Unix socket there and on 127.0.0.1:$PROCSVC_PG_PORT
# (default 54329). `make stop-db` stops that cluster.
#
#   scripts/run.sh [--db-only]   --db-only: set up and migrate, do not serve
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg.sh
. scripts/pg.sh

# postgresql://user:***@host/db: the banner never shows a password.
redact() {
	sed -E 's#(://[^:/@]*:)[^@]*@#\1***@#; s#(password[[:space:]]*=[[:space:]]*)('"'"'[^'"'"']*'"'"'|[^[:space:]&]*)#\1***#g' <<<"$1"
}

if [ -z "${DATABASE_URL:-}" ]; then
	port=${PROCSVC_PG_PORT:-54329}
	dir=$(pg_local_dir "$PWD")
	pg_cluster_start "$dir" "$port"
	DATABASE_URL=$(pg_cluster_url "$dir" "$port")
	export DATABASE_URL
fi

build/procsvc migrate up
if [ "${1:-}" = --db-only ]; then
	echo "procsvc: database ready: $(redact "$DATABASE_URL")"
	exit 0
fi

# The seed documents' own credentials, so their examples work as written.
# Set PROCSVC_APPS for anything but a local trial.
export PROCSVC_APPS=${PROCSVC_APPS:-esb_test:xxx}
export PROCSVC_LISTEN=${PROCSVC_LISTEN:-127.0.0.1:8080}
app=${PROCSVC_APPS%%,*}

# Another server on the address would answer the probe below for ours.
if build/procsvc probe --live --timeout 1 >/dev/null 2>&1; then
	echo "procsvc: something already answers on $PROCSVC_LISTEN (another make run?); set PROCSVC_LISTEN" >&2
	exit 1
fi
# The banner comes once the server listens, never before a failed start.
# A background job of a script ignores SIGINT, so Ctrl-C is passed on.
build/procsvc serve &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' INT TERM
for ((i = 0; i < 100; i++)); do
	if build/procsvc probe --live --timeout 1 >/dev/null 2>&1; then
		cat <<EOT
procsvc: serving http://$PROCSVC_LISTEN  (database: $(redact "$DATABASE_URL"))
try:
  curl -s http://$PROCSVC_LISTEN/healthz
  curl -s -X POST http://$PROCSVC_LISTEN/api/v3/procsvc/upsert_hosts \\
    -d '{"bk_app_code":"${app%%:*}","bk_app_secret":"${app#*:}","bk_username":"admin","hosts":[{"bk_host_id":1,"bk_host_innerip":"10.0.0.1"}]}'
stop with Ctrl-C; \`make stop-db\` stops the local database.
EOT
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
rc=0
# wait returns early when a trapped signal arrives: wait again until the
# server has exited, and exit with its status.
while :; do
	wait "$pid" && rc=0 || rc=$?
	kill -0 "$pid" 2>/dev/null || break
done
exit "$rc"
