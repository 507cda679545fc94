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

// Stream is what the reader of a streamed HTTP result (ClickHouse's
// TSV, InfluxDB's msgpack series, Flux's CSV) keeps besides its decoder,
// for it to embed: the header, the body, whether the stream has ended,
// and the first error, which ends it. It gives the reader its Columns,
// Err and Close.
type Stream struct {
	Body *Body
	Cols []model.ResultColumn
	// Done: the stream has ended, at its end or on an error.
	Done bool
	err  error
}

func (s *Stream) Columns() []model.ResultColumn { return s.Cols }
func (s *Stream) Err() error                    { return s.err }

// Close closes the body, once.
func (s *Stream) Close() error { return s.Body.Close() }

// Fail ends the stream with err and returns the stream's error: the
// first one stands.
func (s *Stream) Fail(err error) error {
	s.Done = true
	if s.err == nil {
		s.err = err
	}
	return s.err
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
