package backendkit

import (
	"context"
	"errors"
	"io"

	"tsgate/errs"
	"tsgate/model"
)

// Ahead is a streamed result's first row, read before Query returns: a
// backend that reports a statement's errors only with the first row
// (PostgreSQL's unprepared statements, InfluxDB, Flux) surfaces them
// from Query that way, and a result whose header does not say a
// column's type can take it from that row. Next hands the row out first.
type Ahead struct {
	row []model.Value
	ok  bool
}

// Read reads the first row of an n-column result with next and reports
// whether there was one.
func (a *Ahead) Read(n int, next func(dst []model.Value) bool) bool {
	a.row = make([]model.Value, n)
	a.ok = next(a.row)
	return a.ok
}

// Row is the row Read read.
func (a *Ahead) Row() []model.Value { return a.row }

// Take copies the row read ahead into dst, the first time only, and
// reports whether it did.
func (a *Ahead) Take(dst []model.Value) bool {
	if !a.ok {
		return false
	}
	a.ok = false
	copy(dst, a.row)
	return true
}

// Body is a streamed result's HTTP response body, closed once: the rows
// close it when the result ends, and the caller closes them again.
type Body struct {
	io.ReadCloser
	// Drain is how much of an unread rest Close reads first, so the
	// connection can be reused; a larger rest is cheaper to drop.
	Drain  int64
	closed bool
}

// Close closes the body the first time only.
func (b *Body) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	if b.Drain > 0 {
		io.CopyN(io.Discard, b.ReadCloser, b.Drain)
	}
	return b.ReadCloser.Close()
}

// ReadError classifies err, met while reading a streamed result from
// backend name: the caller's context ended (TransportError), a tsgate
// error stands as it is, and anything else is the connection failing
// mid-result (Unavailable, with msg).
func ReadError(ctx context.Context, name string, err error, msg string) error {
	switch {
	case ctx.Err() != nil:
		return TransportError(ctx, name, ctx.Err())
	case errors.As(err, new(*errs.Error)):
		return err
	}
	return errs.Wrap(errs.Unavailable, err, msg)
}
