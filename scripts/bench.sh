#!/usr/bin/env bash
# make bench: procsvc next to the database's own ceiling, on one throwaway
# PostgreSQL, loopback only, bounded in time (about 4 minutes; SCALE=1 adds
# about 3). For every workload: wrk drives the release build with the real
# request body; where the workload has a ceiling, pgbench -M prepared sends
# the same statements procsvc sent for that request (bench/NAME.sql, checked
# against a capture of procsvc's statements in this run: a drift fails the
# bench; BENCH_UPDATE=1 rewrites the files instead). procsvc and pgbench runs
# are interleaved, BENCH_REPS times; the table shows medians with min-max.
# Prints PASS/FAIL per target, exits 1 when one fails, writes TSV under
# bench-results/.
#
#   BENCH_SECONDS  one run (default 5)     BENCH_REPS  repetitions (default 3)
#   BENCH_CONNS    clients (default 16)    BENCH_FSYNC on|off (default on)
#   SCALE=1        also: 1,000,000 stored processes (seeded by SQL), then
#                  create/list again and the cost per process by batch size
#   PROCSVC_*      passed to the server as set (pool size, threads, ...)
#   BENCH_ONLY     run only these workloads (names, space-separated)
#   BENCH_PROFILE  a directory: perf record -a (cpu-clock) during each
#                  procsvc run, a report per workload by process and symbol
#   BENCH_SAME_SESSION=1  the server in the bench's own session (and so in
#                  the load generator's scheduling group), not its own
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg.sh
. scripts/pg.sh

secs=${BENCH_SECONDS:-5}
reps=${BENCH_REPS:-3}
conns=${BENCH_CONNS:-16}
fsync=${BENCH_FSYNC:-on}
scale=${SCALE:-0}
bin=build/procsvc
for t in wrk pgbench psql curl; do
	command -v "$t" >/dev/null || { echo "bench: $t is missing (make deps)" >&2; exit 2; }
done

# The workloads, one line each (adding one is one line here):
#   name  method  path  body  ceiling(yes/no)  rows-table:rows-per-request  what
# body: si:N:P:B (N instances x P processes x B bind rows), or a file the
# setup writes into $tmp (see setup_bodies), or - (none). A workload whose
# API answers 404 (not built yet) is skipped.
WORKLOADS=(
	"a        POST /api/v3/create/proc/service_instance si:1:1:2   yes service_instance:1   create_service_instance 1 x 1 process x 2 binds"
	"b        POST /api/v3/create/proc/service_instance si:10:2:2  yes service_instance:10  create_service_instance 10 x 2 x 2"
	"batch100 POST /api/v3/create/proc/service_instance si:100:1:1 yes service_instance:100 create_service_instance 100 x 1 x 1"
	"c        POST /api/v3/findmany/proc/process_instance list.json yes -                   list_process_instance, 3 processes x 2 binds"
	"pi1      POST /api/v3/create/proc/process_instance pi1.json   no  process:1            create_process_instance, 1 process"
	"silist   POST /api/v3/findmany/proc/service_instance silist.json no -                 list_service_instance, 50-instance module"
	"piupd    POST /api/v3/update/proc/process_instance piupd.json no  -                    update_process_instance, 10 processes"
	"healthz  GET  /healthz                              -          no  -                   GET /healthz"
)
# Targets: ratio to the ceiling per workload (issue 10).
declare -A RATIO_TARGET=([a]=0.75 [b]=0.85 [batch100]=0.85 [c]=0.50)
HEALTHZ_TARGET=20000
RSS_TARGET_KB=$((64 * 1024))

tmp=$(mktemp -d)
server_pid=
# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
	if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; fi
	pg_cluster_stop "$tmp" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
chmod 755 "$tmp"

commit=$(git describe --always --dirty 2>/dev/null || echo unknown)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p bench-results
runs_tsv=bench-results/$stamp-$commit.runs.tsv
sum_tsv=bench-results/$stamp-$commit.tsv
printf 'rep\tworkload\tside\tconns\trps\tp50_ms\tp99_ms\terrors\n' >"$runs_tsv"

# --- the cluster: dedicated, throwaway, settings said in the output --------
# synchronous_commit=on (the default) and fsync=on by default: every commit
# waits for its WAL to reach the disk, as in production, so "the commit is
# the limit" is measured, not assumed. BENCH_FSYNC=off measures CPU cost
# only (a commit then waits for write(2), not the flush).
pg_settings="-c fsync=$fsync -c synchronous_commit=on -c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_timeout=30min -c log_line_prefix=%a:"
pgport=$(free_port)
PG_OPTS=$pg_settings pg_cluster_start "$tmp" "$pgport" >/dev/null
export DATABASE_URL
DATABASE_URL=$(pg_cluster_url "$tmp" "$pgport")
pglog=$tmp/postgres.log
sql() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"; }
$bin migrate up >/dev/null 2>&1

port=$(free_port)
url=http://127.0.0.1:$port
# The server runs in a session of its own, as under systemd or in a
# container, and as PostgreSQL does (pg_ctl starts it with setsid): with
# the kernel's autogroup scheduling (sched_autogroup_enabled=1, Debian's
# default) a session is one scheduling group, and a load generator in the
# server's group starves some of its threads for hundreds of milliseconds
# (README, Performance). BENCH_SAME_SESSION=1 measures it that way.
server_wrap=(setsid)
session="a session of its own"
if [ "${BENCH_SAME_SESSION:-0}" = 1 ]; then server_wrap=(); session="the bench's session"; fi
PROCSVC_LISTEN=127.0.0.1:$port PROCSVC_APPS=bench:bench "${server_wrap[@]}" $bin serve 2>"$tmp/server.log" &
server_pid=$!
for _ in $(seq 100); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$url/readyz" >/dev/null || { echo "bench: server did not start" >&2; cat "$tmp/server.log" >&2; exit 1; }

auth='"bk_app_code":"bench","bk_app_secret":"bench","bk_username":"bench"'
# POSTs body ($2) to path ($1); prints the answer; fails unless it is a success.
post() {
	local out
	out=$(curl -sS -X POST "$url$1" --data-binary "$2")
	case $out in *'"result":true'*) printf '%s' "$out" ;; *) echo "bench: $1 failed: ${out:0:300}" >&2; return 1 ;; esac
}
route_exists() { [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url$1" -d '{}')" != 404 ]; }

# --- data and bodies -------------------------------------------------------
# N instances on hosts 1..100 of module $2, each with P processes of B bind rows.
si_body() {
	local n=$1 p=$2 b=$3 module=${4:-60} i k r sep psep rsep
	printf '{%s,"bk_biz_id":1,"bk_module_id":%d,"instances":[' "$auth" "$module"
	for ((i = 1; i <= n; i++)); do
		sep=,; [ "$i" = 1 ] && sep=
		printf '%s{"bk_host_id":%d,"processes":[' "$sep" $(((i - 1) % 100 + 1))
		for ((k = 1; k <= p; k++)); do
			psep=,; [ "$k" = 1 ] && psep=
			printf '%s{"process_template_id":0,"process_info":{"bk_process_name":"proc%d","bk_func_name":"java%d","proc_num":1,"work_path":"/data/bkee","start_cmd":"./start.sh","bind_info":[' "$psep" "$k" "$k"
			for ((r = 1; r <= b; r++)); do
				rsep=,; [ "$r" = 1 ] && rsep=
				printf '%s{"ip":"127.0.0.1","port":"%d","protocol":"1","enable":true}' "$rsep" $((8000 + r))
			done
			printf ']}}'
		done
		printf ']}'
	done
	printf ']}'
}

setup_data() {
	local hosts i si ids
	hosts=$(for i in $(seq 1 100); do printf '%s{"bk_host_id":%d,"bk_host_innerip":"10.1.0.%d"}' "${sep:-}" "$i" "$i"; sep=,; done)
	post /api/v3/procsvc/upsert_hosts "{$auth,\"hosts\":[$hosts]}" >/dev/null
	post /api/v3/procsvc/upsert_modules "{$auth,\"modules\":[{\"bk_module_id\":60,\"bk_biz_id\":1,\"service_template_id\":0,\"default\":0},{\"bk_module_id\":61,\"bk_biz_id\":1,\"service_template_id\":0,\"default\":0}]}" >/dev/null
	post /api/v3/procsvc/set_module_hosts "{$auth,\"bk_module_id\":60,\"bk_host_ids\":[$(seq -s, 1 100)]}" >/dev/null
	post /api/v3/procsvc/set_module_hosts "{$auth,\"bk_module_id\":61,\"bk_host_ids\":[$(seq -s, 1 100)]}" >/dev/null
	# c: the instance listed, 3 processes x 2 binds.
	post /api/v3/create/proc/service_instance "$(si_body 1 3 2)" >/dev/null
	si=$(sql -c "SELECT max(id) FROM service_instance")
	printf '{%s,"bk_biz_id":1,"service_instance_id":%d}' "$auth" "$si" >"$tmp/list.json"
	# pi1: a new process per request, in one of 100 instances in turn.
	post /api/v3/create/proc/service_instance "$(si_body 100 1 1)" >/dev/null
	ids=$(sql -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM service_instance ORDER BY id DESC LIMIT 100) s")
	printf '{%s,"bk_biz_id":1,"service_instance_id":@SI@,"processes":[{"process_info":{"bk_process_name":"p@N@","bk_func_name":"f@N@","bind_info":[{"ip":"127.0.0.1","port":"80","protocol":"1"}]}}]}' \
		"$auth" >"$tmp/pi1.json"
	echo "$ids" >"$tmp/pi1.si"
	# silist: module 61 holds 50 instances.
	post /api/v3/create/proc/service_instance "$(si_body 50 1 1 61)" >/dev/null
	printf '{%s,"bk_biz_id":1,"bk_module_id":61}' "$auth" >"$tmp/silist.json"
	# piupd: the 10 processes of one instance, updated in place.
	post /api/v3/create/proc/service_instance "$(si_body 1 10 1)" >/dev/null
	ids=$(sql -c "SELECT string_agg(format('{\"bk_process_id\":%s,\"description\":\"bench\"}', bk_process_id), ',' ORDER BY bk_process_id) FROM process WHERE service_instance_id = (SELECT max(id) FROM service_instance)")
	printf '{%s,"bk_biz_id":1,"processes":[%s]}' "$auth" "$ids" >"$tmp/piupd.json"
}

# The body file of a workload (written on first use).
body_file() {
	local body=$1 f
	case $body in
	-) echo "" ;;
	si:*)
		f=$tmp/${body//:/_}.json
		[ -f "$f" ] || { IFS=: read -r _ n p b <<<"$body"; si_body "$n" "$p" "$b" >"$f"; }
		echo "$f" ;;
	*) echo "$tmp/$body" ;;
	esac
}

cat >"$tmp/wrk.lua" <<'LUA'
-- One request body for every request, or, with @N@ / @SI@ in it, a unique
-- name per request and the next service instance of SI_LIST in turn.
wrk.method = os.getenv("METHOD")
wrk.headers["Content-Type"] = "application/json"
local file = os.getenv("BODY_FILE")
local body, dynamic = nil, false
if file ~= nil and file ~= "" then
	local f = assert(io.open(file, "rb"))
	body = f:read("*a")
	f:close()
	dynamic = body:find("@N@", 1, true) ~= nil
end
wrk.body = body
local threads = {}
local nthreads = 0
function setup(thread)
	nthreads = nthreads + 1
	thread:set("tid", nthreads)
	table.insert(threads, thread)
end
local si, n = {}, 0
function init(args)
	for id in string.gmatch(os.getenv("SI_LIST") or "", "%d+") do table.insert(si, id) end
end
if dynamic then
	request = function()
		n = n + 1
		local b = body:gsub("@N@", os.getenv("RUN_ID") .. "_" .. tid .. "_" .. n)
		b = b:gsub("@SI@", si[(n + tid) % #si + 1])
		return wrk.format(nil, nil, nil, b)
	end
end
done = function(summary, latency, requests)
	io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		summary.errors.status + summary.errors.connect + summary.errors.read +
		summary.errors.write + summary.errors.timeout, summary.requests))
end
LUA

count_rows() { if [ "$1" = - ]; then echo 0; else sql -c "SELECT count(*) FROM ${1%%:*}"; fi; }

# Runs wrk for workload fields; prints "rps p50 p99 errors".
run_procsvc() { # name method path body rows conns
	local name=$1 method=$2 path=$3 body=$4 rows=$5 c=$6 before after out requests per
	before=$(count_rows "$rows")
	if [ -n "${BENCH_PROFILE:-}" ]; then
		mkdir -p "$BENCH_PROFILE"
		perf record -a -e cpu-clock -F 1999 -o "$BENCH_PROFILE/$name.data" -- sleep "$secs" >/dev/null 2>&1 &
	fi
	out=$(METHOD=$method BODY_FILE=$(body_file "$body") SI_LIST=$(cat "$tmp/pi1.si") RUN_ID="$name$RANDOM$c" \
		wrk -t2 -c"$c" -d"${secs}s" --timeout 10s -s "$tmp/wrk.lua" "$url$path" | sed -n 's/^RESULT //p')
	read -r rps p50 p99 errors requests <<<"$out"
	if [ -n "${BENCH_PROFILE:-}" ]; then
		wait
		perf report -i "$BENCH_PROFILE/$name.data" --stdio --sort comm,dso >"$BENCH_PROFILE/$name.by-process.txt" 2>/dev/null
		perf report -i "$BENCH_PROFILE/$name.data" --stdio --sort comm,sym >"$BENCH_PROFILE/$name.by-symbol.txt" 2>/dev/null
	fi
	if [ "$rows" != - ]; then
		# Every answered request must have written its rows; requests still
		# in flight when wrk stopped may have written more.
		after=$(count_rows "$rows")
		per=${rows##*:}
		if [ $((after - before)) -lt $((requests * per)) ]; then
			echo "bench: $name: $requests answers but only $((after - before)) rows written" >&2
			errors=$((errors + requests - (after - before) / per))
		fi
	fi
	echo "$rps $p50 $p99 $errors"
}

# --- the ceiling: procsvc's own statements, captured and replayed ----------
# Sends one request of the workload with log_statement=all and turns what the
# log shows into a pgbench script (scripts/bench_sql.awk).
capture() { # name path body -> $tmp/NAME.sql, $tmp/NAME.params
	local name=$1 path=$2 body=$3 size
	sql -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
	sleep 0.2
	size=$(stat -c %s "$pglog")
	post "$path" "$(cat "$(body_file "$body")")" >/dev/null
	sleep 0.3
	sql -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null
	tail -c +"$((size + 1))" "$pglog" >"$tmp/$name.log"
	awk -v params="$tmp/$name.params" -v name="$name" -f scripts/bench_sql.awk "$tmp/$name.log" >"$tmp/$name.sql"
}

drift=0
check_sql() { # name: the capture against bench/NAME.sql
	local name=$1
	if [ "${BENCH_UPDATE:-0}" = 1 ]; then
		cp "$tmp/$name.sql" "bench/$name.sql"
	elif ! diff -u "bench/$name.sql" "$tmp/$name.sql" >"$tmp/$name.diff" 2>&1; then
		echo "bench: DRIFT: procsvc's statements for workload $name are not bench/$name.sql:" >&2
		head -n 20 "$tmp/$name.diff" >&2
		echo "bench: (BENCH_UPDATE=1 make bench rewrites bench/*.sql from the capture)" >&2
		drift=1
	fi
}

# The session options procsvc's connections set (src/db): the ceiling's
# sessions get the same, or it would measure other plans.
pg_session_options=$(grep -ho '"-c search_path=[^"]*"' src/db/*.c | head -n 1 | tr -d '"')
[ -n "$pg_session_options" ] || { echo "bench: cannot find procsvc's session options in src/db" >&2; exit 1; }

# pgbench with the captured parameters; prints "tps p50 p99 errors".
run_ceiling() { # name conns
	local name=$1 c=$2 args=() line out tps failed
	while IFS= read -r line; do args+=(-D "$line"); done <"$tmp/$name.params"
	rm -f "$tmp"/pgb.*
	if ! out=$(PGOPTIONS=$pg_session_options pgbench -n -M prepared -c "$c" -j 2 -T "$secs" -f "$tmp/$name.sql" "${args[@]}" \
		-l --log-prefix="$tmp/pgb" "$DATABASE_URL" 2>&1); then
		echo "bench: pgbench failed for $name: $(grep -m1 -i 'error' <<<"$out")" >&2
		echo "0 0 0 1"
		return
	fi
	tps=$(sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p' <<<"$out")
	failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")
	# Per-transaction log: the third field is the latency in microseconds.
	cat "$tmp"/pgb.* | awk '{ print $3 }' | sort -n >"$tmp/lat"
	awk -v tps="$tps" -v f="${failed:-0}" '{ v[NR] = $1 } END {
		p50 = v[int(NR * 0.50) + 1]; p99 = v[int(NR * 0.99) + 1]
		printf "%s %.3f %.3f %d\n", tps, p50 / 1000, p99 / 1000, f }' "$tmp/lat"
}

# --- the runs --------------------------------------------------------------
declare -A RESULTS # "name/side" -> space-separated rps values; p50s; p99s
record() { # rep name side conns "rps p50 p99 err"
	local rps p50 p99 err
	read -r rps p50 p99 err <<<"$5"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$rps" "$p50" "$p99" "$err" >>"$runs_tsv"
	RESULTS[$2/$3/rps]+="$rps "
	RESULTS[$2/$3/p50]+="$p50 "
	RESULTS[$2/$3/p99]+="$p99 "
	RESULTS[$2/$3/err]=$(( ${RESULTS[$2/$3/err]:-0} + err ))
}
# median / min / max of a space-separated list
stat_of() { tr ' ' '\n' <<<"$2" | grep -v '^$' | sort -g | awk -v w="$1" '{ v[NR] = $1 } END {
	if (NR == 0) { print "-"; exit }
	if (w == "med") print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)
	else if (w == "min") print v[1]; else print v[NR] }'; }
rss_peak_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$server_pid/status"; }

echo "procsvc bench, commit $commit, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "PostgreSQL $(sql -c 'SHOW server_version' | cut -d' ' -f1): $pg_settings (throwaway cluster)"
echo "server: release build, in $session; PROCSVC_* from the environment: $(env | grep '^PROCSVC_' | tr '\n' ' ' || true)"
echo "runs: $reps x ${secs}s per workload at $conns clients, procsvc (wrk) and ceiling (pgbench -M prepared) interleaved"
echo "ceiling sessions: PGOPTIONS='$pg_session_options' (procsvc's own)"

setup_data
active=()
for line in "${WORKLOADS[@]}"; do
	read -r name method path body ceil rows _ <<<"$line"
	if [ "$method" = POST ] && ! route_exists "$path"; then
		echo "skipped: $name ($path does not exist yet)"
		continue
	fi
	if [ "$body" != - ] && [ "$body" = "${body#si:}" ] && [ ! -f "$tmp/$body" ]; then
		echo "bench: no body for $name" >&2; exit 1
	fi
	if [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $name "* ]]; then
		continue
	fi
	active+=("$line")
	if [ "$ceil" = yes ]; then
		capture "$name" "$path" "$body" || { echo "bench: cannot capture $name's statements" >&2; exit 1; }
		check_sql "$name"
	fi
done
[ "$drift" = 0 ] || { echo "bench: FAIL: the ceiling scripts drifted from procsvc's SQL" >&2; exit 1; }

# Warm-up: connections, prepared statements, caches.
for line in "${active[@]}"; do
	read -r name method path body _ <<<"$line"
	METHOD=$method BODY_FILE=$(body_file "$body") SI_LIST=$(cat "$tmp/pi1.si") RUN_ID=warm$name \
		wrk -t1 -c"$conns" -d1s -s "$tmp/wrk.lua" "$url$path" >/dev/null
done

for ((rep = 1; rep <= reps; rep++)); do
	for line in "${active[@]}"; do
		read -r name method path body ceil rows _ <<<"$line"
		record "$rep" "$name" procsvc "$conns" "$(run_procsvc "$name" "$method" "$path" "$body" "$rows" "$conns")"
		if [ "$ceil" = yes ]; then
			record "$rep" "$name" ceiling "$conns" "$(run_ceiling "$name" "$conns")"
		fi
	done
done
rss16=$(rss_peak_kb)
# 64 connections: the heaviest create and the list, once each.
for w in a c; do
	for line in "${active[@]}"; do
		read -r name method path body ceil rows _ <<<"$line"
		[ "$name" = "$w" ] || continue
		record 1 "$name" procsvc64 64 "$(run_procsvc "$name" "$method" "$path" "$body" "$rows" 64)"
	done
done
rss64=$(rss_peak_kb)

# --- the table -------------------------------------------------------------
fail=0
targets=()
target() { # label value op limit
	if awk -v v="$2" -v l="$4" "BEGIN { exit !(v $3 l) }"; then
		targets+=("$(printf 'PASS  %-52s %s %s %s' "$1" "$2" "$3" "$4")")
	else
		targets+=("$(printf 'FAIL  %-52s %s (target %s %s)' "$1" "$2" "$3" "$4")"); fail=1
	fi
}
printf 'workload\tprocsvc_rps\tprocsvc_min\tprocsvc_max\tp50_ms\tp99_ms\tceiling_tps\tceiling_min\tceiling_max\tceiling_p50_ms\tceiling_p99_ms\tratio\n' >"$sum_tsv"
echo
printf '%-48s %22s %7s %7s | %22s %7s %7s | %5s\n' workload "procsvc req/s (min-max)" p50ms p99ms "ceiling tps (min-max)" p50ms p99ms ratio
for line in "${active[@]}"; do
	read -r name _ _ _ ceil _ what <<<"$line"
	m=$(stat_of med "${RESULTS[$name/procsvc/rps]}")
	lo=$(stat_of min "${RESULTS[$name/procsvc/rps]}"); hi=$(stat_of max "${RESULTS[$name/procsvc/rps]}")
	p50=$(stat_of med "${RESULTS[$name/procsvc/p50]}"); p99=$(stat_of med "${RESULTS[$name/procsvc/p99]}")
	cm=- clo=- chi=- c50=- c99=- ratio=-
	if [ "$ceil" = yes ]; then
		cm=$(stat_of med "${RESULTS[$name/ceiling/rps]}")
		clo=$(stat_of min "${RESULTS[$name/ceiling/rps]}"); chi=$(stat_of max "${RESULTS[$name/ceiling/rps]}")
		c50=$(stat_of med "${RESULTS[$name/ceiling/p50]}"); c99=$(stat_of med "${RESULTS[$name/ceiling/p99]}")
		ratio=$(awk -v a="$m" -v b="$cm" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	fi
	printf '%-48s %8.0f (%5.0f-%5.0f) %7s %7s | %8s (%5s-%5s) %7s %7s | %5s\n' "$name: $what" "$m" "$lo" "$hi" "$p50" "$p99" \
		"$(printf '%.0f' "${cm/-/0}")" "$(printf '%.0f' "${clo/-/0}")" "$(printf '%.0f' "${chi/-/0}")" "$c50" "$c99" "$ratio"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$m" "$lo" "$hi" "$p50" "$p99" "$cm" "$clo" "$chi" "$c50" "$c99" "$ratio" >>"$sum_tsv"
	if [ -n "${RATIO_TARGET[$name]:-}" ]; then
		target "$name: req/s / ceiling tps" "$ratio" ">=" "${RATIO_TARGET[$name]}"
		target "$name: p99 / ceiling p99" "$(awk -v a="$p99" -v b="$c99" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 99) }')" "<=" 2
	fi
	[ "$name" = healthz ] && target "healthz: req/s" "$m" ">=" "$HEALTHZ_TARGET"
	target "$name: errors (all runs)" "$(( ${RESULTS[$name/procsvc/err]:-0} + ${RESULTS[$name/ceiling/err]:-0} ))" "==" 0
done
for name in a c; do
	[ -n "${RESULTS[$name/procsvc64/rps]:-}" ] || continue
	read -r _ _ _ _ _ _ what <<<"$(printf '%s\n' "${active[@]}" | grep "^$name ")"
	printf '%-48s %8.0f %15s %7s %7s   (64 clients)\n' "$name: $what" "$(stat_of med "${RESULTS[$name/procsvc64/rps]}")" "" \
		"$(stat_of med "${RESULTS[$name/procsvc64/p50]}")" "$(stat_of med "${RESULTS[$name/procsvc64/p99]}")"
	target "$name at 64 clients: errors" "${RESULTS[$name/procsvc64/err]}" "==" 0
done
echo
echo "server peak RSS: $((rss16 / 1024)) MiB after the $conns-client runs, $((rss64 / 1024)) MiB after 64 clients"
printf 'rss_peak_kb_%s\t%s\nrss_peak_kb_64\t%s\n' "$conns" "$rss16" "$rss64" >>"$sum_tsv"
target "server peak RSS at 64 clients (KiB)" "$rss64" "<=" "$RSS_TARGET_KB"

# --- SCALE=1: the same rates with 1,000,000 processes stored ---------------
declare -A SCALE_R # "label/name" -> median req/s
scale_rates() { # label: medians for a, c, batch10, batch100
	local label=$1 name method path body rows v r
	for w in "a POST /api/v3/create/proc/service_instance si:1:1:2 service_instance:1" \
		"c POST /api/v3/findmany/proc/process_instance list.json -" \
		"batch10 POST /api/v3/create/proc/service_instance si:10:1:1 service_instance:10" \
		"batch100 POST /api/v3/create/proc/service_instance si:100:1:1 service_instance:100"; do
		read -r name method path body rows <<<"$w"
		v=""
		for ((r = 1; r <= reps; r++)); do
			v+="$(run_procsvc "$name" "$method" "$path" "$body" "$rows" "$conns" | cut -d' ' -f1) "
		done
		SCALE_R[$label/$name]=$(stat_of med "$v")
		printf '%s\t%s\t%s\n' "scale_$label" "$name" "$(stat_of med "$v")" >>"$sum_tsv"
	done
}
if [ "$scale" = 1 ]; then
	echo
	echo "SCALE=1: rates on this database, then with 1,000,000 processes stored"
	scale_rates empty
	t0=$(date +%s)
	# 100,000 instances x 10 processes x 1 bind row, in module 62 of business 2
	# on the same hosts; ids from the tables' own sequences.
	sql <<'SQL'
INSERT INTO module (bk_supplier_account, bk_module_id, bk_biz_id) VALUES ('0', 62, 2);
INSERT INTO module_host SELECT '0', 62, h FROM generate_series(1, 100) h;
INSERT INTO service_instance (bk_supplier_account, bk_biz_id, bk_module_id, bk_host_id, name, creator, modifier)
SELECT '0', 2, 62, 1 + g % 100, 'seed' || g, 'seed', 'seed' FROM generate_series(1, 100000) g;
INSERT INTO process (bk_supplier_account, bk_biz_id, service_instance_id, bk_host_id, bk_process_name,
    bk_func_name, proc_num, work_path, start_cmd, bind_info_set, creator, modifier)
SELECT '0', 2, si.id, si.bk_host_id, 'proc' || k, 'java' || k, 1, '/data/bkee', './start.sh', true, 'seed', 'seed'
FROM service_instance si CROSS JOIN generate_series(1, 10) k WHERE si.bk_module_id = 62;
INSERT INTO bind_info (bk_supplier_account, bk_process_id, position, enable, ip, port, protocol)
SELECT '0', bk_process_id, 0, true, '127.0.0.1', '8080', '1' FROM process WHERE bk_biz_id = 2;
VACUUM ANALYZE;
SQL
	echo "seeded $(sql -c 'SELECT count(*) FROM process') processes, $(sql -c 'SELECT count(*) FROM bind_info') bind rows in $(($(date +%s) - t0))s"
	scale_rates full
	for name in a c batch10 batch100; do
		printf '%-10s empty %8.0f req/s   1M processes %8.0f req/s   (%s)\n' "$name" "${SCALE_R[empty/$name]}" \
			"${SCALE_R[full/$name]}" "$(awk -v a="${SCALE_R[full/$name]}" -v b="${SCALE_R[empty/$name]}" 'BEGIN { printf "%.2f", a / b }')"
	done
	target "scale: create (a) at 1M / empty" "$(awk -v a="${SCALE_R[full/a]}" -v b="${SCALE_R[empty/a]}" 'BEGIN { printf "%.2f", a / b }')" ">=" 0.80
	target "scale: list (c) at 1M / empty" "$(awk -v a="${SCALE_R[full/c]}" -v b="${SCALE_R[empty/c]}" 'BEGIN { printf "%.2f", a / b }')" ">=" 0.80
	# Cost per created process: 1 / (requests/s x processes per request).
	target "scale: us per process, batch of 100 / batch of 10" \
		"$(awk -v a="${SCALE_R[full/batch100]}" -v b="${SCALE_R[full/batch10]}" 'BEGIN { printf "%.2f", (1e6 / (a * 100)) / (1e6 / (b * 10)) }')" "<=" 1
fi

echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "targets:"
printf '  %s\n' "${targets[@]}"
echo "results: $sum_tsv (runs: $runs_tsv)"
exit $fail
