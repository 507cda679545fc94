package sqlrows

import (
	"database/sql"
	"time"

	"tsgate/model"
)

// Columns reads rows' header: each column's name, its database type name
// as BackendType, and the type typ maps that name to. On an error rows is
// closed; whatever else the result holds is the caller's to release.
func Columns(rows *sql.Rows, typ func(dbType string) model.FieldType) ([]model.ResultColumn, error) {
	cts, err := rows.ColumnTypes()
	if err != nil {
		rows.Close()
		return nil, err
	}
	cols := make([]model.ResultColumn, len(cts))
	for i, ct := range cts {
		name := ct.DatabaseTypeName()
		cols[i] = model.ResultColumn{Name: ct.Name(), Type: typ(name), BackendType: name}
	}
	return cols, nil
}

// Rows is a database/sql result as model.Rows.
type Rows struct {
	rows    *sql.Rows
	cols    []model.ResultColumn
	vals    []any
	scan    []any
	value   func(col int, v any) model.Value
	release func(err error)
	fail    func(err error) error
	err     error
	done    bool
}

var _ model.Rows = (*Rows)(nil)

// New streams rows, whose header is cols. value converts column col's
// scanned value (what the driver hands database/sql). release frees what
// the result holds besides rows (its connection), once, after rows is
// closed: err is the error that ended the result, nil when it ended or
// was closed normally. fail makes the error Err reports from one met
// while reading.
func New(rows *sql.Rows, cols []model.ResultColumn, value func(col int, v any) model.Value, release func(err error), fail func(err error) error) *Rows {
	r := &Rows{rows: rows, cols: cols, vals: make([]any, len(cols)), scan: make([]any, len(cols)),
		value: value, release: release, fail: fail}
	for i := range r.vals {
		r.scan[i] = &r.vals[i]
	}
	return r
}

func (r *Rows) Columns() []model.ResultColumn { return r.cols }

func (r *Rows) Next(dst []model.Value) bool {
	if r.done {
		return false
	}
	if !r.rows.Next() {
		r.err = r.rows.Err()
		r.finish()
		return false
	}
	if err := r.rows.Scan(r.scan...); err != nil {
		r.err = err
		r.finish()
		return false
	}
	for i, v := range r.vals {
		dst[i] = r.value(i, v)
	}
	return true
}

func (r *Rows) finish() {
	if r.done {
		return
	}
	r.done = true
	r.rows.Close()
	r.release(r.err)
}

func (r *Rows) Err() error {
	if r.err != nil {
		return r.fail(r.err)
	}
	return nil
}

func (r *Rows) Close() error {
	r.finish()
	return nil
}

// FieldType is the type a result column of DuckDB type dbType (its
// DatabaseTypeName) reads as: the types tsgate models, TypeText for the
// rest, which each owner renders as text. "TIMESTAMP WITH TIME ZONE" is
// TIMESTAMPTZ's long name.
func FieldType(dbType string) model.FieldType {
	switch dbType {
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATE":
		return model.TypeTime
	case "BIGINT", "INTEGER", "SMALLINT", "TINYINT":
		return model.TypeInt
	case "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT":
		return model.TypeUint
	case "DOUBLE", "FLOAT":
		return model.TypeFloat
	case "VARCHAR":
		return model.TypeString
	case "BOOLEAN":
		return model.TypeBool
	}
	return model.TypeText
}

// Value converts a scanned value of a type tsgate models: NULL, a
// floating-point or integer number of any width, a boolean, a string, a
// timestamp. ok is false for any other type, which each owner renders in
// its own way.
func Value(v any) (val model.Value, ok bool) {
	switch x := v.(type) {
	case nil:
		return model.Value{}, true
	case float64:
		return model.Float(x), true
	case float32:
		return model.Float(float64(x)), true
	case int64:
		return model.Int(x), true
	case int32:
		return model.Int(int64(x)), true
	case int16:
		return model.Int(int64(x)), true
	case int8:
		return model.Int(int64(x)), true
	case uint64:
		return model.Uint(x), true
	case uint32:
		return model.Uint(uint64(x)), true
	case uint16:
		return model.Uint(uint64(x)), true
	case uint8:
		return model.Uint(uint64(x)), true
	case string:
		return model.String(x), true
	case bool:
		return model.Bool(x), true
	case time.Time:
		return model.Time(x.UnixMicro()), true
	}
	return model.Value{}, false
}
