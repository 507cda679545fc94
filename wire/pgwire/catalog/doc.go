// Package catalog emulates PostgreSQL's system catalog (pg_catalog and
// information_schema) for the pg wire front end.
//
// Design: the catalog is materialized as real tables in a private,
// in-memory DuckDB instance — never the store holding user data, so a
// catalog query can neither read nor slow down the data path. Each Arc
// database, at each backend schema version, gets its own snapshot: a
// schema holding pg_namespace, pg_class, pg_attribute, pg_type… (with
// PostgreSQL's column names and real type OIDs) and a second schema for
// information_schema, plus macros for the system functions clients call
// (format_type, pg_get_userbyid, pg_table_is_visible, has_*_privilege,
// obj_description, current_setting, version…). Measurements appear as
// tables in schema public with stable OIDs (a hash of database and name),
// so a client caching OIDs keeps seeing the same ones across restarts.
//
// A catalog query is PostgreSQL SQL; DuckDB runs most of it as written.
// What it cannot, the rewriter handles on tokens (never on error text):
// pg_catalog qualifiers are dropped (the snapshot schema is first on the
// search path, so its pg_class shadows DuckDB's own), information_schema
// is redirected to the snapshot, OPERATOR(pg_catalog.~) becomes ~,
// COLLATE pg_catalog.default goes, 'name'::regclass becomes a lookup and
// other reg* casts become the OID itself, current_user becomes the login.
package catalog
