#!/usr/bin/env bash
# The one test command (README, CI): installs what the tests need on a
# fresh Debian machine, then runs lint and every Go test.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null; then
	echo "test.sh: Go is required (https://go.dev/dl); none found on PATH" >&2
	exit 1
fi
# cgo (DuckDB, pg_query) needs a C compiler.
if ! command -v gcc >/dev/null; then
	apt-get update -qq && apt-get install -y -qq gcc libc6-dev
fi

echo "== lint"
make --no-print-directory lint

echo "== go test"
# -p 1: the DuckDB-linked test binaries are large; two cores build them
# faster one at a time than interleaved.
go test -p 1 -count=1 -timeout 30m ./...
