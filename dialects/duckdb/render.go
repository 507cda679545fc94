package duckdb

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Values of types tsgate does not model (lists, structs, maps, intervals,
// decimals, UUIDs, blobs, times…) travel as text, rendered the way Arc's
// JSON shows them. Arc reads every result through DuckDB's Arrow export
// and prints such a cell with arrow-go's ValueStr: a nested value becomes
// JSON text inside the string cell (struct keys sorted, map entries as
// {"key","value"} objects, intervals as {"months","days","nanoseconds"},
// nested timestamps as RFC 3339 strings, nested blobs as base64). The
// conversion here is typed: the column's DuckDB type, parsed once per
// result, says what each Go value duckdb-go scanned means (a DATE and a
// midnight TIMESTAMP scan to the same time.Time; a UUID and a BLOB to the
// same []byte), and encoding/json writes the text.
//
// A top-level DECIMAL keeps its exact digits here ("0.00001"): pg wire
// sends it as numeric, and the Arc API prints a DECIMAL column in Arc's
// %g form itself. Nested decimals are printed as Arc prints them.
//
// Two deliberate differences: HUGEINT and UHUGEINT keep their exact digits
// (Arc prints a 39-digit HUGEINT in 38-digit float notation, 1.70…e+38, and
// a UHUGEINT as the base64 of its 16 bytes), and a UNION member is shown
// as its value.

// typeNode is a parsed DuckDB type name: "INTEGER[]",
// `STRUCT("a" VARCHAR, b DOUBLE[])`, "MAP(VARCHAR, INTEGER)", "DECIMAL(5,2)".
type typeNode struct {
	// base is the upper-case base name; "LIST" for T[] and "ARRAY" for
	// T[n].
	base   string
	elem   *typeNode   // LIST, ARRAY
	key    *typeNode   // MAP
	val    *typeNode   // MAP
	fields []typeField // STRUCT, UNION
}

type typeField struct {
	name string
	typ  *typeNode
}

func (t *typeNode) field(name string) *typeNode {
	if t == nil {
		return nil
	}
	for _, f := range t.fields {
		if f.name == name {
			return f.typ
		}
	}
	return nil
}

// parseType parses a DuckDB type name. It never fails: what it cannot
// read becomes a node of that base name, which renders by value alone.
func parseType(s string) *typeNode {
	p := typeParser{s: s}
	return p.typ()
}

type typeParser struct {
	s   string
	pos int
}

func (p *typeParser) skipSpace() {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
}

func (p *typeParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *typeParser) typ() *typeNode {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '(' || c == '[' || c == ',' || c == ')' {
			break
		}
		p.pos++
	}
	t := &typeNode{base: strings.ToUpper(strings.TrimSpace(p.s[start:p.pos]))}
	if p.peek() == '(' {
		p.pos++
		switch t.base {
		case "STRUCT", "UNION":
			for {
				p.skipSpace()
				if p.peek() == ')' || p.peek() == 0 {
					break
				}
				name := p.fieldName()
				t.fields = append(t.fields, typeField{name: name, typ: p.typ()})
				p.skipSpace()
				if p.peek() != ',' {
					break
				}
				p.pos++
			}
		case "MAP":
			t.key = p.typ()
			p.skipSpace()
			if p.peek() == ',' {
				p.pos++
			}
			t.val = p.typ()
		default:
			p.skipArgs()
			return p.suffixes(t)
		}
		p.skipSpace()
		if p.peek() == ')' {
			p.pos++
		}
	}
	return p.suffixes(t)
}

// suffixes applies T[] and T[n].
func (p *typeParser) suffixes(t *typeNode) *typeNode {
	for {
		p.skipSpace()
		if p.peek() != '[' {
			return t
		}
		p.pos++
		base := "LIST"
		if p.peek() != ']' {
			base = "ARRAY"
		}
		for p.pos < len(p.s) && p.s[p.pos] != ']' {
			p.pos++
		}
		if p.pos < len(p.s) {
			p.pos++
		}
		t = &typeNode{base: base, elem: t}
	}
}

// skipArgs skips a parenthesized argument list (DECIMAL(5,2),
// ENUM('a', 'b')), quotes respected; the opening parenthesis is read.
func (p *typeParser) skipArgs() {
	depth := 1
	for p.pos < len(p.s) && depth > 0 {
		switch c := p.s[p.pos]; c {
		case '\'', '"':
			p.pos++
			for p.pos < len(p.s) {
				if p.s[p.pos] == c {
					if p.pos+1 < len(p.s) && p.s[p.pos+1] == c {
						p.pos += 2
						continue
					}
					break
				}
				p.pos++
			}
		case '(':
			depth++
		case ')':
			depth--
		}
		p.pos++
	}
}

func (p *typeParser) fieldName() string {
	p.skipSpace()
	if p.peek() == '"' {
		p.pos++
		var sb strings.Builder
		for p.pos < len(p.s) {
			c := p.s[p.pos]
			if c == '"' {
				if p.pos+1 < len(p.s) && p.s[p.pos+1] == '"' {
					sb.WriteByte('"')
					p.pos += 2
					continue
				}
				p.pos++
				break
			}
			sb.WriteByte(c)
			p.pos++
		}
		return sb.String()
	}
	start := p.pos
	for p.pos < len(p.s) && p.s[p.pos] != ' ' {
		p.pos++
	}
	return p.s[start:p.pos]
}

// arcText renders v, a value of DuckDB type t, as Arc's JSON cell shows
// it.
func arcText(v any, t *typeNode) string {
	base := ""
	if t != nil {
		base = t.base
	}
	switch x := v.(type) {
	case duckdb.Decimal:
		// Exact digits at the type's scale: pg wire sends them as
		// numeric, which PostgreSQL prints with its display scale
		// (-50.0, 1.000000); the Arc API prints a DECIMAL column in
		// Arc's %g form (wire/arc).
		return scaledText(x)
	case *big.Int:
		return x.String()
	case duckdb.Interval:
		return marshal(intervalForm(x))
	case []byte:
		if base == "UUID" {
			return uuidText(x)
		}
		// Arc writes a BLOB's raw bytes as the string.
		return string(x)
	case time.Time:
		switch base {
		case "TIME", "TIMETZ", "TIME WITH TIME ZONE":
			return x.Format("15:04:05.000000")
		case "DATE":
			return x.Format("2006-01-02")
		}
		return x.UTC().Format(time.RFC3339Nano)
	case string:
		return x
	case []any, map[string]any, duckdb.OrderedMap, duckdb.Union:
		return marshal(marshalForm(v, t))
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	return fmt.Sprint(v)
}

// marshalForm is the Go value arrow-go hands encoding/json for an element
// of DuckDB type t (GetOneForMarshal), so the JSON text matches Arc's.
func marshalForm(v any, t *typeNode) any {
	base := ""
	if t != nil {
		base = t.base
	}
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		var elem *typeNode
		if t != nil {
			elem = t.elem
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = marshalForm(e, elem)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = marshalForm(e, t.field(k))
		}
		return out
	case duckdb.OrderedMap:
		var kt, vt *typeNode
		if t != nil {
			kt, vt = t.key, t.val
		}
		keys, vals := x.Keys(), x.Values()
		out := make([]any, len(keys))
		for i := range keys {
			out[i] = map[string]any{"key": marshalForm(keys[i], kt), "value": marshalForm(vals[i], vt)}
		}
		return out
	case duckdb.Union:
		return marshalForm(x.Value, t.field(x.Tag))
	case duckdb.Interval:
		return intervalForm(x)
	case duckdb.Decimal:
		return decimalText(x)
	case *big.Int:
		return x.String()
	case []byte:
		if base == "UUID" {
			return uuidText(x)
		}
		return x // encoding/json: base64
	case time.Time:
		switch base {
		case "DATE":
			return x.Format("2006-01-02")
		case "TIME", "TIMETZ", "TIME WITH TIME ZONE":
			return x.Format("15:04:05.999999999")
		}
		return x.UTC().Format(time.RFC3339Nano)
	case float64:
		return floatForm(x, 64)
	case float32:
		if f := floatForm(float64(x), 32); f != nil {
			return f
		}
		return x
	case int8:
		// arrow-go widens one-byte integers so encoding/json does not
		// take them for bytes.
		return float64(x)
	case uint8:
		return float64(x)
	}
	return v
}

// floatForm is arrow-go's marshal form of a float: NaN and infinities as
// strings (JSON has no such numbers); nil for an ordinary float32, which
// is kept as it is.
func floatForm(f float64, bits int) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	if bits == 32 {
		return nil
	}
	return f
}

func intervalForm(x duckdb.Interval) arrow.MonthDayNanoInterval {
	return arrow.MonthDayNanoInterval{Months: x.Months, Days: x.Days, Nanoseconds: x.Micros * 1000}
}

// scaledText prints a decimal's exact value with exactly its type's scale
// of fraction digits, as PostgreSQL prints a numeric of that display
// scale (duckdb.Decimal's String drops trailing zeros).
func scaledText(d duckdb.Decimal) string {
	digits := "0"
	if d.Value != nil {
		digits = d.Value.String()
	}
	sign := ""
	if digits[0] == '-' {
		sign, digits = "-", digits[1:]
	}
	scale := int(d.Scale)
	if scale == 0 {
		return sign + digits
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
}

// decimalText prints a decimal as arrow-go does (Arc's JSON): the value
// at the type's precision in %g form, so 12.50 is "12.5" and 0.00001 at
// scale 5 is "1e-05".
func decimalText(d duckdb.Decimal) string {
	if d.Value == nil {
		return "0"
	}
	return decimal128.FromBigInt(d.Value).ToBigFloat(int32(d.Scale)).Text('g', int(d.Width))
}

func uuidText(b []byte) string {
	if len(b) != 16 {
		return string(b)
	}
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// marshal is encoding/json with its defaults (HTML escaping on), Arc's
// encoder; the forms above always encode.
func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
