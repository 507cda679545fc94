// Package duckparse is tsgate's second SQL front end: it converts the parse
// tree DuckDB's own parser returns (json_serialize_sql, run by package
// guard in its private engine) into translate/ast, the tree the pg_query
// front end (translate/pgparse) produces. Arc SQL is DuckDB SQL, so syntax
// PostgreSQL's grammar lacks (GROUP BY ALL, ORDER BY ALL, SELECT *
// EXCLUDE/REPLACE, //, INTERVAL 5 MINUTE, alias-less subqueries in FROM)
// reaches every backend through here.
//
// The meaning of a function name is decided once, by pgparse.ConvertCall,
// for both front ends; this package only reads DuckDB's node shapes. The
// DuckDB-only constructs are desugared into existing nodes: GROUP BY ALL
// and ORDER BY ALL into positional references, EXCLUDE/REPLACE into the
// measurement's columns (from the schema), // into integer or true
// division by its operands' types, INTERVAL n UNIT into an interval
// constant. A node, key or option it does not model is refused with
// errs.Unsupported naming the construct: a query is never half-converted
// and nothing is guessed.
package duckparse
