package msgpack

import (
	"fmt"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"tsgate/model"
)

// decodeBoth decodes in with the fast paths and with the general path
// alone and reports any difference in outcome: tables, dropped items and
// error texts.
func decodeBoth(t *testing.T, in []byte) (model.Batch, error) {
	t.Helper()
	var fast, general model.Batch
	ferr := decode(in, now, &fast, false)
	gerr := decode(in, now, &general, true)
	if fmt.Sprint(ferr) != fmt.Sprint(gerr) {
		t.Fatalf("error: fast %v, general %v", ferr, gerr)
	}
	if ferr != nil {
		return fast, ferr
	}
	opts := []cmp.Option{
		cmpopts.IgnoreUnexported(model.Batch{}, model.Table{}),
		cmp.Comparer(func(a, b error) bool { return fmt.Sprint(a) == fmt.Sprint(b) }),
		cmpopts.EquateNaNs(),
	}
	if d := cmp.Diff(general, fast, opts...); d != "" {
		t.Fatalf("batch (-general +fast):\n%s", d)
	}
	return fast, nil
}

// fastCases are payloads on and across every edge of the fast paths.
func fastCases(t testing.TB) map[string][]byte {
	col := func(cols ...kv) []byte { return enc(t, omap{{"m", "cpu"}, {"columns", omap(cols)}}) }
	full := col(kv{"time", []any{sec, sec + 1, sec + 2}}, kv{"v", []any{1.5, 2.5, 3.5}})
	return map[string][]byte{
		"floats":              full,
		"float32":             col(kv{"v", []any{float32(1.5), 2.5}}),
		"nulls everywhere":    col(kv{"f", []any{nil, 1.5, nil}}, kv{"i", []any{nil, 1, nil}}, kv{"s", []any{"a", nil, "b"}}, kv{"b", []any{nil, true, false}}),
		"all nil":             col(kv{"v", []any{nil, nil}}),
		"int then float":      col(kv{"v", []any{1, 2, 2.5}}),
		"float then int":      col(kv{"v", []any{2.5, 1, int64(1) << 60}}),
		"int widths":          col(kv{"v", []any{int8(-5), int16(-300), int32(-70000), int64(-1) << 40, uint8(200), uint16(60000), uint32(4000000000), uint64(1) << 62, -1, 127}}),
		"uint64 above int64":  col(kv{"v", []any{1, uint64(math.MaxUint64)}}),
		"negative then big":   col(kv{"v", []any{-1, uint64(math.MaxUint64)}}),
		"big then negative":   col(kv{"v", []any{uint64(math.MaxUint64), 2, -1}}),
		"string then int":     col(kv{"v", []any{"x", 1}}),
		"int then string":     col(kv{"v", []any{1, "x"}}),
		"bool then float":     col(kv{"v", []any{true, 1.5}}),
		"float then bool":     col(kv{"v", []any{1.5, true}}),
		"long strings":        col(kv{"v", []any{string(make([]byte, 40)), string(make([]byte, 300)), string(make([]byte, 70000))}}),
		"invalid utf8":        col(kv{"v", []any{"ok", "\xff\xfe", "\xffok"}}),
		"nested value":        col(kv{"v", []any{1.5, []any{1}}}),
		"time ms":             col(kv{"time", []any{sec * 1000, sec*1000 + 1}}, kv{"v", []any{1, 2}}),
		"time ns":             col(kv{"time", []any{sec * 1e9, sec*1e9 + 1}}, kv{"v", []any{1, 2}}),
		"time float first":    col(kv{"time", []any{float64(sec), sec + 1}}, kv{"v", []any{1, 2}}),
		"time int then float": col(kv{"time", []any{sec, 1.5e9}}, kv{"v", []any{1, 2}}),
		"time string":         col(kv{"time", []any{sec, "x"}}, kv{"v", []any{1, 2}}),
		"time overflow":       col(kv{"time", []any{sec, int64(math.MaxInt64 / 10)}}, kv{"v", []any{1, 2}}),
		"time nil":            col(kv{"time", []any{sec, nil}}, kv{"v", []any{1, 2}}),
		"truncated float run": full[:len(full)-4],
		"truncated header":    full[:len(full)-9],
		"two items":           enc(t, []any{omap{{"m", "a"}, {"columns", omap{{"v", []any{1.5, nil}}}}}, omap{{"m", "a"}, {"columns", omap{{"v", []any{1, 2}}}}}}),
		"mismatched lengths":  col(kv{"a", []any{1.5, 2.5}}, kv{"b", []any{1.5}}),
	}
}

func TestFastPathsMatchGeneral(t *testing.T) {
	for name, in := range fastCases(t) {
		t.Run(name, func(t *testing.T) { decodeBoth(t, in) })
	}
}

// The fast paths keep the decoder's outcomes: typed columns with NULL
// holes, a widened column, and clear errors that store nothing.
func TestFastPathOutcomes(t *testing.T) {
	cases := fastCases(t)
	b, err := decodeBoth(t, cases["nulls everywhere"])
	if err != nil {
		t.Fatal(err)
	}
	tb := b.Tables[0]
	got := map[string][]model.Value{}
	for _, c := range tb.Columns {
		for i := range c.Len() {
			got[c.Name] = append(got[c.Name], c.At(i))
		}
	}
	want := map[string][]model.Value{
		"f": {{}, model.Float(1.5), {}},
		"i": {{}, model.Int(1), {}},
		"s": {model.String("a"), {}, model.String("b")},
		"b": {{}, model.Bool(true), model.Bool(false)},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("columns (-want +got):\n%s", d)
	}
	if b, err = decodeBoth(t, cases["int then float"]); err != nil || b.Tables[0].Columns[0].Type != model.TypeFloat {
		t.Errorf("int then float: %v, %+v", err, b.Tables)
	}
	for name, msg := range map[string]string{
		"int then string":     "Invalid MessagePack payload: cannot convert string to int64 in column 'v'",
		"negative then big":   "Invalid MessagePack payload: column 'v' mixes negative integers with integers above 9223372036854775807",
		"truncated float run": "Invalid MessagePack payload: failed to unmarshal msgpack: unexpected EOF",
	} {
		b, err := decodeBoth(t, cases[name])
		if err == nil || err.Error() != msg {
			t.Errorf("%s: error %v, want %q", name, err, msg)
		}
		if b.Rows() != 0 {
			t.Errorf("%s: %d rows kept after the error", name, b.Rows())
		}
	}
}

// FuzzFastPaths: the fast paths and the general path read every input
// alike.
func FuzzFastPaths(f *testing.F) {
	for _, in := range fastCases(f) {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in []byte) { decodeBoth(t, in) })
}
