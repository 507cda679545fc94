# Sourced by the client harnesses (grafana-arc, arcli, arc-python): start_pair BASE starts a
# fresh tsgate on the embedded store (Arc API on BASE, memtrace BASE+1, pg wire BASE+2) and a
# fresh real Arc (BASE+3) side by side on loopback, in $W/tsgate and $W/arc, both with $TOK
# as their bootstrap admin token, and returns once both answer /health. Both are stopped and
# $W removed at exit. Extra environment: the arrays TSGATE_EXTRA and ARC_EXTRA; Arc's log
# level: ARC_LOG_LEVEL (default error). Needs W, TOK, TSGATE_BIN and ARC_BIN.
start_pair() {
	local base=$1 u
	mkdir -p "$W/tsgate" "$W/arc"
	(cd "$W/tsgate" && exec env TSGATE_DATA_DIR="$W/tsgate/data" TSGATE_ARC_LISTEN=127.0.0.1:$base \
		TSGATE_MEMTRACE_LISTEN=127.0.0.1:$((base + 1)) TSGATE_PGWIRE_LISTEN=127.0.0.1:$((base + 2)) \
		TSGATE_AUTH_BOOTSTRAP_TOKEN=$TOK TSGATE_LOG_LEVEL=error ${TSGATE_EXTRA[@]+"${TSGATE_EXTRA[@]}"} \
		"$TSGATE_BIN" serve >"$W/tsgate.log" 2>&1) &
	tpid=$!
	(cd "$W/arc" && exec env ARC_SERVER_HOST=127.0.0.1 ARC_SERVER_PORT=$((base + 3)) ARC_AUTH_BOOTSTRAP_TOKEN=$TOK \
		ARC_TELEMETRY_ENABLED=false ARC_TELEMETRY_ENDPOINT=http://127.0.0.1:9/ ARC_LOG_LEVEL=${ARC_LOG_LEVEL:-error} \
		${ARC_EXTRA[@]+"${ARC_EXTRA[@]}"} "$ARC_BIN" >"$W/arc.log" 2>&1) &
	apid=$!
	trap 'kill $tpid $apid 2>/dev/null; wait $tpid $apid 2>/dev/null; rm -rf "$W"' EXIT
	for u in http://127.0.0.1:$base http://127.0.0.1:$((base + 3)); do
		for _ in $(seq 150); do curl -sf "$u/health" >/dev/null && break; sleep 0.2; done
	done
}
