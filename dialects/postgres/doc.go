// Package postgres generates PostgreSQL SQL (14 or later: date_bin) from
// tsgate's AST. The dialect is data: see Dialect.
package postgres
