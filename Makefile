# procsvc: plain make. `make run` and `make test` are the two commands a new
# machine needs; both install missing Debian packages first (make deps).

CC      ?= cc
PKGS    := civetweb jansson libpq
# nettle-dev: SHA-256 of a request body, which an X-Idempotency-Key retry
# must match (src/api/api.c); a hash is not ours to hand-roll.
DEPS_APT := build-essential pkg-config libcivetweb-dev libjansson-dev libpq-dev nettle-dev \
            postgresql-15 postgresql-client-15 libcurl4-openssl-dev libcmocka-dev curl cppcheck shellcheck valgrind \
            docker-compose man-db groff-base bsdextrautils pgbouncer

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE $(WARN) -g -Isrc
CFLAGS  ?= -O2
PKG_CFLAGS = $(shell pkg-config --cflags jansson libpq nettle 2>/dev/null)
# civetweb ships no .pc file on Debian; its header sits in /usr/include.
PKG_LIBS   = -lcivetweb $(shell pkg-config --libs jansson libpq nettle 2>/dev/null) -lpthread -ldl

SRC     := $(sort $(wildcard src/*.c src/*/*.c))
# C written at build time: openapi.yaml as bytes (scripts/embed.sh), so the
# binary serves GET /openapi.yaml without the source tree.
GEN_SRC := build/gen/openapi_doc.c
OBJ     := $(SRC:src/%.c=build/obj/%.o) $(GEN_SRC:build/gen/%.c=build/obj/gen/%.o)
ASAN_OBJ := $(SRC:src/%.c=build/asan/%.o) $(GEN_SRC:build/gen/%.c=build/asan/gen/%.o)
COMMON_SRC := $(wildcard src/common/*.c)
# The unit binary: its tests and the pure code they test (with COMMON_SRC).
UNIT_SRC := $(wildcard tests/unit/*.c) src/api/procjson.c src/api/jtree.c

ASAN_FLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

# `procsvc --version` names the commit it was built from; outside a git
# checkout (a release tarball, the Docker build) say so, or pass it in.
PROCSVC_COMMIT ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
# main.o is rebuilt when the commit changes: build/commit holds the last one.
COMMIT_STAMP := build/commit
$(shell mkdir -p build && { [ "$$(cat $(COMMIT_STAMP) 2>/dev/null)" = '$(PROCSVC_COMMIT)' ] || \
    echo '$(PROCSVC_COMMIT)' > $(COMMIT_STAMP); })
build/obj/main.o build/asan/main.o: $(COMMIT_STAMP)
build/obj/main.o build/asan/main.o: CFLAGS_BASE += -DPROCSVC_COMMIT='"$(PROCSVC_COMMIT)"'

# make install PREFIX=/usr DESTDIR=/tmp/pkg: the binary, the migrations
# (found by the binary as ../share/procsvc/migrations), the man page, the
# systemd unit and an example environment file.
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  := $(PREFIX)/bin
DATADIR := $(PREFIX)/share/procsvc
MANDIR  := $(PREFIX)/share/man/man1
DOCDIR  := $(PREFIX)/share/doc/procsvc
UNITDIR ?= $(PREFIX)/lib/systemd/system

.PHONY: all asan deps run test lint clean stop-db bench fuzz soak install uninstall openapi-check mutate

all: build/procsvc

build/procsvc: $(OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

build/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

build/gen/openapi_doc.c: openapi.yaml scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh openapi.yaml openapi_doc > $@.tmp && mv $@.tmp $@

build/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -MMD -MP -c -o $@ $<

asan: build/procsvc-asan

build/procsvc-asan: $(ASAN_OBJ)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(PKG_LIBS)

build/asan/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(ASAN_FLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

build/asan/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(ASAN_FLAGS) -MMD -MP -c -o $@ $<

# The HTTP case runner (tests/README.md), with the warnings of src/, and
# the cmocka tests of its case-file compiler.
RUNNER_SRC := $(filter-out tests/runner/test_%.c,$(wildcard tests/runner/*.c))
build/test_runner: $(RUNNER_SRC) $(wildcard tests/runner/*.h)
	@mkdir -p build
	$(CC) $(CFLAGS_BASE) -O1 -o $@ $(RUNNER_SRC) \
	    $(shell pkg-config --cflags --libs libcurl jansson libpq) -lpthread

LOAD_TEST_SRC := tests/runner/test_load.c $(addprefix tests/runner/,load.c buf.c match.c http.c)
build/test_load: $(LOAD_TEST_SRC) $(wildcard tests/runner/*.h)
	@mkdir -p build
	$(CC) $(CFLAGS_BASE) $(ASAN_FLAGS) -o $@ $(LOAD_TEST_SRC) \
	    $(shell pkg-config --cflags --libs cmocka libcurl jansson)

# --wrap routes every allocation of src/ and tests/ through tests/unit/fault.c,
# which the out-of-memory tests use to fail the n-th one. The headers are
# prerequisites only, for rebuilds; they are filtered out of the compile line.
build/test_unit: $(UNIT_SRC) $(COMMON_SRC) $(wildcard tests/unit/*.h src/common/*.h) src/api/procjson.h src/api/jtree.h
	@mkdir -p build
	$(CC) $(CFLAGS_BASE) $(ASAN_FLAGS) -o $@ $(filter %.c,$^) \
	    $(shell pkg-config --cflags --libs cmocka jansson) \
	    -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup

# Raw-socket attacks on a running server (scripts/hostile.sh runs it in
# make test); built with the warnings of src/.
HOSTILE_SRC := tests/hostile/hostile.c tests/hostile/net.c tests/hostile/samples.c
build/test_hostile: $(HOSTILE_SRC) tests/hostile/net.h tests/hostile/samples.h
	@mkdir -p build
	$(CC) $(CFLAGS_BASE) -O1 $(PKG_CFLAGS) -o $@ $(HOSTILE_SRC) \
	    $(shell pkg-config --libs jansson libpq) -lpthread

# The seeded random-request soak (make soak).
SOAK_SRC := tests/hostile/soak.c tests/hostile/net.c tests/hostile/samples.c
build/test_soak: $(SOAK_SRC) tests/hostile/net.h tests/hostile/samples.h
	@mkdir -p build
	$(CC) $(CFLAGS_BASE) -O1 $(PKG_CFLAGS) -o $@ $(SOAK_SRC) \
	    $(shell pkg-config --libs jansson libpq) -lpthread

# The mutant list's reader and applier (scripts/mutate.sh; make test checks
# that every mutant still applies).
build/mutant: tests/mutate/mutant.c
	@mkdir -p build
	$(CC) $(CFLAGS_BASE) -O1 -o $@ $<

# The connection layer against a real PostgreSQL (scripts/test.sh runs it).
DB_SRC := $(wildcard src/db/*.c) $(COMMON_SRC)
build/test_db: tests/db/test_db.c $(DB_SRC) $(wildcard src/db/*.h src/common/*.h)
	@mkdir -p build
	$(CC) $(CFLAGS_BASE) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ tests/db/test_db.c $(DB_SRC) \
	    $(shell pkg-config --cflags --libs cmocka libpq) -lpthread

# §11.8 on a million service instances: EXPLAIN of what src/db runs.
build/test_explain: tests/db/test_explain.c $(DB_SRC) $(wildcard src/db/*.h src/common/*.h)
	@mkdir -p build
	$(CC) $(CFLAGS_BASE) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ tests/db/test_explain.c $(DB_SRC) \
	    $(shell pkg-config --cflags --libs cmocka libpq jansson) -lpthread

# What operators see: the listen address and DATABASE_URL redaction.
OPS_TEST_SRC := tests/ops/test_ops.c src/common/addr.c src/common/err.c src/common/log.c src/common/str.c src/db/conninfo.c
build/test_ops: $(OPS_TEST_SRC) src/common/addr.h src/common/err.h src/db/conninfo.h
	@mkdir -p build
	$(CC) $(CFLAGS_BASE) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ $(OPS_TEST_SRC) \
	    $(shell pkg-config --cflags --libs cmocka libpq)

# The same tests under ThreadSanitizer: the pool is the one structure that
# threads share.
build/test_db_tsan: tests/db/test_db.c $(DB_SRC) $(wildcard src/db/*.h src/common/*.h)
	@mkdir -p build
	$(CC) $(CFLAGS_BASE) -O1 -fsanitize=thread $(PKG_CFLAGS) -o $@ tests/db/test_db.c $(DB_SRC) \
	    $(shell pkg-config --cflags --libs cmocka libpq) -lpthread

# promtool checks the metrics page and the example alert rules in make
# test. It is taken out of Debian's prometheus package rather than
# installing it (scripts/promtool.sh says why), once per machine.
PROMTOOL_DIR ?= $(if $(HOME),$(HOME)/.cache/procsvc,$(CURDIR)/build/tools)
PROMTOOL := $(PROMTOOL_DIR)/promtool

$(PROMTOOL):
	@bash scripts/promtool.sh "$(PROMTOOL_DIR)"

# Installs only what is missing, so a second run costs one dpkg query.
deps:
	@missing=""; for p in $(DEPS_APT); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

run: deps
	@$(MAKE) --no-print-directory build/procsvc
	@bash scripts/run.sh

stop-db:
	@bash -c '. scripts/pg.sh && pg_local_stop "$(CURDIR)"'

test: deps
	@$(MAKE) --no-print-directory build/procsvc build/procsvc-asan build/test_runner build/test_load build/test_unit build/test_db build/test_db_tsan build/test_explain build/test_ops build/test_hostile build/mutant
	@$(MAKE) --no-print-directory "$(PROMTOOL)" || echo "promtool could not be fetched: its checks will fail"
	@$(MAKE) --no-print-directory $(OPENAPI_NPM_STAMP) || echo "the openapi checker could not be installed: its checks will fail"
	@PROMTOOL="$(PROMTOOL)" bash scripts/test.sh

# Mutation testing, not part of make test: each mutant of tests/mutants.txt
# (a dropped constraint, a check-table row removed or swapped, a limit moved
# by one) applied alone to a scratch copy of the tree, built and run against
# the tests it names; every one must be caught. MUTATE_JOBS (2) at once,
# each with its own PostgreSQL; `make mutate MUTANTS="id prefix*"` runs some.
MUTATE_JOBS ?= 2
mutate: deps
	@$(MAKE) --no-print-directory build/mutant build/test_runner
	@MUTATE_JOBS=$(MUTATE_JOBS) bash scripts/mutate.sh $(MUTANTS)

# Coverage-guided fuzzing (clang's libFuzzer), not part of make test:
# fuzz_body drives the body decoder and process codec, fuzz_jtree the body's
# tree builder against Jansson's parser, fuzz_pipeline the
# whole server in-process (CivetWeb callbacks, routing, auth, decode,
# service, a throwaway PostgreSQL). FUZZ_SECONDS each; run after touching
# src/http or src/api.
FUZZ_SECONDS ?= 60
FUZZ_LIB_SRC := $(filter-out src/main.c,$(SRC)) $(GEN_SRC)
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Isrc $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined
build/fuzz_body: tests/fuzz/fuzz_body.c $(FUZZ_LIB_SRC) $(wildcard src/*/*.h)
	@mkdir -p build
	clang $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_body.c $(FUZZ_LIB_SRC) $(PKG_LIBS)

build/fuzz_jtree: tests/fuzz/fuzz_jtree.c src/api/jtree.c src/common/jscan.c src/api/jtree.h src/common/jscan.h
	@mkdir -p build
	clang $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_jtree.c src/api/jtree.c src/common/jscan.c $(PKG_LIBS)

build/fuzz_pipeline: tests/fuzz/fuzz_pipeline.c tests/hostile/net.c $(FUZZ_LIB_SRC) $(wildcard src/*/*.h)
	@mkdir -p build
	clang $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_pipeline.c tests/hostile/net.c $(FUZZ_LIB_SRC) $(PKG_LIBS)

fuzz:
	@$(MAKE) --no-print-directory deps DEPS_APT="clang libclang-rt-14-dev libjansson-dev libpq-dev libcivetweb-dev postgresql-15"
	@$(MAKE) --no-print-directory build/procsvc build/fuzz_body build/fuzz_jtree build/fuzz_pipeline
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

# Seeded random requests against the sanitizer build and a throwaway
# PostgreSQL: SOAK_SECONDS (60), SOAK_SEED (random; printed), SOAK_THREADS.
SOAK_SECONDS ?= 60
soak: deps
	@$(MAKE) --no-print-directory build/procsvc-asan build/test_soak
	@SOAK_SECONDS=$(SOAK_SECONDS) bash scripts/soak.sh

# Throughput next to the database ceiling (scripts/bench.sh); wrk and pgbench
# come from Debian. SCALE=1 adds the 1,000,000-process run.
SCALE ?= 0
bench:
	@$(MAKE) --no-print-directory deps DEPS_APT="$(DEPS_APT) wrk"
	@$(MAKE) --no-print-directory build/procsvc
	@SCALE=$(SCALE) bash scripts/bench.sh

# openapi.yaml: valid OpenAPI 3.1, every schema compiles, and the checker's
# own selftest (tests/openapi/check.mjs); make test runs these and more
# (scripts/test_openapi.sh). npm ci runs again only when the lockfile
# changes; afterwards everything works offline. node and npm come from
# Debian when missing; they are not in DEPS_APT because a node installed
# otherwise (NodeSource's nodejs bundles npm) conflicts with Debian's npm.
OPENAPI_NPM_STAMP := tests/openapi/node_modules/.package-lock.json

$(OPENAPI_NPM_STAMP): tests/openapi/package.json tests/openapi/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || \
	    $(MAKE) --no-print-directory deps DEPS_APT="nodejs npm"
	cd tests/openapi && npm ci --no-audit --no-fund --loglevel=error

openapi-check: $(OPENAPI_NPM_STAMP)
	@node tests/openapi/check.mjs doc
	@node tests/openapi/check.mjs selftest

install: build/procsvc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/migrations $(DESTDIR)$(MANDIR) \
	    $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 build/procsvc $(DESTDIR)$(BINDIR)/procsvc
	install -m 0644 migrations/*.sql $(DESTDIR)$(DATADIR)/migrations/
	install -m 0644 docs/procsvc.1 $(DESTDIR)$(MANDIR)/procsvc.1
	install -m 0644 packaging/procsvc.env.example $(DESTDIR)$(DATADIR)/procsvc.env.example
	install -m 0644 packaging/procsvc-alerts.yml $(DESTDIR)$(DATADIR)/procsvc-alerts.yml
	install -m 0644 LICENSE README.md CHANGELOG.md docs/api.md $(DESTDIR)$(DOCDIR)/
	sed 's|@BINDIR@|$(BINDIR)|g' packaging/procsvc.service > $(DESTDIR)$(UNITDIR)/procsvc.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/procsvc.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/procsvc $(DESTDIR)$(MANDIR)/procsvc.1 \
	    $(DESTDIR)$(UNITDIR)/procsvc.service
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)

# cppcheck on the C of src/ and of the test runner, shellcheck on scripts/
# (-x follows the sourced scripts/pg.sh), and src/ against .clang-format
# (fix with: clang-format -i src/*/*.[ch]).
lint:
	@$(MAKE) --no-print-directory deps DEPS_APT="cppcheck shellcheck clang-format"
	@cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --suppress=missingIncludeSystem -Isrc src
	@cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --suppress=missingIncludeSystem -Itests/runner tests/runner tests/mutate
	@shellcheck -x scripts/*.sh
	@clang-format --dry-run -Werror $(sort $(wildcard src/*.[ch] src/*/*.[ch]))

clean:
	rm -rf build

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d)
