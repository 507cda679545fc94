// Package guard decides which statements may reach an engine. tsgate
// runs user SQL on DuckDB (the embedded store, the pg-wire catalog
// engine) and translates it for remote backends; either way a statement
// is first classified by a real parser — DuckDB's own for Arc SQL (its
// json_serialize_sql, run in a private in-memory instance that holds no
// data), pg_query for PostgreSQL — and only what is on the allow-list
// passes:
//
//   - exactly one statement, a query: SELECT, VALUES, WITH … SELECT, FROM-
//     first SELECT, DESCRIBE/SUMMARIZE of a table, or EXPLAIN of one of
//     those. DuckDB's serializer refuses every other statement kind, so
//     DDL, DML, COPY, ATTACH, SET, PRAGMA, transactions and the rest never
//     get this far, however they are spelled;
//   - table functions from a short allow-list (generate_series, range,
//     unnest): no file, network, settings or catalog function;
//   - scalar and aggregate functions from DuckDB's built-in list minus
//     those that read settings or session state, change it, sleep, or
//     reflect on SQL (functions_gen.go, regenerated and diffed by a test
//     whenever the engine changes);
//   - tables that are measurements of a database the caller may read:
//     an unqualified name that DuckDB could resolve to one of its own
//     system views is refused, a qualified one must name a database (no
//     catalog, system, information_schema or tsgate-internal schema), and
//     admin-only databases (memtrace's storage) need an admin.
//
// Common table expressions are scoped as DuckDB scopes them: a CTE's
// body sees only the CTEs declared before it (and itself when
// recursive), so a forward reference is a table reference and is checked
// as one. Names are compared as identifiers, never as keywords: a column
// or table called load, copy or attach is just a name.
//
// The engines enforce the same from below: every DuckDB instance runs with
// external access off, its configuration locked and extension loading
// disabled, so a statement the guard got wrong still reads no file.
package guard
