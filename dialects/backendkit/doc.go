// Package backendkit holds what the real backends (InfluxDB, PostgreSQL,
// ClickHouse, remote Arc) share and the embedded store does not need: the
// tag configuration, the Required-field bookkeeping, an in-memory schema
// catalog that implements target.Schema, HTTP error classification,
// credential-free URL rendering, the base the HTTP backends embed (Remote:
// URL parsing, timeout, default database, schema cache, building and
// sending a request), the write side's type resolution of a batch
// against the stored columns, and the parts of a streamed result: what
// its reader keeps besides its decoder (Stream: header, body, end, first
// error), its first row read ahead, its body closed once, its read
// errors classified.
package backendkit
