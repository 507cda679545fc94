package query

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"tsgate/errs"
	"tsgate/model"
)

// failing answers its rows, then fails with err.
type failing struct {
	model.SliceRows
	err    error
	closed bool
}

func (f *failing) Err() error   { return f.err }
func (f *failing) Close() error { f.closed = true; return nil }

// TestPeek: the first row is read ahead and replayed; an error before any
// row is returned (and the rows closed), one after it is left to the
// reader; only a backend's SQLSTATE class 22 is a data exception.
func TestPeek(t *testing.T) {
	cols := []model.ResultColumn{{Name: "x", Type: model.TypeInt}}
	read := func(r model.Rows) []int64 {
		var out []int64
		v := make([]model.Value, 1)
		for r.Next(v) {
			out = append(out, v[0].I)
		}
		return out
	}
	rows, err := peek(&model.SliceRows{Cols: cols, Data: [][]model.Value{{model.Int(1)}, {model.Int(2)}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{1, 2}, read(rows)); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	rows, err = peek(&model.SliceRows{Cols: cols}, nil)
	if err != nil || len(read(rows)) != 0 {
		t.Errorf("empty: %v", err)
	}
	overflow := &errs.Error{Code: errs.Engine, SQLState: "22003", Msg: "postgres: value out of range: overflow"}
	f := &failing{SliceRows: model.SliceRows{Cols: cols}, err: overflow}
	if _, err := peek(f, nil); !errors.Is(err, overflow) || !f.closed || !dataException(err) {
		t.Errorf("error before the first row: %v (closed %v)", err, f.closed)
	}
	late := &failing{SliceRows: model.SliceRows{Cols: cols, Data: [][]model.Value{{model.Int(1)}}}, err: overflow}
	rows, err = peek(late, nil)
	if err != nil || len(read(rows)) != 1 || rows.Err() == nil {
		t.Errorf("error after the first row: %v, rows.Err %v", err, rows.Err())
	}
	for _, e := range []error{
		&errs.Error{Code: errs.Engine, SQLState: "42883", Msg: "no such function"},
		&errs.Error{Code: errs.Unsupported, SQLState: "0A000", Msg: "refused"},
		&errs.Error{Code: errs.Unavailable, Msg: "down"},
		errors.New("plain"),
	} {
		if dataException(e) {
			t.Errorf("%v taken for a data exception", e)
		}
	}
}
