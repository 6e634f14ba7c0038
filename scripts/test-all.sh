#!/usr/bin/env bash
# `make test`: every check in turn, going on past a failure so one run shows all of them,
# then one closing line "N passed, N failed" over every Rego, tap, fault-suite and differential test
# (a lint, format, type or staleness check counts as one test).
set -uo pipefail
rm -rf .build/test-results && mkdir -p .build/test-results
checks_passed=0 checks_failed=0 failed_steps=()
step() {
  local name=$1; shift
  echo "=== $name"
  if "$@"; then checks_passed=$((checks_passed + 1)); else checks_failed=$((checks_failed + 1)); failed_steps+=("$name"); fi
}
counted() { # a step whose tests write their own counts
  local name=$1; shift
  echo "=== $name"
  "$@" || failed_steps+=("$name")
}
step "rego format" make --no-print-directory policy-fmt
step "rego lint" make --no-print-directory policy-lint
counted "rego tests" make --no-print-directory policy-test
step "policy build" make --no-print-directory policies
step "typecheck" make --no-print-directory typecheck
if [ -f openapi/clearance.yaml ]; then step "openapi types" make --no-print-directory openapi-check; fi
counted "tap on postgres" make --no-print-directory test-postgres
counted "tap on pglite" make --no-print-directory test-pglite
counted "faults" make --no-print-directory test-faults
if [ -f test/differential/run.ts ]; then counted "differential" make --no-print-directory test-differential; fi

passed=$checks_passed failed=$checks_failed
for f in .build/test-results/rego .build/test-results/tap-postgres .build/test-results/tap-pglite .build/test-results/faults .build/test-results/differential; do
  [ -f "$f" ] || continue
  read -r p q < "$f"
  passed=$((passed + p)) failed=$((failed + q))
done
if [ ${#failed_steps[@]} -gt 0 ]; then
  echo "failed: ${failed_steps[*]}"
  # a step that failed without writing counts still fails the run
  [ "$failed" -gt 0 ] || failed=${#failed_steps[@]}
fi
echo "$passed passed, $failed failed"
[ ${#failed_steps[@]} -eq 0 ]
