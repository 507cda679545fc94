package model

import (
	"strconv"
	"testing"
)

// TestTagIndex checks the clash rule on both sides of the map threshold,
// and with a table's tag and field columns.
func TestTagIndex(t *testing.T) {
	var b Batch
	tbl := b.Table("m")
	if err := tbl.AppendRow(1, []Cell{{Name: "region", Tag: true, Value: String("eu")}, {Name: "v", Value: Float(1)}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 16, 17, 40} {
		tags := make([]Cell, n)
		for i := range tags {
			tags[i] = Cell{Name: "t" + strconv.Itoa(i), Tag: true, Value: String("x")}
		}
		var x TagIndex
		x.Reset(tags)
		for _, c := range []struct {
			t    *Table
			name string
			want bool
		}{
			{nil, "t0", true},
			{nil, "t" + strconv.Itoa(n-1), true},
			{nil, "t" + strconv.Itoa(n), false},
			{nil, "region", false},
			{tbl, "region", true},
			{tbl, "v", false},
		} {
			if got := x.Clashes(c.t, c.name); got != c.want {
				t.Errorf("%d tags: Clashes(%v, %q) = %v, want %v", n, c.t != nil, c.name, got, c.want)
			}
		}
	}
}
