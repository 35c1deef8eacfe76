#!/usr/bin/env bash
#
# fuzz.sh: `make fuzz`. Runs the libFuzzer targets for FUZZ_SECONDS each:
# build/fuzz_body (the body decoder and process codec, no server),
# build/fuzz_jtree (api/jtree's tree against Jansson's parser's) and
# build/fuzz_pipeline (the real server in-process, against a throwaway
# PostgreSQL made here). Findings are written by libFuzzer as crash-* files
# in build/; each replays with `build/fuzz_<target> <file>`.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || exit 1
cd "$ROOT" || exit 1
# shellcheck source-path=SCRIPTDIR source=pg.sh disable=SC1091
. "$ROOT/scripts/pg.sh"

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
tmp=

cleanup() {
	if [ -n "$tmp" ]; then
		pg_cluster_stop "$tmp" >/dev/null 2>&1
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

run_target() { # name corpus-dir [extra libFuzzer options...]
	local name=$1 seeds=$2
	shift 2
	mkdir -p "build/fuzz-corpus-$name"
	echo "== fuzz $name: $FUZZ_SECONDS s"
	"build/fuzz_$name" -max_total_time="$FUZZ_SECONDS" -timeout=10 -artifact_prefix=build/ \
		-print_final_stats=1 "$@" "build/fuzz-corpus-$name" "$seeds"
}

main() {
	local port rc=0
	run_target body tests/fuzz/corpus -max_len=65536 || rc=1
	run_target jtree tests/fuzz/corpus -max_len=65536 || rc=1
	tmp=$(mktemp -d) || exit 1
	port=$(free_port) || exit 1
	pg_cluster_start "$tmp" "$port" >/dev/null || { echo "fuzz: PostgreSQL did not start"; exit 1; }
	DATABASE_URL=$(pg_cluster_url "$tmp" "$port")
	export DATABASE_URL
	build/procsvc migrate up >/dev/null 2>&1 || { echo "fuzz: migrate failed"; exit 1; }
	# The server's own log lines (one per request) are not the fuzzer's.
	run_target pipeline tests/fuzz/corpus-pipeline -max_len=16384 \
		-dict=tests/fuzz/http.dict 2>&1 | grep -v '"type":"access"' || rc=1
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	return "$rc"
}

main "$@"
