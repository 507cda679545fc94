package arc

import (
	"math/big"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"tsgate/model"
)

func TestParseImportTime(t *testing.T) {
	at := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMicro()
	}
	cases := []struct {
		in, format string
		want       int64
		bad        bool
	}{
		{"1609459200", "", at("2021-01-01T00:00:00Z"), false},
		{"1609459200000", "", at("2021-01-01T00:00:00Z"), false},
		{"1609459200000000", "", at("2021-01-01T00:00:00Z"), false},
		{"1609459200000000000", "", at("2021-01-01T00:00:00Z"), false},
		{"1609459200.25", "", at("2021-01-01T00:00:00.25Z"), false},
		{"2021-01-01T00:00:00.5Z", "", at("2021-01-01T00:00:00.5Z"), false},
		{"2021-01-01T01:00:00+01:00", "", at("2021-01-01T00:00:00Z"), false},
		{"2021-01-01 00:00:01", "", at("2021-01-01T00:00:01Z"), false},
		{"2021-01-01", "", at("2021-01-01T00:00:00Z"), false},
		{"1609459200", "epoch_s", at("2021-01-01T00:00:00Z"), false},
		{"1609459200", "epoch_ms", at("1970-01-19T15:04:19.2Z"), false},
		{"16094592000001", "epoch_ns", at("1970-01-01T04:28:14.592Z"), false},
		{"x", "epoch_s", 0, true},
		{"", "", 0, true},
		{"yesterday", "", 0, true},
	}
	for _, c := range cases {
		got, err := parseImportTime(c.in, c.format)
		if (err != nil) != c.bad || !c.bad && got != c.want {
			t.Errorf("parseImportTime(%q, %q) = %d, %v; want %d", c.in, c.format, got, err, c.want)
		}
	}
}

func TestCSVTypes(t *testing.T) {
	cases := []struct {
		vals []string
		want csvKind
	}{
		{[]string{"1", "", "-3"}, csvInt},
		{[]string{"1", "2.5"}, csvFloat},
		{[]string{"true", "0", "FALSE"}, csvBool},
		{[]string{"5", "true"}, csvString}, // 5 is no boolean
		{[]string{"a", "1"}, csvString},
		{[]string{""}, csvInt},
	}
	for _, c := range cases {
		var ct csvTypes
		for _, v := range c.vals {
			ct.see(v)
		}
		if got := ct.kind(); got != c.want {
			t.Errorf("%q: %v, want %v", c.vals, got, c.want)
		}
	}
}

// FuzzImportCells: any cell text is typed and read without panic, and a
// value inferred as a number or boolean parses as one.
func FuzzImportCells(f *testing.F) {
	for _, s := range []string{"1", "2.5", "true", "2021-01-01T00:00:00Z", "1e309", "-", "", "-3.0", "0.123456789012345678", "9223372036854775808", ".5e-3", "NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		parseImportTime(v, "")
		for _, format := range []string{"epoch_s", "epoch_ms", "epoch_us", "epoch_ns"} {
			parseImportTime(v, format)
		}
		var ct csvTypes
		ct.see(v)
		k := ct.kind()
		c, ok := csvCell("c", k, v)
		if v != "" && k != csvString && !ok {
			t.Fatalf("%q typed %v but not read", v, k)
		}
		_ = c
		whereText(v)
		// A DECIMAL value is stored only as a field that holds it
		// exactly: the integer itself, or a float whose shortest text is
		// the same number (math/big as the independent judge).
		for _, scale := range []int{0, 1, 18} {
			got, err := decimalValue(v, scale)
			if err != nil {
				continue
			}
			want, ok := new(big.Rat).SetString(v)
			if !ok {
				t.Fatalf("decimalValue(%q, %d) accepted a value math/big does not read", v, scale)
			}
			var have *big.Rat
			switch got.Type {
			case model.TypeInt:
				have = new(big.Rat).SetInt64(got.I)
			case model.TypeFloat:
				have, _ = new(big.Rat).SetString(strconv.FormatFloat(got.F, 'g', -1, 64))
			default:
				t.Fatalf("decimalValue(%q, %d) = %v", v, scale, got)
			}
			if have.Cmp(want) != 0 {
				t.Fatalf("decimalValue(%q, %d) = %v, not the same number", v, scale, got)
			}
		}
	})
}

// TestDecimalValue: a Parquet DECIMAL value (DuckDB's exact digits at the
// type's scale) becomes an integer at scale 0 and a float otherwise, only
// when that field holds it exactly; anything else is refused with the
// reason.
func TestDecimalValue(t *testing.T) {
	type result struct {
		V   model.Value
		Err string
	}
	cases := []struct {
		text  string
		scale int
		want  result
	}{
		{"-3.0", 1, result{V: model.Float(-3)}},
		{"21.5", 1, result{V: model.Float(21.5)}},
		{"12.45", 2, result{V: model.Float(12.45)}},
		{"0.0", 1, result{V: model.Float(0)}},
		{"0.100", 3, result{V: model.Float(0.1)}},
		{"0.00001", 5, result{V: model.Float(1e-05)}},
		{"9007199254740992.0", 1, result{V: model.Float(9007199254740992)}},
		{"9007199254740993.0", 1, result{Err: "9007199254740993.0 is not exactly a float64 (the nearest is 9.007199254740992e+15); tsgate imports a DECIMAL with a fraction as a float field only when each value converts exactly"}},
		{"0.123456789012345678", 18, result{Err: "0.123456789012345678 is not exactly a float64 (the nearest is 0.12345678901234568); tsgate imports a DECIMAL with a fraction as a float field only when each value converts exactly"}},
		{"-7", 0, result{V: model.Int(-7)}},
		{"9223372036854775807", 0, result{V: model.Int(9223372036854775807)}},
		{"-9223372036854775808", 0, result{V: model.Int(-9223372036854775808)}},
		{"9223372036854775808", 0, result{Err: "9223372036854775808 does not fit a 64-bit integer; tsgate imports a DECIMAL of scale 0 as an integer field"}},
		{"100000000000000000000", 0, result{Err: "100000000000000000000 does not fit a 64-bit integer; tsgate imports a DECIMAL of scale 0 as an integer field"}},
		{"NaN", 1, result{Err: `"NaN" is not a decimal number`}},
	}
	for _, c := range cases {
		v, err := decimalValue(c.text, c.scale)
		got := result{V: v}
		if err != nil {
			got.Err = err.Error()
		}
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("decimalValue(%q, %d) (-want +got):\n%s", c.text, c.scale, d)
		}
	}
}
