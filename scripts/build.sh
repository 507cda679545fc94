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
# duckdb-go-bindings links with -rdynamic so that DuckDB extensions loaded
# at run time find DuckDB's symbols; tsgate loads none (every engine opens
# with extension loading off and its configuration locked), so the
# archives' 62,000 symbols stay out of the dynamic symbol table
# (--exclude-libs): the binary is 7 MB smaller, the dynamic loader has
# less to search at start-up, and the tables it would touch (7 MB of the
# resident set) are gone.
exec go build -tags "${TAGS-duckdb_arrow}" -trimpath \
	-ldflags "-s -w -X main.version=${version} -extldflags=-Wl,--exclude-libs,ALL" -o "$out" ./cmd/tsgate
