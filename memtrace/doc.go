// Package memtrace serves memtrace's HTTP API (v0.2: memories, agents,
// sessions, session context) on tsgate's backends, so agents written
// against memtrace's SDKs, MCP server, browser apps or curl scripts work
// unchanged. The HTTP layer answers as memtrace's framework (Fiber) does:
// its CORS defaults, routing rules, body decoding and error texts.
//
// Memories are rows of one measurement (default `events`) written through
// the gateway's ordinary write path and read back with the Arc SQL shapes
// memtrace itself issues; the backend therefore only ever sees escaped
// literals, never a client's string spliced in raw. Each organization's
// memories live in its Target: the gateway's backend, or one of its own
// (memtrace's per-organization Arc instance), resolved per request. Orgs,
// API keys, agents, sessions and backend bindings live in a metadata
// store: SQLite (pure Go) by default, PostgreSQL when several replicas
// share it.
//
// Where the original loses data, tsgate keeps the wire contract and does
// better: every accepted memory is committed before 201 is answered (no
// buffer that can drop its oldest rows), dedup sees every accepted write
// (an in-memory index of the window's keys, exact across replicas through
// PostgreSQL advisory locks and a backend lookup), concurrent creates are
// committed in groups, and a saturated backend answers 503 instead of
// queueing without bound. Permissions on keys are enforced (read vs
// write), which memtrace never did.
package memtrace
