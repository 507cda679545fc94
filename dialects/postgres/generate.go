package postgres

import (
	"strconv"

	"tsgate/translate/ast"
	"tsgate/translate/sqlgen"
	"tsgate/translate/target"
)

// New returns the PostgreSQL generator.
func New() target.Generator { return &sqlgen.Generator{D: Dialect()} }

// Funcs are the scalar and window functions whose meaning is the same in
// PostgreSQL and in the source dialects (PostgreSQL and DuckDB).
func Funcs() map[string]sqlgen.FuncSpec {
	return map[string]sqlgen.FuncSpec{
		"abs": {Name: "abs", MinArgs: 1, MaxArgs: 1}, "ceil": {Name: "ceil", MinArgs: 1, MaxArgs: 1},
		"ceiling": {Name: "ceil", MinArgs: 1, MaxArgs: 1}, "floor": {Name: "floor", MinArgs: 1, MaxArgs: 1},
		"sqrt": {Name: "sqrt", MinArgs: 1, MaxArgs: 1}, "exp": {Name: "exp", MinArgs: 1, MaxArgs: 1},
		"ln": {Name: "ln", MinArgs: 1, MaxArgs: 1}, "power": {Name: "power", MinArgs: 2, MaxArgs: 2},
		"pow":   {Name: "power", MinArgs: 2, MaxArgs: 2},
		"lower": {Name: "lower", MinArgs: 1, MaxArgs: 1}, "upper": {Name: "upper", MinArgs: 1, MaxArgs: 1},
		"length": {Name: "length", MinArgs: 1, MaxArgs: 1}, "char_length": {Name: "length", MinArgs: 1, MaxArgs: 1},
		"coalesce": {Name: "coalesce", MinArgs: 1, MaxArgs: -1}, "nullif": {Name: "nullif", MinArgs: 2, MaxArgs: 2},
		"row_number": {Name: "row_number", Window: true}, "rank": {Name: "rank", Window: true},
		"dense_rank": {Name: "dense_rank", Window: true},
		"ntile":      {Name: "ntile", MinArgs: 1, MaxArgs: 1, Window: true},
		"lag":        {Name: "lag", MinArgs: 1, MaxArgs: 3, Window: true}, "lead": {Name: "lead", MinArgs: 1, MaxArgs: 3, Window: true},
		"first_value": {Name: "first_value", MinArgs: 1, MaxArgs: 1, Window: true},
		"last_value":  {Name: "last_value", MinArgs: 1, MaxArgs: 1, Window: true},
	}
}

// Dialect is PostgreSQL's description.
func Dialect() *sqlgen.Dialect {
	return &sqlgen.Dialect{
		Name:       "postgres",
		ARE:        true,
		DotNewline: true,
		// PostgreSQL types BETWEEN's bounds one by one.
		UnifyNumbers: true,
		Caps: target.CapJoin | target.CapSubquery | target.CapCTE | target.CapWindow | target.CapCase |
			target.CapSetOp | target.CapHaving | target.CapDistinct | target.CapOffset | target.CapILike |
			target.CapRegex | target.CapParams | target.CapOuterJoin | target.CapDistinctOn | target.CapPostgresSemantics,
		Funcs: Funcs(),
		Aggs: map[ast.AggKind]sqlgen.AggSpec{
			// avg and the dispersion aggregates of integers are numeric in
			// PostgreSQL, double in DuckDB: cast to keep the value's type
			// (and its JSON: 1.5, not "1.5000000000000000").
			ast.AggCount: {Name: "count"}, ast.AggSum: {Name: "sum"}, ast.AggAvg: sqlgen.FloatAgg("avg", "double precision"),
			ast.AggMin: minMax("min"), ast.AggMax: minMax("max"),
			ast.AggStddevSamp: sqlgen.FloatArgAgg("stddev_samp", "double precision"), ast.AggStddevPop: sqlgen.FloatArgAgg("stddev_pop", "double precision"),
			ast.AggVarSamp: sqlgen.FloatArgAgg("var_samp", "double precision"), ast.AggVarPop: sqlgen.FloatArgAgg("var_pop", "double precision"),
			ast.AggBoolAnd: {Name: "bool_and"}, ast.AggBoolOr: {Name: "bool_or"},
			ast.AggFirst:          {Hint: "PostgreSQL has no first/last aggregate; use the timescaledb target, or DISTINCT ON (...) ORDER BY time"},
			ast.AggLast:           {Hint: "PostgreSQL has no first/last aggregate; use the timescaledb target, or DISTINCT ON (...) ORDER BY time DESC"},
			ast.AggMedian:         {Print: func(g *sqlgen.Gen, a *ast.Agg) { percentile(g, a, "percentile_cont", nil) }},
			ast.AggPercentileCont: {Print: func(g *sqlgen.Gen, a *ast.Agg) { percentile(g, a, "percentile_cont", a.Fraction) }},
			ast.AggPercentileDisc: {Print: func(g *sqlgen.Gen, a *ast.Agg) { percentile(g, a, "percentile_disc", a.Fraction) }},
			ast.AggApproxQuantile: {Print: func(g *sqlgen.Gen, a *ast.Agg) { percentile(g, a, "percentile_cont", a.Fraction) },
				Note: "computed exactly with percentile_cont; the source's approximation may differ slightly"},
		},
		Types: map[ast.TypeKind]string{
			ast.TypeBool: "boolean", ast.TypeSmallInt: "smallint", ast.TypeInt: "integer", ast.TypeBigInt: "bigint",
			ast.TypeReal: "real", ast.TypeDouble: "double precision", ast.TypeNumeric: "numeric", ast.TypeText: "text",
			ast.TypeVarchar: "varchar", ast.TypeDate: "date", ast.TypeTimestamp: "timestamp", ast.TypeTimestampTZ: "timestamptz",
			ast.TypeInterval: "interval",
		},
		Extract:     extractFields(),
		Cast:        castExtract,
		QuoteIdent:  ast.QuoteIdentPG,
		QuoteString: ast.QuoteStringPG,
		LikeEscape:  `\`,
		Bucket:      Bucket,
		Binary:      Binary,
		Node:        node,
	}
}

// node types exponent literals as DuckDB does, refuses float aggregates
// over DISTINCT values (their order), and names a subquery in FROM that
// has no alias: PostgreSQL 15 requires one (DuckDB and PostgreSQL 16 do
// not). No column can refer to the name, so any fresh one means the same.
func node(g *sqlgen.Gen, n ast.Node) bool {
	if x, ok := n.(*ast.Extract); ok && g.Env != nil && g.Env.PostgresSemantics {
		// PostgreSQL's own EXTRACT, a numeric, is what pg wire asks for;
		// the casts in extractFields give DuckDB's types to Arc SQL.
		if _, ok := g.D.Extract[x.Field]; ok {
			g.W("EXTRACT(" + x.Field + " FROM ")
			g.Expr(x.X)
			g.W(")")
			return true
		}
	}
	if l, ok := n.(*ast.Literal); ok && l.IsDouble() &&
		(g.Env == nil || !g.Env.PostgresSemantics) {
		// A number with an exponent is a DOUBLE in DuckDB (compared with
		// a bigint as double: 9007199254740993 = 9.007199254740993e15 is
		// true there) and numeric in PostgreSQL (exact: false). Typed as
		// double precision, PostgreSQL compares as DuckDB does.
		g.W("CAST(" + l.Text + " AS double precision)")
		return true
	}
	if a, ok := n.(*ast.Agg); ok && a.Distinct && a.Arg != nil && g.TypeOf(a.Arg) == sqlgen.KFloat &&
		(g.Env == nil || !g.Env.PostgresSemantics) {
		switch a.Kind {
		case ast.AggSum, ast.AggAvg, ast.AggStddevPop, ast.AggStddevSamp, ast.AggVarPop, ast.AggVarSamp:
			// Rounding makes a float sum depend on the order it adds in:
			// DuckDB adds the distinct values in its hash table's order,
			// PostgreSQL in sorted order (1e300, -1e300 and 1e15 sum to
			// 1e15 one way, 0 the other). DuckDB's own order is the
			// answer; the gateway's DuckDB computes it.
			g.Refuse(a.Kind.String()+"(DISTINCT) of doubles", a, "the sum depends on the order the distinct values are added in; the gateway computes it as DuckDB does")
			return true
		}
	}
	t, ok := n.(*ast.SubqueryTable)
	if !ok || t.Alias != "" {
		return false
	}
	g.W("(")
	g.P.Stmt(t.Query)
	g.W(") AS ")
	g.W(ast.QuoteIdentPG(g.Fresh("subquery")))
	return true
}

func extractFields() map[string]string {
	m := map[string]string{}
	// Fields whose numbering agrees between PostgreSQL and DuckDB. second
	// and the sub-second fields differ (fraction or not) and are refused.
	// PostgreSQL's EXTRACT returns numeric; DuckDB's returns BIGINT, and
	// DOUBLE for epoch. The casts keep the result's type (and so its
	// JSON: 2, not "2") and make floor(epoch / 300) a double as in DuckDB.
	for _, f := range []string{"year", "quarter", "month", "week", "day", "dow", "isodow", "doy", "hour", "minute"} {
		m[f] = "CAST(EXTRACT(" + f + " FROM %s) AS bigint)"
	}
	m["epoch"] = "CAST(EXTRACT(epoch FROM %s) AS double precision)"
	return m
}

// castExtract prints CAST(EXTRACT(f FROM x) AS bigint) — what the EXTRACT
// format already prints — once, so PostgreSQL output re-parsed as input
// generates the same text (a fixed point) instead of a second cast.
func castExtract(g *sqlgen.Gen, c *ast.Cast) bool {
	if (c.Type.Kind == ast.TypeText || c.Type.Kind == ast.TypeVarchar) && g.TypeOf(c.X) == sqlgen.KFloat &&
		(g.Env == nil || !g.Env.PostgresSemantics) {
		// DuckDB writes 0.0, -3.0 and 1e+300; PostgreSQL 0, -3 and 1e+300.
		g.Refuse("a double cast to text", c, "PostgreSQL and DuckDB print doubles differently (0 vs 0.0)")
		return true
	}
	e, ok := c.X.(*ast.Extract)
	if !ok || g.Env != nil && g.Env.PostgresSemantics {
		// From pg wire EXTRACT prints bare (numeric): the cast is the
		// query's own.
		return false
	}
	if (e.Field == "epoch" && c.Type.Kind == ast.TypeDouble) || (e.Field != "epoch" && c.Type.Kind == ast.TypeBigInt) {
		g.Expr(e)
		return true
	}
	return false
}

func percentile(g *sqlgen.Gen, a *ast.Agg, name string, frac ast.Expr) {
	if a.Over != nil {
		g.Refuse(a.Kind.String()+" as a window function", a, "PostgreSQL's ordered-set aggregates cannot take OVER")
		return
	}
	if name == "percentile_cont" && g.TypeOf(a.Arg).Exact() && (g.Env == nil || !g.Env.PostgresSemantics) {
		// DuckDB interpolates between integers (and decimals) exactly:
		// the median of the smallest and largest bigint is -0.5.
		// PostgreSQL's percentile_cont takes double precision, where
		// both round to ±2^63 and the median is 0.
		g.Refuse(a.Kind.String()+" of exact numbers", a, "PostgreSQL interpolates in double precision, DuckDB exactly; the gateway computes it")
		return
	}
	g.W(name)
	g.W("(")
	if frac == nil {
		g.W("0.5")
	} else {
		g.Expr(frac)
	}
	g.W(") WITHIN GROUP (ORDER BY ")
	g.Expr(a.Arg)
	g.W(")")
	g.P.AggTail(a)
}

// Call prints name(args, ...); the dialects built on PostgreSQL's print
// the functions they spell differently with it.
func Call(g *sqlgen.Gen, name string, args ...ast.Expr) {
	g.W(name + "(")
	g.P.ExprList(args)
	g.W(")")
}

// AggCall2 prints a as the two-argument aggregate name(x, y), FILTER and
// OVER included.
func AggCall2(g *sqlgen.Gen, a *ast.Agg, name string, x, y ast.Expr) {
	Call(g, name, x, y)
	g.P.AggTail(a)
}

// Bucket prints a time bucket with date_bin and an explicit origin (fixed
// widths) or date_trunc (whole months, quarters, years from a year start).
func Bucket(g *sqlgen.Gen, b *ast.TimeBucket) {
	if b.Result == ast.BucketEpochSeconds {
		// Grafana's epoch arithmetic, on a double as in DuckDB:
		// PostgreSQL's EXTRACT is numeric, whose JSON is a string. From
		// pg wire, PostgreSQL's own numeric arithmetic is the answer.
		n := strconv.FormatInt(b.Width.FixedMicros()/1_000_000, 10)
		if g.Env != nil && g.Env.PostgresSemantics {
			g.W("floor(EXTRACT(epoch FROM ")
			g.Expr(b.Source)
			g.W(") / " + n + ") * " + n)
			return
		}
		g.W("floor(CAST(EXTRACT(epoch FROM ")
		g.Expr(b.Source)
		g.W(") AS double precision) / " + n + ") * " + n)
		return
	}
	if b.Width.Months == 0 {
		Call(g, "date_bin", &b.Width, b.Source, &ast.TimestampLit{Span: ast.NoSpan, Micros: b.Origin})
		return
	}
	unit := map[int32]string{1: "month", 3: "quarter", 12: "year"}[b.Width.Months]
	if unit == "" || !sqlgen.SameOrigin(b.Width, b.Origin, ast.Origin2000) {
		g.Refuse("a "+b.Width.Text()+" bucket", b, "PostgreSQL buckets months only by date_trunc: 1 month, 3 months (quarter) or 1 year")
		return
	}
	g.W("date_trunc('" + unit + "', ")
	g.Expr(b.Source)
	g.W(")")
}

// Binary makes / true division: PostgreSQL truncates integer / integer,
// so unless an operand is known to be fractional the left one is cast.
// Division and modulo by zero raise an error in PostgreSQL where DuckDB
// answers infinity, NaN or NULL, and PostgreSQL has no % of doubles: such
// operations are refused unless the divisor is known not to be zero.
func Binary(g *sqlgen.Gen, b *ast.Binary) bool {
	op := b.Op
	if g.Env != nil && g.Env.PostgresSemantics {
		if b.Op == ast.OpIntDiv {
			// The source's own bigint / bigint: it raises on 0 and on
			// the smallest value over -1, where div() (numeric) answers.
			g.Operands(b.L, "/", b.R)
			return true
		}
		op = 0 // PostgreSQL's own meaning is the one asked for
	}
	switch op {
	case ast.OpDiv:
		if !sqlgen.SafeDivision(b.L, b.R) {
			g.Refuse("division by a value that may be zero", b, "PostgreSQL raises an error where DuckDB answers infinity or NaN; the gateway computes it")
			return true
		}
	case ast.OpMod, ast.OpIntDiv:
		if !sqlgen.NonZero(b.R) {
			g.Refuse(b.Op.String()+" by a value that may be zero", b, "PostgreSQL raises an error where DuckDB answers NULL; the gateway computes it")
			return true
		}
		if b.Op == ast.OpMod && (g.TypeOf(b.L) != sqlgen.KInt || g.TypeOf(b.R) != sqlgen.KInt) {
			g.Refuse("% of non-integers", b, "PostgreSQL has no % of double precision; the gateway computes it")
			return true
		}
		if b.Op == ast.OpIntDiv {
			// div() exists only for numeric (its answer is numeric); / of
			// two bigints truncates toward zero as OpIntDiv means.
			if g.TypeOf(b.L) != sqlgen.KInt || g.TypeOf(b.R) != sqlgen.KInt {
				g.Refuse("integer division of operands not known to be integers", b, "the gateway computes it")
				return true
			}
			g.P.Binary(&ast.Binary{Span: b.Span, Op: ast.OpDiv,
				L: &ast.Cast{Span: ast.NoSpan, X: b.L, Type: ast.Type{Kind: ast.TypeBigInt}},
				R: &ast.Cast{Span: ast.NoSpan, X: b.R, Type: ast.Type{Kind: ast.TypeBigInt}}}, "/")
			return true
		}
		return false
	}
	if b.Op != ast.OpDiv || g.TypeOf(b.L) == sqlgen.KFloat || g.TypeOf(b.R) == sqlgen.KFloat {
		return false
	}
	// DuckDB's / is DOUBLE division whatever the operands, a DECIMAL
	// included, which PostgreSQL would divide as numeric (and what a
	// pg-wire client asks for: PostgreSQL semantics keep it); with neither
	// operand a double, the left one is cast and PostgreSQL converts the
	// right one too.
	if op == 0 {
		// The translator resolved PostgreSQL's / before generation:
		// integer / integer is OpIntDiv, so this / has a fractional or
		// numeric operand and PostgreSQL's own division is the answer
		// (numeric for sum(bigint) / count(*), as on PostgreSQL itself).
		return false
	}
	g.P.Binary(&ast.Binary{Span: b.Span, Op: ast.OpDiv,
		L: &ast.Cast{Span: ast.NoSpan, X: b.L, Type: ast.Type{Kind: ast.TypeDouble}}, R: b.R}, "/")
	return true
}

// minMax is min/max of anything but booleans, which PostgreSQL does not
// order (DuckDB does: false < true); bool_and/bool_or are the same for
// DuckDB's SQL, and a query from pg wire gets PostgreSQL's own error.
func minMax(name string) sqlgen.AggSpec {
	return sqlgen.AggSpec{Print: func(g *sqlgen.Gen, a *ast.Agg) {
		if g.TypeOf(a.Arg) == sqlgen.KBool && (g.Env == nil || !g.Env.PostgresSemantics) {
			g.Refuse(name+"() of a boolean", a, "PostgreSQL has no "+name+"(boolean); the gateway computes it")
			return
		}
		g.AggCall(name, a)
	}}
}
