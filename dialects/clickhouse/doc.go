// Package clickhouse generates ClickHouse SQL from tsgate's AST, in two
// profiles: modern ClickHouse (DateTime64(6) time, window functions, CTEs,
// toStartOfInterval) and Legacy for 18.16 servers, which have none of
// those: time is DateTime (seconds), buckets are toStartOf*/intDiv
// arithmetic, and joins, windows and CTEs are refused.
package clickhouse
