package arc

import (
	"bytes"
	"math"
	"strconv"
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
}

func (e *jsonEncoder) contentType() string { return "application/json" }
func (e *jsonEncoder) streaming() bool     { return true }

func (e *jsonEncoder) begin(b []byte, cols []model.ResultColumn) []byte {
	b = append(b, `{"success":true,"columns":[`...)
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, c.Name)
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

// wireType names a column's type as Arc's msgpack `types` list does.
func wireType(t model.FieldType) string {
	switch t {
	case model.TypeFloat:
		return "float64"
	case model.TypeInt:
		return "int64"
	case model.TypeUint:
		return "uint64"
	case model.TypeString:
		return "utf8"
	case model.TypeBool:
		return "bool"
	case model.TypeTime:
		return "timestamp[us]"
	case model.TypeText:
		return "string_encoded"
	}
	return "null"
}

func (e *msgpackEncoder) end(b []byte, rows int, elapsed, _ time.Duration, timestamp string) []byte {
	buf := bytes.NewBuffer(b)
	enc := msgpack.NewEncoder(buf)
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
	for _, c := range e.cols {
		_ = enc.EncodeString(wireType(c.Type))
	}
	_ = enc.EncodeString("data")
	_ = enc.EncodeArrayLen(len(e.cols))
	for _, col := range e.data {
		_ = enc.EncodeArrayLen(len(col))
		for _, v := range col {
			switch v.Type {
			case model.TypeFloat:
				_ = enc.EncodeFloat64(v.F)
			case model.TypeInt, model.TypeTime:
				_ = enc.EncodeInt64(v.I)
			case model.TypeUint:
				_ = enc.EncodeUint64(v.U)
			case model.TypeString, model.TypeText:
				_ = enc.EncodeString(v.S)
			case model.TypeBool:
				_ = enc.EncodeBool(v.B)
			default:
				_ = enc.EncodeNil()
			}
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
