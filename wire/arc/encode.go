package arc

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"

	"tsgate/model"
)

// jsonEncoder writes Arc's query envelope: keys in Arc's order, row-major
// data, values encoded the way Go's encoding/json (Arc's encoder) does, so
// the bytes match.
type jsonEncoder struct {
	profile bool
	first   bool
	// decimals holds, per column, the precision of a DECIMAL(p,s)
	// column (0 for any other): Arc prints decimals in %g form at
	// that precision.
	decimals []int
}

func (e *jsonEncoder) contentType() string { return "application/json" }
func (e *jsonEncoder) streaming() bool     { return true }

func (e *jsonEncoder) begin(b []byte, cols []model.ResultColumn) []byte {
	b = append(b, `{"success":true,"columns":[`...)
	e.decimals = e.decimals[:0]
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, c.Name)
		p := 0
		if c.Type == model.TypeText {
			p, _, _ = decimalType(c.BackendType)
			if strings.EqualFold(c.BackendType, "numeric") {
				// PostgreSQL's numeric, in the form Arc prints a
				// DECIMAL(38,s): its digits fit in any precision the
				// same DuckDB DECIMAL would have.
				p = 38
			}
		}
		e.decimals = append(e.decimals, p)
	}
	e.first = true
	return append(b, `],"data":[`...)
}

func (e *jsonEncoder) row(b []byte, vals []model.Value) []byte {
	if !e.first {
		b = append(b, ',')
	}
	e.first = false
	b = append(b, '[')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		if p := e.decimals[i]; p > 0 && v.Type == model.TypeText {
			b = appendJSONString(b, arcDecimal(v.S, p))
			continue
		}
		b = appendJSONValue(b, v)
	}
	return append(b, ']')
}

func (e *jsonEncoder) end(b []byte, rows int, elapsed, planning time.Duration, timestamp string) []byte {
	b = append(b, `],"row_count":`...)
	b = strconv.AppendInt(b, int64(rows), 10)
	b = append(b, `,"execution_time_ms":`...)
	b = strconv.AppendInt(b, elapsed.Milliseconds(), 10)
	b = append(b, `,"timestamp":`...)
	b = appendJSONString(b, timestamp)
	if e.profile {
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b = append(b, `,"profile":{"total_ms":`...)
		b = appendJSONFloat(b, ms(elapsed))
		b = append(b, `,"planner_ms":`...)
		b = appendJSONFloat(b, ms(planning))
		b = append(b, `,"execution_ms":`...)
		b = appendJSONFloat(b, ms(elapsed-planning))
		// Rows the result returned: the engine's scan count is not
		// reported through the driver, and a made-up number is worse.
		b = append(b, `,"rows_scanned":`...)
		b = strconv.AppendInt(b, int64(rows), 10)
		b = append(b, `,"latency_ms":`...)
		b = appendJSONFloat(b, ms(elapsed-planning))
		b = append(b, '}')
	}
	return append(b, '}')
}

func (e *jsonEncoder) errorBody(msg string, elapsed time.Duration, timestamp string) []byte {
	b := []byte(`{"success":false,"columns":null,"data":null,"row_count":0,"execution_time_ms":`)
	b = strconv.AppendInt(b, elapsed.Milliseconds(), 10)
	b = append(b, `,"timestamp":`...)
	b = appendJSONString(b, timestamp)
	b = append(b, `,"error":`...)
	b = appendJSONString(b, msg)
	return append(b, '}')
}

func appendJSONValue(b []byte, v model.Value) []byte {
	switch v.Type {
	case model.TypeFloat:
		return appendJSONFloat(b, v.F)
	case model.TypeInt:
		return strconv.AppendInt(b, v.I, 10)
	case model.TypeUint:
		return strconv.AppendUint(b, v.U, 10)
	case model.TypeString, model.TypeText:
		return appendJSONString(b, v.S)
	case model.TypeBool:
		return strconv.AppendBool(b, v.B)
	case model.TypeTime:
		b = append(b, '"')
		b = time.UnixMicro(v.I).UTC().AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	}
	return append(b, "null"...)
}

// arcDecimal prints an exact decimal the way Arc's JSON does (arrow-go's
// decimal printer): %g at the column's precision, so 12.50 is "12.5" and
// 0.00001 is "1e-05". The value is rounded to 128 bits first, as arrow-go
// rounds its quotient.
func arcDecimal(exact string, precision int) string {
	f, _, err := big.ParseFloat(exact, 10, 128, big.ToNearestEven)
	if err != nil {
		return exact
	}
	return f.Text('g', precision)
}

// appendJSONFloat formats like encoding/json; NaN and ±Inf, which JSON
// cannot carry, become null as in Arc.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-07 → e-7, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString escapes like encoding/json with HTML escaping on (its
// default, and so Arc's): <, > and & become \u003c…, invalid UTF-8 becomes
// U+FFFD, and U+2028/U+2029 are escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// msgpackEncoder writes Arc's columnar msgpack envelope: success, columns,
// types, data (one array per column), row_count, execution_time_ms,
// timestamp. Columnar output needs every row first, so it buffers.
type msgpackEncoder struct {
	cols []model.ResultColumn
	data [][]model.Value
}

func (e *msgpackEncoder) contentType() string { return "application/msgpack" }
func (e *msgpackEncoder) streaming() bool     { return false }

func (e *msgpackEncoder) begin(b []byte, cols []model.ResultColumn) []byte {
	e.cols = cols
	e.data = make([][]model.Value, len(cols))
	return b
}

func (e *msgpackEncoder) row(b []byte, vals []model.Value) []byte {
	for i, v := range vals {
		e.data[i] = append(e.data[i], v)
	}
	return b
}

// msgpackKind is how a column's values are sent, with the name Arc's
// `types` list gives it (Arc names the Arrow type of the column).
type msgpackKind struct {
	name string
	enc  func(enc *msgpack.Encoder, v model.Value)
}

// msgpackKindOf types a column as Arc's msgpack encoder does: int64 as a
// fixed 9-byte int64, narrower integers compact, time as MessagePack
// timestamps (extension -1), HUGEINT and decimals cast as on Arrow,
// lists, structs and maps as their text.
func msgpackKindOf(c model.ResultColumn) msgpackKind {
	k, _ := kindOf(c)
	switch k {
	case kindInt64:
		return msgpackKind{"int64", func(enc *msgpack.Encoder, v model.Value) { _ = enc.EncodeInt64(v.I) }}
	case kindInt32, kindInt16, kindInt8:
		name := map[colKind]string{kindInt32: "int32", kindInt16: "int16", kindInt8: "int8"}[k]
		return msgpackKind{name, func(enc *msgpack.Encoder, v model.Value) { _ = enc.EncodeInt(v.I) }}
	case kindUint64:
		return msgpackKind{"uint64", func(enc *msgpack.Encoder, v model.Value) { _ = enc.EncodeUint64(v.U) }}
	case kindUint32, kindUint16, kindUint8:
		name := map[colKind]string{kindUint32: "uint32", kindUint16: "uint16", kindUint8: "uint8"}[k]
		return msgpackKind{name, func(enc *msgpack.Encoder, v model.Value) { _ = enc.EncodeUint(v.U) }}
	case kindFloat64:
		return msgpackKind{"float64", func(enc *msgpack.Encoder, v model.Value) { _ = enc.EncodeFloat64(v.F) }}
	case kindFloat32:
		return msgpackKind{"float32", func(enc *msgpack.Encoder, v model.Value) { _ = enc.EncodeFloat32(float32(v.F)) }}
	case kindBool:
		return msgpackKind{"bool", func(enc *msgpack.Encoder, v model.Value) { _ = enc.EncodeBool(v.B) }}
	case kindTime, kindDate:
		name := "timestamp[us]"
		if k == kindDate {
			name = "date32"
		}
		return msgpackKind{name, func(enc *msgpack.Encoder, v model.Value) { _ = enc.EncodeTime(time.UnixMicro(v.I).UTC()) }}
	case kindTextInt:
		return msgpackKind{"int64", func(enc *msgpack.Encoder, v model.Value) {
			if n, err := strconv.ParseInt(v.S, 10, 64); err == nil {
				_ = enc.EncodeInt64(n)
				return
			}
			_ = enc.EncodeString(v.S) // beyond int64: exact digits
		}}
	case kindTextFloat:
		return msgpackKind{"float64", func(enc *msgpack.Encoder, v model.Value) {
			f, _ := strconv.ParseFloat(v.S, 64)
			_ = enc.EncodeFloat64(f)
		}}
	case kindNull:
		return msgpackKind{"null", func(enc *msgpack.Encoder, v model.Value) { _ = enc.EncodeNil() }}
	}
	str := func(enc *msgpack.Encoder, v model.Value) {
		s, _ := v.Text()
		_ = enc.EncodeString(s)
	}
	if c.Type != model.TypeText {
		return msgpackKind{"utf8", str}
	}
	bt := strings.ToUpper(c.BackendType)
	switch {
	case bt == "UUID" || bt == "VARCHAR" || strings.HasPrefix(bt, "ENUM"):
		return msgpackKind{"utf8", str}
	case bt == "BLOB":
		return msgpackKind{"binary", func(enc *msgpack.Encoder, v model.Value) { _ = enc.EncodeBytes([]byte(v.S)) }}
	case strings.HasPrefix(bt, "STRUCT"):
		return msgpackKind{"struct", str}
	case strings.HasPrefix(bt, "MAP"):
		return msgpackKind{"map", str}
	case strings.HasSuffix(bt, "]"):
		return msgpackKind{"list", str}
	}
	return msgpackKind{"string_encoded", str}
}

func (e *msgpackEncoder) end(b []byte, rows int, elapsed, _ time.Duration, timestamp string) []byte {
	buf := bytes.NewBuffer(b)
	enc := msgpack.NewEncoder(buf)
	kinds := make([]msgpackKind, len(e.cols))
	for i, c := range e.cols {
		kinds[i] = msgpackKindOf(c)
	}
	// Errors are impossible writing to a bytes.Buffer.
	_ = enc.EncodeMapLen(7)
	_ = enc.EncodeString("success")
	_ = enc.EncodeBool(true)
	_ = enc.EncodeString("columns")
	_ = enc.EncodeArrayLen(len(e.cols))
	for _, c := range e.cols {
		_ = enc.EncodeString(c.Name)
	}
	_ = enc.EncodeString("types")
	_ = enc.EncodeArrayLen(len(e.cols))
	for _, k := range kinds {
		_ = enc.EncodeString(k.name)
	}
	_ = enc.EncodeString("data")
	_ = enc.EncodeArrayLen(len(e.cols))
	for i, col := range e.data {
		_ = enc.EncodeArrayLen(len(col))
		for _, v := range col {
			if v.IsNull() {
				_ = enc.EncodeNil()
				continue
			}
			kinds[i].enc(enc, v)
		}
	}
	_ = enc.EncodeString("row_count")
	_ = enc.EncodeUint(uint64(rows))
	_ = enc.EncodeString("execution_time_ms")
	_ = enc.EncodeUint(uint64(elapsed.Milliseconds()))
	_ = enc.EncodeString("timestamp")
	_ = enc.EncodeString(timestamp)
	return buf.Bytes()
}

func (e *msgpackEncoder) errorBody(msg string, elapsed time.Duration, timestamp string) []byte {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	_ = enc.EncodeMapLen(4)
	_ = enc.EncodeString("success")
	_ = enc.EncodeBool(false)
	_ = enc.EncodeString("error")
	_ = enc.EncodeString(msg)
	_ = enc.EncodeString("execution_time_ms")
	_ = enc.EncodeUint(uint64(elapsed.Milliseconds()))
	_ = enc.EncodeString("timestamp")
	_ = enc.EncodeString(timestamp)
	return buf.Bytes()
}
