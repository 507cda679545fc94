// Package kittest is the shared integration test for real backends: it
// writes one fixture (tags, every field type, sparse NULLs, unicode and
// quotes) to the backend under test and to the embedded DuckDB store,
// runs the memtrace query shapes and TSBS-like bucket aggregates through
// the translator on both, applies the post steps as the gateway does, and
// compares the rows value by value. DuckDB is the reference: Arc clients
// must not tell the backends apart.
package kittest
