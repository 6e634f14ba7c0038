#!/usr/bin/env bash
# Installs a pinned Go CLI (OPA, Regal) into a project-local folder: `go install` where Go is
# present, else the project's release binary. Usage: install-go-tool.sh NAME MODULE VERSION BINDIR RELEASE_URL
set -euo pipefail
name=$1 module=$2 version=$3 bindir=$4 release_url=$5
mkdir -p "$bindir"
if command -v go >/dev/null 2>&1; then
  echo "installing $name $version with go install $module@$version"
  if GOBIN="$bindir" GOFLAGS=-mod=mod go install "$module@$version"; then exit 0; fi
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
