#!/usr/bin/env bash
# The one test command (README, CI): installs what the tests need on a
# fresh Debian machine, then runs lint (scripts/lint.sh) and every Go test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
export PATH="$PATH:/usr/local/go/bin"

./scripts/lint.sh
echo "== pg wire clients"
./scripts/clients.sh
echo "== test services (redis, postgres)"
eval "$(./scripts/services.sh)"
echo "== backends (InfluxDB, ClickHouse, PostgreSQL)"
eval "$(./scripts/backends.sh)"
# The conformance suite scores every real backend against the embedded
# reference (conformance/baseline.json gates it).
influx=${TSGATE_TEST_INFLUX_URL#http://}
export TSGATE_TEST_CONFORMANCE_BACKENDS="influxql=influxql://$influx/conformance flux=flux://$influx/conformance postgres=$TSGATE_TEST_POSTGRES_URL clickhouse=clickhouse://${TSGATE_TEST_CLICKHOUSE_URL#http://}/default"
echo "== go test"
# -p 1: the DuckDB-linked test binaries are large; two cores build them
# faster one at a time than interleaved.
go test -tags duckdb_arrow -p 1 -count=1 -timeout 30m ./...
