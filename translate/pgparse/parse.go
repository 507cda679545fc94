package pgparse

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	pg "github.com/pganalyze/pg_query_go/v6"
	pgerr "github.com/pganalyze/pg_query_go/v6/parser"

	"tsgate/errs"
	"tsgate/translate/ast"
	"tsgate/translate/sqltime"
	"tsgate/translate/types"
)

// Flavor is the SQL dialect a query was written in. The grammar is the
// same (pg_query's); a few meanings differ and are made explicit in the AST.
type Flavor uint8

const (
	// Arc is DuckDB SQL as Arc clients send it: LIKE has no default escape
	// character, / is true division.
	Arc Flavor = iota
	// Postgres is SQL from a pg-wire client: LIKE escapes with backslash,
	// integer / integer truncates.
	Postgres
)

// ErrDuckDBOnly is the cause of a parse error for syntax PostgreSQL's
// grammar lacks but DuckDB accepts (EXCLUDE, GROUP BY ALL, QUALIFY, list
// literals, FROM-first). The DuckDB backend can still run such a query as
// written; test with errors.Is.
var ErrDuckDBOnly = errors.New("DuckDB-only syntax")

// ErrSyntax is the cause of every other parse error.
var ErrSyntax = errors.New("syntax error")

// Parse parses one statement.
func Parse(sql string, flavor Flavor) (ast.Statement, error) {
	if st, ok, err := parseArc(sql); ok {
		return st, err
	}
	tree, err := pg.Parse(sql)
	if err != nil {
		return nil, syntaxError(sql, err)
	}
	c := conv{sql: sql, flavor: flavor}
	return c.tree(tree)
}

func syntaxError(sql string, err error) error {
	var pe *pgerr.Error
	pos := 0
	msg := err.Error()
	if errors.As(err, &pe) {
		pos = pe.Cursorpos
		msg = pe.Message
	}
	if construct := duckDBOnly(sql); construct != "" {
		return &errs.Error{
			Code: errs.Unsupported, Msg: construct + " is DuckDB-only syntax; tsgate translates the PostgreSQL grammar",
			Hint:     "the DuckDB (Arc) backend can run this query as written; for other targets rewrite it in standard SQL",
			Position: pos, Err: ErrDuckDBOnly,
		}
	}
	return &errs.Error{Code: errs.Invalid, SQLState: "42601", Msg: msg, Position: pos, Err: ErrSyntax}
}

// duckDBOnly names the DuckDB-only construct in sql, if any. It looks at
// tokens, not at pg_query's message, so the classification does not depend
// on error text.
func duckDBOnly(sql string) string {
	toks, _ := lex(sql, nil)
	for i, t := range toks {
		switch {
		case i == 0 && wordIs(sql, t, "FROM"):
			return "FROM-first SELECT"
		case wordIs(sql, t, "QUALIFY"):
			return "QUALIFY"
		case wordIs(sql, t, "EXCLUDE") && i > 0 && text(sql, toks[i-1]) == "*":
			return "SELECT * EXCLUDE"
		case wordIs(sql, t, "REPLACE") && i > 0 && text(sql, toks[i-1]) == "*":
			return "SELECT * REPLACE"
		case wordIs(sql, t, "ALL") && i > 1 && wordIs(sql, toks[i-1], "BY") &&
			(wordIs(sql, toks[i-2], "GROUP") || wordIs(sql, toks[i-2], "ORDER")) &&
			(i+1 == len(toks) || toks[i+1].kind != tokIdent && toks[i+1].kind != tokQIdent || isClauseWord(sql, toks[i+1])):
			return strings.ToUpper(text(sql, toks[i-2])) + " BY ALL"
		case t.kind == tokPunct && sql[t.start] == '[' && (i == 0 || !isIndexable(sql, toks[i-1])):
			return "list literal"
		case t.kind == tokPunct && sql[t.start] == '{':
			return "struct literal"
		case t.kind == tokOp && text(sql, t) == "//":
			return "// integer division"
		case t.kind == tokOp && text(sql, t) == "**":
			return "** exponent"
		case wordIs(sql, t, "PIVOT") || wordIs(sql, t, "UNPIVOT"):
			return strings.ToUpper(text(sql, t))
		case wordIs(sql, t, "ASOF") || wordIs(sql, t, "POSITIONAL"):
			return strings.ToUpper(text(sql, t)) + " JOIN"
		case wordIs(sql, t, "SUMMARIZE"):
			return "SUMMARIZE"
		case wordIs(sql, t, "COLUMNS") && i+1 < len(toks) && text(sql, toks[i+1]) == "(":
			return "COLUMNS(...)"
		}
	}
	return ""
}

func isClauseWord(sql string, t token) bool {
	for _, kw := range []string{"ORDER", "LIMIT", "HAVING", "OFFSET", "QUALIFY", "WINDOW", "UNION", "EXCEPT", "INTERSECT"} {
		if wordIs(sql, t, kw) {
			return true
		}
	}
	return false
}

// isIndexable reports whether a token can be followed by a subscript.
func isIndexable(sql string, t token) bool {
	switch t.kind {
	case tokIdent:
		for _, kw := range []string{"SELECT", "WHERE", "AND", "OR", "ON", "IN", "BY", "THEN", "ELSE", "WHEN", "NOT", "AS"} {
			if wordIs(sql, t, kw) {
				return false
			}
		}
		return true
	case tokQIdent:
		return true
	case tokPunct:
		return sql[t.start] == ')' || sql[t.start] == ']'
	}
	return false
}

// parseArc recognizes Arc's statements that are not PostgreSQL grammar:
// SHOW DATABASES, SHOW TABLES|MEASUREMENTS [FROM db], DESCRIBE [TABLE] t.
func parseArc(sql string) (ast.Statement, bool, error) {
	toks, ok := lex(sql, make([]token, 0, 8))
	if !ok || len(toks) == 0 {
		return nil, false, nil
	}
	if n := len(toks); text(sql, toks[n-1]) == ";" {
		toks = toks[:n-1]
	}
	if len(toks) == 0 {
		return nil, false, nil
	}
	name := func(t token) (string, bool) {
		switch t.kind {
		case tokIdent:
			return strings.ToLower(text(sql, t)), true
		case tokQIdent:
			return strings.ReplaceAll(sql[t.start+1:t.end-1], `""`, `"`), true
		}
		return "", false
	}
	span := ast.Span{Start: toks[0].start, End: toks[len(toks)-1].end}
	switch {
	case wordIs(sql, toks[0], "SHOW") && len(toks) >= 2:
		switch {
		case len(toks) == 2 && wordIs(sql, toks[1], "DATABASES"):
			return &ast.ShowDatabases{Span: span}, true, nil
		case wordIs(sql, toks[1], "TABLES") || wordIs(sql, toks[1], "MEASUREMENTS"):
			st := &ast.ShowTables{Span: span, Measurements: wordIs(sql, toks[1], "MEASUREMENTS")}
			if len(toks) == 2 {
				return st, true, nil
			}
			if len(toks) == 4 && (wordIs(sql, toks[2], "FROM") || wordIs(sql, toks[2], "IN")) {
				if db, ok := name(toks[3]); ok {
					st.Database = db
					return st, true, nil
				}
			}
			return nil, true, &errs.Error{Code: errs.Invalid, SQLState: "42601",
				Msg: "syntax: SHOW TABLES [FROM database]", Position: pos1(sql, toks[0].start), Err: ErrSyntax}
		}
	case wordIs(sql, toks[0], "DESCRIBE") || wordIs(sql, toks[0], "DESC"):
		rest := toks[1:]
		if len(rest) > 0 && wordIs(sql, rest[0], "TABLE") {
			rest = rest[1:]
		}
		t := &ast.Table{}
		switch {
		case len(rest) == 1:
			t.Name, ok = name(rest[0])
		case len(rest) == 3 && text(sql, rest[1]) == ".":
			var ok2 bool
			t.Schema, ok = name(rest[0])
			t.Name, ok2 = name(rest[2])
			ok = ok && ok2
		default:
			ok = false
		}
		if !ok {
			// DESCRIBE SELECT ... and friends are DuckDB's.
			return nil, true, &errs.Error{Code: errs.Unsupported, Msg: "DESCRIBE of anything but a table is DuckDB-only syntax",
				Hint: "the DuckDB (Arc) backend can run it as written", Position: pos1(sql, toks[0].start), Err: ErrDuckDBOnly}
		}
		t.Span = ast.Span{Start: rest[0].start, End: rest[len(rest)-1].end}
		return &ast.Describe{Span: span, Table: t}, true, nil
	}
	return nil, false, nil
}

// pos1 converts a byte offset into errs.Error's 1-based character position.
func pos1(sql string, off int) int {
	if off < 0 || off > len(sql) {
		return 0
	}
	return utf8.RuneCountInString(sql[:off]) + 1
}

type conv struct {
	sql    string
	flavor Flavor
	// lits are the literals a normalized query's $1…$n stand for (see
	// Parser); nil for a query parsed as written.
	lits []*pg.A_Const
}

func (c *conv) span(loc int32) ast.Span {
	if loc < 0 {
		return ast.NoSpan
	}
	return ast.Span{Start: int(loc), End: int(loc)}
}

// unsupported refuses a construct tsgate does not model, for every target.
func (c *conv) unsupported(loc int32, construct string) error {
	return &errs.Error{Code: errs.Unsupported, Msg: construct + " is not supported by tsgate's translator",
		Position: pos1(c.sql, int(loc))}
}

func (c *conv) invalid(loc int32, msg string) error {
	return &errs.Error{Code: errs.Invalid, SQLState: "42601", Msg: msg, Position: pos1(c.sql, int(loc)), Err: ErrSyntax}
}

func (c *conv) tree(tree *pg.ParseResult) (ast.Statement, error) {
	if len(tree.Stmts) == 0 {
		return nil, &errs.Error{Code: errs.Invalid, SQLState: "42601", Msg: "empty query", Err: ErrSyntax}
	}
	if len(tree.Stmts) > 1 {
		return nil, &errs.Error{Code: errs.Invalid, SQLState: "42601", Msg: "Multiple SQL statements are not allowed", Err: ErrSyntax}
	}
	raw := tree.Stmts[0]
	switch n := raw.Stmt.Node.(type) {
	case *pg.Node_SelectStmt:
		return c.query(n.SelectStmt)
	case *pg.Node_VariableShowStmt:
		return nil, c.unsupported(raw.StmtLocation, "SHOW "+n.VariableShowStmt.Name)
	case *pg.Node_ExplainStmt:
		return nil, c.unsupported(raw.StmtLocation, "EXPLAIN")
	}
	return nil, c.unsupported(raw.StmtLocation, stmtName(raw.Stmt))
}

func stmtName(n *pg.Node) string {
	switch n.Node.(type) {
	case *pg.Node_InsertStmt:
		return "INSERT"
	case *pg.Node_UpdateStmt:
		return "UPDATE"
	case *pg.Node_DeleteStmt:
		return "DELETE"
	case *pg.Node_CreateStmt, *pg.Node_CreateTableAsStmt, *pg.Node_ViewStmt:
		return "CREATE"
	case *pg.Node_DropStmt:
		return "DROP"
	case *pg.Node_CopyStmt:
		return "COPY"
	case *pg.Node_VariableSetStmt:
		return "SET"
	case *pg.Node_TransactionStmt:
		return "a transaction statement"
	}
	return "this statement type"
}

func (c *conv) query(s *pg.SelectStmt) (ast.Query, error) {
	if s == nil {
		return nil, c.invalid(-1, "missing query")
	}
	if s.IntoClause != nil {
		return nil, c.unsupported(-1, "SELECT INTO")
	}
	if len(s.LockingClause) > 0 {
		return nil, c.unsupported(-1, "FOR UPDATE/SHARE")
	}
	if len(s.ValuesLists) > 0 {
		return nil, c.unsupported(-1, "VALUES lists")
	}
	if s.LimitOption == pg.LimitOption_LIMIT_OPTION_WITH_TIES {
		return nil, c.unsupported(-1, "FETCH ... WITH TIES")
	}
	var with *ast.With
	if s.WithClause != nil {
		var err error
		if with, err = c.with(s.WithClause); err != nil {
			return nil, err
		}
	}
	order, err := c.orderList(s.SortClause)
	if err != nil {
		return nil, err
	}
	limit, err := c.limitExpr(s.LimitCount)
	if err != nil {
		return nil, err
	}
	offset, err := c.limitExpr(s.LimitOffset)
	if err != nil {
		return nil, err
	}
	if s.Op != pg.SetOperation_SETOP_NONE && s.Op != pg.SetOperation_SET_OPERATION_UNDEFINED {
		l, err := c.query(s.Larg)
		if err != nil {
			return nil, err
		}
		r, err := c.query(s.Rarg)
		if err != nil {
			return nil, err
		}
		op := map[pg.SetOperation]ast.SetOpKind{pg.SetOperation_SETOP_UNION: ast.Union,
			pg.SetOperation_SETOP_INTERSECT: ast.Intersect, pg.SetOperation_SETOP_EXCEPT: ast.Except}[s.Op]
		return &ast.SetOp{Span: ast.Span{Start: l.Pos().Start, End: l.Pos().Start}, With: with, Op: op, All: s.All,
			Left: l, Right: r, OrderBy: order, Limit: limit, Offset: offset}, nil
	}
	if len(s.WindowClause) > 0 {
		return nil, c.unsupported(-1, "a named WINDOW clause")
	}
	if s.GroupDistinct {
		return nil, c.unsupported(-1, "GROUP BY DISTINCT")
	}
	sel := &ast.Select{With: with, OrderBy: order, Limit: limit, Offset: offset, Span: ast.NoSpan}
	if len(s.DistinctClause) == 1 && s.DistinctClause[0].Node == nil {
		sel.Distinct = true
	} else if len(s.DistinctClause) > 0 {
		if sel.DistinctOn, err = c.exprs(s.DistinctClause); err != nil {
			return nil, err
		}
	}
	for _, t := range s.TargetList {
		rt := t.GetResTarget()
		if rt == nil || len(rt.Indirection) > 0 {
			return nil, c.unsupported(-1, "this select-list item")
		}
		if sel.Span.Start < 0 {
			sel.Span = c.span(rt.Location)
		}
		e, err := c.expr(rt.Val)
		if err != nil {
			return nil, err
		}
		sel.Columns = append(sel.Columns, &ast.SelectItem{Span: c.span(rt.Location), Expr: e, Alias: rt.Name})
	}
	for _, f := range s.FromClause {
		t, err := c.from(f)
		if err != nil {
			return nil, err
		}
		sel.From = append(sel.From, t)
	}
	if sel.Where, err = c.optExpr(s.WhereClause); err != nil {
		return nil, err
	}
	for _, g := range s.GroupClause {
		if g.GetGroupingSet() != nil {
			return nil, c.unsupported(g.GetGroupingSet().Location, "GROUPING SETS, ROLLUP and CUBE")
		}
		e, err := c.expr(g)
		if err != nil {
			return nil, err
		}
		sel.GroupBy = append(sel.GroupBy, e)
	}
	if sel.Having, err = c.optExpr(s.HavingClause); err != nil {
		return nil, err
	}
	return sel, nil
}

func (c *conv) limitExpr(n *pg.Node) (ast.Expr, error) {
	if n == nil {
		return nil, nil
	}
	if k := c.aconst(n); k != nil && k.Isnull {
		return nil, nil // LIMIT ALL / LIMIT NULL
	}
	return c.expr(n)
}

func (c *conv) with(w *pg.WithClause) (*ast.With, error) {
	out := &ast.With{Span: c.span(w.Location), Recursive: w.Recursive}
	for _, n := range w.Ctes {
		cte := n.GetCommonTableExpr()
		if cte == nil {
			return nil, c.unsupported(w.Location, "this WITH item")
		}
		if cte.SearchClause != nil || cte.CycleClause != nil {
			return nil, c.unsupported(cte.Location, "SEARCH/CYCLE")
		}
		if cte.Ctematerialized != pg.CTEMaterialize_CTEMaterializeDefault && cte.Ctematerialized != pg.CTEMaterialize_CTEMATERIALIZE_UNDEFINED {
			return nil, c.unsupported(cte.Location, "[NOT] MATERIALIZED")
		}
		q := cte.Ctequery.GetSelectStmt()
		if q == nil {
			return nil, c.unsupported(cte.Location, "a data-modifying WITH query")
		}
		sub, err := c.query(q)
		if err != nil {
			return nil, err
		}
		cols, err := c.names(cte.Aliascolnames)
		if err != nil {
			return nil, err
		}
		out.CTEs = append(out.CTEs, &ast.CTE{Span: c.span(cte.Location), Name: cte.Ctename, Columns: cols, Query: sub})
	}
	return out, nil
}

func (c *conv) names(list []*pg.Node) ([]string, error) {
	var out []string
	for _, n := range list {
		s := n.GetString_()
		if s == nil {
			return nil, c.unsupported(-1, "this name list")
		}
		out = append(out, s.Sval)
	}
	return out, nil
}

func (c *conv) orderList(list []*pg.Node) ([]*ast.OrderItem, error) {
	var out []*ast.OrderItem
	for _, n := range list {
		sb := n.GetSortBy()
		if sb == nil {
			return nil, c.unsupported(-1, "this ORDER BY item")
		}
		if sb.SortbyDir == pg.SortByDir_SORTBY_USING {
			return nil, c.unsupported(sb.Location, "ORDER BY ... USING")
		}
		e, err := c.expr(sb.Node)
		if err != nil {
			return nil, err
		}
		o := &ast.OrderItem{Span: e.Pos(), Expr: e, Desc: sb.SortbyDir == pg.SortByDir_SORTBY_DESC}
		switch sb.SortbyNulls {
		case pg.SortByNulls_SORTBY_NULLS_FIRST:
			o.Nulls = ast.NullsFirst
		case pg.SortByNulls_SORTBY_NULLS_LAST:
			o.Nulls = ast.NullsLast
		default:
			// The default differs: DuckDB puts NULLs last both ways,
			// PostgreSQL first when descending. Make it explicit.
			o.Nulls = ast.NullsLast
			if c.flavor == Postgres && o.Desc {
				o.Nulls = ast.NullsFirst
			}
		}
		out = append(out, o)
	}
	return out, nil
}

func (c *conv) from(n *pg.Node) (ast.TableExpr, error) {
	switch n := n.Node.(type) {
	case *pg.Node_RangeVar:
		rv := n.RangeVar
		if rv.Catalogname != "" {
			return nil, c.unsupported(rv.Location, "a three-part table name")
		}
		if !rv.Inh {
			return nil, c.unsupported(rv.Location, "ONLY")
		}
		t := &ast.Table{Span: c.span(rv.Location), Schema: rv.Schemaname, Name: rv.Relname}
		if rv.Alias != nil {
			if len(rv.Alias.Colnames) > 0 {
				return nil, c.unsupported(rv.Location, "column aliases on a table")
			}
			t.Alias = rv.Alias.Aliasname
		}
		return t, nil
	case *pg.Node_RangeSubselect:
		rs := n.RangeSubselect
		if rs.Lateral {
			return nil, c.unsupported(-1, "LATERAL")
		}
		q, err := c.query(rs.Subquery.GetSelectStmt())
		if err != nil {
			return nil, err
		}
		st := &ast.SubqueryTable{Span: q.Pos(), Query: q}
		if rs.Alias != nil {
			st.Alias = rs.Alias.Aliasname
			if st.Columns, err = c.names(rs.Alias.Colnames); err != nil {
				return nil, err
			}
		}
		return st, nil
	case *pg.Node_JoinExpr:
		j := n.JoinExpr
		if j.Alias != nil || j.JoinUsingAlias != nil {
			return nil, c.unsupported(-1, "an alias on a join")
		}
		l, err := c.from(j.Larg)
		if err != nil {
			return nil, err
		}
		r, err := c.from(j.Rarg)
		if err != nil {
			return nil, err
		}
		out := &ast.Join{Span: l.Pos(), Natural: j.IsNatural, Left: l, Right: r}
		switch j.Jointype {
		case pg.JoinType_JOIN_INNER:
			out.Kind = ast.InnerJoin
			if j.Quals == nil && len(j.UsingClause) == 0 && !j.IsNatural {
				out.Kind = ast.CrossJoin
			}
		case pg.JoinType_JOIN_LEFT:
			out.Kind = ast.LeftJoin
		case pg.JoinType_JOIN_RIGHT:
			out.Kind = ast.RightJoin
		case pg.JoinType_JOIN_FULL:
			out.Kind = ast.FullJoin
		default:
			return nil, c.unsupported(-1, "this join type")
		}
		if out.On, err = c.optExpr(j.Quals); err != nil {
			return nil, err
		}
		if out.Using, err = c.names(j.UsingClause); err != nil {
			return nil, err
		}
		return out, nil
	case *pg.Node_RangeFunction:
		return nil, c.unsupported(-1, "a table function in FROM")
	}
	return nil, c.unsupported(-1, "this FROM item")
}

func (c *conv) optExpr(n *pg.Node) (ast.Expr, error) {
	if n == nil {
		return nil, nil
	}
	return c.expr(n)
}

func (c *conv) exprs(list []*pg.Node) ([]ast.Expr, error) {
	out := make([]ast.Expr, 0, len(list))
	for _, n := range list {
		e, err := c.expr(n)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// booleanTest reads x IS [NOT] TRUE|FALSE|UNKNOWN as the NULL-safe
// comparison it is: x IS TRUE is x IS NOT DISTINCT FROM TRUE, x IS NOT
// FALSE is x IS DISTINCT FROM FALSE, x IS UNKNOWN is x IS NULL (arcli
// wraps every delete condition in (…) IS TRUE).
func (c *conv) booleanTest(b *pg.BooleanTest) (ast.Expr, error) {
	x, err := c.expr(b.Arg)
	if err != nil {
		return nil, err
	}
	sp := c.span(b.Location)
	lit := func(v bool) ast.Expr { return &ast.Literal{Span: sp, Kind: ast.LitBool, Bool: v} }
	switch b.Booltesttype {
	case pg.BoolTestType_IS_TRUE:
		return &ast.Binary{Span: sp, Op: ast.OpIsNotDistinct, L: x, R: lit(true)}, nil
	case pg.BoolTestType_IS_NOT_TRUE:
		return &ast.Binary{Span: sp, Op: ast.OpIsDistinct, L: x, R: lit(true)}, nil
	case pg.BoolTestType_IS_FALSE:
		return &ast.Binary{Span: sp, Op: ast.OpIsNotDistinct, L: x, R: lit(false)}, nil
	case pg.BoolTestType_IS_NOT_FALSE:
		return &ast.Binary{Span: sp, Op: ast.OpIsDistinct, L: x, R: lit(false)}, nil
	case pg.BoolTestType_IS_UNKNOWN:
		return &ast.IsNull{Span: sp, X: x}, nil
	case pg.BoolTestType_IS_NOT_UNKNOWN:
		return &ast.IsNull{Span: sp, X: x, Not: true}, nil
	}
	return nil, c.unsupported(b.Location, "IS [NOT] TRUE/FALSE/UNKNOWN")
}

func (c *conv) expr(n *pg.Node) (ast.Expr, error) {
	if n == nil {
		return nil, c.invalid(-1, "missing expression")
	}
	node := n
	switch n := n.Node.(type) {
	case *pg.Node_ColumnRef:
		return c.columnRef(n.ColumnRef)
	case *pg.Node_AConst:
		return c.constant(n.AConst)
	case *pg.Node_ParamRef:
		if k := c.aconst(node); k != nil {
			return c.constant(k)
		}
		return &ast.Param{Span: c.span(n.ParamRef.Location), N: int(n.ParamRef.Number)}, nil
	case *pg.Node_TypeCast:
		return c.typeCast(n.TypeCast)
	case *pg.Node_AExpr:
		return c.aExpr(n.AExpr)
	case *pg.Node_BoolExpr:
		return c.boolExpr(n.BoolExpr)
	case *pg.Node_NullTest:
		x, err := c.expr(n.NullTest.Arg)
		if err != nil {
			return nil, err
		}
		return &ast.IsNull{Span: c.span(n.NullTest.Location), X: x, Not: n.NullTest.Nulltesttype == pg.NullTestType_IS_NOT_NULL}, nil
	case *pg.Node_SubLink:
		return c.subLink(n.SubLink)
	case *pg.Node_CaseExpr:
		return c.caseExpr(n.CaseExpr)
	case *pg.Node_CoalesceExpr:
		args, err := c.exprs(n.CoalesceExpr.Args)
		if err != nil {
			return nil, err
		}
		return &ast.Func{Span: c.span(n.CoalesceExpr.Location), Name: "coalesce", Args: args}, nil
	case *pg.Node_MinMaxExpr:
		args, err := c.exprs(n.MinMaxExpr.Args)
		if err != nil {
			return nil, err
		}
		name := "greatest"
		if n.MinMaxExpr.Op == pg.MinMaxOp_IS_LEAST {
			name = "least"
		}
		return &ast.Func{Span: c.span(n.MinMaxExpr.Location), Name: name, Args: args}, nil
	case *pg.Node_SqlvalueFunction:
		return c.sqlValue(n.SqlvalueFunction)
	case *pg.Node_FuncCall:
		return c.funcCall(n.FuncCall)
	case *pg.Node_BooleanTest:
		return c.booleanTest(n.BooleanTest)
	case *pg.Node_AIndirection:
		return nil, c.unsupported(-1, "subscripts and field selection")
	case *pg.Node_AArrayExpr:
		return nil, c.unsupported(n.AArrayExpr.Location, "ARRAY constructors")
	case *pg.Node_RowExpr:
		return nil, c.unsupported(n.RowExpr.Location, "row constructors")
	case *pg.Node_CollateClause:
		return nil, c.unsupported(n.CollateClause.Location, "COLLATE")
	case *pg.Node_GroupingFunc:
		return nil, c.unsupported(n.GroupingFunc.Location, "GROUPING()")
	}
	return nil, c.unsupported(-1, "this expression")
}

func (c *conv) columnRef(cr *pg.ColumnRef) (ast.Expr, error) {
	sp := c.span(cr.Location)
	var parts []string
	for i, f := range cr.Fields {
		if f.GetAStar() != nil {
			if i != len(cr.Fields)-1 || len(parts) > 1 {
				return nil, c.unsupported(cr.Location, "this column reference")
			}
			tbl := ""
			if len(parts) == 1 {
				tbl = parts[0]
			}
			return &ast.Star{Span: sp, Table: tbl}, nil
		}
		s := f.GetString_()
		if s == nil {
			return nil, c.unsupported(cr.Location, "this column reference")
		}
		parts = append(parts, s.Sval)
	}
	switch len(parts) {
	case 1:
		sp.End = sp.Start + len(parts[0])
		return &ast.ColumnRef{Span: sp, Name: parts[0]}, nil
	case 2:
		return &ast.ColumnRef{Span: sp, Table: parts[0], Name: parts[1]}, nil
	}
	return nil, c.unsupported(cr.Location, "a column reference with more than two parts")
}

func (c *conv) constant(k *pg.A_Const) (ast.Expr, error) {
	sp := c.span(k.Location)
	if k.Isnull {
		return &ast.Literal{Span: sp, Kind: ast.LitNull}, nil
	}
	switch v := k.Val.(type) {
	case *pg.A_Const_Ival:
		return &ast.Literal{Span: sp, Kind: ast.LitInt, Int: int64(v.Ival.GetIval())}, nil
	case *pg.A_Const_Fval:
		// PostgreSQL keeps integers beyond int32 as "float" text; take
		// them back as integers when they fit int64.
		if i, err := strconv.ParseInt(v.Fval.Fval, 10, 64); err == nil {
			return &ast.Literal{Span: sp, Kind: ast.LitInt, Int: i}, nil
		}
		return &ast.Literal{Span: sp, Kind: ast.LitNumber, Text: v.Fval.Fval}, nil
	case *pg.A_Const_Sval:
		return &ast.Literal{Span: sp, Kind: ast.LitString, Text: v.Sval.Sval}, nil
	case *pg.A_Const_Boolval:
		return &ast.Literal{Span: sp, Kind: ast.LitBool, Bool: v.Boolval.Boolval}, nil
	case *pg.A_Const_Bsval:
		return nil, c.unsupported(k.Location, "bit-string constants")
	}
	return nil, c.unsupported(k.Location, "this constant")
}

func typeNames(tn *pg.TypeName) []string {
	var out []string
	for _, n := range tn.Names {
		if s := n.GetString_(); s != nil {
			out = append(out, s.Sval)
		}
	}
	return out
}

func (c *conv) typ(tn *pg.TypeName) (ast.Type, error) {
	names := typeNames(tn)
	if tn.Setof || tn.PctType || len(tn.ArrayBounds) > 0 || len(names) == 0 || len(names) > 2 ||
		len(names) == 2 && names[0] != "pg_catalog" {
		return ast.Type{}, c.unsupported(tn.Location, "this type")
	}
	name := names[len(names)-1]
	var t ast.Type
	switch name {
	case "bool", "boolean":
		t.Kind = ast.TypeBool
	case "int2", "smallint":
		t.Kind = ast.TypeSmallInt
	case "int4", "int", "integer":
		t.Kind = ast.TypeInt
	case "int8", "bigint":
		t.Kind = ast.TypeBigInt
	case "float4", "real":
		t.Kind = ast.TypeReal
	case "float8", "double":
		t.Kind = ast.TypeDouble
	case "numeric", "decimal":
		t.Kind = ast.TypeNumeric
	case "text", "string":
		t.Kind = ast.TypeText
	case "varchar":
		t.Kind = ast.TypeVarchar
	case "date":
		t.Kind = ast.TypeDate
	case "timestamp":
		t.Kind = ast.TypeTimestamp
	case "timestamptz":
		t.Kind = ast.TypeTimestampTZ
	case "interval":
		t.Kind = ast.TypeInterval
	default:
		return t, c.unsupported(tn.Location, "type "+name)
	}
	var mods []int
	for _, m := range tn.Typmods {
		k := c.aconst(m)
		if k == nil || k.GetIval() == nil {
			return t, c.unsupported(tn.Location, "this type modifier")
		}
		mods = append(mods, int(k.GetIval().Ival))
	}
	switch {
	case len(mods) == 0:
	case t.Kind == ast.TypeNumeric && len(mods) <= 2:
		t.Precision = mods[0]
		if len(mods) == 2 {
			t.Scale = mods[1]
		}
	case t.Kind == ast.TypeVarchar && len(mods) == 1:
		t.Length = mods[0]
	case (t.Kind == ast.TypeTimestamp || t.Kind == ast.TypeTimestampTZ) && len(mods) == 1 && mods[0] == 6:
		// timestamp(6) is the default precision.
	default:
		return t, c.unsupported(tn.Location, "type modifiers on "+name)
	}
	return t, nil
}

func (c *conv) typeCast(tc *pg.TypeCast) (ast.Expr, error) {
	t, err := c.typ(tc.TypeName)
	if err != nil {
		return nil, err
	}
	sp := c.span(tc.Location)
	if k := c.aconst(tc.Arg); k != nil && k.GetSval() != nil {
		if e, ok, err := c.typedString(sp, k.Location, k.GetSval().Sval, t); ok {
			return e, err
		}
	}
	x, err := c.expr(tc.Arg)
	if err != nil {
		return nil, err
	}
	return &ast.Cast{Span: sp, X: x, Type: t}, nil
}

// TypedString reads a string constant cast to t ('1 hour'::interval,
// '2024-01-01'::timestamptz) as the constant it denotes, for both front
// ends; ok is false when the cast stays a Cast. sql is the text sp points
// into.
func TypedString(sql string, sp ast.Span, s string, t ast.Type) (ast.Expr, bool, error) {
	c := conv{sql: sql}
	return c.typedString(sp, int32(sp.Start), s, t)
}

func (c *conv) typedString(sp ast.Span, loc int32, s string, t ast.Type) (ast.Expr, bool, error) {
	switch t.Kind {
	case ast.TypeInterval:
		iv, err := sqltime.ParseInterval(s)
		if err != nil {
			return nil, true, c.unsupported(loc, "interval '"+s+"'")
		}
		return &ast.Interval{Span: sp, Months: iv.Months, Days: iv.Days, Micros: iv.Micros}, true, nil
	case ast.TypeTimestampTZ:
		if ts, err := sqltime.ParseTimestamp(s); err == nil && !ts.SubMicro() {
			return &ast.TimestampLit{Span: sp, Micros: ts.Micros()}, true, nil
		}
	}
	return nil, false, nil
}

func opName(names []*pg.Node) string {
	if len(names) == 0 {
		return ""
	}
	if s := names[len(names)-1].GetString_(); s != nil {
		return s.Sval
	}
	return ""
}

var binOps = map[string]ast.BinaryOp{
	"=": ast.OpEq, "<>": ast.OpNe, "<": ast.OpLt, "<=": ast.OpLe, ">": ast.OpGt, ">=": ast.OpGe,
	"+": ast.OpAdd, "-": ast.OpSub, "*": ast.OpMul, "%": ast.OpMod, "||": ast.OpConcat,
}

// operands converts both sides of a binary operator expression, left first.
func (c *conv) operands(a *pg.A_Expr) (l, r ast.Expr, err error) {
	if l, err = c.expr(a.Lexpr); err != nil {
		return nil, nil, err
	}
	if r, err = c.expr(a.Rexpr); err != nil {
		return nil, nil, err
	}
	return l, r, nil
}

func (c *conv) aExpr(a *pg.A_Expr) (ast.Expr, error) {
	sp := c.span(a.Location)
	op := opName(a.Name)
	switch a.Kind {
	case pg.A_Expr_Kind_AEXPR_OP:
		if a.Lexpr == nil {
			x, err := c.expr(a.Rexpr)
			if err != nil {
				return nil, err
			}
			switch op {
			case "-":
				return &ast.Unary{Span: sp, Op: ast.Neg, X: x}, nil
			case "+":
				return x, nil
			}
			return nil, c.unsupported(a.Location, "prefix operator "+op)
		}
		l, r, err := c.operands(a)
		if err != nil {
			return nil, err
		}
		if bop, ok := binOps[op]; ok {
			if bop == ast.OpMul {
				if tb := grafanaBucket(l, r, sp); tb != nil {
					return tb, nil
				}
			}
			return &ast.Binary{Span: sp, Op: bop, L: l, R: r}, nil
		}
		switch op {
		case "/":
			return c.division(sp, l, r)
		case "~", "~*", "!~", "!~*":
			ci := strings.HasSuffix(op, "*")
			if c.flavor == Arc && ci {
				// DuckDB has no ~* operator: the query fails on Arc.
				return nil, c.invalid(a.Location, "operator "+op+" does not exist in DuckDB (Arc); use regexp_matches(x, pattern, 'i')")
			}
			// DuckDB's ~ is a full match, PostgreSQL's a match anywhere.
			return &ast.RegexMatch{Span: sp, X: l, Pattern: r, Not: op[0] == '!', CaseInsensitive: ci, Full: c.flavor == Arc}, nil
		case "^":
			return &ast.Func{Span: sp, Name: "power", Args: []ast.Expr{l, r}}, nil
		case "//", "**":
			if c.flavor == Arc {
				// PostgreSQL's grammar reads any operator; these two are
				// DuckDB's, and its own front end gives them their meaning.
				return nil, &errs.Error{Code: errs.Unsupported, Msg: op + " is DuckDB-only syntax; tsgate translates the PostgreSQL grammar",
					Hint: "the DuckDB (Arc) backend can run this query as written", Position: pos1(c.sql, int(a.Location)), Err: ErrDuckDBOnly}
			}
		}
		return nil, c.unsupported(a.Location, "operator "+op)
	case pg.A_Expr_Kind_AEXPR_DISTINCT, pg.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		l, r, err := c.operands(a)
		if err != nil {
			return nil, err
		}
		bop := ast.OpIsDistinct
		if a.Kind == pg.A_Expr_Kind_AEXPR_NOT_DISTINCT {
			bop = ast.OpIsNotDistinct
		}
		return &ast.Binary{Span: sp, Op: bop, L: l, R: r}, nil
	case pg.A_Expr_Kind_AEXPR_NULLIF:
		l, r, err := c.operands(a)
		if err != nil {
			return nil, err
		}
		return &ast.Func{Span: sp, Name: "nullif", Args: []ast.Expr{l, r}}, nil
	case pg.A_Expr_Kind_AEXPR_IN:
		x, err := c.expr(a.Lexpr)
		if err != nil {
			return nil, err
		}
		list := a.Rexpr.GetList()
		if list == nil {
			return nil, c.unsupported(a.Location, "this IN form")
		}
		items, err := c.exprs(list.Items)
		if err != nil {
			return nil, err
		}
		return &ast.InList{Span: sp, X: x, List: items, Not: op == "<>"}, nil
	case pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE:
		return c.like(a, sp, op)
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN:
		x, err := c.expr(a.Lexpr)
		if err != nil {
			return nil, err
		}
		list := a.Rexpr.GetList()
		if list == nil || len(list.Items) != 2 {
			return nil, c.invalid(a.Location, "malformed BETWEEN")
		}
		bounds, err := c.exprs(list.Items)
		if err != nil {
			return nil, err
		}
		return &ast.Between{Span: sp, X: x, Lo: bounds[0], Hi: bounds[1], Not: a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN}, nil
	case pg.A_Expr_Kind_AEXPR_SIMILAR:
		return nil, c.unsupported(a.Location, "SIMILAR TO")
	case pg.A_Expr_Kind_AEXPR_BETWEEN_SYM, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM:
		return nil, c.unsupported(a.Location, "BETWEEN SYMMETRIC")
	case pg.A_Expr_Kind_AEXPR_OP_ANY, pg.A_Expr_Kind_AEXPR_OP_ALL:
		return nil, c.unsupported(a.Location, "ANY/ALL with an array")
	}
	return nil, c.unsupported(a.Location, "this operator")
}

// division fixes what / means. DuckDB's / is always true division. In
// PostgreSQL it truncates when both operands are integers; what the
// operands' form does not tell is left as OpPgDiv for the translator,
// which knows the columns' types.
func (c *conv) division(sp ast.Span, l, r ast.Expr) (ast.Expr, error) {
	if c.flavor == Arc {
		return &ast.Binary{Span: sp, Op: ast.OpDiv, L: l, R: r}, nil
	}
	lk, rk := numKind(l), numKind(r)
	switch {
	case lk == types.PGFrac || rk == types.PGFrac:
		return &ast.Binary{Span: sp, Op: ast.OpDiv, L: l, R: r}, nil
	case lk == types.PGInt && rk == types.PGInt:
		return &ast.Binary{Span: sp, Op: ast.OpIntDiv, L: l, R: r}, nil
	}
	// Column types are the schema's: the translator resolves it.
	return &ast.Binary{Span: sp, Op: ast.OpPgDiv, L: l, R: r}, nil
}

// numKind is e's number class by its form alone: the parser has no
// column types.
func numKind(e ast.Expr) types.PGNumber {
	switch e := e.(type) {
	case *ast.Agg:
		switch e.Kind {
		case ast.AggCount:
			return types.PGInt
		case ast.AggAvg, ast.AggStddevPop, ast.AggStddevSamp, ast.AggVarPop, ast.AggVarSamp,
			ast.AggMedian, ast.AggPercentileCont, ast.AggApproxQuantile:
			return types.PGFrac
		}
	case *ast.Unary:
		return numKind(e.X)
	case *ast.Binary:
		l, r := numKind(e.L), numKind(e.R)
		switch {
		case e.Op == ast.OpDiv || l == types.PGFrac || r == types.PGFrac:
			return types.PGFrac
		case e.Op == ast.OpIntDiv || l == types.PGInt && r == types.PGInt:
			return types.PGInt
		}
	case *ast.Func:
		switch e.Name {
		case "floor", "ceil", "ceiling", "round", "sqrt", "ln", "exp", "power":
			if len(e.Args) > 0 && numKind(e.Args[0]) == types.PGFrac {
				return types.PGFrac
			}
		}
	}
	return types.PGForm(e)
}

// GrafanaBucket recognizes l * r as floor(extract(epoch from t) / N) * N,
// Grafana's PostgreSQL $__timeGroup expansion: an epoch-anchored bucket of
// N seconds. It returns nil for anything else.
func GrafanaBucket(l, r ast.Expr, sp ast.Span) *ast.TimeBucket { return grafanaBucket(l, r, sp) }

func grafanaBucket(l, r ast.Expr, sp ast.Span) *ast.TimeBucket {
	f, ok := l.(*ast.Func)
	n, ok2 := r.(*ast.Literal)
	if !ok || !ok2 || f.Name != "floor" || len(f.Args) != 1 || f.Over != nil || n.Kind != ast.LitInt || n.Int <= 0 {
		return nil
	}
	d, ok := f.Args[0].(*ast.Binary)
	if !ok || d.Op != ast.OpDiv {
		return nil
	}
	ex, ok := d.L.(*ast.Extract)
	m, ok2 := d.R.(*ast.Literal)
	if !ok || !ok2 || ex.Field != "epoch" || m.Kind != ast.LitInt || m.Int != n.Int || n.Int > 1<<40 {
		return nil
	}
	return &ast.TimeBucket{Span: sp, Width: ast.Interval{Span: ast.NoSpan, Micros: n.Int * 1_000_000}, Source: ex.X,
		Origin: ast.OriginEpoch, Result: ast.BucketEpochSeconds}
}

func (c *conv) like(a *pg.A_Expr, sp ast.Span, op string) (ast.Expr, error) {
	x, err := c.expr(a.Lexpr)
	if err != nil {
		return nil, err
	}
	out := &ast.Like{Span: sp, X: x, Not: strings.HasPrefix(op, "!"), CaseInsensitive: a.Kind == pg.A_Expr_Kind_AEXPR_ILIKE}
	// The source's default escape character, made explicit.
	if c.flavor == Postgres {
		out.Escape = `\`
	}
	pat := a.Rexpr
	if fc := pat.GetFuncCall(); fc != nil && len(fc.Funcname) == 2 && opName(fc.Funcname) == "like_escape" {
		if len(fc.Args) != 2 {
			return nil, c.invalid(a.Location, "malformed ESCAPE")
		}
		k := c.aconst(fc.Args[1])
		if k == nil || k.GetSval() == nil || utf8.RuneCountInString(k.GetSval().Sval) > 1 {
			return nil, c.unsupported(a.Location, "an ESCAPE that is not a single-character constant")
		}
		out.Escape = k.GetSval().Sval
		pat = fc.Args[0]
	}
	if out.Pattern, err = c.expr(pat); err != nil {
		return nil, err
	}
	return out, nil
}

// FoldNotSublink negates x in place when it is an IN (subquery) or EXISTS
// and reports whether it was. Both parsers deliver NOT IN (subquery) and
// NOT EXISTS as NOT over the sublink; folding them makes the printed form
// read back the same.
func FoldNotSublink(x ast.Expr) bool {
	switch x := x.(type) {
	case *ast.InSubquery:
		x.Not = !x.Not
		return true
	case *ast.Exists:
		x.Not = !x.Not
		return true
	}
	return false
}

func (c *conv) boolExpr(b *pg.BoolExpr) (ast.Expr, error) {
	args, err := c.exprs(b.Args)
	if err != nil {
		return nil, err
	}
	sp := c.span(b.Location)
	switch b.Boolop {
	case pg.BoolExprType_NOT_EXPR:
		if len(args) != 1 {
			return nil, c.invalid(b.Location, "malformed NOT")
		}
		if FoldNotSublink(args[0]) {
			return args[0], nil
		}
		return &ast.Unary{Span: sp, Op: ast.Not, X: args[0]}, nil
	case pg.BoolExprType_AND_EXPR, pg.BoolExprType_OR_EXPR:
		if len(args) < 2 {
			return nil, c.invalid(b.Location, "malformed AND/OR")
		}
		op := ast.OpAnd
		if b.Boolop == pg.BoolExprType_OR_EXPR {
			op = ast.OpOr
		}
		e := args[0]
		for _, r := range args[1:] {
			e = &ast.Binary{Span: sp, Op: op, L: e, R: r}
		}
		return e, nil
	}
	return nil, c.unsupported(b.Location, "this boolean operator")
}

func (c *conv) subLink(s *pg.SubLink) (ast.Expr, error) {
	sp := c.span(s.Location)
	q, err := c.query(s.Subselect.GetSelectStmt())
	if err != nil {
		return nil, err
	}
	switch s.SubLinkType {
	case pg.SubLinkType_EXISTS_SUBLINK:
		return &ast.Exists{Span: sp, Query: q}, nil
	case pg.SubLinkType_EXPR_SUBLINK:
		return &ast.Subquery{Span: sp, Query: q}, nil
	case pg.SubLinkType_ANY_SUBLINK:
		if op := opName(s.OperName); op != "" && op != "=" {
			return nil, c.unsupported(s.Location, op+" ANY (subquery)")
		}
		x, err := c.expr(s.Testexpr)
		if err != nil {
			return nil, err
		}
		return &ast.InSubquery{Span: sp, X: x, Query: q}, nil
	}
	return nil, c.unsupported(s.Location, "this subquery form (ALL, ARRAY, row comparison)")
}

func (c *conv) caseExpr(ce *pg.CaseExpr) (ast.Expr, error) {
	out := &ast.Case{Span: c.span(ce.Location)}
	var err error
	if ce.Arg != nil {
		if out.Operand, err = c.expr(ce.Arg); err != nil {
			return nil, err
		}
	}
	for _, n := range ce.Args {
		w := n.GetCaseWhen()
		if w == nil {
			return nil, c.invalid(ce.Location, "malformed CASE")
		}
		cond, err := c.expr(w.Expr)
		if err != nil {
			return nil, err
		}
		res, err := c.expr(w.Result)
		if err != nil {
			return nil, err
		}
		out.Whens = append(out.Whens, &ast.When{Cond: cond, Result: res})
	}
	if out.Else, err = c.optExpr(ce.Defresult); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *conv) sqlValue(v *pg.SQLValueFunction) (ast.Expr, error) {
	sp := c.span(v.Location)
	switch v.Op {
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP:
		return &ast.Now{Span: sp}, nil
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE:
		// The session runs in UTC on every backend, so the current date is
		// now() cast to date everywhere.
		return &ast.Cast{Span: sp, X: &ast.Now{Span: sp}, Type: ast.Type{Kind: ast.TypeDate}}, nil
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP:
		return &ast.Cast{Span: sp, X: &ast.Now{Span: sp}, Type: ast.Type{Kind: ast.TypeTimestamp}}, nil
	}
	return nil, c.unsupported(v.Location, "this SQL value function (CURRENT_TIME, CURRENT_USER, ...)")
}
