package model

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
)

// FieldType is the storage type of a written column. The set is Arc's: tags
// are strings, fields are float64, int64, uint64, string or bool.
type FieldType uint8

const (
	TypeUnknown FieldType = iota
	TypeFloat
	TypeInt
	TypeUint
	TypeString
	TypeBool
	// TypeTime appears only in query results: I holds microseconds since
	// the Unix epoch, UTC.
	TypeTime
	// TypeText appears only in query results: a value of a type tsgate does
	// not model (decimal, list, struct, interval…) rendered as text in S,
	// the way Arc's JSON renders it.
	TypeText
)

var fieldTypeNames = [...]string{"unknown", "float", "integer", "unsigned", "string", "boolean", "timestamp", "text"}

// String uses InfluxDB's names, which clients see in type-conflict errors.
func (t FieldType) String() string {
	if int(t) < len(fieldTypeNames) {
		return fieldTypeNames[t]
	}
	return "unknown"
}

// FieldTypeNamed is the field type InfluxDB calls name (String's name for
// it): float, integer, unsigned, string or boolean. Other names, those of
// the result-only types included, are not a field's type.
func FieldTypeNamed(name string) (FieldType, bool) {
	for t := TypeFloat; t <= TypeBool; t++ {
		if fieldTypeNames[t] == name {
			return t, true
		}
	}
	return TypeUnknown, false
}

// Value is one typed cell. It is a plain struct, not an interface, so a
// row of values costs no allocation beyond its strings.
type Value struct {
	Type FieldType // TypeUnknown means NULL
	F    float64
	I    int64
	U    uint64
	S    string
	B    bool
}

func Float(f float64) Value  { return Value{Type: TypeFloat, F: f} }
func Int(i int64) Value      { return Value{Type: TypeInt, I: i} }
func Uint(u uint64) Value    { return Value{Type: TypeUint, U: u} }
func String(s string) Value  { return Value{Type: TypeString, S: s} }
func Bool(b bool) Value      { return Value{Type: TypeBool, B: b} }
func Time(us int64) Value    { return Value{Type: TypeTime, I: us} }
func (v Value) IsNull() bool { return v.Type == TypeUnknown }

// IsNumber reports whether v is an integer, unsigned or float.
func (v Value) IsNumber() bool { return v.Type == TypeInt || v.Type == TypeUint || v.Type == TypeFloat }

// AsFloat is a number as float64, integers converted (F for any other
// type: check IsNumber first).
func (v Value) AsFloat() float64 {
	switch v.Type {
	case TypeInt:
		return float64(v.I)
	case TypeUint:
		return float64(v.U)
	}
	return v.F
}

// Text is v as text where v has a plain text form: strings as they are,
// numbers in Go's shortest form ('g' for floats), booleans as true/false.
// NULL and times have none (ok false): how a time prints is the caller's
// choice.
func (v Value) Text() (s string, ok bool) {
	switch v.Type {
	case TypeString, TypeText:
		return v.S, true
	case TypeInt:
		return strconv.FormatInt(v.I, 10), true
	case TypeUint:
		return strconv.FormatUint(v.U, 10), true
	case TypeFloat:
		return strconv.FormatFloat(v.F, 'g', -1, 64), true
	case TypeBool:
		return strconv.FormatBool(v.B), true
	}
	return "", false
}

// Column is one named column of a Table: a tag (always string) or a field.
// Cells are stored in the typed slice matching Type; Valid marks the rows
// that have a value (a sparse column from line protocol, or a nil hole in
// a msgpack column).
type Column struct {
	Name  string
	Tag   bool
	Type  FieldType
	Valid []bool
	F     []float64
	I     []int64
	U     []uint64
	S     []string
	B     []bool
}

// Len is the number of rows the column holds.
func (c *Column) Len() int { return len(c.Valid) }

// At returns row i as a Value (NULL when not valid).
func (c *Column) At(i int) Value {
	if !c.Valid[i] {
		return Value{}
	}
	switch c.Type {
	case TypeFloat:
		return Value{Type: TypeFloat, F: c.F[i]}
	case TypeInt:
		return Value{Type: TypeInt, I: c.I[i]}
	case TypeUint:
		return Value{Type: TypeUint, U: c.U[i]}
	case TypeString:
		return Value{Type: TypeString, S: c.S[i]}
	case TypeBool:
		return Value{Type: TypeBool, B: c.B[i]}
	}
	return Value{}
}

// append adds v (or a NULL when v is NULL) as the column's next row.
// The caller has checked that v's type matches.
func (c *Column) append(v Value) {
	ok := !v.IsNull()
	c.Valid = append(c.Valid, ok)
	switch c.Type {
	case TypeFloat:
		c.F = append(c.F, v.F)
	case TypeInt:
		c.I = append(c.I, v.I)
	case TypeUint:
		c.U = append(c.U, v.U)
	case TypeString:
		c.S = append(c.S, v.S)
	case TypeBool:
		c.B = append(c.B, v.B)
	}
}

// truncate drops rows from n on; used to roll back a rejected row.
func (c *Column) truncate(n int) {
	c.Valid = c.Valid[:n]
	switch c.Type {
	case TypeFloat:
		c.F = c.F[:n]
	case TypeInt:
		c.I = c.I[:n]
	case TypeUint:
		c.U = c.U[:n]
	case TypeString:
		c.S = c.S[:n]
	case TypeBool:
		c.B = c.B[:n]
	}
}

// Table is the rows of one measurement in a Batch, held column by column.
// Time is microseconds since the Unix epoch, UTC: Arc's storage precision.
//
// A name normally has one column. When rows of one batch disagree about a
// field's type (v=1i on one line, v=1.5 on the next) the table keeps one
// column per type, so no row is judged before the backend's stored schema
// is known; Resolve then picks the winning type and rejects the rest.
type Table struct {
	Measurement string
	Time        []int64
	Columns     []*Column
	index       map[string]int // name → its first column
	variants    bool           // some name has columns of several types
	// hint is, per cell position, the column AppendRow put that cell in
	// last time: rows of one shape (a decoder's, a backfill's) then find
	// their columns without a map look-up per cell.
	hint []int
}

// Len is the table's row count.
func (t *Table) Len() int { return len(t.Time) }

// Column returns the named column (the first one, if types diverged), or
// nil; a nil table (a measurement the batch has no rows of yet) has none.
func (t *Table) Column(name string) *Column {
	if t == nil {
		return nil
	}
	if i, ok := t.index[name]; ok {
		return t.Columns[i]
	}
	return nil
}

func (t *Table) typedColumn(name string, typ FieldType) *Column {
	c := t.Column(name)
	if c == nil || c.Type == typ || !t.variants {
		if c != nil && c.Type != typ {
			return nil
		}
		return c
	}
	for _, c := range t.Columns {
		if c.Name == name && c.Type == typ {
			return c
		}
	}
	return nil
}

// AddColumn adds an empty-so-far column, padded with NULLs to the table's
// current length, and returns it. Adding an existing name is an error.
func (t *Table) AddColumn(name string, tag bool, typ FieldType) (*Column, error) {
	if _, ok := t.index[name]; ok {
		return nil, fmt.Errorf("duplicate column %q", name)
	}
	return t.addColumn(name, tag, typ)
}

func (t *Table) addColumn(name string, tag bool, typ FieldType) (*Column, error) {
	if name == "time" {
		return nil, fmt.Errorf("column name %q is reserved", name)
	}
	c := &Column{Name: name, Tag: tag, Type: typ}
	for range t.Len() {
		c.append(Value{})
	}
	if t.index == nil {
		t.index = make(map[string]int)
	}
	if _, ok := t.index[name]; ok {
		t.variants = true
	} else {
		t.index[name] = len(t.Columns)
	}
	t.Columns = append(t.Columns, c)
	return c, nil
}

// Cell is one named value of a row handed to AppendRow.
type Cell struct {
	Name  string
	Tag   bool
	Value Value
}

// TypeConflict says a row's value does not have its column's type.
type TypeConflict struct {
	Measurement string
	Field       string
	Got, Want   FieldType
}

func (e *TypeConflict) Error() string {
	return fmt.Sprintf("field type conflict: input field %q on measurement %q is type %s, already exists as type %s",
		e.Field, e.Measurement, e.Got, e.Want)
}

// AppendRow adds one row. Columns absent from cells get NULL. A value
// whose type differs from its column's goes to a column of its own type
// (see Table); Resolve settles it. If a name appears twice in cells the
// first wins, as in InfluxDB's line protocol. A tag and a field may not
// share a name: callers rename the field (Arc's `<name>_value`) first.
func (t *Table) AppendRow(timeMicros int64, cells []Cell) error {
	n := t.Len()
	added := len(t.Columns)
	for i := range cells {
		c := &cells[i]
		if c.Value.IsNull() {
			continue
		}
		var col *Column
		if i < len(t.hint) {
			if h := t.hint[i]; h < len(t.Columns) && t.Columns[h].Name == c.Name && t.Columns[h].Type == c.Value.Type {
				col = t.Columns[h]
			}
		}
		if col == nil {
			col = t.typedColumn(c.Name, c.Value.Type)
			if col == nil {
				var err error
				if col, err = t.addColumn(c.Name, c.Tag, c.Value.Type); err != nil {
					t.rollback(n, added)
					return err
				}
			}
			t.setHint(i, col)
		}
		if col.Len() > n {
			continue
		}
		col.append(c.Value)
	}
	t.Time = append(t.Time, timeMicros)
	for _, col := range t.Columns {
		if col.Len() == n {
			col.append(Value{})
		}
	}
	return nil
}

func (t *Table) setHint(i int, col *Column) {
	for len(t.hint) <= i {
		t.hint = append(t.hint, len(t.Columns)) // out of range: no hint
	}
	t.hint[i] = slices.Index(t.Columns, col)
	if t.hint[i] < 0 {
		t.hint[i] = len(t.Columns)
	}
}

func (t *Table) rollback(n, cols int) {
	for _, c := range t.Columns[cols:] {
		if i, ok := t.index[c.Name]; ok && i >= cols {
			delete(t.index, c.Name)
		}
	}
	t.Columns = t.Columns[:cols]
	for _, c := range t.Columns {
		c.truncate(n)
	}
	t.Time = t.Time[:n]
}

// Resolve settles each column's type: the stored type when stored knows
// the name, else the type the batch saw first. Rows carrying a value of
// another type are rejected with a TypeConflict (one per field, counting
// its rows); every other row is kept. It returns t itself when nothing
// conflicts.
func (t *Table) Resolve(stored func(name string) (FieldType, bool)) (kept *Table, rejected int, conflicts []error) {
	var drop []bool
	var losers map[*Column]bool
	for _, c := range t.Columns {
		want, ok := stored(c.Name)
		if !ok {
			want = t.Column(c.Name).Type
		}
		if c.Type == want {
			continue
		}
		if losers == nil {
			losers = map[*Column]bool{}
			drop = make([]bool, t.Len())
		}
		losers[c] = true
		n := 0
		for i, v := range c.Valid {
			if v {
				if !drop[i] {
					rejected++
				}
				drop[i] = true
				n++
			}
		}
		if n > 0 {
			conflicts = append(conflicts, fmt.Errorf("%w dropped=%d",
				&TypeConflict{Measurement: t.Measurement, Field: c.Name, Got: c.Type, Want: want}, n))
		}
	}
	if losers == nil {
		return t, 0, nil
	}
	kept = &Table{Measurement: t.Measurement}
	// Create the surviving columns first, in the original order, so a
	// column whose every row was dropped still has its DDL.
	for _, c := range t.Columns {
		if !losers[c] {
			if _, err := kept.addColumn(c.Name, c.Tag, c.Type); err != nil {
				panic(err) // names came from a valid table
			}
		}
	}
	cells := make([]Cell, 0, len(t.Columns))
	for i := range t.Len() {
		if drop[i] {
			continue
		}
		cells = cells[:0]
		for _, c := range t.Columns {
			if !losers[c] {
				cells = append(cells, Cell{Name: c.Name, Tag: c.Tag, Value: c.At(i)})
			}
		}
		// Cannot fail: one column per name remains.
		_ = kept.AppendRow(t.Time[i], cells)
	}
	return kept, rejected, conflicts
}

// Validate checks the invariants a decoder that builds columns directly
// must keep: every column as long as Time, typed slices matching Type.
func (t *Table) Validate() error {
	n := t.Len()
	for _, c := range t.Columns {
		if c.Len() != n {
			return fmt.Errorf("column %q has %d rows, expected %d", c.Name, c.Len(), n)
		}
		var m int
		switch c.Type {
		case TypeFloat:
			m = len(c.F)
		case TypeInt:
			m = len(c.I)
		case TypeUint:
			m = len(c.U)
		case TypeString:
			m = len(c.S)
		case TypeBool:
			m = len(c.B)
		default:
			return fmt.Errorf("column %q has no type", c.Name)
		}
		if m != n {
			return fmt.Errorf("column %q has %d values, expected %d", c.Name, m, n)
		}
	}
	return nil
}

// Batch is what one write request decoded to: tables by measurement, in
// first-seen order.
type Batch struct {
	Tables []*Table
	index  map[string]int
	// Dropped counts input rows a decoder rejected (malformed lines, type
	// conflicts); Errors keeps the first few reasons for the response.
	Dropped int
	Errors  []error
}

// Table returns the table for measurement, creating it.
func (b *Batch) Table(measurement string) *Table {
	if i, ok := b.index[measurement]; ok {
		return b.Tables[i]
	}
	if b.index == nil {
		b.index = make(map[string]int)
	}
	t := &Table{Measurement: measurement}
	b.index[measurement] = len(b.Tables)
	b.Tables = append(b.Tables, t)
	return t
}

// Rows is the total row count.
func (b *Batch) Rows() int {
	n := 0
	for _, t := range b.Tables {
		n += t.Len()
	}
	return n
}

// Reject records a dropped input row and why.
func (b *Batch) Reject(err error) {
	b.Dropped++
	if len(b.Errors) < 10 {
		b.Errors = append(b.Errors, err)
	}
}

// SortedColumnNames lists a table's columns by name; writers use it for
// a stable DDL order.
func (t *Table) SortedColumnNames() []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	sort.Strings(names)
	return names
}

// WriteResult reports what a backend kept of a batch and what it rejected.
type WriteResult struct {
	Rows     int
	Rejected int
	// Conflicts are the type conflicts that cost rows, first few only.
	Conflicts []error
}

// DedupeCells keeps one cell per name, the last value winning at the
// position of the first occurrence — what Arc's per-line maps do with a
// repeated key — working in place. seen is scratch space reused across
// calls (allocated on first need); short rows never touch it.
func DedupeCells(cells []Cell, seen *map[string]int) []Cell {
	out := cells[:0]
	if len(cells) <= 16 {
	next:
		for _, c := range cells {
			for j := range out {
				if out[j].Name == c.Name {
					out[j] = c
					continue next
				}
			}
			out = append(out, c)
		}
		return out
	}
	if *seen == nil {
		*seen = make(map[string]int)
	}
	m := *seen
	clear(m)
	for _, c := range cells {
		if j, ok := m[c.Name]; ok {
			out[j] = c
			continue
		}
		m[c.Name] = len(out)
		out = append(out, c)
	}
	return out
}
