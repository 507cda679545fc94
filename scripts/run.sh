#!/usr/bin/env bash
# Builds and serves tsgate on the embedded DuckDB store (Arc API on :8000,
# data in ./data). Extra arguments go to `tsgate serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
export PATH="$PATH:/usr/local/go/bin"
mkdir -p bin
go build -tags duckdb_arrow -o bin/tsgate ./cmd/tsgate
exec ./bin/tsgate serve "$@"
