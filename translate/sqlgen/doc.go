// Package sqlgen is the machinery shared by the SQL generators: a Dialect
// is data (capabilities, a function table, an aggregate table, a type map,
// extract fields) plus a handful of per-node overrides for the nodes whose
// shape, not just spelling, differs between engines (time buckets,
// intervals, LIKE escapes). Generate walks the AST with ast.Printer and
// consults the dialect at each node; anything the tables do not cover is
// refused, never passed through.
package sqlgen
