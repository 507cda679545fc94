// Package memtrace serves memtrace's HTTP API (v0.2: memories, agents,
// sessions, session context) on tsgate's backend, so agents written
// against memtrace's SDKs, MCP server or curl scripts work unchanged.
//
// Memories are rows of one measurement (default `events`) written through
// the gateway's ordinary write path and read back with the Arc SQL shapes
// memtrace itself issues; the backend therefore only ever sees escaped
// literals, never a client's string spliced in raw. Orgs, API keys, agents
// and sessions live in a metadata store: SQLite (pure Go) by default,
// PostgreSQL when several replicas share it.
//
// Where the original loses data, tsgate keeps the wire contract and does
// better: every accepted memory is committed before 201 is answered (no
// buffer that can drop its oldest rows), dedup sees every accepted write,
// and a saturated backend answers 503 instead of queueing without bound.
// Permissions on keys are enforced (read vs write), which memtrace never
// did.
package memtrace
