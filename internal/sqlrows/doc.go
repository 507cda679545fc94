// Package sqlrows streams a database/sql result as model.Rows. The
// embedded DuckDB store and the pg wire catalog engine (another DuckDB,
// private to the catalog) both read their results through database/sql;
// the loop — scan a row, convert its values, release the result once
// when it ends or is closed — is the same, and so is what a value of a
// type tsgate models becomes (Value). How the other types read, what the
// connection is worth after an error, and how an error reads are each
// owner's own, so they come in as functions. It depends on model only,
// so wire and dialects can both import it.
package sqlrows
