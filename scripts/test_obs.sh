# shellcheck shell=bash
# tmp, db_url, server_port and the like are test.sh's (SC2154).
# shellcheck disable=SC2154
#
# test_obs.sh: logs and metrics as an operator uses them, sourced by
# scripts/test.sh (it uses its say/ok/bad, $tmp, $db_url, $cluster_dir,
# $db_port, $server_port, $SERVER_BIN, $SANITIZER_ENV and the running
# server's log $tmp/server.log). Each obs_* function adds one result.
#
#   obs_promtool        promtool check metrics on a real scrape; the example
#                       alert rules checked and unit-tested
#   obs_metric_names    the exact metric names, types and label names; api
#                       label values bounded (unknown paths add no series)
#   obs_rejected        requests CivetWeb rejects or cannot route: one access
#                       line each, counted in /metrics
#   obs_db_request_id   a database error line carries its request's id
#   obs_levels          PROCSVC_LOG_LEVEL and PROCSVC_LOG_PROBES=off, on
#                       servers of their own

PROMTOOL=${PROMTOOL:-promtool}

obs_url() { echo "http://127.0.0.1:${2:-$server_port}$1"; }

# obs_scrape FILE [PORT]: the metrics page into FILE.
obs_scrape() {
	curl -fsS --noproxy '*' --max-time 10 -o "$1" "$(obs_url /metrics "${2:-}")"
}

# obs_value FILE SERIES: the value of one exact series line, 0 when absent.
obs_value() {
	awk -v s="$2" '$1 == s { v = $2 } END { print v + 0 }' "$1"
}

# obs_raw PORT BYTES: BYTES (printf %b escapes) on a new connection, the
# answer on stdout (the server closes these connections after answering).
obs_raw() {
	local fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf '%b' "$2" >&"$fd"
	timeout 5 cat <&"$fd"
	exec {fd}>&-
}

# obs_line LOG ID: the access line of request ID in LOG.
obs_line() { grep -F "\"request_id\":\"$2\"" "$1" | grep -F '"type":"access"'; }

obs_result() {
	if [ -z "$obs_fails" ]; then
		say "$1"
		ok
	else
		say "$1: FAILED${obs_fails}"
		bad
	fi
}

obs_promtool() {
	local page=$tmp/metrics-promtool.txt out
	obs_fails=""
	if ! command -v "$PROMTOOL" >/dev/null; then
		say "promtool: $PROMTOOL missing (make test fetches it: scripts/promtool.sh)"
		bad
		return 1
	fi
	obs_scrape "$page" || obs_fails="$obs_fails; no scrape"
	out=$("$PROMTOOL" check metrics <"$page" 2>&1) || obs_fails="$obs_fails; check metrics: $out"
	out=$("$PROMTOOL" check rules packaging/procsvc-alerts.yml 2>&1) ||
		obs_fails="$obs_fails; check rules: $out"
	out=$("$PROMTOOL" test rules tests/obs/alerts_test.yml 2>&1) ||
		obs_fails="$obs_fails; test rules: $(head -c 2000 <<<"$out")"
	obs_result "promtool: the metrics page passes check metrics; the example alerts pass check and test rules"
}

# Every family with its type, and every sample name with its label names:
# exactly these, none more, none less.
obs_expected_names() {
	cat <<'EOF'
TYPE procsvc_build_info gauge
TYPE procsvc_db_errors_total counter
TYPE procsvc_db_pool_idle gauge
TYPE procsvc_db_pool_in_use gauge
TYPE procsvc_db_pool_open gauge
TYPE procsvc_db_pool_size gauge
TYPE procsvc_db_pool_wait_timeouts_total counter
TYPE procsvc_db_pool_waiting gauge
TYPE procsvc_db_replica_fallbacks_total counter
TYPE procsvc_db_replica_reads_total counter
TYPE procsvc_db_replica_up gauge
TYPE procsvc_decode_memory_bytes gauge
TYPE procsvc_decode_memory_waiting gauge
TYPE procsvc_http_thread_stack_bytes gauge
TYPE procsvc_http_threads gauge
TYPE procsvc_idempotent_requests_total counter
TYPE procsvc_in_flight_requests gauge
TYPE procsvc_request_duration_seconds histogram
TYPE procsvc_requests_total counter
TYPE process_cpu_seconds_total counter
TYPE process_max_fds gauge
TYPE process_open_fds gauge
TYPE process_resident_memory_bytes gauge
TYPE process_start_time_seconds gauge
TYPE process_virtual_memory_bytes gauge
process_cpu_seconds_total -
process_max_fds -
process_open_fds -
process_resident_memory_bytes -
process_start_time_seconds -
process_virtual_memory_bytes -
procsvc_build_info commit,version
procsvc_db_errors_total kind
procsvc_db_pool_idle -
procsvc_db_pool_in_use -
procsvc_db_pool_open -
procsvc_db_pool_size -
procsvc_db_pool_wait_timeouts_total -
procsvc_db_pool_waiting -
procsvc_db_replica_fallbacks_total reason
procsvc_db_replica_reads_total -
procsvc_db_replica_up -
procsvc_decode_memory_bytes -
procsvc_decode_memory_waiting -
procsvc_http_thread_stack_bytes -
procsvc_http_threads -
procsvc_idempotent_requests_total outcome
procsvc_in_flight_requests -
procsvc_request_duration_seconds_bucket api,le
procsvc_request_duration_seconds_count api
procsvc_request_duration_seconds_sum api
procsvc_requests_total api,code,status
EOF
}

# What the page has, in the form of obs_expected_names.
obs_names_of() {
	awk '
	/^# TYPE / { print "TYPE " $3 " " $4; next }
	/^#/ || NF == 0 { next }
	{
		name = $1; labels = "-"
		if ((i = index(name, "{")) > 0) {
			body = substr(name, i + 1, length(name) - i - 1)
			name = substr(name, 1, i - 1)
			n = split(body, kv, ",")
			labels = ""
			for (k = 1; k <= n; k++) { split(kv[k], p, "="); key[k] = p[1] }
			# sort the label names (few: insertion sort)
			for (a = 2; a <= n; a++) for (b = a; b > 1 && key[b - 1] > key[b]; b--) { t = key[b]; key[b] = key[b - 1]; key[b - 1] = t }
			for (k = 1; k <= n; k++) labels = labels (k > 1 ? "," : "") key[k]
		}
		print name " " labels
	}' "$1" | sort -u
}

obs_metric_names() {
	local page=$tmp/metrics-names.txt after=$tmp/metrics-after.txt want got apis bad_apis i
	obs_fails=""
	obs_scrape "$page" || { say "metric names: no scrape"; bad; return 1; }
	want=$(obs_expected_names | sort -u)
	got=$(obs_names_of "$page")
	if [ "$want" != "$got" ]; then
		obs_fails="$obs_fails; names differ (- expected, + served): $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"
	fi
	# The api label takes the route names, the operations endpoints and "-" only.
	apis=$( { sed -n 's/^\t{ "\([a-z_]*\)", "\([^"]*\)".*/\1/p' src/http/router.c; printf '%s\n' healthz readyz metrics openapi -; } | sort -u)
	bad_apis=$(grep -o 'api="[^"]*"' "$page" | sed 's/api="\(.*\)"/\1/' | sort -u | comm -23 - <(echo "$apis"))
	[ -z "$bad_apis" ] || obs_fails="$obs_fails; unexpected api label values: $bad_apis"
	# Unknown paths and methods make no new series: they are all api "-".
	for i in $(seq 1 40); do
		curl -s --noproxy '*' -o /dev/null -X POST "$(obs_url "/obs/unknown/$i$RANDOM")" -d '{}'
		curl -s --noproxy '*' -o /dev/null -X "M$i" "$(obs_url "/api/v3/x$i")"
	done
	obs_scrape "$after" || obs_fails="$obs_fails; no second scrape"
	# At most two new series (404, and 400 for methods CivetWeb does not
	# know), both api "-"; nothing else changes shape.
	if [ "$(grep -c '^procsvc_requests_total' "$after")" -gt "$(($(grep -c '^procsvc_requests_total' "$page") + 2))" ] ||
		[ "$(comm -13 <(grep '^procsvc_requests_total' "$page" | cut -d' ' -f1 | sort) \
			<(grep '^procsvc_requests_total' "$after" | cut -d' ' -f1 | sort) | grep -vc 'api="-"')" -ne 0 ] ||
		[ "$(grep -vc '^procsvc_requests_total\|^#' "$after")" != "$(grep -vc '^procsvc_requests_total\|^#' "$page")" ]; then
		obs_fails="$obs_fails; 80 requests to unknown paths made new series: $(diff "$page" "$after" | grep '^>' | grep -v ' [0-9.e+]*$' | head -c 300)"
	fi
	obs_result "metric names: exactly the documented names, types and labels; api values bounded"
}

# Requests CivetWeb rejects (HTTP/9.9, a malformed Content-Length,
# garbage) or cannot route ("*", another host's absolute URI): each is
# answered with the envelope, logged once with its request id where it
# sent one, and counted under api "-".
obs_rejected() {
	local before=$tmp/metrics-rej1.txt after=$tmp/metrics-rej2.txt log=$tmp/server.log
	local series='procsvc_requests_total{api="-",status="400",code="1199000"}' n0 n1 id answer
	obs_fails=""
	obs_scrape "$before" || obs_fails="$obs_fails; no scrape"
	for id in obs-rej-version obs-rej-length obs-rej-star obs-rej-absolute; do
		case $id in
		obs-rej-version) answer=$(obs_raw "$server_port" "GET /healthz HTTP/9.9\r\nX-Request-Id: $id\r\n\r\n") ;;
		obs-rej-length) answer=$(obs_raw "$server_port" "POST /api/v3/procsvc/upsert_hosts HTTP/1.1\r\nX-Request-Id: $id\r\nContent-Length: -5\r\n\r\n") ;;
		obs-rej-star) answer=$(obs_raw "$server_port" "OPTIONS * HTTP/1.1\r\nX-Request-Id: $id\r\n\r\n") ;;
		obs-rej-absolute) answer=$(obs_raw "$server_port" "GET http://elsewhere:1/healthz HTTP/1.1\r\nX-Request-Id: $id\r\n\r\n") ;;
		esac
		[[ "$answer" == "HTTP/1.1 400 "*'"code":1199000'* ]] ||
			obs_fails="$obs_fails; $id answered: $(head -c 200 <<<"$answer")"
	done
	answer=$(obs_raw "$server_port" '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03')
	[[ "$answer" == "HTTP/1.1 400 "* ]] || obs_fails="$obs_fails; a TLS hello answered: $(head -c 200 <<<"$answer")"
	obs_scrape "$after" || obs_fails="$obs_fails; no scrape"
	n0=$(obs_value "$before" "$series")
	n1=$(obs_value "$after" "$series")
	[ "$((n1 - n0))" -eq 5 ] || obs_fails="$obs_fails; $series went from $n0 to $n1, want +5"
	# The lines are there once each, with what CivetWeb could parse.
	for id in obs-rej-version obs-rej-length obs-rej-star obs-rej-absolute; do
		[ "$(obs_line "$log" "$id" | grep -c .)" -eq 1 ] || obs_fails="$obs_fails; not one access line for $id"
	done
	obs_line "$log" obs-rej-version | grep -q '"level":"info".*"client":"127.0.0.1:[0-9]*","method":"GET","path":"/healthz","status":400,"code":1199000' ||
		obs_fails="$obs_fails; access line of obs-rej-version: $(obs_line "$log" obs-rej-version)"
	obs_line "$log" obs-rej-star | grep -q '"method":"OPTIONS","path":"\*","status":400' ||
		obs_fails="$obs_fails; access line of obs-rej-star: $(obs_line "$log" obs-rej-star)"
	grep -F '"type":"access"' "$log" | grep -q '"method":"","path":"","status":400,"code":1199000' ||
		obs_fails="$obs_fails; no access line for the TLS hello"
	obs_result "CivetWeb's rejections and unroutable targets: answered 400/1199000, one access line each, counted under api \"-\""
}

# The database stops under the running server: the error line of the
# failed connection carries the request's id, its access line is a warn
# with status 503, and procsvc_db_errors_total{kind="connect"} counts it.
obs_db_request_id() {
	local log=$tmp/server.log before=$tmp/metrics-db1.txt after=$tmp/metrics-db2.txt id=obs-db-error-1 n0 n1
	local auth='"bk_app_code":"esb_test","bk_app_secret":"xxx","bk_username":"admin"'
	obs_fails=""
	[ -n "$cluster_dir" ] || { say "request id on database errors: skipped (external database)"; return 0; }
	obs_scrape "$before" || obs_fails="$obs_fails; no scrape"
	pg_cluster_stop "$cluster_dir" >/dev/null 2>&1
	curl -s --noproxy '*' -o /dev/null -H "X-Request-Id: $id" -X POST \
		"$(obs_url /api/v3/findmany/proc/process_instance)" -d "{$auth,\"bk_biz_id\":1,\"service_instance_id\":1}"
	pg_cluster_start "$cluster_dir" "$db_port" >/dev/null || obs_fails="$obs_fails; restart failed"
	obs_scrape "$after" || obs_fails="$obs_fails; no scrape"
	grep -F "\"request_id\":\"$id\"" "$log" | grep -q '"level":"error","request_id":"[^"]*","msg":"database connection failed' ||
		obs_fails="$obs_fails; no error line with the request id: $(grep -F "$id" "$log" | head -c 600)"
	obs_line "$log" "$id" | grep -q '"level":"warn".*"status":503,"code":1199999' ||
		obs_fails="$obs_fails; access line: $(obs_line "$log" "$id")"
	n0=$(obs_value "$before" 'procsvc_db_errors_total{kind="connect"}')
	n1=$(obs_value "$after" 'procsvc_db_errors_total{kind="connect"}')
	[ "$n1" -gt "$n0" ] || obs_fails="$obs_fails; procsvc_db_errors_total{kind=\"connect\"} stayed $n0"
	obs_result "database errors: the error line carries the request id, the access line is a warn, counted by kind"
}

# obs_serve LOG PORT ENV...: a sanitizer server of the test's own, with
# ENV added, until /healthz answers (its database may be unreachable).
obs_serve() {
	local log=$1 port=$2 deadline=$((SECONDS + 30))
	shift 2
	env DATABASE_URL="$db_url" PROCSVC_LISTEN="127.0.0.1:$port" PROCSVC_APPS=esb_test:xxx \
		PROCSVC_THREADS=8 "${SANITIZER_ENV[@]}" "$@" "$SERVER_BIN" serve >"$log" 2>&1 &
	obs_pid=$!
	until curl -fsS --noproxy '*' --max-time 2 -o /dev/null "$(obs_url /healthz "$port")" 2>/dev/null; do
		if ! kill -0 "$obs_pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
			obs_fails="$obs_fails; a server did not start: $(tail -n 5 "$log")"
			return 1
		fi
		sleep 0.1
	done
}

obs_stop() {
	kill -TERM "$obs_pid" 2>/dev/null
	wait "$obs_pid" 2>/dev/null
	grep -qE "$SANITIZER_RE" "$1" && obs_fails="$obs_fails; sanitizer report in $1"
}

obs_levels() {
	local warn=$tmp/obs-warn.log debug=$tmp/obs-debug.log quiet=$tmp/obs-quiet.log
	local page=$tmp/metrics-levels.txt port closed
	local auth='"bk_app_code":"esb_test","bk_app_secret":"xxx","bk_username":"admin"'
	obs_fails=""
	port=$(free_port)
	closed=$(free_port)
	# warn, probes quiet, a database that is not there: API requests 503.
	if obs_serve "$warn" "$port" PROCSVC_LOG_LEVEL=warn PROCSVC_LOG_PROBES=off \
		DATABASE_URL="postgresql://postgres@127.0.0.1:$closed/procsvc"; then
		curl -s --noproxy '*' -o /dev/null "$(obs_url /healthz "$port")"
		curl -s --noproxy '*' -o /dev/null --head "$(obs_url /readyz "$port")"
		curl -s --noproxy '*' -o /dev/null -X POST "$(obs_url /obs-not-found "$port")" -H 'X-Request-Id: obs-lvl-404'
		curl -s --noproxy '*' -o /dev/null -X POST "$(obs_url /healthz "$port")" -H 'X-Request-Id: obs-lvl-405'
		curl -s --noproxy '*' -o /dev/null -H 'X-Request-Id: obs-lvl-503' -X POST \
			"$(obs_url /api/v3/findmany/proc/process_instance "$port")" -d "{$auth,\"bk_biz_id\":1,\"service_instance_id\":1}"
		obs_scrape "$page" "$port" || obs_fails="$obs_fails; no scrape"
		obs_stop "$warn"
		grep -q '"level":"\(info\|debug\)"' "$warn" && obs_fails="$obs_fails; info or debug lines at warn: $(grep -m 2 '"level":"\(info\|debug\)"' "$warn")"
		grep -q '"level":"warn".*serving anyway' "$warn" || obs_fails="$obs_fails; the start-up warning is missing"
		obs_line "$warn" obs-lvl-503 | grep -q '"level":"warn".*"status":503' || obs_fails="$obs_fails; no 503 access line at warn"
		grep -F '"request_id":"obs-lvl-503"' "$warn" | grep -q '"level":"error"' || obs_fails="$obs_fails; no error line for obs-lvl-503"
		obs_line "$warn" obs-lvl-404 | grep -q . && obs_fails="$obs_fails; a 404 access line (info) at warn"
		grep -F '"type":"access"' "$warn" | grep -q '"path":"/\(healthz\|readyz\|metrics\)"' &&
			obs_fails="$obs_fails; probe access lines with PROCSVC_LOG_PROBES=off"
		# Quiet probes are still counted (/healthz also by obs_serve's
		# wait for the server); the scrape itself counts once done.
		[ "$(obs_value "$page" 'procsvc_requests_total{api="healthz",status="200",code="0"}')" -ge 2 ] &&
			[ "$(obs_value "$page" 'procsvc_requests_total{api="readyz",status="503",code="0"}')" -eq 1 ] &&
			[ "$(obs_value "$page" 'procsvc_requests_total{api="healthz",status="405",code="1199006"}')" -eq 1 ] ||
			obs_fails="$obs_fails; probes not counted: $(grep 'api="\(healthz\|readyz\)"' "$page" | grep requests_total | tr '\n' ' ')"
	fi
	# debug: the connection-opened lines, and probes logged by default.
	port=$(free_port)
	if obs_serve "$debug" "$port" PROCSVC_LOG_LEVEL=debug; then
		curl -s --noproxy '*' -o /dev/null -H 'X-Request-Id: obs-lvl-probe' "$(obs_url /healthz "$port")"
		curl -s --noproxy '*' -o /dev/null -H 'X-Request-Id: obs-lvl-list' -X POST \
			"$(obs_url /api/v3/findmany/proc/process_instance "$port")" -d "{$auth,\"bk_biz_id\":1,\"service_instance_id\":1}"
		obs_stop "$debug"
		grep -F '"level":"debug"' "$debug" | grep -q 'database connection opened' ||
			obs_fails="$obs_fails; no debug line at debug"
		obs_line "$debug" obs-lvl-probe | grep -q '"level":"info".*"path":"/healthz","status":200' ||
			obs_fails="$obs_fails; no probe access line by default"
		obs_line "$debug" obs-lvl-list | grep -q '"status":200,"code":0,"duration_ms":[0-9.]*,"request_bytes":[1-9][0-9]*,"response_bytes":[1-9][0-9]*,"app":"esb_test","operator":"admin","tenant":"0"' ||
			obs_fails="$obs_fails; access line fields: $(obs_line "$debug" obs-lvl-list)"
	fi
	# PROCSVC_LOG_PROBES=off at info: the probes are quiet, the document
	# (fetched by people and tools, not polled) keeps its access line.
	port=$(free_port)
	if obs_serve "$quiet" "$port" PROCSVC_LOG_PROBES=off; then
		curl -s --noproxy '*' -o /dev/null -H 'X-Request-Id: obs-quiet-probe' "$(obs_url /healthz "$port")"
		curl -s --noproxy '*' -o /dev/null -H 'X-Request-Id: obs-quiet-doc' "$(obs_url /openapi.yaml "$port")"
		obs_stop "$quiet"
		obs_line "$quiet" obs-quiet-probe | grep -q . && obs_fails="$obs_fails; a probe access line with PROCSVC_LOG_PROBES=off at info"
		obs_line "$quiet" obs-quiet-doc | grep -q '"level":"info".*"path":"/openapi.yaml","status":200' ||
			obs_fails="$obs_fails; no access line for /openapi.yaml with PROCSVC_LOG_PROBES=off"
	fi
	obs_result "PROCSVC_LOG_LEVEL filters lines; PROCSVC_LOG_PROBES=off quiets probe lines (not /openapi.yaml), still counted"
}
