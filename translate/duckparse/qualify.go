package duckparse

import (
	"strconv"
	"strings"

	"tsgate/translate/ast"
)

// qualifyAlias and qualifySource name what the QUALIFY rewrite adds: the
// condition's column in the inner query and the inner query itself
// (user names never start with _tsgate_).
const (
	qualifyAlias  = "_tsgate_qualify"
	qualifySource = "_tsgate_q"
	orderAlias    = "_tsgate_order"
)

// qualify rewrites SELECT … QUALIFY cond, DuckDB's filter on window
// results, into SQL every target has: the query without its DISTINCT,
// ORDER BY and LIMIT (which QUALIFY precedes) computes cond as one more
// column, and an outer query keeps the rows where it is true, then
// applies them:
//
//	SELECT q.a AS a, q.b AS b FROM (SELECT a, b, <cond> AS _tsgate_qualify
//	  FROM … ) AS _tsgate_q WHERE q._tsgate_qualify ORDER BY … LIMIT …
//
// A select alias in cond or ORDER BY is replaced by its expression (the
// inner query cannot refer to a sibling item); a name the measurement
// has stays the column, as DuckDB binds it. The outer query names its
// columns as DuckDB would, so the output keeps the names and order of
// the original. It needs one measurement whose columns tsgate knows (to
// expand * and tell columns from aliases); anything else is refused.
func (c *conv) qualify(sel *ast.Select, n, q map[string]any, sc *scope) (ast.Query, error) {
	if sc == nil {
		return nil, c.unsupported(q, "QUALIFY over anything but one measurement whose columns tsgate knows")
	}
	if len(sel.DistinctOn) > 0 {
		return nil, c.unsupported(q, "QUALIFY with DISTINCT ON")
	}
	cond, err := c.expr(q, sc)
	if err != nil {
		return nil, err
	}
	var items []*ast.SelectItem
	for _, it := range sel.Columns {
		if st, ok := it.Expr.(*ast.Star); ok {
			if st.Table != "" && !strings.EqualFold(st.Table, sc.table.Name) && !strings.EqualFold(st.Table, sc.table.Alias) {
				return nil, c.unsupported(q, "QUALIFY with "+st.Table+".*")
			}
			for _, n := range starNames(sc) {
				items = append(items, &ast.SelectItem{Span: it.Span, Expr: &ast.ColumnRef{Span: it.Span, Table: st.Table, Name: n}, Alias: n})
			}
			continue
		}
		name := it.Alias
		if name == "" {
			var ok bool
			if name, ok = DuckDBName(it.Expr); !ok {
				return nil, c.unsupported(q, "QUALIFY beside an unnamed computed column (name it with AS)")
			}
		}
		items = append(items, &ast.SelectItem{Span: it.Span, Expr: it.Expr, Alias: name})
	}
	seen := map[string]bool{}
	for _, it := range items {
		n := strings.ToLower(it.Alias)
		if seen[n] || strings.HasPrefix(n, "_tsgate_") {
			return nil, c.unsupported(q, "QUALIFY beside two columns named "+it.Alias)
		}
		seen[n] = true
	}
	// src is each computed item's parse tree by its name: an alias
	// inlined is converted again, a tree of its own.
	src := map[string]map[string]any{}
	for _, x := range list(n["select_list"]) {
		m := obj(x)
		if str(m, "class") == "STAR" {
			continue
		}
		name := str(m, "alias")
		if name == "" {
			e, err := c.expr(m, sc)
			if err != nil {
				return nil, err
			}
			name, _ = DuckDBName(e)
		}
		src[strings.ToLower(name)] = m
	}
	// inline replaces the select aliases e reads by their expressions.
	inline := func(e ast.Expr) (ast.Expr, error) {
		var err error
		ast.Inspect(e, func(x ast.Node) bool {
			switch x.(type) {
			case *ast.Subquery, *ast.InSubquery, *ast.Exists:
				err = c.unsupported(q, "a subquery in QUALIFY or in its query's ORDER BY")
			}
			return err == nil
		})
		if err != nil {
			return nil, err
		}
		hold := &ast.Select{Columns: []*ast.SelectItem{{Expr: e}}}
		ast.RewriteExprs(hold, func(x ast.Expr) ast.Expr {
			r, ok := x.(*ast.ColumnRef)
			if !ok || r.Table != "" || err != nil {
				return x
			}
			if _, col := sc.column(r); col {
				return x // DuckDB binds a column before an alias
			}
			m, ok := src[strings.ToLower(r.Name)]
			if !ok {
				return x
			}
			fresh, ferr := c.expr(m, sc)
			if ferr != nil {
				err = ferr
				return x
			}
			return fresh
		})
		return hold.Columns[0].Expr, err
	}
	inner := &ast.Select{Span: sel.Span, Columns: items, From: sel.From, Where: sel.Where, GroupBy: sel.GroupBy, Having: sel.Having}
	if cond, err = inline(cond); err != nil {
		return nil, err
	}
	inner.Columns = append(inner.Columns, &ast.SelectItem{Span: cond.Pos(), Expr: cond, Alias: qualifyAlias})
	ref := func(name string) *ast.ColumnRef {
		return &ast.ColumnRef{Span: ast.NoSpan, Table: qualifySource, Name: name}
	}
	outer := &ast.Select{Span: sel.Span, With: sel.With, Distinct: sel.Distinct, Limit: sel.Limit, Offset: sel.Offset,
		From:  []ast.TableExpr{&ast.SubqueryTable{Span: ast.NoSpan, Query: inner, Alias: qualifySource}},
		Where: ref(qualifyAlias)}
	for _, it := range items {
		outer.Columns = append(outer.Columns, &ast.SelectItem{Span: it.Span, Expr: ref(it.Alias), Alias: it.Alias})
	}
	for _, o := range sel.OrderBy {
		e := o.Expr
		switch x := e.(type) {
		case *ast.Literal:
			if x.Kind == ast.LitInt {
				break // a position: the outer query has the same columns
			}
			e = nil
		case *ast.ColumnRef:
			// ORDER BY prefers an output name, as SQL does.
			if i := itemNamed(items, x); x.Table == "" && i >= 0 {
				e = ref(items[i].Alias)
				break
			}
			e = nil
		default:
			e = nil
		}
		if e == nil {
			if sel.Distinct {
				return nil, c.unsupported(q, "QUALIFY with DISTINCT and ORDER BY an expression not selected")
			}
			x, err := inline(o.Expr)
			if err != nil {
				return nil, err
			}
			name := orderAlias + strconv.Itoa(len(inner.Columns))
			inner.Columns = append(inner.Columns, &ast.SelectItem{Span: o.Expr.Pos(), Expr: x, Alias: name})
			e = ref(name)
		}
		outer.OrderBy = append(outer.OrderBy, &ast.OrderItem{Span: o.Span, Expr: e, Desc: o.Desc, Nulls: o.Nulls})
	}
	return outer, nil
}

func itemNamed(items []*ast.SelectItem, r *ast.ColumnRef) int {
	for i, it := range items {
		if strings.EqualFold(it.Alias, r.Name) {
			return i
		}
	}
	return -1
}

// DuckDBName is the name DuckDB gives an unaliased select item when it
// is certain: a column's own name, count_star() and agg(column) for the
// plain aggregates. ok is false for anything else.
func DuckDBName(e ast.Expr) (string, bool) {
	switch x := e.(type) {
	case *ast.ColumnRef:
		return x.Name, true
	case *ast.Agg:
		if x.Filter != nil || x.By != nil || x.Fraction != nil || x.Over != nil {
			return "", false
		}
		switch x.Kind {
		case ast.AggCount, ast.AggSum, ast.AggAvg, ast.AggMin, ast.AggMax:
		default:
			return "", false
		}
		if x.Arg == nil {
			return "count_star()", x.Kind == ast.AggCount && !x.Distinct
		}
		c, ok := x.Arg.(*ast.ColumnRef)
		if !ok || c.Table != "" {
			return "", false
		}
		d := ""
		if x.Distinct {
			d = "DISTINCT "
		}
		return x.Kind.String() + "(" + d + c.Name + ")", true
	}
	return "", false
}
