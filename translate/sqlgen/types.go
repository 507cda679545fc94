package sqlgen

import (
	"strings"

	"tsgate/translate/ast"
	"tsgate/translate/target"
	"tsgate/translate/types"
)

// Kind is a value's type class (translate/types): the generators decide
// per construct and type with it.
type Kind = types.Kind

// The kinds, as translate/types names them.
const (
	KUnknown  = types.KUnknown
	KInt      = types.KInt
	KHugeInt  = types.KHugeInt
	KFloat    = types.KFloat
	KDecimal  = types.KDecimal
	KString   = types.KString
	KBool     = types.KBool
	KTime     = types.KTime
	KInterval = types.KInterval
)

// columnKinds are the types of the columns the query's tables hold, by
// name; a name two tables type differently maps to KUnknown, and so does
// a name a subquery, CTE or select item gives to something else (SELECT
// 7 AS usage_user in a derived table is no float, whatever cpu holds).
func columnKinds(q ast.Query, env *target.Env) map[string]Kind {
	out := map[string]Kind{"time": KTime}
	if env == nil || env.Schema == nil {
		return out
	}
	ctes := map[string]bool{}
	derived := map[string]bool{}
	// inner collects the names a nested query gives its columns: only
	// those are read as columns elsewhere (the top query's aliases are
	// its output, which its own clauses read as the table's columns).
	inner := func(q ast.Query) {
		ast.Inspect(q, func(n ast.Node) bool {
			if it, ok := n.(*ast.SelectItem); ok {
				if r, ok := it.Expr.(*ast.ColumnRef); it.Alias != "" && (!ok || r.Name != it.Alias) {
					derived[it.Alias] = true
				}
			}
			return true
		})
	}
	ast.Inspect(q, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.With:
			for _, c := range n.CTEs {
				ctes[c.Name] = true
				derived = addAll(derived, c.Columns)
				inner(c.Query)
			}
		case *ast.SubqueryTable:
			derived = addAll(derived, n.Columns)
			inner(n.Query)
		case *ast.Subquery:
			inner(n.Query)
		case *ast.InSubquery:
			inner(n.Query)
		case *ast.Exists:
			inner(n.Query)
		}
		return true
	})
	seen := map[string]bool{}
	ast.Inspect(q, func(n ast.Node) bool {
		t, ok := n.(*ast.Table)
		if !ok || t.Schema == "" && ctes[t.Name] {
			return true
		}
		key := t.Schema + "." + t.Name
		if seen[key] {
			return true
		}
		seen[key] = true
		cols, ok := env.Schema.Columns(t.Schema, t.Name)
		if !ok {
			return true
		}
		for _, c := range cols {
			k := types.FromField(c.Type)
			if c.Tag {
				k = KString
			}
			if old, ok := out[c.Name]; ok && old != k {
				k = KUnknown
			}
			out[c.Name] = k
		}
		return true
	})
	for name := range derived {
		if _, col := out[name]; col && name != "time" {
			out[name] = KUnknown // still a column name (IsColumn), of no known type
		}
	}
	return out
}

func addAll(set map[string]bool, names []string) map[string]bool {
	for _, n := range names {
		set[n] = true
	}
	return set
}

// TypeOf infers e's type class under the query's semantics, with the
// columns its tables hold.
func (g *Gen) TypeOf(e ast.Expr) Kind {
	return types.Of(e, types.Env{
		Postgres: g.Env != nil && g.Env.PostgresSemantics,
		Column:   func(r *ast.ColumnRef) Kind { return g.kinds[r.Name] },
	})
}

// FloatAgg is an aggregate DuckDB always answers as a double (avg,
// stddev, variance, median, quantiles) for an engine that answers an
// exact argument's exactly (PostgreSQL: numeric): the result is cast to
// the target's double type when the argument is an integer or decimal.
func FloatAgg(name, double string) AggSpec { return doubleAgg(name, double, false) }

// FloatArgAgg is an aggregate DuckDB computes over its argument converted
// to a double (stddev, variance): an engine that would compute an exact
// argument exactly (PostgreSQL's numeric) gets the argument cast, so
// 2^53 and 2^53+1 are one value in both, as they are in DuckDB.
func FloatArgAgg(name, double string) AggSpec { return doubleAgg(name, double, true) }

// doubleAgg casts an exact argument's aggregate to double, or (onArg)
// the argument itself.
func doubleAgg(name, double string, onArg bool) AggSpec {
	return AggSpec{Print: func(g *Gen, a *ast.Agg) {
		cast := a.Arg != nil && g.TypeOf(a.Arg).Exact() && (g.Env == nil || !g.Env.PostgresSemantics)
		begin := func(on bool) {
			if cast && on {
				g.W("CAST(")
			}
		}
		end := func(on bool) {
			if cast && on {
				g.W(" AS " + double + ")")
			}
		}
		begin(!onArg)
		g.W(name + "(")
		if a.Distinct {
			g.W("DISTINCT ")
		}
		begin(onArg)
		g.Expr(a.Arg)
		end(onArg)
		g.W(")")
		g.P.AggTail(a)
		end(!onArg)
	}}
}

// NonZero reports a numeric literal other than zero: a divisor no engine
// raises an error on or answers NULL or infinity for.
func NonZero(e ast.Expr) bool {
	if u, ok := e.(*ast.Unary); ok && u.Op == ast.Neg {
		return NonZero(u.X)
	}
	l, ok := e.(*ast.Literal)
	if !ok || (l.Kind != ast.LitInt && l.Kind != ast.LitNumber) {
		return false
	}
	if l.Kind == ast.LitInt {
		return l.Int != 0
	}
	return strings.Trim(strings.SplitN(strings.ToLower(l.Text), "e", 2)[0], "0.-+") != ""
}

// SafeDivision reports a division whose divisor can never be zero where
// it matters: a nonzero constant, or a count whose dividend is an
// aggregate that is NULL over no rows (sum/count(*) is NULL, not 0/0,
// when nothing matched).
func SafeDivision(l, r ast.Expr) bool {
	if NonZero(r) {
		return true
	}
	c, ok := r.(*ast.Agg)
	if !ok || c.Kind != ast.AggCount || c.Filter != nil || c.Over != nil {
		return false
	}
	n, ok := l.(*ast.Agg)
	if !ok || n.Filter != nil || n.Over != nil {
		return false
	}
	switch n.Kind {
	case ast.AggSum, ast.AggAvg, ast.AggMin, ast.AggMax:
		return c.Arg == nil || n.Arg != nil && c.Arg.String() == n.Arg.String()
	}
	return false
}

// IsColumn reports whether name is a column of one of the query's
// tables (time included).
func (g *Gen) IsColumn(name string) bool {
	_, ok := g.kinds[name]
	return ok
}

// unify returns n with its integer operands cast to DOUBLE when n
// compares integers with doubles (see Dialect.UnifyNumbers), nil when n
// needs no cast.
func (g *Gen) unify(n ast.Node) ast.Expr {
	var ops []ast.Expr
	switch n := n.(type) {
	case *ast.Binary:
		if !n.Op.IsComparison() {
			return nil
		}
		ops = []ast.Expr{n.L, n.R}
	case *ast.Between:
		ops = []ast.Expr{n.X, n.Lo, n.Hi}
	case *ast.InList:
		ops = append([]ast.Expr{n.X}, n.List...)
	default:
		return nil
	}
	float, integer := false, false
	for _, e := range ops {
		switch g.TypeOf(e) {
		case KFloat:
			float = true
		case KInt, KHugeInt:
			integer = true
		}
	}
	if !float || !integer {
		return nil
	}
	needed := false
	for _, e := range ops {
		if k := g.TypeOf(e); (k == KInt || k == KHugeInt) && !smallInt(e) {
			needed = true
		}
	}
	if !needed {
		return nil
	}
	cast := func(e ast.Expr) ast.Expr {
		if k := g.TypeOf(e); (k == KInt || k == KHugeInt) && !smallInt(e) {
			return &ast.Cast{Span: ast.NoSpan, X: e, Type: ast.Type{Kind: ast.TypeDouble}}
		}
		return e
	}
	var out ast.Expr
	switch n := n.(type) {
	case *ast.Binary:
		out = &ast.Binary{Span: n.Span, Op: n.Op, L: cast(n.L), R: cast(n.R)}
	case *ast.Between:
		out = &ast.Between{Span: n.Span, X: cast(n.X), Lo: cast(n.Lo), Hi: cast(n.Hi), Not: n.Not}
	case *ast.InList:
		list := make([]ast.Expr, len(n.List))
		for i, e := range n.List {
			list[i] = cast(e)
		}
		out = &ast.InList{Span: n.Span, X: cast(n.X), List: list, Not: n.Not}
	}
	// The replacement keeps the dialect's marks (ClickHouse marks the
	// logical nodes whose NULL answer it must spell out).
	if out != nil && g.Marks[n] {
		g.Marks[out] = true
	}
	return out
}

// smallInt reports an integer literal within ±2^53: a double holds it
// exactly, so comparing it exactly or as a double is the same.
func smallInt(e ast.Expr) bool {
	if u, ok := e.(*ast.Unary); ok && u.Op == ast.Neg {
		e = u.X
	}
	l, ok := e.(*ast.Literal)
	return ok && l.Kind == ast.LitInt && l.Int >= -(1<<53) && l.Int <= 1<<53
}

// MayNaN reports an expression that can be NaN although no stored value
// is (writers to engines that order NaN differently refuse it): a
// division (0/0) or float arithmetic (inf - inf).
func MayNaN(g *Gen, e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if b, ok := n.(*ast.Binary); ok {
			switch b.Op {
			case ast.OpDiv:
				found = true
			case ast.OpAdd, ast.OpSub, ast.OpMul:
				found = found || g.TypeOf(b) == KFloat
			}
		}
		return !found
	})
	return found
}
