#!/usr/bin/env bash
# scripts/profile.sh: what one request costs procsvc, in measures that do
# not depend on how busy the machine is. On a throwaway PostgreSQL and the
# release build, for each workload (a: create_service_instance 1 x 1 x 2,
# c: list_process_instance of 3 processes x 2 binds, healthz; batch100,
# 100 instances x 1 x 1, when asked for):
#
#   - instructions per request (valgrind --tool=callgrind, counters zeroed
#     after a warm-up, PROFILE_N requests over one keep-alive connection),
#     by component (CivetWeb, Jansson, libpq, procsvc, libc, the rest) and
#     the top functions (self cost);
#   - at PROFILE_CONNS concurrent clients (wrk, PROFILE_SECONDS): system
#     calls and context switches per request of the server process
#     (perf stat on its threads), and its CPU time per request; which
#     calls (strace -c, a breakdown: strace changes the interleaving);
#   - the CPU budget of a request on this machine: CPU seconds per request
#     of wrk, procsvc and the PostgreSQL backends, next to those of
#     pgbench and the backends running the same statements (captured from
#     procsvc as make bench does). On two cores that are all busy, the
#     ratio to the ceiling is about the ceiling's CPU per transaction over
#     the service's CPU per request.
#
#   PROFILE_N        requests counted under callgrind (default 2000)
#   PROFILE_ONLY     workloads (default "a c healthz")
#   PROFILE_SECONDS  the concurrent run (default 5); PROFILE_CONNS (16)
#   PROFILE_BIN      the server binary (default build/procsvc)
#   PROFILE_OUT      where callgrind files and reports go
#                    (default bench-results/profile-STAMP)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg.sh
. scripts/pg.sh

n=${PROFILE_N:-2000}
only=${PROFILE_ONLY:-a c healthz}
secs=${PROFILE_SECONDS:-5}
conns=${PROFILE_CONNS:-16}
bin=${PROFILE_BIN:-build/procsvc}
for t in valgrind callgrind_control callgrind_annotate wrk curl psql perf strace; do
	command -v "$t" >/dev/null || { echo "profile: $t is missing" >&2; exit 2; }
done
out=${PROFILE_OUT:-bench-results/profile-$(date -u +%Y%m%dT%H%M%SZ)-$(git describe --always --dirty 2>/dev/null || echo unknown)}
mkdir -p "$out"

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

pgport=$(free_port)
PG_OPTS="-c shared_buffers=256MB -c max_wal_size=4GB -c log_line_prefix=%a:" pg_cluster_start "$tmp" "$pgport" >/dev/null
export DATABASE_URL
DATABASE_URL=$(pg_cluster_url "$tmp" "$pgport")
sql() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"; }
$bin migrate up >/dev/null 2>&1
port=$(free_port)
url=http://127.0.0.1:$port
export PROCSVC_LISTEN=127.0.0.1:$port PROCSVC_APPS=bench:bench

# start_server [wrapper...]: the server, under the wrapper, ready.
start_server() {
	"$@" "$bin" serve 2>>"$tmp/server.log" &
	server_pid=$!
	for _ in $(seq 300); do curl -fs "$url/readyz" >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "profile: server did not start" >&2
	tail "$tmp/server.log" >&2
	exit 1
}
stop_server() {
	kill "$server_pid"
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

auth='"bk_app_code":"bench","bk_app_secret":"bench","bk_username":"bench"'
post() {
	local o
	o=$(curl -sS -X POST "$url$1" --data-binary "$2")
	case $o in *'"result":true'*) ;; *) echo "profile: $1 failed: ${o:0:300}" >&2; return 1 ;; esac
}
# The bodies of make bench's workloads a and c.
bind='{"ip":"127.0.0.1","port":"8001","protocol":"1","enable":true},{"ip":"127.0.0.1","port":"8002","protocol":"1","enable":true}'
proc() { printf '{"process_template_id":0,"process_info":{"bk_process_name":"proc%d","bk_func_name":"java%d","proc_num":1,"work_path":"/data/bkee","start_cmd":"./start.sh","bind_info":[%s]}}' "$1" "$1" "$bind"; }
start_server
hosts=$(for i in $(seq 1 100); do printf '%s{"bk_host_id":%d,"bk_host_innerip":"10.1.0.%d"}' "${sep:-}" "$i" "$i"; sep=,; done)
post /api/v3/procsvc/upsert_hosts "{$auth,\"hosts\":[$hosts]}"
post /api/v3/procsvc/upsert_modules "{$auth,\"modules\":[{\"bk_module_id\":60,\"bk_biz_id\":1,\"service_template_id\":0,\"default\":0}]}"
post /api/v3/procsvc/set_module_hosts "{$auth,\"bk_module_id\":60,\"bk_host_ids\":[$(seq -s, 1 100)]}"
printf '{%s,"bk_biz_id":1,"bk_module_id":60,"instances":[{"bk_host_id":1,"processes":[%s]}]}' "$auth" "$(proc 1)" >"$tmp/a.json"
printf '{%s,"bk_biz_id":1,"bk_module_id":60,"instances":[{"bk_host_id":1,"processes":[%s,%s,%s]}]}' "$auth" "$(proc 1)" "$(proc 2)" "$(proc 3)" >"$tmp/c-setup.json"
# batch100: make bench's 100 instances x 1 process x 1 bind row.
bind='{"ip":"127.0.0.1","port":"8001","protocol":"1","enable":true}'
{
	printf '{%s,"bk_biz_id":1,"bk_module_id":60,"instances":[' "$auth"
	for i in $(seq 1 100); do
		[ "$i" = 1 ] || printf ,
		printf '{"bk_host_id":%d,"processes":[%s]}' "$i" "$(proc 1)"
	done
	printf ']}'
} >"$tmp/batch100.json"
post /api/v3/create/proc/service_instance "$(cat "$tmp/c-setup.json")"
printf '{%s,"bk_biz_id":1,"service_instance_id":%d}' "$auth" "$(sql -c 'SELECT max(id) FROM service_instance')" >"$tmp/c.json"
stop_server

declare -A PATHS=([a]=/api/v3/create/proc/service_instance [c]=/api/v3/findmany/proc/process_instance [healthz]=/healthz
	[batch100]=/api/v3/create/proc/service_instance)

# requests NAME COUNT: COUNT requests of NAME over one keep-alive connection.
requests() {
	local name=$1 count=$2 i
	{
		for ((i = 0; i < count; i++)); do
			printf 'url = "%s%s"\noutput = /dev/null\n' "$url" "${PATHS[$name]}"
		done
	} >"$tmp/curl.cfg"
	if [ "$name" = healthz ]; then
		curl -s -K "$tmp/curl.cfg"
	else
		curl -s -H 'Content-Type: application/json' --data-binary "@$tmp/$name.json" -K "$tmp/curl.cfg"
	fi
}

# component OBJECT-PATH: the group a shared object's cost is counted in.
# shellcheck disable=SC2016 # awk's own $ fields
summary_awk='
# Self cost (Ir) by object, from a callgrind output file: cost lines after
# "calls=" are the callee inclusive cost and are not counted.
function objname(s,   id, rest) {
	if (match(s, /^\([0-9]+\)/)) {
		id = substr(s, RSTART, RLENGTH); rest = substr(s, RLENGTH + 2)
		if (rest != "") names[id] = rest
		return names[id]
	}
	return s
}
/^ob=/ { ob = objname(substr($0, 4)); next }
/^cob=/ { objname(substr($0, 5)); next }
/^calls=/ { skip = 1; next }
/^[0-9+*-]/ { if (skip) { skip = 0; next } self[ob] += $2; total += $2; next }
END {
	for (o in self) {
		g = "other"
		if (o ~ /procsvc$/) g = "procsvc"
		else if (o ~ /libcivetweb/) g = "CivetWeb"
		else if (o ~ /libjansson/) g = "Jansson"
		else if (o ~ /libpq/) g = "libpq"
		else if (o ~ /libc\.so|libc-/) g = "libc (malloc, string, stdio)"
		else if (o ~ /libssl|libcrypto|libgssapi|libkrb|libk5|libldap|liblber|libsasl/) g = "TLS/GSS libraries"
		else if (o ~ /ld-linux/) g = "dynamic loader"
		else if (o ~ /vdso/) g = "vdso"
		grp[g] += self[o]
	}
	for (g in grp) printf "%10.0f  %5.1f%%  %s\n", grp[g] / N, 100 * grp[g] / total, g
	printf "%10.0f          total\n", total / N
}'

for name in $only; do
	[ -n "${PATHS[$name]:-}" ] || { echo "profile: no workload $name" >&2; exit 2; }
	echo "== $name (${PATHS[$name]})"
	# Instructions: callgrind, counters zeroed after the warm-up.
	start_server valgrind --tool=callgrind --callgrind-out-file="$out/$name.callgrind" --separate-threads=no
	requests "$name" 200
	callgrind_control -z "$server_pid" >/dev/null
	requests "$name" "$n"
	callgrind_control -d "$server_pid" >/dev/null
	stop_server
	f=$out/$name.callgrind.1
	echo "instructions per request by component ($n requests, self cost):"
	awk -v N="$n" "$summary_awk" "$f" | sort -rn | tee "$out/$name.components.txt"
	callgrind_annotate --inclusive=no --threshold=100 "$f" 2>/dev/null | sed -n '/file:function/,$p' |
		grep -E '^ *[0-9,]+ ' | grep -v -e ':clone ' -e ':start_thread ' | head -n 60 >"$out/$name.functions.txt" || true
	echo "top functions (self Ir over $n requests): $out/$name.functions.txt"
	head -n 15 "$out/$name.functions.txt"

	# System calls, context switches, CPU: the release build at $conns clients.
	start_server
	if [ "$name" = healthz ]; then
		wrk -t1 -c"$conns" -d1s "$url${PATHS[$name]}" >/dev/null
	else
		cat >"$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open("$tmp/$name.json", "rb")); wrk.body = f:read("*a"); f:close()
LUA
		wrk -t1 -c"$conns" -d1s -s "$tmp/post.lua" "$url${PATHS[$name]}" >/dev/null
	fi
	ctx() { cat /proc/"$server_pid"/task/*/status | awk '/^voluntary_ctxt/ { v += $2 } /^nonvoluntary_ctxt/ { n += $2 } END { print v, n }'; }
	read -r v0 n0 <<<"$(ctx)"
	perf stat -x, -e raw_syscalls:sys_enter,context-switches,task-clock -p "$server_pid" -o "$tmp/perf.txt" -- sleep "$secs" &
	perf_pid=$!
	sleep 0.2
	if [ "$name" = healthz ]; then
		wrk -t2 -c"$conns" -d"$((secs - 1))s" "$url${PATHS[$name]}" >"$tmp/wrk.txt"
	else
		wrk -t2 -c"$conns" -d"$((secs - 1))s" -s "$tmp/post.lua" "$url${PATHS[$name]}" >"$tmp/wrk.txt"
	fi
	wait "$perf_pid"
	read -r v1 n1 <<<"$(ctx)"
	reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$tmp/wrk.txt")
	# Which system calls: strace slows the server down (fewer requests,
	# other interleavings), so this is a breakdown, not the count above.
	strace -c -f -p "$server_pid" -o "$tmp/strace.txt" 2>/dev/null &
	strace_pid=$!
	sleep 0.5
	if [ "$name" = healthz ]; then
		wrk -t2 -c"$conns" -d2s "$url${PATHS[$name]}" >"$tmp/wrk2.txt"
	else
		wrk -t2 -c"$conns" -d2s -s "$tmp/post.lua" "$url${PATHS[$name]}" >"$tmp/wrk2.txt"
	fi
	kill -INT "$strace_pid"
	wait "$strace_pid" 2>/dev/null || true
	reqs2=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$tmp/wrk2.txt")
	stop_server
	awk -F, -v r="$reqs" -v v=$((v1 - v0)) -v nv=$((n1 - n0)) '
		$3 == "raw_syscalls:sys_enter" { s = $1 } $3 == "context-switches" { cs = $1 } $3 == "task-clock" { t = $1 }
		END {
			printf "at %s clients, %d requests: per request %.2f system calls, %.2f context switches (%.2f voluntary, %.2f involuntary), %.1f us CPU\n",
				"'"$conns"'", r, s / r, cs / r, v / r, nv / r, t * 1000 / r
		}' "$tmp/perf.txt" | tee "$out/$name.syscalls.txt"
	awk -v r="$reqs2" '$NF ~ /^[a-z_0-9]+$/ && $(NF-1) ~ /^[0-9]+$/ && $NF != "total" {
		calls = $4 ~ /^[0-9]+$/ && NF >= 5 ? $4 : $(NF-1)
		printf "  %-16s %5.2f per request\n", $NF, calls / r }' "$tmp/strace.txt" |
		sort -k2 -rn | head -n 8 | tee -a "$out/$name.syscalls.txt"
done
# --- the CPU budget ---------------------------------------------------------
# CPU ticks (user, system) of a process, or of all the cluster's backends.
ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }
# The backends' CPU: those alive, plus what the ones that ended left in
# the postmaster's counters for its reaped children.
pg_ticks() {
	local pm u s p
	pm=$(head -n 1 "$tmp/pgdata/postmaster.pid")
	read -r u s <<<"$(awk '{ print $16, $17 }' "/proc/$pm/stat")"
	for p in $(pgrep -P "$pm"); do
		read -r a b <<<"$(ticks "$p" 2>/dev/null || echo "0 0")"
		u=$((u + a)); s=$((s + b))
	done
	echo "$u $s"
}
# budget LABEL REQUESTS CLIENT_U CLIENT_S SVC_U SVC_S PG_U PG_S (ticks of 10 ms)
budget() {
	awk -v l="$1" -v r="$2" -v cu="$3" -v cs="$4" -v su="$5" -v ss="$6" -v pu="$7" -v ps="$8" 'BEGIN {
		t = 1e4 / r  # us per tick per request
		printf "%-22s %8d req  client %5.1f+%5.1f  service %5.1f+%5.1f  postgres %5.1f+%5.1f  total %6.1f us CPU (user+system) per request\n",
			l, r, cu * t, cs * t, su * t, ss * t, pu * t, ps * t, (cu + cs + su + ss + pu + ps) * t }' | tee -a "$out/budget.txt"
}
pg_session_options=$(grep -ho '"-c search_path=[^"]*"' src/db/*.c | head -n 1 | tr -d '"')
pglog=$tmp/postgres.log
for name in $only; do
	[ "$name" = healthz ] && continue
	echo "== CPU budget of $name at $conns clients, ${secs}s"
	start_server
	cat >"$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open("$tmp/$name.json", "rb")); wrk.body = f:read("*a"); f:close()
LUA
	wrk -t2 -c"$conns" -d1s -s "$tmp/post.lua" "$url${PATHS[$name]}" >/dev/null
	read -r su0 ss0 <<<"$(ticks "$server_pid")"
	read -r pu0 ps0 <<<"$(pg_ticks)"
	/usr/bin/time -f "TIME %U %S" -o "$tmp/time.txt" wrk -t2 -c"$conns" -d"${secs}s" -s "$tmp/post.lua" "$url${PATHS[$name]}" >"$tmp/wrk.txt"
	read -r su1 ss1 <<<"$(ticks "$server_pid")"
	read -r pu1 ps1 <<<"$(pg_ticks)"
	reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$tmp/wrk.txt")
	read -r _ cu cs <"$tmp/time.txt"
	budget "procsvc" "$reqs" "$(awk -v v="$cu" 'BEGIN { print int(v * 100) }')" "$(awk -v v="$cs" 'BEGIN { print int(v * 100) }')" \
		$((su1 - su0)) $((ss1 - ss0)) $((pu1 - pu0)) $((ps1 - ps0))
	# The ceiling: procsvc's statements for one request, through pgbench.
	if [ -n "$pglog" ]; then
		sql -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
		sleep 0.2
		size=$(stat -c %s "$pglog")
		curl -s -X POST "$url${PATHS[$name]}" --data-binary "@$tmp/$name.json" >/dev/null
		sleep 0.3
		sql -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null
		tail -c +"$((size + 1))" "$pglog" >"$tmp/$name.log"
		awk -v params="$tmp/$name.params" -v name="$name" -f scripts/bench_sql.awk "$tmp/$name.log" >"$tmp/$name.sql"
		stop_server
		sleep 0.5 # procsvc's sessions end
		args=()
		while IFS= read -r line; do args+=(-D "$line"); done <"$tmp/$name.params"
		read -r pu0 ps0 <<<"$(pg_ticks)"
		PGOPTIONS=$pg_session_options /usr/bin/time -f "TIME %U %S" -o "$tmp/time.txt" \
			pgbench -n -M prepared -c "$conns" -j 2 -T "$secs" -f "$tmp/$name.sql" "${args[@]}" "$DATABASE_URL" >"$tmp/pgb.txt" 2>&1
		read -r pu1 ps1 <<<"$(pg_ticks)"
		reqs=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$tmp/pgb.txt")
		read -r _ cu cs <"$tmp/time.txt"
		budget "ceiling (pgbench)" "${reqs:-1}" "$(awk -v v="$cu" 'BEGIN { print int(v * 100) }')" "$(awk -v v="$cs" 'BEGIN { print int(v * 100) }')" \
			0 0 $((pu1 - pu0)) $((ps1 - ps0))
	else
		stop_server
	fi
done
echo "callgrind files and reports: $out"
