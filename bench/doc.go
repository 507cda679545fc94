// Package bench holds tsgate's end-to-end benchmarks: ingest through the
// Arc HTTP API against the DuckDB appender doing the same work directly,
// and a 1-hour time_bucket aggregate over 1M rows through HTTP against the
// store directly. Run with `make bench` or
// `go test -run '^$' -bench . -benchtime 20x ./bench`.
package bench
