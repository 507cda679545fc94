package duckparse

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"tsgate/errs"
	"tsgate/translate/ast"
	"tsgate/translate/pgparse"
	"tsgate/translate/sqllex"
	"tsgate/translate/target"
	"tsgate/translate/types"
)

// ErrSyntax is the cause of the error for text DuckDB's parser rejects.
var ErrSyntax = errors.New("DuckDB syntax error")

// Env is what the conversion may know about the tables a query reads:
// SELECT * EXCLUDE/REPLACE expands to the measurement's columns and //
// needs its operands' types. Schema may be nil; what needs it is then
// refused.
type Env struct {
	Schema   target.Schema
	Database string
}

// Convert converts serialized, json_serialize_sql's answer for sql (with
// skip_null but not skip_empty: an empty grouping set is meaningful), into
// the statement it denotes in Arc's (DuckDB's) meaning.
func Convert(sql string, serialized []byte, env Env) (ast.Statement, error) {
	dec := json.NewDecoder(bytes.NewReader(serialized))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "DuckDB parse tree unreadable")
	}
	if dec.More() {
		return nil, errs.New(errs.Internal, "DuckDB parse tree unreadable: trailing data")
	}
	top, ok := root.(map[string]any)
	if !ok {
		return nil, errs.New(errs.Internal, "DuckDB parse tree unreadable: not an object")
	}
	if b, _ := top["error"].(bool); b {
		msg, _ := top["error_message"].(string)
		e := &errs.Error{Code: errs.Invalid, SQLState: "42601", Msg: msg, Err: ErrSyntax}
		if p, ok := top["position"].(string); ok {
			if n, err := strconv.Atoi(p); err == nil {
				e.Position = pos1(sql, n)
			}
		}
		return nil, e
	}
	stmts, _ := top["statements"].([]any)
	switch len(stmts) {
	case 0:
		return nil, &errs.Error{Code: errs.Invalid, SQLState: "42601", Msg: "empty query", Err: ErrSyntax}
	case 1:
	default:
		return nil, &errs.Error{Code: errs.Invalid, SQLState: "42601", Msg: "Multiple SQL statements are not allowed", Err: ErrSyntax}
	}
	st, ok := stmts[0].(map[string]any)
	if !ok {
		return nil, errs.New(errs.Internal, "DuckDB parse tree unreadable: statement is not an object")
	}
	c := &conv{sql: sql, env: env}
	if err := c.keys(st, "statement", "node"); err != nil {
		return nil, err
	}
	return c.query(obj(st["node"]), nil)
}

// pos1 converts a byte offset into errs.Error's 1-based character position.
func pos1(sql string, off int) int {
	if off < 0 || off > len(sql) || !utf8.ValidString(sql[:off]) {
		return 0
	}
	return utf8.RuneCountInString(sql[:off]) + 1
}

type conv struct {
	sql string
	env Env
}

// scope is what a SELECT's FROM clause tells the conversion: the one
// measurement it reads, when it reads exactly one.
type scope struct {
	table *ast.Table
	cols  []target.ColumnInfo
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func boolean(m map[string]any, k string) bool {
	b, _ := m[k].(bool)
	return b
}

func (c *conv) loc(m map[string]any) int {
	if n, ok := m["query_location"].(json.Number); ok {
		if i, err := n.Int64(); err == nil && i >= 0 && i <= int64(len(c.sql)) {
			return int(i)
		}
	}
	return -1
}

func (c *conv) span(m map[string]any) ast.Span {
	l := c.loc(m)
	if l < 0 {
		return ast.NoSpan
	}
	return ast.Span{Start: l, End: l}
}

// unsupported refuses a construct tsgate does not model, for every target.
func (c *conv) unsupported(m map[string]any, construct string) error {
	e := &errs.Error{Code: errs.Unsupported, Msg: construct + " is not supported by tsgate's translator"}
	if l := c.loc(m); l >= 0 {
		e.Position = pos1(c.sql, l)
	}
	return e
}

func (c *conv) malformed(what string) error {
	return errs.New(errs.Internal, "DuckDB parse tree unreadable: malformed "+what)
}

// keys refuses a node that carries a key the conversion does not read,
// unless its value is a default (false, "", empty, or one of DuckDB's
// neutral enum values): a new option DuckDB adds must not be dropped
// silently.
func (c *conv) keys(m map[string]any, what string, known ...string) error {
	if m == nil {
		return c.malformed(what)
	}
	for k, v := range m {
		if k == "type" || k == "class" || k == "query_location" || k == "alias" || slices.Contains(known, k) {
			continue
		}
		switch v := v.(type) {
		case nil:
			continue
		case bool:
			if !v {
				continue
			}
		case string:
			switch v {
			case "", "INVALID", "NO_OTHER", "CTE_MATERIALIZE_DEFAULT", "STANDARD_HANDLING", "REGULAR", "ORDER_MODIFIER":
				continue
			}
		case []any:
			if len(v) == 0 {
				continue
			}
		case map[string]any:
			if len(v) == 0 || len(v) == 1 && v["type"] == "ORDER_MODIFIER" {
				continue
			}
		}
		return c.unsupported(m, what+" with "+strings.ReplaceAll(k, "_", " "))
	}
	return nil
}

// ---- queries ----

func (c *conv) query(n map[string]any, outer *scope) (ast.Query, error) {
	if n == nil {
		return nil, c.malformed("query")
	}
	var with *ast.With
	if ctes := obj(n["cte_map"]); ctes != nil {
		var err error
		if with, err = c.with(ctes); err != nil {
			return nil, err
		}
	}
	switch str(n, "type") {
	case "SELECT_NODE":
		return c.selectNode(n, with)
	case "SET_OPERATION_NODE":
		return c.setOp(n, with)
	case "RECURSIVE_CTE_NODE":
		return nil, c.unsupported(n, "WITH RECURSIVE")
	}
	return nil, c.unsupported(n, "this query form ("+strings.ToLower(str(n, "type"))+")")
}

func (c *conv) with(ctes map[string]any) (*ast.With, error) {
	entries := list(ctes["map"])
	if len(entries) == 0 {
		return nil, nil
	}
	w := &ast.With{Span: ast.NoSpan}
	for _, e := range entries {
		entry := obj(e)
		name := str(entry, "key")
		val := obj(entry["value"])
		if name == "" || val == nil {
			return nil, c.malformed("WITH item")
		}
		if err := c.keys(val, "a WITH item", "query", "aliases"); err != nil {
			return nil, err
		}
		q, cols, err := c.nestedQuery(val, "query", "aliases", "a WITH query")
		if err != nil {
			return nil, err
		}
		if w.Span.Start < 0 {
			w.Span = q.Pos()
		}
		w.CTEs = append(w.CTEs, &ast.CTE{Span: q.Pos(), Name: name, Columns: cols, Query: q})
	}
	return w, nil
}

// nestedQuery converts the query a WITH item or a FROM subquery (m) holds
// under queryKey (what names it in errors), and its column aliases under
// aliasesKey.
func (c *conv) nestedQuery(m map[string]any, queryKey, aliasesKey, what string) (ast.Query, []string, error) {
	sq := obj(m[queryKey])
	if err := c.keys(sq, what, "node"); err != nil {
		return nil, nil, err
	}
	q, err := c.query(obj(sq["node"]), nil)
	if err != nil {
		return nil, nil, err
	}
	cols, err := c.names(m[aliasesKey])
	if err != nil {
		return nil, nil, err
	}
	return q, cols, nil
}

func (c *conv) names(v any) ([]string, error) {
	var out []string
	for _, x := range list(v) {
		s, ok := x.(string)
		if !ok {
			return nil, c.malformed("name list")
		}
		out = append(out, s)
	}
	return out, nil
}

// modifiers reads ORDER BY, LIMIT/OFFSET and DISTINCT [ON]. items is the
// query's select list for ORDER BY ALL (nil when it cannot be counted).
type modifiers struct {
	order         []*ast.OrderItem
	orderAll      map[string]any // the ORDER BY ALL item, expanded by the caller
	limit, offset ast.Expr
	distinct      bool
	distinctOn    []ast.Expr
}

func (c *conv) modifiers(n map[string]any, sc *scope) (*modifiers, error) {
	out := &modifiers{}
	for _, x := range list(n["modifiers"]) {
		m := obj(x)
		switch str(m, "type") {
		case "ORDER_MODIFIER":
			if err := c.keys(m, "ORDER BY", "orders"); err != nil {
				return nil, err
			}
			orders := list(m["orders"])
			for _, o := range orders {
				om := obj(o)
				if e := obj(om["expression"]); str(e, "class") == "STAR" && boolean(e, "columns") && e["expr"] == nil {
					if len(orders) != 1 {
						return nil, c.unsupported(e, "ORDER BY ALL with other keys")
					}
					out.orderAll = om
					continue
				}
				it, err := c.orderItem(om, sc)
				if err != nil {
					return nil, err
				}
				out.order = append(out.order, it)
			}
		case "LIMIT_MODIFIER":
			if err := c.keys(m, "LIMIT", "limit", "offset"); err != nil {
				return nil, err
			}
			var err error
			if out.limit, err = c.limitExpr(m["limit"], sc); err != nil {
				return nil, err
			}
			if out.offset, err = c.limitExpr(m["offset"], sc); err != nil {
				return nil, err
			}
		case "DISTINCT_MODIFIER":
			if err := c.keys(m, "DISTINCT", "distinct_on_targets"); err != nil {
				return nil, err
			}
			on := list(m["distinct_on_targets"])
			if len(on) == 0 {
				out.distinct = true
				continue
			}
			for _, e := range on {
				x, err := c.expr(obj(e), sc)
				if err != nil {
					return nil, err
				}
				out.distinctOn = append(out.distinctOn, x)
			}
		case "LIMIT_PERCENT_MODIFIER":
			return nil, c.unsupported(m, "LIMIT with a percentage")
		default:
			return nil, c.unsupported(m, "this query modifier")
		}
	}
	return out, nil
}

func (c *conv) limitExpr(v any, sc *scope) (ast.Expr, error) {
	m := obj(v)
	if m == nil {
		return nil, nil
	}
	e, err := c.expr(m, sc)
	if err != nil {
		return nil, err
	}
	if l, ok := e.(*ast.Literal); ok && l.Kind == ast.LitNull {
		return nil, nil // LIMIT NULL / LIMIT ALL
	}
	return e, nil
}

func (c *conv) orderItem(m map[string]any, sc *scope) (*ast.OrderItem, error) {
	if err := c.keys(m, "an ORDER BY item", "expression", "null_order"); err != nil {
		return nil, err
	}
	e, err := c.expr(obj(m["expression"]), sc)
	if err != nil {
		return nil, err
	}
	return c.orderOf(m, e)
}

// orderOf applies an ORDER BY item's direction and NULLS placement to e.
// DuckDB's default puts NULLs last both ways; it is made explicit as the
// pg_query front end does for Arc SQL.
func (c *conv) orderOf(m map[string]any, e ast.Expr) (*ast.OrderItem, error) {
	o := &ast.OrderItem{Span: e.Pos(), Expr: e, Nulls: ast.NullsLast}
	switch str(m, "type") {
	case "ORDER_DEFAULT", "ASCENDING":
	case "DESCENDING":
		o.Desc = true
	default:
		return nil, c.unsupported(m, "this ORDER BY direction")
	}
	switch str(m, "null_order") {
	case "ORDER_DEFAULT":
	case "NULLS FIRST", "NULLS_FIRST":
		o.Nulls = ast.NullsFirst
	case "NULLS LAST", "NULLS_LAST":
		o.Nulls = ast.NullsLast
	default:
		return nil, c.unsupported(m, "this NULLS order")
	}
	return o, nil
}

// explicitNulls says whether an ORDER BY item spelled NULLS FIRST/LAST.
func explicitNulls(m map[string]any) bool {
	n := str(m, "null_order")
	return n != "ORDER_DEFAULT" && n != ""
}

// orderAll expands ORDER BY ALL: every output column, left to right, by
// position, in the direction and NULLS order ALL was given.
func (c *conv) orderAll(m map[string]any, columns int) ([]*ast.OrderItem, error) {
	if columns <= 0 {
		return nil, c.unsupported(obj(m["expression"]), "ORDER BY ALL over a select list with *")
	}
	var out []*ast.OrderItem
	for i := range columns {
		o, err := c.orderOf(m, &ast.Literal{Span: ast.NoSpan, Kind: ast.LitInt, Int: int64(i + 1)})
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

func (c *conv) setOp(n map[string]any, with *ast.With) (ast.Query, error) {
	if err := c.keys(n, "a set operation", "left", "right", "setop_type", "setop_all", "modifiers", "cte_map"); err != nil {
		return nil, err
	}
	var op ast.SetOpKind
	switch str(n, "setop_type") {
	case "UNION":
		op = ast.Union
	case "INTERSECT":
		op = ast.Intersect
	case "EXCEPT":
		op = ast.Except
	case "UNION_BY_NAME":
		return nil, c.unsupported(n, "UNION BY NAME")
	default:
		return nil, c.unsupported(n, "this set operation")
	}
	l, err := c.query(obj(n["left"]), nil)
	if err != nil {
		return nil, err
	}
	r, err := c.query(obj(n["right"]), nil)
	if err != nil {
		return nil, err
	}
	mods, err := c.modifiers(n, nil)
	if err != nil {
		return nil, err
	}
	if mods.distinct || mods.distinctOn != nil {
		return nil, c.unsupported(n, "DISTINCT on a set operation")
	}
	if mods.orderAll != nil {
		if mods.order, err = c.orderAll(mods.orderAll, width(l)); err != nil {
			return nil, err
		}
	}
	return &ast.SetOp{Span: ast.Span{Start: l.Pos().Start, End: l.Pos().Start}, With: with, Op: op, All: boolean(n, "setop_all"),
		Left: l, Right: r, OrderBy: mods.order, Limit: mods.limit, Offset: mods.offset}, nil
}

// width is the number of output columns of q, 0 when a * hides it.
func width(q ast.Query) int {
	switch q := q.(type) {
	case *ast.Select:
		for _, it := range q.Columns {
			if _, ok := it.Expr.(*ast.Star); ok {
				return 0
			}
		}
		return len(q.Columns)
	case *ast.SetOp:
		return width(q.Left)
	}
	return 0
}

func (c *conv) selectNode(n map[string]any, with *ast.With) (ast.Query, error) {
	if err := c.keys(n, "a SELECT", "select_list", "from_table", "where_clause", "group_expressions", "group_sets",
		"aggregate_handling", "having", "qualify", "modifiers", "cte_map"); err != nil {
		return nil, err
	}
	sel := &ast.Select{Span: ast.NoSpan, With: with}
	from := obj(n["from_table"])
	if from == nil {
		return nil, c.malformed("SELECT without from_table")
	}
	var err error
	if sel.From, err = c.fromClause(from); err != nil {
		return nil, err
	}
	sc := c.scopeOf(sel.From)
	for _, x := range list(n["select_list"]) {
		m := obj(x)
		if m == nil {
			return nil, c.malformed("select list")
		}
		items, err := c.selectItems(m, sc)
		if err != nil {
			return nil, err
		}
		if sel.Span.Start < 0 && len(items) > 0 {
			sel.Span = items[0].Span
		}
		sel.Columns = append(sel.Columns, items...)
	}
	if len(sel.Columns) == 0 {
		return nil, c.malformed("SELECT without columns")
	}
	if w := obj(n["where_clause"]); w != nil {
		if sel.Where, err = c.expr(w, sc); err != nil {
			return nil, err
		}
	}
	groups := list(n["group_expressions"])
	for _, g := range groups {
		e, err := c.expr(obj(g), sc)
		if err != nil {
			return nil, err
		}
		sel.GroupBy = append(sel.GroupBy, e)
	}
	if err := c.groupSets(n, len(groups)); err != nil {
		return nil, err
	}
	switch str(n, "aggregate_handling") {
	case "", "STANDARD_HANDLING":
	case "FORCE_AGGREGATES":
		if len(groups) > 0 {
			return nil, c.malformed("GROUP BY ALL with group expressions")
		}
		if sel.GroupBy, err = c.groupByAll(n, sel.Columns); err != nil {
			return nil, err
		}
	default:
		return nil, c.unsupported(n, "this grouping ("+strings.ToLower(str(n, "aggregate_handling"))+")")
	}
	if h := obj(n["having"]); h != nil {
		if sel.Having, err = c.expr(h, sc); err != nil {
			return nil, err
		}
	}
	mods, err := c.modifiers(n, sc)
	if err != nil {
		return nil, err
	}
	sel.Distinct, sel.DistinctOn = mods.distinct, mods.distinctOn
	sel.OrderBy, sel.Limit, sel.Offset = mods.order, mods.limit, mods.offset
	if mods.orderAll != nil {
		if sel.OrderBy, err = c.orderAll(mods.orderAll, width(sel)); err != nil {
			return nil, err
		}
	}
	if q := obj(n["qualify"]); q != nil {
		return c.qualify(sel, n, q, sc)
	}
	return sel, nil
}

// groupSets accepts only the one grouping set of a plain GROUP BY: every
// expression, once, in order.
func (c *conv) groupSets(n map[string]any, groups int) error {
	sets := list(n["group_sets"])
	if groups == 0 && len(sets) == 0 {
		return nil
	}
	if len(sets) != 1 || len(list(sets[0])) != groups {
		return c.unsupported(n, "GROUPING SETS, ROLLUP and CUBE")
	}
	for i, x := range list(sets[0]) {
		if num, ok := x.(json.Number); !ok || num.String() != strconv.Itoa(i) {
			return c.unsupported(n, "GROUPING SETS, ROLLUP and CUBE")
		}
	}
	return nil
}

// groupByAll is DuckDB's GROUP BY ALL: every select item that contains no
// aggregate, by position. Items with a window function are refused: whether
// DuckDB groups by them is not something tsgate models.
func (c *conv) groupByAll(n map[string]any, items []*ast.SelectItem) ([]ast.Expr, error) {
	var out []ast.Expr
	for i, it := range items {
		agg, window := false, false
		ast.Inspect(it.Expr, func(x ast.Node) bool {
			switch x := x.(type) {
			case *ast.Agg:
				if x.Over != nil {
					window = true
				} else {
					agg = true
				}
			case *ast.Func:
				if x.Over != nil {
					window = true
				}
			case *ast.Star:
				window = true // reused: a * hides what it groups by
			case *ast.Subquery, *ast.Exists, *ast.InSubquery:
				return false // a subquery's aggregates are its own
			}
			return true
		})
		if window {
			return nil, c.unsupported(n, "GROUP BY ALL with a window function or * in the select list")
		}
		if !agg {
			out = append(out, &ast.Literal{Span: ast.NoSpan, Kind: ast.LitInt, Int: int64(i + 1)})
		}
	}
	return out, nil
}

// ---- FROM ----

// fromClause reads DuckDB's one FROM tree: a comma list arrives as CROSS
// joins, which become separate FROM items (the pg_query front end's form).
func (c *conv) fromClause(m map[string]any) ([]ast.TableExpr, error) {
	switch str(m, "type") {
	case "EMPTY":
		if err := c.keys(m, "an empty FROM"); err != nil {
			return nil, err
		}
		return nil, nil
	case "JOIN":
		if str(m, "ref_type") == "CROSS" {
			if err := c.keys(m, "CROSS JOIN", "left", "right", "ref_type", "join_type", "delim_flipped"); err != nil {
				return nil, err
			}
			if str(m, "join_type") != "INNER" {
				return nil, c.unsupported(m, "this CROSS JOIN")
			}
			l, err := c.fromClause(obj(m["left"]))
			if err != nil {
				return nil, err
			}
			r, err := c.from(obj(m["right"]))
			if err != nil {
				return nil, err
			}
			return append(l, r), nil
		}
	}
	t, err := c.from(m)
	if err != nil {
		return nil, err
	}
	return []ast.TableExpr{t}, nil
}

func (c *conv) from(m map[string]any) (ast.TableExpr, error) {
	if m == nil {
		return nil, c.malformed("FROM item")
	}
	sp := c.span(m)
	switch str(m, "type") {
	case "BASE_TABLE":
		if err := c.keys(m, "a table reference", "schema_name", "table_name"); err != nil {
			return nil, err
		}
		if str(m, "table_name") == "" {
			return nil, c.malformed("table reference")
		}
		t := &ast.Table{Span: sp, Schema: str(m, "schema_name"), Name: str(m, "table_name"), Alias: str(m, "alias")}
		if t.Span.Start >= 0 {
			t.Span.End = t.Span.Start + len(t.Name)
		}
		return t, nil
	case "SUBQUERY":
		if err := c.keys(m, "a subquery in FROM", "subquery", "column_name_alias"); err != nil {
			return nil, err
		}
		q, cols, err := c.nestedQuery(m, "subquery", "column_name_alias", "a subquery")
		if err != nil {
			return nil, err
		}
		return &ast.SubqueryTable{Span: q.Pos(), Query: q, Alias: str(m, "alias"), Columns: cols}, nil
	case "JOIN":
		if err := c.keys(m, "a join", "left", "right", "ref_type", "join_type", "condition", "using_columns", "delim_flipped"); err != nil {
			return nil, err
		}
		if str(m, "alias") != "" {
			return nil, c.unsupported(m, "an alias on a join")
		}
		out := &ast.Join{}
		switch str(m, "ref_type") {
		case "REGULAR":
		case "NATURAL":
			out.Natural = true
		case "CROSS":
			out.Kind = ast.CrossJoin
		case "ASOF":
			return nil, c.unsupported(m, "ASOF JOIN")
		case "POSITIONAL":
			return nil, c.unsupported(m, "POSITIONAL JOIN")
		case "DEPENDENT":
			return nil, c.unsupported(m, "LATERAL")
		default:
			return nil, c.unsupported(m, "this join")
		}
		if out.Kind == 0 {
			switch str(m, "join_type") {
			case "INNER":
				out.Kind = ast.InnerJoin
			case "LEFT":
				out.Kind = ast.LeftJoin
			case "RIGHT":
				out.Kind = ast.RightJoin
			case "OUTER":
				out.Kind = ast.FullJoin
			case "SEMI", "ANTI":
				return nil, c.unsupported(m, str(m, "join_type")+" JOIN")
			default:
				return nil, c.unsupported(m, "this join type")
			}
		}
		l, err := c.from(obj(m["left"]))
		if err != nil {
			return nil, err
		}
		r, err := c.from(obj(m["right"]))
		if err != nil {
			return nil, err
		}
		out.Span, out.Left, out.Right = l.Pos(), l, r
		// ON sees both sides; no single measurement is in scope.
		if cond := obj(m["condition"]); cond != nil {
			if out.On, err = c.expr(cond, nil); err != nil {
				return nil, err
			}
		}
		if out.Using, err = c.names(m["using_columns"]); err != nil {
			return nil, err
		}
		if out.Kind == ast.CrossJoin && (out.On != nil || out.Using != nil) {
			return nil, c.malformed("CROSS JOIN with a condition")
		}
		return out, nil
	case "TABLE_FUNCTION":
		return nil, c.unsupported(m, "a table function in FROM")
	case "PIVOT":
		return nil, c.unsupported(m, "PIVOT/UNPIVOT")
	case "SHOW_REF":
		return nil, c.unsupported(m, "DESCRIBE/SUMMARIZE of a query")
	}
	return nil, c.unsupported(m, "this FROM item")
}

// scopeOf is the one measurement a SELECT reads, with its columns, when
// its FROM is exactly one table and the schema knows it.
func (c *conv) scopeOf(from []ast.TableExpr) *scope {
	if len(from) != 1 || c.env.Schema == nil {
		return nil
	}
	t, ok := from[0].(*ast.Table)
	if !ok {
		return nil
	}
	db := t.Schema
	if db == "" {
		db = c.env.Database
	}
	cols, ok := c.env.Schema.Columns(db, t.Name)
	if !ok {
		return nil
	}
	return &scope{table: t, cols: cols}
}

// column finds a column of the scope's measurement by a reference that
// names it (optionally qualified by the table's name or alias).
func (sc *scope) column(r *ast.ColumnRef) (target.ColumnInfo, bool) {
	if sc == nil {
		return target.ColumnInfo{}, false
	}
	if r.Table != "" && !strings.EqualFold(r.Table, sc.table.Name) && !strings.EqualFold(r.Table, sc.table.Alias) {
		return target.ColumnInfo{}, false
	}
	for _, col := range sc.cols {
		if strings.EqualFold(col.Name, r.Name) {
			return col, true
		}
	}
	return target.ColumnInfo{}, false
}

// ---- select list ----

func (c *conv) selectItems(m map[string]any, sc *scope) ([]*ast.SelectItem, error) {
	if str(m, "class") == "STAR" {
		return c.star(m, sc)
	}
	e, err := c.expr(m, sc)
	if err != nil {
		return nil, err
	}
	return []*ast.SelectItem{{Span: e.Pos(), Expr: e, Alias: str(m, "alias")}}, nil
}

// star reads *, t.*, and DuckDB's * EXCLUDE (...) / * REPLACE (... AS c),
// which become the measurement's columns in the order * lists them (time,
// then the rest alphabetically: Arc's order), less the excluded ones,
// with the replaced ones computed.
func (c *conv) star(m map[string]any, sc *scope) ([]*ast.SelectItem, error) {
	if err := c.keys(m, "*", "relation_name", "exclude_list", "replace_list", "columns", "expr", "rename_list", "qualified_exclude_list", "unpacked"); err != nil {
		return nil, err
	}
	sp := c.span(m)
	if boolean(m, "columns") || m["expr"] != nil {
		return nil, c.unsupported(m, "COLUMNS(...)")
	}
	if len(list(m["rename_list"])) > 0 {
		return nil, c.unsupported(m, "SELECT * RENAME")
	}
	if len(list(m["qualified_exclude_list"])) > 0 || boolean(m, "unpacked") {
		return nil, c.unsupported(m, "this form of SELECT * EXCLUDE")
	}
	if str(m, "alias") != "" {
		return nil, c.unsupported(m, "an alias on *")
	}
	rel := str(m, "relation_name")
	excl, repl := list(m["exclude_list"]), list(m["replace_list"])
	if len(excl) == 0 && len(repl) == 0 {
		return []*ast.SelectItem{{Span: sp, Expr: &ast.Star{Span: sp, Table: rel}}}, nil
	}
	construct := "SELECT * EXCLUDE"
	if len(excl) == 0 {
		construct = "SELECT * REPLACE"
	}
	if sc == nil || rel != "" && !strings.EqualFold(rel, sc.table.Name) && !strings.EqualFold(rel, sc.table.Alias) {
		return nil, c.unsupported(m, construct+" over anything but one measurement whose columns tsgate knows")
	}
	names := starNames(sc)
	drop := map[string]bool{}
	for _, x := range excl {
		s, ok := x.(string)
		if !ok {
			return nil, c.unsupported(m, "this form of SELECT * EXCLUDE")
		}
		if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, s) }) {
			return nil, &errs.Error{Code: errs.Invalid, SQLState: "42703", Msg: "column \"" + s + "\" in EXCLUDE list not found in FROM clause", Position: pos1(c.sql, sp.Start)}
		}
		drop[strings.ToLower(s)] = true
	}
	replace := map[string]ast.Expr{}
	for _, x := range repl {
		e := obj(x)
		name := str(e, "key")
		if name == "" {
			return nil, c.malformed("REPLACE item")
		}
		if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, name) }) {
			return nil, &errs.Error{Code: errs.Invalid, SQLState: "42703", Msg: "column \"" + name + "\" in REPLACE list not found in FROM clause", Position: pos1(c.sql, sp.Start)}
		}
		v, err := c.expr(obj(e["value"]), sc)
		if err != nil {
			return nil, err
		}
		replace[strings.ToLower(name)] = v
	}
	var out []*ast.SelectItem
	for _, n := range names {
		if drop[strings.ToLower(n)] {
			continue
		}
		if v, ok := replace[strings.ToLower(n)]; ok {
			out = append(out, &ast.SelectItem{Span: v.Pos(), Expr: v, Alias: n})
			continue
		}
		out = append(out, &ast.SelectItem{Span: sp, Expr: &ast.ColumnRef{Span: sp, Table: rel, Name: n}})
	}
	if len(out) == 0 {
		return nil, &errs.Error{Code: errs.Invalid, SQLState: "42601", Msg: "SELECT list is empty after resolving * expressions", Position: pos1(c.sql, sp.Start)}
	}
	return out, nil
}

// starNames are the columns * lists: time, then the rest alphabetically
// (Arc's order).
func starNames(sc *scope) []string {
	names := []string{"time"}
	for _, col := range sc.cols {
		names = append(names, col.Name)
	}
	slices.Sort(names[1:])
	return names
}

// ---- expressions ----

func (c *conv) exprs(v any, sc *scope) ([]ast.Expr, error) {
	l := list(v)
	out := make([]ast.Expr, 0, len(l))
	for _, x := range l {
		e, err := c.expr(obj(x), sc)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// fields converts the expressions under the named keys of m, in order.
func (c *conv) fields(m map[string]any, sc *scope, names ...string) ([]ast.Expr, error) {
	out := make([]ast.Expr, len(names))
	for i, k := range names {
		e, err := c.expr(obj(m[k]), sc)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

func (c *conv) expr(m map[string]any, sc *scope) (ast.Expr, error) {
	if m == nil {
		return nil, c.malformed("expression")
	}
	sp := c.span(m)
	switch str(m, "class") {
	case "COLUMN_REF":
		return c.columnRef(m, sc)
	case "CONSTANT":
		if err := c.keys(m, "a constant", "value"); err != nil {
			return nil, err
		}
		return c.constant(m, obj(m["value"]))
	case "CAST":
		return c.cast(m, sc)
	case "COMPARISON":
		if err := c.keys(m, "a comparison", "left", "right"); err != nil {
			return nil, err
		}
		op, ok := comparisons[str(m, "type")]
		if !ok {
			return nil, c.unsupported(m, "this comparison")
		}
		lr, err := c.fields(m, sc, "left", "right")
		if err != nil {
			return nil, err
		}
		return &ast.Binary{Span: sp, Op: op, L: lr[0], R: lr[1]}, nil
	case "CONJUNCTION":
		if err := c.keys(m, "AND/OR", "children"); err != nil {
			return nil, err
		}
		op := ast.OpAnd
		switch str(m, "type") {
		case "CONJUNCTION_AND":
		case "CONJUNCTION_OR":
			op = ast.OpOr
		default:
			return nil, c.unsupported(m, "this boolean operator")
		}
		args, err := c.exprs(m["children"], sc)
		if err != nil {
			return nil, err
		}
		if len(args) < 2 {
			return nil, c.malformed("AND/OR")
		}
		e := args[0]
		for _, r := range args[1:] {
			e = &ast.Binary{Span: sp, Op: op, L: e, R: r}
		}
		return e, nil
	case "OPERATOR":
		return c.operator(m, sc)
	case "BETWEEN":
		if err := c.keys(m, "BETWEEN", "input", "lower", "upper"); err != nil {
			return nil, err
		}
		if str(m, "type") != "COMPARE_BETWEEN" {
			return nil, c.unsupported(m, "this BETWEEN")
		}
		xs, err := c.fields(m, sc, "input", "lower", "upper")
		if err != nil {
			return nil, err
		}
		return &ast.Between{Span: sp, X: xs[0], Lo: xs[1], Hi: xs[2]}, nil
	case "CASE":
		return c.caseExpr(m, sc)
	case "FUNCTION":
		return c.function(m, sc)
	case "WINDOW":
		return c.window(m, sc)
	case "SUBQUERY":
		return c.subquery(m, sc)
	case "STAR":
		if boolean(m, "columns") {
			return nil, c.unsupported(m, "COLUMNS(...)")
		}
		return nil, c.unsupported(m, "* in an expression")
	case "PARAMETER":
		return nil, c.unsupported(m, "parameters in Arc SQL")
	case "LAMBDA":
		return nil, c.unsupported(m, "lambda functions")
	case "COLLATE":
		return nil, c.unsupported(m, "COLLATE")
	case "POSITIONAL_REFERENCE":
		return nil, c.unsupported(m, "#n column references")
	}
	return nil, c.unsupported(m, "this expression ("+strings.ToLower(str(m, "class"))+")")
}

var comparisons = map[string]ast.BinaryOp{
	"COMPARE_EQUAL": ast.OpEq, "COMPARE_NOTEQUAL": ast.OpNe, "COMPARE_LESSTHAN": ast.OpLt,
	"COMPARE_LESSTHANOREQUALTO": ast.OpLe, "COMPARE_GREATERTHAN": ast.OpGt, "COMPARE_GREATERTHANOREQUALTO": ast.OpGe,
	"COMPARE_DISTINCT_FROM": ast.OpIsDistinct, "COMPARE_NOT_DISTINCT_FROM": ast.OpIsNotDistinct,
}

// specialNames are the SQL value functions DuckDB's parser leaves as
// column references for its binder to resolve: a column of that name if
// the FROM clause has one, else the function.
var specialNames = map[string]bool{"current_timestamp": true, "current_date": true, "current_time": true, "localtimestamp": true, "localtime": true}

// special reads CURRENT_TIMESTAMP and friends as the pg_query front end
// does (its grammar makes them keywords), unless the measurement in scope
// has a column of that name, which DuckDB would read instead.
func (c *conv) special(m map[string]any, name string, sc *scope) (ast.Expr, error) {
	sp := c.span(m)
	if _, ok := sc.column(&ast.ColumnRef{Name: name}); ok {
		return nil, c.unsupported(m, "a column named "+name)
	}
	switch name {
	case "current_timestamp":
		return &ast.Now{Span: sp}, nil
	case "current_date":
		// Every backend session runs in UTC, as in the pg_query front end.
		return &ast.Cast{Span: sp, X: &ast.Now{Span: sp}, Type: ast.Type{Kind: ast.TypeDate}}, nil
	case "localtimestamp":
		return &ast.Cast{Span: sp, X: &ast.Now{Span: sp}, Type: ast.Type{Kind: ast.TypeTimestamp}}, nil
	}
	return nil, c.unsupported(m, strings.ToUpper(name))
}

func (c *conv) columnRef(m map[string]any, sc *scope) (ast.Expr, error) {
	if err := c.keys(m, "a column reference", "column_names"); err != nil {
		return nil, err
	}
	parts, err := c.names(m["column_names"])
	if err != nil {
		return nil, err
	}
	sp := c.span(m)
	switch len(parts) {
	case 1:
		if n := strings.ToLower(parts[0]); specialNames[n] {
			return c.special(m, n, sc)
		}
		if sp.Start >= 0 {
			sp.End = sp.Start + len(parts[0])
		}
		return &ast.ColumnRef{Span: sp, Name: parts[0]}, nil
	case 2:
		return &ast.ColumnRef{Span: sp, Table: parts[0], Name: parts[1]}, nil
	case 0:
		return nil, c.malformed("column reference")
	}
	return nil, c.unsupported(m, "a column reference with more than two parts")
}

func (c *conv) constant(m, v map[string]any) (ast.Expr, error) {
	sp := c.span(m)
	if v == nil {
		return nil, c.malformed("constant")
	}
	if boolean(v, "is_null") {
		return &ast.Literal{Span: sp, Kind: ast.LitNull}, nil
	}
	typ := obj(v["type"])
	switch id := str(typ, "id"); id {
	case "INTEGER", "BIGINT", "SMALLINT", "TINYINT":
		n, ok := v["value"].(json.Number)
		if !ok {
			return nil, c.malformed("integer constant")
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil {
			return nil, c.malformed("integer constant")
		}
		return &ast.Literal{Span: sp, Kind: ast.LitInt, Int: i}, nil
	case "DECIMAL":
		n, ok := v["value"].(json.Number)
		info := obj(typ["type_info"])
		scale, ok2 := info["scale"].(json.Number)
		if !ok || !ok2 {
			return nil, c.malformed("decimal constant")
		}
		digits, ok := new(big.Int).SetString(n.String(), 10)
		s, err := scale.Int64()
		if !ok || err != nil || s < 0 || s > 38 {
			return nil, c.malformed("decimal constant")
		}
		text := decimalText(digits, int(s))
		want, _ := new(big.Rat).SetString(text)
		return &ast.Literal{Span: sp, Kind: ast.LitNumber, Text: c.numberText(sp, text, func(r *big.Rat, _ float64) bool { return r.Cmp(want) == 0 })}, nil
	case "DOUBLE":
		n, ok := v["value"].(json.Number)
		if !ok {
			return nil, c.malformed("double constant")
		}
		f, err := strconv.ParseFloat(n.String(), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, c.malformed("double constant")
		}
		return &ast.Literal{Span: sp, Kind: ast.LitNumber, Text: c.numberText(sp, strconv.FormatFloat(f, 'g', -1, 64), func(_ *big.Rat, g float64) bool { return g == f })}, nil
	case "VARCHAR":
		s, ok := v["value"].(string)
		if !ok {
			return nil, c.malformed("string constant")
		}
		return &ast.Literal{Span: sp, Kind: ast.LitString, Text: s}, nil
	case "BOOLEAN":
		b, ok := v["value"].(bool)
		if !ok {
			return nil, c.malformed("boolean constant")
		}
		return &ast.Literal{Span: sp, Kind: ast.LitBool, Bool: b}, nil
	case "HUGEINT", "UHUGEINT", "UBIGINT":
		return nil, c.unsupported(m, "integer constants beyond 64 bits")
	default:
		return nil, c.unsupported(m, "constants of type "+strings.ToLower(id))
	}
}

// numberText spells a number constant as the query wrote it — the
// source token at its location, with the minus sign DuckDB's parser folds
// into the constant — when that reads back to the same value (same
// reports whether it does); else it is def, the constant's own spelling.
// DuckDB keeps only the value: a DOUBLE's shortest spelling
// (9.007199254740992e+15) is not the literal a target that reads numbers
// exactly (PostgreSQL's numeric) must see, and DECIMAL -0.0 lost its sign.
func (c *conv) numberText(sp ast.Span, def string, same func(*big.Rat, float64) bool) string {
	if sp.Start < 0 {
		return def
	}
	src := c.sql[sp.Start:]
	sign := ""
	if strings.HasPrefix(src, "-") {
		sign, src = "-", src[1:]
	}
	t, ok := sqllex.New(src, sqllex.DuckDB).Next()
	if !ok || t.Kind != sqllex.Number || t.Start != 0 {
		return def
	}
	text := sign + t.Text(src)
	r, ok := new(big.Rat).SetString(text)
	f, err := strconv.ParseFloat(text, 64)
	if !ok || err != nil || !same(r, f) {
		return def
	}
	return text
}

// decimalText spells digits·10^-scale the way it was written.
func decimalText(digits *big.Int, scale int) string {
	neg := digits.Sign() < 0
	s := new(big.Int).Abs(digits).String()
	if scale > 0 {
		for len(s) <= scale {
			s = "0" + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func (c *conv) typ(m map[string]any, t map[string]any) (ast.Type, error) {
	if t == nil {
		return ast.Type{}, c.malformed("cast type")
	}
	var out ast.Type
	switch id := str(t, "id"); id {
	case "BOOLEAN":
		out.Kind = ast.TypeBool
	case "SMALLINT":
		out.Kind = ast.TypeSmallInt
	case "INTEGER":
		out.Kind = ast.TypeInt
	case "BIGINT":
		out.Kind = ast.TypeBigInt
	case "FLOAT":
		out.Kind = ast.TypeReal
	case "DOUBLE":
		out.Kind = ast.TypeDouble
	case "DECIMAL":
		info := obj(t["type_info"])
		w, ok := info["width"].(json.Number)
		s, ok2 := info["scale"].(json.Number)
		wi, err := w.Int64()
		si, err2 := s.Int64()
		if !ok || !ok2 || err != nil || err2 != nil || wi <= 0 || wi > 38 || si < 0 || si > wi {
			return out, c.malformed("DECIMAL type")
		}
		out = ast.Type{Kind: ast.TypeNumeric, Precision: int(wi), Scale: int(si)}
	case "VARCHAR":
		// DuckDB reads text, string and varchar(n) alike: one VARCHAR
		// without a length.
		out.Kind = ast.TypeVarchar
	case "DATE":
		out.Kind = ast.TypeDate
	case "TIMESTAMP":
		out.Kind = ast.TypeTimestamp
	case "TIMESTAMP WITH TIME ZONE":
		out.Kind = ast.TypeTimestampTZ
	case "INTERVAL":
		out.Kind = ast.TypeInterval
	default:
		return out, c.unsupported(m, "type "+strings.ToLower(id))
	}
	if info := obj(t["type_info"]); info != nil && out.Kind != ast.TypeNumeric {
		if err := c.keys(info, "a type", "alias", "modifiers", "extension_info"); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (c *conv) cast(m map[string]any, sc *scope) (ast.Expr, error) {
	if boolean(m, "try_cast") {
		return nil, c.unsupported(m, "TRY_CAST")
	}
	if err := c.keys(m, "a cast", "cast_type", "child"); err != nil {
		return nil, err
	}
	t, err := c.typ(m, obj(m["cast_type"]))
	if err != nil {
		return nil, err
	}
	sp := c.span(m)
	child := obj(m["child"])
	if v := obj(child["value"]); str(child, "class") == "CONSTANT" && !boolean(v, "is_null") && str(obj(v["type"]), "id") == "VARCHAR" {
		s, _ := v["value"].(string)
		// DuckDB's parser reads TRUE and FALSE as 't'::BOOLEAN and
		// 'f'::BOOLEAN.
		if t.Kind == ast.TypeBool && (s == "t" || s == "f") {
			return &ast.Literal{Span: sp, Kind: ast.LitBool, Bool: s == "t"}, nil
		}
		if e, ok, err := pgparse.TypedString(c.sql, sp, s, t); ok {
			return e, err
		}
	}
	x, err := c.expr(child, sc)
	if err != nil {
		return nil, err
	}
	return &ast.Cast{Span: sp, X: x, Type: t}, nil
}

func (c *conv) operator(m map[string]any, sc *scope) (ast.Expr, error) {
	if err := c.keys(m, "an operator", "children"); err != nil {
		return nil, err
	}
	sp := c.span(m)
	args, err := c.exprs(m["children"], sc)
	if err != nil {
		return nil, err
	}
	one := func() error {
		if len(args) != 1 {
			return c.malformed(str(m, "type"))
		}
		return nil
	}
	switch t := str(m, "type"); t {
	case "OPERATOR_NOT":
		if err := one(); err != nil {
			return nil, err
		}
		// NOT over IN (subquery), EXISTS, BETWEEN and ~ is their negated
		// form, as pg_query writes it.
		if pgparse.FoldNotSublink(args[0]) {
			return args[0], nil
		}
		switch x := args[0].(type) {
		case *ast.Between:
			x.Not = !x.Not
			return x, nil
		case *ast.RegexMatch:
			// DuckDB's parser writes x !~ p as NOT regexp_full_match(x, p).
			x.Not = !x.Not
			return x, nil
		}
		return &ast.Unary{Span: sp, Op: ast.Not, X: args[0]}, nil
	case "OPERATOR_IS_NULL", "OPERATOR_IS_NOT_NULL":
		if err := one(); err != nil {
			return nil, err
		}
		return &ast.IsNull{Span: sp, X: args[0], Not: t == "OPERATOR_IS_NOT_NULL"}, nil
	case "COMPARE_IN", "COMPARE_NOT_IN":
		if len(args) < 2 {
			return nil, c.malformed("IN")
		}
		return &ast.InList{Span: sp, X: args[0], List: args[1:], Not: t == "COMPARE_NOT_IN"}, nil
	case "OPERATOR_COALESCE":
		if len(args) == 0 {
			return nil, c.malformed("COALESCE")
		}
		return &ast.Func{Span: sp, Name: "coalesce", Args: args}, nil
	case "ARRAY_EXTRACT", "ARRAY_SLICE", "STRUCT_EXTRACT":
		return nil, c.unsupported(m, "subscripts and field selection")
	case "ARRAY_CONSTRUCTOR":
		return nil, c.unsupported(m, "ARRAY constructors")
	case "OPERATOR_TRY":
		return nil, c.unsupported(m, "TRY")
	}
	return nil, c.unsupported(m, "operator "+strings.ToLower(strings.TrimPrefix(str(m, "type"), "OPERATOR_")))
}

func (c *conv) caseExpr(m map[string]any, sc *scope) (ast.Expr, error) {
	if err := c.keys(m, "CASE", "case_checks", "else_expr"); err != nil {
		return nil, err
	}
	out := &ast.Case{Span: c.span(m)}
	for _, x := range list(m["case_checks"]) {
		w := obj(x)
		if err := c.keys(w, "a WHEN", "when_expr", "then_expr"); err != nil {
			return nil, err
		}
		cond, err := c.expr(obj(w["when_expr"]), sc)
		if err != nil {
			return nil, err
		}
		res, err := c.expr(obj(w["then_expr"]), sc)
		if err != nil {
			return nil, err
		}
		out.Whens = append(out.Whens, &ast.When{Cond: cond, Result: res})
	}
	if len(out.Whens) == 0 {
		return nil, c.malformed("CASE")
	}
	if e := obj(m["else_expr"]); e != nil {
		x, err := c.expr(e, sc)
		if err != nil {
			return nil, err
		}
		// DuckDB's parser writes a missing ELSE as ELSE NULL; both mean
		// the same and the pg_query front end leaves it out.
		if l, ok := x.(*ast.Literal); !ok || l.Kind != ast.LitNull {
			out.Else = x
		}
	}
	return out, nil
}

func (c *conv) subquery(m map[string]any, sc *scope) (ast.Expr, error) {
	if err := c.keys(m, "a subquery", "subquery", "subquery_type", "child", "comparison_type"); err != nil {
		return nil, err
	}
	sp := c.span(m)
	sq := obj(m["subquery"])
	if err := c.keys(sq, "a subquery", "node"); err != nil {
		return nil, err
	}
	q, err := c.query(obj(sq["node"]), nil)
	if err != nil {
		return nil, err
	}
	switch str(m, "subquery_type") {
	case "SCALAR":
		return &ast.Subquery{Span: sp, Query: q}, nil
	case "EXISTS":
		return &ast.Exists{Span: sp, Query: q}, nil
	case "NOT_EXISTS":
		return &ast.Exists{Span: sp, Query: q, Not: true}, nil
	case "ANY":
		if str(m, "comparison_type") != "COMPARE_EQUAL" {
			return nil, c.unsupported(m, "a comparison with ANY (subquery) other than =")
		}
		x, err := c.expr(obj(m["child"]), sc)
		if err != nil {
			return nil, err
		}
		return &ast.InSubquery{Span: sp, X: x, Query: q}, nil
	}
	return nil, c.unsupported(m, "this subquery form (ALL, ARRAY, row comparison)")
}

// ---- functions ----

// binaryOps are DuckDB's operator functions with an AST operator.
var binaryOps = map[string]ast.BinaryOp{
	"+": ast.OpAdd, "-": ast.OpSub, "*": ast.OpMul, "/": ast.OpDiv, "%": ast.OpMod, "||": ast.OpConcat,
}

// likeOps are DuckDB's LIKE operator functions: negated, case-insensitive.
var likeOps = map[string][2]bool{
	"~~": {false, false}, "!~~": {true, false}, "~~*": {false, true}, "!~~*": {true, true},
	"like_escape": {false, false}, "not_like_escape": {true, false}, "ilike_escape": {false, true}, "not_ilike_escape": {true, true},
}

// intervalUnits are the functions DuckDB's parser writes INTERVAL n UNIT
// as, and the interval one unit is.
var intervalUnits = map[string]ast.Interval{
	"to_years": {Months: 12}, "to_months": {Months: 1}, "to_weeks": {Days: 7}, "to_days": {Days: 1},
	"to_hours": {Micros: 3_600_000_000}, "to_minutes": {Micros: 60_000_000}, "to_seconds": {Micros: 1_000_000},
	"to_milliseconds": {Micros: 1000}, "to_microseconds": {Micros: 1},
}

// constructorFuncs are functions DuckDB's parser writes literal syntax as.
var constructorFuncs = map[string]string{
	"list_value": "list literals", "struct_pack": "struct literals", "row": "row constructors",
	"map": "MAP literals", "array_value": "array literals", "unnest": "UNNEST", "unlist": "UNNEST",
}

func (c *conv) function(m map[string]any, sc *scope) (ast.Expr, error) {
	if err := c.keys(m, "a function call", "function_name", "schema", "children", "distinct", "filter", "order_bys", "is_operator", "catalog"); err != nil {
		return nil, err
	}
	if str(m, "catalog") != "" || str(m, "schema") != "" && str(m, "schema") != "main" {
		return nil, c.unsupported(m, "a schema-qualified function")
	}
	sp := c.span(m)
	name := strings.ToLower(str(m, "function_name"))
	if name == "" {
		return nil, c.malformed("function call")
	}
	if what, ok := constructorFuncs[name]; ok {
		return nil, c.unsupported(m, what)
	}
	if unit, ok := intervalUnits[name]; ok {
		if iv, ok, err := c.intervalUnit(m, name, unit); ok || err != nil {
			return iv, err
		}
	}
	args, err := c.exprs(m["children"], sc)
	if err != nil {
		return nil, err
	}
	var order []*ast.OrderItem
	var nulls []bool
	if ob := obj(m["order_bys"]); ob != nil {
		if err := c.keys(ob, "ORDER BY in a call", "orders"); err != nil {
			return nil, err
		}
		for _, o := range list(ob["orders"]) {
			it, err := c.orderItem(obj(o), sc)
			if err != nil {
				return nil, err
			}
			order = append(order, it)
			nulls = append(nulls, explicitNulls(obj(o)))
		}
	}
	var filter ast.Expr
	if f := obj(m["filter"]); f != nil {
		if filter, err = c.expr(f, sc); err != nil {
			return nil, err
		}
	}
	distinct := boolean(m, "distinct")
	plain := !distinct && order == nil && filter == nil
	if lk, ok := likeOps[name]; ok && plain {
		return c.like(m, sp, lk, args)
	}
	if boolean(m, "is_operator") || name == "//" || name == "^" || name == "**" {
		if !plain {
			return nil, c.malformed("operator call")
		}
		return c.operatorCall(m, sp, name, args, sc)
	}
	call := pgparse.Call{Span: sp, Name: name, Args: args, Distinct: distinct, Order: order, OrderNulls: nulls, Filter: filter}
	switch {
	case name == "count_star":
		if len(args) != 0 {
			return nil, c.malformed("count(*)")
		}
		call.Name, call.Star = "count", true
	case (name == "quantile_cont" || name == "quantile_disc") && len(args) == 1 && len(order) == 1:
		// DuckDB writes percentile_cont(f) WITHIN GROUP (ORDER BY x) as
		// quantile_cont(f ORDER BY x).
		call.Name, call.WithinGroup = "percentile"+strings.TrimPrefix(name, "quantile"), true
	}
	return pgparse.ConvertCall(c.sql, pgparse.Arc, call)
}

// intervalUnit reads INTERVAL n UNIT, which DuckDB's parser writes as
// to_unit(CAST(trunc(CAST(n AS DOUBLE)) AS INTEGER|BIGINT)). Only an
// integer constant n is an interval constant; anything else stays a call
// (and a target without to_unit refuses it).
func (c *conv) intervalUnit(m map[string]any, name string, unit ast.Interval) (ast.Expr, bool, error) {
	ch := list(m["children"])
	if len(ch) != 1 || m["filter"] != nil || boolean(m, "distinct") {
		return nil, false, nil
	}
	// Whole units are truncated to an integer first; seconds and finer
	// take the DOUBLE as it is.
	inner := obj(ch[0])
	if trunc := obj(inner["child"]); str(inner, "class") == "CAST" && str(trunc, "function_name") == "trunc" {
		if len(list(trunc["children"])) != 1 {
			return nil, false, nil
		}
		inner = obj(list(trunc["children"])[0])
	}
	k := obj(inner["child"])
	v := obj(k["value"])
	if str(inner, "class") != "CAST" || str(obj(inner["cast_type"]), "id") != "DOUBLE" || str(k, "class") != "CONSTANT" || boolean(v, "is_null") {
		return nil, false, nil
	}
	var n int64
	switch str(obj(v["type"]), "id") {
	case "INTEGER", "BIGINT":
		num, ok := v["value"].(json.Number)
		i, err := num.Int64()
		if !ok || err != nil {
			return nil, false, nil
		}
		n = i
	case "VARCHAR":
		s, _ := v["value"].(string)
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, true, c.unsupported(m, "INTERVAL '"+s+"' "+strings.ToUpper(strings.TrimPrefix(name, "to_"))+" with a non-integer count")
		}
		n = i
	default:
		return nil, true, c.unsupported(m, "INTERVAL n "+strings.ToUpper(strings.TrimPrefix(name, "to_"))+" with a non-integer count (DuckDB truncates it)")
	}
	iv := &ast.Interval{Span: c.span(m)}
	const lim = math.MaxInt32
	switch {
	case unit.Months != 0:
		if n > lim/12 || n < -lim/12 {
			return nil, true, c.unsupported(m, "an interval this large")
		}
		iv.Months = int32(n * int64(unit.Months))
	case unit.Days != 0:
		if n > lim/7 || n < -lim/7 {
			return nil, true, c.unsupported(m, "an interval this large")
		}
		iv.Days = int32(n * int64(unit.Days))
	default:
		if n > math.MaxInt64/unit.Micros || n < math.MinInt64/unit.Micros {
			return nil, true, c.unsupported(m, "an interval this large")
		}
		iv.Micros = n * unit.Micros
	}
	return iv, true, nil
}

func (c *conv) operatorCall(m map[string]any, sp ast.Span, name string, args []ast.Expr, sc *scope) (ast.Expr, error) {
	if len(args) == 1 {
		switch name {
		case "-":
			return &ast.Unary{Span: sp, Op: ast.Neg, X: args[0]}, nil
		case "+":
			return args[0], nil
		}
		return nil, c.unsupported(m, "prefix operator "+name)
	}
	if len(args) != 2 {
		return nil, c.malformed("operator " + name)
	}
	l, r := args[0], args[1]
	if op, ok := binaryOps[name]; ok {
		if op == ast.OpMul {
			if tb := pgparse.GrafanaBucket(l, r, sp); tb != nil {
				return tb, nil
			}
		}
		return &ast.Binary{Span: sp, Op: op, L: l, R: r}, nil
	}
	switch name {
	case "//":
		return c.intDiv(m, sp, l, r, sc)
	case "^", "**":
		return &ast.Func{Span: sp, Name: "power", Args: []ast.Expr{l, r}}, nil
	case "~~~":
		return nil, c.unsupported(m, "GLOB")
	case "&", "|", "<<", ">>", "#", "~":
		return nil, c.unsupported(m, "bitwise operator "+name)
	}
	return nil, c.unsupported(m, "operator "+name)
}

// intDiv is DuckDB's //: on two integers it divides truncating toward zero
// (-7 // 2 is -3; by zero it is NULL), which is the AST's OpIntDiv; on
// anything else it is true division (-7.5 // 2 is -3.75), the AST's
// OpDiv. Which one needs the operands' types: tsgate refuses what it
// cannot tell.
func (c *conv) intDiv(m map[string]any, sp ast.Span, l, r ast.Expr, sc *scope) (ast.Expr, error) {
	lk, rk := c.numKind(l, sc), c.numKind(r, sc)
	switch {
	case lk == kindInt && rk == kindInt:
		return &ast.Binary{Span: sp, Op: ast.OpIntDiv, L: l, R: r}, nil
	case lk == kindFrac && rk != kindOther || rk == kindFrac && lk != kindOther:
		return &ast.Binary{Span: sp, Op: ast.OpDiv, L: l, R: r}, nil
	}
	return nil, &errs.Error{Code: errs.Unsupported, Position: pos1(c.sql, sp.Start),
		Msg:  "// on operands whose types tsgate cannot tell: DuckDB's // truncates integers and divides anything else exactly",
		Hint: "cast the operands: CAST(a AS BIGINT) // CAST(b AS BIGINT), or use / for true division"}
}

type numberKind uint8

const (
	kindUnknown numberKind = iota
	kindInt
	kindFrac
	// kindOther is a value // does not divide (a string, a time).
	kindOther
)

// numKind reads e's number class with the generators' inference
// (translate/types, DuckDB semantics), typing columns from the scope: the
// time column is a time, tags are strings.
func (c *conv) numKind(e ast.Expr, sc *scope) numberKind {
	k := types.Of(e, types.Env{Column: func(r *ast.ColumnRef) types.Kind {
		if strings.EqualFold(r.Name, "time") && sc != nil && (r.Table == "" || strings.EqualFold(r.Table, sc.table.Name) || strings.EqualFold(r.Table, sc.table.Alias)) {
			return types.KTime
		}
		col, ok := sc.column(r)
		switch {
		case !ok:
			return types.KUnknown
		case col.Tag:
			return types.KString
		}
		return types.FromField(col.Type)
	}})
	switch k {
	case types.KInt, types.KHugeInt:
		return kindInt
	case types.KFloat, types.KDecimal:
		return kindFrac
	case types.KUnknown:
		return kindUnknown
	}
	return kindOther
}

func (c *conv) like(m map[string]any, sp ast.Span, lk [2]bool, args []ast.Expr) (ast.Expr, error) {
	if len(args) != 2 && len(args) != 3 {
		return nil, c.malformed("LIKE")
	}
	// DuckDB's LIKE has no escape character unless ESCAPE names one.
	out := &ast.Like{Span: sp, X: args[0], Pattern: args[1], Not: lk[0], CaseInsensitive: lk[1]}
	if len(args) == 3 {
		e, ok := args[2].(*ast.Literal)
		if !ok || e.Kind != ast.LitString || utf8.RuneCountInString(e.Text) > 1 {
			return nil, c.unsupported(m, "an ESCAPE that is not a single-character constant")
		}
		out.Escape = e.Text
	}
	return out, nil
}

// windowBounds maps DuckDB's frame bound names to the AST's.
var windowBounds = map[string]struct {
	kind ast.BoundKind
	mode ast.FrameMode // 0: either
}{
	"UNBOUNDED_PRECEDING": {ast.UnboundedPreceding, 0}, "UNBOUNDED_FOLLOWING": {ast.UnboundedFollowing, 0},
	"CURRENT_ROW_RANGE": {ast.CurrentRow, ast.FrameRange}, "CURRENT_ROW_ROWS": {ast.CurrentRow, ast.FrameRows},
	"EXPR_PRECEDING_ROWS": {ast.Preceding, ast.FrameRows}, "EXPR_FOLLOWING_ROWS": {ast.Following, ast.FrameRows},
	"EXPR_PRECEDING_RANGE": {ast.Preceding, ast.FrameRange}, "EXPR_FOLLOWING_RANGE": {ast.Following, ast.FrameRange},
}

func (c *conv) window(m map[string]any, sc *scope) (ast.Expr, error) {
	if err := c.keys(m, "a window function", "function_name", "children", "partitions", "orders", "start", "end",
		"start_expr", "end_expr", "offset_expr", "default_expr", "distinct", "filter_expr", "ignore_nulls", "exclude_clause", "schema", "catalog", "arg_orders"); err != nil {
		return nil, err
	}
	if boolean(m, "ignore_nulls") {
		return nil, c.unsupported(m, "IGNORE NULLS")
	}
	if ex := str(m, "exclude_clause"); ex != "" && ex != "NO_OTHER" {
		return nil, c.unsupported(m, "EXCLUDE in a window frame")
	}
	if len(list(m["arg_orders"])) > 0 {
		return nil, c.unsupported(m, "ORDER BY inside a window function's arguments")
	}
	if str(m, "catalog") != "" || str(m, "schema") != "" && str(m, "schema") != "main" {
		return nil, c.unsupported(m, "a schema-qualified function")
	}
	sp := c.span(m)
	w := &ast.Window{Span: sp}
	var err error
	if parts := list(m["partitions"]); len(parts) > 0 {
		if w.PartitionBy, err = c.exprs(parts, sc); err != nil {
			return nil, err
		}
	}
	for _, o := range list(m["orders"]) {
		it, err := c.orderItem(obj(o), sc)
		if err != nil {
			return nil, err
		}
		w.OrderBy = append(w.OrderBy, it)
	}
	if w.Frame, err = c.frame(m, sc); err != nil {
		return nil, err
	}
	name := strings.ToLower(str(m, "function_name"))
	args, err := c.exprs(m["children"], sc)
	if err != nil {
		return nil, err
	}
	var filter ast.Expr
	if f := obj(m["filter_expr"]); f != nil {
		if filter, err = c.expr(f, sc); err != nil {
			return nil, err
		}
	}
	switch t := str(m, "type"); t {
	case "WINDOW_AGGREGATE":
	case "WINDOW_LAG", "WINDOW_LEAD", "WINDOW_NTH_VALUE":
		for _, k := range []string{"offset_expr", "default_expr"} {
			if x := obj(m[k]); x != nil {
				e, err := c.expr(x, sc)
				if err != nil {
					return nil, err
				}
				args = append(args, e)
			}
		}
	case "WINDOW_ROW_NUMBER", "WINDOW_RANK", "WINDOW_RANK_DENSE", "WINDOW_PERCENT_RANK", "WINDOW_CUME_DIST",
		"WINDOW_NTILE", "WINDOW_FIRST_VALUE", "WINDOW_LAST_VALUE":
	default:
		return nil, c.unsupported(m, "window function "+name)
	}
	if t := str(m, "type"); t != "WINDOW_LAG" && t != "WINDOW_LEAD" && t != "WINDOW_NTH_VALUE" && (m["offset_expr"] != nil || m["default_expr"] != nil) {
		return nil, c.malformed("window function")
	}
	call := pgparse.Call{Span: sp, Name: name, Args: args, Distinct: boolean(m, "distinct"), Filter: filter, Over: w}
	if name == "count_star" {
		if len(args) != 0 {
			return nil, c.malformed("count(*)")
		}
		call.Name, call.Star = "count", true
	}
	return pgparse.ConvertCall(c.sql, pgparse.Arc, call)
}

// frame reads a window's frame; DuckDB's default (RANGE BETWEEN UNBOUNDED
// PRECEDING AND CURRENT ROW) is no frame, as in the pg_query front end.
func (c *conv) frame(m map[string]any, sc *scope) (*ast.Frame, error) {
	start, end := str(m, "start"), str(m, "end")
	if start == "UNBOUNDED_PRECEDING" && end == "CURRENT_ROW_RANGE" && m["start_expr"] == nil && m["end_expr"] == nil {
		return nil, nil
	}
	s, ok := windowBounds[start]
	e, ok2 := windowBounds[end]
	if !ok || !ok2 {
		return nil, c.unsupported(m, "this window frame (GROUPS, or a bound tsgate does not model)")
	}
	if s.kind == ast.UnboundedFollowing || e.kind == ast.UnboundedPreceding {
		return nil, c.unsupported(m, "inverted frame bounds")
	}
	mode := s.mode
	if mode == 0 {
		mode = e.mode
	} else if e.mode != 0 && e.mode != mode {
		return nil, c.malformed("window frame")
	}
	if mode == 0 {
		// UNBOUNDED PRECEDING to UNBOUNDED FOLLOWING: the whole partition
		// in either mode.
		mode = ast.FrameRows
	}
	f := &ast.Frame{Mode: mode, Start: ast.FrameBound{Kind: s.kind}, End: ast.FrameBound{Kind: e.kind}}
	for _, b := range []struct {
		bound *ast.FrameBound
		key   string
	}{{&f.Start, "start_expr"}, {&f.End, "end_expr"}} {
		x := obj(m[b.key])
		needs := b.bound.Kind == ast.Preceding || b.bound.Kind == ast.Following
		if needs != (x != nil) {
			return nil, c.malformed("window frame")
		}
		if x != nil {
			e, err := c.expr(x, sc)
			if err != nil {
				return nil, err
			}
			b.bound.Offset = e
		}
	}
	return f, nil
}
