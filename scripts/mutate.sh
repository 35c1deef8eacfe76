#!/usr/bin/env bash
#
# mutate.sh: mutation testing, `make mutate` (not part of make test).
#
#   scripts/mutate.sh [ID | PREFIX* ...]      default: every mutant
#
# Each mutant of tests/mutants.txt (format in its header) is applied alone
# to a scratch copy of the tree (never to the checkout), built (release
# build, no valgrind), and run against the tests it names: case files of
# tests/cases (with the runner, against a throwaway PostgreSQL and a
# server of its own), `unit` (build/test_unit), `explain` (the EXPLAIN
# test on a million instances, tests/db/test_explain.c, about a minute), or
# `cases` (every case file); a mutant that names none gets every case file
# and the unit tests.
# A mutant is killed when a test fails, the server does not start, or the
# tests time out. It survived when everything passed: the tests do not
# catch what the mutant broke.
#
# 1. build/mutant check: a mutant whose old text no longer occurs exactly
#    once in the tree is STALE, and the run stops before it starts;
# 2. MUTATE_JOBS workers (default 2), each a copy of the tree with its own
#    build, PostgreSQL cluster and ports, take mutants from one queue;
# 3. the baseline: the unmutated tree must pass every test the selected
#    mutants name (MUTATE_BASELINE=0 skips it);
# 4. a line per mutant, then the survivors, the counts by kind and the
#    time taken. The exit status is 1 when a mutant survived, was stale,
#    or did not build or migrate (a broken mutant is a fault of the list).
#
# Each worker keeps its tree's pristine build output and puts it back
# after a mutant (restore_tree), so a mutant recompiles only its own file;
# the case runner stops at the first failed step (--fail-fast).
# Measured: the full list (236 mutants, all killed) in 720 s, about 12 minutes, with
# MUTATE_JOBS=1 on a 2-core machine (a mutant 2-8 s, the four index
# mutants 12-35 s each for the EXPLAIN test); the baseline about 30 s.
#
# A mutant that edits migrations/ gets a fresh database migrated with its
# schema, and so does the mutant after it. MUTATE_LIST names another list,
# MUTATE_KEEP=1 keeps the scratch directory, MUTATE_VERBOSE=1 prints the
# first failures of killed mutants too.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || exit 1
cd "$ROOT" || exit 1
# shellcheck source-path=SCRIPTDIR source=pg.sh disable=SC1091
. "$ROOT/scripts/pg.sh"

LIST=${MUTATE_LIST:-tests/mutants.txt}
LIST=$(cd "$(dirname "$LIST")" && pwd)/$(basename "$LIST") || exit 1
JOBS=${MUTATE_JOBS:-2}
MUTANT_BIN=$ROOT/build/mutant
RUNNER_BIN=$ROOT/build/test_runner
# What the tree copies need to build and test; build output stays behind.
TREE_PARTS=(Makefile src migrations openapi.yaml scripts/embed.sh tests/cases tests/unit tests/db)

scratch=
started=$SECONDS

say() { printf '== %s\n' "$*"; }

# Idempotent: the EXIT trap runs it after a normal end as well.
cleanup() {
	local f d
	[ -n "$scratch" ] || return 0
	for f in "$scratch"/w*/worker.pid "$scratch"/w*/server.pid; do
		[ -e "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
	wait 2>/dev/null
	for f in "$scratch"/w*/pgdir; do
		[ -e "$f" ] || continue
		d=$(cat "$f")
		pg_cluster_stop "$d" >/dev/null 2>&1
		rm -rf "$d"
	done
	if [ -n "${MUTATE_KEEP:-}" ]; then
		say "scratch directory kept: $scratch"
	else
		rm -rf "$scratch"
	fi
	scratch=
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The mutants to run, as "id<TAB>kind<TAB>tests<TAB>what" lines, selected
# by the arguments (ids, or prefixes ending in *).
select_mutants() {
	local id kind tests what pat
	"$MUTANT_BIN" list "$LIST" | while IFS=$'\t' read -r id kind tests what; do
		if [ $# -eq 0 ]; then
			printf '%s\t%s\t%s\t%s\n' "$id" "$kind" "$tests" "$what"
			continue
		fi
		for pat in "$@"; do
			# shellcheck disable=SC2053  # the argument is a glob on purpose
			if [[ $id == $pat ]]; then
				printf '%s\t%s\t%s\t%s\n' "$id" "$kind" "$tests" "$what"
				break
			fi
		done
	done
}

# A worker's directory: tree/ (a copy of the checkout, built), pgdir (where
# its cluster lives), db (its URL), and its logs.
setup_worker() {
	local w=$1 dir=$scratch/w$1 pg port
	mkdir -p "$dir/tree" || return 1
	(cd "$ROOT" && cp -a --parents "${TREE_PARTS[@]}" "$dir/tree/") || return 1
	if ! make -C "$dir/tree" -j2 --no-print-directory PROCSVC_COMMIT=mutate \
		build/procsvc >"$dir/build.log" 2>&1; then
		cat "$dir/build.log"
		say "worker $w: the unmutated tree does not build"
		return 1
	fi
	# The pristine build output, put back after each mutant (restore_tree).
	cp -a "$dir/tree/build" "$dir/pristine" || return 1
	# Its own temp dir: pg.sh hands it to the postgres user (as root).
	pg=$(mktemp -d) || return 1
	echo "$pg" >"$dir/pgdir"
	port=$(free_port) || return 1
	pg_cluster_start "$pg" "$port" >"$dir/pg.log" 2>&1 || { cat "$dir/pg.log"; return 1; }
	pg_cluster_url "$pg" "$port" >"$dir/db"
	fresh_database "$w"
}

# Drops and recreates the worker's database, migrated with its tree's
# migrations (the mutant's, if it edits them).
fresh_database() {
	local dir=$scratch/w$1 db admin
	db=$(cat "$dir/db")
	admin=${db%/procsvc}/postgres
	psql -X -q "$admin" -c "DROP DATABASE IF EXISTS procsvc WITH (FORCE)" \
		-c "CREATE DATABASE procsvc" >"$dir/migrate.log" 2>&1 || return 1
	(cd "$dir/tree" && DATABASE_URL=$db PROCSVC_MIGRATIONS=$dir/tree/migrations \
		timeout 60 build/procsvc migrate up) >>"$dir/migrate.log" 2>&1
}

# The worker's server (its tree's release build) on a free port.
start_server() {
	local dir=$scratch/w$1 port pid deadline=$((SECONDS + 20))
	port=$(free_port) || return 1
	(cd "$dir/tree" && exec env DATABASE_URL="$(cat "$dir/db")" \
		PROCSVC_LISTEN="127.0.0.1:$port" PROCSVC_APPS=esb_test:xxx,other_app:other_secret \
		PROCSVC_THREADS=32 PROCSVC_LOG_LEVEL=warn build/procsvc serve) >"$dir/server.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/server.pid"
	echo "$port" >"$dir/server.port"
	while [ "$SECONDS" -lt "$deadline" ]; do
		curl -fsS --noproxy '*' --max-time 2 -o /dev/null \
			"http://127.0.0.1:$port/readyz" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

stop_server() {
	local dir=$scratch/w$1 pid i
	[ -e "$dir/server.pid" ] || return 0
	pid=$(cat "$dir/server.pid")
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$dir/server.pid"
}

# The case files and groups of a "tests" field ("-": the whole suite).
expand_tests() {
	local t
	if [ "$1" = - ]; then
		echo cases unit
		return
	fi
	for t in $1; do echo "$t"; done
}

# Runs the tests of $2 in worker $1's tree against its server. 0 when all
# passed; otherwise the first failure is in $dir/why.
run_tests() {
	local w=$1 dir=$scratch/w$1 files=() t line all
	: >"$dir/why"
	all=$(expand_tests "$2" | grep -c -x cases)
	for t in $(expand_tests "$2"); do
		case $t in
		unit)
			if ! make -C "$dir/tree" --no-print-directory PROCSVC_COMMIT=mutate \
				build/test_unit >"$dir/unit-build.log" 2>&1; then
				echo "unit tests do not build" >"$dir/why"
				return 2
			fi
			if ! timeout 300 "$dir/tree/build/test_unit" >"$dir/unit.out" 2>&1; then
				line=$(grep -m1 -E '^\[  (FAILED|ERROR) +\]' "$dir/unit.out")
				echo "unit: ${line:-exit status}" >"$dir/why"
				return 1
			fi
			;;
		explain)
			if ! make -C "$dir/tree" --no-print-directory PROCSVC_COMMIT=mutate \
				build/test_explain >"$dir/explain-build.log" 2>&1; then
				echo "the explain test does not build" >"$dir/why"
				return 2
			fi
			# Seeds and drops a database of its own beside the worker's,
			# migrated with the tree's migrations (its working directory).
			if ! (cd "$dir/tree" && TEST_DATABASE_URL=$(cat "$dir/db") timeout 600 \
				build/test_explain) >"$dir/explain.out" 2>&1; then
				line=$(grep -m1 -E '^\[  (FAILED|ERROR) +\]|Seq Scan' "$dir/explain.out")
				echo "explain: ${line:-exit status}" >"$dir/why"
				return 1
			fi
			;;
		cases) files+=("$dir"/tree/tests/cases/*.json) ;;
		*) [ "$all" -gt 0 ] || files+=("$dir/tree/tests/cases/$t.json") ;;
		esac
	done
	[ ${#files[@]} -gt 0 ] || return 0
	env PROCSVC_URL="http://127.0.0.1:$(cat "$dir/server.port")" TEST_DATABASE_URL="$(cat "$dir/db")" \
		PROCSVC_TEST_APP=esb_test PROCSVC_TEST_SECRET=xxx PROCSVC_TEST_USER=admin TEST_FILTER= \
		timeout 300 "$RUNNER_BIN" --fail-fast "${files[@]}" >"$dir/runner.out" 2>&1
	case $? in
	0) return 0 ;;
	124) echo "timeout after 300 s" >"$dir/why" ;;
	*)
		line=$(grep -m1 '^FAIL ' "$dir/runner.out")
		line=${line#FAIL "$dir"/tree/tests/cases/}
		echo "${line:-runner: $(tail -n 1 "$dir/runner.out")}" | cut -c1-200 >"$dir/why"
		;;
	esac
	return 1
}

# Applies one mutant in worker $1, builds, tests, restores. Prints its
# result line; the verdict goes to $dir/results.
run_mutant() {
	local w=$1 id=$2 kind=$3 tests=$4 what=$5 dir=$scratch/w$1 t0=$SECONDS
	local files verdict why=""
	touch "$dir/stamp"
	files=$("$MUTANT_BIN" apply "$LIST" "$id" "$dir/tree" 2>"$dir/apply.log")
	if [ -z "$files" ]; then
		verdict=STALE
		why=$(head -n 1 "$dir/apply.log")
	elif ! make -C "$dir/tree" --no-print-directory PROCSVC_COMMIT=mutate \
		build/procsvc >"$dir/build.log" 2>&1; then
		verdict=BROKEN
		why="does not build: $(grep -m1 -E 'error:' "$dir/build.log")"
	elif [[ $'\n'$files == *$'\n'migrations/* || -e $dir/db.dirty ]] &&
		! fresh_database "$w"; then
		verdict=BROKEN
		why="does not migrate: $(grep -m1 -iE 'error|fail' "$dir/migrate.log")"
	elif ! start_server "$w"; then
		verdict=killed
		why="the server did not start: $(tail -n 1 "$dir/server.log")"
	elif run_tests "$w" "$tests"; then
		verdict=SURVIVED
		why=$what
	else
		verdict=killed
		why=$(cat "$dir/why")
	fi
	stop_server "$w"
	rm -f "$dir/db.dirty"
	[[ $'\n'$files != *$'\n'migrations/* ]] || touch "$dir/db.dirty"
	restore_tree "$w" "$files"
	printf '%s\t%s\t%s\t%s\n' "$verdict" "$kind" "$id" "$why" >>"$dir/results"
	if [ "$verdict" = killed ] && [ -z "${MUTATE_VERBOSE:-}" ]; then
		why=${why:0:100}
	fi
	printf '  %-8s %-34s %4ds  %s\n' "$verdict" "$id" $((SECONDS - t0)) "$why"
}

# Puts worker $1's tree back as it was before the mutant, mtimes included:
# the files of $2 from the pristine copy, and whatever the mutant's build
# and tests wrote under build/ from the pristine build output (or removed,
# when there was none), so the next mutant rebuilds only its own files.
restore_tree() {
	local dir=$scratch/w$1 f rel
	for f in $2; do
		cp -p "$scratch/orig/$f" "$dir/tree/$f"
	done
	while IFS= read -r f; do
		rel=${f#"$dir"/tree/build/}
		if [ -e "$dir/pristine/$rel" ]; then
			cp -p "$dir/pristine/$rel" "$f"
		else
			rm -f "$f"
		fi
	done < <(find "$dir/tree/build" -type f -newer "$dir/stamp")
}

# Takes mutants off the shared queue until it is empty.
worker() {
	local w=$1 n id kind tests what
	while :; do
		# shellcheck disable=SC2016  # expanded by the inner bash
		n=$(flock "$scratch/queue.lock" bash -c \
			'n=$(cat "$1"); echo $((n + 1)) >"$1"; echo "$n"' _ "$scratch/queue.next")
		IFS=$'\t' read -r id kind tests what < <(sed -n "$((n + 1))p" "$scratch/queue")
		[ -n "${id:-}" ] || return 0
		run_mutant "$w" "$id" "$kind" "$tests" "$what"
	done
}

# Counts and survivors from every worker's results. Returns 1 unless every
# mutant was killed.
report() {
	local all=$scratch/results k total
	cat "$scratch"/w*/results >"$all" 2>/dev/null
	total=$(wc -l <"$all")
	echo
	if grep -q -v '^killed' "$all"; then
		say "not killed:"
		grep -v '^killed' "$all" | sort | awk -F'\t' '{ printf "  %-8s %-34s %s\n", $1, $3, $4 }'
	fi
	for k in constraint row limit swap; do
		awk -F'\t' -v k="$k" '$2 == k { n++; if ($1 == "killed") d++ }
			END { if (n) printf "== %-10s %3d mutants, %3d killed\n", k, n, d }' "$all"
	done
	say "$total mutants: $(grep -c '^killed' "$all") killed, $(grep -c '^SURVIVED' "$all") survived, $(grep -c -E '^(BROKEN|STALE)' "$all") broken or stale; $((SECONDS - started)) s with $JOBS jobs"
	[ "$total" -gt 0 ] && ! grep -q -v '^killed' "$all"
}

main() {
	local w n selected tests
	if [ ! -x "$MUTANT_BIN" ] || [ ! -x "$RUNNER_BIN" ]; then
		say "build/mutant and build/test_runner first (make mutate)"
		exit 1
	fi
	"$MUTANT_BIN" check "$LIST" "$ROOT" || { say "stale mutants: fix $LIST first"; exit 1; }
	scratch=$(mktemp -d) || exit 1
	select_mutants "$@" >"$scratch/queue"
	n=$(wc -l <"$scratch/queue")
	[ "$n" -gt 0 ] || { say "no mutant matches: $*"; exit 1; }
	echo 0 >"$scratch/queue.next"
	mkdir -p "$scratch/orig"
	cp -a --parents "${TREE_PARTS[@]}" "$scratch/orig/" || exit 1
	[ "$JOBS" -ge 1 ] 2>/dev/null || JOBS=1
	[ "$JOBS" -le "$n" ] || JOBS=$n
	say "$n mutants, $JOBS jobs; scratch $scratch"
	for ((w = 1; w <= JOBS; w++)); do
		setup_worker "$w" || { say "worker $w could not be set up"; exit 1; }
	done
	if [ "${MUTATE_BASELINE:-1}" != 0 ]; then
		# Every test any selected mutant names, once, on the pristine tree.
		selected=$(cut -f3 "$scratch/queue" | tr ' ' '\n' | sort -u | tr '\n' ' ')
		tests=$(for t in $selected; do expand_tests "$t"; done | sort -u | tr '\n' ' ')
		start_server 1 || { say "baseline: the server did not start"; exit 1; }
		if ! run_tests 1 "$tests"; then
			stop_server 1
			say "baseline: the unmutated tree fails its tests: $(cat "$scratch/w1/why")"
			exit 1
		fi
		stop_server 1
		say "baseline: the unmutated tree passes $tests($((SECONDS - started)) s)"
	fi
	for ((w = 1; w <= JOBS; w++)); do
		worker "$w" &
		echo $! >"$scratch/w$w/worker.pid"
	done
	wait
	report
}

main "$@"
