// Package gateway assembles tsgate: configuration (file, environment,
// flags), the backend chosen by backend.url (the embedded DuckDB store when
// none), the token store (a file, or PostgreSQL shared by replicas), the
// front ends (the Arc HTTP API with the web console on its listener, the
// memtrace API, pg wire) and their lifecycle: start, readiness, graceful
// shutdown that lets in-flight writes commit. The query pipeline (package
// query) plugs in between the front ends and the backend. Dual-write,
// shadow reads, the write guard and switch-over live in package
// replicate; gateway only translates its configuration into replicate's
// Plan, WriteLimits and Options and says how a backend spec is opened.
package gateway
