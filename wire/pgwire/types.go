package pgwire

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"tsgate/errs"
	"tsgate/model"
)

// colType is how one result column goes on the wire: the PostgreSQL type a
// client sees in RowDescription, chosen so that the values we send are
// exactly what that type's text and binary forms mean.
type colType struct {
	oid  uint32
	size int16
}

var (
	ctBool        = colType{pgtype.BoolOID, 1}
	ctInt2        = colType{pgtype.Int2OID, 2}
	ctInt4        = colType{pgtype.Int4OID, 4}
	ctInt8        = colType{pgtype.Int8OID, 8}
	ctFloat4      = colType{pgtype.Float4OID, 4}
	ctFloat8      = colType{pgtype.Float8OID, 8}
	ctText        = colType{pgtype.TextOID, -1}
	ctVarchar     = colType{pgtype.VarcharOID, -1}
	ctNumeric     = colType{pgtype.NumericOID, -1}
	ctTimestamptz = colType{pgtype.TimestamptzOID, 8}
	ctTimestamp   = colType{pgtype.TimestampOID, 8}
	ctDate        = colType{pgtype.DateOID, 4}
	ctOID         = colType{pgtype.OIDOID, 4}
	ctName        = colType{pgtype.NameOID, 64}
	ctUUID        = colType{pgtype.UUIDOID, 16}
	ctChar        = colType{pgtype.QCharOID, 1}
)

// columnType maps a result column to its wire type. The backend's own type
// name decides when it is a SQL type name DuckDB or PostgreSQL uses
// (INTEGER is int4, DECIMAL is numeric, double precision is float8); the
// model type decides otherwise: rows the gateway builds itself, and other
// backends' names (ClickHouse's Float64, Flux's long), whose values the
// backend already converted to the model type.
func columnType(c model.ResultColumn) colType {
	bt := strings.ToUpper(c.BackendType)
	if i := strings.IndexByte(bt, '('); i >= 0 {
		bt = bt[:i]
	}
	switch bt {
	case "BIGINT", "INT8", "UINTEGER":
		return ctInt8
	case "INTEGER", "INT4", "INT", "USMALLINT", "UTINYINT":
		return ctInt4
	case "SMALLINT", "INT2", "TINYINT":
		return ctInt2
	case "UBIGINT", "HUGEINT", "UHUGEINT", "DECIMAL", "NUMERIC":
		return ctNumeric
	case "DOUBLE", "FLOAT8", "DOUBLE PRECISION":
		return ctFloat8
	case "FLOAT", "REAL", "FLOAT4":
		return ctFloat4
	case "BOOLEAN", "BOOL":
		return ctBool
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		return ctTimestamptz
	case "TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP_US":
		return ctTimestamp
	case "DATE":
		return ctDate
	case "VARCHAR", "TEXT", "CHARACTER", "BPCHAR":
		return ctText
	case "CHARACTER VARYING":
		// PostgreSQL's name (a PostgreSQL backend, or a CAST(… AS
		// varchar) on DuckDB, whose own VARCHAR is any string: text).
		return ctVarchar
	case "UUID":
		return ctUUID
	case "OID":
		return ctOID
	case "NAME":
		return ctName
	case "CHAR":
		return ctChar
	}
	// Lists, structs, intervals and the like arrive rendered as text
	// (model.TypeText), and map to text below.
	switch c.Type {
	case model.TypeInt:
		return ctInt8
	case model.TypeUint:
		return ctNumeric
	case model.TypeFloat:
		return ctFloat8
	case model.TypeBool:
		return ctBool
	case model.TypeTime:
		return ctTimestamptz
	}
	return ctText
}

// pgEpochMicros is 2000-01-01 00:00:00 UTC, PostgreSQL's binary epoch.
const pgEpochMicros = 946_684_800_000_000

// appendText appends v's text form for wire type t. ok is false for NULL.
func appendText(dst []byte, t colType, v *model.Value) []byte {
	switch v.Type {
	case model.TypeInt:
		if t.oid == pgtype.BoolOID {
			return appendBoolText(dst, v.I != 0)
		}
		return strconv.AppendInt(dst, v.I, 10)
	case model.TypeUint:
		return strconv.AppendUint(dst, v.U, 10)
	case model.TypeFloat:
		if t.oid == pgtype.Float4OID {
			return appendFloat(dst, v.F, 32)
		}
		return appendFloat(dst, v.F, 64)
	case model.TypeBool:
		return appendBoolText(dst, v.B)
	case model.TypeTime:
		tm := time.UnixMicro(v.I).UTC()
		switch t.oid {
		case pgtype.DateOID:
			return tm.AppendFormat(dst, "2006-01-02")
		case pgtype.TimestampOID:
			return tm.AppendFormat(dst, "2006-01-02 15:04:05.999999")
		}
		dst = tm.AppendFormat(dst, "2006-01-02 15:04:05.999999")
		return append(dst, "+00"...)
	}
	return append(dst, v.S...)
}

func appendBoolText(dst []byte, b bool) []byte {
	if b {
		return append(dst, 't')
	}
	return append(dst, 'f')
}

// appendFloat prints like PostgreSQL 12+ float8out with the default
// extra_float_digits=1: the shortest text that reads back exactly,
// positional between 1e-4 and 1e15, exponential outside.
func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	a := math.Abs(f)
	if a == 0 || (a >= 1e-4 && a < 1e15) {
		return strconv.AppendFloat(dst, f, 'f', -1, bits)
	}
	return strconv.AppendFloat(dst, f, 'e', -1, bits)
}

// appendBinary appends v's binary form for wire type t, or reports that
// the type has no binary encoding here (the caller then fails the query
// with a clear error rather than sending bytes the client misreads).
func (c *conn) appendBinary(dst []byte, t colType, v *model.Value) ([]byte, error) {
	switch t.oid {
	case pgtype.Int8OID:
		return binary.BigEndian.AppendUint64(dst, uint64(intOf(v))), nil
	case pgtype.Int4OID:
		return binary.BigEndian.AppendUint32(dst, uint32(int32(intOf(v)))), nil
	case pgtype.Int2OID:
		return binary.BigEndian.AppendUint16(dst, uint16(int16(intOf(v)))), nil
	case pgtype.Float8OID:
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(v.F)), nil
	case pgtype.Float4OID:
		return binary.BigEndian.AppendUint32(dst, math.Float32bits(float32(v.F))), nil
	case pgtype.BoolOID:
		if v.B || (v.Type == model.TypeInt && v.I != 0) {
			return append(dst, 1), nil
		}
		return append(dst, 0), nil
	case pgtype.TimestamptzOID, pgtype.TimestampOID:
		return binary.BigEndian.AppendUint64(dst, uint64(v.I-pgEpochMicros)), nil
	case pgtype.DateOID:
		days := math.Floor(float64(v.I-pgEpochMicros) / 86_400_000_000)
		return binary.BigEndian.AppendUint32(dst, uint32(int32(days))), nil
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.NameOID, pgtype.QCharOID:
		return appendText(dst, t, v), nil
	}
	c.scratch = appendText(c.scratch[:0], t, v)
	if t.oid == pgtype.NumericOID {
		if out, ok := appendNumeric(dst, c.scratch); ok {
			return out, nil
		}
	}
	// Anything else (uuid, oid, a numeric in exponent form): go through
	// pgtype from the text form, so the layout is pgx's, which every
	// driver agrees with.
	var val any
	switch t.oid {
	case pgtype.NumericOID:
		var n pgtype.Numeric
		if err := n.Scan(string(c.scratch)); err != nil {
			return dst, errs.Wrap(errs.Internal, err, "numeric value "+string(c.scratch)+" has no binary form")
		}
		val = n
	case pgtype.OIDOID:
		u, err := strconv.ParseUint(string(c.scratch), 10, 32)
		if err != nil {
			return dst, errs.Wrap(errs.Internal, err, "oid value has no binary form")
		}
		val = uint32(u)
	default:
		val = string(c.scratch)
	}
	out, err := c.typeMap.Encode(t.oid, pgtype.BinaryFormatCode, val, dst)
	if err != nil {
		return dst, errs.Wrap(errs.Unsupported, err, "binary format is not supported for this column type; request text")
	}
	return out, nil
}

func intOf(v *model.Value) int64 {
	switch v.Type {
	case model.TypeUint:
		return int64(v.U)
	case model.TypeFloat:
		return int64(v.F)
	case model.TypeBool:
		if v.B {
			return 1
		}
		return 0
	case model.TypeString, model.TypeText:
		n, _ := strconv.ParseInt(v.S, 10, 64)
		return n
	}
	return v.I
}

// typeByName resolves the type names clients write in casts ($1::int) to
// OIDs, for parameter type inference.
func typeByName(name string) (uint32, bool) {
	switch strings.TrimPrefix(name, "pg_catalog.") {
	case "int", "int4", "integer":
		return pgtype.Int4OID, true
	case "int8", "bigint":
		return pgtype.Int8OID, true
	case "int2", "smallint":
		return pgtype.Int2OID, true
	case "float8", "double", "float":
		return pgtype.Float8OID, true
	case "float4", "real":
		return pgtype.Float4OID, true
	case "numeric", "decimal":
		return pgtype.NumericOID, true
	case "bool", "boolean":
		return pgtype.BoolOID, true
	case "text", "varchar", "name", "character":
		return pgtype.TextOID, true
	case "timestamptz":
		return pgtype.TimestamptzOID, true
	case "timestamp":
		return pgtype.TimestampOID, true
	case "date":
		return pgtype.DateOID, true
	case "uuid":
		return pgtype.UUIDOID, true
	case "oid", "regclass", "regtype", "regproc":
		return pgtype.OIDOID, true
	}
	return 0, false
}

// appendNumeric encodes a plain decimal ("-123.4500") in numeric's binary
// form — base-10000 digit groups, weight, sign, display scale — without
// allocating. ok is false for text it does not handle (exponents, NaN).
func appendNumeric(dst, s []byte) ([]byte, bool) {
	var sign uint16
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = 0x4000
		}
		s = s[1:]
	}
	ip, fp := s, s[:0]
	for i, ch := range s {
		if ch == '.' {
			ip, fp = s[:i], s[i+1:]
			break
		}
	}
	if len(ip)+len(fp) == 0 {
		return dst, false
	}
	var groups [48]uint16
	n := 0
	nInt := (len(ip) + 3) / 4
	if nInt+(len(fp)+3)/4 > len(groups) {
		return dst, false
	}
	// Integer groups, right-aligned on the decimal point.
	for g := 0; g < nInt; g++ {
		end := len(ip) - 4*(nInt-1-g)
		start := max(end-4, 0)
		var v uint16
		for _, ch := range ip[start:end] {
			if ch < '0' || ch > '9' {
				return dst, false
			}
			v = v*10 + uint16(ch-'0')
		}
		groups[n] = v
		n++
	}
	// Fraction groups, left-aligned, the last one zero-padded.
	for i := 0; i < len(fp); i += 4 {
		var v uint16
		for k := range 4 {
			d := uint16(0)
			if i+k < len(fp) {
				ch := fp[i+k]
				if ch < '0' || ch > '9' {
					return dst, false
				}
				d = uint16(ch - '0')
			}
			v = v*10 + d
		}
		groups[n] = v
		n++
	}
	weight := nInt - 1
	start, end := 0, n
	for start < end && groups[start] == 0 {
		start++
		weight--
	}
	for end > start && groups[end-1] == 0 {
		end--
	}
	if start == end {
		weight, sign = 0, 0
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(end-start))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
	dst = binary.BigEndian.AppendUint16(dst, sign)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(fp)))
	for _, g := range groups[start:end] {
		dst = binary.BigEndian.AppendUint16(dst, g)
	}
	return dst, true
}
