package types

import (
	"testing"

	"tsgate/translate/ast"
)

// TestOf: the inference under both semantics, for the constructs whose
// class decides a translation.
func TestOf(t *testing.T) {
	cols := func(r *ast.ColumnRef) Kind {
		return map[string]Kind{"i": KInt, "f": KFloat, "s": KString, "time": KTime}[r.Name]
	}
	col := func(n string) ast.Expr { return &ast.ColumnRef{Name: n} }
	lit := func(kind ast.LitKind, text string) ast.Expr { return &ast.Literal{Kind: kind, Text: text} }
	bin := func(op ast.BinaryOp, l, r ast.Expr) ast.Expr { return &ast.Binary{Op: op, L: l, R: r} }
	for _, c := range []struct {
		name       string
		e          ast.Expr
		duck, post Kind
	}{
		{"int column", col("i"), KInt, KInt},
		{"unknown column", col("x"), KUnknown, KUnknown},
		{"int + int", bin(ast.OpAdd, col("i"), &ast.Literal{Kind: ast.LitInt, Int: 2}), KInt, KInt},
		{"int + double", bin(ast.OpAdd, col("i"), col("f")), KFloat, KFloat},
		{"int + decimal", bin(ast.OpAdd, col("i"), lit(ast.LitNumber, "0.5")), KDecimal, KDecimal},
		{"past int64", lit(ast.LitNumber, "10000000000000000000000"), KHugeInt, KHugeInt},
		{"exponent", lit(ast.LitNumber, "1e3"), KFloat, KFloat},
		{"true division", bin(ast.OpDiv, col("i"), col("i")), KFloat, KFloat},
		{"sum of ints", &ast.Agg{Kind: ast.AggSum, Arg: col("i")}, KHugeInt, KHugeInt},
		{"extract hour", &ast.Extract{Field: "hour", X: col("time")}, KInt, KDecimal},
		{"extract epoch", &ast.Extract{Field: "epoch", X: col("time")}, KFloat, KDecimal},
		{"epoch_ms", &ast.Func{Name: "epoch_ms", Args: []ast.Expr{col("time")}}, KInt, KInt},
		{"cast to interval", &ast.Cast{X: col("s"), Type: ast.Type{Kind: ast.TypeInterval}}, KInterval, KInterval},
		{"coalesce int, double", &ast.Func{Name: "coalesce", Args: []ast.Expr{col("i"), col("f")}}, KFloat, KFloat},
		{"coalesce int, string", &ast.Func{Name: "coalesce", Args: []ast.Expr{col("i"), col("s")}}, KUnknown, KUnknown},
	} {
		if got := Of(c.e, Env{Column: cols}); got != c.duck {
			t.Errorf("%s (DuckDB): %v, want %v", c.name, got, c.duck)
		}
		if got := Of(c.e, Env{Postgres: true, Column: cols}); got != c.post {
			t.Errorf("%s (PostgreSQL): %v, want %v", c.name, got, c.post)
		}
	}
}
