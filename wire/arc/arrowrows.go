package arc

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"tsgate/errs"
	"tsgate/model"
)

// ArrowTimeZone is the zone an Arrow timestamp column of Arc's time type
// carries: Arc's DuckDB exports TIMESTAMPTZ with its TimeZone setting,
// Etc/UTC in Arc's images, and tsgate's embedded store pins the same.
const ArrowTimeZone = "Etc/UTC"

// arrowBatchRows bounds the rows one record batch built from model.Rows
// holds: the result streams in batches of at most this many rows.
const arrowBatchRows = 10_000

// rowsReader turns model.Rows (a remote backend's result, translated and
// post-processed) into Arrow record batches of at most arrowBatchRows rows,
// typed as Arc's DuckDB would export the same columns: time
// timestamp[us, tz=Etc/UTC], BIGINT int64, DOUBLE float64, VARCHAR utf8,
// BOOLEAN bool, HUGEINT and DECIMAL(p,0) int64, other decimals float64 (Arc
// casts decimals so), other values as their text. The first batch is read
// when the reader is made, so a column the backend could not type (all
// NULL so far) takes the type of its first value in that batch.
type rowsReader struct {
	refs   atomic.Int64
	rows   model.Rows
	schema *arrow.Schema
	kinds  []colKind
	names  []string
	b      *array.RecordBuilder
	vals   []model.Value
	// pending holds the first batch's rows until Next hands them out.
	pending [][]model.Value
	first   bool
	cur     arrow.RecordBatch
	err     error
	done    bool
}

// colKind is how a model column is appended to its Arrow builder.
type colKind uint8

const (
	kindNull colKind = iota
	kindInt64
	kindInt32
	kindInt16
	kindInt8
	kindUint64
	kindUint32
	kindUint16
	kindUint8
	kindFloat64
	kindFloat32
	kindString
	kindBool
	kindTime
	kindDate
	kindTextInt   // HUGEINT, DECIMAL(p,0) as text: parsed to int64
	kindTextFloat // DECIMAL(p,s) as text: parsed to float64
)

// duckWidths are the DuckDB types whose Arrow type is not their model
// type's default (int64, uint64, float64, timestamptz, string): each
// keeps its own width, for a column of the model type the name reads as.
var duckWidths = map[string]struct {
	typ   model.FieldType
	kind  colKind
	arrow arrow.DataType
}{
	"INTEGER":   {model.TypeInt, kindInt32, arrow.PrimitiveTypes.Int32},
	"SMALLINT":  {model.TypeInt, kindInt16, arrow.PrimitiveTypes.Int16},
	"TINYINT":   {model.TypeInt, kindInt8, arrow.PrimitiveTypes.Int8},
	"UINTEGER":  {model.TypeUint, kindUint32, arrow.PrimitiveTypes.Uint32},
	"USMALLINT": {model.TypeUint, kindUint16, arrow.PrimitiveTypes.Uint16},
	"UTINYINT":  {model.TypeUint, kindUint8, arrow.PrimitiveTypes.Uint8},
	"FLOAT":     {model.TypeFloat, kindFloat32, arrow.PrimitiveTypes.Float32},
	"DATE":      {model.TypeTime, kindDate, arrow.FixedWidthTypes.Date32},
	"TIMESTAMP": {model.TypeTime, kindTime, &arrow.TimestampType{Unit: arrow.Microsecond}},
	"HUGEINT":   {model.TypeText, kindTextInt, arrow.PrimitiveTypes.Int64},
}

func kindOf(c model.ResultColumn) (colKind, arrow.DataType) {
	bt := strings.ToUpper(c.BackendType)
	if w, ok := duckWidths[bt]; ok && w.typ == c.Type {
		return w.kind, w.arrow
	}
	switch c.Type {
	case model.TypeInt:
		return kindInt64, arrow.PrimitiveTypes.Int64
	case model.TypeUint:
		return kindUint64, arrow.PrimitiveTypes.Uint64
	case model.TypeFloat:
		return kindFloat64, arrow.PrimitiveTypes.Float64
	case model.TypeString:
		return kindString, arrow.BinaryTypes.String
	case model.TypeBool:
		return kindBool, arrow.FixedWidthTypes.Boolean
	case model.TypeTime:
		return kindTime, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: ArrowTimeZone}
	case model.TypeText:
		if scale, ok := decimalScale(bt); ok {
			if scale == 0 {
				return kindTextInt, arrow.PrimitiveTypes.Int64
			}
			return kindTextFloat, arrow.PrimitiveTypes.Float64
		}
		return kindString, arrow.BinaryTypes.String
	}
	return kindNull, arrow.Null
}

// decimalType reads DuckDB's "DECIMAL(p,s)".
func decimalType(bt string) (p, s int, ok bool) {
	rest, found := strings.CutPrefix(strings.ToUpper(bt), "DECIMAL(")
	if !found || !strings.HasSuffix(rest, ")") {
		return 0, 0, false
	}
	ps, ss, found := strings.Cut(rest[:len(rest)-1], ",")
	if !found {
		return 0, 0, false
	}
	p, err1 := strconv.Atoi(strings.TrimSpace(ps))
	s, err2 := strconv.Atoi(strings.TrimSpace(ss))
	return p, s, err1 == nil && err2 == nil
}

func decimalScale(bt string) (int, bool) {
	_, s, ok := decimalType(bt)
	return s, ok
}

// kindOfValue types a column the backend left untyped from a value.
func kindOfValue(v model.Value) (colKind, arrow.DataType) {
	return kindOf(model.ResultColumn{Type: v.Type})
}

// newRowsReader reads rows' first batch and returns the reader; rows is
// closed when the reader is released.
func newRowsReader(rows model.Rows) (*rowsReader, error) {
	cols := rows.Columns()
	r := &rowsReader{rows: rows, kinds: make([]colKind, len(cols)), names: make([]string, len(cols)), vals: make([]model.Value, len(cols)), first: true}
	r.refs.Store(1)
	types := make([]arrow.DataType, len(cols))
	for i, c := range cols {
		r.names[i] = c.Name
		r.kinds[i], types[i] = kindOf(c)
	}
	for len(r.pending) < arrowBatchRows && rows.Next(r.vals) {
		r.pending = append(r.pending, append([]model.Value(nil), r.vals...))
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, err
	}
	for i := range r.kinds {
		if r.kinds[i] != kindNull {
			continue
		}
		for _, row := range r.pending {
			if !row[i].IsNull() {
				r.kinds[i], types[i] = kindOfValue(row[i])
				break
			}
		}
	}
	fields := make([]arrow.Field, len(cols))
	for i := range cols {
		// DuckDB marks every exported field nullable.
		fields[i] = arrow.Field{Name: r.names[i], Type: types[i], Nullable: true}
	}
	r.schema = arrow.NewSchema(fields, nil)
	r.b = array.NewRecordBuilder(memory.DefaultAllocator, r.schema)
	return r, nil
}

func (r *rowsReader) Retain() { r.refs.Add(1) }

func (r *rowsReader) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.b.Release()
	r.rows.Close()
}

func (r *rowsReader) Schema() *arrow.Schema          { return r.schema }
func (r *rowsReader) RecordBatch() arrow.RecordBatch { return r.cur }
func (r *rowsReader) Record() arrow.RecordBatch      { return r.cur }
func (r *rowsReader) Err() error                     { return r.err }

func (r *rowsReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.done || r.err != nil {
		return false
	}
	n := 0
	if r.first {
		r.first = false
		for _, row := range r.pending {
			if r.err = r.append(row); r.err != nil {
				return false
			}
		}
		n = len(r.pending)
		r.pending = nil
	}
	for n < arrowBatchRows && r.rows.Next(r.vals) {
		if r.err = r.append(r.vals); r.err != nil {
			return false
		}
		n++
	}
	if n < arrowBatchRows {
		r.done = true
		if r.err = r.rows.Err(); r.err != nil {
			return false
		}
	}
	if n == 0 {
		return false
	}
	r.cur = r.b.NewRecordBatch()
	return true
}

func (r *rowsReader) append(row []model.Value) error {
	for i, v := range row {
		fb := r.b.Field(i)
		if v.IsNull() {
			fb.AppendNull()
			continue
		}
		if err := appendValue(fb, r.kinds[i], v); err != nil {
			return errs.Wrap(errs.Internal, err, fmt.Sprintf("column %q: %v", r.names[i], err))
		}
	}
	return nil
}

// appendValue appends v to a builder of kind k. A value whose model type
// differs from the column's is converted where the conversion is exact
// (an integer in a float column) and refused otherwise.
func appendValue(fb array.Builder, k colKind, v model.Value) error {
	mismatch := func() error { return fmt.Errorf("a %s value in a column of another type", v.Type) }
	switch k {
	case kindInt64, kindInt32, kindInt16, kindInt8:
		if v.Type != model.TypeInt {
			return mismatch()
		}
		appendInteger(fb, v.I)
	case kindUint64, kindUint32, kindUint16, kindUint8:
		if v.Type != model.TypeUint {
			return mismatch()
		}
		appendInteger(fb, v.U)
	case kindFloat64, kindFloat32:
		f := v.F
		switch v.Type {
		case model.TypeFloat:
		case model.TypeInt:
			f = float64(v.I)
		default:
			return mismatch()
		}
		switch b := fb.(type) {
		case *array.Float64Builder:
			b.Append(f)
		case *array.Float32Builder:
			b.Append(float32(f))
		}
	case kindString:
		s, ok := v.Text()
		if !ok {
			return mismatch()
		}
		fb.(*array.StringBuilder).Append(s)
	case kindBool:
		if v.Type != model.TypeBool {
			return mismatch()
		}
		fb.(*array.BooleanBuilder).Append(v.B)
	case kindTime:
		if v.Type != model.TypeTime {
			return mismatch()
		}
		fb.(*array.TimestampBuilder).Append(arrow.Timestamp(v.I))
	case kindDate:
		if v.Type != model.TypeTime {
			return mismatch()
		}
		days := v.I / 86_400_000_000
		if v.I < 0 && v.I%86_400_000_000 != 0 {
			days--
		}
		fb.(*array.Date32Builder).Append(arrow.Date32(days))
	case kindTextInt:
		if v.Type == model.TypeInt {
			fb.(*array.Int64Builder).Append(v.I)
			return nil
		}
		// Arc casts HUGEINT and DECIMAL(p,0) to int64 with a safe cast:
		// a value that does not fit fails the stream.
		n, err := strconv.ParseInt(v.S, 10, 64)
		if err != nil {
			return fmt.Errorf("%s does not fit int64", v.S)
		}
		fb.(*array.Int64Builder).Append(n)
	case kindTextFloat:
		f, err := strconv.ParseFloat(v.S, 64)
		if err != nil {
			return fmt.Errorf("%s is not a decimal", v.S)
		}
		fb.(*array.Float64Builder).Append(f)
	default:
		return mismatch()
	}
	return nil
}

// appendInteger appends x to the integer builder fb, converted to its
// width as Go converts (appendValue has matched the column's kind to x's
// signedness).
func appendInteger[T int64 | uint64](fb array.Builder, x T) {
	switch b := fb.(type) {
	case *array.Int64Builder:
		b.Append(int64(x))
	case *array.Int32Builder:
		b.Append(int32(x))
	case *array.Int16Builder:
		b.Append(int16(x))
	case *array.Int8Builder:
		b.Append(int8(x))
	case *array.Uint64Builder:
		b.Append(uint64(x))
	case *array.Uint32Builder:
		b.Append(uint32(x))
	case *array.Uint16Builder:
		b.Append(uint16(x))
	case *array.Uint8Builder:
		b.Append(uint8(x))
	}
}
