#!/usr/bin/env bash
# Installs a pinned Go CLI (OPA, Regal) into a project-local folder: `go install` where Go is
# present, else the project's release binary. Usage: install-go-tool.sh NAME MODULE VERSION BINDIR RELEASE_URL
set -euo pipefail
name=$1 module=$2 version=$3 bindir=$4 release_url=$5
mkdir -p "$bindir"
if command -v go >/dev/null 2>&1; then
  # go install prints nothing while it downloads and compiles: say what is happening and that it is once.
  echo "compiling $name $version from source with go install $module@$version"
  echo "  this takes a few minutes (about 3 for OPA on 2 cores) and happens once: the binary stays in $bindir"
  started=$SECONDS
  if GOBIN="$bindir" GOFLAGS=-mod=mod go install "$module@$version"; then
    echo "installed $name $version into $bindir ($((SECONDS - started)) s)"
    exit 0
  fi
  echo "go install of $name failed; trying the release binary"
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
if curl -fsSL --retry 2 -o "$tmp" "$release_url"; then
  install -m 0755 "$tmp" "$bindir/$name"
  echo "installed $name $version from $release_url"
else
  echo "could not install $name $version (no Go module proxy access and no release download)" >&2
  exit 1
fi
