// Package testenv is what tests share to reach the real servers
// scripts/test.sh starts: the environment variables naming them (skipped
// locally, required under CI), PostgreSQL connections and fresh
// databases, unique names, an HTTP round trip read whole, the JSON body
// of an Arc API query, InfluxQL and ClickHouse SQL over HTTP, a sample
// from a server's /metrics, polling, and a free loopback address.
// It depends on pgx and testing only — no DuckDB — so any package's tests
// can use it.
package testenv
