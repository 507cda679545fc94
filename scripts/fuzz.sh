#!/usr/bin/env bash
# Runs every fuzz target in the module for the given time each (default 30s).
# Go fuzzes one target per invocation, so they run one after another.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:-30s}
grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u | while read -r pkg; do
	for f in $(grep -h '^func Fuzz' "$pkg"/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do
		echo "== $pkg $f ($t)"
		go test -tags duckdb_arrow -run '^$' -fuzz "^$f\$" -fuzztime "$t" -parallel 1 "$pkg"
	done
done
