#!/usr/bin/env bash
# Compiles policies/clearance to WebAssembly against the capabilities the JavaScript wasm SDK
# supports, so a builtin it lacks fails here and not in a decision. The revision is derived from
# the content (sources, capabilities, OPA version): same sources, same id. The constant tables
# (tables.rego) are evaluated here and shipped as the bundle's data.json, which the engine loads
# once (scripts/policy-tables.ts says why).
set -euo pipefail
opa=$1 allow_list=$2 out=$3
src=policies/clearance
mkdir -p .build
capabilities=.build/wasm-capabilities.json
node scripts/wasm-capabilities.ts "$opa" "$allow_list" "$capabilities"
sources=$(find "$src" -name '*.rego' ! -name '*_test.rego' | LC_ALL=C sort)
revision=$( { "$opa" version | head -1; sha256sum "$allow_list" | cut -d' ' -f1;
  for f in $sources; do printf '%s\n' "$f"; sha256sum "$f" | cut -d' ' -f1; done; } | sha256sum | cut -c1-16)
rm -rf "$out.tmp" && mkdir -p "$out.tmp/tables"
node scripts/policy-tables.ts "$opa" "$src" "$out.tmp/tables/data.json"
"$opa" build -t wasm --capabilities "$capabilities" --ignore '*_test.rego' --ignore tables.rego \
  --revision "$revision" -o "$out.tmp/bundle.tar.gz" "$src" "$out.tmp/tables"
rm -r "$out.tmp/tables"
tar -xzf "$out.tmp/bundle.tar.gz" -C "$out.tmp" /policy.wasm /.manifest /data.json \
  2> >(grep -v "Removing leading" >&2 || true)
echo "$revision" > "$out.tmp/revision"
# The archive carries its own timestamps; make judges freshness by build time.
touch "$out.tmp/policy.wasm"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "built policy revision $revision into $out"
