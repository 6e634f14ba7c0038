#!/usr/bin/env bash
# `make test`: every check in turn, going on past a failure so one run shows all of them, then a
# line per kind of test and the closing line "N passed, N failed; the differential checked N
# inputs". It counts test cases: a format, lint, build, type or staleness check is one; a Rego
# test one; a tap test case (a subtest holding no subtests) one, the files of test/engine-free once
# and the others once per engine; an area of the differential corpus one; a
# fault of the fault suite one. A step that fails without
# counting a failure of its own (it could not start, or wrote no counts) counts as one failed test.
set -uo pipefail
results=.build/test-results
rm -rf "$results" && mkdir -p "$results"
passed=0 failed=0 failed_steps=() summary=() inputs=0 checks_passed=0 checks_failed=0

step() { # a check that is one test
  local name=$1; shift
  echo "=== $name"
  if "$@"; then
    checks_passed=$((checks_passed + 1))
  else
    checks_failed=$((checks_failed + 1)) failed_steps+=("$name")
  fi
}

counted() { # a step whose tests write "<passed> <failed> [note]" to $results/FILE
  local name=$1 file=$results/$2; shift 2
  echo "=== $name"
  local status=0 p=0 q=0 note=''
  "$@" || status=$?
  if ! { [ -f "$file" ] && read -r p q note < "$file" && [[ $p =~ ^[0-9]+$ && $q =~ ^[0-9]+$ ]]; }; then
    echo "$name: wrote no counts to $file"
    p=0 q=1 note=''
  fi
  if [ "$status" -ne 0 ] && [ "$q" -eq 0 ]; then q=1; fi
  if [ "$q" -gt 0 ] || [ "$status" -ne 0 ]; then failed_steps+=("$name"); fi
  passed=$((passed + p)) failed=$((failed + q))
  summary+=("$name: $p passed, $q failed${note:+, $note}")
  if [[ $note =~ ^([0-9]+)\ inputs$ ]]; then inputs=${BASH_REMATCH[1]}; fi
}

step "rego format" make --no-print-directory policy-fmt
step "rego lint" make --no-print-directory policy-lint
counted "rego tests" rego make --no-print-directory policy-test
step "policy build" make --no-print-directory policies
step "console build" make --no-print-directory console
step "typecheck" make --no-print-directory typecheck
step "typescript lint" make --no-print-directory lint
step "typescript format" make --no-print-directory format-check
step "openapi types" make --no-print-directory openapi-check
counted "tap, engine-free files (once)" tap-engine-free make --no-print-directory test-engine-free
counted "tap on postgres" tap-postgres make --no-print-directory test-postgres
counted "tap on pglite" tap-pglite make --no-print-directory test-pglite
counted "fault suite" faults make --no-print-directory test-faults
counted "differential" differential make --no-print-directory test-differential
counted "browser tests (the console in Chromium)" tap-browser make --no-print-directory test-browser

passed=$((passed + checks_passed)) failed=$((failed + checks_failed))
echo "=== summary"
echo "checks (rego format and lint, policy and console build, typecheck, TypeScript lint and format, OpenAPI types): $checks_passed passed, $checks_failed failed"
printf '%s\n' "${summary[@]}"
[ ${#failed_steps[@]} -eq 0 ] || echo "failed: ${failed_steps[*]}"
echo "$passed passed, $failed failed; the differential checked $inputs inputs"
[ ${#failed_steps[@]} -eq 0 ]
