// Command tsgate is the tsgate gateway: `tsgate serve` runs it, the other
// subcommands manage and inspect it.
//
// Subcommands: serve (the gateway: Arc HTTP API, memtrace API, pg wire, in
// front of the embedded DuckDB store or the backend.url backend), translate,
// conformance, migrate, token, memtrace (org and key admin), healthcheck (the
// container image's HEALTHCHECK), version.
package main
