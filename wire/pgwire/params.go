package pgwire

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"tsgate/errs"
	"tsgate/model"
)

// Parameters are bound by inlining them as literals into the PostgreSQL
// text before translation: the translator and every backend then see an
// ordinary query, and a value can never change the query's structure
// because each becomes exactly one literal token (strings quoted with
// standard_conforming_strings semantics, numbers validated and
// parenthesized when negative so "x-$1" cannot become a comment).

// paramCount is the highest $n in q.
func paramCount(q string) int {
	n := 0
	scan(q, func(t token) bool {
		if t.kind == tokParam && t.param > n {
			n = t.param
		}
		return true
	})
	return n
}

// inferParamTypes fills unspecified (0) parameter types the way the
// PostgreSQL analyzer would for the shapes clients send: an explicit cast
// ($1::int8) gives its type, LIMIT/OFFSET take int8; what is left is 0
// for the executor's inference (the column a parameter is compared with)
// and then text, which PostgreSQL also falls back to for an unknown-typed
// parameter. The inlined literal for text is an untyped string literal,
// so the backend still coerces it to the column it is compared with.
func inferParamTypes(q string, given []uint32) []uint32 {
	n := paramCount(q)
	if len(given) > n {
		n = len(given)
	}
	out := make([]uint32, n)
	copy(out, given)
	toks := tokens(q, 0)
	for i, t := range toks {
		if t.kind != tokParam || t.param < 1 || t.param > n || out[t.param-1] != 0 {
			continue
		}
		if i+2 < len(toks) && toks[i+1].kind == tokOp && toks[i+1].text == "::" && toks[i+2].kind == tokIdent {
			name := toks[i+2].text
			if name == "pg_catalog" && i+4 < len(toks) && toks[i+4].kind == tokIdent {
				name = toks[i+4].text
			}
			if oid, ok := typeByName(name); ok {
				out[t.param-1] = oid
				continue
			}
		}
		if i > 0 && toks[i-1].kind == tokIdent && (toks[i-1].text == "limit" || toks[i-1].text == "offset") {
			out[t.param-1] = pgtype.Int8OID
		}
	}
	return out
}

// defaultParamTypes resolves what is still unknown to text.
func defaultParamTypes(oids []uint32) {
	for i := range oids {
		if oids[i] == 0 {
			oids[i] = pgtype.TextOID
		}
	}
}

// fieldOID is the parameter type for a column of model type ft.
func fieldOID(ft model.FieldType) uint32 {
	switch ft {
	case model.TypeInt:
		return pgtype.Int8OID
	case model.TypeUint:
		return pgtype.NumericOID
	case model.TypeFloat:
		return pgtype.Float8OID
	case model.TypeBool:
		return pgtype.BoolOID
	case model.TypeTime:
		return pgtype.TimestamptzOID
	}
	return pgtype.TextOID
}

// bindParams returns q with each $n replaced by the literal for values[n-1].
func bindParams(q string, oids []uint32, formats []int16, values [][]byte) (string, error) {
	if len(values) == 0 {
		if n := paramCount(q); n > 0 {
			return "", sqlErrf(errs.Invalid, "42P02", "there is no parameter $%d", n)
		}
		return q, nil
	}
	lits := make([]string, len(values))
	for i, v := range values {
		var oid uint32
		if i < len(oids) {
			oid = oids[i]
		}
		format := int16(0)
		switch {
		case len(formats) == 1:
			format = formats[0]
		case len(formats) == len(values):
			format = formats[i]
		}
		lit, err := literal(oid, format, v)
		if err != nil {
			return "", err
		}
		lits[i] = lit
	}
	var sb strings.Builder
	sb.Grow(len(q) + 16*len(lits))
	last := 0
	bad := -1 // $0 is a token too, and just as wrong
	scan(q, func(t token) bool {
		if t.kind != tokParam {
			return true
		}
		if t.param < 1 || t.param > len(lits) {
			bad = t.param
			return false
		}
		sb.WriteString(q[last:t.start])
		sb.WriteString(lits[t.param-1])
		last = t.end
		return true
	})
	if bad >= 0 {
		return "", sqlErrf(errs.Invalid, "42P02", "there is no parameter $%d", bad)
	}
	sb.WriteString(q[last:])
	return sb.String(), nil
}

// literal renders one bound value as a PostgreSQL literal.
func literal(oid uint32, format int16, v []byte) (string, error) {
	if v == nil {
		return "NULL", nil
	}
	if format == pgtype.BinaryFormatCode {
		s, err := binaryToText(oid, v)
		if err != nil {
			return "", err
		}
		v = []byte(s)
	}
	s := string(v)
	switch oid {
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return "", sqlErrf(errs.Invalid, "22P02", "invalid input syntax for type integer: %q", s)
		}
		return signed(strconv.FormatInt(n, 10)), nil
	case pgtype.Float4OID, pgtype.Float8OID, pgtype.NumericOID:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return "", sqlErrf(errs.Invalid, "22P02", "invalid input syntax for type double precision: %q", s)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return quote(s) + "::float8", nil
		}
		if oid == pgtype.NumericOID {
			// Keep the client's digits: numeric is exact.
			return signed(strings.TrimSpace(s)), nil
		}
		return signed(strconv.FormatFloat(f, 'g', -1, 64)), nil
	case pgtype.BoolOID:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "t", "true", "1", "yes", "y", "on":
			return "TRUE", nil
		case "f", "false", "0", "no", "n", "off":
			return "FALSE", nil
		}
		return "", sqlErrf(errs.Invalid, "22P02", "invalid input syntax for type boolean: %q", s)
	case pgtype.TimestamptzOID:
		return quote(s) + "::timestamptz", nil
	case pgtype.TimestampOID:
		return quote(s) + "::timestamp", nil
	case pgtype.DateOID:
		return quote(s) + "::date", nil
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", sqlErrf(errs.Invalid, "22021", "invalid byte sequence for encoding \"UTF8\": 0x00")
	}
	return quote(s), nil
}

func signed(s string) string {
	if strings.HasPrefix(s, "-") {
		return "(" + s + ")"
	}
	return s
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// binaryToText decodes a binary parameter of the common types.
func binaryToText(oid uint32, v []byte) (string, error) {
	bad := func() (string, error) {
		return "", sqlErrf(errs.Invalid, "22P03", "incorrect binary data format in bind parameter (type oid %d, %d bytes)", oid, len(v))
	}
	switch oid {
	case pgtype.Int2OID:
		if len(v) != 2 {
			return bad()
		}
		return strconv.FormatInt(int64(int16(binary.BigEndian.Uint16(v))), 10), nil
	case pgtype.Int4OID:
		if len(v) != 4 {
			return bad()
		}
		return strconv.FormatInt(int64(int32(binary.BigEndian.Uint32(v))), 10), nil
	case pgtype.OIDOID:
		if len(v) != 4 {
			return bad()
		}
		return strconv.FormatUint(uint64(binary.BigEndian.Uint32(v)), 10), nil
	case pgtype.Int8OID:
		if len(v) != 8 {
			return bad()
		}
		return strconv.FormatInt(int64(binary.BigEndian.Uint64(v)), 10), nil
	case pgtype.Float4OID:
		if len(v) != 4 {
			return bad()
		}
		return strconv.FormatFloat(float64(math.Float32frombits(binary.BigEndian.Uint32(v))), 'g', -1, 32), nil
	case pgtype.Float8OID:
		if len(v) != 8 {
			return bad()
		}
		return strconv.FormatFloat(math.Float64frombits(binary.BigEndian.Uint64(v)), 'g', -1, 64), nil
	case pgtype.BoolOID:
		if len(v) != 1 {
			return bad()
		}
		if v[0] != 0 {
			return "t", nil
		}
		return "f", nil
	case pgtype.TimestamptzOID, pgtype.TimestampOID:
		if len(v) != 8 {
			return bad()
		}
		us := int64(binary.BigEndian.Uint64(v)) + pgEpochMicros
		s := time.UnixMicro(us).UTC().Format("2006-01-02 15:04:05.999999")
		if oid == pgtype.TimestamptzOID {
			s += "+00"
		}
		return s, nil
	case pgtype.DateOID:
		if len(v) != 4 {
			return bad()
		}
		d := int64(int32(binary.BigEndian.Uint32(v)))
		return time.UnixMicro(pgEpochMicros + d*86_400_000_000).UTC().Format("2006-01-02"), nil
	case pgtype.NumericOID:
		var n pgtype.Numeric
		if err := (pgtype.NumericCodec{}).PlanScan(nil, oid, pgtype.BinaryFormatCode, &n).Scan(v, &n); err != nil {
			return bad()
		}
		b, err := n.MarshalJSON()
		if err != nil {
			return bad()
		}
		return string(b), nil
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.NameOID, pgtype.BPCharOID, 0, pgtype.UnknownOID, pgtype.JSONOID:
		return string(v), nil
	case pgtype.UUIDOID:
		if len(v) != 16 {
			return bad()
		}
		var u pgtype.UUID
		copy(u.Bytes[:], v)
		u.Valid = true
		s, _ := u.Value()
		return s.(string), nil
	}
	return "", &errs.Error{Code: errs.Unsupported, Msg: fmt.Sprintf("binary format for parameters of type oid %d is not supported", oid), Hint: "send this parameter in text format"}
}
