// Package types infers the type class of an AST expression — integer,
// double, decimal, string, time… — as the reference engine computes it
// (DuckDB, Arc's engine) or, for pg wire, as PostgreSQL does. The
// generators decide per construct and type with it (translate/sqlgen),
// and the DuckDB front end reads DuckDB's // with it (integer or true
// division); PGForm is where PostgreSQL's / starts reading its operands,
// in the PostgreSQL front end and in the translator. One inference, so a
// construct is not typed one way where it is parsed and another where it
// is printed.
package types
