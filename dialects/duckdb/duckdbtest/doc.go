// Package duckdbtest opens embedded stores for the tests of other
// packages (query, migrate, conformance, replicate, memtrace, …), closed
// when the test ends. The duckdb package's own tests cannot import it.
package duckdbtest
