// Package duckdb is tsgate's DuckDB dialect: the embedded store that runs
// when no backend is configured (Store: schema-on-write tables, durable
// transactional writes, pooled reads) and the generator for DuckDB/Arc SQL.
// DuckDB is Arc's own engine, so this backend is also the conformance
// reference.
package duckdb
