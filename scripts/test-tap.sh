#!/usr/bin/env bash
# Runs one tap suite and counts its test cases (scripts/tap-cases.ts): a subtest with no subtests
# of its own, not an assertion. Writes "<passed> <failed> <skipped> skipped" to
# .build/test-results/tap-NAME; fails when tap fails, when a case fails, and when the output is
# not a whole tap run or holds no test case (tap that cannot start prints no summary at all).
#
#   scripts/test-tap.sh NAME [tap arguments...]
set -euo pipefail
name=$1; shift
results=.build/test-results
mkdir -p "$results"
out=$results/tap-$name.tap
err=$results/tap-$name.stderr
# tap's own exit status is read first thing after the pipeline (a command after it would replace
# it); the grep only shows which files ran, and finding none is no failure.
set +e
tap --reporter=tap "$@" 2>"$err" | tee "$out" | grep --line-buffered -E '^# Subtest: '
statuses=("${PIPESTATUS[@]}")
set -e
status=${statuses[0]}
[ "${statuses[1]}" -eq 0 ] || { echo "could not keep tap's output in $out"; status=1; }

set +e
node "$(dirname "$0")/tap-cases.ts" "$out" "$results/tap-$name"
counted=$?
set -e
read -r passed failed skipped _ < "$results/tap-$name" || { passed=0 failed=0 skipped=0; }
# A tap run that failed, or output that could not be counted, is a failed suite whatever its cases say.
if { [ "$status" -ne 0 ] || [ "$counted" -ne 0 ]; } && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed $failed $skipped skipped" > "$results/tap-$name"
if [ "$failed" -ne 0 ] && [ -s "$err" ]; then echo "--- last lines of tap's stderr ($err):"; tail -n 20 "$err"; echo "---"; fi
echo "tap $name: $passed passed, $failed failed, $skipped skipped (tap exit status $status; output: $out)"
[ "$failed" -eq 0 ]
