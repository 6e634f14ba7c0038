# Clearance: `make run` and `make test` install whatever is missing into .tools/ and node_modules/.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

NODE_VERSION  := 24.21.0
OPA_VERSION   := v1.22.2
REGAL_VERSION := v0.36.1

TOOLS := $(CURDIR)/.tools
export PATH := $(TOOLS)/node/bin:$(TOOLS)/bin:$(CURDIR)/node_modules/.bin:$(PATH)

OPA          := $(TOOLS)/bin/opa
REGAL        := $(TOOLS)/bin/regal
NODE_OK      := $(TOOLS)/node.ok
NPM_OK       := node_modules/.install-ok
POLICY_OUT   := .build/policy
POLICY_WASM  := $(POLICY_OUT)/policy.wasm
CAPABILITIES := policies/tools/wasm-builtins.txt
REGO_SOURCES := $(shell find policies -name '*.rego' 2>/dev/null)
OPENAPI_TYPES := service/http/openapi-types.ts
CONSOLE_OUT   := .build/console
CONSOLE_SOURCES := $(shell find console -type f 2>/dev/null)

.PHONY: help tools run test policies console test-browser chromium policy-test policy-fmt policy-lint fmt typecheck openapi openapi-check \
        lint format-check test-engine-free test-postgres test-pglite test-differential test-faults bench bench-policy bench-list bench-subjects bench-access-review bench-impact bench-stats bench-profile bench-tracing bench-window bench-memory clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# node.ok records that a Node >= 22 was found. One found on another shell's PATH (not installed
# into .tools) may be missing from this one's: then the check runs again.
ifneq ($(wildcard $(NODE_OK)),)
ifeq ($(wildcard $(TOOLS)/node/bin/node),)
ifneq ($(shell PATH='$(PATH)' scripts/ensure-node.sh --check && echo ok),ok)
$(shell rm -f $(NODE_OK))
endif
endif
endif

$(NODE_OK): scripts/ensure-node.sh
	@scripts/ensure-node.sh $(NODE_VERSION) $(TOOLS)
	@mkdir -p $(TOOLS) && touch $@

$(OPA):
	@scripts/install-go-tool.sh opa github.com/open-policy-agent/opa $(OPA_VERSION) $(TOOLS)/bin \
	  https://github.com/open-policy-agent/opa/releases/download/$(OPA_VERSION)/opa_$$(uname -s | tr A-Z a-z)_$$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')_static

# Regal is optional where neither the Go module proxy nor the release download reaches it: one
# failed attempt is remembered (.tools/regal.unavailable, delete it to try again).
$(REGAL):
	@[ -f $(TOOLS)/regal.unavailable ] || scripts/install-go-tool.sh regal github.com/styrainc/regal $(REGAL_VERSION) $(TOOLS)/bin \
	  https://github.com/StyraInc/regal/releases/download/$(REGAL_VERSION)/regal_$$(uname -s)_$$(uname -m) \
	  || { touch $(TOOLS)/regal.unavailable; echo "warning: regal $(REGAL_VERSION) could not be installed here; policy lint runs opa check --strict only"; }

$(NPM_OK): package.json package-lock.json $(NODE_OK)
	npm ci --no-audit --no-fund --loglevel=error
	@# tap's runner is built for the plugins package.json names (TypeScript is Node's own here); a
	@# fresh install holds the default build until tap rebuilds it, which its first run may not wait for.
	tap build >/dev/null
	@touch $@

tools: $(NODE_OK) $(OPA) $(NPM_OK) ## Install node (if the machine's is older than 22), OPA and npm packages

policies: $(POLICY_WASM) ## Compile the Rego policies to WebAssembly (.build/policy)

# With POLICY_SIGNING_KEY set the bundle is built (and signed) every time: make cannot tell a key change.
$(POLICY_WASM): $(REGO_SOURCES) $(CAPABILITIES) scripts/build-policy.sh scripts/wasm-capabilities.ts scripts/policy-tables.ts \
  scripts/policy-bundle.ts service/policy/bundle.ts service/policy/bundle-signature.ts policies/manifest.json $(OPA) $(NODE_OK) \
  $(if $(POLICY_SIGNING_KEY),FORCE)
	@scripts/build-policy.sh $(OPA) $(CAPABILITIES) $(POLICY_OUT)

console: $(CONSOLE_OUT)/index.html ## Build the operator console (console/) into .build/console, served at /console/

$(CONSOLE_OUT)/index.html: $(CONSOLE_SOURCES) scripts/build-console.ts $(OPENAPI_TYPES) $(NPM_OK)
	@node scripts/build-console.ts $(CONSOLE_OUT)

# Browser tests drive Debian's Chromium (playwright-core, no browser download): installed when missing.
chromium:
	@command -v chromium >/dev/null || { echo "installing Debian's chromium for the browser tests (apt-get, once)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test-browser: $(NPM_OK) policies console chromium ## The console in headless Chromium against a service on a fresh PostgreSQL database
	@CLEARANCE_TEST_ENGINE=postgres scripts/test-tap.sh browser --include='test/browser/**/*.test.ts'

policy-test: $(OPA) ## Rego unit tests with coverage (at least 95%)
	@scripts/test-rego.sh $(OPA) 95

policy-fmt: $(OPA) ## Fail when a Rego file is not opa fmt clean
	@out=$$($(OPA) fmt --list policies); if [ -n "$$out" ]; then echo "not formatted (run make fmt):"; echo "$$out"; exit 1; fi
	@echo "opa fmt: clean"

policy-lint: $(OPA) ## opa check --strict, and regal lint where Regal is installed
	@$(OPA) check --strict policies && echo "opa check --strict: clean"
	@$(MAKE) --no-print-directory $(REGAL)
	@if [ -x $(REGAL) ]; then $(REGAL) lint policies; else echo "warning: regal not installed; skipped regal lint"; fi

fmt: $(OPA) $(NPM_OK) ## Format the Rego and TypeScript sources in place
	$(OPA) fmt --write policies
	biome format --write

lint: $(NPM_OK) ## Lint the TypeScript (Biome's recommended rules, biome.json)
	@biome lint --error-on-warnings && echo "biome lint: clean"

format-check: $(NPM_OK) ## Fail when a TypeScript file is not formatted (120 columns; make fmt formats)
	@biome format && echo "biome format: clean"

typecheck: $(NPM_OK) ## TypeScript type check (strict): the service, tests and scripts, then the console
	tsc --noEmit -p tsconfig.json
	tsc --noEmit -p console/tsconfig.json
	@echo "tsc: clean"

openapi: $(NPM_OK) ## Regenerate TypeScript types from openapi/clearance.yaml
	openapi-typescript openapi/clearance.yaml -o $(OPENAPI_TYPES) >/dev/null
	@echo "wrote $(OPENAPI_TYPES)"

openapi-check: $(NPM_OK) ## Fail when the generated OpenAPI types are stale
	@openapi-typescript openapi/clearance.yaml -o .build/openapi-types.check.ts >/dev/null
	@cmp -s .build/openapi-types.check.ts $(OPENAPI_TYPES) || { echo "$(OPENAPI_TYPES) is stale: run make openapi"; exit 1; }
	@echo "openapi types: up to date"

# test/engine-free holds the files that use no database engine of the run's choosing (units, the
# runner scripts, the server on its embedded engine): they run once; every other file runs on each engine.
ENGINE_FREE := test/engine-free

test-engine-free: $(NPM_OK) policies console ## tap suites that need no database engine (test/engine-free), run once
	@scripts/test-tap.sh engine-free --include='$(ENGINE_FREE)/**/*.test.ts'

test-postgres: $(NPM_OK) policies ## tap suites against PostgreSQL at 127.0.0.1:5432 (or TEST_DATABASE_URL)
	@CLEARANCE_TEST_ENGINE=postgres scripts/test-tap.sh postgres --exclude='$(ENGINE_FREE)/**' --exclude='test/browser/**'

test-pglite: $(NPM_OK) policies ## tap suites against the embedded engine (PGlite)
	@CLEARANCE_TEST_ENGINE=pglite scripts/test-tap.sh pglite --exclude='$(ENGINE_FREE)/**' --exclude='test/browser/**'

test-faults: $(NPM_OK) policies ## The service through a proxy it cuts, freezes and slows; SIGTERM and kill -9 in each log mode (PostgreSQL at 127.0.0.1:5432)
	@CLEARANCE_TEST_ENGINE=postgres node test/faults/run.ts

test-differential: $(NPM_OK) policies ## wasm against opa eval on a generated corpus
	@node test/differential/run.ts $(OPA)

bench: $(NPM_OK) $(OPA) policies ## Clearance vs an OPA server, the Fastify ceiling, in-process evaluation (≤ 10 min; PostgreSQL at 127.0.0.1:5432)
	@node bench/run.ts $(OPA)

bench-policy: $(NPM_OK) policies ## Benchmark policy evaluation in process: single decisions and a 10,000-client list
	@node bench/policy-eval.ts $(BENCH_ARGS)

bench-list: $(NPM_OK) policies ## Benchmark POST /v1/resources/query over 10,000 clients end to end (PostgreSQL at 127.0.0.1:5432)
	@node bench/list-query.ts $(BENCH_ARGS)

bench-subjects: $(NPM_OK) policies ## Benchmark POST /v1/subjects/query (who has access) over a practice of 1,000 users end to end (PostgreSQL at 127.0.0.1:5432)
	@node bench/subjects-query.ts $(BENCH_ARGS)

bench-access-review: $(NPM_OK) policies ## Benchmark the access review export, 200 users x 10,000 clients (2 million rows) over HTTP (PostgreSQL at 127.0.0.1:5432)
	@node bench/access-review.ts $(BENCH_ARGS)

bench-impact: $(NPM_OK) policies ## Benchmark impact analysis over 100,000 logged decisions, and /v1/decide with a shadow revision (PostgreSQL at 127.0.0.1:5432)
	@node bench/impact.ts $(BENCH_ARGS)

bench-stats: $(NPM_OK) policies ## Benchmark GET /v1/decisions/stats and the CSV export over 2 million logged decisions in 7 days (PostgreSQL at 127.0.0.1:5432)
	@node bench/decision-stats.ts $(BENCH_ARGS)

bench-window: $(NPM_OK) policies ## How long another replica answers from the old facts after a write's answer, with no consistency token (PostgreSQL at 127.0.0.1:5432)
	@node bench/replica-window.ts $(BENCH_ARGS)

bench-tracing: $(NPM_OK) policies ## What OpenTelemetry tracing costs on /v1/decide: off, sampled at 1% and at 100%, exported to a local OTLP sink (BENCH_ARGS="3 10": rounds, seconds; PostgreSQL at 127.0.0.1:5432)
	@node bench/tracing.ts $(BENCH_ARGS)

.PHONY: bench-log-insert bench-scale-out
bench-log-insert: $(NPM_OK) policies ## Decision log insert rate PostgreSQL sustains alone: the service's INSERT against COPY, PostgreSQL CPU and WAL per row (BENCH_ARGS="--rounds 3 --rows 20000"; PostgreSQL at 127.0.0.1:5432)
	@node bench/log-insert.ts $(BENCH_ARGS)

bench-scale-out: $(NPM_OK) policies ## Three service processes on one database, round-robin: req/s, PostgreSQL CPU and I/O per logged decision and per fact load (BENCH_ARGS="--seconds 10"; PostgreSQL at 127.0.0.1:5432)
	@node bench/scale-out.ts $(BENCH_ARGS)

bench-profile: $(NPM_OK) policies ## CPU profile of one serving process under /v1/decide load (BENCH_ARGS="buffered 15"; "buffered 15 cpu" unprofiled; "buffered 15 alloc" bytes allocated per request; PostgreSQL at 127.0.0.1:5432)
	@node bench/profile.ts $(BENCH_ARGS)

bench-memory: $(NPM_OK) policies ## RSS and heap of a serving process over load runs, heap snapshots between (BENCH_ARGS="load 30 3", "load 30 3 no-snapshots", "idle" for the embedded engine; "tree 10 3 buffered" or "pair …" for the two-worker tree's peak, "facts", "list")
	@node bench/memory.ts $(BENCH_ARGS)

test: tools ## Every check: Rego tests, fmt, lint, types, OpenAPI, tap (engine-free once, then on PostgreSQL and PGlite), differential
	@scripts/test-all.sh

run: tools policies console ## Build policies and the console, migrate and start the service (embedded database unless DATABASE_URL)
	NODE_COMPILE_CACHE="$${NODE_COMPILE_CACHE:-$(CURDIR)/.build/node-compile-cache}" node service/server.ts

FORCE:

clean: ## Remove build output (keeps .tools, node_modules and .data)
	rm -rf .build
