// Package duckdbsql generates DuckDB (Arc) SQL from tsgate's AST. It is
// apart from dialects/duckdb, the embedded store, so that the translator
// builds and tests without linking the DuckDB engine.
package duckdbsql
