#!/usr/bin/env bash
# pgbench through tsgate's pg wire front end and against PostgreSQL itself,
# in one run (issue #6's benchmark):
#
#   throughput  8 clients, 2 threads, simple and extended (-M prepared)
#               protocol, `SELECT 1` and a small aggregate, against
#               PostgreSQL direct, tsgate on its embedded store, and tsgate
#               fronting the same PostgreSQL;
#   latency     1 client, per-transaction log, p50 and p99, to show what
#               tsgate adds in front of PostgreSQL.
#
# Usage: bench/pgbench.sh [seconds per run, default 10]
# Starts the test PostgreSQL (scripts/services.sh) and two tsgate servers
# on loopback; everything it starts or writes is removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

T=${1:-10}
eval "$(./scripts/services.sh)"
PGBENCH=$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)
PSQL=$(command -v psql || echo /usr/lib/postgresql/15/bin/psql)

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	"$PSQL" -X -q "$TSGATE_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS tsgate_pgbench WITH (FORCE)" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -tags duckdb_arrow -o "$work/tsgate" ./cmd/tsgate
"$PSQL" -X -q "$TSGATE_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS tsgate_pgbench WITH (FORCE)" -c "CREATE DATABASE tsgate_pgbench" >/dev/null
pg_url=${TSGATE_TEST_POSTGRES_URL%%\?*}
pg_url="${pg_url%/*}/tsgate_pgbench?sslmode=disable"

token=tsg_pgbench_0123456789abcdef0123456789
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start NAME [BACKEND_URL]: a tsgate server; sets ${NAME}_pg and ${NAME}_arc.
start() {
	local name=$1 backend=${2:-} arc pg
	arc=$(free_port)
	pg=$(free_port)
	TSGATE_DATA_DIR="$work/$name" TSGATE_ARC_LISTEN=127.0.0.1:$arc TSGATE_PGWIRE_LISTEN=127.0.0.1:$pg \
		TSGATE_MEMTRACE_LISTEN= TSGATE_AUTH_BOOTSTRAP_TOKEN=$token TSGATE_LOG_LEVEL=error TSGATE_BACKEND_URL=$backend \
		"$work/tsgate" serve >"$work/$name.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		curl -fs "http://127.0.0.1:$arc/ready" >/dev/null 2>&1 && break
		sleep 0.1
	done
	curl -fs "http://127.0.0.1:$arc/ready" >/dev/null || { cat "$work/$name.log"; exit 1; }
	printf -v "${name}_pg" %s "$pg"
	printf -v "${name}_arc" %s "$arc"
}

start embedded
start fronting "$pg_url"

# 1,000 rows of cpu in database "bench", written through each tsgate (the
# one fronting PostgreSQL puts them in schema bench of tsgate_pgbench,
# which the direct runs then read too).
python3 - >"$work/cpu.lp" <<'EOF'
for i in range(1000):
    print(f"cpu,host=h{i % 10} usage={i % 100 + 0.5},count={i}i {1764115200 + i}")
EOF
for arc in "$embedded_arc" "$fronting_arc"; do
	curl -fs -H "Authorization: Bearer $token" -H "x-arc-database: bench" --data-binary @"$work/cpu.lp" \
		"http://127.0.0.1:$arc/api/v1/write/line-protocol?precision=s" -o /dev/null
done

echo 'SELECT 1;' >"$work/select1.sql"
echo 'SELECT count(*), avg(usage) FROM cpu;' >"$work/agg.sql"

# run LABEL SCRIPT MODE CLIENTS HOST PORT USER DB [LOGPREFIX]: prints tps.
run() {
	local label=$1 script=$2 mode=$3 clients=$4 host=$5 port=$6 user=$7 db=$8 log=${9:-} threads=2 extra=()
	[ "$clients" = 1 ] && threads=1
	[ -n "$log" ] && extra=(-l --log-prefix="$log")
	local out
	out=$(cd "$work" && PGPASSWORD=$token PGOPTIONS=${PGOPTIONS:-} "$PGBENCH" -n -h "$host" -p "$port" -U "$user" \
		-c "$clients" -j "$threads" -T "$T" -M "$mode" -f "$script" "${extra[@]}" "$db" 2>&1) || {
		echo "$label: pgbench failed:" >&2
		echo "$out" >&2
		exit 1
	}
	sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out"
}

pg_host=127.0.0.1
pg_port=15432

# Direct PostgreSQL reads schema bench like tsgate does for database bench.
direct() { PGOPTIONS="-c search_path=bench" run "$@" "$pg_host" "$pg_port" postgres tsgate_pgbench "${log:-}"; }
via() { local port=$1; shift; run "$@" 127.0.0.1 "$port" bench bench "${log:-}"; }

printf '\n| query | protocol | PostgreSQL direct | tsgate, embedded | tsgate → PostgreSQL |\n|---|---|---|---|---|\n'
for q in select1 agg; do
	for mode in simple prepared; do
		a=$(direct "pg-$q-$mode" "$q.sql" "$mode" 8)
		b=$(via "$embedded_pg" "emb-$q-$mode" "$q.sql" "$mode" 8)
		c=$(via "$fronting_pg" "fr-$q-$mode" "$q.sql" "$mode" 8)
		name="SELECT 1"
		[ "$q" = agg ] && name="count(*), avg(usage)"
		printf '| %s | %s | %.0f tps | %.0f tps | %.0f tps |\n' "$name" "$mode" "$a" "$b" "$c"
	done
done

# Latency, one client: p50/p99 from pgbench's per-transaction log
# (third field: latency in µs).
pct() { cat "$work"/"$1".* | awk '{print $3}' | sort -n | awk -v p="$2" '{v[NR]=$1} END {i=int(NR*p); if (i<1) i=1; printf "%.3f", v[i]/1000}'; }
printf '\n| query (1 client, prepared) | PostgreSQL direct p50 / p99 | tsgate → PostgreSQL p50 / p99 | added p50 |\n|---|---|---|---|\n'
for q in select1 agg; do
	log="lat-pg-$q" direct "lat-pg-$q" "$q.sql" prepared 1 >/dev/null
	log="lat-fr-$q" via "$fronting_pg" "lat-fr-$q" "$q.sql" prepared 1 >/dev/null
	a50=$(pct "lat-pg-$q" 0.5) a99=$(pct "lat-pg-$q" 0.99) b50=$(pct "lat-fr-$q" 0.5) b99=$(pct "lat-fr-$q" 0.99)
	name="SELECT 1"
	[ "$q" = agg ] && name="count(*), avg(usage)"
	printf '| %s | %s / %s ms | %s / %s ms | %.3f ms |\n' "$name" "$a50" "$a99" "$b50" "$b99" "$(awk -v a="$a50" -v b="$b50" "BEGIN {print b - a}")"
done
