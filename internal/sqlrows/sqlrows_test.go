package sqlrows

import (
	"testing"
	"time"

	"tsgate/model"
)

func TestValue(t *testing.T) {
	ts := time.Date(2024, 3, 1, 12, 0, 0, 1000, time.UTC)
	for _, c := range []struct {
		in   any
		want model.Value
		ok   bool
	}{
		{nil, model.Value{}, true},
		{float32(1.5), model.Float(1.5), true},
		{int8(-3), model.Int(-3), true},
		{int32(7), model.Int(7), true},
		{uint16(9), model.Uint(9), true},
		{uint64(1) << 63, model.Uint(1 << 63), true},
		{"x", model.String("x"), true},
		{true, model.Bool(true), true},
		{ts, model.Time(ts.UnixMicro()), true},
		{[]any{1}, model.Value{}, false},
	} {
		if got, ok := Value(c.in); got != c.want || ok != c.ok {
			t.Errorf("Value(%#v) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestFieldType(t *testing.T) {
	for in, want := range map[string]model.FieldType{
		"TIMESTAMPTZ": model.TypeTime, "TIMESTAMP WITH TIME ZONE": model.TypeTime, "TIMESTAMP_NS": model.TypeTime,
		"DATE": model.TypeTime, "TINYINT": model.TypeInt, "BIGINT": model.TypeInt, "UBIGINT": model.TypeUint,
		"FLOAT": model.TypeFloat, "DOUBLE": model.TypeFloat, "VARCHAR": model.TypeString, "BOOLEAN": model.TypeBool,
		"HUGEINT": model.TypeText, "DECIMAL(18,3)": model.TypeText, "INTEGER[]": model.TypeText,
	} {
		if got := FieldType(in); got != want {
			t.Errorf("FieldType(%q) = %v; want %v", in, got, want)
		}
	}
}
