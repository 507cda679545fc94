package lineprotocol

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"tsgate/errs"
	"tsgate/model"
	"tsgate/wire/body"
)

// Precision is the unit of the timestamps in a request.
type Precision uint8

const (
	Nanosecond Precision = iota // the default, as in InfluxDB
	Microsecond
	Millisecond
	Second
)

// String is the precision's query-parameter spelling.
func (p Precision) String() string {
	switch p {
	case Microsecond:
		return "us"
	case Millisecond:
		return "ms"
	case Second:
		return "s"
	}
	return "ns"
}

// ParsePrecision reads the precision query parameter; empty means ns.
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "", "ns":
		return Nanosecond, nil
	case "us":
		return Microsecond, nil
	case "ms":
		return Millisecond, nil
	case "s":
		return Second, nil
	}
	return 0, errs.Newf(errs.Invalid, "invalid precision %q: must be ns, us, ms, or s", s)
}

// invalidMeasurement is Arc's whole-request error for a bad name.
func invalidMeasurement(name string) *errs.Error {
	return errs.Newf(errs.Invalid, "invalid measurement name %q: must start with a letter and contain only alphanumeric characters, underscores, or hyphens", name)
}

// Parse decodes data into b, one row per line. now stamps lines without a
// timestamp. Malformed lines are recorded with b.Reject and skipped. A
// field whose type differs from an earlier line's is kept: the model holds
// it in a column of its own type until Table.Resolve settles it against
// the stored schema.
//
// The error, always an *errs.Error, is for the request as a whole: an
// empty body, no surviving line ("No valid records in request"), or an
// invalid measurement name (Arc refuses the whole request for one). After
// an error b must be discarded.
func Parse(data []byte, p Precision, now time.Time, b *model.Batch) error {
	if len(data) == 0 {
		return errs.New(errs.Invalid, "Empty request body")
	}
	ps := parser{
		b:         b,
		prec:      p,
		now:       now.UnixMicro(),
		validUTF8: utf8.Valid(data),
		tables:    make(map[string]*model.Table),
		names:     make(map[string]string),
		values:    make(map[string]string),
	}
	kept := 0
	for lineNo := 1; len(data) > 0; lineNo++ {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSpace(line) // also drops the \r of CRLF
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		ok, err := ps.line(line, lineNo)
		if err != nil {
			return err
		}
		if ok {
			kept++
		}
	}
	if kept == 0 {
		return errs.New(errs.Invalid, "No valid records in request")
	}
	return nil
}

// span is a key=value pair as raw, still-escaped input bytes.
type span struct{ key, val []byte }

type parser struct {
	b         *model.Batch
	prec      Precision
	now       int64
	validUTF8 bool

	// Interning: names and repeated tag values cost one allocation per
	// request instead of one per line. Lookups with m[string(b)] do not
	// allocate.
	tables map[string]*model.Table
	names  map[string]string
	values map[string]string

	lastRaw   []byte
	lastTable *model.Table

	suffix map[string]string

	tags   []span
	fields []span
	cells  []model.Cell
	seen   map[string]int
	// lineTags indexes the current line's tags for the field-name check.
	lineTags model.TagIndex
}

// reject drops the current line, recording why.
func (ps *parser) reject(lineNo int, format string, args ...any) (bool, error) {
	ps.b.Reject(errs.Newf(errs.Invalid, "line %d: "+format, append([]any{lineNo}, args...)...))
	return false, nil
}

// line parses and appends one non-empty, non-comment line. It reports
// whether a row was added; its error is for the whole request.
func (ps *parser) line(line []byte, lineNo int) (bool, error) {
	// Series key: measurement and tags up to the first unescaped space.
	// Quotes are not special here (as in InfluxDB): a quote in a tag value
	// is just a byte.
	ps.tags = ps.tags[:0]
	ps.fields = ps.fields[:0]
	i := 0
	start := 0
	var meas []byte
	for ; i <= len(line); i++ {
		if i < len(line) {
			c := line[i]
			if c == '\\' && i+1 < len(line) {
				i++
				continue
			}
			if c != ',' && c != ' ' {
				continue
			}
		}
		part := line[start:i]
		start = i + 1
		if meas == nil {
			if len(part) == 0 {
				return ps.reject(lineNo, "missing measurement")
			}
			meas = part
		} else if len(part) > 0 { // Arc skips empty components (",,")
			eq := indexUnescaped(part, '=')
			if eq <= 0 {
				return ps.reject(lineNo, "invalid tag %q: want key=value", part)
			}
			ps.tags = append(ps.tags, span{part[:eq], part[eq+1:]})
		}
		if i == len(line) || line[i] == ' ' {
			break
		}
	}
	rest := skipSpaces(line[min(i, len(line)):])
	if len(rest) == 0 {
		return ps.reject(lineNo, "missing fields")
	}

	// Field set: key=value pairs separated by commas, up to the first
	// space outside a quoted string.
	for len(rest) > 0 && rest[0] != ' ' {
		eq, ok := keyLen(rest)
		if !ok {
			return ps.reject(lineNo, "invalid field %q: want key=value", fieldText(rest))
		}
		if eq == 0 {
			return ps.reject(lineNo, "missing field key")
		}
		key := rest[:eq]
		rest = rest[eq+1:]
		n, ok := valueLen(rest)
		if !ok {
			return ps.reject(lineNo, "unterminated string in field %q", key)
		}
		ps.fields = append(ps.fields, span{key, rest[:n]})
		rest = rest[n:]
		if len(rest) > 0 && rest[0] == ',' {
			rest = rest[1:]
			if len(rest) == 0 || rest[0] == ' ' {
				return ps.reject(lineNo, "trailing comma after field %q", key)
			}
		}
	}

	ts := ps.now
	rest = skipSpaces(rest)
	if len(rest) > 0 {
		if bytes.IndexByte(rest, ' ') >= 0 || bytes.IndexByte(rest, '\t') >= 0 {
			return ps.reject(lineNo, "unexpected data after timestamp: %q", rest)
		}
		v, err := strconv.ParseInt(string(rest), 10, 64)
		if err != nil {
			return ps.reject(lineNo, "invalid timestamp %q", rest)
		}
		var ok bool
		if ts, ok = toMicros(v, ps.prec); !ok {
			return ps.reject(lineNo, "timestamp %d out of range for precision %s", v, ps.prec)
		}
	}

	// Measurement: a valid name has no escapes, so the raw bytes are the
	// name; anything else fails the whole request, as in Arc, but only
	// once the line is otherwise well-formed (Arc validates parsed
	// records, so a malformed line never reaches the name check). The
	// table is created only when the row is about to be added, so a
	// rejected line leaves no empty table behind.
	t := ps.lastTable
	if t == nil || !bytes.Equal(meas, ps.lastRaw) {
		t = ps.tables[string(meas)]
		if t == nil && !model.ValidMeasurement(meas) {
			return false, invalidMeasurement(ps.sanitize(unescape(meas)))
		}
	}

	cells := ps.cells[:0]
	for _, tg := range ps.tags {
		key := ps.name(tg.key)
		if key == "time" {
			return ps.reject(lineNo, "tag key %q is reserved for the timestamp", key)
		}
		if c := t.Column(key); c != nil && !c.Tag {
			return ps.reject(lineNo, "tag key %q on measurement %q conflicts with a field of the same name", key, meas)
		}
		cells = append(cells, model.Cell{Name: key, Tag: true, Value: model.String(ps.value(tg.val))})
	}
	ps.lineTags.Reset(cells)
	for _, f := range ps.fields {
		key := ps.name(f.key)
		if key == "time" {
			return ps.reject(lineNo, "field key %q is reserved for the timestamp", key)
		}
		v, reason := ps.fieldValue(f.val)
		if reason != "" {
			return ps.reject(lineNo, "invalid value %q for field %q: %s", f.val, key, reason)
		}
		// A field named like a tag becomes <name>_value (Arc's rule); the
		// tag may be on this line or an earlier one of the table.
		if ps.lineTags.Clashes(t, key) {
			key = ps.suffixed(key)
			if ps.lineTags.Clashes(t, key) {
				return ps.reject(lineNo, "field %q on measurement %q conflicts with a tag of the same name", key, meas)
			}
		}
		cells = append(cells, model.Cell{Name: key, Value: v})
	}
	cells = ps.dedupe(cells)
	ps.cells = cells

	if t == nil {
		name := string(meas)
		t = ps.b.Table(name)
		ps.tables[name] = t
	}
	ps.lastRaw, ps.lastTable = meas, t
	if err := t.AppendRow(ts, cells); err != nil {
		ps.b.Reject(errs.Wrap(errs.Invalid, err, fmt.Sprintf("line %d: %v", lineNo, err)))
		return false, nil
	}
	return true, nil
}

// toMicros converts a timestamp to microseconds, flooring nanoseconds
// toward −∞ so that a pre-1970 instant lands in the microsecond that
// contains it. Arc truncates toward zero; the two differ only before 1970.
func toMicros(v int64, p Precision) (int64, bool) {
	switch p {
	case Microsecond:
		return v, true
	case Millisecond:
		if v > math.MaxInt64/1000 || v < math.MinInt64/1000 {
			return 0, false
		}
		return v * 1000, true
	case Second:
		if v > math.MaxInt64/1_000_000 || v < math.MinInt64/1_000_000 {
			return 0, false
		}
		return v * 1_000_000, true
	}
	q := v / 1000
	if v%1000 < 0 {
		q--
	}
	return q, true
}

// fieldValue types a raw field value. Its second result is a reason when
// the value is unusable.
func (ps *parser) fieldValue(v []byte) (model.Value, string) {
	if len(v) == 0 {
		return model.Value{}, "missing value"
	}
	switch len(v) {
	case 1:
		switch v[0] {
		case 't', 'T':
			return model.Bool(true), ""
		case 'f', 'F':
			return model.Bool(false), ""
		}
	case 4:
		if asciiEqualFold(v, "true") {
			return model.Bool(true), ""
		}
	case 5:
		if asciiEqualFold(v, "false") {
			return model.Bool(false), ""
		}
	}
	if v[0] == '"' {
		// valueLen guaranteed the closing quote.
		return model.String(ps.sanitize(unescape(v[1 : len(v)-1]))), ""
	}
	switch v[len(v)-1] {
	case 'i':
		n, err := strconv.ParseInt(string(v[:len(v)-1]), 10, 64)
		if err != nil {
			return model.Value{}, "not a valid integer"
		}
		return model.Int(n), ""
	case 'u':
		n, err := strconv.ParseUint(string(v[:len(v)-1]), 10, 64)
		if err != nil {
			return model.Value{}, "not a valid unsigned integer"
		}
		return model.Uint(n), ""
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err == nil {
		// NaN and ±Inf are accepted as Arc accepts them.
		return model.Float(f), ""
	}
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		// "1e999": Arc's ParseFloat fails and it keeps the text as a
		// string; a number out of range is a client error, not text.
		return model.Value{}, "number out of range"
	}
	// Arc stores any other unquoted value as a string rather than drop it.
	return model.String(ps.sanitize(string(v))), ""
}

func asciiEqualFold(a []byte, lower string) bool {
	for i := range len(a) {
		c := a[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// valueLen is the length of the field value at the start of s: a quoted
// string through its closing quote, or bytes up to the next unescaped
// comma or space. ok is false for an unterminated or ill-ended string.
func valueLen(s []byte) (int, bool) {
	if len(s) > 0 && s[0] == '"' {
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '"':
				if i+1 < len(s) && s[i+1] != ',' && s[i+1] != ' ' {
					return 0, false
				}
				return i + 1, true
			}
		}
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ',', ' ':
			return i, true
		}
	}
	return len(s), true
}

// keyLen is the length of the field key at the start of s, which ends at
// the first unescaped '='. ok is false when an unescaped comma or space
// comes first (a key without a value).
func keyLen(s []byte) (int, bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '=':
			return i, true
		case ',', ' ':
			return 0, false
		}
	}
	return 0, false
}

// indexUnescaped is the index of the first c in s not preceded by a
// backslash escape, or -1.
func indexUnescaped(s []byte, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == c {
			return i
		}
	}
	return -1
}

func skipSpaces(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

// fieldText is the start of a field for an error message.
func fieldText(s []byte) []byte {
	if n, ok := valueLen(s); ok && n > 0 {
		return s[:n]
	}
	return s
}

// unescape removes line protocol's backslash escapes. Like Arc it
// unescapes comma, space, equals, double quote and backslash everywhere
// (keys, tag values and string fields) and keeps any other backslash.
func unescape(s []byte) string {
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s)
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case ',', ' ', '=', '"', '\\':
				out = append(out, s[i+1])
				i++
				continue
			}
		}
		out = append(out, s[i])
	}
	return string(out)
}

// sanitize replaces each invalid UTF-8 byte with U+FFFD, as Arc does,
// so DuckDB never sees a string it cannot read. The whole body is checked
// once; only a body with invalid bytes pays per string.
func (ps *parser) sanitize(s string) string {
	if ps.validUTF8 {
		return s
	}
	return body.ValidUTF8(s)
}

// name interns a key: raw bytes to the unescaped, sanitized string.
func (ps *parser) name(raw []byte) string {
	if s, ok := ps.names[string(raw)]; ok {
		return s
	}
	s := ps.sanitize(unescape(raw))
	ps.names[string(raw)] = s
	return s
}

// maxInterned bounds the tag-value intern table: a body of unique values
// should cost what its strings cost, not also a map entry each forever.
const maxInterned = 1 << 16

// value interns a tag value; hosts and regions repeat on every line.
func (ps *parser) value(raw []byte) string {
	if s, ok := ps.values[string(raw)]; ok {
		return s
	}
	s := ps.sanitize(unescape(raw))
	if len(ps.values) < maxInterned && len(raw) <= 256 {
		ps.values[string(raw)] = s
	}
	return s
}

// suffixed is key+"_value", interned.
func (ps *parser) suffixed(key string) string {
	if s, ok := ps.suffix[key]; ok {
		return s
	}
	s := key + "_value"
	if ps.suffix == nil {
		ps.suffix = make(map[string]string)
	}
	ps.suffix[key] = s
	return s
}

// dedupe: see model.DedupeCells (Arc keeps the last of a repeated key).
func (ps *parser) dedupe(cells []model.Cell) []model.Cell { return model.DedupeCells(cells, &ps.seen) }
