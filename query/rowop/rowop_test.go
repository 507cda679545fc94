package rowop

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"tsgate/dialects/duckdb"
	"tsgate/dialects/duckdb/duckdbtest"
	bt "tsgate/internal/batchtest"
	"tsgate/model"
	"tsgate/translate/ast"
	"tsgate/translate/pgparse"
	"tsgate/translate/target"
)

// The oracle is DuckDB itself: post steps must compute what the source
// query means in Arc SQL, so every case runs both ways on the same rows.

func fixture(t *testing.T) *duckdb.Store {
	t.Helper()
	s := duckdbtest.Open(t, filepath.Join(t.TempDir(), "t.duckdb"))
	var b model.Batch
	tb := b.Table("t")
	rows := [][]model.Value{
		{model.Int(1), model.Int(5), model.Float(2.5), model.String("x"), model.Bool(true)},
		{model.Int(2), model.Int(-3), model.Float(0), model.String("y"), model.Bool(false)},
		{model.Int(3), {}, model.Float(-1.25), model.String("x"), {}},
		{model.Int(4), model.Int(0), {}, {}, model.Bool(true)},
		{model.Int(5), model.Int(7), model.Float(7), model.String("ab"), model.Bool(false)},
		{model.Int(6), model.Int(5), model.Float(1e300), model.String("x"), model.Bool(true)},
	}
	names := []string{"id", "a", "b", "s", "f"}
	for i, r := range rows {
		cells := make([]model.Cell, len(r))
		for j, v := range r {
			cells[j] = model.Cell{Name: names[j], Value: v}
		}
		if err := tb.AppendRow(int64(i), cells); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Write(context.Background(), "db", &b); err != nil {
		t.Fatal(err)
	}
	return s
}

func query(t *testing.T, s *duckdb.Store, sql string) [][]model.Value {
	t.Helper()
	r, err := s.Query(context.Background(), "db", sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	_, rows := bt.Rows(t, r)
	return rows
}

func parseSelect(t *testing.T, sql string) *ast.Select {
	t.Helper()
	st, err := pgparse.Parse(sql, pgparse.Arc)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	sel, ok := st.(*ast.Select)
	if !ok {
		t.Fatalf("%s: %T", sql, st)
	}
	return sel
}

var floatEq = cmp.Comparer(func(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
})

func base(t *testing.T, s *duckdb.Store) model.Rows {
	r, err := s.Query(context.Background(), "db", "SELECT id, a, b, s, f FROM t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestProjectMatchesDuckDB(t *testing.T) {
	s := fixture(t)
	exprs := []string{
		"a + 1", "a - 10", "a * b", "a / 0", "b / a", "a / 2", "a % 3", "a % 0", "-a", "-b",
		"a > b", "a = 5", "a <> 5", "a <= 0", "s = 'x'", "s < 'b'", "a = 2 OR s = 'x'", "f AND a > 1",
		"NOT f", "s || 'z'", "a IS NULL", "s IS NOT NULL", "CAST(b AS BIGINT)", "CAST(a AS DOUBLE) / 4",
		"a IS DISTINCT FROM 5", "f OR NULL", "f AND NULL", "CAST(a AS VARCHAR)", "b * 2.5 - a",
		"coalesce(s, '')", "coalesce(a, b, 0)",
		// NaN is above +Inf and equal to itself in DuckDB.
		"b / 0", "b / 0 > 5", "b / 0 = b / 0", "b / 0 < b", "b / 0 IS DISTINCT FROM b / 0",
		// A double's % is IEEE fmod: NaN for a zero divisor or an
		// infinite dividend (the long fuzz run: NULL was wrong).
		"b % 0", "b % 2", "b % 0.0", "5 % b", "(b / 0) % 2", "b % (b / 0)",
	}
	for _, e := range exprs {
		t.Run(e, func(t *testing.T) {
			sel := parseSelect(t, "SELECT "+e+" AS v FROM t")
			item := sel.Columns[0]
			out, err := Apply(base(t, s), []target.PostStep{{Kind: target.StepProject,
				Columns: []target.ProjectColumn{{Name: "v", Expr: item.Expr}}}}, 0)
			// Where DuckDB fails (an out-of-range cast), rowop must fail
			// too, not invent a value.
			if _, derr := s.Query(context.Background(), "db", "SELECT "+e+" AS v FROM t ORDER BY id"); derr != nil {
				if err == nil {
					t.Fatalf("DuckDB fails (%v), rowop does not", derr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := query(t, s, "SELECT "+e+" AS v FROM t ORDER BY id")
			_, got := bt.Rows(t, out)
			if diff := cmp.Diff(want, got, floatEq); diff != "" {
				t.Errorf("(-duckdb +rowop):\n%s", diff)
			}
		})
	}
}

func TestFilterSortLimitMatchDuckDB(t *testing.T) {
	s := fixture(t)
	cases := []struct{ where, order string }{
		{"a > 0", "s DESC NULLS FIRST, a"},
		{"s = 'x' OR f", "b DESC"},
		{"NOT f OR a IS NULL", "a NULLS FIRST"},
		{"b / a > 0", "s, b DESC NULLS LAST"},
		{"true", "f, s DESC"},
		{"true", "b / 0 DESC"},
		{"true", "b / 0 NULLS FIRST"},
		{"b / 0 >= 1e308", "b / 0, id DESC"},
	}
	for _, c := range cases {
		t.Run(c.where+" / "+c.order, func(t *testing.T) {
			want := query(t, s, "SELECT id FROM t WHERE "+c.where+" ORDER BY "+c.order+", id LIMIT 3 OFFSET 1")
			sel := parseSelect(t, "SELECT id FROM t WHERE "+c.where+" ORDER BY "+c.order)
			steps := []target.PostStep{
				{Kind: target.StepFilter, Filter: sel.Where},
				{Kind: target.StepSort, Order: sel.OrderBy},
				{Kind: target.StepLimit, Limit: 3, Offset: 1},
				{Kind: target.StepProject, Columns: []target.ProjectColumn{{Name: "id", Expr: &ast.ColumnRef{Name: "id"}}}},
			}
			out, err := Apply(base(t, s), steps, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, got := bt.Rows(t, out)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-duckdb +rowop):\n%s", diff)
			}
		})
	}
}

func TestDefaultRowAndLimits(t *testing.T) {
	empty := func() model.Rows {
		return &model.SliceRows{Cols: []model.ResultColumn{{Name: "count", Type: model.TypeInt}}}
	}
	def := target.PostStep{Kind: target.StepDefaultRow, Columns: []target.ProjectColumn{
		{Name: "cnt", Expr: &ast.Literal{Kind: ast.LitInt, Int: 0}},
		{Name: "m", Expr: &ast.Literal{Kind: ast.LitNull}},
	}}
	out, err := Apply(empty(), []target.PostStep{def}, 0)
	if err != nil {
		t.Fatal(err)
	}
	cols, rows := bt.Rows(t, out)
	if diff := cmp.Diff([][]model.Value{{model.Int(0), {}}}, rows); diff != "" {
		t.Errorf("default row (-want +got):\n%s", diff)
	}
	if cols[0].Name != "cnt" || cols[0].Type != model.TypeInt {
		t.Errorf("columns %+v", cols)
	}

	// A non-empty input passes unchanged.
	one := &model.SliceRows{Cols: []model.ResultColumn{{Name: "cnt", Type: model.TypeInt}, {Name: "m"}},
		Data: [][]model.Value{{model.Int(4), model.Float(1)}}}
	out, err = Apply(one, []target.PostStep{def}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, rows := bt.Rows(t, out); !cmp.Equal(rows, [][]model.Value{{model.Int(4), model.Float(1)}}) {
		t.Errorf("non-empty input changed: %v", rows)
	}

	// The row cap refuses instead of truncating.
	many := &model.SliceRows{Cols: []model.ResultColumn{{Name: "x", Type: model.TypeInt}}}
	for i := range 11 {
		many.Data = append(many.Data, []model.Value{model.Int(int64(i))})
	}
	if _, err := Apply(many, nil, 10); err == nil {
		t.Error("cap of 10 rows accepted 11")
	}

	// A post step naming a column the backend did not return is an
	// internal error, never a silent NULL. (An empty result may have no
	// columns at all — InfluxDB's — and then there is nothing to check.)
	oneRow := &model.SliceRows{Cols: []model.ResultColumn{{Name: "x", Type: model.TypeInt}}, Data: [][]model.Value{{model.Int(1)}}}
	_, err = Apply(oneRow, []target.PostStep{{Kind: target.StepFilter, Filter: &ast.ColumnRef{Name: "nope"}}}, 0)
	if err == nil {
		t.Error("unknown column accepted")
	}
	out, err = Apply(&model.SliceRows{}, []target.PostStep{{Kind: target.StepProject,
		Columns: []target.ProjectColumn{{Name: "time", Expr: &ast.ColumnRef{Name: "time"}}}}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cols, rows := bt.Rows(t, out); len(rows) != 0 || len(cols) != 1 || cols[0].Name != "time" {
		t.Errorf("empty input projected to %v %v", cols, rows)
	}
}

// TestLimitZeroEvaluatesNothing: under LIMIT 0 no row is looked at, so an
// expression that fails on some row fails in neither DuckDB nor rowop;
// with any other limit both fail (the fuzzer's max(i) - min(i) … LIMIT 0
// on InfluxQL used to be an overflow error where the reference answered
// no rows).
func TestLimitZeroEvaluatesNothing(t *testing.T) {
	s := fixture(t)
	const e = "a * 9223372036854775807"
	sel := parseSelect(t, "SELECT "+e+" AS v FROM t ORDER BY v")
	steps := func(limit int64) []target.PostStep {
		return []target.PostStep{
			{Kind: target.StepProject, Columns: []target.ProjectColumn{{Name: "v", Expr: sel.Columns[0].Expr}}},
			{Kind: target.StepSort, Order: sel.OrderBy},
			{Kind: target.StepLimit, Limit: limit},
		}
	}
	for _, limit := range []int64{0, 1} {
		sql := fmt.Sprintf("SELECT %s AS v FROM t ORDER BY v LIMIT %d", e, limit)
		_, derr := s.Query(context.Background(), "db", sql)
		out, err := Apply(base(t, s), steps(limit), 0)
		if (derr == nil) != (err == nil) {
			t.Fatalf("LIMIT %d: DuckDB error %v, rowop error %v", limit, derr, err)
		}
		if err != nil {
			continue
		}
		want := query(t, s, sql)
		cols, got := bt.Rows(t, out)
		if diff := cmp.Diff(want, got); diff != "" || len(cols) != 1 || cols[0].Name != "v" {
			t.Errorf("LIMIT %d: columns %v, rows (-duckdb +rowop):\n%s", limit, cols, diff)
		}
	}
	if _, err := s.Query(context.Background(), "db", "SELECT "+e+" AS v FROM t LIMIT 0"); err != nil {
		t.Fatalf("the case lost its point: DuckDB fails under LIMIT 0 too: %v", err)
	}

	// A default row after the LIMIT 0 still comes out; one before it
	// does not.
	def := target.PostStep{Kind: target.StepDefaultRow, Columns: []target.ProjectColumn{{Name: "n", Expr: &ast.Literal{Kind: ast.LitInt, Int: 0}}}}
	limit0 := target.PostStep{Kind: target.StepLimit, Limit: 0}
	for _, c := range []struct {
		steps []target.PostStep
		rows  int
	}{
		{[]target.PostStep{def, limit0}, 0},
		{[]target.PostStep{limit0, def}, 1},
	} {
		in := &model.SliceRows{Cols: []model.ResultColumn{{Name: "n", Type: model.TypeInt}}, Data: [][]model.Value{{model.Int(3)}}}
		out, err := Apply(in, c.steps, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, rows := bt.Rows(t, out); len(rows) != c.rows {
			t.Errorf("%v: %d rows, want %d", c.steps, len(rows), c.rows)
		}
	}
}

// TestAbsentColumnsReadNull: a column the step declares absent-able (a
// schemaless backend left it out: no row had a value) reads as NULL; any
// other missing name is still an error.
func TestAbsentColumnsReadNull(t *testing.T) {
	in := func() model.Rows {
		return &model.SliceRows{Cols: []model.ResultColumn{{Name: "time", Type: model.TypeTime}},
			Data: [][]model.Value{{model.Time(1)}, {model.Time(2)}}}
	}
	step := target.PostStep{Kind: target.StepProject, Absent: []string{"parent_id"}, Columns: []target.ProjectColumn{
		{Name: "time", Expr: &ast.ColumnRef{Name: "time"}},
		{Name: "parent_id", Expr: &ast.ColumnRef{Name: "parent_id"}},
	}}
	out, err := Apply(in(), []target.PostStep{step}, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, rows := bt.Rows(t, out)
	if diff := cmp.Diff([][]model.Value{{model.Time(1), {}}, {model.Time(2), {}}}, rows); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	step.Absent = nil
	if _, err := Apply(in(), []target.PostStep{step}, 0); err == nil {
		t.Error("a missing column not declared absent-able was accepted")
	}
}
