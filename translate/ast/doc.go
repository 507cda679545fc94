// Package ast is tsgate's query AST: what a query means, not how it was
// spelled. A time bucket is one TimeBucket node whether the source said
// time_bucket, date_trunc, date_bin or Grafana's epoch arithmetic; an
// interval keeps months apart from fixed time; LIKE carries the escape
// character its source dialect implied.
//
// The node interfaces (Node, Expr, Statement, Query, TableExpr) are
// sealed by unexported methods. Every node's String prints canonical
// PostgreSQL-form SQL that the front end (translate/pgparse) parses back to
// an equal tree; SQL generators reuse the same Printer with Hooks that
// rename functions, map types and refuse what a target cannot express.
package ast
