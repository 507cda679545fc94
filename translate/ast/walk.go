package ast

// children calls expr with the address of each expression slot of n and
// node with each child that is not an expression, in source order. It is
// the one list of a node's children: Inspect and RewriteExprs both walk
// through it, so a new field cannot be seen by one and missed by the other.
// Optional slots may hold nil; expr sees them too.
func children(n Node, expr func(*Expr), node func(Node)) {
	exprs := func(list []Expr) {
		for i := range list {
			expr(&list[i])
		}
	}
	orders := func(list []*OrderItem) {
		for _, o := range list {
			node(o)
		}
	}
	switch n := n.(type) {
	case *Select:
		if n.With != nil {
			node(n.With)
		}
		exprs(n.DistinctOn)
		for _, c := range n.Columns {
			node(c)
		}
		for _, t := range n.From {
			node(t)
		}
		expr(&n.Where)
		exprs(n.GroupBy)
		expr(&n.Having)
		orders(n.OrderBy)
		expr(&n.Limit)
		expr(&n.Offset)
	case *SetOp:
		if n.With != nil {
			node(n.With)
		}
		node(n.Left)
		node(n.Right)
		orders(n.OrderBy)
		expr(&n.Limit)
		expr(&n.Offset)
	case *With:
		for _, c := range n.CTEs {
			node(c)
		}
	case *CTE:
		node(n.Query)
	case *SelectItem:
		expr(&n.Expr)
	case *OrderItem:
		expr(&n.Expr)
	case *Describe:
		node(n.Table)
	case *SubqueryTable:
		node(n.Query)
	case *Join:
		node(n.Left)
		node(n.Right)
		expr(&n.On)
	case *Unary:
		expr(&n.X)
	case *Binary:
		expr(&n.L)
		expr(&n.R)
	case *IsNull:
		expr(&n.X)
	case *Between:
		expr(&n.X)
		expr(&n.Lo)
		expr(&n.Hi)
	case *InList:
		expr(&n.X)
		exprs(n.List)
	case *InSubquery:
		expr(&n.X)
		node(n.Query)
	case *Exists:
		node(n.Query)
	case *Subquery:
		node(n.Query)
	case *Like:
		expr(&n.X)
		expr(&n.Pattern)
	case *RegexMatch:
		expr(&n.X)
		expr(&n.Pattern)
	case *Cast:
		expr(&n.X)
	case *Extract:
		expr(&n.X)
	case *Func:
		exprs(n.Args)
		if n.Over != nil {
			node(n.Over)
		}
	case *Agg:
		expr(&n.Arg)
		expr(&n.By)
		expr(&n.Fraction)
		expr(&n.Filter)
		if n.Over != nil {
			node(n.Over)
		}
	case *Window:
		exprs(n.PartitionBy)
		orders(n.OrderBy)
		if n.Frame != nil {
			expr(&n.Frame.Start.Offset)
			expr(&n.Frame.End.Offset)
		}
	case *Case:
		expr(&n.Operand)
		for _, w := range n.Whens {
			expr(&w.Cond)
			expr(&w.Result)
		}
		expr(&n.Else)
	case *TimeBucket:
		expr(&n.Source)
	}
}

// Inspect walks the tree depth-first, calling f for each node before its
// children; f returning false skips the children.
func Inspect(n Node, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	children(n, func(e *Expr) { Inspect(*e, f) }, func(c Node) { Inspect(c, f) })
}

// RewriteExprs replaces, bottom-up, every expression e in the tree with
// f(e). It mutates the tree in place; callers rewrite their own copy.
func RewriteExprs(n Node, f func(Expr) Expr) {
	var node func(Node)
	var expr func(*Expr)
	expr = func(e *Expr) {
		if *e == nil {
			return
		}
		children(*e, expr, node)
		*e = f(*e)
	}
	node = func(n Node) { children(n, expr, node) }
	node(n)
}
