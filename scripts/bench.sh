#!/usr/bin/env bash
# make bench: throughput, latency and memory of the release build against a
# throwaway PostgreSQL, with the targets procsvc is held to. Loopback only,
# bounded in time. Prints one line per figure and PASS/FAIL per target.
#
#   BENCH_SECONDS  duration of each wrk run (default 10)
#   BENCH_CONNS    concurrent connections (default 16)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg.sh
. scripts/pg.sh

secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNS:-16}
bin=build/procsvc
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 2; }

tmp=$(mktemp -d)
server_pid=
# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	pg_cluster_stop "$tmp" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
chmod 755 "$tmp"

pgport=$(free_port)
pg_cluster_start "$tmp" "$pgport" >/dev/null
export DATABASE_URL
DATABASE_URL=$(pg_cluster_url "$tmp" "$pgport")
$bin migrate up 2>/dev/null
port=$(free_port)
url=http://127.0.0.1:$port
PROCSVC_LISTEN=127.0.0.1:$port PROCSVC_APPS=bench:bench PROCSVC_THREADS=32 \
	$bin serve 2>"$tmp/server.log" &
server_pid=$!
for _ in $(seq 100); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

auth='"bk_app_code":"bench","bk_app_secret":"bench","bk_username":"bench"'
post() { curl -fsS -X POST "$url$1" -d "$2" >/dev/null; }
hosts=$(for i in $(seq 1 100); do printf '%s{"bk_host_id":%d,"bk_host_innerip":"10.1.0.%d"}' "${sep:-}" "$i" "$i"; sep=,; done)
post /api/v3/procsvc/upsert_hosts "{$auth,\"hosts\":[$hosts]}"
post /api/v3/procsvc/upsert_modules "{$auth,\"modules\":[{\"bk_module_id\":60,\"bk_biz_id\":1,\"service_template_id\":0,\"default\":0}]}"
post /api/v3/procsvc/set_module_hosts "{$auth,\"bk_module_id\":60,\"bk_host_ids\":[$(seq -s, 1 100)]}"

# A batch of N instances, each with two processes with two bind rows.
batch() {
	local n=$1 i sep=""
	printf '{%s,"bk_biz_id":1,"bk_module_id":60,"instances":[' "$auth"
	for i in $(seq 1 "$n"); do
		printf '%s{"bk_host_id":%d,"processes":[' "$sep" $(( (i - 1) % 100 + 1 ))
		printf '{"process_template_id":0,"process_info":{"bk_process_name":"java","bk_func_name":"java","proc_num":1,"work_path":"/data/bkee","bind_info":[{"ip":"127.0.0.1","port":"8080","protocol":"1","enable":true},{"ip":"0.0.0.0","port":"9000-9010","protocol":"2"}]}},'
		printf '{"process_template_id":0,"process_info":{"bk_process_name":"nginx","bk_func_name":"nginx","start_cmd":"./start.sh","bind_info":[{"ip":"127.0.0.1","port":"80,443","protocol":"1"}]}}]}'
		sep=,
	done
	printf ']}'
}
batch 1 >"$tmp/batch1.json"
batch 100 >"$tmp/batch100.json"
post /api/v3/create/proc/service_instance "$(cat "$tmp/batch1.json")"
printf '{%s,"bk_biz_id":1,"service_instance_id":1}' "$auth" >"$tmp/list.json"

cat >"$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
	io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		summary.errors.status + summary.errors.connect + summary.errors.read +
		summary.errors.write + summary.errors.timeout))
end
LUA

run() { # name path body-file -> "rps p50 p99 errors"
	BODY_FILE=$3 wrk -t"$(( conns < 2 ? 1 : 2 ))" -c"$conns" -d"${secs}s" -s "$tmp/post.lua" "$url$2" |
		sed -n 's/^RESULT //p'
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
rss_kb() { ps -o rss= -p "$server_pid" | tr -d ' '; }

fail=0
check() { # label value op limit
	if awk -v v="$2" -v l="$4" "BEGIN { exit !(v $3 l) }"; then
		printf '  PASS %-46s %s %s %s\n' "$1" "$2" "$3" "$4"
	else
		printf '  FAIL %-46s %s (target %s %s)\n' "$1" "$2" "$3" "$4"; fail=1
	fi
}

rss0=$(rss_kb)
echo "procsvc bench: $conns connections, ${secs}s per run, 32 workers, PostgreSQL 15 fsync=off"
list=$(run list /api/v3/findmany/proc/process_instance "$tmp/list.json")
echo "list_process_instance (2 processes):           $list"
one=$(run batch1 /api/v3/create/proc/service_instance "$tmp/batch1.json")
echo "create_service_instance, batch of 1:           $one"
hundred=$(run batch100 /api/v3/create/proc/service_instance "$tmp/batch100.json")
echo "create_service_instance, batch of 100:         $hundred"
rss1=$(rss_kb)
instances=$(psql -X -q -t -A "$DATABASE_URL" -c "SELECT count(*) FROM service_instance")
echo "rows written: $instances service instances; server RSS ${rss0} kB at start, ${rss1} kB after"

# Fixed round trips: a 100-instance batch (200 processes, 300 bind rows)
# costs far less than 100 single-instance requests.
ratio=$(awk -v a="$(field p50_ms "$hundred")" -v b="$(field p50_ms "$one")" 'BEGIN { printf "%.1f", a / b }')
echo "p50 latency ratio batch-100 / batch-1: $ratio"
echo "targets:"
check "list p99 latency (ms)" "$(field p99_ms "$list")" "<" 20
check "list throughput (req/s)" "$(field rps "$list")" ">" 2000
check "batch-1 create throughput (req/s)" "$(field rps "$one")" ">" 500
check "batch-100 create p99 latency (ms)" "$(field p99_ms "$hundred")" "<" 500
check "batch-100 / batch-1 p50 latency ratio" "$ratio" "<" 30
check "errors in all runs" "$(( $(field errors "$list") + $(field errors "$one") + $(field errors "$hundred") ))" "==" 0
check "server RSS after the runs (kB)" "$rss1" "<" 131072
exit $fail
