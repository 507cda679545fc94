package plan

import (
	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/ast"
	"tsgate/translate/sqlgen"
	"tsgate/translate/target"
)

// GROUP BY and aggregates: the tags and the one time bucket the target
// groups by, and the aggregates it computes.

func (a *analyzer) aggregate() error {
	s := a.sel
	var bucket *ast.TimeBucket
	tags := map[string]bool{}
	for _, g := range s.GroupBy {
		e, err := a.resolve(g, false)
		if err != nil {
			return err
		}
		switch x := e.(type) {
		case *ast.TimeBucket:
			if bucket != nil {
				return a.refuse("two time buckets in GROUP BY", x, "")
			}
			if err := a.bucket(x); err != nil {
				return err
			}
			bucket = x
			continue
		case *ast.ColumnRef:
			c, isTime, err := a.column(x)
			if err != nil {
				return err
			}
			if !isTime && c.Tag {
				if err := a.optionalTag(c, x); err != nil {
					return err
				}
				if !tags[c.Name] {
					tags[c.Name] = true
					a.p.GroupTags = append(a.p.GroupTags, c.Name)
				}
				continue
			}
		}
		return a.refuse("GROUP BY "+e.String(), g, a.p.Target+" groups by tags and one time bucket only")
	}
	var expr func(e ast.Expr) (ast.Expr, error)
	expr = func(e ast.Expr) (ast.Expr, error) {
		switch x := e.(type) {
		case *ast.TimeBucket:
			if bucket != nil && x.String() == bucket.String() {
				return colRef(a.opt.TimeCol), nil
			}
			return nil, &errs.Error{Code: errs.Invalid, Msg: x.String() + " must appear in the GROUP BY clause", Position: pos(x)}
		case *ast.ColumnRef:
			c, _, err := a.column(x)
			if err != nil {
				return nil, err
			}
			if c.Tag && tags[c.Name] {
				return colRef(c.Name), nil
			}
			return nil, &errs.Error{Code: errs.Invalid, Msg: "column " + x.Name + " must appear in the GROUP BY clause or be used in an aggregate function", Position: pos(x)}
		case *ast.Agg:
			return a.agg(x, "")
		}
		return a.scalar(e, expr)
	}
	var proj []target.ProjectColumn
	for i, it := range s.Columns {
		if _, ok := it.Expr.(*ast.Star); ok {
			return a.refuse("* in an aggregate query", it, "")
		}
		// Name an aggregate selected as is after its SQL name.
		if ag, ok := it.Expr.(*ast.Agg); ok {
			if _, err := a.agg(ag, a.names[i]); err != nil {
				return err
			}
		}
		x, err := expr(it.Expr)
		if err != nil {
			return err
		}
		proj = append(proj, target.ProjectColumn{Name: a.names[i], Expr: x})
	}
	if len(a.p.Aggs) == 0 && s.Having == nil {
		return a.refuse("GROUP BY without an aggregate", s, "InfluxDB computes groups only for aggregates of fields (SHOW TAG VALUES lists a tag's values)")
	}

	var having ast.Expr
	if s.Having != nil {
		h, err := expr(s.Having)
		if err != nil {
			return err
		}
		having = h
	}
	order, err := a.orderBy(s.OrderBy, expr)
	if err != nil {
		return err
	}
	if bucket == nil && len(a.p.GroupTags) == 0 {
		// SQL returns one row even when nothing matches.
		var def []target.ProjectColumn
		for _, g := range a.p.Aggs {
			v := &ast.Literal{Span: ast.NoSpan, Kind: ast.LitNull}
			if g.Kind == ast.AggCount {
				v = &ast.Literal{Span: ast.NoSpan, Kind: ast.LitInt, Text: "0"}
			}
			def = append(def, target.ProjectColumn{Name: g.Name, Expr: v})
		}
		a.p.Post = append(a.p.Post, target.PostStep{Kind: target.StepDefaultRow, Columns: def})
	}
	native := len(order) == 0 || (len(a.p.GroupTags) == 0 && bucket != nil && len(order) == 1 && isCol(order[0].Expr, a.opt.TimeCol))
	if native && len(order) == 1 {
		a.p.Order = 1
		if order[0].Desc {
			a.p.Order = -1
		}
	}
	if bucket == nil && len(a.p.GroupTags) == 0 {
		native = false // one row: LIMIT/OFFSET apply after the default row
	}
	if len(a.p.GroupTags) > 0 && (s.Limit != nil || s.Offset != nil) {
		native = false // InfluxQL's LIMIT counts per series
	}
	return a.tail(native, order, having, proj)
}

// bucket checks a GROUP BY time bucket and records its width and offset.
func (a *analyzer) bucket(b *ast.TimeBucket) error {
	if !isTimeRef(b.Source) {
		return a.refuse("a time bucket of "+b.Source.String(), b, "bucket the time column")
	}
	if b.TZ != "" {
		return a.refuse("a time bucket in time zone "+b.TZ, b, "tsgate translates buckets computed in UTC only")
	}
	if !b.Width.Fixed() {
		return a.refuse("a time bucket of months", b, a.p.Target+" buckets have a fixed width; a month has none")
	}
	if b.Result != ast.BucketTimestamp {
		return a.refuse("a time bucket as epoch seconds", b, "use time_bucket(), which yields a timestamp")
	}
	w := b.Width.FixedMicros()
	if w <= 0 {
		return a.refuse("a time bucket of width "+b.Width.String(), b, "")
	}
	a.p.BucketNS = w * 1000
	a.p.OffsetNS = sqlgen.Mod(b.Origin, w) * 1000
	return nil
}

// agg registers an aggregate (once per distinct text) and returns the
// backend column holding it, named want when that name is free.
func (a *analyzer) agg(g *ast.Agg, want string) (ast.Expr, error) {
	for _, x := range a.p.Aggs {
		if x.Node.String() == g.String() {
			return colRef(x.Name), nil
		}
	}
	if g.Over != nil {
		return nil, a.refuse("window functions", g, "")
	}
	if g.Filter != nil {
		return nil, a.refuse("an aggregate FILTER clause", g, "move the condition into WHERE")
	}
	var field target.ColumnInfo
	if g.Arg == nil {
		if g.Kind != ast.AggCount {
			return nil, a.refuse(g.String(), g, "")
		}
		req, ok := a.required()
		if !ok {
			return nil, a.refuse("count(*) on a measurement with no field present in every point", g,
				"InfluxDB counts a field's values, not rows; mark a field that every point has as Required in the schema")
		}
		field = req
		a.anchored = true
		a.note("count(*)", "counts the points that have field "+req.Name+", which the schema marks present in every point")
	} else {
		cr, ok := g.Arg.(*ast.ColumnRef)
		if !ok {
			return nil, a.refuse("an aggregate of an expression ("+g.String()+")", g, a.p.Target+" aggregates fields only")
		}
		c, isTime, err := a.column(cr)
		if err != nil {
			return nil, err
		}
		if isTime || c.Tag {
			return nil, a.refuse(g.Kind.String()+"() of the "+map[bool]string{true: "time column", false: "tag " + c.Name}[isTime], g, a.p.Target+" aggregates fields only")
		}
		switch {
		case c.Required:
			a.anchored = true
		case a.opt.AggSkipsAbsent && (g.Kind == ast.AggSum || g.Kind == ast.AggAvg || g.Kind == ast.AggMin || g.Kind == ast.AggMax):
			// NULL in SQL and absent in the target agree once the group
			// exists; decided when every aggregate has been seen. (A
			// target without AggSkipsAbsent refuses below.)
			if a.absent == nil {
				a.absent = a.refuse(g.Kind.String()+"() of field "+c.Name+", which may be absent", g,
					"groups whose points all lack the field would be missing; select an aggregate of a Required field beside it, or mark it Required in the schema")
			}
		default:
			return nil, a.refuse(g.Kind.String()+"() of field "+c.Name+", which may be absent", g,
				"groups whose points all lack the field would be missing (and count would be NULL instead of 0); mark it Required in the schema if every point has it")
		}
		field = c
	}
	if g.Distinct && g.Kind != ast.AggCount {
		return nil, a.refuse(g.Kind.String()+"(DISTINCT …)", g, "")
	}
	if g.Kind == ast.AggFirst || g.Kind == ast.AggLast {
		if !isTimeRef(g.By) {
			return nil, a.refuse(g.Kind.String()+"() ordered by "+g.By.String(), g, a.p.Target+" orders first/last by time only")
		}
	}
	numeric := field.Type == model.TypeFloat || field.Type == model.TypeInt || field.Type == model.TypeUint
	switch g.Kind {
	case ast.AggSum, ast.AggAvg, ast.AggMin, ast.AggMax, ast.AggMedian:
		if !numeric {
			return nil, a.refuse(g.Kind.String()+"() of the non-numeric field "+field.Name, g, "")
		}
	}
	if (field.Type == model.TypeInt || field.Type == model.TypeUint) && (g.Kind == ast.AggSum || g.Kind == ast.AggAvg) {
		// InfluxDB adds int64 fields in int64 and wraps on overflow;
		// DuckDB adds integers exactly.
		return nil, a.refuse(g.Kind.String()+"() of the integer field "+field.Name, g, "InfluxDB's integer sum wraps on overflow; the gateway computes it")
	}
	if refuse, hint := a.opt.Agg(g, field); refuse {
		return nil, a.refuse("aggregate "+g.Kind.String(), g, hint)
	}
	x := &Agg{Kind: g.Kind, Field: field, Distinct: g.Distinct, Node: g}
	a.p.Aggs = append(a.p.Aggs, x)
	x.Name = a.fresh(want)
	return colRef(x.Name), nil
}
