# shellcheck shell=bash
# tmp, server_port and the like are test.sh's (SC2154).
# shellcheck disable=SC2154
#
# test_openapi.sh: openapi.yaml held to account, sourced by scripts/test.sh
# (it uses its say/ok/bad, $tmp, $server_port, $SERVER_BIN, $FILTER and the
# running server's log $tmp/server.log). The checks are
# tests/openapi/check.mjs, run by node with the pinned npm packages that
# `make test` installs into tests/openapi/node_modules. Each openapi_*
# function adds one result.
#
#   openapi_doc      the document is valid OpenAPI 3.1, every schema compiles
#                    (Ajv, strict), and the checker's own selftest passes
#   openapi_routes   `procsvc routes` and the document list the same methods
#                    and paths
#   openapi_bodies   every body the server accepted while the HTTP cases ran
#                    (test_runner --dump-bodies) validates against the schema
#                    of its operation
#   openapi_served   GET /openapi.yaml serves the document's bytes, with its
#                    media type, ETag, 304, HEAD, 405, metrics and access line

OPENAPI_CHECK=tests/openapi/check.mjs

# The document is checked as the checker sees it: node and its packages.
openapi_tools() {
	if ! command -v node >/dev/null || [ ! -d tests/openapi/node_modules ]; then
		say "$1: node or tests/openapi/node_modules missing (make test installs them)"
		bad
		return 1
	fi
}

# openapi_run OUT CHECK-ARGS...: check.mjs with a time bound; its status.
openapi_run() {
	local out=$1
	shift
	timeout 120 node "$OPENAPI_CHECK" "$@" >"$out" 2>&1
}

openapi_doc() {
	local out=$tmp/openapi-doc.out
	openapi_tools "openapi document" || return 1
	if openapi_run "$out" doc && openapi_run "$out.self" selftest; then
		say "openapi document: $(tail -n 1 "$out" | sed 's/^openapi doc: //'); $(tail -n 1 "$out.self" | sed 's/^openapi //')"
		ok
	else
		cat "$out" "$out.self" 2>/dev/null | head -n 60
		say "openapi document: FAILED (above)"
		bad
	fi
}

openapi_routes() {
	local routes=$tmp/routes.txt out=$tmp/openapi-routes.out
	openapi_tools "openapi routes" || return 1
	if ! timeout 30 "$SERVER_BIN" routes >"$routes" 2>"$out"; then
		cat "$out"
		say "openapi routes: procsvc routes failed"
		bad
		return 1
	fi
	if openapi_run "$out" routes "$routes"; then
		say "openapi routes: $(tail -n 1 "$out" | sed 's/^openapi routes: //') (procsvc routes: $(grep -c . "$routes") lines)"
		ok
	else
		cat "$out"
		say "openapi routes: FAILED (above)"
		bad
	fi
}

# openapi_bodies FILE: FILE is what test_runner --dump-bodies wrote. Run on
# the whole corpus it must hold the bodies of every API, so a dump that
# stopped being written cannot pass as "nothing invalid".
openapi_bodies() {
	local bodies=$1 out=$tmp/openapi-bodies.out n missing="" name native
	openapi_tools "openapi bodies" || return 1
	if [ ! -f "$bodies" ]; then
		say "openapi bodies: $bodies was not written"
		bad
		return 1
	fi
	n=$(grep -c . "$bodies")
	if [ -z "$FILTER" ] && [ -z "${TEST_CASES:-}" ]; then
		# "name native-path" per API: procsvc routes lists each ESB path
		# before the methods of its native path.
		while read -r name native; do
			grep -qF -e "\"path\":\"/api/c/compapi/v2/cc/$name" -e "\"path\":\"$native" "$bodies" ||
				missing="$missing $name"
		done < <(awk '$2 ~ "^/api/c/compapi/v2/cc/" { split($2, p, "/"); name = p[7]; next }
			name != "" && $2 ~ "^/api/" { print name, $2; name = "" }' "$tmp/routes.txt" 2>/dev/null)
	fi
	if openapi_run "$out" bodies "$bodies" && [ -z "$missing" ]; then
		say "openapi bodies: $(tail -n 1 "$out" | sed 's/^openapi bodies: //') (request bodies the server accepted, $n)"
		ok
	else
		grep -v '^openapi bodies:' "$out" | head -n 80
		[ -z "$missing" ] || echo "no accepted body for:$missing"
		say "openapi bodies: FAILED (above): $(tail -n 1 "$out")"
		bad
	fi
}

# openapi_header FILE NAME: the value of header NAME in curl's -D FILE.
openapi_header() {
	tr -d '\r' <"$1" | sed -n "s/^$2: //Ip" | tail -n 1
}

openapi_served() {
	local url="http://127.0.0.1:$server_port/openapi.yaml" d=$tmp/openapi-served
	local fails="" etag sum n0 n1 series='procsvc_requests_total{api="openapi",status="200",code="0"}'
	mkdir -p "$d"
	n0=$(curl -s --noproxy '*' --max-time 10 "http://127.0.0.1:$server_port/metrics" | awk -v s="$series" '$1 == s { print $2 }')
	curl -s --noproxy '*' --max-time 10 -D "$d/get.h" -o "$d/get.body" -H 'X-Request-Id: openapi-get' "$url"
	cmp -s "$d/get.body" openapi.yaml || fails="$fails; GET does not serve openapi.yaml's bytes"
	[ "$(head -n 1 "$d/get.h" | tr -d '\r')" = "HTTP/1.1 200 OK" ] || fails="$fails; GET: $(head -n 1 "$d/get.h")"
	# The media type the document itself names for this path.
	grep -A 30 '^  /openapi.yaml:' openapi.yaml | grep -q '^            application/yaml:$' ||
		fails="$fails; openapi.yaml no longer says application/yaml"
	[ "$(openapi_header "$d/get.h" Content-Type)" = application/yaml ] ||
		fails="$fails; Content-Type $(openapi_header "$d/get.h" Content-Type)"
	[ "$(openapi_header "$d/get.h" Cache-Control)" = no-cache ] || fails="$fails; no Cache-Control: no-cache"
	etag=$(openapi_header "$d/get.h" ETag)
	sum=$(sha256sum openapi.yaml)
	[ "$etag" = "\"${sum%% *}\"" ] || fails="$fails; ETag $etag is not the document's sha256"
	# Revalidation: the tag (weak or strong, or in a list) answers 304
	# without a body; another tag gets the document.
	for inm in "$etag" "W/$etag" "\"x\", $etag" '*'; do
		curl -s --noproxy '*' --max-time 10 -D "$d/304.h" -o "$d/304.body" -H "If-None-Match: $inm" "$url"
		[ "$(head -n 1 "$d/304.h" | tr -d '\r')" = "HTTP/1.1 304 Not Modified" ] && [ ! -s "$d/304.body" ] &&
			[ "$(openapi_header "$d/304.h" ETag)" = "$etag" ] || fails="$fails; If-None-Match $inm: $(head -n 1 "$d/304.h")"
	done
	curl -s --noproxy '*' --max-time 10 -o "$d/other.body" -H 'If-None-Match: "x"' "$url"
	cmp -s "$d/other.body" openapi.yaml || fails="$fails; another tag did not get the document"
	# HEAD: the GET answer's headers, no body, the same connection usable.
	curl -s --noproxy '*' --max-time 10 -I -D "$d/head.h" "$url" "$url" >/dev/null
	[ "$(openapi_header "$d/head.h" Content-Length | sort -u)" = "$(wc -c <openapi.yaml)" ] ||
		fails="$fails; HEAD Content-Length $(openapi_header "$d/head.h" Content-Length)"
	[ "$(grep -c '^HTTP/1.1 200' "$d/head.h")" -eq 2 ] || fails="$fails; two HEADs on one connection: $(grep '^HTTP' "$d/head.h" | tr -d '\r' | tr '\n' ' ')"
	curl -s --noproxy '*' --max-time 10 -D "$d/post.h" -o "$d/post.body" -X POST -d '{}' "$url"
	[ "$(head -n 1 "$d/post.h" | tr -d '\r')" = "HTTP/1.1 405 Method Not Allowed" ] &&
		[ "$(openapi_header "$d/post.h" Allow)" = "GET, HEAD" ] && grep -q '"code":1199006' "$d/post.body" ||
		fails="$fails; POST: $(head -n 1 "$d/post.h") $(cat "$d/post.body")"
	# Counted and logged like every request (PROCSVC_LOG_PROBES never
	# quiets it: scripts/test_obs.sh checks that).
	n1=$(curl -s --noproxy '*' --max-time 10 "http://127.0.0.1:$server_port/metrics" | awk -v s="$series" '$1 == s { print $2 }')
	# Two GETs and two HEADs answered 200 since the first scrape.
	[ "$((${n1:-0} - ${n0:-0}))" -eq 4 ] || fails="$fails; $series went from ${n0:-0} to ${n1:-0}, want +4"
	grep -F '"request_id":"openapi-get"' "$tmp/server.log" |
		grep -q "\"type\":\"access\".*\"method\":\"GET\",\"path\":\"/openapi.yaml\",\"status\":200,\"code\":0,.*\"response_bytes\":$(wc -c <openapi.yaml)," ||
		fails="$fails; no access line for GET /openapi.yaml"
	if [ -z "$fails" ]; then
		say "openapi served: GET /openapi.yaml is the document byte for byte (application/yaml, ETag = sha256, 304, HEAD, 405), counted and logged"
		ok
	else
		say "openapi served: FAILED$fails"
		bad
	fi
}
