// Package manage keeps Arc's management state and runs its jobs on any
// backend: databases created through the API (Arc's marker directories),
// retention policies, continuous queries and their executions, stored in
// one document — a file under the data directory, or a row of the shared
// PostgreSQL store (auth.store_url) that replicas read and change under an
// advisory lock, each job held by one replica at a time (store.go); row
// counts and deletes built from conditions tsgate parsed
// (translate.Predicate); and the scheduler that runs active policies and
// queries.
//
// What is native and what is scheduled: every delete a policy makes is
// the backend's own (DuckDB and PostgreSQL DELETE, ClickHouse ALTER TABLE
// … DELETE, InfluxQL DELETE by tag and time); deciding when to delete is
// this package's scheduler on every backend, because none of the
// backends here has a per-measurement retention that means what Arc's
// does (InfluxDB's retention policies apply to a whole database and
// change where writes go; ClickHouse 18.16 has no TTL; TimescaleDB is not
// packaged here). A continuous query's result is written through tsgate's
// own write path, so it lands exactly as any write would.
package manage
