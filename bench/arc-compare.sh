#!/usr/bin/env bash
# tsgate against a real Arc, side by side on loopback (issue #18): builds
# tsgate and bench/arccompare, then runs the same ingest workloads on both
# in interleaved rounds and prints medians and the tsgate/Arc ratio
# (bench/arccompare/doc.go lists the workloads).
#
# usage: bench/arc-compare.sh [arccompare flags, e.g. -rounds 5 -scale 1]
#   ARC_BIN=/path/to/arc   start Arc from this binary (fresh temp dirs),
#                          which also gives Arc's cold start, RSS and disk;
#   ARC_URL=http://127.0.0.1:8000 ARC_TOKEN=…
#                          use an Arc already running on loopback
#                          (throughput only);
#   neither                tsgate's figures alone.
#   OUT=dir                where results.txt and chart.html go
#                          (default bench/out/<UTC time>).
#   LOCK=/path/lockfile    hold this flock around the build and the run
#                          (a shared machine's build lock).
# Arc is never built or committed here: build it from its public source.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-bench/out/$(date -u +%Y%m%dT%H%M%SZ)}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
locked() { if [[ -n "${LOCK:-}" ]]; then flock "$LOCK" "$@"; else "$@"; fi; }
locked bash -c "TAGS=duckdb_arrow ./scripts/build.sh '$bin/tsgate.linked' && go build -o '$bin/arccompare' ./bench/arccompare"
# Both binaries run from copies made the same way: how much of an
# executable a process maps (its file-backed RSS) depends on the page
# cache's folio sizes for the file, and a file just written by the
# linker is cached in 2 MB folios that a fault maps whole, while one read
# back from disk (Arc's, built long ago; a deployed binary) is not.
cp "$bin/tsgate.linked" "$bin/tsgate"
if [[ -n "${ARC_BIN:-}" ]]; then
	cp "$ARC_BIN" "$bin/arc"
	export ARC_BIN="$bin/arc"
fi
locked "$bin/arccompare" -tsgate "$bin/tsgate" -out "$out" "$@"
echo "wrote $out/results.txt and $out/chart.html"
