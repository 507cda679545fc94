#!/usr/bin/env bash
# Installs and starts the real backends the dialect integration tests talk
# to, on 127.0.0.1 only and without systemd, and waits until each answers:
#   - InfluxDB 1.8.10 (InfluxQL on /query, Flux on /api/v2/query), built
#     with `go install` into a cache directory: 1.8.10 is the newest 1.x
#     that builds without Rust, and Debian's 1.6 has no Flux.
#   - ClickHouse 18.16 from Debian (HTTP interface).
#   - PostgreSQL 15 through scripts/services.sh, which owns it (and Redis).
# Idempotent: servers started by an earlier run are reused.
# Prints the environment the tests read, for:
#     eval "$(./scripts/backends.sh)"
# Everything else goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
dir=${TSGATE_BACKENDS_DIR:-/tmp/tsgate-backends}
bin=${TSGATE_BACKENDS_BIN:-$HOME/.cache/tsgate/bin}
influx_port=${TSGATE_BACKENDS_INFLUX_PORT:-18086}
ch_http_port=${TSGATE_BACKENDS_CH_HTTP_PORT:-18123}
ch_tcp_port=${TSGATE_BACKENDS_CH_TCP_PORT:-19000}
mkdir -p "$dir" "$bin"
log() { echo "backends: $*" >&2; }
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi

wait_http() { # url, name
	for _ in $(seq 100); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	log "$2 did not become ready at $1"
	return 1
}

# --- InfluxDB 1.8.10 -------------------------------------------------------
# `go install` sets no version string; the module version is in the binary.
if [ ! -x "$bin/influxd" ] || ! go version -m "$bin/influxd" 2>/dev/null | grep -q 'influxdb[[:space:]]*v1.8.10'; then
	log "building influxd v1.8.10 into $bin (about a minute)"
	# Outside the module, so tsgate's go.mod is untouched.
	(cd / && GOBIN="$bin" GOFLAGS=-mod=mod go install github.com/influxdata/influxdb/cmd/influxd@v1.8.10) >&2
fi
if curl -fsS -o /dev/null "http://127.0.0.1:$influx_port/ping" 2>/dev/null; then
	log "influxd already on 127.0.0.1:$influx_port"
else
	mkdir -p "$dir/influx"
	sed -e "s|@DIR@|$dir/influx|g" -e "s|@BIND@|127.0.0.1:$((influx_port + 2))|" \
		-e "s|@HTTP@|127.0.0.1:$influx_port|" scripts/influxd.conf >"$dir/influx/influxd.conf"
	nohup "$bin/influxd" run -config "$dir/influx/influxd.conf" >"$dir/influx/influxd.log" 2>&1 &
	echo $! >"$dir/influx/influxd.pid"
	wait_http "http://127.0.0.1:$influx_port/ping" influxd
	log "influxd started on 127.0.0.1:$influx_port"
fi

# --- ClickHouse 18.16 ------------------------------------------------------
if ! command -v clickhouse-server >/dev/null; then
	log "installing clickhouse-server"
	$SUDO apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=120 \
		clickhouse-server clickhouse-client >&2
fi
if curl -fsS -o /dev/null "http://127.0.0.1:$ch_http_port/ping" 2>/dev/null; then
	log "clickhouse already on 127.0.0.1:$ch_http_port"
else
	ch=$dir/clickhouse
	mkdir -p "$ch/data" "$ch/tmp" "$ch/user_files" "$ch/format_schemas"
	cp /etc/clickhouse-server/users.xml "$ch/users.xml"
	# 18.16's config root is <yandex>; everything not named here keeps
	# the server's defaults.
	cat >"$ch/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$ch/server.log</log><errorlog>$ch/error.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$ch_http_port</http_port>
  <tcp_port>$ch_tcp_port</tcp_port>
  <path>$ch/data/</path>
  <tmp_path>$ch/tmp/</tmp_path>
  <user_files_path>$ch/user_files/</user_files_path>
  <format_schema_path>$ch/format_schemas/</format_schema_path>
  <users_config>$ch/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
</yandex>
EOF
	if [ "$(id -u)" -eq 0 ] && id clickhouse >/dev/null 2>&1; then
		chown -R clickhouse "$ch"
		nohup runuser -u clickhouse -- clickhouse-server --config-file="$ch/config.xml" >"$ch/stdout.log" 2>&1 &
	else
		nohup clickhouse-server --config-file="$ch/config.xml" >"$ch/stdout.log" 2>&1 &
	fi
	echo $! >"$ch/server.pid"
	wait_http "http://127.0.0.1:$ch_http_port/ping" clickhouse
	log "clickhouse started on 127.0.0.1:$ch_http_port"
fi

# --- PostgreSQL 15 -----------------------------------------------------------
# scripts/services.sh owns PostgreSQL (memtrace's tests use the same
# server); reuse its URL.
if [ -z "${TSGATE_TEST_POSTGRES_URL:-}" ]; then
	eval "$(./scripts/services.sh)"
fi

echo "export TSGATE_TEST_INFLUX_URL=http://127.0.0.1:$influx_port"
echo "export TSGATE_TEST_CLICKHOUSE_URL=http://127.0.0.1:$ch_http_port"
echo "export TSGATE_TEST_POSTGRES_URL='$TSGATE_TEST_POSTGRES_URL'"
