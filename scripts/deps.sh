#!/usr/bin/env bash
# Installs what building tsgate needs beyond Go: a C toolchain for cgo
# (DuckDB, pg_query). Idempotent; a no-op when everything is present.
set -euo pipefail
export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null; then
	echo "tsgate: Go 1.26 is required and was not found on PATH" >&2
	exit 1
fi
missing=()
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
command -v g++ >/dev/null || missing+=(g++)
command -v git >/dev/null || missing+=(git)
if ((${#missing[@]})); then
	if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
