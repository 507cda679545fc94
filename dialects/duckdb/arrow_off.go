//go:build !duckdb_arrow

package duckdb

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow/array"

	"tsgate/errs"
)

// QueryArrow needs duckdb-go's Arrow interface, built only with the
// duckdb_arrow tag (scripts/ and the Makefile set it); without it the Arc
// API builds Arrow batches from Query's rows.
func (s *Store) QueryArrow(context.Context, string, string) (array.RecordReader, error) {
	return nil, errs.New(errs.Unsupported, "this build has no DuckDB Arrow interface (build with -tags duckdb_arrow)")
}

// ArrowNative reports whether this build streams DuckDB's own Arrow.
func (s *Store) ArrowNative() bool { return false }
