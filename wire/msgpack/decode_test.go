package msgpack

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"tsgate/errs"
	bt "tsgate/internal/batchtest"
	"tsgate/model"
)

const sec = int64(1_700_000_000)

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want bt.Batch
	}{
		{
			name: "columnar",
			in: omap{{"m", "cpu"}, {"columns", omap{
				{"time", []any{sec * 1000, sec*1000 + 1}},
				{"host", []any{"a", "b"}},
				{"v", []any{1.5, 2.5}},
				{"n", []any{1, -2}},
				{"ok", []any{true, false}},
			}}},
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "cpu", Time: []int64{sec * 1e6, sec*1e6 + 1000},
				Columns: map[string]bt.Col{
					"host": bt.Field(model.TypeString, s("a"), s("b")),
					"v":    bt.Field(model.TypeFloat, f(1.5), f(2.5)),
					"n":    bt.Field(model.TypeInt, i(1), i(-2)),
					"ok":   bt.Field(model.TypeBool, bo(true), bo(false)),
				},
			}}},
		},
		{
			name: "key order does not matter",
			in:   omap{{"columns", omap{{"v", []any{1.0}}}}, {"extra", omap{{"x", []any{1}}}}, {"m", "cpu"}},
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "cpu", Time: []int64{nowUS},
				Columns: map[string]bt.Col{"v": bt.Field(model.TypeFloat, f(1))},
			}}},
		},
		{
			name: "time units guessed from the first value",
			in: []any{
				omap{{"m", "s"}, {"columns", omap{{"time", []any{sec, sec + 1}}, {"v", []any{1, 2}}}}},
				omap{{"m", "ms"}, {"columns", omap{{"time", []any{sec * 1e3}}, {"v", []any{1}}}}},
				omap{{"m", "us"}, {"columns", omap{{"time", []any{sec * 1e6}}, {"v", []any{1}}}}},
				omap{{"m", "ns"}, {"columns", omap{{"time", []any{sec*1e9 + 999, -1}}, {"v", []any{1, 2}}}}},
				omap{{"m", "fl"}, {"columns", omap{{"time", []any{float64(sec) + 0.9, float32(1e9)}}, {"v", []any{1, 2}}}}},
				omap{{"m", "u64"}, {"columns", omap{{"time", []any{uint64(sec * 1e9)}}, {"v", []any{1}}}}},
			},
			want: bt.Batch{Tables: []bt.Table{
				{Measurement: "s", Time: []int64{sec * 1e6, (sec + 1) * 1e6}, Columns: map[string]bt.Col{"v": bt.Field(model.TypeInt, i(1), i(2))}},
				{Measurement: "ms", Time: []int64{sec * 1e6}, Columns: map[string]bt.Col{"v": bt.Field(model.TypeInt, i(1))}},
				{Measurement: "us", Time: []int64{sec * 1e6}, Columns: map[string]bt.Col{"v": bt.Field(model.TypeInt, i(1))}},
				{Measurement: "ns", Time: []int64{sec * 1e6, -1}, Columns: map[string]bt.Col{"v": bt.Field(model.TypeInt, i(1), i(2))}},
				{Measurement: "fl", Time: []int64{sec * 1e6, 1e15}, Columns: map[string]bt.Col{"v": bt.Field(model.TypeInt, i(1), i(2))}},
				{Measurement: "u64", Time: []int64{sec * 1e6}, Columns: map[string]bt.Col{"v": bt.Field(model.TypeInt, i(1))}},
			}},
		},
		{
			name: "nil holes are NULL and an all-nil column is a NULL string column",
			in: omap{{"m", "cpu"}, {"columns", omap{
				{"time", []any{sec, sec}},
				{"a", []any{nil, 1.0}},
				{"b", []any{"x", nil}},
				{"c", []any{nil, nil}},
			}}},
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "cpu", Time: []int64{sec * 1e6, sec * 1e6},
				Columns: map[string]bt.Col{
					"a": bt.Field(model.TypeFloat, null, f(1)),
					"b": bt.Field(model.TypeString, s("x"), null),
					"c": bt.Field(model.TypeString, null, null),
				},
			}}},
		},
		{
			name: "ints and floats widen to float",
			in: omap{{"m", "cpu"}, {"columns", omap{
				{"a", []any{1, nil, 2.5, -3}},
				{"b", []any{0.5, 1 << 53, nil, uint64(1 << 63)}},
			}}},
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "cpu", Time: []int64{nowUS, nowUS, nowUS, nowUS},
				Columns: map[string]bt.Col{
					"a": bt.Field(model.TypeFloat, f(1), null, f(2.5), f(-3)),
					"b": bt.Field(model.TypeFloat, f(0.5), f(1<<53), null, f(1<<63)),
				},
			}}},
		},
		{
			name: "non-negative ints beyond int64 make a uint64 column",
			in: omap{{"m", "cpu"}, {"columns", omap{
				{"a", []any{1, uint64(math.MaxUint64), nil}},
			}}},
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "cpu", Time: []int64{nowUS, nowUS, nowUS},
				Columns: map[string]bt.Col{
					"a": bt.Field(model.TypeUint, u(1), u(math.MaxUint64), null),
				},
			}}},
		},
		{
			name: "integer measurement and invalid UTF-8",
			in:   omap{{"m", 42}, {"columns", omap{{"s", []any{"a\xffb"}}}}},
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "measurement_42", Time: []int64{nowUS},
				Columns: map[string]bt.Col{"s": bt.Field(model.TypeString, s("a\uFFFDb"))},
			}}},
		},
		{
			name: "array of maps, same measurement twice, sparse across items",
			in: []any{
				omap{{"m", "cpu"}, {"columns", omap{{"time", []any{sec}}, {"a", []any{1.0}}}}},
				omap{{"m", "cpu"}, {"columns", omap{{"time", []any{sec + 1, sec + 2}}, {"b", []any{"x", "y"}}, {"a", []any{nil, 2.0}}}}},
			},
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "cpu", Time: []int64{sec * 1e6, (sec + 1) * 1e6, (sec + 2) * 1e6},
				Columns: map[string]bt.Col{
					"a": bt.Field(model.TypeFloat, f(1), null, f(2)),
					"b": bt.Field(model.TypeString, null, s("x"), s("y")),
				},
			}}},
		},
		{
			name: "batch mixing columnar and row",
			in: omap{{"batch", []any{
				omap{{"m", "cpu"}, {"columns", omap{{"time", []any{sec}}, {"v", []any{1.0}}}}},
				omap{{"m", "mem"}, {"t", sec * 1000}, {"h", "srv"}, {"fields", omap{{"used", 5}, {"free", 1.5}}}, {"tags", omap{{"dc", "x"}}}},
			}}},
			want: bt.Batch{Tables: []bt.Table{
				{Measurement: "cpu", Time: []int64{sec * 1e6}, Columns: map[string]bt.Col{"v": bt.Field(model.TypeFloat, f(1))}},
				{Measurement: "mem", Time: []int64{sec * 1e6}, Columns: map[string]bt.Col{
					"dc":   bt.Tag(s("x")),
					"host": bt.Tag(s("srv")),
					"used": bt.Field(model.TypeInt, i(5)),
					"free": bt.Field(model.TypeFloat, f(1.5)),
				}},
			}},
		},
		{
			name: "row form details",
			in: []any{
				// no t: now; no h: host "unknown"; field named like a tag
				omap{{"m", "r"}, {"fields", omap{{"dc", 1.0}, {"s", "txt"}, {"b", true}, {"n", nil}}}, {"tags", omap{{"dc", "x"}, {"num", 7}, {"fl", 1.5}, {"yes", true}, {"nil", nil}}}},
				// explicit tags.host survives a missing h
				omap{{"m", "r"}, {"t", sec}, {"tags", omap{{"host", "mine"}}}, {"fields", omap{{"v", 1}}}},
				// integer h, compact f, ns t
				omap{{"m", "r"}, {"t", sec * 1e9}, {"h", 7}, {"f", []any{1.5, "x"}}},
				// empty h adds no host; uint beyond int64
				omap{{"m", "r"}, {"t", float64(sec)}, {"h", ""}, {"fields", omap{{"big", uint64(math.MaxUint64)}}}},
			},
			want: bt.Batch{Tables: []bt.Table{{
				Measurement: "r", Time: []int64{nowUS, sec * 1e6, sec * 1e6, sec * 1e6},
				Columns: map[string]bt.Col{
					"dc":       bt.Tag(s("x"), null, null, null),
					"num":      bt.Tag(s("7"), null, null, null),
					"fl":       bt.Tag(s("1.5"), null, null, null),
					"yes":      bt.Tag(s("true"), null, null, null),
					"host":     bt.Tag(s("unknown"), s("mine"), s("host_7"), null),
					"dc_value": bt.Field(model.TypeFloat, f(1), null, null, null),
					"s":        bt.Field(model.TypeString, s("txt"), null, null, null),
					"b":        bt.Field(model.TypeBool, bo(true), null, null, null),
					"v":        bt.Field(model.TypeInt, null, i(1), null, null),
					"field_0":  bt.Field(model.TypeFloat, null, null, f(1.5), null),
					"field_1":  bt.Field(model.TypeString, null, null, s("x"), null),
					"big":      bt.Field(model.TypeUint, null, null, null, u(math.MaxUint64)),
				},
			}}},
		},
		{
			name: "bad items in an array are dropped one by one",
			in: []any{
				omap{{"m", "cpu"}, {"columns", omap{{"v", []any{1.0, 2.0}}, {"w", []any{1.0}}}}},
				"not a map",
				omap{{"columns", omap{{"v", []any{1.0}}}}},
				omap{{"m", "cpu"}, {"columns", omap{{"v", []any{1.0}}}}},
				omap{{"m", "cpu"}, {"columns", omap{{"v", []any{"str"}}}}},
				omap{{"m", "cpu"}, {"batch", []any{}}},
			},
			want: bt.Batch{
				Tables: []bt.Table{{Measurement: "cpu", Time: []int64{nowUS, nowUS}, Columns: map[string]bt.Col{
					"v":        bt.Field(model.TypeFloat, f(1), null),
					"v/string": bt.Field(model.TypeString, null, s("str")),
				}}},
				Dropped: 4,
				Errors: []string{
					"Invalid MessagePack payload: columnar format: array length mismatch (expected 2, got 1 for 'w')",
					"Invalid MessagePack payload: item 1: unsupported item type: string",
					"Invalid MessagePack payload: missing required field 'm' (measurement)",
					"Invalid MessagePack payload: nested batch is not supported",
				},
			},
		},
		{
			name: "empty array",
			in:   []any{},
			want: bt.Batch{},
		},
		{
			name: "zero-row columns store nothing",
			in:   omap{{"m", "cpu"}, {"columns", omap{{"time", []any{}}, {"v", []any{}}}}},
			want: bt.Batch{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b model.Batch
			if err := Decode(enc(t, tt.in), now, &b); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tt.want, bt.View(t, &b), cmpopts.EquateNaNs(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("batch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	col := func(cols ...kv) omap { return omap{{"m", "cpu"}, {"columns", omap(cols)}} }
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"length mismatch", col(kv{"time", []any{1, 2}}, kv{"v", []any{1}}),
			"Invalid MessagePack payload: columnar format: array length mismatch (expected 2, got 1 for 'v')"},
		{"missing m", omap{{"columns", omap{{"v", []any{1}}}}},
			"Invalid MessagePack payload: missing required field 'm' (measurement)"},
		{"nil m", omap{{"m", nil}, {"columns", omap{{"v", []any{1}}}}},
			"Invalid MessagePack payload: missing required field 'm' (measurement)"},
		{"float m", omap{{"m", 1.5}, {"columns", omap{{"v", []any{1}}}}},
			"Invalid MessagePack payload: invalid measurement type: float64"},
		{"empty columns", omap{{"m", "cpu"}, {"columns", omap{}}},
			"Invalid MessagePack payload: columnar format requires non-empty 'columns' dict"},
		{"nil column", col(kv{"v", nil}),
			"Invalid MessagePack payload: column 'v' is nil"},
		{"scalar column", col(kv{"v", 1}),
			"Invalid MessagePack payload: column 'v' is not an array (got int8)"},
		{"duplicate column", col(kv{"v", []any{1}}, kv{"v", []any{2}}),
			"Invalid MessagePack payload: duplicate column 'v'"},
		{"empty column name", col(kv{"", []any{1}}),
			"Invalid MessagePack payload: column name must not be empty"},
		{"string time", col(kv{"time", []any{"2024-01-01"}}, kv{"v", []any{1}}),
			"Invalid MessagePack payload: failed to normalize timestamps: invalid timestamp type in columnar format: string"},
		{"nil time later", col(kv{"time", []any{1, nil}}, kv{"v", []any{1, 2}}),
			"Invalid MessagePack payload: failed to normalize timestamps: invalid timestamp type at index 1: <nil>"},
		{"NaN time", col(kv{"time", []any{math.NaN()}}, kv{"v", []any{1}}),
			"Invalid MessagePack payload: failed to normalize timestamps: timestamp out of range at index 0"},
		{"overflowing time", col(kv{"time", []any{1, int64(math.MaxInt64 / 10)}}, kv{"v", []any{1, 2}}),
			"Invalid MessagePack payload: failed to normalize timestamps: timestamp out of range at index 1"},
		{"uint64 time beyond int64", col(kv{"time", []any{uint64(math.MaxUint64)}}),
			"Invalid MessagePack payload: failed to normalize timestamps: timestamp out of range at index 0"},
		{"int then string", col(kv{"v", []any{1, "x"}}),
			"Invalid MessagePack payload: cannot convert string to int64 in column 'v'"},
		{"float then bool", col(kv{"v", []any{1.5, true}}),
			"Invalid MessagePack payload: cannot convert bool to float64 in column 'v'"},
		{"string then int", col(kv{"v", []any{"x", 1}}),
			"Invalid MessagePack payload: unexpected type in string column 'v': int8"},
		{"bool then float", col(kv{"v", []any{true, 1.5}}),
			"Invalid MessagePack payload: unexpected type in bool column 'v': float64"},
		{"binary", col(kv{"v", []any{[]byte("x")}}),
			"Invalid MessagePack payload: unsupported column type for 'v': []uint8"},
		{"nested", col(kv{"v", []any{[]any{1}}}),
			"Invalid MessagePack payload: unsupported column type for 'v': []interface {}"},
		{"lossy widening", col(kv{"v", []any{int64(1<<53 + 1), 0.5}}),
			"Invalid MessagePack payload: column 'v': integer 9007199254740993 cannot be stored exactly in a float column"},
		{"lossy widening after float", col(kv{"v", []any{0.5, uint64(math.MaxUint64)}}),
			"Invalid MessagePack payload: column 'v': integer 18446744073709551615 cannot be stored exactly in a float column"},
		{"negative with huge", col(kv{"v", []any{-1, uint64(math.MaxUint64)}}),
			"Invalid MessagePack payload: column 'v' mixes negative integers with integers above 9223372036854775807"},
		{"row without fields", omap{{"m", "cpu"}, {"t", 1}},
			"Invalid MessagePack payload: missing required field 'fields' or 'f'"},
		{"row bad t", omap{{"m", "cpu"}, {"t", "x"}, {"fields", omap{{"v", 1}}}},
			"Invalid MessagePack payload: invalid timestamp type: string"},
		{"row nested field", omap{{"m", "cpu"}, {"fields", omap{{"v", omap{}}}}},
			"Invalid MessagePack payload: unsupported type for field 'v': map[string]interface {}"},
		{"row time field", omap{{"m", "cpu"}, {"fields", omap{{"time", 1}}}},
			"Invalid MessagePack payload: field name 'time' is reserved for the timestamp"},
		{"top-level string", "hello",
			"Invalid MessagePack payload: unsupported msgpack payload type: string"},
		{"every item bad", []any{omap{{"m", "cpu"}, {"columns", omap{{"time", []any{1, 2}}, {"v", []any{1}}}}}},
			"Invalid MessagePack payload: columnar format: array length mismatch (expected 2, got 1 for 'v')"},
		{"every batch item bad", omap{{"batch", []any{1, 2}}},
			"Invalid MessagePack payload: item 0: unsupported item type: int8"},
		{"invalid measurement name", col(kv{"v", []any{1}}),
			""}, // placeholder replaced below
		{"trailing bytes", raw(append(enc(t, col(kv{"v", []any{1}})), 0xc0)),
			"Invalid MessagePack payload: failed to unmarshal msgpack: 1 unexpected bytes after the payload"},
		{"truncated", raw(enc(t, col(kv{"v", []any{1, 2, 3}}))[:20]),
			"Invalid MessagePack payload: failed to unmarshal msgpack: array length 3 exceeds the 1 bytes left"},
		{"truncated value", raw(enc(t, col(kv{"v", []any{1.5}}))[:22]),
			"Invalid MessagePack payload: failed to unmarshal msgpack: unexpected EOF"},
		{"huge array claim", raw{0xdd, 0xff, 0xff, 0xff, 0xff},
			"Invalid MessagePack payload: failed to unmarshal msgpack: array length 4294967295 exceeds the 0 bytes left"},
		{"huge map claim", raw{0x81, 0xa7, 'c', 'o', 'l', 'u', 'm', 'n', 's', 0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0},
			"Invalid MessagePack payload: failed to unmarshal msgpack: map length 4294967295 exceeds the 1 bytes left"},
		{"huge string claim", raw{0x81, 0xa1, 'm', 0xdb, 0xff, 0xff, 0xff, 0xff},
			"Invalid MessagePack payload: failed to unmarshal msgpack: string length 4294967295 exceeds the 0 bytes left"},
		{"deep nesting", raw(append(append([]byte{0x82, 0xa1, 'x'}, []byte(strings.Repeat("\x91", 1_000_000))...), 0xc0)),
			"Invalid MessagePack payload: failed to unmarshal msgpack: EOF"},
		{"invalid code", raw{0xc1},
			"Invalid MessagePack payload: failed to unmarshal msgpack: msgpack: invalid code=c1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			want := tt.want
			if tt.name == "invalid measurement name" {
				in = omap{{"m", "1cpu"}, {"columns", omap{{"v", []any{1}}}}}
				want = `invalid measurement name "1cpu": must start with a letter and contain only alphanumeric characters, underscores, or hyphens`
			}
			var data []byte
			if r, ok := in.(raw); ok {
				data = r
			} else {
				data = enc(t, in)
			}
			var b model.Batch
			err := Decode(data, now, &b)
			var got *errs.Error
			if !errors.As(err, &got) {
				t.Fatalf("error %v (%T) is not *errs.Error", err, err)
			}
			if got.Code != errs.Invalid {
				t.Errorf("code %v, want invalid", got.Code)
			}
			if diff := cmp.Diff(want, got.Msg); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeEmpty(t *testing.T) {
	var b model.Batch
	err := Decode(nil, now, &b)
	if diff := cmp.Diff(errs.New(errs.Invalid, "Empty payload"), err); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestNameErrorIsWholeRequest: Arc refuses the whole request for one bad
// measurement name, even inside an array with good items.
func TestNameErrorIsWholeRequest(t *testing.T) {
	in := []any{
		omap{{"m", "ok"}, {"columns", omap{{"v", []any{1}}}}},
		omap{{"m", "bad name"}, {"fields", omap{{"v", 1}}}},
	}
	var b model.Batch
	err := Decode(enc(t, in), now, &b)
	want := `invalid measurement name "bad name": must start with a letter and contain only alphanumeric characters, underscores, or hyphens`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}
