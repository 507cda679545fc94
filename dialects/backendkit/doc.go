// Package backendkit holds what the real backends (InfluxDB, PostgreSQL,
// ClickHouse, remote Arc) share and the embedded store does not need: the
// tag configuration, the Required-field bookkeeping, an in-memory schema
// catalog that implements target.Schema, HTTP error classification and
// credential-free URL rendering.
package backendkit
