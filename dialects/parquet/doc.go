// Package parquet reads Arc's storage directory — its Parquet files —
// as a read-only backend, so `tsgate migrate --from parquet:DIR` copies an
// Arc installation that is stopped or gone without its HTTP API.
//
// Layout (Arc's ingest/arrow_writer.go generateStoragePath, and its daily
// compaction one level up): DIR/DATABASE/MEASUREMENT/YYYY/MM/DD/HH/*.parquet
// and DIR/DATABASE/MEASUREMENT/YYYY/MM/DD/*.parquet. A measurement is read
// the way Arc reads it, read_parquet('DIR/DATABASE/MEASUREMENT/**/*.parquet',
// union_by_name = true), by an in-memory DuckDB that may read DIR and
// nothing else. `time` is Arc's TIMESTAMP (µs, UTC).
//
// Tags: Arc's line-protocol and row-msgpack writes record a file's tag
// columns in its footer, key arc:tags (comma-separated; Arc's compaction
// dedups on them); the union over a measurement's files is its tags.
// Columnar msgpack writes (memtrace's, Telegraf's) and files older than
// that key record none; for a measurement none of whose files carries the
// key, a string column is a tag when this gateway's tag configuration
// names it (memtrace's events: org_id, agent_id, session_id, memory_type,
// event_type), and otherwise every string column is a tag — what line
// protocol, where tag values are always strings, produces — except those
// the source's ?fields=a,b option names.
package parquet
