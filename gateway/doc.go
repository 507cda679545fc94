// Package gateway assembles tsgate: configuration (file, environment,
// flags), the backend chosen by backend.url (the embedded DuckDB store when
// none), the token store (a file, or PostgreSQL shared by replicas), the
// front ends (the Arc HTTP API with the web console on its listener, the
// memtrace API, pg wire) and their lifecycle: start, readiness, graceful
// shutdown that lets in-flight writes commit. The query pipeline (package
// query) plugs in between the front ends and the backend.
package gateway
