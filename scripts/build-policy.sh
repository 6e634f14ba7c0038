#!/usr/bin/env bash
# Compiles policies/clearance to WebAssembly against the capabilities the JavaScript wasm SDK
# supports, so a builtin it lacks fails here and not in a decision. The revision is the bundle's id,
# a hash of its files, computed as the server computes it (scripts/policy-bundle.ts): same
# sources, same id. The bundle carries the Rego as written, so a revision can be read and
# compared once uploaded. The constant tables
# (tables.rego) are evaluated here and shipped as the bundle's data.json, which the engine loads
# once (scripts/policy-tables.ts says why).
set -euo pipefail
# Usage: build-policy.sh OPA ALLOW_LIST OUT_DIR [SOURCE_DIR (policies/clearance)]
opa=$1 allow_list=$2 out=$3
src=${4:-policies/clearance}
manifest=$(dirname "$src")/manifest.json
[ -f "$manifest" ] || manifest=policies/manifest.json
mkdir -p .build
capabilities=.build/wasm-capabilities.json
node scripts/wasm-capabilities.ts "$opa" "$allow_list" "$capabilities"
rm -rf "$out.tmp" && mkdir -p "$out.tmp/tables"
node scripts/policy-tables.ts "$opa" "$src" "$out.tmp/tables/data.json"
"$opa" build -t wasm --capabilities "$capabilities" --ignore '*_test.rego' --ignore tables.rego \
  -o "$out.tmp/opa-bundle.tar.gz" "$src" "$out.tmp/tables"
rm -r "$out.tmp/tables"
revision=$(node scripts/policy-bundle.ts "$out.tmp/opa-bundle.tar.gz" "$src" "$manifest" "$out.tmp")
rm "$out.tmp/opa-bundle.tar.gz"
# The archive carries its own timestamps; make judges freshness by build time.
touch "$out.tmp/policy.wasm"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "built policy revision $revision into $out"
