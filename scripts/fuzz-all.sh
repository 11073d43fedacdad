#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a short time each. Usage: fuzz-all.sh [duration]
set -euo pipefail
d="${1:-20s}"
for pkg in $(go list ./...); do
  for f in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "== $pkg $f"
    go test -run '^$' -fuzz "^$f\$" -fuzztime "$d" "$pkg"
  done
done
