package ast

// Inspect walks the tree depth-first, calling f for each node before its
// children; f returning false skips the children.
func Inspect(n Node, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	exprs := func(list []Expr) {
		for _, e := range list {
			Inspect(e, f)
		}
	}
	opt := func(e Expr) {
		if e != nil {
			Inspect(e, f)
		}
	}
	orders := func(list []*OrderItem) {
		for _, o := range list {
			Inspect(o, f)
		}
	}
	switch n := n.(type) {
	case *Select:
		if n.With != nil {
			Inspect(n.With, f)
		}
		exprs(n.DistinctOn)
		for _, c := range n.Columns {
			Inspect(c, f)
		}
		for _, t := range n.From {
			Inspect(t, f)
		}
		opt(n.Where)
		exprs(n.GroupBy)
		opt(n.Having)
		orders(n.OrderBy)
		opt(n.Limit)
		opt(n.Offset)
	case *SetOp:
		if n.With != nil {
			Inspect(n.With, f)
		}
		Inspect(n.Left, f)
		Inspect(n.Right, f)
		orders(n.OrderBy)
		opt(n.Limit)
		opt(n.Offset)
	case *With:
		for _, c := range n.CTEs {
			Inspect(c, f)
		}
	case *CTE:
		Inspect(n.Query, f)
	case *SelectItem:
		Inspect(n.Expr, f)
	case *OrderItem:
		Inspect(n.Expr, f)
	case *Describe:
		Inspect(n.Table, f)
	case *SubqueryTable:
		Inspect(n.Query, f)
	case *Join:
		Inspect(n.Left, f)
		Inspect(n.Right, f)
		opt(n.On)
	case *Unary:
		Inspect(n.X, f)
	case *Binary:
		Inspect(n.L, f)
		Inspect(n.R, f)
	case *IsNull:
		Inspect(n.X, f)
	case *Between:
		Inspect(n.X, f)
		Inspect(n.Lo, f)
		Inspect(n.Hi, f)
	case *InList:
		Inspect(n.X, f)
		exprs(n.List)
	case *InSubquery:
		Inspect(n.X, f)
		Inspect(n.Query, f)
	case *Exists:
		Inspect(n.Query, f)
	case *Subquery:
		Inspect(n.Query, f)
	case *Like:
		Inspect(n.X, f)
		Inspect(n.Pattern, f)
	case *RegexMatch:
		Inspect(n.X, f)
		Inspect(n.Pattern, f)
	case *Cast:
		Inspect(n.X, f)
	case *Extract:
		Inspect(n.X, f)
	case *Func:
		exprs(n.Args)
		if n.Over != nil {
			Inspect(n.Over, f)
		}
	case *Agg:
		opt(n.Arg)
		opt(n.By)
		opt(n.Fraction)
		opt(n.Filter)
		if n.Over != nil {
			Inspect(n.Over, f)
		}
	case *Window:
		exprs(n.PartitionBy)
		orders(n.OrderBy)
		if n.Frame != nil {
			opt(n.Frame.Start.Offset)
			opt(n.Frame.End.Offset)
		}
	case *Case:
		opt(n.Operand)
		for _, w := range n.Whens {
			Inspect(w.Cond, f)
			Inspect(w.Result, f)
		}
		opt(n.Else)
	case *TimeBucket:
		Inspect(n.Source, f)
	}
}

// RewriteExprs replaces, bottom-up, every expression e in the tree with
// f(e). It mutates the tree in place; callers rewrite their own copy.
func RewriteExprs(n Node, f func(Expr) Expr) {
	var rw func(e Expr) Expr
	list := func(l []Expr) {
		for i := range l {
			l[i] = rw(l[i])
		}
	}
	opt := func(e Expr) Expr {
		if e == nil {
			return nil
		}
		return rw(e)
	}
	var node func(n Node)
	orders := func(l []*OrderItem) {
		for _, o := range l {
			o.Expr = rw(o.Expr)
		}
	}
	window := func(w *Window) {
		if w == nil {
			return
		}
		list(w.PartitionBy)
		orders(w.OrderBy)
		if w.Frame != nil {
			w.Frame.Start.Offset = opt(w.Frame.Start.Offset)
			w.Frame.End.Offset = opt(w.Frame.End.Offset)
		}
	}
	rw = func(e Expr) Expr {
		switch e := e.(type) {
		case *Unary:
			e.X = rw(e.X)
		case *Binary:
			e.L, e.R = rw(e.L), rw(e.R)
		case *IsNull:
			e.X = rw(e.X)
		case *Between:
			e.X, e.Lo, e.Hi = rw(e.X), rw(e.Lo), rw(e.Hi)
		case *InList:
			e.X = rw(e.X)
			list(e.List)
		case *InSubquery:
			e.X = rw(e.X)
			node(e.Query)
		case *Exists:
			node(e.Query)
		case *Subquery:
			node(e.Query)
		case *Like:
			e.X, e.Pattern = rw(e.X), rw(e.Pattern)
		case *RegexMatch:
			e.X, e.Pattern = rw(e.X), rw(e.Pattern)
		case *Cast:
			e.X = rw(e.X)
		case *Extract:
			e.X = rw(e.X)
		case *Func:
			list(e.Args)
			window(e.Over)
		case *Agg:
			e.Arg, e.By, e.Fraction, e.Filter = opt(e.Arg), opt(e.By), opt(e.Fraction), opt(e.Filter)
			window(e.Over)
		case *Case:
			e.Operand = opt(e.Operand)
			for _, w := range e.Whens {
				w.Cond, w.Result = rw(w.Cond), rw(w.Result)
			}
			e.Else = opt(e.Else)
		case *TimeBucket:
			e.Source = rw(e.Source)
		}
		return f(e)
	}
	node = func(n Node) {
		switch n := n.(type) {
		case *Select:
			if n.With != nil {
				for _, c := range n.With.CTEs {
					node(c.Query)
				}
			}
			list(n.DistinctOn)
			for _, c := range n.Columns {
				c.Expr = rw(c.Expr)
			}
			for _, t := range n.From {
				node(t)
			}
			n.Where = opt(n.Where)
			list(n.GroupBy)
			n.Having = opt(n.Having)
			orders(n.OrderBy)
			n.Limit, n.Offset = opt(n.Limit), opt(n.Offset)
		case *SetOp:
			if n.With != nil {
				for _, c := range n.With.CTEs {
					node(c.Query)
				}
			}
			node(n.Left)
			node(n.Right)
			orders(n.OrderBy)
			n.Limit, n.Offset = opt(n.Limit), opt(n.Offset)
		case *SubqueryTable:
			node(n.Query)
		case *Join:
			node(n.Left)
			node(n.Right)
			n.On = opt(n.On)
		}
	}
	node(n)
}
