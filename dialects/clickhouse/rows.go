package clickhouse

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"tsgate/dialects/backendkit"
	"tsgate/errs"
	"tsgate/model"
)

// tsvRows streams TabSeparatedWithNamesAndTypes: a names line, a types
// line, then one line per row; fields separated by raw tabs (a tab in a
// value is escaped), \N for NULL.
type tsvRows struct {
	backendkit.Stream
	ctx   context.Context
	br    *bufio.Reader
	kinds []kind
	locs  []*time.Location
	line  []byte
}

type kind uint8

const (
	kText kind = iota
	kBool
	kInt
	kUint
	kFloat
	kString
	kDateTime
	kDate
	kNull
)

func (r *tsvRows) readLine() ([]byte, error) {
	r.line = r.line[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		r.line = append(r.line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(r.line) == 0 {
				return nil, io.EOF
			}
			if errors.Is(err, io.EOF) {
				return r.line, nil
			}
			return nil, err
		}
		return r.line[:len(r.line)-1], nil
	}
}

func (r *tsvRows) header() error {
	names, err := r.readLine()
	if errors.Is(err, io.EOF) {
		// A statement without a result set.
		r.Done = true
		return nil
	}
	if err != nil {
		return r.fail(err)
	}
	nameFields := splitTSV(append([]byte(nil), names...))
	types, err := r.readLine()
	if err != nil {
		return r.fail(err)
	}
	typeFields := splitTSV(types)
	if len(typeFields) != len(nameFields) {
		return errs.Newf(errs.Engine, "clickhouse: %d names for %d types", len(nameFields), len(typeFields))
	}
	r.Cols = make([]model.ResultColumn, len(nameFields))
	r.kinds = make([]kind, len(nameFields))
	r.locs = make([]*time.Location, len(nameFields))
	for i := range nameFields {
		typ := unescape(typeFields[i])
		k, loc := kindOf(typ)
		r.kinds[i], r.locs[i] = k, loc
		r.Cols[i] = model.ResultColumn{Name: unescape(nameFields[i]), Type: resultType(k), BackendType: typ}
	}
	return nil
}

// kindOf maps a ClickHouse type name; DateTime carries its time zone
// (DateTime('UTC')) or is in the server's, which tsgate requires to be
// UTC (scripts/backends.sh configures it).
func kindOf(typ string) (kind, *time.Location) {
	t := typ
	if strings.HasPrefix(t, "Nullable(") {
		t = strings.TrimSuffix(strings.TrimPrefix(t, "Nullable("), ")")
	}
	if strings.HasPrefix(t, "LowCardinality(") {
		t = strings.TrimSuffix(strings.TrimPrefix(t, "LowCardinality("), ")")
	}
	switch {
	case t == "UInt8":
		return kBool, nil
	case t == "UInt16" || t == "UInt32" || t == "UInt64":
		return kUint, nil
	case t == "Int8" || t == "Int16" || t == "Int32" || t == "Int64":
		return kInt, nil
	case t == "Float32" || t == "Float64":
		return kFloat, nil
	case t == "String" || strings.HasPrefix(t, "FixedString("):
		return kString, nil
	case t == "Date":
		return kDate, time.UTC
	case t == "DateTime":
		return kDateTime, time.UTC
	case strings.HasPrefix(t, "DateTime('"):
		name := strings.TrimSuffix(strings.TrimPrefix(t, "DateTime('"), "')")
		loc, err := time.LoadLocation(name)
		if err != nil {
			return kText, nil
		}
		return kDateTime, loc
	case t == "Nothing":
		return kNull, nil
	}
	return kText, nil
}

func resultType(k kind) model.FieldType {
	switch k {
	case kBool:
		return model.TypeBool
	case kInt:
		return model.TypeInt
	case kUint:
		return model.TypeUint
	case kFloat:
		return model.TypeFloat
	case kString:
		return model.TypeString
	case kDateTime, kDate:
		return model.TypeTime
	case kNull:
		return model.TypeUnknown
	}
	return model.TypeText
}

func (r *tsvRows) fail(err error) error {
	return r.Fail(backendkit.ReadError(r.ctx, "clickhouse", err, "clickhouse: reading the result failed"))
}

func (r *tsvRows) Next(dst []model.Value) bool {
	if r.Done {
		return false
	}
	line, err := r.readLine()
	if errors.Is(err, io.EOF) {
		r.Done = true
		return false
	}
	if err != nil {
		r.fail(err)
		return false
	}
	fields := splitTSV(line)
	if len(fields) != len(r.Cols) {
		r.fail(errs.Newf(errs.Engine, "clickhouse: row has %d fields for %d columns", len(fields), len(r.Cols)))
		return false
	}
	for i, f := range fields {
		v, err := r.parse(i, f)
		if err != nil {
			r.fail(errs.Wrap(errs.Engine, err, "clickhouse: column "+r.Cols[i].Name+": "+err.Error()))
			return false
		}
		dst[i] = v
	}
	return true
}

func (r *tsvRows) parse(i int, f []byte) (model.Value, error) {
	if len(f) == 2 && f[0] == '\\' && f[1] == 'N' {
		return model.Value{}, nil
	}
	switch r.kinds[i] {
	case kBool:
		return model.Bool(len(f) == 1 && f[0] != '0'), nil
	case kInt:
		n, err := strconv.ParseInt(string(f), 10, 64)
		return model.Int(n), err
	case kUint:
		n, err := strconv.ParseUint(string(f), 10, 64)
		return model.Uint(n), err
	case kFloat:
		x, err := strconv.ParseFloat(string(f), 64)
		return model.Float(x), err
	case kString:
		return model.String(unescape(f)), nil
	case kDateTime:
		// DateTime 0 (the epoch itself) prints as the zero date.
		if string(f) == "0000-00-00 00:00:00" {
			return model.Time(0), nil
		}
		t, err := time.ParseInLocation("2006-01-02 15:04:05", string(f), r.locs[i])
		return model.Time(t.UnixMicro()), err
	case kDate:
		if string(f) == "0000-00-00" {
			return model.Time(0), nil
		}
		t, err := time.ParseInLocation("2006-01-02", string(f), time.UTC)
		return model.Time(t.UnixMicro()), err
	case kNull:
		return model.Value{}, nil
	}
	return model.Value{Type: model.TypeText, S: unescape(f)}, nil
}

// splitTSV splits a line at raw tabs; the fields alias line.
func splitTSV(line []byte) [][]byte {
	return bytes.Split(line, []byte{'\t'})
}

// unescape undoes ClickHouse's TSV escaping.
func unescape(f []byte) string {
	if bytes.IndexByte(f, '\\') < 0 {
		return string(f)
	}
	out := make([]byte, 0, len(f))
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '\\' || i+1 == len(f) {
			out = append(out, c)
			continue
		}
		i++
		switch f[i] {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case '0':
			out = append(out, 0)
		default: // \\ \' and anything else: the character itself
			out = append(out, f[i])
		}
	}
	return string(out)
}
