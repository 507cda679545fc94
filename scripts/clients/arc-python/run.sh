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

. "$here/../pair.sh"
TSGATE_EXTRA=(TSGATE_DELETE_ENABLED=true) ARC_EXTRA=(ARC_DELETE_ENABLED=true)
start_pair 19011 # tsgate on 19011, Arc on 19014
# PYTHONHASHSEED: the client's buffered writer orders merged columns by a set of names.
run() { env PYTHONHASHSEED=0 PYTHONPATH="$CLIENT_SRC/src${EXTRA_PYTHONPATH:+:$EXTRA_PYTHONPATH}" "$PYTHON" "$here/driver.py" "$@"; }
for s in arc:19014 tsgate:19011; do
	run "http://127.0.0.1:${s#*:}" $TOK >"$W/${s%:*}.out" 2>"$W/${s%:*}.err" || { cat "$W/${s%:*}.err" >&2; exit 1; }
	sed "s#$W#<tmp>#g" "$W/${s%:*}.out" >"$OUT/${s%:*}.out"
done
diff "$OUT/arc.out" "$OUT/tsgate.out" >"$OUT/diff.txt" && echo "same answers" || echo "differences: $OUT/diff.txt"
