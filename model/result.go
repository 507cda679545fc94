package model

// ResultColumn describes one column of a query result.
type ResultColumn struct {
	Name string
	// Type is the column's declared type; a row's Value may still be NULL.
	// TypeUnknown means the backend gave no usable type (all NULL, say).
	Type FieldType
	// BackendType is the backend's own type name (DuckDB's "DECIMAL(18,3)"),
	// kept for pg wire type mapping and the msgpack `types` list.
	BackendType string
}

// Rows streams a query result. Next fills dst, which must have one Value
// per column, and reports false at the end or on error; a caller then
// checks Err. Close releases the backend's resources and is safe to call
// twice.
type Rows interface {
	Columns() []ResultColumn
	Next(dst []Value) bool
	Err() error
	Close() error
}

// SliceRows is an in-memory Rows, for results the gateway builds itself
// (SHOW DATABASES, catalog emulation) and for tests.
type SliceRows struct {
	Cols []ResultColumn
	Data [][]Value
	pos  int
}

var _ Rows = (*SliceRows)(nil)

func (r *SliceRows) Columns() []ResultColumn { return r.Cols }
func (r *SliceRows) Err() error              { return nil }
func (r *SliceRows) Close() error            { return nil }

func (r *SliceRows) Next(dst []Value) bool {
	if r.pos >= len(r.Data) {
		return false
	}
	copy(dst, r.Data[r.pos])
	r.pos++
	return true
}

// Count reads a one-column count result's first value as an integer (0
// when there is no row, or the column is not one number) and closes
// rows. Backends answer count(*) as BIGINT, UBIGINT or DOUBLE.
func Count(rows Rows) (int64, error) {
	defer rows.Close()
	v := make([]Value, len(rows.Columns()))
	var n int64
	if len(v) == 1 && rows.Next(v) {
		switch v[0].Type {
		case TypeInt:
			n = v[0].I
		case TypeUint:
			n = int64(v[0].U)
		case TypeFloat:
			n = int64(v[0].F)
		}
	}
	return n, rows.Err()
}

// Collect reads every row of rows, each into its own slice, and closes
// rows: for results small enough to hold whole (catalog reads, tests).
func Collect(rows Rows) ([][]Value, error) {
	defer rows.Close()
	var out [][]Value
	for {
		v := make([]Value, len(rows.Columns()))
		if !rows.Next(v) {
			break
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
