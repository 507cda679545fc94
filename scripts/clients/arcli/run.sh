#!/usr/bin/env bash
# Runs Arc's own CLI, arcli, unchanged, against a fresh tsgate (embedded store) and a fresh
# real Arc side by side on loopback: the same data, the same commands, outputs diffed.
#
# Neither arcli nor Arc is on the Go module proxy, so CI cannot have them: this is a
# recording tool, not a test. Build both locally from their public source and point the
# script at them. Only the recorded outputs are committed (docs/clients/arcli).
#
#   ARCLI_BIN=/path/to/arcli     arcli built from Basekick-Labs/arcli (see docs/clients/arcli/README.md)
#   ARC_BIN=/path/to/arc         Arc built from Basekick-Labs/arc
#   TSGATE_BIN=/path/to/tsgate   default: bin/tsgate
#   OUT=docs/clients/arcli       where the outputs go
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../../..
: "${ARCLI_BIN:?arcli binary}" "${ARC_BIN:?Arc binary}"
TSGATE_BIN=${TSGATE_BIN:-$root/bin/tsgate}
OUT=${OUT:-$root/docs/clients/arcli}
TOK=arcli-harness-token-0123456789abcdef
W=$(mktemp -d); mkdir -p "$W/tsgate" "$W/arc" "$W/home" "$OUT"
# BUILD_LOCK: a flock(1) file to serialize the build with other builds on a shared machine.
(cd "$root" && ${BUILD_LOCK:+flock "$BUILD_LOCK"} go build -o "$W/tool" ./scripts/clients/arcli/tool.go) || exit 1

# 60 points × 3 hosts, 1 min apart from 2026-12-05T10:00Z; host c has no region tag.
python3 - >"$W/data.lp" <<'PY'
t0 = 1796464800
for i in range(60):
    for h, region in (("a", "us"), ("b", "eu"), ("c", None)):
        tags = f"cpu,host={h}" + (f",region={region}" if region else "")
        print(f"{tags} usage={50 + (i * 7 + ord(h)) % 40}.5,n={i % 7}i,ok={'true' if i % 3 else 'false'} {(t0 + i * 60) * 1000000000}")
PY
printf 'mem,host=a used=1024i,free=512i 1796468400\nmem,host=b used=2048i,free=256i 1796468460\n' >"$W/mem.lp"
printf 'disk,host=a,path=/ used_pct=41.5 1796468400000000000\ndisk,host=b,path=/ used_pct=77.25 1796468460000000000\n' >"$W/disk.lp"
printf 'time,sensor,reading,status\n2026-12-05T10:00:00Z,s1,20.5,ok\n2026-12-05T10:01:00Z,s2,21.25,ok\n2026-12-05T10:02:00Z,s1,19.75,warn\n' >"$W/sensors.csv"
printf 'ts;sensor;reading\n1796464800000;s3;1.5\n1796464860000;s4;2.5\n' >"$W/sensors_ms.csv"
cat >"$W/doc.json" <<'JSON'
{"batch": [
  {"m": "json_rows", "t": 1796468400000, "h": "web-1", "fields": {"cpu": 12.5, "reqs": 100}, "tags": {"dc": "east"}},
  {"m": "json_rows", "t": 1796468460000, "h": "web-2", "fields": {"cpu": 30.25, "reqs": 250}, "tags": {"dc": "west"}},
  {"m": "json_cols", "columns": {"time": [1796468400000, 1796468460000], "host": ["x", "y"], "v": [1, 2]}}
]}
JSON
"$W/tool" parquet "$W/weather.parquet"
"$W/tool" msgpack "$W/doc.msgpack"

. "$here/../pair.sh"
TSGATE_EXTRA=(TSGATE_DELETE_ENABLED=true) ARC_EXTRA=(ARC_DELETE_ENABLED=true) ARC_LOG_LEVEL=info
start_pair 19001 # tsgate on 19001, Arc on 19004

# Run-dependent text, stripped where the two servers (or two runs) differ by nature:
# the port, token secrets, timestamps of "now", durations and latencies, uptimes, backup
# and execution ids, the temp directory, and arcli's byte count of an Arrow stream.
normalize() {
	sed -E \
		-e "s#$W#<tmp>#g" \
		-e 's#http://127\.0\.0\.1:190(01|04)#<endpoint>#g' \
		-e 's/"(token|new_token)": "[^"]+"/"\1": "<secret>"/g' \
		-e 's/^[A-Za-z0-9_=+\/-]{32,}$/<secret>/' \
		-e 's/duration_ms: +[0-9]+/duration_ms: <n>/' \
		-e 's/cq-exec-[0-9a-f]{8}/cq-exec-<id>/g' \
		-e 's/│ [0-9.]+(µs|ms|s) +│/│ <dur>    │/g' \
		-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?/<time>/g' \
		-e 's/(latency|uptime|duration|took|execution)[^,)|]*[0-9.]+ ?(ms|µs|us|s|m|h)([0-9.]+(ms|s))*/\1 <dur>/g' \
		-e 's/"(execution_time_ms|execution_time_seconds|execution_duration_ms|execution_duration_seconds|latency_ms|uptime_sec|duration_ms)": [0-9.e+-]+/"\1": <n>/g' \
		-e 's/"uptime": "[^"]*"/"uptime": "<dur>"/g' \
		-e 's/arrow: [0-9]+ bytes(, server execution [0-9]+ms)?/arrow: <n> bytes/' \
		-e 's/backup-[0-9]{8}-[0-9]{6}-[0-9a-f]{8}/<backup-id>/g' \
		-e 's/(execution_id": "|\()[0-9a-f-]{36}/\1<uuid>/g'
}

run() { # side endpoint -- arcli args...
	local ep=$1; shift
	printf '\n### arcli %s\n' "$*" | normalize
	HOME="$W/home" ARCLI_CONFIG="$W/home/config.toml" DO_NOT_TRACK=1 ARC_ENDPOINT=$ep ARC_TOKEN=$TOK \
		"$ARCLI_BIN" "$@" </dev/null 2>&1 | normalize
	echo "[exit ${PIPESTATUS[0]}]"
}

session() { # endpoint
	local E=$1
	run "$E" ping
	run "$E" ping -o json
	run "$E" auth whoami
	run "$E" auth whoami -o json
	run "$E" auth token list
	run "$E" auth token create --name ci-reader --permission read --description "ci jobs"
	run "$E" auth token show ci-reader
	run "$E" auth token show ci-reader -o json
	run "$E" auth token permissions ci-reader
	run "$E" auth token permissions ci-reader -o json
	run "$E" auth token update ci-reader --description "nightly ci" --permission read,write --expires-in 30d
	run "$E" auth token show ci-reader
	run "$E" auth token rotate ci-reader --yes
	run "$E" auth token revoke ci-reader --yes
	run "$E" auth token rotate ci-reader --yes
	run "$E" auth token delete ci-reader --yes
	run "$E" auth token list -o csv
	run "$E" auth token show 999
	run "$E" auth token create --name bad --permission root

	run "$E" db list
	run "$E" db create arcli
	run "$E" db create arcli
	run "$E" db create 1bad
	run "$E" db show nosuchdb
	run "$E" write --database arcli -f "$W/data.lp"
	run "$E" write --database arcli -f "$W/mem.lp" --precision s
	run "$E" write --database arcli --format json -f "$W/doc.json"
	run "$E" write --database arcli --format msgpack -f "$W/doc.msgpack"
	run "$E" write --database arcli -f "$W/sensors.csv"
	run "$E" import csv --database arcli --measurement sensors -f "$W/sensors.csv"
	run "$E" import csv --database arcli --measurement sensors_ms -f "$W/sensors_ms.csv" --time-column ts --time-format epoch_ms --delimiter ';'
	run "$E" import lp --database arcli -f "$W/disk.lp"
	run "$E" import lp --database arcli -f "$W/mem.lp" --precision s --measurement mem
	run "$E" import parquet --database arcli --measurement weather -f "$W/weather.parquet"
	run "$E" import parquet --database arcli --measurement weather -f "$W/weather.parquet" -o json
	sleep 3 # Arc makes written rows queryable asynchronously
	run "$E" db list
	run "$E" db list -o json
	run "$E" db list -o csv
	run "$E" db show arcli
	run "$E" db show arcli -o json
	run "$E" measurement list --database arcli
	run "$E" measurement list --database arcli -o csv

	local Q="SELECT host, region, count(*) AS n, sum(n) AS s, min(time) AS first, max(usage) AS peak FROM cpu GROUP BY host, region ORDER BY host"
	run "$E" query --database arcli "$Q"
	run "$E" query --database arcli -o json "$Q"
	run "$E" query --database arcli -o csv "$Q"
	run "$E" query --database arcli -o csv --no-header --limit 2 "$Q"
	printf '\n### arcli query --database arcli -o arrow (decoded)\n'
	HOME="$W/home" ARCLI_CONFIG="$W/home/config.toml" DO_NOT_TRACK=1 ARC_ENDPOINT=$E ARC_TOKEN=$TOK \
		"$ARCLI_BIN" query --database arcli -o arrow "$Q" 2>"$W/arrow.err" | "$W/tool" arrowdump 2>&1 | normalize
	normalize <"$W/arrow.err"
	run "$E" query --database arcli "SELECT * FROM mem ORDER BY time"
	run "$E" query --database arcli "SELECT * FROM disk ORDER BY time"
	run "$E" query --database arcli "SELECT * FROM json_rows ORDER BY time"
	run "$E" query --database arcli "SELECT * FROM json_cols ORDER BY time"
	run "$E" query --database arcli "SELECT * FROM mp_columnar ORDER BY time"
	run "$E" query --database arcli "SELECT * FROM sensors ORDER BY time"
	run "$E" query --database arcli "SELECT * FROM sensors_ms ORDER BY time"
	run "$E" query --database arcli "SELECT * FROM weather ORDER BY time LIMIT 5"
	run "$E" query --database arcli -o json "SELECT count(*) AS n FROM weather"
	run "$E" query "SELECT count(*) AS n FROM arcli.cpu"
	run "$E" query --database arcli "SELECT * FROM nosuch"
	run "$E" query --database arcli "SELECT nocolumn FROM cpu"
	run "$E" query --database arcli -o arrow "SELECT nocolumn FROM cpu"
	run "$E" query --database arcli "DROP TABLE cpu"
	run "$E" query --database arcli --estimate "SELECT * FROM cpu"
	run "$E" query --database arcli --estimate -o json "SELECT * FROM cpu WHERE host = 'a'"
	run "$E" query --database arcli --estimate "SELECT * FROM nosuch"

	run "$E" retention list
	run "$E" retention create --name cpu-30d --database arcli --measurement cpu --retention-days 30 --buffer-days 2
	run "$E" retention list
	run "$E" retention show cpu-30d -o json
	run "$E" retention update cpu-30d --buffer-days 3
	run "$E" retention execute cpu-30d --dry-run
	run "$E" retention execute cpu-30d --yes
	run "$E" retention executions cpu-30d
	run "$E" retention delete cpu-30d --yes
	run "$E" retention show 999

	local CQ="SELECT time_bucket(INTERVAL '10 minutes', time) AS time, host, avg(usage) AS usage FROM arcli.cpu WHERE time >= {start_time} AND time < {end_time} GROUP BY 1, 2"
	run "$E" cq list
	run "$E" cq create --name cpu-10m --database arcli --source cpu --destination cpu_10m --interval 10m --tag-column host --query "$CQ"
	run "$E" cq list -o csv
	run "$E" cq show cpu-10m
	run "$E" cq update cpu-10m --interval 15m --description "ten-minute means"
	run "$E" cq execute cpu-10m --dry-run --start 2026-12-05T10:00:00Z --end 2026-12-05T11:00:00Z
	run "$E" cq execute cpu-10m --start 2026-12-05T10:00:00Z --end 2026-12-05T11:00:00Z
	sleep 3
	run "$E" query --database arcli "SELECT * FROM cpu_10m ORDER BY time, host"
	run "$E" cq executions cpu-10m
	run "$E" cq delete cpu-10m --yes

	run "$E" delete --database arcli --measurement cpu --where "host = 'c'" --dry-run
	run "$E" delete --database arcli --measurement cpu --where "host = 'c'" --yes
	run "$E" delete --database arcli --measurement cpu --where "nocolumn = 1" --yes
	run "$E" delete --database arcli --measurement cpu --where "1=1; DROP TABLE x" --yes
	run "$E" query --database arcli "SELECT host, count(*) AS n FROM cpu GROUP BY host ORDER BY host"

	run "$E" scheduler status
	run "$E" scheduler status -o json
	run "$E" compaction status
	run "$E" compaction stats
	run "$E" compaction candidates
	run "$E" compaction history
	run "$E" compaction trigger
	run "$E" logs --limit 1 --level fatal
	run "$E" backup status
	run "$E" backup list
	run "$E" cluster status
	run "$E" cluster nodes

	run "$E" db drop arcli --yes
	run "$E" db show arcli
	run "$E" db list
}

session http://127.0.0.1:19004 >"$OUT/arc.out"
session http://127.0.0.1:19001 >"$OUT/tsgate.out"
diff "$OUT/arc.out" "$OUT/tsgate.out" >"$OUT/diff.txt" && echo "same answers" || echo "differences: $OUT/diff.txt ($(grep -c '^[<>]' "$OUT/diff.txt") lines)"
