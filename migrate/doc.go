// Package migrate moves data between backends without the applications
// noticing: Backfill copies measurements in time-ordered chunks with a
// checkpoint so an interrupted run resumes without duplicates or gaps, and
// Verify compares the two sides by row counts and per-hour aggregates.
//
// Both sides are reached through the gateway pipeline with Arc SQL, so a
// source or target is any dialects.Backend: the embedded store, a remote
// Arc, InfluxDB, PostgreSQL, ClickHouse.
package migrate
