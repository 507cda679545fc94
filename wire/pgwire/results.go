package pgwire

import (
	"context"
	"encoding/binary"
	"strconv"

	"github.com/jackc/pgx/v5/pgproto3"

	"tsgate/errs"
	"tsgate/model"
)

// result is what one statement produced: rows to stream (tag is then the
// command word, "SELECT" or "FETCH", completed with the row count), or
// only a command tag.
type result struct {
	rows   model.Rows
	tag    string
	cancel context.CancelFunc
	// binary forces binary output (DECLARE BINARY CURSOR).
	binary bool
	empty  bool // the statement was empty: EmptyQueryResponse
}

func (r *result) close() {
	if r == nil {
		return
	}
	if r.rows != nil {
		r.rows.Close()
	}
	if r.cancel != nil {
		r.cancel()
	}
}

func (r *result) complete(n int) string {
	if r.rows == nil {
		return r.tag
	}
	return r.tag + " " + strconv.Itoa(n)
}

// setColumns fixes the wire types and formats of the result about to be
// streamed and returns its RowDescription. formats are the client's
// result format codes (none: all text; one: for every column).
func (c *conn) setColumns(cols []model.ResultColumn, formats []int16, forceBinary bool) (*pgproto3.RowDescription, error) {
	c.colTypes = c.colTypes[:0]
	c.colFormat = c.colFormat[:0]
	if len(formats) > 1 && len(formats) != len(cols) {
		return nil, sqlErrf(errs.Invalid, "08P01", "bind message has %d result formats but query has %d columns", len(formats), len(cols))
	}
	rd := &pgproto3.RowDescription{Fields: make([]pgproto3.FieldDescription, len(cols))}
	for i, col := range cols {
		t := columnType(col)
		f := int16(0)
		switch {
		case forceBinary:
			f = 1
		case len(formats) == 1:
			f = formats[0]
		case len(formats) > 1:
			f = formats[i]
		}
		if f != 0 && f != 1 {
			return nil, sqlErrf(errs.Invalid, "22023", "unsupported format code: %d", f)
		}
		c.colTypes = append(c.colTypes, t)
		c.colFormat = append(c.colFormat, f)
		rd.Fields[i] = pgproto3.FieldDescription{
			Name:         []byte(col.Name),
			DataTypeOID:  t.oid,
			DataTypeSize: t.size,
			TypeModifier: -1,
			Format:       f,
		}
	}
	return rd, nil
}

// stream sends up to max rows (all when max <= 0) as DataRow messages.
// limited reports that it stopped at max, not at the end. Each row is
// encoded into one reused buffer: no allocation per row beyond what the
// backend's values themselves cost.
func (c *conn) stream(rows model.Rows, max int) (n int, limited bool, err error) {
	ncols := len(c.colTypes)
	if cap(c.vals) < ncols {
		c.vals = make([]model.Value, ncols)
	}
	vals := c.vals[:ncols]
	// Rows bypass the Backend's buffer (it reallocates on every flush):
	// move what it holds (RowDescription…) into bw first, so order holds.
	if err := c.be.Flush(); err != nil {
		return 0, false, errs.Wrap(errs.Unavailable, err, "client connection lost")
	}
	for max <= 0 || n < max {
		if !rows.Next(vals) {
			return n, false, rows.Err()
		}
		buf := append(c.rowBuf[:0], 'D', 0, 0, 0, 0)
		buf = binary.BigEndian.AppendUint16(buf, uint16(ncols))
		for i := range vals {
			v := &vals[i]
			if v.IsNull() {
				buf = append(buf, 0xff, 0xff, 0xff, 0xff)
				continue
			}
			lp := len(buf)
			buf = append(buf, 0, 0, 0, 0)
			if c.colFormat[i] == 1 {
				if buf, err = c.appendBinary(buf, c.colTypes[i], v); err != nil {
					c.rowBuf = buf
					return n, false, err
				}
			} else {
				buf = appendText(buf, c.colTypes[i], v)
			}
			binary.BigEndian.PutUint32(buf[lp:], uint32(len(buf)-lp-4))
		}
		binary.BigEndian.PutUint32(buf[1:], uint32(len(buf)-1))
		c.rowBuf = buf
		// bufio writes through to the socket whenever it fills.
		if _, err := c.bw.Write(buf); err != nil {
			return n, false, errs.Wrap(errs.Unavailable, err, "client connection lost")
		}
		n++
	}
	return n, true, nil
}

// limitRows is a window on a cursor's rows: FETCH n reads n of them and
// leaves the cursor open.
type limitRows struct {
	src  model.Rows
	left int // < 0: all
	n    int
}

func (l *limitRows) Columns() []model.ResultColumn { return l.src.Columns() }
func (l *limitRows) Err() error                    { return l.src.Err() }
func (l *limitRows) Close() error                  { return nil }
func (l *limitRows) Next(dst []model.Value) bool {
	if l.left == 0 {
		return false
	}
	if !l.src.Next(dst) {
		return false
	}
	if l.left > 0 {
		l.left--
	}
	l.n++
	return true
}
