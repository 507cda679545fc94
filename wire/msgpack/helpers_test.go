package msgpack

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"tsgate/errs"
	"tsgate/model"
)

// kv and omap build maps with a fixed key order, so payloads (and the
// messages that name the first column) are deterministic.
type kv struct {
	k string
	v any
}
type omap []kv

// raw is bytes written as they are.
type raw []byte

func enc(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	if err := encode(e, &buf, v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encode(e *msgpack.Encoder, buf *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case omap:
		if err := e.EncodeMapLen(len(v)); err != nil {
			return err
		}
		for _, p := range v {
			if err := e.EncodeString(p.k); err != nil {
				return err
			}
			if err := encode(e, buf, p.v); err != nil {
				return err
			}
		}
		return nil
	case []any:
		if err := e.EncodeArrayLen(len(v)); err != nil {
			return err
		}
		for _, x := range v {
			if err := encode(e, buf, x); err != nil {
				return err
			}
		}
		return nil
	case raw:
		buf.Write(v)
		return nil
	case int:
		return e.EncodeInt(int64(v))
	case int64:
		return e.EncodeInt(v)
	case uint64:
		return e.EncodeUint(v)
	case float32:
		return e.EncodeFloat32(v)
	case float64:
		return e.EncodeFloat64(v)
	case nil:
		return e.EncodeNil()
	}
	return e.Encode(v)
}

type colView struct {
	Tag    bool
	Type   model.FieldType
	Values []model.Value
}

type tableView struct {
	Measurement string
	Time        []int64
	Columns     map[string]colView
}

type batchView struct {
	Tables  []tableView
	Dropped int
	Errors  []string
}

func view(t testing.TB, b *model.Batch) batchView {
	t.Helper()
	var v batchView
	for _, tb := range b.Tables {
		if err := tb.Validate(); err != nil {
			t.Fatalf("table %s: %v", tb.Measurement, err)
		}
		tv := tableView{Measurement: tb.Measurement, Time: tb.Time, Columns: map[string]colView{}}
		for _, c := range tb.Columns {
			cv := colView{Tag: c.Tag, Type: c.Type}
			for i := range c.Len() {
				cv.Values = append(cv.Values, c.At(i))
			}
			name := c.Name
			if _, dup := tv.Columns[name]; dup {
				// A type variant (see model.Table): keyed name/type.
				name += "/" + c.Type.String()
			}
			tv.Columns[name] = cv
		}
		v.Tables = append(v.Tables, tv)
	}
	v.Dropped = b.Dropped
	for _, err := range b.Errors {
		var e *errs.Error
		if !errors.As(err, &e) {
			t.Errorf("rejection %v is %T, not *errs.Error", err, err)
		}
		v.Errors = append(v.Errors, err.Error())
	}
	return v
}

var (
	now   = time.Unix(1_700_000_000, 123_456_789)
	nowUS = now.UnixMicro()
	f     = model.Float
	i     = model.Int
	u     = model.Uint
	s     = model.String
	bo    = model.Bool
	null  = model.Value{}
)

func tag(vals ...model.Value) colView {
	return colView{Tag: true, Type: model.TypeString, Values: vals}
}

func field(typ model.FieldType, vals ...model.Value) colView {
	return colView{Type: typ, Values: vals}
}
