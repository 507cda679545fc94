//go:build duckdb_arrow

package duckdb

import (
	"context"
	"database/sql/driver"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// QueryArrow runs sql like Query and returns DuckDB's own Arrow output:
// record batches straight from the engine's chunks (Arc's Arrow path),
// with DuckDB's Arrow types. The same guard check, pooled connection and
// search path apply; releasing the reader returns the connection, or
// drops it when the stream failed.
//
// Built only with the duckdb_arrow tag (duckdb-go's Arrow interface needs
// it); without it the Arc API builds batches from Query's rows.
func (s *Store) QueryArrow(ctx context.Context, db, query string) (array.RecordReader, error) {
	query, conn, dc, err := s.queryConn(ctx, db, query)
	if err != nil {
		return nil, err
	}
	var rr array.RecordReader
	err = conn.Raw(func(c any) error {
		a, err := duckdb.NewArrowFromConn(c.(driver.Conn))
		if err != nil {
			return err
		}
		rr, err = a.QueryContext(ctx, query)
		return err
	})
	if err != nil {
		s.discard(conn, dc)
		return nil, classify(ctx, err)
	}
	return &arrowRows{RecordReader: rr, ctx: ctx, done: func(err error) { s.release(conn, dc, err) }}, nil
}

// ArrowNative reports whether this build streams DuckDB's own Arrow.
func (s *Store) ArrowNative() bool { return true }

// arrowRows hands the connection back once the reader is released, and
// types the errors it reports.
type arrowRows struct {
	array.RecordReader
	ctx  context.Context
	once sync.Once
	done func(err error)
	err  error // the reader's error that ended the stream
}

func (r *arrowRows) Next() bool {
	if r.RecordReader.Next() {
		return true
	}
	r.err = r.RecordReader.Err()
	return false
}

func (r *arrowRows) Err() error { return classify(r.ctx, r.RecordReader.Err()) }

func (r *arrowRows) Release() {
	r.RecordReader.Release()
	r.once.Do(func() { r.done(r.err) })
}
