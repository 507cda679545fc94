package plan

import (
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// Where ORDER BY, HAVING and LIMIT/OFFSET run: natively in the target or
// as the gateway's post steps.

// tail decides where ORDER BY, HAVING and LIMIT/OFFSET run and closes the
// post steps with the projection.
func (a *analyzer) tail(native bool, order []*ast.OrderItem, having ast.Expr, proj []target.ProjectColumn) error {
	s := a.sel
	limit, offset := int64(-1), int64(0)
	if s.Limit != nil {
		l, ok := s.Limit.(*ast.Literal)
		if !ok || l.Kind != ast.LitInt || l.Int < 0 {
			if ok && l.Kind == ast.LitNull {
				l = nil
			} else {
				return a.refuse("LIMIT "+s.Limit.String(), s.Limit, "LIMIT takes a non-negative integer constant")
			}
		}
		if l != nil {
			limit = l.Int
		}
	}
	if s.Offset != nil {
		l, ok := s.Offset.(*ast.Literal)
		if !ok || l.Kind != ast.LitInt || l.Int < 0 {
			return a.refuse("OFFSET "+s.Offset.String(), s.Offset, "OFFSET takes a non-negative integer constant")
		}
		offset = l.Int
	}
	// Every step may name a column the backend left out because no row
	// had a value (Flux after pivot): each reads it as NULL.
	var absent []string
	for _, c := range a.p.Schema {
		absent = append(absent, c.Name)
	}
	if a.p.Never {
		// Keep the query valid and let the gateway drop every row.
		a.p.Post = append([]target.PostStep{{Kind: target.StepFilter,
			Filter: &ast.Literal{Span: ast.NoSpan, Kind: ast.LitBool}}}, a.p.Post...)
	}
	if having != nil {
		a.p.Post = append(a.p.Post, target.PostStep{Kind: target.StepFilter, Filter: having, Absent: absent})
		native = native && len(order) == 0 && limit < 0 && offset == 0
	}
	if native && having == nil && limit != 0 {
		// A zero LIMIT means "no limit" in InfluxQL: leave it to the gateway.
		if limit > 0 {
			a.p.Limit = limit
		}
		if offset > 0 {
			a.p.Offset = offset
		}
	} else {
		a.p.Order = 0
		if len(order) > 0 {
			a.p.Post = append(a.p.Post, target.PostStep{Kind: target.StepSort, Order: order, Absent: absent})
		}
		if limit >= 0 || offset > 0 {
			a.p.Post = append(a.p.Post, target.PostStep{Kind: target.StepLimit, Limit: limit, Offset: offset})
		}
	}
	if a.absent != nil && !a.anchored {
		return a.absent
	}
	a.p.Post = append(a.p.Post, target.PostStep{Kind: target.StepProject, Columns: a.emptyTags(proj), Absent: absent})
	return nil
}
