package duckdb

import (
	"tsgate/dialects/duckdbsql"
	"tsgate/translate/target"
)

// NewGenerator returns the DuckDB SQL generator. It lives in
// dialects/duckdbsql so the translator links without the DuckDB engine.
func NewGenerator() target.Generator { return duckdbsql.New() }
