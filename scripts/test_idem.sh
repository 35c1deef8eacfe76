# shellcheck shell=bash
# tmp, db_url, server_port and the like are test.sh's (SC2154).
# shellcheck disable=SC2154
#
# test_idem.sh: X-Idempotency-Key and the graceful stop, where they need
# more than the HTTP cases can give: servers of their own (a key lifetime
# of seconds; SIGTERM while requests wait on a table lock), the statements
# a keyed request costs, and answers compared byte for byte.
#
# Sourced by test.sh, which provides say/ok/bad, $tmp, $db_url,
# $server_port, $SERVER_BIN, $RUNNER_BIN, SANITIZER_ENV, SANITIZER_RE,
# free_port (pg.sh), obs_scrape/obs_value (test_obs.sh) and statements_for
# (round_trips loads pg_stat_statements first).

IDEM_AUTH='"bk_app_code":"esb_test","bk_app_secret":"xxx","bk_username":"admin"'
idem_fails=""
idem_pid=

idem_result() {
	if [ -z "$idem_fails" ]; then
		say "$1"
		ok
	else
		say "$1: FAILED${idem_fails}"
		bad
	fi
}

idem_psql() {
	psql -X -q -t -A -d "$db_url" -c "$1" 2>>"$tmp/idem-psql.log"
}

# idem_serve LOG PORT [ENV...]: the sanitizer server on PORT, ready.
idem_serve() {
	local log=$1 port=$2 deadline=$((SECONDS + 30))
	shift 2
	env DATABASE_URL="$db_url" PROCSVC_LISTEN="127.0.0.1:$port" PROCSVC_APPS=esb_test:xxx \
		PROCSVC_THREADS=32 "${SANITIZER_ENV[@]}" "$@" "$SERVER_BIN" serve >"$log" 2>&1 &
	idem_pid=$!
	until curl -fsS --noproxy '*' --max-time 2 -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; do
		if ! kill -0 "$idem_pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
			idem_fails="$idem_fails; a server did not start: $(tail -n 5 "$log")"
			return 1
		fi
		sleep 0.1
	done
}

# idem_stop LOG: SIGTERM; the exit status must be 0 within 30 s, the log
# free of sanitizer reports.
idem_stop() {
	local deadline=$((SECONDS + 30)) status
	kill -TERM "$idem_pid" 2>/dev/null
	while kill -0 "$idem_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.1
	done
	if kill -0 "$idem_pid" 2>/dev/null; then
		kill -KILL "$idem_pid" 2>/dev/null
		idem_fails="$idem_fails; still running 30 s after SIGTERM"
	fi
	wait "$idem_pid"
	status=$?
	[ "$status" -eq 0 ] || idem_fails="$idem_fails; exit status $status after SIGTERM"
	grep -qE "$SANITIZER_RE" "$1" && idem_fails="$idem_fails; sanitizer report in $1"
	idem_pid=
}

# idem_post PORT PATH KEY FIELDS OUT: a keyed POST; the body in OUT, the
# HTTP status (000: no answer) in OUT.status.
idem_post() {
	curl -s --noproxy '*' --max-time 60 -o "$5" -w '%{http_code}' -X POST \
		"http://127.0.0.1:$1$2" -H "X-Idempotency-Key: $3" -d "{$IDEM_AUTH,$4}" >"$5.status" 2>/dev/null
}

# The envelope's data, as text (it is the envelope's last member).
idem_data() {
	sed -n 's/.*"data":\(.*\)}$/\1/p' "$1"
}

# idem_wait_lock_waiters N: until N sessions wait for a lock (10 s).
idem_wait_lock_waiters() {
	local deadline=$((SECONDS + 10))
	while [ "$SECONDS" -lt "$deadline" ]; do
		[ "$(idem_psql "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# idem_lock SECONDS: service_instance locked against writes for SECONDS by
# a session of its own (in the background), held once this returns.
idem_lock() {
	local deadline=$((SECONDS + 10))
	psql -X -q -d "$db_url" -c "BEGIN; LOCK TABLE service_instance IN EXCLUSIVE MODE; SELECT pg_sleep($1); COMMIT;" \
		>/dev/null 2>&1 &
	until [ "$(idem_psql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'service_instance' AND l.mode = 'ExclusiveLock' AND l.granted")" = 1 ]; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# Hosts and a plain module of their own (business 95, module 9501).
idem_topology() {
	local port=$1 a=$IDEM_AUTH
	curl -s --noproxy '*' -o /dev/null -X POST "http://127.0.0.1:$port/api/v3/procsvc/upsert_hosts" -d "{$a,\"hosts\":[{\"bk_host_id\":9501,\"bk_host_innerip\":\"10.95.0.1\"}]}"
	curl -s --noproxy '*' -o /dev/null -X POST "http://127.0.0.1:$port/api/v3/procsvc/upsert_modules" -d "{$a,\"modules\":[{\"bk_module_id\":9501,\"bk_biz_id\":95}]}"
	curl -s --noproxy '*' -o /dev/null -X POST "http://127.0.0.1:$port/api/v3/procsvc/set_module_hosts" -d "{$a,\"bk_module_id\":9501,\"bk_host_ids\":[9501]}"
}

# The body of instance NAME in module 9501 (one process named NAME).
idem_si_fields() {
	printf '"bk_biz_id":95,"bk_module_id":9501,"instances":[{"bk_host_id":9501,"service_instance_name":"%s","processes":[{"process_info":{"bk_process_name":"%s","bk_func_name":"f"}}]}]' "$1" "$1"
}

# Every answered id of OUT files (code 0) is a whole batch in the database:
# the instance NAME with its one process; checks into idem_fails.
idem_audit() {
	local out name id got
	for out in "$@"; do
		name=${out##*/}
		id=$(idem_data "$out" | tr -d '[]')
		got=$(idem_psql "SELECT s.name, count(p.bk_process_id) FROM service_instance s LEFT JOIN process p ON p.service_instance_id = s.id WHERE s.id = ${id:-0} GROUP BY s.name")
		[ "$got" = "$name|1" ] || idem_fails="$idem_fails; $name answered [$id], the database has \"$got\""
	done
}

# SIGTERM while 8 keyed creates wait on a table lock: each gets its answer
# (200, its ids), a request after the signal gets 503 or no connection, the
# server exits 0, and the database holds exactly the 8 answered batches,
# whole; their keys hold the answers byte for byte. Then SIGTERM with a
# 1 s drain while 4 creates wait longer: their clients get no answer, the
# batches still commit, and after a restart the retries with the same keys
# get exactly those ids. 1 result.
idem_sigterm() {
	local port log=$tmp/idem-sigterm.log dir=$tmp/idem-sigterm i pids=() late n
	idem_fails=""
	mkdir -p "$dir"
	port=$(free_port)
	idem_serve "$log" "$port" || { idem_result "SIGTERM under load"; return; }
	idem_topology "$port"
	idem_lock 3 || idem_fails="$idem_fails; the table lock was not taken"
	for i in 1 2 3 4 5 6 7 8; do
		idem_post "$port" /api/v3/create/proc/service_instance "sig-a-$i" "$(idem_si_fields "sig-a-$i")" "$dir/sig-a-$i" &
		pids+=($!)
	done
	idem_wait_lock_waiters 8 || idem_fails="$idem_fails; the 8 creates never waited on the lock"
	kill -TERM "$idem_pid"
	sleep 0.3
	late=$(curl -s --noproxy '*' --max-time 5 -o /dev/null -w '%{http_code}' -X POST \
		"http://127.0.0.1:$port/api/v3/create/proc/service_instance" -H 'X-Idempotency-Key: sig-late' \
		-d "{$IDEM_AUTH,$(idem_si_fields sig-late)}")
	case $late in 503 | 000) ;; *) idem_fails="$idem_fails; a request after SIGTERM got $late" ;; esac
	wait "${pids[@]}"
	idem_stop "$log"
	for i in 1 2 3 4 5 6 7 8; do
		[ "$(cat "$dir/sig-a-$i.status")" = 200 ] && grep -q '"code":0,' "$dir/sig-a-$i" ||
			idem_fails="$idem_fails; sig-a-$i in flight at SIGTERM got $(cat "$dir/sig-a-$i.status") $(cat "$dir/sig-a-$i")"
		[ "$(idem_psql "SELECT answer FROM idempotency_key WHERE idempotency_key = 'sig-a-$i'")" = "$(idem_data "$dir/sig-a-$i")" ] ||
			idem_fails="$idem_fails; sig-a-$i: the stored answer is not the data sent"
	done
	idem_audit "$dir"/sig-a-[0-9]
	n=$(idem_psql "SELECT count(*) FROM service_instance WHERE name LIKE 'sig-%'")
	[ "$n" = 8 ] || idem_fails="$idem_fails; $n instances after the drain, want the 8 answered"

	# The drain gives up after 1 s: the answers are lost, the work is not.
	pids=()
	idem_serve "$log" "$port" PROCSVC_SHUTDOWN_TIMEOUT_S=1 || { idem_result "SIGTERM under load"; return; }
	idem_lock 4 || idem_fails="$idem_fails; the table lock was not taken"
	for i in 1 2 3 4; do
		idem_post "$port" /api/v3/create/proc/service_instance "sig-b-$i" "$(idem_si_fields "sig-b-$i")" "$dir/lost-b-$i" &
		pids+=($!)
	done
	idem_wait_lock_waiters 4 || idem_fails="$idem_fails; the 4 creates never waited on the lock"
	idem_stop "$log"
	wait "${pids[@]}"
	grep -q 'requests still running after 1 s' "$log" || idem_fails="$idem_fails; no warning about requests cut off"
	for i in 1 2 3 4; do
		[ "$(cat "$dir/lost-b-$i.status")" = 000 ] ||
			idem_fails="$idem_fails; sig-b-$i got an answer ($(cat "$dir/lost-b-$i.status")) after the server stopped answering"
	done
	n=$(idem_psql "SELECT count(*) FROM service_instance WHERE name LIKE 'sig-b-%'")
	[ "$n" = 4 ] || idem_fails="$idem_fails; $n sig-b instances committed, want 4"
	idem_serve "$log.2" "$port" || { idem_result "SIGTERM under load"; return; }
	for i in 1 2 3 4; do
		idem_post "$port" /api/v3/create/proc/service_instance "sig-b-$i" "$(idem_si_fields "sig-b-$i")" "$dir/sig-b-$i"
		[ "$(cat "$dir/sig-b-$i.status")" = 200 ] ||
			idem_fails="$idem_fails; the retry of sig-b-$i got $(cat "$dir/sig-b-$i.status")"
	done
	idem_stop "$log.2"
	idem_audit "$dir"/sig-b-[0-9]
	n=$(idem_psql "SELECT count(*) FROM service_instance WHERE name LIKE 'sig-b-%'")
	[ "$n" = 4 ] || idem_fails="$idem_fails; $n sig-b instances after the retries, want 4"
	idem_result "SIGTERM under load: requests in flight answered, new ones 503, exit 0; past the drain timeout answers are lost but the retries get the committed ids; every answer is a whole batch in the database"
}

# A fault run, as an operator's worst hour: 8 clients send keyed creates
# (one instance, two processes each) and retry every one with its key until
# it succeeds, while PostgreSQL restarts (fast), procsvc is stopped by
# SIGTERM and restarted, PostgreSQL crashes (immediate stop) and comes back,
# and procsvc is killed (SIGKILL) and restarted. Afterwards every answered
# id is its whole batch in the database, no batch is there twice, and the
# database holds nothing nobody was answered for. On a cluster of its own,
# so the shared one keeps running. 1 result.
idem_faults() {
	local dir=$tmp/idem-faults pgdir=$tmp/idem-faults-pg pgport port url log c pids=() n got
	idem_fails=""
	mkdir -p "$dir/out"
	pgport=$(free_port)
	port=$(free_port)
	log=$dir/server.log
	if ! pg_cluster_start "$pgdir" "$pgport" >"$dir/pg.log" 2>&1; then
		idem_fails="; PostgreSQL did not start: $(tail -n 3 "$dir/pg.log")"
		idem_result "fault run"
		return
	fi
	url=$(pg_cluster_url "$pgdir" "$pgport")
	DATABASE_URL=$url "$SERVER_BIN" migrate up >"$dir/migrate.log" 2>&1 || idem_fails="; migrate failed"
	idem_serve "$log" "$port" DATABASE_URL="$url" || { idem_result "fault run"; pg_cluster_stop "$pgdir"; return; }
	idem_topology "$port"
	for c in 1 2 3 4 5 6 7 8; do
		idem_fault_client "$port" "$c" "$dir" &
		pids+=($!)
	done
	sleep 1.5
	_pg_as_owner "$(pg_bin)/pg_ctl" restart -w -m fast -D "$pgdir/pgdata" >/dev/null 2>&1 ||
		idem_fails="$idem_fails; PostgreSQL did not restart"
	sleep 1.5
	idem_stop "$log"
	idem_serve "$log.2" "$port" DATABASE_URL="$url" || idem_fails="$idem_fails; no restart after SIGTERM"
	sleep 1.5
	_pg_as_owner "$(pg_bin)/pg_ctl" stop -m immediate -D "$pgdir/pgdata" >/dev/null 2>&1
	sleep 1
	pg_cluster_start "$pgdir" "$pgport" >/dev/null 2>&1 || idem_fails="$idem_fails; PostgreSQL did not come back"
	sleep 1.5
	kill -KILL "$idem_pid" 2>/dev/null
	wait "$idem_pid" 2>/dev/null
	grep -qE "$SANITIZER_RE" "$log.2" && idem_fails="$idem_fails; sanitizer report in $log.2"
	idem_serve "$log.3" "$port" DATABASE_URL="$url" || idem_fails="$idem_fails; no restart after SIGKILL"
	sleep 1.5
	touch "$dir/stop"
	wait "${pids[@]}"
	idem_stop "$log.3"
	grep -qE "$SANITIZER_RE" "$log" && idem_fails="$idem_fails; sanitizer report in $log"
	n=$(find "$dir/out" -type f ! -name '*.status' | wc -l)
	[ "$n" -ge 40 ] || idem_fails="$idem_fails; only $n creates answered"
	[ -e "$dir/gave-up" ] && idem_fails="$idem_fails; retries gave up: $(head -n 3 "$dir/gave-up")"
	# Every answer is its batch, whole (idem_audit checks one process, so
	# this reads the two of these batches itself).
	for c in "$dir"/out/f*; do
		case $c in *.status) continue ;; esac
		got=$(psql -X -q -t -A -d "$url" -c "SELECT s.name, count(p.bk_process_id) FROM service_instance s LEFT JOIN process p ON p.service_instance_id = s.id WHERE s.id = $(idem_data "$c" | tr -d '[]' | grep -E '^[0-9]+$' || echo 0) GROUP BY s.name")
		[ "$got" = "${c##*/}|2" ] || idem_fails="$idem_fails; ${c##*/} answered $(idem_data "$c"), the database has \"$got\""
	done
	got=$(psql -X -q -t -A -d "$url" -c "SELECT count(*), count(DISTINCT name), (SELECT count(*) FROM process) FROM service_instance")
	[ "$got" = "$n|$n|$((2 * n))" ] || idem_fails="$idem_fails; $n answers, the database has instances|names|processes $got"
	pg_cluster_stop "$pgdir" >/dev/null 2>&1
	idem_result "fault run: $n keyed creates retried through PostgreSQL restarts and crashes, SIGTERM and SIGKILL of procsvc; every answer is its whole batch, none written twice, none unanswered"
}

# idem_fault_client PORT C DIR: creates f<C>-<j> until DIR/stop exists,
# each retried with its key until it is answered with code 0 (a minute at
# most: then DIR/gave-up names it).
idem_fault_client() {
	local j=0 name out tries
	while [ ! -e "$3/stop" ]; do
		j=$((j + 1))
		name=f$2-$j
		out=$3/out/$name
		tries=0
		until [ "$(cat "$out.status" 2>/dev/null)" = 200 ] && grep -q '"code":0,' "$out"; do
			tries=$((tries + 1))
			if [ "$tries" -gt 300 ]; then
				echo "$name: $(cat "$out.status" 2>/dev/null) $(head -c 200 "$out" 2>/dev/null)" >>"$3/gave-up"
				return
			fi
			[ "$tries" -eq 1 ] || sleep 0.2
			curl -s --noproxy '*' --max-time 20 -o "$out" -w '%{http_code}' -X POST \
				"http://127.0.0.1:$1/api/v3/create/proc/service_instance" -H "X-Idempotency-Key: fault-$name" \
				-d "{$IDEM_AUTH,\"bk_biz_id\":95,\"bk_module_id\":9501,\"instances\":[{\"bk_host_id\":9501,\"service_instance_name\":\"$name\",\"processes\":[{\"process_info\":{\"bk_process_name\":\"$name\",\"bk_func_name\":\"f\"}},{\"process_info\":{\"bk_process_name\":\"$name-b\",\"bk_func_name\":\"g\"}}]}]}" \
				>"$out.status" 2>/dev/null
		done
	done
}

# Keys that live 2 s (tests/idem/ttl.json) on a server of their own: the
# purge thread deletes them, backlog included. Adds the runner's counts.
idem_ttl() {
	local port log=$tmp/idem-ttl.log out=$tmp/idem-ttl.out
	idem_fails=""
	port=$(free_port)
	if ! idem_serve "$log" "$port" PROCSVC_IDEMPOTENCY_TTL_S=2; then
		idem_result "idempotency key lifetime"
		return
	fi
	env PROCSVC_URL="http://127.0.0.1:$port" TEST_DATABASE_URL="$db_url" \
		PROCSVC_TEST_APP=esb_test PROCSVC_TEST_SECRET=xxx PROCSVC_TEST_USER=admin \
		TEST_FILTER= timeout 120 "$RUNNER_BIN" tests/idem/*.json >"$out" 2>&1
	idem_stop "$log"
	if ! count_summary "$out"; then
		idem_fails="$idem_fails; the runner ended without a summary"
	elif [ "$summary_failed" -ne 0 ]; then
		grep -v '^  ' "$out" | grep FAIL
	fi
	idem_result "idempotency key lifetime: tests/idem on a server with PROCSVC_IDEMPOTENCY_TTL_S=2 ($summary_passed passed, $summary_failed failed)"
}

# Statements a keyed write costs (pg_stat_statements, on the main server):
# a create without a key stays 1; with a new key 5 (BEGIN, the claim, the
# create, the answer, COMMIT); its replay 4 (BEGIN, the claim, the stored
# answer, ROLLBACK); an update 2 more than without a key. The outcomes are
# counted on /metrics. 1 result.
idem_round_trips() {
	local out=$tmp/idem-rt plain keyed replay up up_keyed p=/api/v3/create/proc/service_instance
	local u=/api/v3/update/proc/process_instance id stored0 replayed0 stored1 replayed1
	idem_fails=""
	mkdir -p "$out"
	idem_topology "$server_port"
	printf '{%s,%s}' "$IDEM_AUTH" "$(idem_si_fields rt-plain)" >"$out/plain"
	printf '{%s,%s}' "$IDEM_AUTH" "$(idem_si_fields rt-keyed)" >"$out/keyed"
	obs_scrape "$out/metrics0"
	stored0=$(obs_value "$out/metrics0" 'procsvc_idempotent_requests_total{outcome="stored"}')
	replayed0=$(obs_value "$out/metrics0" 'procsvc_idempotent_requests_total{outcome="replayed"}')
	plain=$(statements_for "$p" "$out/plain")
	keyed=$(IDEM_KEY=rt-1 statements_for "$p" "$out/keyed")
	replay=$(IDEM_KEY=rt-1 statements_for "$p" "$out/keyed")
	id=$(idem_psql "SELECT min(bk_process_id) FROM process p JOIN service_instance s ON s.id = p.service_instance_id WHERE s.name = 'rt-plain'")
	printf '{%s,"bk_biz_id":95,"processes":[{"bk_process_id":%s,"description":"rt"}]}' "$IDEM_AUTH" "${id:-0}" >"$out/update"
	up=$(statements_for "$u" "$out/update")
	up_keyed=$(IDEM_KEY=rt-2 statements_for "$u" "$out/update")
	obs_scrape "$out/metrics1"
	stored1=$(obs_value "$out/metrics1" 'procsvc_idempotent_requests_total{outcome="stored"}')
	replayed1=$(obs_value "$out/metrics1" 'procsvc_idempotent_requests_total{outcome="replayed"}')
	if [ "$plain" = 1 ] && [ "$keyed" = 5 ] && [ "$replay" = 4 ] && [ "$up_keyed" = $((up + 2)) ] &&
		[ "$stored1" = $((stored0 + 2)) ] && [ "$replayed1" = $((replayed0 + 1)) ]; then
		say "idempotency round trips: create 1 statement without a key, 5 with one, 4 for its replay; update $up without, $up_keyed with; counted on /metrics"
		ok
	else
		say "idempotency round trips: create plain $plain keyed $keyed replay $replay (want 1, 5, 4); update $up, keyed $up_keyed (want +2); stored $stored0 -> $stored1 (want +2), replayed $replayed0 -> $replayed1 (want +1)"
		bad
	fi
}
