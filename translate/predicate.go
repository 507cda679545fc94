package translate

import (
	"tsgate/errs"
	"tsgate/translate/ast"
	"tsgate/translate/pgparse"
	"tsgate/translate/target"
)

// Predicate parses an Arc SQL row condition (a DELETE's WHERE, a
// retention policy's cut-off) for measurement m and returns it as an
// AST, rewritten as a query's WHERE would be. It is read as the WHERE of
// `SELECT * FROM m WHERE …` and refused unless the statement is exactly
// that: one measurement, no other clause, and a condition on m's own
// columns with no subquery, aggregate or window. Callers print the AST
// in their backend's language: user text never reaches an engine.
func Predicate(m, where string) (ast.Expr, error) {
	probe := "SELECT * FROM " + ast.QuoteIdentPG(m) + " WHERE " + where
	st, err := pgparse.Parse(probe, FromArc)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "invalid WHERE clause: "+errs.As(err).Msg)
	}
	sel, ok := st.(*ast.Select)
	if !ok || sel.With != nil || sel.Distinct || len(sel.DistinctOn) > 0 || len(sel.GroupBy) > 0 || sel.Having != nil ||
		len(sel.OrderBy) > 0 || sel.Limit != nil || sel.Offset != nil || len(sel.From) != 1 || sel.Where == nil {
		return nil, errs.New(errs.Invalid, "invalid WHERE clause: it must be one condition on the measurement's columns")
	}
	if tb, ok := sel.From[0].(*ast.Table); !ok || tb.Schema != "" || tb.Name != m || tb.Alias != "" {
		return nil, errs.New(errs.Invalid, "invalid WHERE clause: it must be one condition on the measurement's columns")
	}
	if err := Rewrite(sel, FromArc); err != nil {
		return nil, err
	}
	var bad ast.Node
	ast.Inspect(sel.Where, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Subquery, *ast.InSubquery, *ast.Exists, *ast.Agg, *ast.Window, *ast.Param, *ast.Star:
			bad = n
		case *ast.ColumnRef:
			if n.Table != "" && n.Table != m {
				bad = n
			}
		}
		return bad == nil
	})
	if bad != nil {
		return nil, target.Refuse("a delete", "this condition", bad, "a WHERE here compares the measurement's own columns with constants")
	}
	return sel.Where, nil
}
