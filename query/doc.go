// Package query owns the query pipeline: a front end hands it a query in
// its source dialect (Arc SQL from the Arc HTTP API and memtrace,
// PostgreSQL from pg wire); it translates the query for the backend
// (parse → rewrite → check → generate), runs it, and finishes what the
// backend's language cannot say (post steps) before the rows go back.
//
// The gateway wires a Pipeline to its front ends; the conformance runner
// and the migration tool build their own over any dialects.Backend, so
// they never import the wiring.
package query
