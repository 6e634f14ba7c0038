#!/usr/bin/env bash
# Runs the tap suites on one engine; writes "passed failed" to .build/test-results/tap-ENGINE.
set -euo pipefail
engine=$1
mkdir -p .build/test-results
log=.build/test-results/tap-$engine.log
set +e
tap 2>&1 | tee "$log" | grep -E '^(not ok|ok) |^# \{|^# (Subtest|fail)' | grep -v '^ok ' || true
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E '^# \{ total: ' "$log" | tail -1 || true)
total=$(sed -nE 's/.*total: ([0-9]+).*/\1/p' <<<"$summary"); total=${total:-0}
pass=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary"); pass=${pass:-0}
fail=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary"); fail=${fail:-0}
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
echo "$pass $fail" > ".build/test-results/tap-$engine"
skip=$(sed -nE 's/.*skip: ([0-9]+).*/\1/p' <<<"$summary")
echo "tap on $engine: $pass passed, $fail failed${skip:+, $skip skipped} (full log: $log)"
exit "$status"
