#!/usr/bin/env bash
#
# soak.sh: `make soak`. A throwaway PostgreSQL, the sanitizer build of the
# server with the default settings, and build/test_soak sending seeded
# random requests for SOAK_SECONDS. Fails on a crash, a sanitizer report, an
# answer 5xx other than 503, a probe not answered in 2 s, or a server that
# does not stop cleanly. Prints the seed either way; SOAK_SEED=N replays.
#
#   SOAK_SECONDS (60), SOAK_SEED (random), SOAK_THREADS (4),
#   PROCSVC_BIN (build/procsvc-asan), SOAK_BIN (build/test_soak)

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || exit 1
cd "$ROOT" || exit 1
# shellcheck source-path=SCRIPTDIR source=pg.sh disable=SC1091
. "$ROOT/scripts/pg.sh"

SERVER_BIN=${PROCSVC_BIN:-build/procsvc-asan}
SOAK_BIN=${SOAK_BIN:-build/test_soak}
SECONDS_WANTED=${SOAK_SECONDS:-60}
SEED=${SOAK_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
THREADS=${SOAK_THREADS:-4}
SANITIZER_RE='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:'

tmp=
server_pid=

cleanup() {
	if [ -n "$server_pid" ]; then
		kill -KILL "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	if [ -n "$tmp" ]; then
		pg_cluster_stop "$tmp" >/dev/null 2>&1
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf 'soak: %s\n' "$*"; }

main() {
	local db_port port db_url log rc status deadline verdict=0
	tmp=$(mktemp -d) || exit 1
	log=$tmp/server.log
	db_port=$(free_port) || exit 1
	pg_cluster_start "$tmp" "$db_port" >/dev/null || { say "PostgreSQL did not start"; exit 1; }
	db_url=$(pg_cluster_url "$tmp" "$db_port")
	DATABASE_URL=$db_url "$SERVER_BIN" migrate up >"$tmp/migrate.log" 2>&1 ||
		{ cat "$tmp/migrate.log"; exit 1; }
	port=$(free_port) || exit 1
	env DATABASE_URL="$db_url" PROCSVC_LISTEN="127.0.0.1:$port" PROCSVC_APPS=esb_test:xxx \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=0 \
		"$SERVER_BIN" serve >"$log" 2>&1 &
	server_pid=$!
	deadline=$((SECONDS + 30))
	until curl -fsS --noproxy '*' --max-time 2 -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; do
		if ! kill -0 "$server_pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
			say "the server did not start"
			cat "$log"
			exit 1
		fi
		sleep 0.1
	done
	say "seed $SEED, $SECONDS_WANTED s, $THREADS threads, server pid $server_pid on port $port"
	env PROCSVC_PORT="$port" PROCSVC_PID="$server_pid" SOAK_SEED="$SEED" \
		SOAK_SECONDS="$SECONDS_WANTED" SOAK_THREADS="$THREADS" SOAK_OUT=build/soak-last \
		"$SOAK_BIN"
	rc=$?
	[ "$rc" -eq 0 ] || verdict=1
	if ! kill -0 "$server_pid" 2>/dev/null; then
		wait "$server_pid"
		say "the server died (status $?)"
		verdict=1
		server_pid=
	else
		kill -TERM "$server_pid"
		deadline=$((SECONDS + 30))
		while kill -0 "$server_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
			sleep 0.1
		done
		if kill -0 "$server_pid" 2>/dev/null; then
			say "the server was still running 30 s after SIGTERM"
			verdict=1
		else
			wait "$server_pid"
			status=$?
			server_pid=
			if [ "$status" -ne 0 ]; then
				say "the server exited with status $status"
				verdict=1
			fi
		fi
	fi
	cp "$log" build/soak-server.log 2>/dev/null
	if grep -qE "$SANITIZER_RE" "$log"; then
		grep -h -B 5 -A 40 -E "$SANITIZER_RE" "$log" | head -n 120
		say "sanitizer reports in the server log (above; all of it in build/soak-server.log)"
		verdict=1
	fi
	if [ "$verdict" -eq 0 ]; then
		say "PASSED (seed $SEED, $SECONDS_WANTED s)"
	else
		say "FAILED (seed $SEED): replay with SOAK_SEED=$SEED SOAK_THREADS=$THREADS make soak"
	fi
	return "$verdict"
}

main "$@"
