#!/usr/bin/env bash
# Rego unit tests with a coverage floor. Writes "passed failed" to .build/test-results/rego.
set -euo pipefail
opa=$1 min_coverage=$2
mkdir -p .build/test-results
set +e
"$opa" test policies --format=json > .build/test-results/rego.json
status=$?
set -e
node -e '
const results = JSON.parse(require("fs").readFileSync(".build/test-results/rego.json", "utf8") || "[]");
let passed = 0, failed = 0;
for (const r of results) {
  const bad = r.fail || r.error;
  bad ? failed++ : passed++;
  if (bad) console.log(`FAIL ${r.package}.${r.name}${r.error ? ": " + JSON.stringify(r.error) : ""}`);
}
console.log(`opa test: ${passed} passed, ${failed} failed`);
require("fs").writeFileSync(".build/test-results/rego", `${passed} ${failed}\n`);
'
coverage=$("$opa" test --coverage --format=json policies | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).coverage.toFixed(2)))')
echo "opa test coverage: ${coverage}% (floor ${min_coverage}%)"
if [ "$status" -ne 0 ]; then exit 1; fi
node -e "process.exit(Number('$coverage') >= Number('$min_coverage') ? 0 : 1)" || { echo "coverage below ${min_coverage}%"; exit 1; }
