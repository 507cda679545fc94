// Package gateway assembles tsgate: configuration (file, environment,
// flags), the backend chosen by backend.url (the embedded DuckDB store when
// none), the front ends (Arc HTTP API now; memtrace and pg wire reserve
// their listeners) and their lifecycle: start, readiness, graceful shutdown
// that lets in-flight writes commit. The query pipeline (package query)
// plugs in between the front ends and the backend.
package gateway
