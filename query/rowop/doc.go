// Package rowop applies a translation's post steps (target.PostStep) to a
// backend's rows: what a target language cannot say — ORDER BY a tag or an
// aggregate, LIMIT after such a sort, HAVING, arithmetic between
// aggregates, SQL's one row for an aggregate over nothing — computed
// exactly in the gateway with the source dialect's (DuckDB's) semantics.
//
// A sort needs every row, so Apply materializes the input, bounded by a
// row cap; results of such queries are aggregates or limited lists, and a
// query that would exceed the cap is refused, not truncated.
package rowop
