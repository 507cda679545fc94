// Package pgmeta creates tsgate's own tables in a PostgreSQL database:
// in the schema _tsgate, tsgate's bookkeeping schema (never listed as an
// Arc database: no Arc database name starts with "_"), under one
// transaction-scoped advisory lock, because concurrent CREATE … IF NOT
// EXISTS statements can fail on PostgreSQL and replicas start together.
package pgmeta
