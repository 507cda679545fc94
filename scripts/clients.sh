#!/usr/bin/env bash
# Installs the real PostgreSQL clients the pg wire tests drive (psql,
# pgbench, pgjdbc, psycopg2, node-postgres) and the browser the web
# console's test drives (chromium). Idempotent: a client already
# present is not reinstalled. Debian packages only, plus npm for `pg`.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v psql >/dev/null 2>&1 || need+=(postgresql-client-15)
command -v java >/dev/null 2>&1 || need+=(default-jdk-headless)
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
[ -f /usr/share/java/postgresql.jar ] || need+=(libpostgresql-jdbc-java)
/usr/bin/python3 -c 'import psycopg2' >/dev/null 2>&1 || need+=(python3-psycopg2)
command -v npm >/dev/null 2>&1 || need+=(npm)
# The web console's browser test drives Debian's headless Chromium.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
node_dir=wire/pgwire/testdata/clients/node
if [ ! -d "$node_dir/node_modules/pg" ]; then
	(cd "$node_dir" && npm ci --no-audit --no-fund --silent)
fi
