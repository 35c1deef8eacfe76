# shellcheck shell=bash
#
# pg.sh: a throwaway PostgreSQL cluster for `make run` and `make test`.
#
# Source it, then:
#   pg_cluster_start DIR PORT   initdb DIR/pgdata if needed, start it, create db procsvc
#   pg_replica_start DIR PORT PRIMARY_PORT [OPTIONS]
#                               a streaming replica of the cluster on PRIMARY_PORT:
#                               pg_basebackup -R into DIR/pgdata if needed, then start
#                               it (OPTIONS: more server options, e.g. "-c log_statement=all")
#   pg_cluster_stop DIR         stop it (idempotent; replicas too)
#   pg_cluster_url DIR PORT     print the libpq URL of the procsvc database
#   pg_local_dir CHECKOUT       print where `make run` keeps its cluster
#   pg_local_stop CHECKOUT      stop that cluster, wherever it is (make stop-db)
#   free_port                   print a free TCP port on 127.0.0.1
#   pg_bin                      print the directory of the PostgreSQL binaries
#
# The cluster listens on 127.0.0.1:PORT and on a Unix socket in DIR, trusts every
# local connection (user postgres) and runs with fsync=off: it is for tests only.
# PG_OPTS adds server options after those (a later -c wins), e.g. for make bench.
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres`
# system user. Functions return non-zero on failure and never exit the caller.

pg_bin() {
	echo "${PG_BIN:-/usr/lib/postgresql/15/bin}"
}

# Runs "$@" as the cluster owner: the postgres user when we are root, else us.
# It starts in / so that a cwd postgres cannot read (/root) causes no warnings.
_pg_as_owner() {
	if [ "$(id -u)" = 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

_pg_ensure_user() {
	id -u postgres >/dev/null 2>&1 || useradd -r -m postgres
}

# Makes sure the postgres user exists and can reach and own DIR (root only).
# Only DIR itself is chmod'ed; a parent that blocks the way is reported, not changed.
_pg_prepare_dir() {
	local dir=$1 p
	[ "$(id -u)" = 0 ] || return 0
	_pg_ensure_user || return 1
	chown postgres: "$dir" || return 1
	chmod u+rwx,o+x "$dir" || return 1
	if [ -d "$dir/pgdata" ]; then
		chown -R postgres: "$dir/pgdata" || return 1
	fi
	if ! runuser -u postgres -- test -x "$dir"; then
		p=$dir
		while [ "$p" != / ]; do
			p=$(dirname "$p")
			if ! runuser -u postgres -- test -x "$p"; then
				echo "pg.sh: user postgres cannot enter $p (needed for $dir)" >&2
				return 1
			fi
		done
		return 1
	fi
}

_pg_log_tail() {
	local log=$1/postgres.log
	echo "pg.sh: PostgreSQL failed; last lines of $log:" >&2
	if [ -f "$log" ]; then
		tail -n 30 "$log" >&2
	fi
}

# initdb DIR/pgdata; C.UTF-8 when the system has it, otherwise no locale at all.
_pg_initdb() {
	local dir=$1 bin out
	bin=$(pg_bin)
	if out=$(_pg_as_owner "$bin/initdb" -D "$dir/pgdata" -U postgres --auth=trust \
		-E UTF8 --locale=C.UTF-8 2>&1); then
		return 0
	fi
	# initdb removes the data directory it created when it fails.
	if out=$(_pg_as_owner "$bin/initdb" -D "$dir/pgdata" -U postgres --auth=trust \
		-E UTF8 --no-locale 2>&1); then
		return 0
	fi
	echo "pg.sh: initdb failed:" >&2
	printf '%s\n' "$out" | tail -n 30 >&2
	return 1
}

_pg_running() {
	local dir=$1
	[ -f "$dir/pgdata/PG_VERSION" ] || return 1
	_pg_as_owner "$(pg_bin)/pg_ctl" status -D "$dir/pgdata" >/dev/null 2>&1
}

# Starts the cluster in DIR/pgdata on PORT and waits until it answers. The
# settings a replica must share with its primary (max_connections) are the
# same for both. $3: more server options.
_pg_serve() {
	local dir=$1 port=$2 bin i
	bin=$(pg_bin)
	# wal_level=replica and max_wal_senders=10 are PostgreSQL 15's defaults,
	# and initdb's pg_hba.conf lets local replication connections in: every
	# cluster can be the primary of pg_replica_start.
	if ! _pg_as_owner "$bin/pg_ctl" start -w -t 30 -D "$dir/pgdata" -l "$dir/postgres.log" \
		-o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c shared_preload_libraries=pg_stat_statements ${PG_OPTS:-} ${3:-}" \
		>/dev/null 2>&1; then
		_pg_log_tail "$dir"
		return 1
	fi
	for ((i = 0; i < 100; i++)); do
		"$bin/pg_isready" -q -h "$dir" -p "$port" && return 0
		sleep 0.1
	done
	_pg_log_tail "$dir"
	return 1
}

pg_cluster_start() {
	local dir port bin exists
	if [ $# -ne 2 ]; then
		echo "usage: pg_cluster_start DIR PORT" >&2
		return 2
	fi
	mkdir -p "$1" || return 1
	dir=$(cd "$1" && pwd) || return 1
	port=$2
	bin=$(pg_bin)
	_pg_prepare_dir "$dir" || return 1
	if _pg_running "$dir"; then
		echo "postgres already running in $dir"
		return 0
	fi
	if [ ! -f "$dir/pgdata/PG_VERSION" ]; then
		_pg_initdb "$dir" || return 1
	fi
	_pg_serve "$dir" "$port" || return 1
	exists=$("$bin/psql" -X -q -t -A -h "$dir" -p "$port" -U postgres -d postgres \
		-c "SELECT 1 FROM pg_database WHERE datname = 'procsvc'") || {
		_pg_log_tail "$dir"
		return 1
	}
	if [ "$exists" != 1 ] && ! "$bin/createdb" -h "$dir" -p "$port" -U postgres procsvc; then
		_pg_log_tail "$dir"
		return 1
	fi
	echo "postgres running on 127.0.0.1:$port (data in $dir/pgdata)"
}

pg_replica_start() {
	local dir port bin
	if [ $# -lt 3 ]; then
		echo "usage: pg_replica_start DIR PORT PRIMARY_PORT [OPTIONS]" >&2
		return 2
	fi
	mkdir -p "$1" || return 1
	dir=$(cd "$1" && pwd) || return 1
	port=$2
	bin=$(pg_bin)
	_pg_prepare_dir "$dir" || return 1
	_pg_running "$dir" && return 0
	if [ ! -f "$dir/pgdata/PG_VERSION" ]; then
		# -R writes standby.signal and primary_conninfo; -X stream copies
		# the WAL written meanwhile; -c fast does not wait for a checkpoint.
		if ! _pg_as_owner "$bin/pg_basebackup" -h 127.0.0.1 -p "$3" -U postgres \
			-D "$dir/pgdata" -R -X stream -c fast >"$dir/basebackup.log" 2>&1; then
			echo "pg.sh: pg_basebackup from port $3 failed:" >&2
			tail -n 20 "$dir/basebackup.log" >&2
			return 1
		fi
	fi
	_pg_serve "$dir" "$port" "${4:-}" || return 1
	echo "replica of port $3 running on 127.0.0.1:$port (data in $dir/pgdata)"
}

pg_cluster_stop() {
	local dir
	if [ $# -ne 1 ]; then
		echo "usage: pg_cluster_stop DIR" >&2
		return 2
	fi
	[ -d "$1" ] || return 0
	dir=$(cd "$1" && pwd) || return 1
	_pg_running "$dir" || return 0
	_pg_as_owner "$(pg_bin)/pg_ctl" stop -w -t 30 -m fast -D "$dir/pgdata" >/dev/null
}

pg_cluster_url() {
	# DIR is unused: the URL goes over TCP, which every client can reach.
	echo "postgresql://postgres@127.0.0.1:$2/procsvc"
}

free_port() {
	local p i
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' && return 0
	fi
	# No python: pick random high ports until one refuses a connection.
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	echo "free_port: no free port found" >&2
	return 1
}

# The fallback home of a checkout's cluster: one directory per checkout
# path, so two clones never share a cluster and a second run finds the first.
_pg_fallback_dir() {
	local hash
	hash=$(printf '%s' "$1" | sha256sum | cut -c1-12) || return 1
	echo "/var/tmp/procsvc-$hash"
}

# Prints the directory `make run` keeps its cluster in: CHECKOUT/.data, unless
# we are root and the postgres user cannot reach it (a clone under /root,
# mode 0700); then a directory of its own under /var/tmp, said in one line
# on stderr. A cluster already in CHECKOUT/.data is always used.
pg_local_dir() {
	local checkout dir
	checkout=$(cd "$1" && pwd) || return 1
	dir=$checkout/.data
	if [ "$(id -u)" != 0 ] || [ -f "$dir/pgdata/PG_VERSION" ]; then
		echo "$dir"
		return 0
	fi
	_pg_ensure_user || return 1
	if runuser -u postgres -- test -x "$checkout" 2>/dev/null; then
		echo "$dir"
		return 0
	fi
	dir=$(_pg_fallback_dir "$checkout") || return 1
	# /var/tmp is shared: never adopt a path someone else prepared.
	if [ -L "$dir" ] || { [ -e "$dir" ] && [ "$(stat -c %U "$dir")" != postgres ] &&
		[ "$(stat -c %U "$dir")" != root ]; }; then
		echo "pg.sh: $dir exists and is not ours; remove it or set DATABASE_URL" >&2
		return 1
	fi
	[ -d "$dir" ] || mkdir -m 0700 "$dir" || return 1
	echo "pg.sh: user postgres cannot enter $checkout, so the local cluster lives in $dir" >&2
	echo "$dir"
}

pg_local_stop() {
	local checkout
	checkout=$(cd "$1" && pwd) || return 1
	pg_cluster_stop "$checkout/.data" || return 1
	pg_cluster_stop "$(_pg_fallback_dir "$checkout")"
}
