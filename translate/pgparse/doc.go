// Package pgparse is tsgate's SQL front end: it parses a query with
// pg_query (PostgreSQL 17's own grammar, via cgo) and converts the parse
// tree into translate/ast. It is the only package that imports the cgo
// parser.
//
// Arc's statements outside PostgreSQL's grammar (SHOW DATABASES, SHOW
// TABLES|MEASUREMENTS [FROM db], DESCRIBE t) are recognized before
// pg_query. Syntax only DuckDB has is reported as an Unsupported error
// wrapping ErrDuckDBOnly, every other parse failure as Invalid (SQLSTATE
// 42601) wrapping ErrSyntax. Constructs the AST does not model are refused
// with Unsupported errors naming them: a query is never half-converted.
package pgparse
