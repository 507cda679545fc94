package plan

import (
	"regexp"
	"sort"
	"strconv"

	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// The select list: output names, raw (non-aggregate) queries and the
// scalar expressions the gateway evaluates after the target.

// outName is the name SQL gives an output column: the alias, a column's
// own name, else the expression's text (DuckDB's rule).
func outName(it *ast.SelectItem) string {
	if it.Alias != "" {
		return it.Alias
	}
	if c, ok := it.Expr.(*ast.ColumnRef); ok {
		return c.Name
	}
	// DuckDB (Arc) names an unaliased count(*) count_star(); other
	// expressions print as DuckDB prints them for the simple shapes used.
	if a, ok := it.Expr.(*ast.Agg); ok && a.Kind == ast.AggCount && a.Arg == nil && !a.Distinct {
		return "count_star()"
	}
	return it.Expr.String()
}

func hasAgg(e ast.Node) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if _, ok := n.(*ast.Agg); ok {
			found = true
		}
		return !found
	})
	return found
}

func (a *analyzer) output() error {
	s := a.sel
	for _, it := range s.Columns {
		a.names = append(a.names, outName(it))
		if hasAgg(it.Expr) {
			a.p.Aggregate = true
		}
	}
	if len(s.GroupBy) > 0 || (s.Having != nil) {
		a.p.Aggregate = true
	}
	for _, o := range s.OrderBy {
		if hasAgg(o.Expr) {
			a.p.Aggregate = true
		}
	}
	if a.p.Aggregate {
		return a.aggregate()
	}
	return a.raw()
}

// orderBy converts ORDER BY items: each resolved (a select alias first),
// then converted by expr, the query kind's expression converter.
func (a *analyzer) orderBy(items []*ast.OrderItem, expr func(ast.Expr) (ast.Expr, error)) ([]*ast.OrderItem, error) {
	var order []*ast.OrderItem
	for _, o := range items {
		e, err := a.resolve(o.Expr, true)
		if err != nil {
			return nil, err
		}
		x, err := expr(e)
		if err != nil {
			return nil, err
		}
		order = append(order, &ast.OrderItem{Span: ast.NoSpan, Expr: x, Desc: o.Desc, Nulls: o.Nulls})
	}
	return order, nil
}

// resolve maps a GROUP BY / ORDER BY item that names an output column
// (by position or alias) to that column's expression. In GROUP BY an
// input column wins over an alias; in ORDER BY the alias wins.
func (a *analyzer) resolve(e ast.Expr, aliasFirst bool) (ast.Expr, error) {
	switch x := e.(type) {
	case *ast.Literal:
		if x.Kind == ast.LitInt {
			if x.Int < 1 || int(x.Int) > len(a.sel.Columns) {
				return nil, &errs.Error{Code: errs.Invalid, Msg: "position " + x.Text + " is not in select list", Position: pos(x)}
			}
			return a.sel.Columns[x.Int-1].Expr, nil
		}
	case *ast.ColumnRef:
		if x.Table != "" {
			return e, nil
		}
		_, isCol := a.cols[x.Name]
		isCol = isCol || x.Name == "time"
		if isCol && !aliasFirst {
			return e, nil
		}
		for i, it := range a.sel.Columns {
			if it.Alias == x.Name {
				return a.sel.Columns[i].Expr, nil
			}
		}
	}
	return e, nil
}

func colRef(name string) *ast.ColumnRef {
	return &ast.ColumnRef{Span: ast.NoSpan, Name: name}
}

var safeName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// fresh returns a backend column name for a computed column: the SQL
// name when it is a plain identifier no column uses, else _c<i>.
func (a *analyzer) fresh(want string) string {
	if safeName.MatchString(want) && !a.used[want] {
		a.used[want] = true
		return want
	}
	for i := 0; ; i++ {
		n := "_c" + strconv.Itoa(i)
		if !a.used[n] {
			a.used[n] = true
			return n
		}
	}
}

func (a *analyzer) raw() error {
	s := a.sel
	var proj []target.ProjectColumn
	fetched := map[string]bool{}
	fetch := func(c target.ColumnInfo) {
		if !fetched[c.Name] {
			fetched[c.Name] = true
			a.p.Fetch = append(a.p.Fetch, c)
		}
	}
	// expr converts a select or ORDER BY expression to one over backend
	// columns, fetching what it reads.
	var expr func(e ast.Expr) (ast.Expr, error)
	expr = func(e ast.Expr) (ast.Expr, error) {
		switch x := e.(type) {
		case *ast.ColumnRef:
			c, isTime, err := a.column(x)
			if err != nil {
				return nil, err
			}
			if isTime {
				return colRef(a.opt.TimeCol), nil
			}
			if err := a.optionalTag(c, x); err != nil {
				return nil, err
			}
			fetch(c)
			return colRef(c.Name), nil
		}
		return a.scalar(e, expr)
	}
	for i, it := range s.Columns {
		if st, ok := it.Expr.(*ast.Star); ok {
			if len(s.Columns) > 1 || (st.Table != "" && st.Table != a.alias) {
				return a.refuse("* beside other select items", it, "select * alone or list the columns")
			}
			for _, c := range a.p.Schema {
				if err := a.optionalTag(c, it); err != nil {
					return err
				}
			}
			a.p.Star = true
			proj = append(proj, target.ProjectColumn{Name: "time", Expr: colRef(a.opt.TimeCol)})
			// time, then every column alphabetically: Arc's SELECT *
			// order (it sorts a measurement's columns, tags and fields
			// alike), which the embedded store keeps too.
			cols := append([]target.ColumnInfo(nil), a.p.Schema...)
			sort.Slice(cols, func(i, j int) bool { return cols[i].Name < cols[j].Name })
			for _, c := range cols {
				proj = append(proj, target.ProjectColumn{Name: c.Name, Expr: colRef(c.Name)})
			}
			continue
		}
		x, err := expr(it.Expr)
		if err != nil {
			return err
		}
		proj = append(proj, target.ProjectColumn{Name: a.names[i], Expr: x})
	}
	order, err := a.orderBy(s.OrderBy, expr)
	if err != nil {
		return err
	}
	if !a.p.Star {
		// InfluxQL returns only points that have one of the fetched
		// fields; a Required one makes that every point.
		has := false
		for _, c := range a.p.Fetch {
			has = has || (!c.Tag && c.Required)
		}
		if !has {
			req, ok := a.required()
			if !ok {
				return a.refuse("selecting columns none of which is present in every point", s,
					"mark a field that every point has as Required in the schema")
			}
			fetch(req)
		}
	}
	native := len(order) == 0 || (len(order) == 1 && isCol(order[0].Expr, a.opt.TimeCol))
	if native && len(order) == 1 {
		a.p.Order = 1
		if order[0].Desc {
			a.p.Order = -1
		}
	}
	return a.tail(native, order, nil, proj)
}

func isCol(e ast.Expr, name string) bool {
	c, ok := e.(*ast.ColumnRef)
	return ok && c.Name == name
}

// scalar handles the expression forms both raw and aggregate outputs
// allow: constants and arithmetic, which the gateway evaluates.
func (a *analyzer) scalar(e ast.Expr, sub func(ast.Expr) (ast.Expr, error)) (ast.Expr, error) {
	switch x := e.(type) {
	case *ast.Literal:
		return x, nil
	case *ast.Unary:
		if x.Op != ast.Neg {
			break
		}
		y, err := sub(x.X)
		if err != nil {
			return nil, err
		}
		return &ast.Unary{Span: ast.NoSpan, Op: x.Op, X: y}, nil
	case *ast.Binary:
		switch x.Op {
		case ast.OpAdd, ast.OpSub, ast.OpMul, ast.OpDiv, ast.OpIntDiv, ast.OpMod,
			ast.OpEq, ast.OpNe, ast.OpLt, ast.OpLe, ast.OpGt, ast.OpGe, ast.OpAnd, ast.OpOr:
			if x.Op != ast.OpDiv && !x.Op.IsComparison() && (decimalLit(x.L) && !a.isFloat(x.R) || decimalLit(x.R) && !a.isFloat(x.L)) {
				// DuckDB types 1 + 0.5 DECIMAL, exact and printed as
				// written; the gateway computes in float64.
				return nil, a.refuse(x.String()+" (arithmetic between a decimal literal and a non-float value)", x,
					"write the literal with an exponent (0.5e0) or cast the other operand to DOUBLE")
			}
			l, err := sub(x.L)
			if err != nil {
				return nil, err
			}
			r, err := sub(x.R)
			if err != nil {
				return nil, err
			}
			return &ast.Binary{Span: ast.NoSpan, Op: x.Op, L: l, R: r}, nil
		}
	}
	return nil, a.refuse(e.String()+" in the select list", e, "select columns, aggregates of fields, and arithmetic on them")
}

// decimalLit reports a fractional literal written without an exponent,
// which DuckDB reads as DECIMAL.
func decimalLit(e ast.Expr) bool {
	if u, ok := e.(*ast.Unary); ok && u.Op == ast.Neg {
		e = u.X
	}
	l, ok := e.(*ast.Literal)
	return ok && l.Kind == ast.LitNumber && !l.IsDouble()
}

// isFloat reports an expression DuckDB types DOUBLE, so arithmetic with
// a decimal literal is DOUBLE arithmetic, as the gateway computes it.
func (a *analyzer) isFloat(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.Literal:
		return x.IsDouble()
	case *ast.ColumnRef:
		c, isTime, err := a.column(x)
		return err == nil && !isTime && !c.Tag && c.Type == model.TypeFloat
	case *ast.Unary:
		return x.Op == ast.Neg && a.isFloat(x.X)
	case *ast.Cast:
		return x.Type.Kind == ast.TypeDouble
	case *ast.Agg:
		switch x.Kind {
		case ast.AggAvg, ast.AggStddevSamp, ast.AggStddevPop, ast.AggVarSamp, ast.AggVarPop, ast.AggMedian, ast.AggPercentileCont:
			return true
		case ast.AggSum, ast.AggMin, ast.AggMax, ast.AggFirst, ast.AggLast:
			return x.Arg != nil && a.isFloat(x.Arg)
		}
	case *ast.Binary:
		switch x.Op {
		case ast.OpDiv:
			return true
		case ast.OpAdd, ast.OpSub, ast.OpMul:
			return a.isFloat(x.L) || a.isFloat(x.R)
		}
	}
	return false
}
