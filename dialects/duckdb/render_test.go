package duckdb

import (
	"math/big"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/google/go-cmp/cmp"

	"tsgate/model"
)

// TestArcText checks values tsgate does not model against the text Arc's
// JSON carries for them. Expected cells are written from Arc's encoder
// (arrow-go's ValueStr/GetOneForMarshal over DuckDB's Arrow export, Go's
// encoding/json), not from this code's output.
func TestArcText(t *testing.T) {
	s, _ := openTest(t)
	text := func(s string) model.Value { return model.Value{Type: model.TypeText, S: s} }
	cases := []struct {
		expr string
		want model.Value
	}{
		{`[1, 2, 3]`, text(`[1,2,3]`)},
		{`['x', 'y']`, text(`["x","y"]`)},
		{`[]::INTEGER[]`, text(`[]`)},
		{`[1, NULL]`, text(`[1,null]`)},
		{`MAP {'k': 1}`, text(`[{"key":"k","value":1}]`)},
		{`MAP {'b': [1], 'a': [2]}`, text(`[{"key":"b","value":[1]},{"key":"a","value":[2]}]`)},
		{`{'g': 'z', 'f': 1}`, text(`{"f":1,"g":"z"}`)},
		{`{'x': '<a&b>'}`, text(`{"x":"\u003ca\u0026b\u003e"}`)},
		{`INTERVAL '4 days 3 hours'`, text(`{"months":0,"days":4,"nanoseconds":10800000000000}`)},
		{`INTERVAL '1 month 2 days 3 seconds'`, text(`{"months":1,"days":2,"nanoseconds":3000000000}`)},
		{`170141183460469231731687303715884105727::HUGEINT`, text(`170141183460469231731687303715884105727`)},
		{`-5::HUGEINT`, text(`-5`)},
		{`12.50::DECIMAL(5,2)`, text(`12.50`)},      // the type's scale, as pg wire shows it; the Arc API prints 12.5
		{`0.00001::DECIMAL(10,5)`, text(`0.00001`)}, // exact; the Arc API prints 1e-05
		{`-3.000::DECIMAL(18,3)`, text(`-3.000`)},
		{`'ab'::BLOB`, text(`ab`)},
		{`TIME '12:34:56'`, text(`12:34:56.000000`)},
		{`TIME '12:34:56.5'`, text(`12:34:56.500000`)},
		{`'550e8400-e29b-41d4-a716-446655440000'::UUID`, text(`550e8400-e29b-41d4-a716-446655440000`)},
		{`[TIMESTAMPTZ '2024-01-01 00:00:00.25+00']`, text(`["2024-01-01T00:00:00.25Z"]`)},
		{`[TIMESTAMP '2024-01-01 10:00:00']`, text(`["2024-01-01T10:00:00Z"]`)},
		{`[DATE '2024-01-01']`, text(`["2024-01-01"]`)},
		{`[TIME '01:02:03']`, text(`["01:02:03"]`)},
		{`[1.5::DOUBLE, 'nan'::DOUBLE, 'inf'::DOUBLE]`, text(`[1.5,"NaN","+Inf"]`)},
		{`[[1], [2, 3]]`, text(`[[1],[2,3]]`)},
		{`{'a': [1, 2], 'b': {'d': DATE '2024-02-03', 'c': NULL}}`, text(`{"a":[1,2],"b":{"c":null,"d":"2024-02-03"}}`)},
		{`[12.5::DECIMAL(5,2)]`, text(`["12.5"]`)},
		{`[0.00001::DECIMAL(10,5)]`, text(`["1e-05"]`)},
		{`[INTERVAL '1 day']`, text(`[{"months":0,"days":1,"nanoseconds":0}]`)},
		{`['ab'::BLOB]`, text(`["YWI="]`)},
		{`['550e8400-e29b-41d4-a716-446655440000'::UUID]`, text(`["550e8400-e29b-41d4-a716-446655440000"]`)},
		{`[{'k': 1}]`, text(`[{"k":1}]`)},
		{`[1::TINYINT]`, text(`[1]`)},
		{`[0.1::FLOAT]`, text(`[0.1]`)},
		{`{'quoted "name"': 1}`, text(`{"quoted \"name\"":1}`)},
		{`'x'::ENUM('x', 'y')`, text(`x`)},
		{`[1, 2]::INTEGER[2]`, text(`[1,2]`)},
		{`['a"b\c']`, text(`["a\"b\\c"]`)},
		// Modelled types stay typed.
		{`42::INTEGER`, model.Int(42)},
		{`'s'`, model.String("s")},
		{`DATE '2024-01-02'`, model.Time(1704153600000000)},
	}
	for _, c := range cases {
		_, got := queryAll(t, s, "default", "SELECT "+c.expr)
		if len(got) != 1 || len(got[0]) != 1 {
			t.Fatalf("%s: %v", c.expr, got)
		}
		if diff := cmp.Diff(c.want, got[0][0]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.expr, diff)
		}
	}
}

func TestParseType(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{`INTEGER`, `INTEGER`},
		{`INTEGER[]`, `LIST<INTEGER>`},
		{`INTEGER[3][]`, `LIST<ARRAY<INTEGER>>`},
		{`DECIMAL(5,2)[]`, `LIST<DECIMAL>`},
		{`STRUCT("a" INTEGER[], b VARCHAR)`, `STRUCT{a:LIST<INTEGER>,b:VARCHAR}`},
		{`STRUCT("x ""y"", z" DATE)[]`, `LIST<STRUCT{x "y", z:DATE}>`},
		{`MAP(VARCHAR, STRUCT("k" TIME))`, `MAP<VARCHAR,STRUCT{k:TIME}>`},
		{`ENUM('a', 'b)(')[]`, `LIST<ENUM>`},
		{`UNION("num" INTEGER, "s" VARCHAR)`, `UNION{num:INTEGER,s:VARCHAR}`},
		{`STRUCT(`, `STRUCT{}`},
		{``, ``},
	}
	for _, c := range cases {
		if got := typeString(parseType(c.in)); got != c.want {
			t.Errorf("parseType(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func typeString(t *typeNode) string {
	switch t.base {
	case "LIST", "ARRAY":
		return t.base + "<" + typeString(t.elem) + ">"
	case "MAP":
		return "MAP<" + typeString(t.key) + "," + typeString(t.val) + ">"
	case "STRUCT", "UNION":
		s := t.base + "{"
		for i, f := range t.fields {
			if i > 0 {
				s += ","
			}
			s += f.name + ":" + typeString(f.typ)
		}
		return s + "}"
	}
	return t.base
}

func FuzzParseType(f *testing.F) {
	for _, s := range []string{`STRUCT("a" INTEGER[], b VARCHAR)`, `MAP(VARCHAR, INTEGER)[]`, `DECIMAL(5,2)`, `ENUM('a''b')`, `STRUCT("`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := parseType(s)
		if n == nil {
			t.Fatal("nil node")
		}
		typeString(n)
	})
}

// TestScaledText: a DECIMAL's text keeps exactly its type's scale, as
// PostgreSQL prints a numeric of that display scale, where duckdb-go's
// String drops trailing zeros.
func TestScaledText(t *testing.T) {
	for _, c := range []struct {
		v     *big.Int
		scale uint8
		want  string
	}{
		{big.NewInt(12345), 2, "123.45"},
		{big.NewInt(5), 3, "0.005"},
		{big.NewInt(-5), 3, "-0.005"},
		{big.NewInt(-500), 1, "-50.0"},
		{big.NewInt(0), 2, "0.00"},
		{nil, 2, "0.00"},
		{big.NewInt(7), 0, "7"},
		{big.NewInt(-7), 0, "-7"},
		{big.NewInt(1_000_000), 6, "1.000000"},
		{new(big.Int).Exp(big.NewInt(10), big.NewInt(37), nil), 18, "10000000000000000000.000000000000000000"},
	} {
		if got := scaledText(duckdb.Decimal{Width: 38, Scale: c.scale, Value: c.v}); got != c.want {
			t.Errorf("%v at scale %d: got %q, want %q", c.v, c.scale, got, c.want)
		}
	}
}
