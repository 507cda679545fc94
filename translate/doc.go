// Package translate is tsgate's query translator: Arc SQL (DuckDB
// flavoured) or PostgreSQL SQL in, the configured backend's language out,
// or a typed refusal. It never guesses: a construct a target cannot
// express exactly is refused (errs.Unsupported, SQLSTATE 0A000, naming the
// construct and the target, with a hint), and a difference that is
// declared rather than hidden travels as a target.Note beside the translation.
//
// # Pipeline
//
//  1. Parse (translate/pgparse): pg_query's PostgreSQL grammar, converted
//     to the semantic AST of translate/ast. Source-dialect meanings are made
//     explicit here (LIKE's default escape, NULL ordering, what / means,
//     every time bucket's origin). DuckDB-only syntax fails with an error
//     wrapping ErrDuckDBOnly; the DuckDB backend may then run the text as
//     written.
//  2. Rewrite (Rewrite): target-independent normalization, e.g. string
//     literals compared with time become instants on the µs grid.
//  3. Check (Check): the target's capability set (target.Caps); a missing
//     capability is refused with one message shape for all targets.
//  4. Generate: the target's target.Generator. SQL targets are
//     sqlgen.Dialect values (dialects/duckdbsql, postgres, timescaledb,
//     clickhouse): data tables for functions, aggregates, types and
//     EXTRACT fields, plus per-node overrides for time buckets, intervals,
//     LIKE and the like.
//
// # Extension points
//
// A new SQL target is a sqlgen.Dialect: copy the nearest one and change
// its tables (timescaledb is postgres plus three overrides). A non-SQL
// target (InfluxQL, Flux) implements target.Generator directly: it walks
// the same AST, consults target.Schema for tags versus fields, reports
// Language InfluxQL or Flux, and returns in Output.Post the row-level
// steps (sort by a tag, HAVING, LIMIT/OFFSET) the gateway must emulate
// because the language cannot; its Caps make the checker refuse joins and
// the like before it is called.
//
// Translator caches results (and refusals) in a bounded LRU keyed by the
// exact query text, the target and the schema version. The caller passes
// the target's target.Generator with each query: this package imports no
// backend, and the list of targets is dialects/registry's.
package translate
