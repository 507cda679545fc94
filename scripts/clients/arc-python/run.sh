#!/usr/bin/env bash
# Runs Arc's Python client (arc-tsdb-client), unchanged, against a fresh tsgate (embedded
# store) and a fresh real Arc side by side on loopback, and diffs what every client method
# returns or raises.
#
# Neither Arc nor the client can be had by CI (the client is on PyPI, Arc is not on the Go
# module proxy), so this is a recording tool, not a test. Only the recorded outputs are
# committed (docs/clients/arc-python), never the client's code.
#
#   CLIENT_SRC=/path/to/arc-client-python   its checkout; the package is CLIENT_SRC/src/arc_client
#                                           (recorded: 0.1.2, 46d3b66c)
#   ARC_BIN=/path/to/arc                    Arc built from Basekick-Labs/arc (recorded: 6de7a983)
#   TSGATE_BIN=/path/to/tsgate              default: bin/tsgate
#   PYTHON=python3                          an interpreter with the client's dependencies:
#                                           httpx, msgpack, pydantic>=2 (pandas, pyarrow, polars
#                                           optional); EXTRA_PYTHONPATH is put before them
#   OUT=docs/clients/arc-python             where the outputs go
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${CLIENT_SRC:?checkout of Basekick-Labs/arc-client-python}" "${ARC_BIN:?Arc binary}"
TSGATE_BIN=${TSGATE_BIN:-$here/../../../bin/tsgate}
OUT=${OUT:-$here/../../../docs/clients/arc-python}
PYTHON=${PYTHON:-python3}
TOK=python-harness-token-0123456789abcdef
W=$(mktemp -d); mkdir -p "$W/tsgate" "$W/arc" "$OUT"

(cd "$W/tsgate" && exec env TSGATE_DATA_DIR="$W/tsgate/data" TSGATE_ARC_LISTEN=127.0.0.1:19011 TSGATE_MEMTRACE_LISTEN=127.0.0.1:19012 \
	TSGATE_PGWIRE_LISTEN=127.0.0.1:19013 TSGATE_AUTH_BOOTSTRAP_TOKEN=$TOK TSGATE_DELETE_ENABLED=true TSGATE_LOG_LEVEL=error \
	"$TSGATE_BIN" serve >"$W/tsgate.log" 2>&1) &
tpid=$!
(cd "$W/arc" && exec env ARC_SERVER_HOST=127.0.0.1 ARC_SERVER_PORT=19014 ARC_AUTH_BOOTSTRAP_TOKEN=$TOK ARC_TELEMETRY_ENABLED=false \
	ARC_TELEMETRY_ENDPOINT=http://127.0.0.1:9/ ARC_DELETE_ENABLED=true ARC_LOG_LEVEL=error "$ARC_BIN" >"$W/arc.log" 2>&1) &
apid=$!
trap 'kill $tpid $apid 2>/dev/null; rm -rf "$W"' EXIT
for u in http://127.0.0.1:19011 http://127.0.0.1:19014; do
	for _ in $(seq 100); do curl -sf "$u/health" >/dev/null && break; sleep 0.2; done
done
# PYTHONHASHSEED: the client's buffered writer orders merged columns by a set of names.
run() { env PYTHONHASHSEED=0 PYTHONPATH="$CLIENT_SRC/src${EXTRA_PYTHONPATH:+:$EXTRA_PYTHONPATH}" "$PYTHON" "$here/driver.py" "$@"; }
for s in arc:19014 tsgate:19011; do
	run "http://127.0.0.1:${s#*:}" $TOK >"$W/${s%:*}.out" 2>"$W/${s%:*}.err" || { cat "$W/${s%:*}.err" >&2; exit 1; }
	sed "s#$W#<tmp>#g" "$W/${s%:*}.out" >"$OUT/${s%:*}.out"
done
diff "$OUT/arc.out" "$OUT/tsgate.out" >"$OUT/diff.txt" && echo "same answers" || echo "differences: $OUT/diff.txt"
