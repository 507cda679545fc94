package msgpack

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"tsgate/errs"
	"tsgate/model"
	"tsgate/wire/body"
)

const prefix = "Invalid MessagePack payload: "

// Decode decodes one msgpack write payload into b. now stamps rows that
// carry no time. The error, always an *errs.Error, rejects the whole
// payload; after an error b must be discarded.
func Decode(data []byte, now time.Time, b *model.Batch) error {
	return decode(data, now, b, false)
}

// decode is Decode; general turns the fast paths off, so tests can check
// that both ways read every payload alike.
func decode(data []byte, now time.Time, b *model.Batch, general bool) error {
	if len(data) == 0 {
		return errs.New(errs.Invalid, "Empty payload")
	}
	r := bytes.NewReader(data)
	d := &decoder{
		data:    data,
		general: general,
		r:       r,
		dec:     msgpack.NewDecoder(r), // r is a ByteScanner: no extra buffering
		now:     now.UnixMicro(),
		b:       b,
		tables:  make(map[string]*model.Table),
		strs:    make(map[string]string),
	}
	err := d.payload()
	if err == nil && r.Len() > 0 {
		// Arc ignores bytes after the first value; a second concatenated
		// payload would be lost without a word, so refuse it.
		err = fmt.Errorf("%d unexpected bytes after the payload", r.Len())
	}
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) {
			return e
		}
		return errs.Wrap(errs.Invalid, err, prefix+"failed to unmarshal msgpack: "+err.Error())
	}
	if d.nameErr != nil {
		return d.nameErr
	}
	for _, t := range d.touched {
		if err := t.Validate(); err != nil {
			return errs.Wrap(errs.Internal, err, "msgpack decoder built an invalid table: "+err.Error())
		}
	}
	return nil
}

// itemError is a problem with one item's content, as opposed to a
// malformed encoding: it drops the item (or the payload, for a top-level
// map) but decoding goes on.
type itemError struct{ msg string }

func (e *itemError) Error() string { return e.msg }

func itemErrorf(format string, args ...any) *itemError {
	return &itemError{msg: fmt.Sprintf(format, args...)}
}

type decoder struct {
	// data is the payload r reads; the fast paths (fast.go) read it
	// directly and move r's position.
	data    []byte
	general bool
	r       *bytes.Reader
	dec     *msgpack.Decoder
	now     int64
	b       *model.Batch

	tables  map[string]*model.Table
	touched []*model.Table
	// nameErr is Arc's whole-request error for an invalid measurement
	// name; it is reported only if the payload is otherwise well-formed,
	// as Arc validates names after decoding.
	nameErr *errs.Error

	// strs interns short strings (keys, repeated tag-like values): one
	// allocation per distinct string rather than per occurrence.
	strs    map[string]string
	scratch []byte

	// per-item state, reset by object()
	cols     []colBuf
	fields   []model.Cell
	tags     []model.Cell
	seen     map[string]int
	lineTags model.TagIndex
}

// payload decodes the top-level value.
func (d *decoder) payload() error {
	c, err := d.dec.PeekCode()
	if err != nil {
		return err
	}
	switch {
	case isMap(c):
		ierr, err := d.object(true)
		if err != nil {
			return err
		}
		if ierr != nil {
			return errs.Wrap(errs.Invalid, ierr, prefix+ierr.msg)
		}
		return nil
	case isArray(c):
		return d.items()
	}
	if err := d.skip(); err != nil {
		return err
	}
	return errs.New(errs.Invalid, prefix+"unsupported msgpack payload type: "+typeName(c))
}

// items decodes an array of maps (a top-level array or a batch). An item
// with bad content is dropped and recorded; if every item is dropped the
// payload is refused with the first reason, rather than answering 204 for
// a write that stored nothing (Arc's behaviour).
func (d *decoder) items() error {
	n, err := d.arrayLen()
	if err != nil {
		return err
	}
	var first *itemError
	kept := 0
	for k := range n {
		c, err := d.dec.PeekCode()
		if err != nil {
			return err
		}
		var ierr *itemError
		if isMap(c) {
			if ierr, err = d.object(false); err != nil {
				return err
			}
		} else {
			if err := d.skip(); err != nil {
				return err
			}
			ierr = itemErrorf("item %d: unsupported item type: %s", k, typeName(c))
		}
		if ierr == nil {
			kept++
			continue
		}
		if first == nil {
			first = ierr
		}
		d.b.Reject(errs.Wrap(errs.Invalid, ierr, prefix+ierr.msg))
	}
	if kept == 0 && first != nil {
		return errs.Wrap(errs.Invalid, first, prefix+first.msg)
	}
	return nil
}

// object decodes one map: a columnar or row item, or (top level only) a
// {"batch": […]} wrapper.
func (d *decoder) object(top bool) (*itemError, error) {
	n, err := d.mapLen()
	if err != nil {
		return nil, err
	}
	var (
		meas                 string
		haveM, haveT, haveH  bool
		mErr, tErr, shapeErr *itemError
		ts                   int64
		host                 string
		haveColumns          bool
		haveFields, haveF    bool
		batchDone            bool
		other, nested        *itemError
	)
	d.cols = d.cols[:0]
	d.fields = d.fields[:0]
	d.tags = d.tags[:0]
	for range n {
		c, err := d.dec.PeekCode()
		if err != nil {
			return nil, err
		}
		if !msgpcode.IsString(c) {
			if err := d.skip(); err != nil {
				return nil, err
			}
			if err := d.skip(); err != nil {
				return nil, err
			}
			if other == nil {
				other = itemErrorf("map key of type %s: keys must be strings", typeName(c))
			}
			continue
		}
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		vc, err := d.dec.PeekCode()
		if err != nil {
			return nil, err
		}
		switch key {
		case "m":
			haveM, mErr = false, nil
			switch {
			case vc == msgpcode.Nil:
				err = d.dec.DecodeNil()
			case isName(vc):
				meas, err = d.name(vc, "measurement_")
				haveM = true
			default:
				mErr = itemErrorf("invalid measurement type: %s", typeName(vc))
				err = d.skip()
			}
		case "t":
			haveT, tErr = false, nil
			switch {
			case vc == msgpcode.Nil:
				err = d.dec.DecodeNil()
			case isInt(vc) || isFloat(vc):
				var v int64
				var ok bool
				v, ok, err = d.timeValue(vc)
				if err == nil {
					if ok {
						ts, ok = rowMicros(v)
					}
					if !ok {
						tErr = itemErrorf("timestamp out of range")
					}
					haveT = true
				}
			default:
				tErr = itemErrorf("invalid timestamp type: %s", typeName(vc))
				err = d.skip()
			}
		case "h":
			haveH = false
			switch {
			case vc == msgpcode.Nil:
				err = d.dec.DecodeNil()
			case isName(vc):
				host, err = d.name(vc, "host_")
				haveH = true
			default:
				// Arc: any other host type is "unknown".
				host, haveH = "unknown", true
				err = d.skip()
			}
		case "fields":
			if isMap(vc) {
				haveFields = true
				d.fields = d.fields[:0]
				err = d.rowFields(&other)
			} else {
				err = d.skip() // Arc ignores a non-map "fields"
			}
		case "f":
			switch {
			case vc == msgpcode.Nil:
				err = d.dec.DecodeNil()
			case isArray(vc):
				haveF = true
				err = d.compactFields(&other)
			default:
				// Arc accepts it and warns; the row then has no fields.
				haveF = true
				err = d.skip()
			}
		case "tags":
			if isMap(vc) {
				d.tags = d.tags[:0]
				err = d.rowTags(&other)
			} else {
				err = d.skip()
			}
		case "columns":
			if isMap(vc) {
				haveColumns = true
				shapeErr, err = d.columns()
			} else {
				err = d.skip() // Arc ignores a non-map "columns": row form
			}
		case "batch":
			switch {
			case !isArray(vc):
				err = d.skip() // Arc ignores a non-array batch
			case !top:
				// Arc would hand a nested batch to its writer as an
				// unknown record type and fail the request; refuse the
				// item instead.
				nested = itemErrorf("nested batch is not supported")
				err = d.skip()
			default:
				batchDone = true
				err = d.items()
			}
		default:
			err = d.skip()
		}
		if err != nil {
			return nil, err
		}
	}
	if batchDone {
		// Arc: a batch wrapper takes precedence over anything beside it.
		return nil, nil
	}
	if nested != nil {
		return nested, nil
	}
	if mErr != nil {
		return mErr, nil
	}
	if !haveM {
		return itemErrorf("missing required field 'm' (measurement)"), nil
	}
	if haveColumns {
		if shapeErr != nil {
			return shapeErr, nil
		}
		if other != nil {
			return other, nil
		}
		return d.commitColumns(meas), nil
	}
	if tErr != nil {
		return tErr, nil
	}
	if !haveFields && !haveF {
		return itemErrorf("missing required field 'fields' or 'f'"), nil
	}
	if other != nil {
		return other, nil
	}
	if !haveT {
		ts = d.now
	}
	return d.commitRow(meas, ts, host, haveH), nil
}

// ---- row form ----

// rowFields decodes a "fields" map into d.fields.
func (d *decoder) rowFields(other **itemError) error {
	return d.scalarMap(other, "field", func(name string, v model.Value) {
		d.fields = append(d.fields, model.Cell{Name: name, Value: v})
	})
}

// scalarMap decodes a map of scalars (the row form's fields or tags,
// kind saying which), calling each for every entry with a usable key and
// value; the first unusable one is recorded in other.
func (d *decoder) scalarMap(other **itemError, kind string, each func(name string, v model.Value)) error {
	n, err := d.mapLen()
	if err != nil {
		return err
	}
	for range n {
		name, ok, err := d.key(other, kind)
		if err != nil {
			return err
		}
		v, ierr, err := d.scalar()
		if err != nil {
			return err
		}
		if !ok || unsupported(other, kind, name, ierr) {
			continue
		}
		each(name, v)
	}
	return nil
}

// unsupported records the first value of an unsupported type (the item
// is then refused with that reason) and reports whether v must be skipped.
func unsupported(other **itemError, kind, name string, ierr *itemError) bool {
	if ierr == nil {
		return false
	}
	if *other == nil {
		*other = itemErrorf("unsupported type for %s '%s': %s", kind, name, ierr.msg)
	}
	return true
}

// compactFields decodes Arc's compact "f": [v0, v1, …] as field_0, field_1….
func (d *decoder) compactFields(other **itemError) error {
	n, err := d.arrayLen()
	if err != nil {
		return err
	}
	d.fields = d.fields[:0]
	for k := range n {
		v, ierr, err := d.scalar()
		if err != nil {
			return err
		}
		name := "field_" + strconv.Itoa(k)
		if unsupported(other, "field", name, ierr) {
			continue
		}
		d.fields = append(d.fields, model.Cell{Name: name, Value: v})
	}
	return nil
}

// rowTags decodes a "tags" map into d.tags. Arc renders non-string tag
// values with %v; a nil tag is left out rather than stored as "<nil>".
func (d *decoder) rowTags(other **itemError) error {
	return d.scalarMap(other, "tag", func(name string, v model.Value) {
		var s string
		switch v.Type {
		case model.TypeUnknown:
			return
		case model.TypeString:
			s = v.S
		case model.TypeInt:
			s = strconv.FormatInt(v.I, 10)
		case model.TypeUint:
			s = strconv.FormatUint(v.U, 10)
		case model.TypeFloat:
			s = fmt.Sprint(v.F) // Arc's %v
		case model.TypeBool:
			s = strconv.FormatBool(v.B)
		}
		d.tags = append(d.tags, model.Cell{Name: name, Tag: true, Value: model.String(s)})
	})
}

// key reads a map key that must be a string; ok is false (and the first
// problem noted) otherwise.
func (d *decoder) key(other **itemError, what string) (string, bool, error) {
	c, err := d.dec.PeekCode()
	if err != nil {
		return "", false, err
	}
	if !msgpcode.IsString(c) {
		if *other == nil {
			*other = itemErrorf("map key of type %s: keys must be strings", typeName(c))
		}
		return "", false, d.skip()
	}
	s, err := d.str()
	if err != nil {
		return "", false, err
	}
	if s == "" {
		if *other == nil {
			*other = itemErrorf("%s name must not be empty", what)
		}
		return "", false, nil
	}
	return s, true, nil
}

// scalar reads one field value. NULL is model.Value{}; a non-scalar is
// skipped and reported by its type name.
func (d *decoder) scalar() (model.Value, *itemError, error) {
	c, err := d.dec.PeekCode()
	if err != nil {
		return model.Value{}, nil, err
	}
	switch {
	case c == msgpcode.Nil:
		return model.Value{}, nil, d.dec.DecodeNil()
	case c == msgpcode.True || c == msgpcode.False:
		v, err := d.dec.DecodeBool()
		return model.Bool(v), nil, err
	case c == msgpcode.Uint64:
		v, err := d.dec.DecodeUint64()
		if v > math.MaxInt64 {
			return model.Uint(v), nil, err
		}
		return model.Int(int64(v)), nil, err
	case isInt(c):
		v, err := d.dec.DecodeInt64()
		return model.Int(v), nil, err
	case isFloat(c):
		v, err := d.dec.DecodeFloat64()
		return model.Float(v), nil, err
	case msgpcode.IsString(c):
		s, err := d.str()
		return model.String(s), nil, err
	}
	return model.Value{}, &itemError{msg: typeName(c)}, d.skip()
}

// commitRow appends one row-form item.
func (d *decoder) commitRow(meas string, ts int64, host string, haveH bool) *itemError {
	// Arc sets tag host from "h", and to "unknown" when "h" is absent.
	// Unlike Arc, an explicit tags.host is not overwritten by that
	// "unknown" default: that would destroy the client's value.
	if haveH {
		if host != "" {
			d.tags = setCell(d.tags, model.Cell{Name: "host", Tag: true, Value: model.String(host)})
		}
	} else if !hasCell(d.tags, "host") {
		d.tags = append(d.tags, model.Cell{Name: "host", Tag: true, Value: model.String("unknown")})
	}
	if !model.ValidMeasurement(meas) {
		d.badName(meas)
		return nil
	}
	t := d.tables[meas]
	cells := d.dedupe(d.tags)
	ntags := len(cells)
	for _, c := range cells {
		if c.Name == "time" {
			return itemErrorf("tag name 'time' is reserved for the timestamp")
		}
		if col := t.Column(c.Name); col != nil && !col.Tag {
			return itemErrorf("tag '%s' on measurement '%s' conflicts with a field of the same name", c.Name, meas)
		}
	}
	d.lineTags.Reset(cells)
	for _, f := range d.fields {
		if f.Name == "time" {
			return itemErrorf("field name 'time' is reserved for the timestamp")
		}
		// A field named like a tag becomes <name>_value, as in Arc.
		if d.lineTags.Clashes(t, f.Name) {
			f.Name += "_value"
			if d.lineTags.Clashes(t, f.Name) {
				return itemErrorf("field '%s' on measurement '%s' conflicts with a tag of the same name", f.Name, meas)
			}
		}
		cells = append(cells, f)
	}
	cells = append(cells[:ntags], d.dedupe(cells[ntags:])...)
	if t == nil {
		t = d.table(meas)
	}
	if err := t.AppendRow(ts, cells); err != nil {
		return &itemError{msg: err.Error()}
	}
	return nil
}

func setCell(cells []model.Cell, c model.Cell) []model.Cell {
	for i := range cells {
		if cells[i].Name == c.Name {
			cells[i] = c
			return cells
		}
	}
	return append(cells, c)
}

func hasCell(cells []model.Cell, name string) bool {
	for i := range cells {
		if cells[i].Name == name {
			return true
		}
	}
	return false
}

// dedupe: see model.DedupeCells (Arc keeps the last of a repeated key).
func (d *decoder) dedupe(cells []model.Cell) []model.Cell { return model.DedupeCells(cells, &d.seen) }

// table returns the measurement's table, creating it on first rows.
func (d *decoder) table(meas string) *model.Table {
	t := d.b.Table(meas)
	d.tables[meas] = t
	d.touched = append(d.touched, t)
	return t
}

func (d *decoder) badName(meas string) {
	if d.nameErr == nil {
		d.nameErr = errs.Newf(errs.Invalid, "invalid measurement name %q: must start with a letter and contain only alphanumeric characters, underscores, or hyphens", meas)
	}
}

// ---- primitives ----

// str reads a msgpack string (the caller has peeked a string code),
// interning short ones and replacing invalid UTF-8 bytes with U+FFFD as
// Arc does, so DuckDB never meets a string it cannot read.
func (d *decoder) str() (string, error) {
	n, err := d.dec.DecodeBytesLen()
	if err != nil {
		return "", err
	}
	if n < 0 {
		return "", nil
	}
	if n > d.r.Len() {
		return "", fmt.Errorf("string length %d exceeds the %d bytes left", n, d.r.Len())
	}
	if cap(d.scratch) < n {
		d.scratch = make([]byte, n)
	}
	buf := d.scratch[:n]
	if err := d.dec.ReadFull(buf); err != nil {
		return "", err
	}
	if n <= maxInternLen {
		if s, ok := d.strs[string(buf)]; ok {
			return s, nil
		}
	}
	s := sanitize(buf)
	if n <= maxInternLen && len(d.strs) < maxInterned {
		d.strs[s] = s
	}
	return s, nil
}

const (
	maxInternLen = 64
	maxInterned  = 1 << 16
)

// sanitize is b as a string with Arc's replacement of invalid UTF-8.
func sanitize(b []byte) string { return body.ValidUTF8(string(b)) }

// isName reports whether a row's "m" or "h" value of code c is one name
// reads: a string or an integer.
func isName(c byte) bool { return msgpcode.IsString(c) || isInt(c) }

// name reads a row's measurement or host: a string as it is, an integer
// as prefix followed by its digits, as Arc does.
func (d *decoder) name(c byte, prefix string) (string, error) {
	if msgpcode.IsString(c) {
		return d.str()
	}
	s, err := d.intText(c)
	return prefix + s, err
}

// intText renders an integer value for a "measurement_<n>" or
// "host_<n>" name.
func (d *decoder) intText(c byte) (string, error) {
	if c == msgpcode.Uint64 {
		v, err := d.dec.DecodeUint64()
		return strconv.FormatUint(v, 10), err
	}
	v, err := d.dec.DecodeInt64()
	return strconv.FormatInt(v, 10), err
}

// arrayLen reads an array header and bounds it by the bytes left: every
// element takes at least one byte, so a larger claim is a lie.
func (d *decoder) arrayLen() (int, error) {
	n, err := d.dec.DecodeArrayLen()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, nil
	}
	if n > d.r.Len() {
		return 0, fmt.Errorf("array length %d exceeds the %d bytes left", n, d.r.Len())
	}
	return n, nil
}

// mapLen is arrayLen for maps: two bytes at least per entry.
func (d *decoder) mapLen() (int, error) {
	n, err := d.dec.DecodeMapLen()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, nil
	}
	if n > d.r.Len()/2 {
		return 0, fmt.Errorf("map length %d exceeds the %d bytes left", n, d.r.Len())
	}
	return n, nil
}

// skip consumes one value of any shape. It counts the values still owed
// instead of recursing, so nesting depth costs no stack.
func (d *decoder) skip() error {
	for pending := int64(1); pending > 0; pending-- {
		c, err := d.r.ReadByte()
		if err != nil {
			return errUnexpectedEOF
		}
		var n int64 // payload bytes to skip
		switch {
		case msgpcode.IsFixedNum(c), c == msgpcode.Nil, c == msgpcode.True, c == msgpcode.False:
		case msgpcode.IsFixedMap(c):
			pending += 2 * int64(c&msgpcode.FixedMapMask)
		case msgpcode.IsFixedArray(c):
			pending += int64(c & msgpcode.FixedArrayMask)
		case msgpcode.IsFixedString(c):
			n = int64(c & msgpcode.FixedStrMask)
		case c == msgpcode.Uint8 || c == msgpcode.Int8:
			n = 1
		case c == msgpcode.Uint16 || c == msgpcode.Int16:
			n = 2
		case c == msgpcode.Uint32 || c == msgpcode.Int32 || c == msgpcode.Float:
			n = 4
		case c == msgpcode.Uint64 || c == msgpcode.Int64 || c == msgpcode.Double:
			n = 8
		case c == msgpcode.Str8 || c == msgpcode.Bin8:
			n, err = d.readLen(1)
		case c == msgpcode.Str16 || c == msgpcode.Bin16:
			n, err = d.readLen(2)
		case c == msgpcode.Str32 || c == msgpcode.Bin32:
			n, err = d.readLen(4)
		case c == msgpcode.Array16 || c == msgpcode.Array32:
			var k int64
			k, err = d.readLen(2 + 2*int64(b2i(c == msgpcode.Array32)))
			pending += k
		case c == msgpcode.Map16 || c == msgpcode.Map32:
			var k int64
			k, err = d.readLen(2 + 2*int64(b2i(c == msgpcode.Map32)))
			pending += 2 * k
		case c == msgpcode.FixExt1:
			n = 2
		case c == msgpcode.FixExt2:
			n = 3
		case c == msgpcode.FixExt4:
			n = 5
		case c == msgpcode.FixExt8:
			n = 9
		case c == msgpcode.FixExt16:
			n = 17
		case c == msgpcode.Ext8:
			n, err = d.readLen(1)
			n++
		case c == msgpcode.Ext16:
			n, err = d.readLen(2)
			n++
		case c == msgpcode.Ext32:
			n, err = d.readLen(4)
			n++
		default:
			return fmt.Errorf("msgpack: invalid code=%x", c)
		}
		if err != nil {
			return err
		}
		if n > int64(d.r.Len()) || pending-1 > int64(d.r.Len()) {
			return errUnexpectedEOF
		}
		if n > 0 {
			if _, err := d.r.Seek(n, 1); err != nil {
				return err
			}
		}
	}
	return nil
}

var errUnexpectedEOF = errors.New("unexpected EOF")

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// readLen reads a big-endian length of size bytes.
func (d *decoder) readLen(size int64) (int64, error) {
	var n int64
	for range size {
		c, err := d.r.ReadByte()
		if err != nil {
			return 0, errUnexpectedEOF
		}
		n = n<<8 | int64(c)
	}
	return n, nil
}

func isMap(c byte) bool {
	return msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32
}

func isArray(c byte) bool {
	return msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32
}

func isInt(c byte) bool {
	if msgpcode.IsFixedNum(c) {
		return true
	}
	switch c {
	case msgpcode.Int8, msgpcode.Int16, msgpcode.Int32, msgpcode.Int64,
		msgpcode.Uint8, msgpcode.Uint16, msgpcode.Uint32, msgpcode.Uint64:
		return true
	}
	return false
}

func isFloat(c byte) bool { return c == msgpcode.Float || c == msgpcode.Double }

// typeName names a value's type in messages the way Arc's messages do
// (Go's %T of the generically decoded value).
func typeName(c byte) string {
	switch {
	case c == msgpcode.Nil:
		return "<nil>"
	case c == msgpcode.True || c == msgpcode.False:
		return "bool"
	case msgpcode.IsString(c):
		return "string"
	case msgpcode.IsBin(c):
		return "[]uint8"
	case isMap(c):
		return "map[string]interface {}"
	case isArray(c):
		return "[]interface {}"
	case c == msgpcode.Float:
		return "float32"
	case c == msgpcode.Double:
		return "float64"
	case msgpcode.IsFixedNum(c), c == msgpcode.Int8:
		return "int8"
	case c == msgpcode.Int16:
		return "int16"
	case c == msgpcode.Int32:
		return "int32"
	case c == msgpcode.Int64:
		return "int64"
	case c == msgpcode.Uint8:
		return "uint8"
	case c == msgpcode.Uint16:
		return "uint16"
	case c == msgpcode.Uint32:
		return "uint32"
	case c == msgpcode.Uint64:
		return "uint64"
	case msgpcode.IsExt(c):
		return "msgpack extension"
	}
	return fmt.Sprintf("invalid code %#x", c)
}
