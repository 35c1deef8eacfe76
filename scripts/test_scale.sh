# shellcheck shell=bash
# tmp, db_url, db_port, cluster_dir, SERVER_BIN and the like are test.sh's.
# shellcheck disable=SC2154
#
# test_scale.sh: procsvc beside a real streaming replica and behind a real
# PgBouncer (issue 12.3, 12.4),
# sourced by scripts/test.sh, whose helpers it uses (say, ok, bad,
# free_port, pg.sh, $tmp, $db_url, $db_port, $cluster_dir, $SERVER_BIN,
# SANITIZER_ENV, SANITIZER_RE). Each group starts a sanitizer server of
# its own and ends with one result for its clean stop and clean log.
#
#   scale_replica   a replica made with pg_basebackup -R from the
#                   throwaway primary, logging every statement: lists are
#                   read there, writes never; replica stopped -> lists on
#                   the primary, and back once it is up; replay paused
#                   while the primary is written -> stale lists within
#                   PROCSVC_READ_MAX_LAG_MS, then the primary, and back
#   scale_bouncer   PgBouncer 1.18 in transaction mode with three server
#                   connections in front of the primary, procsvc through it
#                   with PROCSVC_PREPARE=off and six connections of its
#                   own: creates, lists, templates and races from the case
#                   files; then, as a note and not a test, what happens
#                   without PROCSVC_PREPARE=off
#   scale_skewed_lists  a small module beside a huge one is listed by index
#   scale_cleanup   stops what the groups started (test.sh's cleanup)

scale_pids=()
scale_port=
scale_pid=
replica_dir=
replica_port=

scale_cleanup() {
	local p
	for p in "${scale_pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	scale_pids=()
	if [ -n "$replica_dir" ]; then
		pg_cluster_stop "$replica_dir" >/dev/null 2>&1
		replica_dir=
	fi
	bouncer_stop
}

# scale_start NAME [VAR=value...]: the sanitizer server on a free port,
# with the test database and apps unless the variables say otherwise, once
# it answers $SCALE_READY (default /readyz) with 200; sets scale_port and
# scale_pid. Log: $tmp/NAME.log.
scale_start() {
	local name=$1 deadline=$((SECONDS + 30))
	shift
	scale_port=$(free_port) || return 1
	env DATABASE_URL="$db_url" PROCSVC_LISTEN="127.0.0.1:$scale_port" \
		PROCSVC_APPS=esb_test:xxx PROCSVC_THREADS=32 "${SANITIZER_ENV[@]}" "$@" \
		"$SERVER_BIN" serve >"$tmp/$name.log" 2>&1 &
	scale_pid=$!
	scale_pids+=("$scale_pid")
	until curl -fsS --noproxy '*' --max-time 2 -o /dev/null \
		"http://127.0.0.1:$scale_port${SCALE_READY:-/readyz}" 2>/dev/null; do
		if ! kill -0 "$scale_pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
			say "$name: the server did not start"
			tail -n 20 "$tmp/$name.log"
			return 1
		fi
		sleep 0.1
	done
}

# scale_stop NAME: SIGTERM, 20 s for exit status 0, and no sanitizer
# report in its log. 1 result.
scale_stop() {
	local name=$1 deadline=$((SECONDS + 20)) status
	kill -TERM "$scale_pid" 2>/dev/null
	while kill -0 "$scale_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.1
	done
	kill -KILL "$scale_pid" 2>/dev/null
	wait "$scale_pid"
	status=$?
	if [ "$status" -eq 0 ] && ! grep -qE "$SANITIZER_RE" "$tmp/$name.log"; then
		say "$name: server stopped cleanly, sanitizers clean"
		ok
	else
		grep -A 30 -E "$SANITIZER_RE" "$tmp/$name.log" | head -n 60
		say "$name: server exit status $status after SIGTERM, or sanitizer reports (above)"
		bad
	fi
}

# scale_post PATH FIELDS: the answer's body to a POST with the test
# credentials and FIELDS.
scale_post() {
	curl -sS --noproxy '*' --max-time 15 -X POST "http://127.0.0.1:$scale_port$1" \
		-d "{\"bk_app_code\":\"esb_test\",\"bk_app_secret\":\"xxx\",\"bk_username\":\"admin\",$2}"
}

# scale_metric NAME: the value of one series of /metrics (NAME may carry
# its labels), 0 when absent.
scale_metric() {
	curl -sS --noproxy '*' --max-time 5 "http://127.0.0.1:$scale_port/metrics" |
		awk -v n="$1" '$1 == n { v = $2 } END { print v == "" ? 0 : v }'
}

# scale_wait_metric NAME VALUE SECONDS: until NAME has VALUE; 1 on timeout.
scale_wait_metric() {
	local deadline=$((SECONDS + $3))
	until [ "$(scale_metric "$1")" = "$2" ]; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# A business whose modules are skewed, as in a real CMDB: 100,000
# instances in one module, 50 in another, on a cluster of its own (the
# column statistics must see only these two modules). Listing the small
# module, plain and with details, 20 times each, must not scan the table:
# PostgreSQL's generic plan (the sessions' plan_cache_mode) estimates the
# module filter as half the business and counted by a sequential scan; the
# lists are planned with their values. Answers are checked too. 2 results
# (the check, and the server's clean stop).
scale_skewed_lists() {
	local dir=$tmp/skew-pg port url before after got i fails=""
	port=$(free_port) || return 1
	if ! pg_cluster_start "$dir" "$port" >"$tmp/skew-pg.log" 2>&1; then
		say "skewed lists: PostgreSQL did not start: $(tail -n 3 "$tmp/skew-pg.log")"
		bad
		return
	fi
	url=$(pg_cluster_url "$dir" "$port")
	DATABASE_URL=$url "$SERVER_BIN" migrate up >"$tmp/skew-migrate.log" 2>&1 || fails="$fails; migrate failed"
	psql -X -q -d "$url" >/dev/null 2>>"$tmp/skew-pg.log" <<-'SQL' || fails="$fails; the seed failed"
		INSERT INTO host (bk_supplier_account, bk_host_id) SELECT '0', g FROM generate_series(1, 100) g;
		INSERT INTO module (bk_supplier_account, bk_module_id, bk_biz_id) VALUES ('0', 1, 1), ('0', 2, 1);
		INSERT INTO service_instance (bk_supplier_account, bk_biz_id, bk_module_id, bk_host_id, name, service_template_id, creator, modifier)
		SELECT '0', 1, CASE WHEN g <= 50 THEN 2 ELSE 1 END, 1 + g % 100, 'si' || g, 0, 'seed', 'seed'
		FROM generate_series(1, 100050) g;
		ANALYZE service_instance;
	SQL
	scale_start skew DATABASE_URL="$url" || { bad; pg_cluster_stop "$dir" >/dev/null 2>&1; return; }
	q() { psql -X -q -t -A -d "$url" -c "$1"; }
	before=$(q "SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'service_instance'")
	for i in $(seq 1 20); do
		got=$(scale_post /api/v3/findmany/proc/service_instance '"bk_biz_id":1,"bk_module_id":2,"page":{"limit":10}')
		[[ "$got" == *'"code":0,'*'"count":50,'* ]] || fails="$fails; list answered ${got:0:200}"
		got=$(scale_post /api/v3/findmany/proc/service_instance/details '"bk_biz_id":1,"bk_module_id":2,"page":{"limit":10}')
		[[ "$got" == *'"code":0,'*'"count":50,'* ]] || fails="$fails; detail answered ${got:0:200}"
	done
	# An idle backend may hold its table statistics for ten seconds; one
	# that exits hands them over, so they are read after the server stops.
	scale_stop skew
	after=$(q "SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'service_instance'")
	[ "$after" = "$before" ] || fails="$fails; $((after - before)) sequential scans of service_instance"
	if [ -z "$fails" ]; then
		say "skewed lists: a 50-instance module beside a 100,000-instance one, listed 40 times, not one sequential scan"
		ok
	else
		say "skewed lists: FAILED${fails}"
		bad
	fi
	pg_cluster_stop "$dir" >/dev/null 2>&1
}

# Statements procsvc's request sessions (application_name procsvc; the lag
# monitor is procsvc-replica-check) ran on the replica, from its log.
replica_statements() {
	grep -E '^procsvc (LOG|ERROR): ' "$replica_dir/postgres.log"
}
replica_reads() { replica_statements | grep -c ' execute '; }

# The process names list_process_instance returns, sorted, comma-joined.
rep_list() {
	scale_post /api/v3/findmany/proc/process_instance \
		"\"bk_biz_id\":$rep_biz,\"service_instance_id\":$rep_si" |
		grep -o '"bk_process_name":"[^"]*"' | cut -d'"' -f4 | sort | paste -sd, -
}

# The process names list_service_instance_detail returns for the test's
# business, sorted, comma-joined.
rep_detail() {
	scale_post /api/v3/findmany/proc/service_instance/details "\"bk_biz_id\":$rep_biz" |
		grep -o '"bk_process_name":"[^"]*"' | cut -d'"' -f4 | sort | paste -sd, -
}

# "count" of list_service_instance for the test's business.
rep_instances() {
	scale_post /api/v3/findmany/proc/service_instance "\"bk_biz_id\":$rep_biz" |
		sed -n 's/.*"count":\([0-9]*\).*/\1/p'
}

# "count" of list_proc_template for the test's service template.
rep_templates() {
	scale_post /api/v3/findmany/proc/proc_template \
		"\"bk_biz_id\":$rep_biz,\"service_template_id\":$rep_st" |
		sed -n 's/.*"count":\([0-9]*\).*/\1/p'
}

scale_replica() {
	local url fails reads0 log_lines got i bad_lines
	rep_biz=9120
	if [ -z "$cluster_dir" ]; then say "read replica: skipped (external database)"; return 0; fi
	replica_dir=$tmp/replica
	replica_port=$(free_port) || { bad; return 1; }
	# Every statement logged with the session's application_name first.
	if ! pg_replica_start "$replica_dir" "$replica_port" "$db_port" \
		"-c log_statement=all -c log_line_prefix='%a '" >/dev/null; then
		say "read replica: pg_basebackup or the replica's start failed"
		bad
		return 1
	fi
	url="postgresql://postgres@127.0.0.1:$replica_port/procsvc"
	# 2 s of allowed lag: room for a paused replay to be served stale below.
	if ! scale_start replica PROCSVC_READ_URL="$url" PROCSVC_READ_MAX_LAG_MS=2000; then
		bad
		return 1
	fi
	say "read replica: 127.0.0.1:$replica_port, server on 127.0.0.1:$scale_port"

	# Writes (through the server that has the replica) to read back.
	fails=""
	scale_wait_metric procsvc_db_replica_up 1 20 || fails="$fails; the replica never came up"
	scale_post /api/v3/procsvc/upsert_hosts '"hosts":[{"bk_host_id":91201,"bk_host_innerip":"10.91.2.1"}]' >/dev/null
	scale_post /api/v3/procsvc/upsert_modules "\"modules\":[{\"bk_module_id\":91200,\"bk_biz_id\":$rep_biz,\"service_template_id\":0,\"default\":0}]" >/dev/null
	scale_post /api/v3/procsvc/set_module_hosts '"bk_module_id":91200,"bk_host_ids":[91201]' >/dev/null
	got=$(scale_post /api/v3/create/proc/service_instance "\"bk_biz_id\":$rep_biz,\"bk_module_id\":91200,\"instances\":[{\"bk_host_id\":91201,\"processes\":[{\"process_info\":{\"bk_process_name\":\"rep-a\",\"bk_func_name\":\"a\"}}]}]")
	rep_si=$(sed -n 's/.*"data":\[\([0-9]*\)\].*/\1/p' <<<"$got")
	got=$(scale_post /api/v3/create/proc/service_template "\"bk_biz_id\":$rep_biz,\"name\":\"rep-t\",\"service_category_id\":1")
	rep_st=$(sed -n 's/.*"data":{"id":\([0-9]*\).*/\1/p' <<<"$got")
	scale_post /api/v3/createmany/proc/proc_template "\"bk_biz_id\":$rep_biz,\"service_template_id\":${rep_st:-0},\"processes\":[{\"spec\":{\"bk_process_name\":{\"value\":\"t1\",\"as_default_value\":true},\"bk_func_name\":{\"value\":\"t1\",\"as_default_value\":true}}}]" >/dev/null
	[ -n "$rep_si" ] && [ -n "$rep_st" ] || fails="$fails; the writes failed ($got)"

	# 1. Lists are read on the replica: its log has one more execute of
	# procsvc's per list, and they answer what was written.
	for ((i = 0; i < 50; i++)); do
		[ "$(rep_list)" = rep-a ] && [ "$(rep_templates)" = 1 ] && break
		sleep 0.1
	done
	reads0=$(replica_reads)
	[ "$(rep_list)" = rep-a ] || fails="$fails; list_process_instance: $(rep_list)"
	[ "$(rep_templates)" = 1 ] || fails="$fails; list_proc_template: $(rep_templates)"
	[ "$(rep_instances)" = 1 ] || fails="$fails; list_service_instance: $(rep_instances)"
	# The detail list reads instances and processes in one snapshot.
	[ "$(rep_detail)" = rep-a ] || fails="$fails; list_service_instance_detail: $(rep_detail)"
	[ "$(replica_reads)" -eq $((reads0 + 5)) ] ||
		fails="$fails; 4 lists, $(($(replica_reads) - reads0)) statements on the replica, want 5"
	[ "$(scale_metric procsvc_db_replica_reads_total)" -ge 4 ] || fails="$fails; replica reads not counted"
	# With a replica the page gains its lag, and still passes promtool.
	curl -sS --noproxy '*' --max-time 5 "http://127.0.0.1:$scale_port/metrics" >"$tmp/replica-metrics.txt"
	grep -q '^procsvc_db_replica_lag_seconds [0-9.]*$' "$tmp/replica-metrics.txt" ||
		fails="$fails; no procsvc_db_replica_lag_seconds"
	if command -v "${PROMTOOL:-promtool}" >/dev/null &&
		! got=$("${PROMTOOL:-promtool}" check metrics <"$tmp/replica-metrics.txt" 2>&1); then
		fails="$fails; promtool check metrics: $got"
	fi
	if [ -z "$fails" ]; then
		say "read replica: the four list APIs read on the replica (its own log), and answer what was written; lag on /metrics"
		ok
	else
		say "read replica: lists on the replica FAILED$fails"
		bad
	fi

	# 2. Replica stopped: lists answer from the primary, /readyz stays
	# 200, the change is logged once and counted; restarted: lists go
	# back to it.
	fails=""
	log_lines=$(wc -l <"$tmp/replica.log")
	pg_cluster_stop "$replica_dir" >/dev/null 2>&1
	for i in 1 2 3 4 5; do
		got=$(rep_list)
		[ "$got" = rep-a ] || fails="$fails; list $i while down: \"$got\""
	done
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$scale_port/readyz")" = 200 ] ||
		fails="$fails; /readyz not 200 with the replica down"
	[ "$(scale_metric 'procsvc_db_replica_fallbacks_total{reason="down"}')" -ge 5 ] ||
		fails="$fails; fallbacks not counted: $(scale_metric 'procsvc_db_replica_fallbacks_total{reason="down"}')"
	[ "$(scale_metric procsvc_db_replica_up)" = 0 ] || fails="$fails; procsvc_db_replica_up is not 0"
	got=$(tail -n +$((log_lines + 1)) "$tmp/replica.log" | grep 'read replica')
	[ "$(grep -c . <<<"$got")" -eq 1 ] || fails="$fails; not one log line for one outage: $got"
	pg_replica_start "$replica_dir" "$replica_port" "$db_port" \
		"-c log_statement=all -c log_line_prefix='%a '" >/dev/null || fails="$fails; restart failed"
	scale_wait_metric procsvc_db_replica_up 1 20 || fails="$fails; not back 20 s after the restart"
	reads0=$(replica_reads)
	[ "$(rep_list)" = rep-a ] || fails="$fails; list after the restart"
	[ "$(replica_reads)" -eq $((reads0 + 1)) ] || fails="$fails; not read on the replica after the restart"
	tail -n +$((log_lines + 1)) "$tmp/replica.log" | grep -q 'lists are read there' ||
		fails="$fails; the recovery was not logged"
	if [ -z "$fails" ]; then
		say "read replica: stopped -> lists from the primary (one log line, counted, /readyz 200); restarted -> back on the replica"
		ok
	else
		say "read replica: outage FAILED$fails"
		bad
	fi

	# 3. Replay paused, then a write on the primary: within the allowed
	# lag lists are read on the replica and do not show it yet (stale by
	# design); beyond it they go to the primary and do; resumed, back.
	fails=""
	log_lines=$(wc -l <"$tmp/replica.log")
	"$(pg_bin)/psql" -X -q -t -A -h 127.0.0.1 -p "$replica_port" -U postgres -d procsvc \
		-c "SELECT pg_wal_replay_pause()" >/dev/null || fails="$fails; pause failed"
	scale_post /api/v3/create/proc/process_instance \
		"\"bk_biz_id\":$rep_biz,\"service_instance_id\":$rep_si,\"processes\":[{\"process_info\":{\"bk_process_name\":\"rep-b\",\"bk_func_name\":\"b\"}}]" >/dev/null
	got="$(rep_list) $(rep_detail)"
	[ "$got" = "rep-a rep-a" ] || fails="$fails; within the lag limit: \"$got\", want the replica's stale rep-a"
	scale_wait_metric procsvc_db_replica_up 0 10 || fails="$fails; still up 10 s into the pause"
	got="$(rep_list) $(rep_detail)"
	[ "$got" = "rep-a,rep-b rep-a,rep-b" ] || fails="$fails; beyond the lag limit: \"$got\", want the primary's rep-a,rep-b"
	[ "$(scale_metric 'procsvc_db_replica_fallbacks_total{reason="lag"}')" -ge 1 ] ||
		fails="$fails; lag fallback not counted"
	got=$(tail -n +$((log_lines + 1)) "$tmp/replica.log" | grep -c 'behind the primary (PROCSVC_READ_MAX_LAG_MS')
	[ "$got" -eq 1 ] || fails="$fails; $got lag log lines"
	"$(pg_bin)/psql" -X -q -t -A -h 127.0.0.1 -p "$replica_port" -U postgres -d procsvc \
		-c "SELECT pg_wal_replay_resume()" >/dev/null || fails="$fails; resume failed"
	scale_wait_metric procsvc_db_replica_up 1 20 || fails="$fails; not back 20 s after the resume"
	reads0=$(replica_reads)
	got=$(rep_list)
	[ "$got" = rep-a,rep-b ] || fails="$fails; after the resume: \"$got\""
	[ "$(replica_reads)" -eq $((reads0 + 1)) ] || fails="$fails; not read on the replica after the resume"
	if [ -z "$fails" ]; then
		say "read replica: replay paused -> stale within PROCSVC_READ_MAX_LAG_MS, then the primary (logged once, counted); resumed -> back"
		ok
	else
		say "read replica: lag FAILED$fails"
		bad
	fi

	# 4. Nothing but reads reached the replica from procsvc's sessions,
	# however many writes went through this server.
	# (BEGIN ... READ ONLY and COMMIT: the detail list's snapshot; SET and
	# RESET of plan_cache_mode: the service-instance lists, pq_exec_custom_plan.)
	bad_lines=$(replica_statements | grep -vE '^procsvc (LOG|ERROR):  (execute [^:]+: (SELECT|WITH) |statement: (SELECT|WITH) |statement: (BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY|COMMIT|ROLLBACK|SET plan_cache_mode = force_custom_plan|RESET plan_cache_mode)$)' |
		grep -vE '^procsvc (DETAIL|LOG):  (parameters|duration)')
	bad_lines=$(printf '%s\n%s' "$bad_lines" "$(replica_statements | grep -iE '\b(INSERT|UPDATE|DELETE|nextval|FOR SHARE|FOR UPDATE)\b')" | sed '/^$/d')
	if [ -z "$bad_lines" ] && [ "$(replica_reads)" -ge 5 ]; then
		say "read replica: $(replica_reads) statements of procsvc's on the replica, every one a read; every write on the primary"
		ok
	else
		printf '%s\n' "$bad_lines" | head -n 10
		say "read replica: statements other than reads reached the replica (above), or too few reads"
		bad
	fi
	scale_stop replica
	pg_cluster_stop "$replica_dir" >/dev/null 2>&1
	replica_dir=
}

bouncer_dir=
bouncer_port=

# bouncer_start [DATABASE-OPTIONS]: Debian's PgBouncer (1.18) on a free
# port in transaction pooling mode in front of the throwaway primary, with
# three server connections, run as the cluster's owner (it refuses root).
# Database procsvc has DATABASE-OPTIONS added to its [databases] entry;
# database bare is the same without them.
bouncer_start() {
	local i
	bouncer_dir=$tmp/pgbouncer
	bouncer_port=$(free_port) || return 1
	mkdir -p "$bouncer_dir" || return 1
	cat >"$bouncer_dir/pgbouncer.ini" <<INI
[databases]
procsvc = host=127.0.0.1 port=$db_port dbname=procsvc user=postgres ${1:-}
bare = host=127.0.0.1 port=$db_port dbname=procsvc user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = trust
auth_file = $bouncer_dir/userlist.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = 3
max_client_conn = 100
logfile = $bouncer_dir/pgbouncer.log
pidfile = $bouncer_dir/pgbouncer.pid
INI
	echo '"postgres" ""' >"$bouncer_dir/userlist.txt"
	[ "$(id -u)" != 0 ] || chown -R postgres: "$bouncer_dir" || return 1
	_pg_as_owner pgbouncer -q -d "$bouncer_dir/pgbouncer.ini" || return 1
	for ((i = 0; i < 50; i++)); do
		"$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$bouncer_port" && return 0
		sleep 0.1
	done
	return 1
}

bouncer_stop() {
	local pid
	[ -n "$bouncer_dir" ] || return 0
	pid=$(cat "$bouncer_dir/pgbouncer.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
	bouncer_dir=
}

# bouncer_show WHAT COLUMN: the sum of COLUMN over the procsvc rows of
# PgBouncer's SHOW WHAT (admin console).
bouncer_show() {
	"$(pg_bin)/psql" -X -q -h 127.0.0.1 -p "$bouncer_port" -U postgres pgbouncer --csv \
		-c "SHOW $1" 2>/dev/null | awk -F, -v col="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) { if ($i == col) c = i; if ($i == "database") d = i } next }
		$d == "procsvc" { n += $c } END { print n + 0 }'
}

# The case files run through PgBouncer: creates, lists, templates, the
# lifecycle writes, races, and keyed writes racing (a keyed write is one
# transaction from its claim to its answer).
BOUNCER_CASES=(tests/cases/200_si_create_ok.json tests/cases/210_pi_create.json
	tests/cases/220_list.json tests/cases/250_race.json tests/cases/300_service_template.json
	tests/cases/301_proc_template.json tests/cases/310_template_instances.json
	tests/cases/312_template_race.json tests/cases/500_si_list.json
	tests/cases/501_si_list_detail.json tests/cases/510_pi_update.json
	tests/cases/530_si_delete.json tests/cases/540_lifecycle_race.json
	tests/cases/601_idempotency_race.json)

# N lists from each of 6 parallel clients; prints how many were not 200.
bouncer_burst() {
	local i j
	for i in 1 2 3 4 5 6; do
		for ((j = 0; j < $1; j++)); do
			curl -s --noproxy '*' --max-time 15 -o /dev/null -w '%{http_code}\n' -X POST \
				"http://127.0.0.1:$scale_port/api/v3/findmany/proc/process_instance" \
				-d '{"bk_app_code":"esb_test","bk_app_secret":"xxx","bk_username":"admin","bk_biz_id":1,"service_instance_id":1}'
		done &
	done | grep -vc '^200$'
}

scale_bouncer() {
	local url out=$tmp/bouncer-cases.out rc xact0 xact clients fails="" refused ignored
	if [ -z "$cluster_dir" ]; then say "PgBouncer: skipped (external database)"; return 0; fi
	if ! command -v pgbouncer >/dev/null; then say "PgBouncer: pgbouncer missing (make deps)"; bad; return 1; fi
	# The settings procsvc cannot send through the pooler, given by it.
	if ! bouncer_start "connect_query='SET search_path = public; SET statement_timeout = 10000'"; then
		say "PgBouncer: did not start"
		tail -n 20 "$tmp/pgbouncer/pgbouncer.log"
		bad
		return 1
	fi
	url="postgresql://postgres@127.0.0.1:$bouncer_port/procsvc"
	if ! scale_start bouncer DATABASE_URL="$url" PROCSVC_PREPARE=off PROCSVC_DB_POOL=6; then
		bad
		return 1
	fi
	say "PgBouncer: 127.0.0.1:$bouncer_port (transaction mode, 3 server connections), server on 127.0.0.1:$scale_port"
	xact0=$(bouncer_show STATS total_xact_count)
	env PROCSVC_URL="http://127.0.0.1:$scale_port" TEST_DATABASE_URL="$db_url" \
		PROCSVC_TEST_APP=esb_test PROCSVC_TEST_SECRET=xxx PROCSVC_TEST_USER=admin \
		TEST_FILTER= timeout 300 "$RUNNER_BIN" "${BOUNCER_CASES[@]}" >"$out" 2>&1
	rc=$?
	xact=$(($(bouncer_show STATS total_xact_count) - xact0))
	clients=$(bouncer_show POOLS cl_active)
	if ! count_summary "$out"; then
		tail -n 20 "$out"
		say "PgBouncer: the runner ended without a summary (exit $rc)"
		bad
	else
		[ "$summary_failed" -eq 0 ] || grep -E '^FAIL' "$out" | head -n 20
		say "PgBouncer: $summary_passed passed, $summary_failed failed of ${#BOUNCER_CASES[@]} case files, $xact transactions through PgBouncer"
	fi
	# Multiplexed for real, and the pooler's session settings in effect
	# (serve warns when they are not).
	[ "$xact" -ge "${p:-0}" ] || fails="$fails; only $xact transactions went through PgBouncer"
	[ "$clients" -gt 3 ] || fails="$fails; $clients procsvc connections, not more than the 3 server ones"
	! grep -q 'PROCSVC_PREPARE=off: sessions' "$tmp/bouncer.log" || fails="$fails; session settings warning"
	if [ -z "$fails" ]; then
		say "PgBouncer: $clients procsvc connections shared 3 server sessions; search_path and statement_timeout from connect_query"
		ok
	else
		say "PgBouncer: FAILED$fails"
		bad
	fi
	scale_stop bouncer

	# Without the pooler's connect_query the sessions have the role's
	# defaults, which serve says at start.
	if scale_start bouncer-bare DATABASE_URL="${url%/*}/bare" PROCSVC_PREPARE=off; then
		if grep -q 'PROCSVC_PREPARE=off: sessions of .* have search_path .*statement_timeout 0' \
			"$tmp/bouncer-bare.log"; then
			say "PgBouncer: serve warns when the pooled sessions lack search_path = public and a statement_timeout"
			ok
		else
			grep -v '"access"' "$tmp/bouncer-bare.log" | head -n 10
			say "PgBouncer: no warning about the session settings (above)"
			bad
		fi
		scale_stop bouncer-bare
	else
		bad
	fi

	# Not a test: what procsvc meets there without PROCSVC_PREPARE=off.
	SCALE_READY=/healthz scale_start bouncer-prepared DATABASE_URL="$url" PROCSVC_DB_POOL=6 || { bad; return 1; }
	refused=$(bouncer_burst 2)
	"$(pg_bin)/psql" -X -q -h 127.0.0.1 -p "$bouncer_port" -U postgres pgbouncer \
		-c "SET ignore_startup_parameters = 'extra_float_digits,options'" >/dev/null 2>&1
	ignored=$(bouncer_burst 10)
	say "note: without PROCSVC_PREPARE=off, $refused of 12 lists failed ($(grep -c 'unsupported startup parameter: options' "$tmp/bouncer-prepared.log") log lines \"unsupported startup parameter: options\"); with PgBouncer ignoring options, $ignored of 60 ($(grep -c 'prepared statement' "$tmp/bouncer-prepared.log") log lines about prepared statements that do not or already exist)"
	scale_stop bouncer-prepared
	bouncer_stop
}
