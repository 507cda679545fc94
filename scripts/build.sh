#!/usr/bin/env bash
# Builds the tsgate binary: the one build command the Makefile and the
# container image (Dockerfile's build stage) share, and deploy's tests run.
# cgo is required: DuckDB and pg_query are linked in, so the binary needs
# glibc and libstdc++ at run time (a slim Debian base has both) and is not
# static.
#
# usage: scripts/build.sh [OUTPUT]   (default bin/tsgate; VERSION=… sets
# what `tsgate version` prints, default `git describe`, else "dev"; TAGS=…
# the build tags, default duckdb_arrow: the embedded store's Arrow output
# for /api/v1/query/arrow is behind it in duckdb-go)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bin/tsgate}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
export CGO_ENABLED=1
exec go build -tags "${TAGS-duckdb_arrow}" -trimpath -ldflags "-s -w -X main.version=${version}" -o "$out" ./cmd/tsgate
