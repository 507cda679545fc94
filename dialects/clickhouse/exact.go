package clickhouse

import (
	"math/big"
	"strings"

	"tsgate/translate/ast"
	"tsgate/translate/sqlgen"
)

// decimalArith prints b, arithmetic DuckDB computes in DECIMAL (a
// fractional literal with integers or other such literals: 0.1 + 0.2 is
// exactly 0.3 there), where ClickHouse would compute in Float64
// (0.30000000000000004). Constant operands fold exactly here; anything
// else is refused. false: b is not such arithmetic.
func decimalArith(g *sqlgen.Gen, b *ast.Binary) bool {
	switch b.Op {
	case ast.OpAdd, ast.OpSub, ast.OpMul, ast.OpMod:
	default:
		return false
	}
	if g.TypeOf(b) != sqlgen.KDecimal {
		return false
	}
	r, scale, ok := foldDecimal(b)
	if !ok {
		g.Refuse("DECIMAL arithmetic", b, "DuckDB computes it exactly, ClickHouse in Float64")
		return true
	}
	s := r.FloatString(scale)
	if digits := strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(s), "0"); len(digits) > 15 {
		// A Float64 literal keeps 15 significant digits exactly.
		g.Refuse("a DECIMAL constant of more than 15 digits", b, "ClickHouse would read it as Float64")
		return true
	}
	if strings.HasPrefix(s, "-") {
		g.W("(" + s + ")")
	} else {
		g.W(s)
	}
	return true
}

// wrappingArith refuses integer +, - and * that ClickHouse would compute
// in wrapping Int64 arithmetic where DuckDB, the reference, raises on
// overflow (9223372036854775807 + 1 is an error there, a negative number
// here): the gateway computes them from the rows. Integer constants are
// folded here and pushed when the result is in range. false: b is not
// such arithmetic.
func wrappingArith(g *sqlgen.Gen, b *ast.Binary) bool {
	switch b.Op {
	case ast.OpAdd, ast.OpSub, ast.OpMul:
	default:
		return false
	}
	if g.TypeOf(b) != sqlgen.KInt {
		return false
	}
	if r, _, ok := foldDecimal(b); ok && r.IsInt() && r.Num().IsInt64() {
		if r.Num().Sign() < 0 {
			g.W("(" + r.Num().String() + ")")
		} else {
			g.W(r.Num().String())
		}
		return true
	}
	g.Refuse("integer "+b.Op.String()+" of values that may overflow", b, "ClickHouse's Int64 wraps around where DuckDB raises an error; the gateway computes it")
	return true
}

// foldDecimal evaluates a constant +, -, * tree of integer and decimal
// literals exactly; scale is the number of fraction digits the result
// needs.
func foldDecimal(e ast.Expr) (*big.Rat, int, bool) {
	switch e := e.(type) {
	case *ast.Literal:
		switch e.Kind {
		case ast.LitInt:
			return new(big.Rat).SetInt64(e.Int), 0, true
		case ast.LitNumber:
			if e.IsDouble() {
				return nil, 0, false // a DOUBLE in DuckDB
			}
			r, ok := new(big.Rat).SetString(e.Text)
			scale := 0
			if i := strings.IndexByte(e.Text, '.'); i >= 0 {
				scale = len(e.Text) - i - 1
			}
			return r, scale, ok
		}
	case *ast.Unary:
		if e.Op == ast.Neg {
			r, s, ok := foldDecimal(e.X)
			if ok {
				r.Neg(r)
			}
			return r, s, ok
		}
	case *ast.Binary:
		l, ls, ok1 := foldDecimal(e.L)
		r, rs, ok2 := foldDecimal(e.R)
		if !ok1 || !ok2 {
			return nil, 0, false
		}
		switch e.Op {
		case ast.OpAdd:
			return l.Add(l, r), max(ls, rs), true
		case ast.OpSub:
			return l.Sub(l, r), max(ls, rs), true
		case ast.OpMul:
			return l.Mul(l, r), ls + rs, true
		}
	}
	return nil, 0, false
}

// isDate reports a DATE-typed operand: CAST(… AS DATE), DATE '…'.
func isDate(e ast.Expr) bool {
	c, ok := e.(*ast.Cast)
	return ok && c.Type.Kind == ast.TypeDate
}

// dateComparison prints a comparison of a time with a DATE, which
// ClickHouse 18.16 gets wrong (measured: time < CAST('2025-01-02' AS
// Date) matched 12 of the 42 rows before it): the date becomes its
// midnight in UTC, as DuckDB reads it. false: b is not one.
func dateComparison(g *sqlgen.Gen, b *ast.Binary) bool {
	if !b.Op.IsComparison() || isDate(b.L) == isDate(b.R) {
		return false
	}
	other := b.L
	if isDate(b.L) {
		other = b.R
	}
	if g.TypeOf(other) != sqlgen.KTime {
		return false
	}
	side := func(e ast.Expr) {
		if isDate(e) {
			g.W("toDateTime(")
			g.Expr(e)
			g.W(", 'UTC')")
			return
		}
		g.P.Operand(e, ast.PrecAdd)
	}
	g.W("(")
	side(b.L)
	g.W(" " + b.Op.String() + " ")
	side(b.R)
	g.W(")")
	return true
}

// nanOrder is each comparison's answer when its operands are equal, the
// left one greater, the right one greater.
var nanOrder = map[ast.BinaryOp][3]string{
	ast.OpEq: {"1", "0", "0"}, ast.OpNe: {"0", "1", "1"},
	ast.OpLt: {"0", "0", "1"}, ast.OpLe: {"1", "0", "1"},
	ast.OpGt: {"0", "1", "0"}, ast.OpGe: {"1", "1", "0"},
}

// nanComparison prints a comparison with DuckDB's NaN semantics where an
// operand may be NaN: NaN equals NaN and is above every other number,
// where ClickHouse answers IEEE's false for every comparison but !=.
//
//	multiIf(isNaN(l) AND isNaN(r), <as if equal>, isNaN(l), <as if l
//	        greater>, isNaN(r), <as if r greater>, l op r)
//
// isNaN(NULL) is NULL, which multiIf takes as false, so NULL operands
// still reach l op r and answer NULL. false: b is no such comparison.
func nanComparison(g *sqlgen.Gen, b *ast.Binary) bool {
	if !b.Op.IsComparison() {
		return false
	}
	ln, rn := sqlgen.MayNaN(g, b.L), sqlgen.MayNaN(g, b.R)
	if !ln && !rn {
		return false
	}
	res, ok := nanOrder[b.Op]
	if !ok {
		return false
	}
	eq, gt, lt := res[0], res[1], res[2]
	isNaN := func(e ast.Expr) {
		g.W("isNaN(")
		g.Expr(e)
		g.W(")")
	}
	g.W("multiIf(")
	if ln && rn {
		isNaN(b.L)
		g.W(" AND ")
		isNaN(b.R)
		g.W(", " + eq + ", ")
	}
	if ln {
		isNaN(b.L)
		g.W(", " + gt + ", ")
	}
	if rn {
		isNaN(b.R)
		g.W(", " + lt + ", ")
	}
	g.P.Binary(b, b.Op.String())
	g.W(")")
	return true
}

// zeroInList prints x IN (…, 0, …) for a float x as x IN (…) OR x = 0:
// ClickHouse's set lookup matches bit patterns, so a stored -0 misses the
// element 0 (and 0 misses -0), where DuckDB compares numbers. false: n is
// not such a list.
func zeroInList(g *sqlgen.Gen, n *ast.InList) bool {
	if g.TypeOf(n.X) != sqlgen.KFloat {
		return false
	}
	var rest []ast.Expr
	zero := false
	for _, e := range n.List {
		if isZero(e) {
			zero = true
			continue
		}
		rest = append(rest, e)
	}
	if !zero {
		return false
	}
	// Under isNull(x) the members are plain booleans, so plain OR/NOT
	// are two-valued and exact.
	g.W("multiIf(isNull(")
	g.Expr(n.X)
	g.W("), NULL, ")
	if n.Not {
		g.W("NOT ")
	}
	g.W("(")
	if len(rest) > 0 {
		g.W("(")
		g.Expr(&ast.InList{Span: n.Span, X: n.X, List: rest})
		g.W(") OR ")
	}
	g.W("(")
	g.Expr(&ast.Binary{Span: n.Span, Op: ast.OpEq, L: n.X, R: &ast.Literal{Kind: ast.LitInt}})
	g.W(")))")
	return true
}

// isZero reports a literal 0, 0.0 or -0.0.
func isZero(e ast.Expr) bool {
	if u, ok := e.(*ast.Unary); ok && u.Op == ast.Neg {
		e = u.X
	}
	l, ok := e.(*ast.Literal)
	if !ok {
		return false
	}
	switch l.Kind {
	case ast.LitInt:
		return l.Int == 0
	case ast.LitNumber:
		r, ok := new(big.Rat).SetString(l.Text)
		return ok && r.Sign() == 0
	}
	return false
}
