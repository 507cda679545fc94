// Package timescaledb generates SQL for TimescaleDB: PostgreSQL plus
// time_bucket and the first/last aggregates.
package timescaledb
