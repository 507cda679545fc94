#!/usr/bin/env bash
# Runs the real Grafana Arc datasource backend, unchanged, against a fresh tsgate (embedded
# store) and a fresh real Arc side by side on loopback, and diffs what each panel gets.
#
# Neither Arc nor the datasource can be fetched by CI (neither is on the Go module proxy),
# so this is a recording tool, not a test: build both locally from their public source and
# point the script at them. Only the recorded outputs are committed (docs/clients/grafana-arc).
#
#   DS_DIR=/path/to/grafana-arc-datasource   a checkout (recorded: 4d80df6f, 2026-05-15)
#   ARC_BIN=/path/to/arc                      Arc built from Basekick-Labs/arc (recorded: 6de7a983)
#   TSGATE_BIN=/path/to/tsgate                default: bin/tsgate
#   OUT=docs/clients/grafana-arc              where the outputs go
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${DS_DIR:?checkout of Basekick-Labs/grafana-arc-datasource}" "${ARC_BIN:?Arc binary}"
TSGATE_BIN=${TSGATE_BIN:-$here/../../../bin/tsgate}
OUT=${OUT:-$here/../../../docs/clients/grafana-arc}
TOK=grafana-harness-token-0123456789abcdef
W=$(mktemp -d); mkdir -p "$W/tsgate" "$W/arc" "$OUT"
mkdir -p "$DS_DIR/cmd/tsgate-harness"
grep -v "^//go:build ignore" "$here/harness.go" >"$DS_DIR/cmd/tsgate-harness/main.go"
(cd "$DS_DIR" && go build -o "$W/harness" ./cmd/tsgate-harness)

# 240 points × 3 hosts every 30 s from 2026-12-05T10:00Z; host c has no region tag.
python3 - > "$W/data.lp" <<'PY'
import math
t0 = 1796464800  # 2026-12-05T10:00:00Z
lines = []
for i in range(240):
    for h, region in (("a", "us"), ("b", "eu"), ("c", None)):
        t = t0 + i * 30
        usage = round(50 + 40 * math.sin(i / 17.0 + ord(h)), 3)
        tags = f"cpu,host={h}" + (f",region={region}" if region else "")
        lines.append(f"{tags} usage={usage},n={i % 7}i,ok={'true' if i % 3 else 'false'} {t}000000000")
print("\n".join(lines))
PY
. "$here/../pair.sh"
start_pair 18991 # tsgate on 18991, Arc on 18994
for u in http://127.0.0.1:18991 http://127.0.0.1:18994; do
	curl -sf -X POST "$u/api/v1/write/line-protocol" -H "Authorization: Bearer $TOK" -H 'x-arc-database: grafana' --data-binary @"$W/data.lp"
	curl -sf -X POST "$u/api/v1/write/line-protocol/flush" -H "Authorization: Bearer $TOK" -o /dev/null
done
sleep 3 # Arc makes flushed rows queryable asynchronously
"$W/harness" http://127.0.0.1:18994 $TOK grafana >"$OUT/arc.out" 2>/dev/null
"$W/harness" http://127.0.0.1:18991 $TOK grafana >"$OUT/tsgate.out" 2>/dev/null
diff "$OUT/arc.out" "$OUT/tsgate.out" >"$OUT/diff.txt" && echo "same answers" || echo "differences: $OUT/diff.txt"
