#!/usr/bin/env bash
# Starts the services tests talk to — redis-server and PostgreSQL 15 — on
# 127.0.0.1 only, installing them from Debian packages when missing.
# Idempotent: services already started by an earlier run are reused.
# Prints the environment the tests read, for:
#     eval "$(./scripts/services.sh)"
# Everything else goes to stderr.
set -euo pipefail
dir=${TSGATE_SERVICES_DIR:-/tmp/tsgate-services}
redis_port=${TSGATE_SERVICES_REDIS_PORT:-16379}
pg_port=${TSGATE_SERVICES_PG_PORT:-15432}
pgbin=/usr/lib/postgresql/15/bin
mkdir -p "$dir"
log() { echo "services: $*" >&2; }
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi

apt_updated=
apt_install() {
	if [ -z "$apt_updated" ]; then
		$SUDO apt-get update -qq >&2
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >&2
}

# Redis: memtrace's optional session-context cache.
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	log "installing redis-server"
	apt_install redis-server
fi
if redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG; then
	log "redis already on 127.0.0.1:$redis_port"
else
	redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save '' \
		--dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2
	for _ in $(seq 50); do
		redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
		sleep 0.1
	done
	redis-cli -h 127.0.0.1 -p "$redis_port" ping | grep -q PONG
	log "redis started on 127.0.0.1:$redis_port"
fi

# PostgreSQL 15: memtrace's shared metadata store.
if [ ! -x "$pgbin/initdb" ]; then
	log "installing postgresql-15"
	apt_install postgresql-15
fi
# The server refuses to run as root; it runs as postgres (or as the
# current user when that is not root).
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}
pgdata=$dir/pg
sock=$dir/pgsock
mkdir -p "$sock"
if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir" "$sock"; fi
if [ ! -f "$pgdata/PG_VERSION" ]; then
	rm -rf "$pgdata"
	as_pg "$pgbin/initdb" -U postgres -A trust -D "$pgdata" >&2
fi
if as_pg "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
	log "postgres already running on 127.0.0.1:$pg_port"
else
	as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$dir/pg.log" -w \
		-o "-c listen_addresses=127.0.0.1 -p $pg_port -k $sock" start >&2
	log "postgres started on 127.0.0.1:$pg_port"
fi

echo "export TSGATE_TEST_REDIS_URL=redis://127.0.0.1:$redis_port/0"
echo "export TSGATE_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable'"
