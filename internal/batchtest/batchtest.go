package batchtest

import (
	"errors"
	"testing"

	"tsgate/errs"
	"tsgate/model"
)

// Col is a column's kind, type and values (model.Value{} is NULL).
type Col struct {
	Tag    bool
	Type   model.FieldType
	Values []model.Value
}

// Table is a table's rows by column name; a type variant of a column (see
// model.Table) is keyed name/type.
type Table struct {
	Measurement string
	Time        []int64
	Columns     map[string]Col
}

// Batch is a batch's tables, its dropped-row count and its rejections'
// messages.
type Batch struct {
	Tables  []Table
	Dropped int
	Errors  []string
}

// View flattens b, failing the test when a table is inconsistent or a
// rejection is not an *errs.Error (it must carry its code).
func View(t testing.TB, b *model.Batch) Batch {
	t.Helper()
	var v Batch
	for _, tb := range b.Tables {
		if err := tb.Validate(); err != nil {
			t.Fatalf("table %s: %v", tb.Measurement, err)
		}
		tv := Table{Measurement: tb.Measurement, Time: tb.Time, Columns: map[string]Col{}}
		for _, c := range tb.Columns {
			cv := Col{Tag: c.Tag, Type: c.Type}
			for i := range c.Len() {
				cv.Values = append(cv.Values, c.At(i))
			}
			name := c.Name
			if _, dup := tv.Columns[name]; dup {
				name += "/" + c.Type.String()
			}
			tv.Columns[name] = cv
		}
		v.Tables = append(v.Tables, tv)
	}
	v.Dropped = b.Dropped
	for _, err := range b.Errors {
		var e *errs.Error
		if !errors.As(err, &e) {
			t.Errorf("rejection %v is %T, not *errs.Error", err, err)
		}
		v.Errors = append(v.Errors, err.Error())
	}
	return v
}

// Tag is a tag column with vals.
func Tag(vals ...model.Value) Col {
	return Col{Tag: true, Type: model.TypeString, Values: vals}
}

// Field is a field column of type typ with vals.
func Field(typ model.FieldType, vals ...model.Value) Col {
	return Col{Type: typ, Values: vals}
}

// Decoded checks what a decoder's answer holds whatever its input (a fuzz
// target's invariants): every error, returned or a rejection in b, is an
// *errs.Error with code Invalid; after success every table is consistent,
// not empty, of a valid measurement, and has no column named time or
// unnamed. It reports whether decoding succeeded.
func Decoded(t testing.TB, b *model.Batch, err error) bool {
	t.Helper()
	for _, e := range append(b.Errors, err) {
		if e == nil {
			continue
		}
		var te *errs.Error
		if !errors.As(e, &te) || te.Code != errs.Invalid {
			t.Fatalf("error %v is %T / not Invalid", e, e)
		}
	}
	if err != nil {
		return false
	}
	for _, tb := range b.Tables {
		if err := tb.Validate(); err != nil {
			t.Fatalf("table %q: %v", tb.Measurement, err)
		}
		if tb.Len() == 0 {
			t.Fatalf("empty table %q", tb.Measurement)
		}
		if !model.ValidMeasurement(tb.Measurement) {
			t.Fatalf("invalid measurement %q stored", tb.Measurement)
		}
		for _, c := range tb.Columns {
			if c.Name == "time" || c.Name == "" {
				t.Fatalf("column %q", c.Name)
			}
		}
	}
	return true
}

// Rows reads all of r, failing the test on an error, and returns its
// columns and rows: how query tests compare a result with an oracle's.
func Rows(t testing.TB, r model.Rows) ([]model.ResultColumn, [][]model.Value) {
	t.Helper()
	cols := r.Columns()
	out, err := model.Collect(r)
	if err != nil {
		t.Fatal(err)
	}
	return cols, out
}
