#!/usr/bin/env bash
# Rego unit tests with a coverage floor. Writes "passed failed" to .build/test-results/rego; fails
# when opa fails, when a test fails, when its output cannot be read or holds no test at all, and
# when coverage cannot be measured or is below the floor.
set -euo pipefail
opa=$1 min_coverage=$2
results=.build/test-results
mkdir -p "$results"
set +e
"$opa" test policies --format=json > "$results/rego.json"
status=$?
set -e
set +e
node -e '
const fs = require("fs");
const [file, out] = process.argv.slice(1);
let results;
try {
  results = JSON.parse(fs.readFileSync(file, "utf8"));
  if (!Array.isArray(results)) throw new Error("not a list of test results");
} catch (error) {
  console.log(`opa test: its output could not be read (${error.message})`);
  fs.writeFileSync(out, "0 1\n");
  process.exit(1);
}
let passed = 0, failed = 0;
for (const r of results) {
  const bad = r.fail || r.error;
  bad ? failed++ : passed++;
  if (bad) console.log(`FAIL ${r.package}.${r.name}${r.error ? ": " + JSON.stringify(r.error) : ""}`);
}
// No test at all is a broken run, not a green one.
if (passed + failed === 0) { console.log("opa test: no test ran"); failed = 1; }
console.log(`opa test: ${passed} passed, ${failed} failed`);
fs.writeFileSync(out, `${passed} ${failed}\n`);
process.exit(failed > 0 ? 1 : 0);
' "$results/rego.json" "$results/rego"
counted=$?
set -e
read -r passed failed < "$results/rego"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then echo "1 failed: opa test exited with $status"; echo "$passed 1" > "$results/rego"; fi
if [ "$status" -ne 0 ] || [ "$counted" -ne 0 ]; then exit 1; fi

coverage=$("$opa" test --coverage --format=json policies | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const c=JSON.parse(s).coverage;if(typeof c!=="number")throw new Error("no coverage figure");console.log(c.toFixed(2))})') \
  || { echo "opa test coverage: could not be measured"; echo "$passed 1" > "$results/rego"; exit 1; }
echo "opa test coverage: ${coverage}% (floor ${min_coverage}%)"
node -e "process.exit(Number('$coverage') >= Number('$min_coverage') ? 0 : 1)" || { echo "coverage below ${min_coverage}%"; echo "$passed 1" > "$results/rego"; exit 1; }
