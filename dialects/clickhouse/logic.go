package clickhouse

import (
	"tsgate/translate/ast"
	"tsgate/translate/sqlgen"
)

// SQL's three-valued logic on ClickHouse.
//
// ClickHouse 18.16's and/or/IN are not Kleene's, measured on the real
// server: `0 AND NULL` is NULL (SQL: false), `0 OR NULL` is 0 (SQL:
// NULL), `NULL IN (1, 2)` is 0 and `NULL NOT IN (1, 2)` is 1 (SQL: NULL
// both), and its BETWEEN is an and(). Each still agrees with SQL on
// *when the result is true* — except NOT IN, true for NULL — so where
// only truth matters (a WHERE or HAVING condition, a CASE WHEN, a
// FILTER, a JOIN's ON, and the AND/OR operands within those) they are
// printed as they are. Everywhere else — under NOT, under IS [NOT]
// NULL, as a value — the result's exact value matters, and a logical
// expression is evaluated on an encoding where Kleene's logic is
// arithmetic: false 0, unknown 1, true 2; AND is least(), OR
// greatest(), NOT is 2 − x; a predicate p becomes ifNull(p * 2, 1), and
// the value nullIf(x, 1) = 2 decodes the result. Every operand is
// printed once, so the text grows linearly.

// markLogic records in g.Marks the logical nodes of q whose exact value
// matters (they print encoded), and every NOT IN.
func markLogic(g *sqlgen.Gen, q ast.Node) {
	var walk func(n ast.Node, truth bool)
	children := func(n ast.Node, truth bool) {
		first := true
		ast.Inspect(n, func(c ast.Node) bool {
			if first {
				first = false
				return true
			}
			walk(c, truth)
			return false
		})
	}
	walk = func(n ast.Node, truth bool) {
		if n == nil {
			return
		}
		switch n := n.(type) {
		case *ast.Select:
			// The clauses that filter by truth; the rest are values.
			for _, c := range n.Columns {
				walk(c, false)
			}
			for _, f := range n.From {
				walk(f, false)
			}
			if n.With != nil {
				walk(n.With, false)
			}
			for _, e := range n.DistinctOn {
				walk(e, false)
			}
			walk(n.Where, true)
			for _, e := range n.GroupBy {
				walk(e, false)
			}
			walk(n.Having, true)
			for _, o := range n.OrderBy {
				walk(o, false)
			}
		case *ast.Join:
			walk(n.Left, false)
			walk(n.Right, false)
			walk(n.On, true)
		case *ast.Binary:
			if n.Op == ast.OpAnd || n.Op == ast.OpOr {
				if !truth {
					g.Marks[n] = true
				}
				walk(n.L, truth)
				walk(n.R, truth)
				return
			}
			children(n, false)
		case *ast.InList:
			if n.Not || !truth {
				g.Marks[n] = true
			}
			children(n, false)
		case *ast.Between:
			if n.Not || !truth {
				g.Marks[n] = true
			}
			children(n, false)
		case *ast.Case:
			walk(n.Operand, false)
			for _, w := range n.Whens {
				walk(w.Cond, n.Operand == nil)
				walk(w.Result, false)
			}
			walk(n.Else, false)
		case *ast.Agg:
			walk(n.Arg, false)
			walk(n.By, false)
			walk(n.Fraction, false)
			walk(n.Filter, true)
			if n.Over != nil {
				walk(n.Over, false)
			}
		default:
			children(n, false)
		}
	}
	walk(q, false)
}

// logicNode prints a marked logical node; false for any other.
func logicNode(g *sqlgen.Gen, n ast.Node) bool {
	if !g.Marks[n] {
		return false
	}
	switch n := n.(type) {
	case *ast.Binary:
		if n.Op != ast.OpAnd && n.Op != ast.OpOr {
			return false
		}
		decode(g, n)
		return true
	case *ast.Between:
		decode(g, n)
		return true
	case *ast.InList:
		// NULL when x is NULL, the membership otherwise. A list holding
		// a NULL is left to pr.node, which refuses it.
		for _, e := range n.List {
			if l, ok := e.(*ast.Literal); ok && l.Kind == ast.LitNull {
				return false
			}
		}
		g.W("multiIf(isNull(")
		g.Expr(n.X)
		g.W("), NULL, ")
		g.Expr(n.X)
		if n.Not {
			g.W(" NOT IN (")
		} else {
			g.W(" IN (")
		}
		g.P.ExprList(n.List)
		g.W("))")
		return true
	}
	return false
}

// decode prints e's exact value: 0, 1 or NULL.
func decode(g *sqlgen.Gen, e ast.Expr) {
	g.W("(nullIf(")
	encode(g, e)
	g.W(", 1) = 2)")
}

// encode prints e on the 0/1/2 encoding.
func encode(g *sqlgen.Gen, e ast.Expr) {
	switch e := e.(type) {
	case *ast.Binary:
		if e.Op == ast.OpAnd || e.Op == ast.OpOr {
			if e.Op == ast.OpAnd {
				g.W("least(")
			} else {
				g.W("greatest(")
			}
			encode(g, e.L)
			g.W(", ")
			encode(g, e.R)
			g.W(")")
			return
		}
	case *ast.Unary:
		if e.Op == ast.Not {
			g.W("(2 - ")
			encode(g, e.X)
			g.W(")")
			return
		}
	case *ast.Between:
		// x BETWEEN lo AND hi is x >= lo AND x <= hi.
		if e.Not {
			g.W("(2 - ")
		}
		g.W("least(")
		encode(g, &ast.Binary{Span: e.Span, Op: ast.OpGe, L: e.X, R: e.Lo})
		g.W(", ")
		encode(g, &ast.Binary{Span: e.Span, Op: ast.OpLe, L: e.X, R: e.Hi})
		g.W(")")
		if e.Not {
			g.W(")")
		}
		return
	}
	g.W("ifNull(")
	g.P.Operand(e, ast.PrecMul)
	g.W(" * 2, 1)")
}
