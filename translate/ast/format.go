package ast

import (
	"strconv"
	"strings"
	"time"
)

// Hooks lets a dialect take over the printing of single nodes while the
// Printer keeps the statement structure. A SQL generator is a Hooks value
// built from dialect data; the canonical form (String) uses none.
type Hooks interface {
	// Node prints n itself and reports true, or reports false to get the
	// canonical form. It may call p.Fail to refuse n.
	Node(p *Printer, n Node) bool
	// Ident appends a quoted-as-needed identifier.
	Ident(p *Printer, name string)
	// Str appends a string literal.
	Str(p *Printer, s string)
}

// Printer renders an AST as SQL. The zero value prints canonical
// PostgreSQL-form SQL.
type Printer struct {
	sb    strings.Builder
	Hooks Hooks
	// Conservative parenthesizes every operator operand that is not an
	// atom, for targets whose operator precedence differs from
	// PostgreSQL's.
	Conservative bool
	err          error
}

// Fail records the first refusal; printing continues so the caller gets
// one error per statement, the earliest one.
func (p *Printer) Fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// Err is the first error passed to Fail.
func (p *Printer) Err() error { return p.err }

// String returns what was printed.
func (p *Printer) String() string { return p.sb.String() }

// Reset clears the output and error for reuse.
func (p *Printer) Reset() { p.sb.Reset(); p.err = nil }

// Grow reserves room.
func (p *Printer) Grow(n int) { p.sb.Grow(n) }

// W appends raw text.
func (p *Printer) W(s string) { p.sb.WriteString(s) }

// Ident appends an identifier, quoted as the hooks (or PostgreSQL) need.
func (p *Printer) Ident(name string) {
	if p.Hooks != nil {
		p.Hooks.Ident(p, name)
		return
	}
	p.sb.WriteString(QuoteIdentPG(name))
}

// Str appends a string literal.
func (p *Printer) Str(s string) {
	if p.Hooks != nil {
		p.Hooks.Str(p, s)
		return
	}
	p.sb.WriteString(QuoteStringPG(s))
}

// QuoteStringPG quotes s as a standard-conforming SQL string: only ' is
// special, doubled; backslashes stay literal.
func QuoteStringPG(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// QuoteIdentPG leaves an identifier bare when PostgreSQL would read it
// back unchanged, else double-quotes it.
func QuoteIdentPG(s string) string {
	if bareIdent(s) && !pgReserved[s] {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func bareIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case (c >= '0' && c <= '9') || c == '$':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// pgReserved holds PostgreSQL's reserved and type/function-name keywords
// plus the column-name keywords that cannot stand alone as a column
// reference; they must be quoted as identifiers. `time` is a column-name
// keyword that can, and Arc's time column is everywhere, so it stays bare.
var pgReserved = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`all analyse analyze and any array as asc asymmetric both case cast
check collate column constraint create current_catalog current_date current_role current_time
current_timestamp current_user default deferrable desc distinct do else end except false fetch for
foreign from grant group having in initially intersect into lateral leading limit localtime
localtimestamp not null offset on only or order placing primary references returning select
session_user some symmetric system_user table then to trailing true union unique user using variadic
when where window with authorization binary collation concurrently cross current_schema freeze full
ilike inner is isnull join left like natural notnull outer overlaps right similar tablesample verbose
between bigint bit boolean char character coalesce dec decimal exists extract float greatest grouping
inout int integer interval least national nchar none normalize nullif numeric out overlay position
precision real row setof smallint substring timestamp treat trim values varchar xmlattributes
xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable
json json_array json_arrayagg json_exists json_object json_objectagg json_query json_scalar
json_serialize json_table json_value merge_action`) {
		m[w] = true
	}
	return m
}()

// hooked reports whether the hooks printed n themselves.
func (p *Printer) hooked(n Node) bool {
	return p.Hooks != nil && p.Hooks.Node(p, n)
}

// qualifier prints the schema or table that qualifies a name, and its dot.
func (p *Printer) qualifier(q string) {
	if q != "" {
		p.Ident(q)
		p.W(".")
	}
}

// alias prints an AS alias, if there is one.
func (p *Printer) alias(a string) {
	if a != "" {
		p.W(" AS ")
		p.Ident(a)
	}
}

// subquery prints a query in parentheses.
func (p *Printer) subquery(q Query) {
	p.W("(")
	p.Stmt(q)
	p.W(")")
}

// Print renders n into p.
func (p *Printer) Print(n Node) {
	switch n := n.(type) {
	case Statement:
		p.Stmt(n)
	case Expr:
		p.Expr(n)
	case TableExpr:
		p.tableExpr(n)
	case *SelectItem:
		p.selectItem(n)
	case *OrderItem:
		p.orderItem(n)
	case *With:
		p.with(n)
	case *CTE:
		p.cte(n)
	case *Window:
		p.window(n)
	}
}

// Stmt renders a statement.
func (p *Printer) Stmt(s Statement) {
	if p.hooked(s) {
		return
	}
	switch s := s.(type) {
	case *Select:
		p.sel(s)
	case *SetOp:
		p.setOp(s)
	case *ShowDatabases:
		p.W("SHOW DATABASES")
	case *ShowTables:
		if s.Measurements {
			p.W("SHOW MEASUREMENTS")
		} else {
			p.W("SHOW TABLES")
		}
		if s.Database != "" {
			p.W(" FROM ")
			p.Ident(s.Database)
		}
	case *Describe:
		p.W("DESCRIBE ")
		p.tableExpr(s.Table)
	}
}

func (p *Printer) with(w *With) {
	if p.hooked(w) {
		return
	}
	p.W("WITH ")
	if w.Recursive {
		p.W("RECURSIVE ")
	}
	for i, c := range w.CTEs {
		if i > 0 {
			p.W(", ")
		}
		p.cte(c)
	}
	p.W(" ")
}

func (p *Printer) cte(c *CTE) {
	p.Ident(c.Name)
	p.identList(c.Columns)
	p.W(" AS ")
	p.subquery(c.Query)
}

func (p *Printer) identList(names []string) {
	if len(names) == 0 {
		return
	}
	p.W(" (")
	for i, n := range names {
		if i > 0 {
			p.W(", ")
		}
		p.Ident(n)
	}
	p.W(")")
}

func (p *Printer) sel(s *Select) {
	if s.With != nil {
		p.with(s.With)
	}
	p.W("SELECT ")
	if s.Distinct {
		p.W("DISTINCT ")
	}
	if len(s.DistinctOn) > 0 {
		p.W("DISTINCT ON (")
		p.exprList(s.DistinctOn)
		p.W(") ")
	}
	for i, c := range s.Columns {
		if i > 0 {
			p.W(", ")
		}
		p.selectItem(c)
	}
	if len(s.From) > 0 {
		p.W(" FROM ")
		for i, f := range s.From {
			if i > 0 {
				p.W(", ")
			}
			p.tableExpr(f)
		}
	}
	if s.Where != nil {
		p.W(" WHERE ")
		p.Expr(s.Where)
	}
	if len(s.GroupBy) > 0 {
		p.W(" GROUP BY ")
		p.exprList(s.GroupBy)
	}
	if s.Having != nil {
		p.W(" HAVING ")
		p.Expr(s.Having)
	}
	p.tail(s.OrderBy, s.Limit, s.Offset)
}

func (p *Printer) tail(order []*OrderItem, limit, offset Expr) {
	if len(order) > 0 {
		p.W(" ORDER BY ")
		p.orderList(order)
	}
	if limit != nil {
		p.W(" LIMIT ")
		p.Expr(limit)
	}
	if offset != nil {
		p.W(" OFFSET ")
		p.Expr(offset)
	}
}

func (p *Printer) setOp(s *SetOp) {
	if s.With != nil {
		p.with(s.With)
	}
	p.setOperand(s.Left)
	p.W(" ")
	p.W(s.Op.String())
	if s.All {
		p.W(" ALL")
	}
	p.W(" ")
	p.setOperand(s.Right)
	p.tail(s.OrderBy, s.Limit, s.Offset)
}

// setOperand parenthesizes an operand that has its own ORDER BY, LIMIT or
// WITH, which would otherwise attach to the whole set operation, and
// nested set operations, to keep their grouping.
func (p *Printer) setOperand(q Query) {
	paren := false
	switch q := q.(type) {
	case *Select:
		paren = q.With != nil || len(q.OrderBy) > 0 || q.Limit != nil || q.Offset != nil
	case *SetOp:
		paren = true
	}
	if paren {
		p.W("(")
	}
	p.Stmt(q)
	if paren {
		p.W(")")
	}
}

func (p *Printer) selectItem(c *SelectItem) {
	p.Expr(c.Expr)
	p.alias(c.Alias)
}

func (p *Printer) orderList(items []*OrderItem) {
	for i, o := range items {
		if i > 0 {
			p.W(", ")
		}
		p.orderItem(o)
	}
}

func (p *Printer) orderItem(o *OrderItem) {
	if p.hooked(o) {
		return
	}
	p.Expr(o.Expr)
	if o.Desc {
		p.W(" DESC")
	}
	// Ascending, both source dialects put NULLs last; descending they
	// disagree, so the canonical form always says.
	switch {
	case o.Nulls == NullsFirst:
		p.W(" NULLS FIRST")
	case o.Desc:
		p.W(" NULLS LAST")
	}
}

// OrderItemCanonical prints o without consulting the hooks, for a hook
// that only adds to the canonical form.
func (p *Printer) OrderItemCanonical(o *OrderItem) {
	h := p.Hooks
	p.Hooks = nil
	p.Expr(o.Expr)
	p.Hooks = h
	if o.Desc {
		p.W(" DESC")
	}
	switch o.Nulls {
	case NullsFirst:
		p.W(" NULLS FIRST")
	case NullsLast:
		p.W(" NULLS LAST")
	}
}

func (p *Printer) tableExpr(t TableExpr) {
	if p.hooked(t) {
		return
	}
	switch t := t.(type) {
	case *Table:
		p.qualifier(t.Schema)
		p.Ident(t.Name)
		p.alias(t.Alias)
	case *SubqueryTable:
		p.subquery(t.Query)
		if t.Alias != "" {
			p.alias(t.Alias)
			p.identList(t.Columns)
		}
	case *Join:
		p.tableExpr(t.Left)
		p.W(" ")
		if t.Natural {
			p.W("NATURAL ")
		}
		p.W(t.Kind.String())
		p.W(" ")
		if _, nested := t.Right.(*Join); nested {
			p.W("(")
			p.tableExpr(t.Right)
			p.W(")")
		} else {
			p.tableExpr(t.Right)
		}
		if t.On != nil {
			p.W(" ON ")
			p.Expr(t.On)
		} else if len(t.Using) > 0 {
			p.W(" USING")
			p.identList(t.Using)
		}
	}
}

func (p *Printer) exprList(list []Expr) {
	for i, e := range list {
		if i > 0 {
			p.W(", ")
		}
		p.Expr(e)
	}
}

// ExprList prints a comma-separated list.
func (p *Printer) ExprList(list []Expr) { p.exprList(list) }

// Operator precedence, PostgreSQL's, low to high.
const (
	precOr = iota + 1
	precAnd
	precNot
	precIs
	precCmp
	precLike
	precOther
	precAdd
	precMul
	precUnary
	precCast
	precAtom
)

func precOf(e Expr) int {
	switch e := e.(type) {
	case *Binary:
		switch e.Op {
		case OpOr:
			return precOr
		case OpAnd:
			return precAnd
		case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
			return precCmp
		case OpIsDistinct, OpIsNotDistinct:
			return precIs
		case OpAdd, OpSub:
			return precAdd
		case OpMul, OpDiv, OpMod, OpPgDiv:
			return precMul
		default:
			return precOther
		}
	case *Unary:
		if e.Op == Not {
			return precNot
		}
		return precUnary
	case *IsNull:
		return precIs
	case *Like, *Between, *InList, *InSubquery:
		return precLike
	case *RegexMatch:
		// The full-match form prints as a call, NOT-prefixed when negated.
		switch {
		case e.Full && e.Not:
			return precNot
		case e.Full:
			return precAtom
		}
		return precOther
	case *Literal:
		if (e.Kind == LitInt && e.Int < 0) || (e.Kind == LitNumber && strings.HasPrefix(e.Text, "-")) {
			return precUnary
		}
		return precAtom
	case *Cast:
		return precCast
	}
	return precAtom
}

// Operand prints e, parenthesized when its precedence is below min.
func (p *Printer) Operand(e Expr, min int) {
	pr := precOf(e)
	if pr < min || (p.Conservative && pr < precCast) {
		p.W("(")
		p.Expr(e)
		p.W(")")
		return
	}
	p.Expr(e)
}

// Precedence levels for hooks that print operators.
const (
	PrecCmp   = precCmp
	PrecLike  = precLike
	PrecOther = precOther
	PrecAdd   = precAdd
	PrecMul   = precMul
	PrecUnary = precUnary
	PrecCast  = precCast
	PrecAtom  = precAtom
)

// Expr renders an expression.
func (p *Printer) Expr(e Expr) {
	if p.hooked(e) {
		return
	}
	switch e := e.(type) {
	case *ColumnRef:
		p.qualifier(e.Table)
		p.Ident(e.Name)
	case *Star:
		p.qualifier(e.Table)
		p.W("*")
	case *Literal:
		p.literal(e)
	case *Param:
		p.W("$")
		p.W(strconv.Itoa(e.N))
	case *TimestampLit:
		p.W("TIMESTAMPTZ ")
		p.Str(FormatMicros(e.Micros))
	case *Interval:
		p.W("INTERVAL ")
		p.Str(e.Text())
	case *Now:
		p.W("now()")
	case *Unary:
		if e.Op == Not {
			p.W("NOT ")
			p.Operand(e.X, precNot)
			return
		}
		p.W("-")
		p.Operand(e.X, precAtom)
	case *Binary:
		p.binary(e)
	case *IsNull:
		p.Operand(e.X, precIs+1)
		if e.Not {
			p.W(" IS NOT NULL")
		} else {
			p.W(" IS NULL")
		}
	case *Between:
		p.predicate(e.X, precLike+1, e.Not, " BETWEEN ")
		p.Operand(e.Lo, precLike+1)
		p.W(" AND ")
		p.Operand(e.Hi, precLike+1)
	case *InList:
		p.predicate(e.X, precLike+1, e.Not, " IN (")
		p.exprList(e.List)
		p.W(")")
	case *InSubquery:
		p.predicate(e.X, precLike+1, e.Not, " IN ")
		p.subquery(e.Query)
	case *Exists:
		if e.Not {
			p.W("NOT ")
		}
		p.W("EXISTS ")
		p.subquery(e.Query)
	case *Subquery:
		p.subquery(e.Query)
	case *Like:
		p.LikeHead(e, precLike+1)
		p.Operand(e.Pattern, precLike+1)
		// The source dialects' defaults differ (backslash, none), so the
		// canonical form always names the escape; ESCAPE '' means none.
		p.W(" ESCAPE ")
		p.Str(e.Escape)
	case *RegexMatch:
		if e.Full {
			// PostgreSQL has no full-match operator; this function
			// spelling re-parses to the same node.
			if e.Not {
				p.W("NOT ")
			}
			p.RegexCall("regexp_full_match", e)
			return
		}
		p.Operand(e.X, precOther+1)
		op := " ~ "
		switch {
		case e.Not && e.CaseInsensitive:
			op = " !~* "
		case e.Not:
			op = " !~ "
		case e.CaseInsensitive:
			op = " ~* "
		}
		p.W(op)
		p.Operand(e.Pattern, precOther+1)
	case *Cast:
		p.W("CAST(")
		p.Expr(e.X)
		p.W(" AS ")
		p.W(e.Type.String())
		p.W(")")
	case *Extract:
		p.W("EXTRACT(")
		p.W(e.Field)
		p.W(" FROM ")
		p.Expr(e.X)
		p.W(")")
	case *Func:
		p.Ident(e.Name)
		p.W("(")
		p.exprList(e.Args)
		p.W(")")
		p.over(e.Over)
	case *Agg:
		p.agg(e)
	case *Case:
		p.W("CASE")
		if e.Operand != nil {
			p.W(" ")
			p.Expr(e.Operand)
		}
		for _, w := range e.Whens {
			p.W(" WHEN ")
			p.Expr(w.Cond)
			p.W(" THEN ")
			p.Expr(w.Result)
		}
		if e.Else != nil {
			p.W(" ELSE ")
			p.Expr(e.Else)
		}
		p.W(" END")
	case *TimeBucket:
		p.bucket(e)
	}
}

// predicate prints the subject x of a BETWEEN, IN or LIKE predicate
// (parenthesized below precedence min), the NOT of its negated form and
// the keyword kw: the part all of them spell alike.
func (p *Printer) predicate(x Expr, min int, not bool, kw string) {
	p.Operand(x, min)
	if not {
		p.W(" NOT")
	}
	p.W(kw)
}

// LikeHead prints l up to its pattern: the subject, parenthesized below
// precedence min, NOT when negated, and LIKE or ILIKE. Every SQL dialect
// spells that part alike; the pattern and its escape are where they
// differ.
func (p *Printer) LikeHead(l *Like, min int) {
	kw := " LIKE "
	if l.CaseInsensitive {
		kw = " ILIKE "
	}
	p.predicate(l.X, min, l.Not, kw)
}

// RegexCall prints r as the call fn(x, pattern), with DuckDB's 'i' flag
// argument when it is case-insensitive; negation is the caller's, as the
// dialects parenthesize it differently.
func (p *Printer) RegexCall(fn string, r *RegexMatch) {
	p.W(fn + "(")
	p.Expr(r.X)
	p.W(", ")
	p.Expr(r.Pattern)
	if r.CaseInsensitive {
		p.W(", 'i'")
	}
	p.W(")")
}

func (p *Printer) literal(l *Literal) {
	switch l.Kind {
	case LitNull:
		p.W("NULL")
	case LitBool:
		if l.Bool {
			p.W("true")
		} else {
			p.W("false")
		}
	case LitInt:
		p.W(strconv.FormatInt(l.Int, 10))
	case LitNumber:
		p.W(l.Text)
	case LitString:
		p.Str(l.Text)
	}
}

// Literal prints a literal the canonical way (through Str for strings).
func (p *Printer) Literal(l *Literal) { p.literal(l) }

func (p *Printer) binary(e *Binary) {
	if e.Op == OpIntDiv {
		// // is DuckDB's; the canonical PostgreSQL form is div(), which
		// truncates toward zero like it.
		p.W("div(")
		p.Expr(e.L)
		p.W(", ")
		p.Expr(e.R)
		p.W(")")
		return
	}
	if e.Op == OpAnd || e.Op == OpOr {
		// Every engine agrees on how AND/OR bind relative to comparisons,
		// so even a conservative printer keeps these chains flat.
		left, right := operandPrecs(e)
		p.logicalOperand(e.L, e.Op, left)
		p.W(" ")
		p.W(e.Op.String())
		p.W(" ")
		p.logicalOperand(e.R, e.Op, right)
		return
	}
	p.Binary(e, e.Op.String())
}

// operandPrecs is the least precedence each operand of e may have to stand
// bare: operators associate to the left, and comparisons do not chain, so
// a comparison's left operand needs parentheses at its own level too.
func operandPrecs(e *Binary) (left, right int) {
	pr := precOf(e)
	left, right = pr, pr+1
	if e.Op.IsComparison() || e.Op == OpIsDistinct || e.Op == OpIsNotDistinct {
		left = pr + 1
	}
	return left, right
}

func (p *Printer) logicalOperand(e Expr, op BinaryOp, min int) {
	if b, ok := e.(*Binary); ok && b.Op == op && min == precOf(b) || precOf(e) >= precIs && precOf(e) <= precLike {
		c := p.Conservative
		p.Conservative = false
		p.Operand(e, min)
		p.Conservative = c
		return
	}
	p.Operand(e, min)
}

// Binary prints e with the canonical operator spelling; hooks call it after
// handling the operators they rename.
func (p *Printer) Binary(e *Binary, op string) {
	left, right := operandPrecs(e)
	p.Operand(e.L, left)
	p.W(" ")
	p.W(op)
	p.W(" ")
	p.Operand(e.R, right)
}

func (p *Printer) agg(a *Agg) {
	switch a.Kind {
	case AggFirst, AggLast:
		p.W(a.Kind.String())
		p.W("(")
		p.Expr(a.Arg)
		p.W(" ORDER BY ")
		p.Expr(a.By)
		p.W(")")
	case AggPercentileCont, AggPercentileDisc:
		p.W(a.Kind.String())
		p.W("(")
		p.Expr(a.Fraction)
		p.W(") WITHIN GROUP (ORDER BY ")
		p.Expr(a.Arg)
		p.W(")")
	case AggApproxQuantile:
		p.W("approx_quantile(")
		p.Expr(a.Arg)
		p.W(", ")
		p.Expr(a.Fraction)
		p.W(")")
	default:
		p.AggCall(a.Kind.String(), a)
	}
	p.AggTail(a)
}

// AggCall prints the plain call form of an aggregate under the given name:
// name([DISTINCT] arg), or name(*) without an argument. The FILTER and
// OVER clauses are AggTail's.
func (p *Printer) AggCall(name string, a *Agg) {
	p.W(name)
	p.W("(")
	if a.Distinct {
		p.W("DISTINCT ")
	}
	if a.Arg == nil {
		p.W("*")
	} else {
		p.Expr(a.Arg)
	}
	p.W(")")
}

// AggTail prints an aggregate's FILTER and OVER clauses.
func (p *Printer) AggTail(a *Agg) {
	if a.Filter != nil {
		p.W(" FILTER (WHERE ")
		p.Expr(a.Filter)
		p.W(")")
	}
	p.over(a.Over)
}

// Over prints an OVER clause (nothing when w is nil).
func (p *Printer) Over(w *Window) { p.over(w) }

func (p *Printer) over(w *Window) {
	if w == nil {
		return
	}
	p.W(" OVER ")
	p.window(w)
}

func (p *Printer) window(w *Window) {
	if p.hooked(w) {
		return
	}
	p.W("(")
	sep := ""
	if len(w.PartitionBy) > 0 {
		p.W("PARTITION BY ")
		p.exprList(w.PartitionBy)
		sep = " "
	}
	if len(w.OrderBy) > 0 {
		p.W(sep)
		p.W("ORDER BY ")
		p.orderList(w.OrderBy)
		sep = " "
	}
	if f := w.Frame; f != nil {
		p.W(sep)
		if f.Mode == FrameRows {
			p.W("ROWS BETWEEN ")
		} else {
			p.W("RANGE BETWEEN ")
		}
		p.bound(f.Start)
		p.W(" AND ")
		p.bound(f.End)
	}
	p.W(")")
}

func (p *Printer) bound(b FrameBound) {
	switch b.Kind {
	case UnboundedPreceding:
		p.W("UNBOUNDED PRECEDING")
	case Preceding:
		p.Expr(b.Offset)
		p.W(" PRECEDING")
	case CurrentRow:
		p.W("CURRENT ROW")
	case Following:
		p.Expr(b.Offset)
		p.W(" FOLLOWING")
	case UnboundedFollowing:
		p.W("UNBOUNDED FOLLOWING")
	}
}

// bucket prints the canonical form: Grafana's epoch arithmetic for an
// epoch-seconds bucket, else time_bucket with every argument explicit.
func (p *Printer) bucket(b *TimeBucket) {
	if b.Result == BucketEpochSeconds {
		n := strconv.FormatInt(b.Width.FixedMicros()/1_000_000, 10)
		p.W("floor(EXTRACT(epoch FROM ")
		p.Expr(b.Source)
		p.W(") / ")
		p.W(n)
		p.W(") * ")
		p.W(n)
		return
	}
	p.W("time_bucket(")
	p.Expr(&b.Width)
	p.W(", ")
	p.Expr(b.Source)
	p.W(", ")
	p.Expr(&TimestampLit{Micros: b.Origin})
	if b.TZ != "" {
		p.W(", ")
		p.Str(b.TZ)
	}
	p.W(")")
}

// FormatMicros renders µs since the epoch as an ISO timestamp in UTC with
// an explicit +00 offset, the form every SQL target parses.
func FormatMicros(us int64) string {
	t := time.UnixMicro(us).UTC()
	s := t.Format("2006-01-02 15:04:05.999999")
	return s + "+00"
}

// Text renders the interval in PostgreSQL's verbose input syntax, largest
// unit first, which every SQL target accepts.
func (iv *Interval) Text() string {
	var parts []string
	add := func(n int64, unit string) {
		if n == 0 {
			return
		}
		s := strconv.FormatInt(n, 10) + " " + unit
		if n != 1 && n != -1 {
			s += "s"
		}
		parts = append(parts, s)
	}
	add(int64(iv.Months/12), "year")
	add(int64(iv.Months%12), "month")
	add(int64(iv.Days), "day")
	us := iv.Micros
	add(us/3_600_000_000, "hour")
	us %= 3_600_000_000
	add(us/60_000_000, "minute")
	us %= 60_000_000
	if us%1_000_000 == 0 {
		add(us/1_000_000, "second")
	} else {
		add(us, "microsecond")
	}
	if len(parts) == 0 {
		return "0 seconds"
	}
	return strings.Join(parts, " ")
}

// String methods: every node prints its canonical form.

func str(n Node) string {
	var p Printer
	p.Print(n)
	return p.String()
}

func (n *Select) String() string        { return str(n) }
func (n *SetOp) String() string         { return str(n) }
func (n *ShowDatabases) String() string { return str(n) }
func (n *ShowTables) String() string    { return str(n) }
func (n *Describe) String() string      { return str(n) }
func (n *SelectItem) String() string    { return str(n) }
func (n *OrderItem) String() string     { return str(n) }
func (n *With) String() string          { return str(n) }
func (n *CTE) String() string           { return str(n) }
func (n *Window) String() string        { return str(n) }
func (n *Table) String() string         { return str(n) }
func (n *SubqueryTable) String() string { return str(n) }
func (n *Join) String() string          { return str(n) }
func (n *ColumnRef) String() string     { return str(n) }
func (n *Star) String() string          { return str(n) }
func (n *Literal) String() string       { return str(n) }
func (n *Param) String() string         { return str(n) }
func (n *TimestampLit) String() string  { return str(n) }
func (n *Interval) String() string      { return str(n) }
func (n *Now) String() string           { return str(n) }
func (n *Unary) String() string         { return str(n) }
func (n *Binary) String() string        { return str(n) }
func (n *IsNull) String() string        { return str(n) }
func (n *Between) String() string       { return str(n) }
func (n *InList) String() string        { return str(n) }
func (n *InSubquery) String() string    { return str(n) }
func (n *Exists) String() string        { return str(n) }
func (n *Subquery) String() string      { return str(n) }
func (n *Like) String() string          { return str(n) }
func (n *RegexMatch) String() string    { return str(n) }
func (n *Cast) String() string          { return str(n) }
func (n *Extract) String() string       { return str(n) }
func (n *Func) String() string          { return str(n) }
func (n *Agg) String() string           { return str(n) }
func (n *Case) String() string          { return str(n) }
func (n *TimeBucket) String() string    { return str(n) }

// String prints the type's PostgreSQL name.
func (t Type) String() string {
	s := t.Kind.String()
	switch {
	case t.Kind == TypeNumeric && t.Precision > 0 && t.Scale > 0:
		s += "(" + strconv.Itoa(t.Precision) + ", " + strconv.Itoa(t.Scale) + ")"
	case t.Kind == TypeNumeric && t.Precision > 0:
		s += "(" + strconv.Itoa(t.Precision) + ")"
	case t.Kind == TypeVarchar && t.Length > 0:
		s += "(" + strconv.Itoa(t.Length) + ")"
	}
	return s
}
