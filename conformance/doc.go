// Package conformance proves that a query means the same thing whichever
// backend answers it. It generates the same data for every backend
// (Dataset), loads it through tsgate's own write path, runs a corpus of
// Arc SQL cases (plain-text .test scripts under cases/) on the embedded
// DuckDB reference — Arc's own engine — and on each backend through the
// translation pipeline, and compares results under written-down Rules.
//
// Every case ends as pass, fail (a wrong result: the worst outcome),
// refused (declared: outside the backend's subset, or listed with a reason
// in deviations/<backend>.txt), refused-undeclared, differs (a declared
// difference) or error. baseline.json holds the floor each backend's score
// must keep; `tsgate conformance` exits non-zero below it.
//
// The harness is a library: a third party runs the suite against its own
// dialects.Backend from a Go test with Run, a Target and the embedded
// corpus (Corpus).
package conformance
