# shellcheck shell=bash
# The checks passed to eval are single-quoted on purpose (SC2016, and SC2034
# for variables only they read); tmp, db_url and the like are test.sh's (SC2154).
# shellcheck disable=SC2016,SC2034,SC2154
#
# test_ops.sh: what an operator meets, sourced by scripts/test.sh (it uses
# its say/ok/bad, $tmp, $db_url, $cluster_dir, $db_port, $SERVER_BIN and
# $SANITIZER_ENV). Each ops_* function adds one result.
#
#   ops_cli             argument and configuration errors, redaction, bind errors
#   ops_migrate         one line per failure, "retry later" only when it helps
#   ops_wait            migrate waits for a database that comes up later
#   ops_compose         docker-compose config (default and scale profile), Dockerfile health check
#   ops_install         make install DESTDIR=..., --version, man page, unit
#   ops_run_dir         make run's cluster when postgres cannot reach ./.data
#   ops_probe           procsvc probe against the running server
#   ops_start_log       serve logs the database's schema version
#   ops_docs            README links, docs/api.md routes, variables documented
#   ops_citus_sketch    README's Citus migration (without the Citus calls)
#                       applies to the current schema

# ops_expect NAME WANT_STATUS CMD...: runs CMD (stdin closed), keeps its
# output in $ops_out and adds "NAME (...)" to $ops_fails when the status
# differs.
ops_expect() {
	local name=$1 want=$2 rc
	shift 2
	ops_out=$("$@" 2>&1 </dev/null)
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		ops_fails="$ops_fails; $name (exit $rc, want $want: $(head -c 300 <<<"$ops_out"))"
		return 1
	fi
}

# ops_check NAME CONDITION-DESCRIPTION TEST...: records a failure when TEST fails.
ops_check() {
	local name=$1
	shift
	"$@" || ops_fails="$ops_fails; $name ($(head -c 300 <<<"$ops_out"))"
}

ops_lines() { [ "$(grep -c '' <<<"$ops_out")" -eq "$1" ]; }
ops_has() { grep -qF -- "$1" <<<"$ops_out"; }
ops_lacks() { ! grep -qiF -- "$1" <<<"$ops_out"; }

ops_result() {
	if [ -z "$ops_fails" ]; then
		say "$1"
		ok
	else
		say "$1: FAILED${ops_fails}"
		bad
	fi
}

ops_cli() {
	local bin=$SERVER_BIN url port blocker ready deadline
	local -a env=(env -u DATABASE_URL "${SANITIZER_ENV[@]}" PROCSVC_APPS=a:b)
	ops_fails=""
	# Arguments are judged before the environment.
	ops_expect "serve extra" 2 "${env[@]}" "$bin" serve extra &&
		ops_check "serve extra names the argument" ops_has 'serve takes no arguments (got "extra")'
	ops_expect "migrate up 1 2" 2 "${env[@]}" "$bin" migrate up 1 2 &&
		ops_check "migrate up 1 2 names the argument" ops_has 'unexpected argument "2"'
	ops_expect "migrate status x" 2 "${env[@]}" "$bin" migrate status x
	ops_expect "probe --bogus" 2 "${env[@]}" "$bin" probe --bogus
	# A malformed DATABASE_URL: one line, exit 2, never the password.
	for url in 'postgresql://u:sekret@[bad' 'postgresql://u:sek%zzret@h/db' \
		"host=h password='sekret" 'host=h password=sekret port=abc' \
		'postgresql://u:sekret@h:99999/db' 'postgresql://u:sekret@h/db?sslmode=bogus'; do
		ops_expect "serve $url" 2 "${env[@]}" DATABASE_URL="$url" "$bin" serve &&
			ops_check "serve $url: one line without the password" \
				eval 'ops_lines 1 && ops_lacks sek && ops_has DATABASE_URL'
		ops_expect "migrate $url" 2 "${env[@]}" DATABASE_URL="$url" "$bin" migrate up &&
			ops_check "migrate $url: one line without the password" \
				eval 'ops_lines 1 && ops_lacks sek'
	done
	# Malformed listen addresses are configuration: exit 2, the value named.
	for port in nonsense 99999 999.1.1.1:80 '[::1]:8080' 8080s 127.0.0.1:0; do
		ops_expect "PROCSVC_LISTEN=$port" 2 "${env[@]}" DATABASE_URL="$db_url" \
			PROCSVC_LISTEN="$port" "$bin" serve &&
			ops_check "PROCSVC_LISTEN=$port: one line" eval 'ops_lines 1 && ops_has PROCSVC_LISTEN'
	done
	# An address in use is the machine's answer: exit 1 with CivetWeb's
	# reason, and no "listening" before it. The blocker binds a port of
	# the kernel's choosing and names it only once it listens, so serve
	# cannot take the port first; every wait is bounded.
	ready=$tmp/blocker.port
	rm -f "$ready"
	timeout 120 python3 -c 'import os, socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
with open(sys.argv[1] + ".tmp", "w") as f: f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(110)' "$ready" &
	blocker=$!
	deadline=$((SECONDS + 20))
	until [ -s "$ready" ] || [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$blocker" 2>/dev/null; do
		sleep 0.05
	done
	port=$(cat "$ready" 2>/dev/null)
	if [ -n "$port" ]; then
		ops_expect "address in use" 1 timeout 60 "${env[@]}" DATABASE_URL="$db_url" \
			PROCSVC_LISTEN="127.0.0.1:$port" "$bin" serve &&
			ops_check "address in use: the reason, never \"listening\"" \
				eval 'ops_has "Address already in use" && ops_lacks listening'
	else
		ops_fails="$ops_fails; address in use: the blocking listener did not start within 20 s"
	fi
	kill "$blocker" 2>/dev/null
	wait "$blocker" 2>/dev/null
	ops_expect "--version" 0 "$bin" --version &&
		ops_check "--version names the commit" eval 'ops_has "(commit "'
	ops_result "operator: arguments before environment, DATABASE_URL redacted, listen errors 2, bind errors 1"
}

# A database URL with this cluster's port (or another) and database.
ops_url() { echo "postgresql://postgres:pw@127.0.0.1:$1/$2"; }

ops_migrate() {
	local bin=$SERVER_BIN one=$tmp/mig-one bad=$tmp/mig-bad closed version
	local -a env=(env "${SANITIZER_ENV[@]}")
	ops_fails=""
	if [ -z "$cluster_dir" ]; then say "migrate messages: skipped (external database)"; return 0; fi
	closed=$(free_port)
	ops_expect "migrate, closed port" 1 "${env[@]}" DATABASE_URL="$(ops_url "$closed" procsvc)" \
		"$bin" migrate up &&
		ops_check "closed port: one line, retry later, no lock warning, no password" \
			eval 'ops_lines 1 && ops_has "retry later" && ops_lacks lock && ops_lacks ":pw@"'
	ops_expect "migrate, missing database" 1 "${env[@]}" DATABASE_URL="$(ops_url "$db_port" nodb)" \
		"$bin" migrate up &&
		ops_check "missing database: one line, no retry later" \
			eval 'ops_lines 1 && ops_has "does not exist" && ops_lacks "retry later"'
	# down without a count when that would empty the database: refused.
	mkdir -p "$one" "$bad"
	cp migrations/0001_* "$one/"
	ops_expect "migrate down, last migration" 2 "${env[@]}" DATABASE_URL="$db_url" \
		PROCSVC_MIGRATIONS="$one" "$bin" migrate down &&
		ops_check "migrate down asks for a count or --yes" eval 'ops_has "--yes" && ops_lines 1'
	ops_expect "status after the refusal" 0 "${env[@]}" DATABASE_URL="$db_url" "$bin" migrate status &&
		ops_check "nothing was reverted" ops_has "up to date"
	# A failing step: PostgreSQL's message, on one line, dirty, no retry.
	version=$("$(pg_bin)/psql" -X -q -t -A -d "$db_url" -c "SELECT version FROM schema_migrations")
	cp migrations/*.sql "$bad/"
	printf 'CREATE TABLE ops_x (a int);\nSELEC broken;\n' >"$bad/9999_broken.up.sql"
	echo 'DROP TABLE ops_x;' >"$bad/9999_broken.down.sql"
	ops_expect "failing step" 1 "${env[@]}" DATABASE_URL="$db_url" PROCSVC_MIGRATIONS="$bad" \
		"$bin" migrate up &&
		ops_check "failing step: one error line naming the file, dirty, no retry later" \
			eval '[ "$(grep -vc "\"level\":\"info\"" <<<"$ops_out")" -eq 1 ] &&
				ops_has "9999_broken: syntax error" && ops_has dirty && ops_lacks "retry later"'
	# The repair an operator would make: the step left nothing behind.
	"$(pg_bin)/psql" -X -q -d "$db_url" -c "UPDATE schema_migrations SET version = ${version:-0}, dirty = false" \
		>/dev/null 2>&1
	ops_expect "status after the repair" 0 "${env[@]}" DATABASE_URL="$db_url" "$bin" migrate status &&
		ops_check "repaired" ops_has "up to date"
	ops_result "migrate: one line per failure, retry later only when nothing answered, down asks first"
}

# migrate up started while the database is down waits for it (bounded by
# PROCSVC_DB_WAIT_S); without a wait it fails at once.
ops_wait() {
	local log=$tmp/wait.log pid rc start
	ops_fails=""
	if [ -z "$cluster_dir" ]; then say "waiting migrate: skipped (external database)"; return 0; fi
	pg_cluster_stop "$cluster_dir" >/dev/null 2>&1
	start=$SECONDS
	ops_expect "no wait" 1 env "${SANITIZER_ENV[@]}" DATABASE_URL="$db_url" "$SERVER_BIN" migrate status &&
		ops_check "no wait: fails at once, retry later" eval '[ $((SECONDS - start)) -le 5 ] && ops_has "retry later"'
	env "${SANITIZER_ENV[@]}" DATABASE_URL="$db_url" PROCSVC_DB_WAIT_S=60 \
		"$SERVER_BIN" migrate up >"$log" 2>&1 </dev/null &
	pid=$!
	sleep 3
	kill -0 "$pid" 2>/dev/null || ops_fails="$ops_fails; migrate did not wait ($(cat "$log"))"
	pg_cluster_start "$cluster_dir" "$db_port" >/dev/null || ops_fails="$ops_fails; restart failed"
	wait "$pid"
	rc=$?
	ops_out=$(cat "$log")
	[ "$rc" -eq 0 ] || ops_fails="$ops_fails; waiting migrate exit $rc"
	ops_check "waiting migrate says it waits, then migrates" \
		eval 'ops_has "waiting up to 60 s for the database at postgresql://postgres@127.0.0.1" && ops_has "migrate up: at version"'
	ops_result "migrate waits for a database that comes up 3 s later (PROCSVC_DB_WAIT_S)"
}

ops_compose() {
	local cfg=$tmp/compose.yml
	ops_fails=""
	if ! command -v docker-compose >/dev/null; then
		say "compose: docker-compose missing"
		bad
		return 1
	fi
	ops_expect "docker-compose config" 0 docker-compose -f docker-compose.yml config
	printf '%s\n' "$ops_out" >"$cfg.all"
	# docker-compose 1.29 lists every profile's services; `docker compose
	# up` starts those without one. They must stay the three of before.
	ops_out=$(compose_services "$cfg.all" "")
	printf '%s\n' "$ops_out" >"$cfg"
	ops_check "no profile: postgres, migrate, procsvc only" eval \
		'[ "$(sed -n "s/^  \([a-z-]*\):$/\1/p" "$cfg" | sort | paste -sd" " -)" = "migrate postgres procsvc" ]'
	ops_check "postgres is checked over TCP" ops_has "pg_isready -h 127.0.0.1"
	ops_check "procsvc is published on 127.0.0.1" ops_has "127.0.0.1:8080:8080"
	ops_check "one image, built once" eval '[ "$(grep -c "^    build:" "$cfg")" -eq 1 ] &&
		[ "$(grep -c "image: procsvc:local" "$cfg")" -eq 2 ]'
	ops_check "migrate waits for the database" ops_has "PROCSVC_DB_WAIT_S"
	ops_check "procsvc has a probe health check and restarts" eval 'ops_has "- probe" && ops_has "restart: unless-stopped"'
	ops_out=$(cat Dockerfile)
	ops_check "Dockerfile HEALTHCHECK runs procsvc probe" eval 'grep -A2 "^HEALTHCHECK" Dockerfile | grep -q "CMD \\[\"procsvc\", \"probe\""'
	ops_result "compose: docker-compose config valid, TCP health check, one image, 127.0.0.1, probe"
	ops_compose_scale
}

# compose_services FILE PROFILE: the services of a `docker-compose config`
# output in PROFILE ("": those without a profile), as YAML.
compose_services() {
	python3 - "$1" "$2" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
want = sys.argv[2]
def wanted(v):
    return want in v.get("profiles", []) if want else not v.get("profiles")
print(yaml.safe_dump({"services": {k: v for k, v in doc["services"].items() if wanted(v)}}))
PY
}

# The scale profile (README "Scaling out"): valid, wired as documented:
# procsvc through PgBouncer with PROCSVC_PREPARE=off and lists on the
# replica, migrations straight to the primary, several procsvc behind
# HAProxy checking /readyz, every file it mounts present. 1 result.
ops_compose_scale() {
	ops_fails=""
	ops_expect "docker-compose --profile scale config" 0 \
		docker-compose -f docker-compose.yml --profile scale config || { ops_result "compose scale profile"; return; }
	ops_out=$(python3 - <(printf '%s\n' "$ops_out") <<'PY' 2>&1
import os, re, sys, yaml
s = yaml.safe_load(open(sys.argv[1]))["services"]
fails = []
def check(ok, what):
    if not ok:
        fails.append(what)
scale = {k for k, v in s.items() if "scale" in v.get("profiles", [])}
check(scale == {"scale-primary", "scale-replica", "scale-pgbouncer", "scale-migrate",
                "scale-procsvc", "scale-lb"}, "scale services: %s" % sorted(scale))
def host(url):
    m = re.match(r"postgresql://[^@]*@([^:/]+)", url or "")
    return m.group(1) if m else None
env = s.get("scale-procsvc", {}).get("environment", {})
check(host(env.get("DATABASE_URL")) == "scale-pgbouncer", "procsvc not through PgBouncer")
check(env.get("PROCSVC_PREPARE") == "off", "procsvc behind PgBouncer without PROCSVC_PREPARE=off")
check(host(env.get("PROCSVC_READ_URL")) == "scale-replica", "lists not on the replica")
check(s.get("scale-procsvc", {}).get("deploy", {}).get("replicas", 0) >= 2, "fewer than 2 procsvc")
check(not s.get("scale-procsvc", {}).get("ports"), "procsvc containers publish ports")
check(host(s.get("scale-migrate", {}).get("environment", {}).get("DATABASE_URL")) == "scale-primary",
      "migrate not straight to the primary")
lb_ports = [str(p.get("host_ip", "")) + ":" + str(p.get("published", "")) if isinstance(p, dict) else p
            for p in s.get("scale-lb", {}).get("ports", [])]
check(any(p.startswith("127.0.0.1:") for p in lb_ports), "load balancer not on 127.0.0.1: %s" % lb_ports)
for name, svc in s.items():
    for v in svc.get("volumes", []):
        src = v.get("source") if isinstance(v, dict) else v.split(":")[0]
        if src and src.startswith("/"):
            check(os.path.exists(src), "%s mounts missing %s" % (name, src))
text = open("deploy/scale/haproxy.cfg").read()
check("option httpchk GET /readyz" in text and "server-template procsvc" in text
      and "scale-procsvc:8080" in text, "haproxy.cfg does not check /readyz of scale-procsvc")
text = open("deploy/scale/pgbouncer.ini").read()
check(re.search(r"^pool_mode = transaction$", text, re.M) and "host=scale-primary" in text,
      "pgbouncer.ini: not transaction pooling to scale-primary")
print("\n".join(fails))
PY
)
	[ -z "$ops_out" ] || ops_fails="; $(paste -sd';' - <<<"$ops_out")"
	ops_result "compose scale profile: valid; procsvc x3 behind HAProxy (/readyz), through PgBouncer (PROCSVC_PREPARE=off), lists on the replica, migrate direct"
}

# ops_installed_doc BIN: the installed binary, started from / with nothing
# of the checkout in reach, serves the document it was built with.
ops_installed_doc() {
	local bin=$1 port pid deadline=$((SECONDS + 30)) got=$tmp/installed-openapi.yaml
	port=$(free_port)
	(cd / && exec env -u PROCSVC_MIGRATIONS DATABASE_URL="$db_url" PROCSVC_APPS=a:b \
		PROCSVC_LISTEN="127.0.0.1:$port" PROCSVC_THREADS=4 timeout 60 "$bin" serve) \
		>"$tmp/installed-serve.log" 2>&1 </dev/null &
	pid=$!
	until curl -fsS --noproxy '*' --max-time 2 -o "$got" "http://127.0.0.1:$port/openapi.yaml" 2>/dev/null; do
		if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
			ops_fails="$ops_fails; the installed binary did not serve: $(tail -n 3 "$tmp/installed-serve.log")"
			break
		fi
		sleep 0.1
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	cmp -s "$got" openapi.yaml || ops_fails="$ops_fails; the installed binary's /openapi.yaml is not openapi.yaml"
}

ops_install() {
	local dest=$tmp/install bin
	ops_fails=""
	ops_expect "make install" 0 make --no-print-directory install DESTDIR="$dest" PREFIX=/usr
	bin=$dest/usr/bin/procsvc
	for f in "$bin" "$dest/usr/share/procsvc/migrations/0001_init.up.sql" \
		"$dest/usr/share/man/man1/procsvc.1" "$dest/usr/lib/systemd/system/procsvc.service" \
		"$dest/usr/share/procsvc/procsvc.env.example" "$dest/usr/share/procsvc/procsvc-alerts.yml" \
		"$dest/usr/share/doc/procsvc/LICENSE" \
		"$dest/usr/share/doc/procsvc/api.md"; do
		[ -f "$f" ] || ops_fails="$ops_fails; missing ${f#"$dest"}"
	done
	ops_expect "installed --version" 0 "$bin" --version &&
		ops_check "--version names a commit" eval 'ops_has "procsvc " && ops_lacks "commit unknown"'
	# The installed binary finds its migrations beside it, from any folder.
	ops_expect "installed migrate status" 0 bash -c 'cd / && exec env -u PROCSVC_MIGRATIONS "$@"' _ \
		env DATABASE_URL="$db_url" "$bin" migrate status
	ops_installed_doc "$bin"
	ops_expect "man page renders" 0 bash -c 'MANWIDTH=80 man -l "$1" | col -b | grep -q "procsvc migrate" &&
		! groff -man -ww -z "$1" 2>&1 | grep -q .' _ "$dest/usr/share/man/man1/procsvc.1"
	ops_out=$(cat "$dest/usr/lib/systemd/system/procsvc.service" 2>/dev/null)
	ops_check "unit: EnvironmentFile, hardening, installed path" eval 'ops_has EnvironmentFile= &&
		ops_has NoNewPrivileges=yes && ops_has ProtectSystem=strict && ops_has "ExecStart=/usr/bin/procsvc serve"'
	if command -v systemd-analyze >/dev/null; then
		# verify needs the binary at its installed path: point it at ours.
		sed "s#/usr/bin/procsvc#$bin#g" "$dest/usr/lib/systemd/system/procsvc.service" >"$tmp/procsvc.service"
		ops_expect "systemd-analyze verify" 0 systemd-analyze verify --man=no "$tmp/procsvc.service"
	fi
	ops_result "make install DESTDIR: binary, migrations, man page, hardened unit; --version has the commit; serves /openapi.yaml from /"
}

# make run's set-up from a checkout the postgres user cannot enter (mode
# 0700, as a clone under /root is): the cluster goes to /var/tmp, is reused,
# and pg_local_stop (make stop-db) finds it. Only meaningful as root.
ops_run_dir() {
	local locked=$tmp/locked clone port dir
	ops_fails=""
	if [ "$(id -u)" != 0 ]; then say "make run from a 0700 folder: skipped (not root)"; return 0; fi
	clone=$locked/clone
	if ! { mkdir -m 0700 "$locked" && mkdir -p "$clone/build" &&
		cp -r scripts migrations "$clone/" && cp build/procsvc "$clone/build/"; }; then
		say "make run from a 0700 folder: could not copy the checkout"
		bad
		return 1
	fi
	port=$(free_port)
	ops_expect "run.sh --db-only" 0 env -u DATABASE_URL PROCSVC_PG_PORT="$port" \
		bash "$clone/scripts/run.sh" --db-only
	dir=$(sed -n 's/.*the local cluster lives in \(.*\)$/\1/p' <<<"$ops_out" | head -n 1)
	ops_check "says where the cluster lives" eval '[[ "$dir" == /var/tmp/procsvc-* ]] && ops_has "database ready"'
	ops_expect "run.sh --db-only again" 0 env -u DATABASE_URL PROCSVC_PG_PORT="$port" \
		bash "$clone/scripts/run.sh" --db-only &&
		ops_check "the second run reuses it" ops_has "postgres already running in $dir"
	ops_expect "stop-db" 0 bash -c '. scripts/pg.sh && pg_local_stop "$1"' _ "$clone"
	if [ -n "$dir" ] && "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$port"; then
		ops_fails="$ops_fails; the cluster still runs after stop-db"
	fi
	[[ "$dir" == /var/tmp/procsvc-* ]] && rm -rf "$dir"
	ops_result "make run from a 0700 folder: cluster in /var/tmp/procsvc-<hash>, reused, stopped by stop-db"
}

ops_probe() {
	local closed
	ops_fails=""
	closed=$(free_port)
	ops_expect "probe" 0 env "${SANITIZER_ENV[@]}" PROCSVC_LISTEN="127.0.0.1:$server_port" "$SERVER_BIN" probe &&
		ops_check "probe says 200" ops_has "/readyz: 200"
	ops_expect "probe --live" 0 env "${SANITIZER_ENV[@]}" PROCSVC_LISTEN="$server_port" "$SERVER_BIN" probe --live
	ops_expect "probe, closed port" 1 env "${SANITIZER_ENV[@]}" PROCSVC_LISTEN="127.0.0.1:$closed" \
		"$SERVER_BIN" probe --timeout 2 && ops_check "probe names the failure" ops_has "refused"
	ops_result "probe: 0 on 200 from /readyz or /healthz, 1 when nothing answers"
}

# The server's start-up lines (in $tmp/server.log): the database's schema
# version, and "listening" only after it listens.
ops_start_log() {
	ops_fails=""
	ops_out=$(cat "$tmp/server.log")
	ops_check "start-up log" eval 'ops_has "schema version" && ops_has "(current)" &&
		ops_has "listening on http://127.0.0.1:$server_port" && ops_has "(commit "'
	ops_result "serve logs the database's schema version before it listens"
}

# The repository explains itself: the README links only to files it holds,
# and docs/api.md documents every route of the routing table with both of
# its paths.
ops_docs() {
	local link name path help
	ops_fails=""
	while read -r link; do
		case $link in
		http://* | https://* | \#*) ;;
		../* | /*) ops_fails="$ops_fails; README links outside the repository: $link" ;;
		*) [ -e "${link%%#*}" ] || ops_fails="$ops_fails; README links to missing $link" ;;
		esac
	done < <(grep -o '](\([^)]*\))' README.md | sed 's/^](//; s/)$//')
	grep -q '\.\./shared' README.md && ops_fails="$ops_fails; README points outside the repository"
	while read -r name path; do
		grep -qF "/api/c/compapi/v2/cc/$name/" docs/api.md &&
			grep -qF "\`POST $path\`" docs/api.md ||
			ops_fails="$ops_fails; docs/api.md lacks $name ($path)"
	done < <(sed -n 's/^\t{ "\([a-z_]*\)", "\([^"]*\)".*/\1 \2/p' src/http/router.c)
	# Every variable the binary reads is in --help, the man page and the
	# README's configuration table.
	help=$("$SERVER_BIN" --help 2>&1)
	while read -r name; do
		grep -qw -- "$name" <<<"$help" || ops_fails="$ops_fails; --help lacks $name"
		grep -qx "\.B $name" docs/procsvc.1 || ops_fails="$ops_fails; the man page lacks $name"
		grep -q "^| \`$name\` |" README.md || ops_fails="$ops_fails; README's configuration table lacks $name"
	done < <(grep -rhoE '(getenv|env_long)\("[A-Z_]+"' src | sed 's/.*("//; s/"$//' | sort -u)
	ops_result "docs: README links stay in the repository, docs/api.md covers every route, every variable documented"
}

# README "Scaling out" sketches a Citus migration. Without its calls to
# Citus functions it is plain SQL that must apply to the schema the
# migrations make today: it names real constraints and columns. Runs on a
# database of its own. 1 result.
ops_citus_sketch() {
	local url sql=$tmp/citus-sketch.sql psql
	psql="$(pg_bin)/psql"
	if [ -z "$cluster_dir" ]; then say "Citus sketch: skipped (external database)"; return 0; fi
	url=${db_url%/*}/citus_sketch
	awk '/^```sql$/ { f = 1; next } /^```$/ { f = 0 } f' README.md |
		grep -v '^SELECT create_' >"$sql"
	ops_fails=""
	"$psql" -X -q -d "${db_url%/*}/postgres" -c "DROP DATABASE IF EXISTS citus_sketch" \
		-c "CREATE DATABASE citus_sketch" >/dev/null 2>&1 || ops_fails="; cannot create its database"
	ops_expect "migrate up" 0 env DATABASE_URL="$url" "${SANITIZER_ENV[@]}" "$SERVER_BIN" migrate up &&
		ops_expect "the sketch" 0 "$psql" -X -q -v ON_ERROR_STOP=1 -d "$url" -f "$sql"
	[ "$(grep -c 'create_distributed_table\|create_reference_table' README.md)" -ge 9 ] ||
		ops_fails="$ops_fails; the sketch distributes fewer than 9 tables"
	"$psql" -X -q -d "${db_url%/*}/postgres" -c "DROP DATABASE IF EXISTS citus_sketch" >/dev/null 2>&1
	ops_result "Citus sketch: README's migration (Citus calls aside) applies to today's schema"
}
