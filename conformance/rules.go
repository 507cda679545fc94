package conformance

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"tsgate/translate/ast"
	"tsgate/translate/pgparse"

	"tsgate/model"
)

// Rules are how a backend's result is compared with the reference's.
// Written down here and in docs/compatibility.md:
//
//   - column names and their order must match;
//   - floats match within a relative tolerance (Rel, default 1e-9), or an
//     absolute one (Abs, default 1e-12) near zero; NaN matches NaN;
//   - numbers compare by value whatever their width (count(*) may come
//     back as int64 from one backend and float64 from another: Arc's JSON
//     prints both the same); decimals (DuckDB's DECIMAL, PostgreSQL's
//     numeric, both text here) compare by exact value, whatever the scale;
//   - NULL matches NULL only;
//   - timestamps match as UTC microseconds;
//   - rows are compared in order when the query has a top-level ORDER BY
//     (the corpus orders totally), as multisets otherwise.
type Rules struct {
	Rel, Abs float64
}

// DefaultRules are the defaults above.
func DefaultRules() Rules { return Rules{Rel: 1e-9, Abs: 1e-12} }

// Result is a query's columns and rows.
type Result struct {
	Columns []string
	Rows    [][]model.Value
}

// read is Read of a query's answer: its error, if it failed.
func read(rows model.Rows, err error) (*Result, error) {
	if err != nil {
		return nil, err
	}
	return Read(rows)
}

// Read drains rows into a Result.
func Read(rows model.Rows) (*Result, error) {
	defer rows.Close()
	r := &Result{}
	for _, c := range rows.Columns() {
		r.Columns = append(r.Columns, c.Name)
	}
	for {
		v := make([]model.Value, len(r.Columns))
		if !rows.Next(v) {
			break
		}
		r.Rows = append(r.Rows, v)
	}
	return r, rows.Err()
}

// Compare returns "" when got matches want under the rules, else the first
// difference, readable.
func (ru Rules) Compare(want, got *Result, ordered bool) string {
	if !slices.Equal(want.Columns, got.Columns) {
		return fmt.Sprintf("columns differ:\n  want %v\n  got  %v", want.Columns, got.Columns)
	}
	if len(want.Rows) != len(got.Rows) {
		return fmt.Sprintf("row count differs: want %d, got %d\n%s", len(want.Rows), len(got.Rows), sampleDiff(want, got))
	}
	w, g := want.Rows, got.Rows
	if !ordered {
		w, g = sortedRows(w), sortedRows(g)
	}
	for i := range w {
		for j := range w[i] {
			if !ru.equal(w[i][j], g[i][j]) {
				return fmt.Sprintf("row %d column %q: want %s, got %s\n  want row %s\n  got  row %s",
					i, want.Columns[j], Format(w[i][j]), Format(g[i][j]), FormatRow(w[i]), FormatRow(g[i]))
			}
		}
	}
	return ""
}

func sampleDiff(want, got *Result) string {
	var sb strings.Builder
	show := func(label string, rows [][]model.Value) {
		fmt.Fprintf(&sb, "  %s (first %d):\n", label, min(5, len(rows)))
		for _, r := range rows[:min(5, len(rows))] {
			fmt.Fprintf(&sb, "    %s\n", FormatRow(r))
		}
	}
	show("want", want.Rows)
	show("got", got.Rows)
	return sb.String()
}

func (ru Rules) equal(a, b model.Value) bool {
	switch {
	case a.IsNull() || b.IsNull():
		return a.IsNull() && b.IsNull()
	case a.Type == model.TypeInt && b.Type == model.TypeInt:
		return a.I == b.I
	case a.Type == model.TypeUint && b.Type == model.TypeUint:
		return a.U == b.U
	case a.IsNumber() && b.IsNumber():
		x, y := a.AsFloat(), b.AsFloat()
		if math.IsNaN(x) || math.IsNaN(y) {
			return math.IsNaN(x) && math.IsNaN(y)
		}
		if x == y {
			return true
		}
		d := math.Abs(x - y)
		return d <= ru.Abs || d <= ru.Rel*math.Max(math.Abs(x), math.Abs(y))
	case a.Type == model.TypeTime && b.Type == model.TypeTime:
		return a.I == b.I
	case a.Type == model.TypeText && b.Type == model.TypeText:
		// Decimals (DuckDB's DECIMAL, PostgreSQL's numeric) compare by
		// exact value: -1073741824.0 is -1073741824, whatever the scale.
		if x, ok := new(big.Rat).SetString(a.S); ok {
			if y, ok := new(big.Rat).SetString(b.S); ok {
				return x.Cmp(y) == 0
			}
		}
		return a.S == b.S
	case (a.Type == model.TypeString || a.Type == model.TypeText) && (b.Type == model.TypeString || b.Type == model.TypeText):
		return a.S == b.S
	case a.Type == model.TypeBool && b.Type == model.TypeBool:
		return a.B == b.B
	}
	return false
}

// sortedRows orders rows canonically for multiset comparison.
func sortedRows(rows [][]model.Value) [][]model.Value {
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b []model.Value) int {
		for i := range a {
			if c := compareCanon(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	return out
}

// compareCanon is a total order over values for sorting only.
func compareCanon(a, b model.Value) int {
	if a.IsNull() || b.IsNull() {
		return cmp.Compare(boolInt(!a.IsNull()), boolInt(!b.IsNull()))
	}
	if a.Type == model.TypeInt && b.Type == model.TypeInt {
		return cmp.Compare(a.I, b.I) // exact: 2^53+1 and 2^53 differ
	}
	if a.IsNumber() && b.IsNumber() {
		return cmp.Compare(a.AsFloat(), b.AsFloat())
	}
	if a.Type != b.Type {
		return cmp.Compare(a.Type, b.Type)
	}
	switch a.Type {
	case model.TypeString, model.TypeText:
		return cmp.Compare(a.S, b.S)
	case model.TypeBool:
		return cmp.Compare(boolInt(a.B), boolInt(b.B))
	case model.TypeTime:
		return cmp.Compare(a.I, b.I)
	}
	return 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Format prints a value for reports.
func Format(v model.Value) string {
	switch v.Type {
	case model.TypeUnknown:
		return "NULL"
	case model.TypeFloat:
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	case model.TypeInt:
		return strconv.FormatInt(v.I, 10)
	case model.TypeUint:
		return strconv.FormatUint(v.U, 10)
	case model.TypeBool:
		return strconv.FormatBool(v.B)
	case model.TypeTime:
		return time.UnixMicro(v.I).UTC().Format(time.RFC3339Nano)
	}
	return strconv.Quote(v.S)
}

// FormatRow prints a row for reports.
func FormatRow(r []model.Value) string {
	parts := make([]string, len(r))
	for i, v := range r {
		parts[i] = Format(v)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Ordered reports whether Arc SQL text has a top-level ORDER BY, so its
// rows compare in order (Compare's ordered); text that does not parse
// counts as unordered.
func Ordered(sql string) bool {
	st, err := pgparse.Parse(sql, pgparse.Arc)
	if err != nil {
		return false
	}
	if s, ok := st.(*ast.Select); ok {
		return len(s.OrderBy) > 0
	}
	return false
}
