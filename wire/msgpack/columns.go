package msgpack

import (
	"fmt"
	"math"

	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"tsgate/model"
)

// colBuf is one decoded column of a columnar item. Its slices are fresh
// for every item and are handed to the model as they are when the table
// is new, so the common single-map payload copies nothing.
type colBuf struct {
	name  string
	typ   model.FieldType // TypeUnknown while only NULLs were seen
	big   bool            // an integer above MaxInt64 is held in i as its bits
	neg   bool            // a negative integer was seen
	nulls int
	valid []bool
	i     []int64
	f     []float64
	s     []string
	b     []bool
	err   *itemError
}

// columns decodes a "columns" map. Its item error reports the payload's
// shape (duplicate, nil or non-array column, unequal lengths, no columns);
// value-type problems are kept on each column and reported by
// commitColumns.
func (d *decoder) columns() (*itemError, error) {
	n, err := d.mapLen()
	if err != nil {
		return nil, err
	}
	d.cols = d.cols[:0]
	var shape *itemError
	note := func(e *itemError) {
		if shape == nil {
			shape = e
		}
	}
	expected := -1
	for range n {
		var other *itemError
		name, ok, err := d.key(&other, "column")
		if err != nil {
			return nil, err
		}
		if !ok {
			note(other)
			if err := d.skip(); err != nil {
				return nil, err
			}
			continue
		}
		c, err := d.dec.PeekCode()
		if err != nil {
			return nil, err
		}
		if !isArray(c) {
			if c == msgpcode.Nil {
				note(itemErrorf("column '%s' is nil", name))
			} else {
				// Arc silently drops such a column; refuse instead of
				// losing it.
				note(itemErrorf("column '%s' is not an array (got %s)", name, typeName(c)))
			}
			if err := d.skip(); err != nil {
				return nil, err
			}
			continue
		}
		for k := range d.cols {
			if d.cols[k].name == name {
				// Arc keeps the last of two equal keys and loses the
				// first without a word; refuse instead.
				note(itemErrorf("duplicate column '%s'", name))
			}
		}
		rows, err := d.arrayLen()
		if err != nil {
			return nil, err
		}
		if expected < 0 {
			expected = rows
		} else if rows != expected {
			note(itemErrorf("columnar format: array length mismatch (expected %d, got %d for '%s')", expected, rows, name))
		}
		d.cols = append(d.cols, colBuf{name: name})
		cb := &d.cols[len(d.cols)-1]
		if name == "time" {
			err = d.timeColumn(cb, rows)
		} else {
			err = d.valueColumn(cb, rows)
		}
		if err != nil {
			return nil, err
		}
	}
	if len(d.cols) == 0 && shape == nil {
		shape = itemErrorf("columnar format requires non-empty 'columns' dict")
	}
	return shape, nil
}

// timeColumn decodes the time column into cb.i as microseconds. The unit
// is guessed from the first value, as in Arc: below 1e10 seconds, below
// 1e13 milliseconds, below 1e16 microseconds, else nanoseconds. Floats are
// truncated to integers first, as Arc does; NaN, ±Inf and values that
// overflow int64 once scaled are refused rather than wrapped.
func (d *decoder) timeColumn(cb *colBuf, n int) error {
	cb.typ = model.TypeInt
	cb.i = make([]int64, n)
	var unit int64
	for k := 0; k < n; k++ {
		if k, unit = d.fastTimes(cb, k, n, unit); k == n {
			break
		}
		c, err := d.dec.PeekCode()
		if err != nil {
			return err
		}
		if !isInt(c) && !isFloat(c) {
			if err := d.skip(); err != nil {
				return err
			}
			if cb.err == nil {
				if k == 0 {
					cb.err = itemErrorf("failed to normalize timestamps: invalid timestamp type in columnar format: %s", typeName(c))
				} else {
					cb.err = itemErrorf("failed to normalize timestamps: invalid timestamp type at index %d: %s", k, typeName(c))
				}
			}
			continue
		}
		v, ok, err := d.timeValue(c)
		if err != nil {
			return err
		}
		if unit == 0 { // the first value (or the first usable one after an error)
			unit = guessUnit(v)
		}
		if ok {
			v, ok = scale(v, unit)
		}
		if !ok && cb.err == nil {
			cb.err = itemErrorf("failed to normalize timestamps: timestamp out of range at index %d", k)
		}
		cb.i[k] = v
	}
	return nil
}

// timeValue reads an integer or float timestamp as int64; ok is false for
// one that has no int64 value.
func (d *decoder) timeValue(c byte) (int64, bool, error) {
	switch {
	case c == msgpcode.Uint64:
		v, err := d.dec.DecodeUint64()
		return int64(v), v <= math.MaxInt64, err
	case isFloat(c):
		f, err := d.dec.DecodeFloat64()
		if err != nil || math.IsNaN(f) || f >= 0x1p63 || f < -0x1p63 {
			return 0, false, err
		}
		return int64(f), true, nil
	}
	v, err := d.dec.DecodeInt64()
	return v, true, err
}

// Time units, as the divisor or multiplier to microseconds.
const (
	unitS  = 1_000_000
	unitMs = 1_000
	unitUs = 1
	unitNs = -1_000
)

func guessUnit(v int64) int64 {
	switch {
	case v < 1e10:
		return unitS
	case v < 1e13:
		return unitMs
	case v < 1e16:
		return unitUs
	}
	return unitNs
}

// scale converts v to microseconds. Nanoseconds are floored toward −∞ so
// a pre-1970 instant lands in the microsecond containing it.
func scale(v, unit int64) (int64, bool) {
	if unit < 0 {
		q := v / -unit
		if v%-unit < 0 {
			q--
		}
		return q, true
	}
	if v > math.MaxInt64/unit || v < math.MinInt64/unit {
		return 0, false
	}
	return v * unit, true
}

// rowMicros converts a row-form "t", guessing its unit alone.
func rowMicros(v int64) (int64, bool) { return scale(v, guessUnit(v)) }

// valueColumn decodes a field column. Its type comes from its values:
// integers make an int64 column; integers that are all non-negative with
// one above MaxInt64 make a uint64 column; a float among integers widens
// the column to float64, which is refused if an integer would lose
// precision; strings and bools may not mix with anything else. A column
// of nothing but nils is a string column of NULLs, as in Arc (so the
// column exists and queries naming it bind).
func (d *decoder) valueColumn(cb *colBuf, n int) error {
	cb.valid = make([]bool, n)
	for k := 0; k < n; k++ {
		if k = d.fastValues(cb, k, n); k == n {
			break
		}
		c, err := d.dec.PeekCode()
		if err != nil {
			return err
		}
		switch {
		case c == msgpcode.Nil:
			if err := d.dec.DecodeNil(); err != nil {
				return err
			}
			cb.nulls++
			continue
		case c == msgpcode.Uint64:
			v, err := d.dec.DecodeUint64()
			if err != nil {
				return err
			}
			d.putInt(cb, c, k, n, int64(v), v > math.MaxInt64)
		case isInt(c):
			v, err := d.dec.DecodeInt64()
			if err != nil {
				return err
			}
			d.putInt(cb, c, k, n, v, false)
		case isFloat(c):
			v, err := d.dec.DecodeFloat64()
			if err != nil {
				return err
			}
			d.putFloat(cb, c, k, n, v)
		case msgpcode.IsString(c):
			s, err := d.str()
			if err != nil {
				return err
			}
			if !put(cb, &cb.s, model.TypeString, c, n, k, s) {
				continue
			}
		case c == msgpcode.True || c == msgpcode.False:
			v, err := d.dec.DecodeBool()
			if err != nil {
				return err
			}
			if !put(cb, &cb.b, model.TypeBool, c, n, k, v) {
				continue
			}
		default:
			// bin, ext, nested array or map: no column type holds them.
			if err := d.skip(); err != nil {
				return err
			}
			if cb.typ == model.TypeUnknown {
				if cb.err == nil {
					cb.err = itemErrorf("unsupported column type for '%s': %s", cb.name, typeName(c))
				}
			} else {
				cb.mismatch(c)
			}
			continue
		}
		cb.valid[k] = true
	}
	return nil
}

// settle gives a column that has no type yet (only nulls so far) type t
// and its n values' slice, the first value of that type deciding.
func settle[T any](cb *colBuf, values *[]T, t model.FieldType, n int) {
	if cb.typ == model.TypeUnknown {
		cb.typ = t
		*values = make([]T, n)
	}
}

// put stores v, of code c, at row k of a string or bool column (settling
// an untyped one); a column of another type notes the mismatch instead
// and put reports false.
func put[T any](cb *colBuf, values *[]T, t model.FieldType, c byte, n, k int, v T) bool {
	settle(cb, values, t, n)
	if cb.typ != t {
		cb.mismatch(c)
		return false
	}
	(*values)[k] = v
	return true
}

// mismatch notes a value whose type the column cannot hold, in Arc's words.
func (cb *colBuf) mismatch(c byte) {
	if cb.err != nil {
		return
	}
	switch cb.typ {
	case model.TypeInt:
		cb.err = itemErrorf("cannot convert %s to int64 in column '%s'", typeName(c), cb.name)
	case model.TypeFloat:
		cb.err = itemErrorf("cannot convert %s to float64 in column '%s'", typeName(c), cb.name)
	case model.TypeString:
		cb.err = itemErrorf("unexpected type in string column '%s': %s", cb.name, typeName(c))
	case model.TypeBool:
		cb.err = itemErrorf("unexpected type in bool column '%s': %s", cb.name, typeName(c))
	}
}

// putInt stores integer v (the bits of a uint64 when big) at row k.
func (d *decoder) putInt(cb *colBuf, c byte, k, n int, v int64, big bool) {
	switch cb.typ {
	case model.TypeUnknown:
		cb.typ = model.TypeInt
		cb.i = make([]int64, n)
	case model.TypeFloat:
		f, ok := exactFloat(v, big)
		if !ok && cb.err == nil {
			cb.err = itemErrorf("column '%s': integer %s cannot be stored exactly in a float column", cb.name, intString(v, big))
		}
		cb.f[k] = f
		return
	case model.TypeInt:
	default:
		cb.mismatch(c)
		return
	}
	cb.i[k] = v
	cb.big = cb.big || big
	cb.neg = cb.neg || (!big && v < 0)
	if cb.big && cb.neg && cb.err == nil {
		cb.err = itemErrorf("column '%s' mixes negative integers with integers above 9223372036854775807", cb.name)
	}
}

// putFloat stores float v at row k, widening an integer column.
func (d *decoder) putFloat(cb *colBuf, c byte, k, n int, v float64) {
	switch cb.typ {
	case model.TypeUnknown:
		cb.typ = model.TypeFloat
		cb.f = make([]float64, n)
	case model.TypeInt:
		// Widen: every integer so far must survive as a float64.
		cb.f = make([]float64, n)
		for j := range k {
			if !cb.valid[j] {
				continue
			}
			big := cb.big && cb.i[j] < 0
			f, ok := exactFloat(cb.i[j], big)
			if !ok && cb.err == nil {
				cb.err = itemErrorf("column '%s': integer %s cannot be stored exactly in a float column", cb.name, intString(cb.i[j], big))
			}
			cb.f[j] = f
		}
		cb.typ, cb.i = model.TypeFloat, nil
	case model.TypeFloat:
	default:
		cb.mismatch(c)
		return
	}
	cb.f[k] = v
}

// exactFloat converts an integer (a uint64's bits when big) to float64
// and reports whether it round-trips, i.e. whether widening is lossless.
func exactFloat(v int64, big bool) (float64, bool) {
	if big {
		u := uint64(v)
		f := float64(u)
		return f, f < 0x1p64 && uint64(f) == u
	}
	f := float64(v)
	return f, f < 0x1p63 && int64(f) == v
}

func intString(v int64, big bool) string {
	if big {
		return fmt.Sprint(uint64(v))
	}
	return fmt.Sprint(v)
}

// commitColumns appends a decoded columnar item to its table.
func (d *decoder) commitColumns(meas string) *itemError {
	rows := -1
	var times []int64
	for k := range d.cols {
		cb := &d.cols[k]
		if rows < 0 {
			rows = max(len(cb.valid), len(cb.i))
		}
		if cb.name == "time" {
			if cb.err != nil {
				return cb.err
			}
			times = cb.i
		}
	}
	for k := range d.cols {
		if cb := &d.cols[k]; cb.err != nil {
			return cb.err
		}
	}
	if !model.ValidMeasurement(meas) {
		d.badName(meas)
		return nil
	}
	if rows <= 0 {
		return nil // nothing to store; Arc accepts it too
	}
	if times == nil {
		times = make([]int64, rows)
		for k := range times {
			times[k] = d.now
		}
	}
	for k := range d.cols {
		d.cols[k].finish()
	}

	t := d.tables[meas]
	if t != nil {
		// Check against the existing table first, so a refused item leaves
		// it untouched.
		slow := false
		for k := range d.cols {
			cb := &d.cols[k]
			if cb.name == "time" {
				continue
			}
			col := t.Column(cb.name)
			if col == nil || cb.typ == model.TypeUnknown {
				continue
			}
			if col.Tag {
				return itemErrorf("column '%s' on measurement '%s' conflicts with a tag of the same name", cb.name, meas)
			}
			if col.Type != cb.typ {
				slow = true
			}
		}
		if slow {
			// A type differing from an earlier item's: let AppendRow keep
			// it in a column of its own type, for Table.Resolve to settle
			// against the stored schema. Rare, so row by row is fine.
			return d.appendRows(t, times, rows)
		}
	} else {
		t = d.table(meas)
	}

	n0 := t.Len()
	for k := range d.cols {
		cb := &d.cols[k]
		if cb.name == "time" {
			continue
		}
		col := t.Column(cb.name)
		if col == nil {
			typ := cb.typ
			if typ == model.TypeUnknown {
				typ = model.TypeString // all nils: Arc's NULL string column
			}
			var err error
			if col, err = t.AddColumn(cb.name, false, typ); err != nil {
				return &itemError{msg: err.Error()} // unreachable: names are checked
			}
		}
		if n0 == 0 && col.Len() == 0 && cb.typ != model.TypeUnknown {
			// A fresh column of a fresh table: hand the slices over.
			us := cb.u() // clears cb.i for a uint column
			col.Valid, col.F, col.I, col.U, col.S, col.B = cb.valid, cb.f, cb.i, us, cb.s, cb.b
			continue
		}
		appendCol(col, cb, rows)
	}
	t.Time = append(t.Time, times...)
	// Columns the item did not mention are NULL for its rows.
	for _, col := range t.Columns {
		if col.Len() < n0+rows {
			padNull(col, n0+rows-col.Len())
		}
	}
	return nil
}

// appendRows appends the item row by row through Table.AppendRow.
func (d *decoder) appendRows(t *model.Table, times []int64, rows int) *itemError {
	cells := make([]model.Cell, 0, len(d.cols))
	for r := range rows {
		cells = cells[:0]
		for k := range d.cols {
			cb := &d.cols[k]
			if cb.name != "time" {
				cells = append(cells, model.Cell{Name: cb.name, Value: cb.at(r)})
			}
		}
		if err := t.AppendRow(times[r], cells); err != nil {
			return &itemError{msg: err.Error()} // unreachable: names are checked
		}
	}
	return nil
}

// at is row r of a finished column as a Value.
func (cb *colBuf) at(r int) model.Value {
	if !cb.valid[r] {
		return model.Value{}
	}
	switch cb.typ {
	case model.TypeFloat:
		return model.Float(cb.f[r])
	case model.TypeInt:
		return model.Int(cb.i[r])
	case model.TypeUint:
		return model.Uint(uint64(cb.i[r]))
	case model.TypeString:
		return model.String(cb.s[r])
	case model.TypeBool:
		return model.Bool(cb.b[r])
	}
	return model.Value{}
}

// finish turns a column of big integers into its uint64 form.
func (cb *colBuf) finish() {
	if cb.typ == model.TypeInt && cb.big {
		cb.typ = model.TypeUint
	}
}

// u is the uint64 view of a uint column (the same bits as i).
func (cb *colBuf) u() []uint64 {
	if cb.typ != model.TypeUint {
		return nil
	}
	out := make([]uint64, len(cb.i))
	for k, v := range cb.i {
		out[k] = uint64(v)
	}
	cb.i = nil
	return out
}

// appendCol appends cb's rows to an existing column of the same type (or
// NULLs, for an all-nil cb).
func appendCol(col *model.Column, cb *colBuf, rows int) {
	if cb.typ == model.TypeUnknown {
		padNull(col, rows)
		return
	}
	col.Valid = append(col.Valid, cb.valid...)
	switch col.Type {
	case model.TypeFloat:
		col.F = append(col.F, cb.f...)
	case model.TypeInt:
		col.I = append(col.I, cb.i...)
	case model.TypeUint:
		col.U = append(col.U, cb.u()...)
	case model.TypeString:
		col.S = append(col.S, cb.s...)
	case model.TypeBool:
		col.B = append(col.B, cb.b...)
	}
}

// padNull appends n NULL cells.
func padNull(col *model.Column, n int) {
	for range n {
		col.Valid = append(col.Valid, false)
		switch col.Type {
		case model.TypeFloat:
			col.F = append(col.F, 0)
		case model.TypeInt:
			col.I = append(col.I, 0)
		case model.TypeUint:
			col.U = append(col.U, 0)
		case model.TypeString:
			col.S = append(col.S, "")
		case model.TypeBool:
			col.B = append(col.B, false)
		}
	}
}
