// Package registry is the one list of tsgate's backends. Each backend
// package exports a dialects.Descriptor; this package lists them, and
// everything that needs to know which backends exist — the opener behind
// backend.url, the translator's targets, `tsgate translate --to`, the
// conformance runner, the tests — reads this list. Adding a backend is a
// new folder under dialects/ and one line in All.
package registry
