#!/usr/bin/env bash
# Static checks (scripts/test.sh runs them first; `make lint` alone):
# gofmt, go vet, staticcheck, and deadcode (no function unreachable even
# from the tests). The analyzers run at pinned versions through the Go
# module proxy, so a fresh machine needs nothing installed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
tags=duckdb_arrow
echo "== gofmt"
out=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$out" ]; then
	echo "gofmt would change:"
	echo "$out"
	exit 1
fi
echo "== go vet"
go vet -tags "$tags" ./...
echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags "$tags" ./...
echo "== deadcode"
# ast.Span.node seals the AST's Node interface: never called by design.
all=$(go run golang.org/x/tools/cmd/deadcode@v0.53.0 -test -tags "$tags" ./...)
out=$(printf '%s\n' "$all" | grep -v -e ': unreachable func: Span.node$' -e '^$' || true)
if [ -n "$out" ]; then
	echo "unreachable functions:"
	echo "$out"
	exit 1
fi
