#!/usr/bin/env bash
#
# test.sh: the test suite `make test` runs once the binaries are built.
#
#   scripts/test.sh [FILTER]
#
# 1. a database: $TEST_DATABASE_URL, or a throwaway cluster in a temp dir
# 2. the mutant list still applies (build/mutant check, for make mutate);
#    unit tests: build/test_unit and build/test_load (cmocka), when built
# 3. migrations: up, dump, down to nothing, up, dump; both dumps must match;
#    the db tests (tests/db), the EXPLAIN test on a million instances among them
# 4. the ASan/UBSan server on a free port, then the HTTP cases in tests/cases
#    (only files whose path contains FILTER / $TEST_FILTER) and the
#    runner's self-test (tests/runner/selftest.json); openapi.yaml against
#    the route table, the bodies the cases sent and GET /openapi.yaml
#    (scripts/test_openapi.sh)
# 5. logs and metrics as operators use them (scripts/test_obs.sh)
# 6. a clean SIGTERM shutdown, and no sanitizer report in any log
# 7. lists on a streaming replica, cases through PgBouncer (scripts/test_scale.sh)
# 8. idempotency keys on servers of their own (scripts/test_idem.sh: key
#    lifetime and purge, SIGTERM under load)
# 9. the hostile group (scripts/hostile.sh; TEST_NO_HOSTILE=1 skips it)
#
# The last line is "N passed, N failed"; the exit status is 1 when anything
# failed or could not run. Everything started here is torn down on exit.
# PROCSVC_BIN, TEST_RUNNER and TEST_UNIT override the binaries' paths, and
# TEST_CASES (paths or globs, space-separated) the case files.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || exit 1
cd "$ROOT" || exit 1
# pg.sh is checked on its own; `shellcheck -x` follows it from here.
# shellcheck source-path=SCRIPTDIR source=pg.sh disable=SC1091
. "$ROOT/scripts/pg.sh"
# shellcheck source-path=SCRIPTDIR source=hostile.sh disable=SC1091
. "$ROOT/scripts/hostile.sh"

# shellcheck source-path=SCRIPTDIR source=test_ops.sh disable=SC1091
. "$ROOT/scripts/test_ops.sh"
# shellcheck source-path=SCRIPTDIR source=test_obs.sh disable=SC1091
. "$ROOT/scripts/test_obs.sh"
# shellcheck source-path=SCRIPTDIR source=test_scale.sh disable=SC1091
. "$ROOT/scripts/test_scale.sh"
# shellcheck source-path=SCRIPTDIR source=test_idem.sh disable=SC1091
. "$ROOT/scripts/test_idem.sh"
# shellcheck source-path=SCRIPTDIR source=test_openapi.sh disable=SC1091
. "$ROOT/scripts/test_openapi.sh"

SERVER_BIN=${PROCSVC_BIN:-build/procsvc-asan}
RUNNER_BIN=${TEST_RUNNER:-build/test_runner}
UNIT_BIN=${TEST_UNIT:-build/test_unit}
FILTER=${1:-${TEST_FILTER:-}}
SANITIZER_ENV=(
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=0
)
SANITIZER_RE='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:'

passed=0
failed=0
tmp=
cluster_dir=
server_pid=
db_url=
db_port=
server_port=

say() { printf '== %s\n' "$*"; }
ok() { passed=$((passed + ${1:-1})); }
bad() { failed=$((failed + ${1:-1})); }

# count_summary OUT: adds the last "N passed, N failed" line of OUT (a
# runner's or a C test binary's output) to the totals and sets
# summary_passed and summary_failed; 1 when OUT has no such line.
count_summary() {
	local line
	summary_passed=
	summary_failed=
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
	[ -n "$line" ] || return 1
	summary_passed=${line%% passed*}
	summary_failed=${line#*, }
	summary_failed=${summary_failed%% failed}
	ok "$summary_passed"
	bad "$summary_failed"
}

# Idempotent: runs once at the end and again from the EXIT trap.
cleanup() {
	scale_cleanup
	if [ -n "$server_pid" ]; then
		kill -KILL "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
		server_pid=
	fi
	if [ -n "$cluster_dir" ]; then
		pg_cluster_stop "$cluster_dir" >/dev/null 2>&1
		cluster_dir=
	fi
	if [ -n "$tmp" ]; then
		rm -rf "$tmp"
		tmp=
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

setup_database() {
	local port
	if [ -n "${TEST_DATABASE_URL:-}" ]; then
		db_url=$TEST_DATABASE_URL
		say "database: $db_url (from TEST_DATABASE_URL)"
		return 0
	fi
	port=$(free_port) || return 1
	cluster_dir=$tmp
	db_port=$port
	pg_cluster_start "$cluster_dir" "$port" || return 1
	db_url=$(pg_cluster_url "$cluster_dir" "$port")
}

# Sums the numbers of every cmocka line "[  PASSED  ] N test(s)." (or FAILED).
cmocka_count() {
	sed -n "s/^\[  $1  \] \([0-9][0-9]*\) test(s).*/\1/p" "$2" |
		awk '{ n += $1 } END { print n + 0 }'
}

# run_cmocka LABEL BINARY [ENV...]: a cmocka binary, its counts added.
run_cmocka() {
	local label=$1 bin=$2 out=$tmp/$1.out rc p f
	shift 2
	if [ ! -x "$bin" ]; then
		say "$label tests: $bin not built, skipped"
		return 0
	fi
	env "$@" timeout "${CMOCKA_TIMEOUT:-120}" "$bin" >"$out" 2>&1
	rc=$?
	p=$(cmocka_count PASSED "$out")
	f=$(cmocka_count FAILED "$out")
	# A crash or a timeout leaves no FAILED line but must not pass.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	if [ "$f" -gt 0 ]; then
		cat "$out"
	fi
	say "$label tests: $p passed, $f failed (exit $rc)"
	ok "$p"
	bad "$f"
}

run_unit() {
	run_cmocka unit "$UNIT_BIN"
}

# Every mutant of tests/mutants.txt still applies to this tree (make
# mutate; tests/README.md): a change that moved or rewrote the text a
# mutant edits fails here, naming the mutant, until the list follows it.
# Needs no database; well under a second. 1 result.
MUTANT_BIN=${MUTANT_BIN:-build/mutant}
mutant_check() {
	local out
	if [ ! -x "$MUTANT_BIN" ]; then
		say "mutants: $MUTANT_BIN not built"
		bad
		return 1
	fi
	if out=$("$MUTANT_BIN" check tests/mutants.txt . 2>&1); then
		say "mutants: $out"
		ok
		return 0
	fi
	printf '%s\n' "$out" | head -n 60
	say "mutants: STALE mutants in tests/mutants.txt (above): the code they edit changed."
	say "  Rewrite each one's hunk to the new text so it breaks the same thing (check with"
	say "  make build/mutant && build/mutant check tests/mutants.txt), or, if what it broke"
	say "  is gone, remove it and say why in a comment; then make mutate MUTANTS=ID."
	bad
	return 1
}

# The case-file compiler of the runner (tests/runner/test_load.c).
run_load_tests() {
	run_cmocka load "${TEST_LOAD:-build/test_load}" "${SANITIZER_ENV[@]}"
}

# The connection layer when the server drops sessions (tests/db). Needs a
# superuser (pg_terminate_backend), which the throwaway cluster has.
run_db_tests() {
	run_cmocka db "${TEST_DB:-build/test_db}" TEST_DATABASE_URL="$db_url" "${SANITIZER_ENV[@]}"
	# The pool under ThreadSanitizer (a data race is a failure).
	run_cmocka db-tsan "${TEST_DB_TSAN:-build/test_db_tsan}" TEST_DATABASE_URL="$db_url" \
		TSAN_OPTIONS=halt_on_error=1:exitcode=66
}

# Contract §11.8 on a million service instances (tests/db/test_explain.c):
# no list shape and no id lookup of the writes plans a Seq Scan. Seeds a
# database of its own next to the test database; needs a superuser (the
# seed runs with session_replication_role = replica). The line it prints
# says how long seeding and the whole test took. TEST_NO_EXPLAIN=1 skips it.
run_explain_tests() {
	local timing
	if [ -n "${TEST_NO_EXPLAIN:-}" ]; then
		say "explain tests: skipped (TEST_NO_EXPLAIN)"
		return 0
	fi
	CMOCKA_TIMEOUT=600 run_cmocka explain "${TEST_EXPLAIN:-build/test_explain}" \
		TEST_DATABASE_URL="$db_url" "${SANITIZER_ENV[@]}"
	timing=$(grep -h '^explain: ' "$tmp/explain.out" 2>/dev/null | tr '\n' ' ')
	[ -z "$timing" ] || say "$timing"
}

# procsvc CLI with the test database; output goes to the migration log.
procsvc_cli() {
	echo "\$ procsvc $*" >>"$tmp/migrate.log"
	env DATABASE_URL="$db_url" "${SANITIZER_ENV[@]}" timeout 60 "$SERVER_BIN" "$@" \
		>>"$tmp/migrate.log" 2>&1
}

# Newer pg_dump releases wrap the dump in \restrict KEY with a random KEY;
# those lines differ on every run and are dropped.
dump_schema() {
	"$(pg_bin)/pg_dump" --schema-only --no-owner -d "$db_url" -f "$1.raw" \
		>>"$tmp/migrate.log" 2>&1 || return 1
	grep -v -E '^\\(un)?restrict ' "$1.raw" >"$1"
}

# Relations other than the migration bookkeeping left in schema public.
leftover_relations() {
	"$(pg_bin)/psql" -X -q -t -A -d "$db_url" -c "SELECT string_agg(c.relname, ', ')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
		  AND c.relname NOT LIKE 'schema_migrations%'" 2>>"$tmp/migrate.log"
}

migration_round_trip() {
	local a=$tmp/schema.up1.sql b=$tmp/schema.up2.sql left
	procsvc_cli migrate up || return 1
	dump_schema "$a" || return 1
	procsvc_cli migrate down 1000 || return 1
	left=$(leftover_relations) || return 1
	if [ -n "$left" ]; then
		echo "migrate down left behind: $left" >>"$tmp/migrate.log"
		return 1
	fi
	procsvc_cli migrate up || return 1
	dump_schema "$b" || return 1
	diff -u "$a" "$b" >>"$tmp/migrate.log" 2>&1
}

migration_status() {
	local before
	before=$(wc -c <"$tmp/migrate.log")
	procsvc_cli migrate status || return 1
	# Besides the "$ procsvc ..." line we logged, status must print something.
	[ "$(wc -c <"$tmp/migrate.log")" -gt $((before + 25)) ]
}

run_migrations() {
	: >"$tmp/migrate.log"
	if [ ! -x "$SERVER_BIN" ]; then
		say "migrations: $SERVER_BIN not built"
		bad 2
		return 1
	fi
	if migration_round_trip; then
		say "migrations: up/down/up round trip ok"
		ok
	else
		cat "$tmp/migrate.log"
		say "migrations: up/down/up round trip FAILED"
		bad
	fi
	if migration_status; then
		say "migrations: status ok"
		ok
	else
		tail -n 20 "$tmp/migrate.log"
		say "migrations: status FAILED"
		bad
	fi
}

# start_server [COMMAND...]: the server (default: the sanitizer build) on a
# free port; its log is $tmp/server.log.
start_server() {
	local deadline=$((SECONDS + 30))
	[ $# -gt 0 ] || set -- "$SERVER_BIN"
	server_port=$(free_port) || return 1
	env DATABASE_URL="$db_url" PROCSVC_LISTEN="127.0.0.1:$server_port" \
		PROCSVC_APPS=esb_test:xxx,other_app:other_secret PROCSVC_THREADS="${SERVER_THREADS:-32}" \
		"${SANITIZER_ENV[@]}" "$@" serve >"$tmp/server.log" 2>&1 &
	server_pid=$!
	while [ "$SECONDS" -lt "$deadline" ]; do
		if curl -fsS --noproxy '*' --max-time 2 -o /dev/null \
			"http://127.0.0.1:$server_port/readyz" 2>/dev/null; then
			say "server: ready on 127.0.0.1:$server_port (pid $server_pid)"
			return 0
		fi
		if ! kill -0 "$server_pid" 2>/dev/null; then
			wait "$server_pid"
			say "server: exited with status $? before it was ready"
			server_pid=
			cat "$tmp/server.log"
			return 1
		fi
		sleep 0.1
	done
	say "server: not ready after 30 s"
	cat "$tmp/server.log"
	return 1
}

# run_cases [BODIES]: the HTTP cases; with BODIES, the request bodies the
# server accepted are written there (test_runner --dump-bodies).
run_cases() {
	local out=$tmp/runner.out rc cases dump=()
	shopt -s nullglob
	# shellcheck disable=SC2206  # TEST_CASES is a list of paths or globs
	cases=(${TEST_CASES:-tests/cases/*.json})
	shopt -u nullglob
	if [ ! -x "$RUNNER_BIN" ] || [ ${#cases[@]} -eq 0 ]; then
		say "http cases: $RUNNER_BIN or tests/cases/*.json missing"
		bad
		return 1
	fi
	[ -z "${1:-}" ] || dump=(--dump-bodies "$1")
	env PROCSVC_URL="http://127.0.0.1:$server_port" TEST_DATABASE_URL="$db_url" \
		PROCSVC_TEST_APP=esb_test PROCSVC_TEST_SECRET=xxx PROCSVC_TEST_USER=admin \
		TEST_FILTER="$FILTER" timeout 300 "$RUNNER_BIN" "${dump[@]}" "${cases[@]}" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if ! count_summary "$out"; then
		say "http cases: runner ended without a summary (exit $rc)"
		bad
		return 1
	fi
	if [ "$rc" -ne 0 ] && [ "$summary_failed" -eq 0 ]; then
		say "http cases: runner exited with $rc"
		bad
	fi
}

# The runner's own checks must be able to fail: every step of
# tests/runner/selftest.json is wrong on purpose and must fail with the
# message it names. 1 result.
runner_selftest() {
	local out=$tmp/selftest.out line
	env PROCSVC_URL="http://127.0.0.1:$server_port" TEST_DATABASE_URL="$db_url" \
		PROCSVC_TEST_APP=esb_test PROCSVC_TEST_SECRET=xxx PROCSVC_TEST_USER=admin \
		TEST_FILTER= timeout 120 "$RUNNER_BIN" --selftest tests/runner/selftest.json >"$out" 2>&1
	line=$(grep -E '^[0-9]+ passed, 0 failed$' "$out")
	if [ -n "$line" ] && [ "${line%% *}" -gt 0 ]; then
		say "runner selftest: ${line%% *} deliberately wrong steps all failed as they should"
		ok
	else
		grep -v '^  ' "$out" | tail -n 20
		say "runner selftest: FAILED (above)"
		bad
	fi
}

# SIGTERM, then 20 s for a clean exit; a kill or a non-zero status fails.
# (bash reaps the child as soon as it exits, so kill -0 fails from then on
# and `wait` still reports its status.)
stop_server() {
	local deadline=$((SECONDS + 20)) status
	[ -n "$server_pid" ] || return 0
	kill -TERM "$server_pid" 2>/dev/null
	while kill -0 "$server_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.1
	done
	if kill -0 "$server_pid" 2>/dev/null; then
		kill -KILL "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
		server_pid=
		say "server: still running 20 s after SIGTERM, killed"
		bad
		return 1
	fi
	wait "$server_pid"
	status=$?
	server_pid=
	if [ "$status" -ne 0 ]; then
		say "server: exited with status $status after SIGTERM"
		tail -n 30 "$tmp/server.log"
		bad
		return 1
	fi
	say "server: stopped cleanly"
	ok
}

check_sanitizers() {
	local logs=()
	[ -s "$tmp/migrate.log" ] && logs+=("$tmp/migrate.log")
	[ -e "$tmp/server.log" ] && logs+=("$tmp/server.log")
	if [ ! -e "$tmp/server.log" ]; then
		say "sanitizers: the server never ran"
		bad
	elif grep -qE "$SANITIZER_RE" "${logs[@]}"; then
		grep -h -A 40 -E "$SANITIZER_RE" "${logs[@]}" | head -n 400
		say "sanitizers: reports found (above)"
		bad
	else
		say "sanitizers: clean"
		ok
	fi
}

# One POST with the test credentials and the fields in $2 (default: a list
# request); prints "HTTP-status envelope-code".
api_status() {
	local body fields=${2:-'"bk_biz_id":1,"service_instance_id":1'}
	body=$(curl -sS --noproxy '*' --max-time 15 -o - -w '\n%{http_code}' -X POST \
		"http://127.0.0.1:$server_port$1" \
		-d "{\"bk_app_code\":\"esb_test\",\"bk_app_secret\":\"xxx\",\"bk_username\":\"admin\",$fields}")
	printf '%s %s\n' "${body##*$'\n'}" "$(sed -n 's/.*"code":\([0-9]*\).*/\1/p' <<<"${body%$'\n'*}")"
}

# The database goes away under a running server: API calls answer 503 /
# 1199999 and /readyz 503 while /healthz stays 200; once it is back, the
# same worker connections recover without a restart. 1 result.
database_outage() {
	local list=/api/v3/findmany/proc/process_instance got i
	[ -n "$cluster_dir" ] || { say "database outage: skipped (external database)"; return 0; }
	pg_cluster_stop "$cluster_dir" >/dev/null 2>&1
	got="$(api_status "$list") $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$server_port/readyz") $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$server_port/healthz")"
	pg_cluster_start "$cluster_dir" "$db_port" >/dev/null || { bad; return 1; }
	for i in 1 2 3 4 5 6 7 8; do
		# Each worker finds its broken connection on its next request,
		# whatever API it serves: reads, autocommit writes, transactions.
		got="$got|$(api_status "$list")"
		got="$got|$(api_status /api/v3/procsvc/upsert_hosts "\"hosts\":[{\"bk_host_id\":$((700 + i))}]")"
		got="$got|$(api_status /api/v3/create/proc/service_template "\"bk_biz_id\":1,\"name\":\"outage-$i\"")"
		got="$got|$(api_status /api/v3/findmany/proc/proc_template "\"bk_biz_id\":1,\"service_template_id\":1")"
	done
	# Every answer after the restart must succeed: a stale connection is
	# replaced on the request that finds it, not failed back to the client.
	if [[ "$got" == "503 1199999 503 200|"* && "$(tr '|' '\n' <<<"${got#*|}" | sort -u)" == "200 0" ]]; then
		say "database outage: 503/1199999 while down, every request ok after restart"
		ok
	else
		say "database outage: unexpected answers: $got"
		bad
	fi
}

# Statements a request costs, from pg_stat_statements (loaded by pg.sh).
# Prints the number of statements the server ran for one POST of $2 to $1
# (with X-Idempotency-Key: $IDEM_KEY when that is set). The purge of
# expired idempotency keys, which runs on its own, is not counted.
statements_for() {
	local q="SELECT coalesce(sum(calls), 0) FROM stats.pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database() AND s.query NOT LIKE '%pg_stat_statements%' AND s.query NOT LIKE 'DELETE FROM idempotency_key%'"
	local hdr=()
	[ -z "${IDEM_KEY:-}" ] || hdr=(-H "X-Idempotency-Key: $IDEM_KEY")
	psql -X -q -t -A "$db_url" -c "SELECT stats.pg_stat_statements_reset()" >/dev/null || return 1
	curl -sS --noproxy '*' -o /dev/null -X POST "${hdr[@]}" "http://127.0.0.1:$server_port$1" --data-binary "@$2" || return 1
	psql -X -q -t -A "$db_url" -c "$q"
}

# api-contract issue: a batch is written with a fixed number of round trips
# whatever its size, and the list is one query. Compares a 1-item with a
# 100-item batch of each create API. 1 result.
round_trips() {
	local auth='"bk_app_code":"esb_test","bk_app_secret":"xxx","bk_username":"admin"' i
	local h1 h100 p1 p100 t1 t100 l out=$tmp/rt
	if [ -z "$cluster_dir" ]; then say "round trips: skipped (external database)"; return 0; fi
	psql -X -q "$db_url" -c "CREATE SCHEMA IF NOT EXISTS stats" \
		-c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA stats" >/dev/null 2>&1 || {
		say "round trips: pg_stat_statements unavailable"; bad; return 1; }
	mkdir -p "$out"
	{ printf '{%s,"hosts":[' "$auth"; for i in $(seq 1 100); do printf '%s{"bk_host_id":%d,"bk_host_innerip":"10.9.0.%d"}' "$([ "$i" -gt 1 ] && echo ,)" "$i" "$i"; done; printf ']}'; } >"$out/hosts"
	printf '{%s,"modules":[{"bk_module_id":9001,"bk_biz_id":9,"service_template_id":0,"default":0}]}' "$auth" >"$out/modules"
	printf '{%s,"bk_module_id":9001,"bk_host_ids":[%s]}' "$auth" "$(seq -s, 1 100)" >"$out/members"
	for f in hosts modules members; do
		curl -sS --noproxy '*' -o /dev/null -X POST "http://127.0.0.1:$server_port/api/v3/procsvc/$( case $f in hosts) echo upsert_hosts;; modules) echo upsert_modules;; members) echo set_module_hosts;; esac)" --data-binary "@$out/$f"
	done
	si_batch() { # N instances, 2 processes each, 2 bind rows each
		local n=$1 k
		printf '{%s,"bk_biz_id":9,"bk_module_id":9001,"instances":[' "$auth"
		for k in $(seq 1 "$n"); do
			printf '%s{"bk_host_id":%d,"processes":[{"process_info":{"bk_process_name":"a","bk_func_name":"a","bind_info":[{"port":"80"},{"port":"81"}]}},{"process_info":{"bk_process_name":"b","bk_func_name":"b","bind_info":[{"port":"90"},{"port":"91"}]}}]}' "$([ "$k" -gt 1 ] && echo ,)" "$k"
		done
		printf ']}'
	}
	pi_batch() { # N processes, 2 bind rows each, into service instance $2
		local n=$1 k
		printf '{%s,"bk_biz_id":9,"service_instance_id":%d,"processes":[' "$auth" "$2"
		for k in $(seq 1 "$n"); do
			printf '%s{"process_info":{"bk_process_name":"p%d","bk_func_name":"p%d","bind_info":[{"port":"80"},{"port":"81"}]}}' "$([ "$k" -gt 1 ] && echo ,)" "$k" "$k"
		done
		printf ']}'
	}
	si_batch 1 >"$out/si1"
	si_batch 100 >"$out/si100"
	h1=$(statements_for /api/v3/create/proc/service_instance "$out/si1")
	h100=$(statements_for /api/v3/create/proc/service_instance "$out/si100")
	# The first batch made service instance ids; take two of them.
	i=$(psql -X -q -t -A "$db_url" -c "SELECT min(id) FROM service_instance WHERE bk_module_id = 9001")
	pi_batch 1 "$i" >"$out/pi1"
	pi_batch 100 "$((i + 1))" >"$out/pi100"
	p1=$(statements_for /api/v3/create/proc/process_instance "$out/pi1")
	p100=$(statements_for /api/v3/create/proc/process_instance "$out/pi100")
	printf '{%s,"bk_biz_id":9,"service_instance_id":%d}' "$auth" "$((i + 1))" >"$out/list"
	l=$(statements_for /api/v3/findmany/proc/process_instance "$out/list")
	pt_batch() { # N process templates with one bind row each, in service template $2
		local n=$1 k
		printf '{%s,"bk_biz_id":9,"service_template_id":%d,"processes":[' "$auth" "$2"
		for k in $(seq 1 "$n"); do
			printf '%s{"spec":{"bk_process_name":{"value":"t%d","as_default_value":true},"bk_func_name":{"value":"t%d","as_default_value":true},"bind_info":{"value":[{"row_id":1,"ip":{"value":"3","as_default_value":true},"port":{"value":"80","as_default_value":false}}]}}}' "$([ "$k" -gt 1 ] && echo ,)" "$k" "$k"
		done
		printf ']}'
	}
	printf '{%s,"bk_biz_id":9,"name":"rt-a","service_category_id":1}' "$auth" >"$out/st"
	curl -sS --noproxy '*' -o "$out/st.out" -X POST "http://127.0.0.1:$server_port/api/v3/create/proc/service_template" --data-binary "@$out/st"
	i=$(sed -n 's/.*"data":{"id":\([0-9]*\).*/\1/p' "$out/st.out")
	pt_batch 1 "${i:-0}" >"$out/pt1"
	printf '{%s,"bk_biz_id":9,"name":"rt-b","service_category_id":1}' "$auth" >"$out/st"
	curl -sS --noproxy '*' -o "$out/st.out" -X POST "http://127.0.0.1:$server_port/api/v3/create/proc/service_template" --data-binary "@$out/st"
	i=$(sed -n 's/.*"data":{"id":\([0-9]*\).*/\1/p' "$out/st.out")
	pt_batch 100 "${i:-0}" >"$out/pt100"
	t1=$(statements_for /api/v3/createmany/proc/proc_template "$out/pt1")
	t100=$(statements_for /api/v3/createmany/proc/proc_template "$out/pt100")
	# A valid create on a module without a template, and a valid
	# create_process_instance, are one statement (issue 10): the checks
	# and the writes in one round trip, no BEGIN/COMMIT.
	if [ "$h1" = "$h100" ] && [ "$p1" = "$p100" ] && [ "$t1" = "$t100" ] && [ "$h1" -eq 1 ] &&
		[ "$p1" -eq 1 ] && [ "$t1" -le 5 ] && [ "$l" -eq 1 ]; then
		say "round trips: create_service_instance $h1 statements for 1 or 100 instances, create_process_instance $p1 for 1 or 100, batch_create_proc_template $t1 for 1 or 100, list $l"
		ok
	else
		say "round trips: create_service_instance 1:$h1 100:$h100, create_process_instance 1:$p1 100:$p100, batch_create_proc_template 1:$t1 100:$t100, list:$l (want equal, 1, 1, <= 5, list 1)"
		bad
	fi
}

# The lifecycle APIs (contract §11): a write costs as many statements for
# one id as for many, and the lists are three statements (list: the page
# between SET and RESET of plan_cache_mode, so that it is planned with its
# values) and six (detail: BEGIN, those three, its processes, COMMIT). Data of its own in
# business 19, after round_trips (which loads pg_stat_statements). 1 result.
lifecycle_round_trips() {
	local auth='"bk_app_code":"esb_test","bk_app_secret":"xxx","bk_username":"admin"'
	local out=$tmp/lrt big ids one rest l d u1 u100 p1 p100 s1 s100 k
	local q="psql -X -q -t -A $db_url -c"
	if [ -z "$cluster_dir" ]; then say "lifecycle round trips: skipped (external database)"; return 0; fi
	mkdir -p "$out"
	post() { curl -sS --noproxy '*' -o /dev/null -X POST "http://127.0.0.1:$server_port$1" --data-binary "$2"; }
	post /api/v3/procsvc/upsert_hosts "{$auth,\"hosts\":[$(seq -s, -f '{"bk_host_id":%g}' 2001 2100)]}"
	post /api/v3/procsvc/upsert_modules "{$auth,\"modules\":[{\"bk_module_id\":9101,\"bk_biz_id\":19}]}"
	post /api/v3/procsvc/set_module_hosts "{$auth,\"bk_module_id\":9101,\"bk_host_ids\":[$(seq -s, 2001 2100)]}"
	small() { # 100 instances with one process (two bind rows) each
		printf '{%s,"bk_biz_id":19,"bk_module_id":9101,"instances":[' "$auth"
		for k in $(seq 2001 2100); do
			printf '%s{"bk_host_id":%d,"processes":[{"process_info":{"bk_process_name":"s","bk_func_name":"s","bind_info":[{"port":"80"},{"port":"81"}]}}]}' "$([ "$k" -gt 2001 ] && echo ,)" "$k"
		done
		printf ']}'
	}
	small >"$out/small"
	post /api/v3/create/proc/service_instance "@$out/small"
	# One instance with 100 processes.
	{ printf '{%s,"bk_biz_id":19,"bk_module_id":9101,"instances":[{"bk_host_id":2001,"processes":[' "$auth"
	  for k in $(seq 1 100); do printf '%s{"process_info":{"bk_process_name":"b%d","bk_func_name":"b%d"}}' "$([ "$k" -gt 1 ] && echo ,)" "$k" "$k"; done
	  printf ']}]}'; } >"$out/big"
	post /api/v3/create/proc/service_instance "@$out/big"
	big=$($q "SELECT max(id) FROM service_instance WHERE bk_biz_id = 19")
	ids=$($q "SELECT string_agg(bk_process_id::text, ',' ORDER BY bk_process_id) FROM process WHERE service_instance_id = $big")
	one=${ids%%,*}
	printf '{%s,"bk_biz_id":19}' "$auth" >"$out/list"
	l=$(statements_for /api/v3/findmany/proc/service_instance "$out/list")
	d=$(statements_for /api/v3/findmany/proc/service_instance/details "$out/list")
	printf '{%s,"bk_biz_id":19,"processes":[{"bk_process_id":%s,"description":"u","bind_info":[{"port":"90"}]}]}' "$auth" "$one" >"$out/u1"
	{ printf '{%s,"bk_biz_id":19,"processes":[' "$auth"
	  k=0; for i in ${ids//,/ }; do printf '%s{"bk_process_id":%s,"description":"u","bind_info":[{"port":"90"}]}' "$([ "$k" -gt 0 ] && echo ,)" "$i"; k=$((k + 1)); done
	  printf ']}'; } >"$out/u100"
	u1=$(statements_for /api/v3/update/proc/process_instance "$out/u1")
	u100=$(statements_for /api/v3/update/proc/process_instance "$out/u100")
	# One process of the big instance; then the 100 small instances' only
	# processes, so that each of those instances goes too.
	rest=$($q "SELECT string_agg(bk_process_id::text, ',') FROM process p JOIN service_instance s ON s.id = p.service_instance_id WHERE s.bk_biz_id = 19 AND s.id <> $big")
	printf '{%s,"bk_biz_id":19,"process_instance_ids":[%s]}' "$auth" "$one" >"$out/p1"
	printf '{%s,"bk_biz_id":19,"process_instance_ids":[%s]}' "$auth" "$rest" >"$out/p100"
	p1=$(statements_for /api/v3/delete/proc/process_instance "$out/p1")
	p100=$(statements_for /api/v3/delete/proc/process_instance "$out/p100")
	post /api/v3/create/proc/service_instance "@$out/small"
	rest=$($q "SELECT string_agg(id::text, ',') FROM service_instance WHERE bk_biz_id = 19 AND id <> $big")
	printf '{%s,"bk_biz_id":19,"service_instance_ids":[%s]}' "$auth" "$big" >"$out/s1"
	printf '{%s,"bk_biz_id":19,"service_instance_ids":[%s]}' "$auth" "$rest" >"$out/s100"
	s1=$(statements_for /api/v3/deletemany/proc/service_instance "$out/s1")
	s100=$(statements_for /api/v3/deletemany/proc/service_instance "$out/s100")
	k=$($q "SELECT count(*) FROM service_instance WHERE bk_biz_id = 19")
	if [ "$l" = 3 ] && [ "$d" = 6 ] && [ "$u1" = "$u100" ] && [ "$p1" = "$p100" ] &&
		[ "$s1" = "$s100" ] && [ "$u1" -le 12 ] && [ "$p1" -le 12 ] && [ "$s1" -le 12 ] && [ "$k" = 0 ]; then
		say "lifecycle round trips: list_service_instance $l statements (the list, and SET/RESET of plan_cache_mode around it: planned with its values), _detail $d; update_process_instance $u1 for 1 or 100 processes, delete_process_instance $p1 for 1 or 100 processes (the 100 each the last of its instance), delete_service_instance $s1 for 1 or 100 instances"
		ok
	else
		say "lifecycle round trips: list $l, detail $d (want 3, 6: SET, the list, RESET; the detail adds its processes); update 1:$u1 100:$u100, delete_process 1:$p1 100:$p100, delete_service 1:$s1 100:$s100 (want equal, <= 12); left in business 19: $k (want 0)"
		bad
	fi
}

# /readyz follows the schema: 503 with a reason once a migration is
# reverted under the running server, 200 again after migrate up, and 200
# while a newer release's (expand-only) migration is applied, as in a
# rolling upgrade. 1 result.
readyz_follows_schema() {
	local url="http://127.0.0.1:$server_port/readyz" down up newer reason next=$tmp/migrations-next
	procsvc_cli migrate down 1 || { say "readyz: migrate down failed"; bad; return 1; }
	down=$(curl -s -o "$tmp/readyz.json" -w '%{http_code}' "$url")
	reason=$(cat "$tmp/readyz.json")
	procsvc_cli migrate up || { say "readyz: migrate up failed"; bad; return 1; }
	up=$(curl -s -o /dev/null -w '%{http_code}' "$url")
	mkdir -p "$next" && cp migrations/*.sql "$next/" &&
		echo 'CREATE TABLE readyz_next (a int);' >"$next/9999_next.up.sql" &&
		echo 'DROP TABLE readyz_next;' >"$next/9999_next.down.sql"
	PROCSVC_MIGRATIONS=$next procsvc_cli migrate up || { say "readyz: the newer migrate up failed"; bad; return 1; }
	newer=$(curl -s -o /dev/null -w '%{http_code}' "$url")
	PROCSVC_MIGRATIONS=$next procsvc_cli migrate down 1 || { say "readyz: the newer migrate down failed"; bad; return 1; }
	if [ "$down" = 503 ] && [[ "$reason" == *'"unavailable"'*schema* ]] && [ "$up" = 200 ] &&
		[ "$newer" = 200 ]; then
		say "readyz: 503 while the schema is behind ($reason), 200 after migrate up, 200 on a newer release's schema"
		ok
	else
		say "readyz: got $down ($reason) after down, $up after up, $newer on a newer schema"
		bad
	fi
}

# Command line and configuration errors: exit status 2 with one line,
# never a crash. 1 result.
cli_checks() {
	local fails="" rc
	check_exit() { # expected-status description env... -- args...
		local want=$1 what=$2 out
		shift 2
		out=$(env "$@" 2>&1 >/dev/null)
		rc=$?
		if [ "$rc" -ne "$want" ] || { [ "$want" -eq 2 ] && [ "$(wc -l <<<"$out")" -ne 1 ]; }; then
			fails="$fails; $what (exit $rc: $out)"
		fi
	}
	check_exit 0 "--help" "$SERVER_BIN" --help
	check_exit 2 "no command" "$SERVER_BIN"
	check_exit 2 "unknown command" "$SERVER_BIN" frobnicate
	check_exit 2 "serve without DATABASE_URL" -u DATABASE_URL "$SERVER_BIN" serve
	check_exit 2 "bad PROCSVC_THREADS" DATABASE_URL="$db_url" PROCSVC_APPS=a:b PROCSVC_THREADS=abc "$SERVER_BIN" serve
	check_exit 2 "bad PROCSVC_DB_POOL" DATABASE_URL="$db_url" PROCSVC_APPS=a:b PROCSVC_DB_POOL=0 "$SERVER_BIN" serve
	check_exit 2 "bad PROCSVC_DB_WAIT_MS" DATABASE_URL="$db_url" PROCSVC_APPS=a:b PROCSVC_DB_WAIT_MS=-5 "$SERVER_BIN" serve
	check_exit 2 "bad PROCSVC_DECODE_MEMORY" DATABASE_URL="$db_url" PROCSVC_APPS=a:b PROCSVC_DECODE_MEMORY=1k "$SERVER_BIN" serve
	check_exit 2 "empty PROCSVC_APPS" DATABASE_URL="$db_url" PROCSVC_APPS= "$SERVER_BIN" serve
	check_exit 2 "malformed PROCSVC_APPS" DATABASE_URL="$db_url" PROCSVC_APPS=nocolon "$SERVER_BIN" serve
	check_exit 2 "bad PROCSVC_AUTH" DATABASE_URL="$db_url" PROCSVC_APPS=a:b PROCSVC_AUTH=maybe "$SERVER_BIN" serve
	check_exit 2 "bad PROCSVC_LISTEN" DATABASE_URL="$db_url" PROCSVC_APPS=a:b PROCSVC_LISTEN=999.1.1.1:99999 "$SERVER_BIN" serve
	check_exit 2 "bad PROCSVC_PREPARE" DATABASE_URL="$db_url" PROCSVC_APPS=a:b PROCSVC_PREPARE=no "$SERVER_BIN" serve
	check_exit 2 "bad PROCSVC_READ_URL" DATABASE_URL="$db_url" PROCSVC_APPS=a:b PROCSVC_READ_URL='postgresql://u:p@h:0/db' "$SERVER_BIN" serve
	check_exit 2 "bad PROCSVC_READ_MAX_LAG_MS" DATABASE_URL="$db_url" PROCSVC_APPS=a:b PROCSVC_READ_MAX_LAG_MS=5 "$SERVER_BIN" serve
	check_exit 2 "bad migrate step" DATABASE_URL="$db_url" "$SERVER_BIN" migrate down zero
	check_exit 2 "bad PROCSVC_LOG_LEVEL" DATABASE_URL="$db_url" PROCSVC_APPS=a:b PROCSVC_LOG_LEVEL=verbose "$SERVER_BIN" serve
	check_exit 2 "bad PROCSVC_LOG_LEVEL (migrate)" DATABASE_URL="$db_url" PROCSVC_LOG_LEVEL=INFO "$SERVER_BIN" migrate status
	check_exit 2 "bad PROCSVC_LOG_PROBES" DATABASE_URL="$db_url" PROCSVC_APPS=a:b PROCSVC_LOG_PROBES=quiet "$SERVER_BIN" serve
	if [ -z "$fails" ]; then
		say "command line: usage and configuration errors exit 2 with one line"
		ok
	else
		say "command line: failures${fails}"
		bad
	fi
}

# Server, HTTP cases, shutdown, sanitizers: 3 results (+ the cases).
run_server_suite() {
	if [ ! -x "$SERVER_BIN" ]; then
		say "server: $SERVER_BIN not built; http cases and sanitizer check not run"
		bad 3
		return 1
	fi
	if start_server; then
		ops_start_log
		ops_probe
		run_cases "$tmp/bodies.jsonl"
		openapi_bodies "$tmp/bodies.jsonl"
		openapi_served
		runner_selftest
		obs_promtool
		obs_metric_names
		obs_rejected
		round_trips
		lifecycle_round_trips
		idem_round_trips
		readyz_follows_schema
		database_outage
		obs_db_request_id
	else
		say "http cases: not run, the server did not start"
		bad
	fi
	stop_server
	check_sanitizers
}

# The release build under valgrind, through every case again: no invalid
# access and nothing definitely lost, on the binary users run. 1 result.
VALGRIND_BIN=${PROCSVC_RELEASE_BIN:-build/procsvc}
run_valgrind_suite() {
	local vlog=$tmp/valgrind.log before=$passed
	if ! command -v valgrind >/dev/null || [ ! -x "$VALGRIND_BIN" ]; then
		say "valgrind: valgrind or $VALGRIND_BIN missing"
		bad
		return 1
	fi
	cp "$tmp/server.log" "$tmp/server-asan.log" 2>/dev/null
	if ! SERVER_THREADS=8 start_server valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite --show-leak-kinds=definite \
		--log-file="$vlog" "$VALGRIND_BIN"; then
		bad
		return 1
	fi
	run_cases >"$tmp/valgrind-cases.out" 2>&1
	passed=$before # the cases counted once already, under ASan
	grep -E '^FAIL' "$tmp/valgrind-cases.out" | head -n 20
	stop_server >/dev/null && passed=$before
	if [ -s "$vlog" ] || grep -q '^FAIL' "$tmp/valgrind-cases.out"; then
		head -n 60 "$vlog"
		say "valgrind: errors or failed cases under valgrind (above)"
		bad
	else
		say "valgrind: every case passes on the release build, no errors, nothing lost"
		ok
	fi
}

main() {
	tmp=$(mktemp -d) || exit 1
	mutant_check
	if setup_database; then
		run_unit
		run_cmocka ops "${TEST_OPS:-build/test_ops}" "${SANITIZER_ENV[@]}"
		run_load_tests
		run_migrations
		run_db_tests
		run_explain_tests
		cli_checks
		ops_cli
		ops_migrate
		ops_wait
		ops_compose
		ops_install
		ops_run_dir
		ops_docs
		obs_levels
		ops_citus_sketch
		openapi_doc
		openapi_routes
		run_server_suite
		scale_replica
		scale_bouncer
		scale_skewed_lists
		idem_ttl
		idem_sigterm
		idem_faults
		[ -n "${TEST_NO_HOSTILE:-}" ] || run_hostile
		[ -n "${TEST_NO_VALGRIND:-}" ] || run_valgrind_suite
	else
		say "database: could not start PostgreSQL"
		bad
	fi
	# Keep the server log for a post-mortem; the temp dir goes away.
	if [ -e "$tmp/server.log" ] && [ -d build ]; then
		cp "$tmp/server.log" build/test-server.log
	fi
	cleanup
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

main "$@"
