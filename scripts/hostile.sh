# shellcheck shell=bash
#
# hostile.sh: the hostile group of `make test` (issue 8): build/test_hostile
# throws raw-socket attacks at a sanitizer server of its own, configured
# with a small pool and short timeouts so that exhausting them is quick:
#
#   PROCSVC_DB_POOL=4 PROCSVC_DB_WAIT_MS=1500 PROCSVC_REQUEST_TIMEOUT_MS=6000
#   PROCSVC_DECODE_MEMORY=134217728 (128 MiB)
#
# Sourced by scripts/test.sh, whose helpers it uses (say, ok, bad,
# free_port, $tmp, $db_url, $SERVER_BIN, SANITIZER_ENV, SANITIZER_RE).
# run_hostile adds the suite's own counts, plus one result for a clean
# shutdown and sanitizer-clean log of that server.

HOSTILE_BIN=${TEST_HOSTILE:-build/test_hostile}

# tmp and db_url are test.sh's.
# shellcheck disable=SC2154

run_hostile() {
	local port pid log=$tmp/hostile-server.log out=$tmp/hostile.out rc status deadline
	if [ ! -x "$HOSTILE_BIN" ] || [ ! -x "$SERVER_BIN" ]; then
		say "hostile: $HOSTILE_BIN or $SERVER_BIN not built"
		bad
		return 1
	fi
	port=$(free_port) || { bad; return 1; }
	env DATABASE_URL="$db_url" PROCSVC_LISTEN="127.0.0.1:$port" \
		PROCSVC_APPS=esb_test:xxx PROCSVC_DB_POOL=4 PROCSVC_DB_WAIT_MS=1500 \
		PROCSVC_REQUEST_TIMEOUT_MS=6000 PROCSVC_DECODE_MEMORY=134217728 \
		"${SANITIZER_ENV[@]}" "$SERVER_BIN" serve >"$log" 2>&1 &
	pid=$!
	deadline=$((SECONDS + 30))
	until curl -fsS --noproxy '*' --max-time 2 -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; do
		if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
			say "hostile: the server did not start"
			tail -n 20 "$log"
			kill -KILL "$pid" 2>/dev/null
			bad
			return 1
		fi
		sleep 0.1
	done
	say "hostile: server on 127.0.0.1:$port (pid $pid)"
	env PROCSVC_PORT="$port" PROCSVC_PID="$pid" TEST_DATABASE_URL="$db_url" \
		timeout 300 "$HOSTILE_BIN" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if count_summary "$out"; then
		say "hostile: $summary_passed passed, $summary_failed failed"
	else
		say "hostile: ended without a summary (exit $rc)"
		bad
	fi
	# The same process must still be there, stop cleanly, and have logged
	# no sanitizer report.
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		say "hostile: the server died (status $?)"
		tail -n 40 "$log"
		bad
		return 1
	fi
	kill -TERM "$pid"
	deadline=$((SECONDS + 20))
	while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		say "hostile: server still running 20 s after SIGTERM"
		bad
		return 1
	fi
	wait "$pid"
	status=$?
	cp "$log" build/test-hostile-server.log 2>/dev/null
	if [ "$status" -ne 0 ] || grep -qE "$SANITIZER_RE" "$log"; then
		grep -h -A 40 -E "$SANITIZER_RE" "$log" | head -n 200
		say "hostile: server exit status $status, or sanitizer reports (above)"
		bad
	else
		say "hostile: server stopped cleanly, sanitizers clean"
		ok
	fi
}
