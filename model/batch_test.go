package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAppendRowPadsSparseColumns(t *testing.T) {
	var tb Table
	if err := tb.AppendRow(1, []Cell{{Name: "host", Tag: true, Value: String("a")}, {Name: "v", Value: Float(1)}}); err != nil {
		t.Fatal(err)
	}
	if err := tb.AppendRow(2, []Cell{{Name: "w", Value: Int(2)}, {Name: "w", Value: Int(3)}}); err != nil {
		t.Fatal(err)
	}
	if err := tb.Validate(); err != nil {
		t.Fatal(err)
	}
	got := [][]Value{}
	for i := range tb.Len() {
		var row []Value
		for _, c := range tb.Columns {
			row = append(row, c.At(i))
		}
		got = append(got, row)
	}
	want := [][]Value{{String("a"), Float(1), {}}, {{}, {}, Int(2)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestResolve(t *testing.T) {
	build := func() *Table {
		tb := &Table{Measurement: "m"}
		rows := [][]Cell{
			{{Name: "v", Value: Int(1)}, {Name: "k", Value: String("x")}},
			{{Name: "v", Value: Float(2.5)}},
			{{Name: "v", Value: Float(3.5)}, {Name: "k", Value: String("y")}},
			{{Name: "k", Value: String("z")}},
		}
		for i, r := range rows {
			if err := tb.AppendRow(int64(i), r); err != nil {
				t.Fatal(err)
			}
		}
		return tb
	}
	cases := []struct {
		name     string
		stored   map[string]FieldType
		wantTime []int64
		rejected int
		conflict string
	}{
		{"first type wins without schema", nil, []int64{0, 3}, 2,
			`field type conflict: input field "v" on measurement "m" is type float, already exists as type integer dropped=2`},
		{"stored type wins", map[string]FieldType{"v": TypeFloat}, []int64{1, 2, 3}, 1,
			`field type conflict: input field "v" on measurement "m" is type integer, already exists as type float dropped=1`},
		{"stored type neither", map[string]FieldType{"v": TypeBool}, []int64{3}, 3, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kept, rejected, conflicts := build().Resolve(func(n string) (FieldType, bool) { ft, ok := c.stored[n]; return ft, ok })
			if err := kept.Validate(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.wantTime, kept.Time); diff != "" {
				t.Errorf("kept rows (-want +got):\n%s", diff)
			}
			if rejected != c.rejected {
				t.Errorf("rejected %d, want %d", rejected, c.rejected)
			}
			if c.conflict != "" && (len(conflicts) == 0 || conflicts[0].Error() != c.conflict) {
				t.Errorf("conflicts %v, want first %q", conflicts, c.conflict)
			}
			for _, col := range kept.Columns {
				if col.Name == "v" && kept.Column("v") != col {
					t.Errorf("more than one v column kept")
				}
			}
		})
	}
}

// BenchmarkAppendRow appends rows of the same shape, as decoders and the
// backfill do.
func BenchmarkAppendRow(b *testing.B) {
	names := []string{"host", "region", "usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq", "count", "ok"}
	cells := make([]Cell, len(names))
	for i, n := range names {
		cells[i] = Cell{Name: n, Tag: i < 2, Value: Float(float64(i))}
	}
	cells[0].Value, cells[1].Value, cells[8].Value, cells[9].Value = String("h1"), String("eu"), Int(3), Bool(true)
	b.ReportAllocs()
	var t *Table
	for i := 0; b.Loop(); i++ {
		if i%10000 == 0 {
			var batch Batch
			t = batch.Table("cpu")
		}
		if err := t.AppendRow(int64(i), cells); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFieldTypeNamed: the five field types by the names String gives
// them; the result-only types and other names are no field's type.
func TestFieldTypeNamed(t *testing.T) {
	for _, ft := range []FieldType{TypeFloat, TypeInt, TypeUint, TypeString, TypeBool} {
		if got, ok := FieldTypeNamed(ft.String()); !ok || got != ft {
			t.Errorf("%s: %v %v", ft, got, ok)
		}
	}
	for _, name := range []string{"unknown", "timestamp", "text", "Float", "int", ""} {
		if got, ok := FieldTypeNamed(name); ok {
			t.Errorf("%q: %v", name, got)
		}
	}
}
