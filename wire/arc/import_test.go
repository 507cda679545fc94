package arc

import (
	"testing"
	"time"
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
	for _, s := range []string{"1", "2.5", "true", "2021-01-01T00:00:00Z", "1e309", "-", ""} {
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
	})
}
