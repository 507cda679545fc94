package duckdbsql

import (
	"tsgate/dialects/postgres"
	"tsgate/translate/ast"
	"tsgate/translate/sqlgen"
	"tsgate/translate/target"
)

// New returns the DuckDB SQL generator.
func New() target.Generator { return &sqlgen.Generator{D: Dialect()} }

// Dialect is DuckDB's description as a translation target.
func Dialect() *sqlgen.Dialect {
	return &sqlgen.Dialect{
		Name: "duckdb",
		Caps: target.CapJoin | target.CapSubquery | target.CapCTE | target.CapWindow | target.CapCase |
			target.CapSetOp | target.CapHaving | target.CapDistinct | target.CapOffset | target.CapILike |
			target.CapRegex | target.CapRegexFull | target.CapParams | target.CapOuterJoin | target.CapDistinctOn,
		Funcs: postgres.Funcs(),
		Aggs: map[ast.AggKind]sqlgen.AggSpec{
			ast.AggCount: {Name: "count"}, ast.AggSum: {Name: "sum"}, ast.AggAvg: {Name: "avg"},
			ast.AggMin: {Name: "min"}, ast.AggMax: {Name: "max"},
			ast.AggStddevSamp: {Name: "stddev_samp"}, ast.AggStddevPop: {Name: "stddev_pop"},
			ast.AggVarSamp: {Name: "var_samp"}, ast.AggVarPop: {Name: "var_pop"},
			ast.AggBoolAnd: {Name: "bool_and"}, ast.AggBoolOr: {Name: "bool_or"},
			ast.AggMedian:         {Name: "median"},
			ast.AggFirst:          {Print: func(g *sqlgen.Gen, a *ast.Agg) { call2(g, a, "arg_min", a.Arg, a.By) }},
			ast.AggLast:           {Print: func(g *sqlgen.Gen, a *ast.Agg) { call2(g, a, "arg_max", a.Arg, a.By) }},
			ast.AggPercentileCont: {Print: func(g *sqlgen.Gen, a *ast.Agg) { call2(g, a, "quantile_cont", a.Arg, a.Fraction) }},
			ast.AggPercentileDisc: {Print: func(g *sqlgen.Gen, a *ast.Agg) { call2(g, a, "quantile_disc", a.Arg, a.Fraction) }},
			ast.AggApproxQuantile: {Print: func(g *sqlgen.Gen, a *ast.Agg) { call2(g, a, "approx_quantile", a.Arg, a.Fraction) }},
		},
		Types: map[ast.TypeKind]string{
			ast.TypeBool: "BOOLEAN", ast.TypeSmallInt: "SMALLINT", ast.TypeInt: "INTEGER", ast.TypeBigInt: "BIGINT",
			ast.TypeReal: "REAL", ast.TypeDouble: "DOUBLE", ast.TypeNumeric: "DECIMAL", ast.TypeText: "VARCHAR",
			ast.TypeVarchar: "VARCHAR", ast.TypeDate: "DATE", ast.TypeTimestamp: "TIMESTAMP",
			ast.TypeTimestampTZ: "TIMESTAMPTZ", ast.TypeInterval: "INTERVAL",
		},
		Extract:       extractFields(),
		QuoteIdent:    ast.QuoteIdentPG,
		QuoteString:   ast.QuoteStringPG,
		NullsLastDesc: true,
		LikeEscape:    "",
		Bucket:        bucket,
		Regex:         regex,
		Cast:          cast,
		Binary:        binary,
	}
}

func extractFields() map[string]string {
	m := map[string]string{}
	for _, f := range []string{"epoch", "year", "quarter", "month", "week", "day", "dow", "isodow", "doy", "hour", "minute"} {
		m[f] = "EXTRACT(" + f + " FROM %s)"
	}
	return m
}

func call2(g *sqlgen.Gen, a *ast.Agg, name string, x, y ast.Expr) {
	g.W(name)
	g.W("(")
	g.Expr(x)
	g.W(", ")
	g.Expr(y)
	g.W(")")
	g.P.AggTail(a)
}

// bucket prints time_bucket, leaving out the origin when it is DuckDB's
// default for the width (2000-01-03, months 2000-01-01; computed in UTC
// for TIMESTAMPTZ).
func bucket(g *sqlgen.Gen, b *ast.TimeBucket) {
	if b.Result == ast.BucketEpochSeconds {
		// DuckDB's EXTRACT(epoch) is already a double: the canonical
		// Grafana form as is.
		g.P.Hooks = nil
		g.P.Expr(b)
		g.P.Hooks = g
		return
	}
	def := ast.Origin2000Monday
	if b.Width.Months != 0 {
		def = ast.Origin2000
	}
	g.W("time_bucket(")
	g.Expr(&b.Width)
	g.W(", ")
	g.Expr(b.Source)
	if !sqlgen.SameOrigin(b.Width, b.Origin, def) {
		g.W(", ")
		g.Expr(&ast.TimestampLit{Span: ast.NoSpan, Micros: b.Origin})
	}
	g.W(")")
}

// regex uses regexp_matches, which like PostgreSQL's ~ matches anywhere in
// the string, or regexp_full_match (DuckDB's own ~) for a whole-string
// match.
func regex(g *sqlgen.Gen, r *ast.RegexMatch) {
	if r.Not {
		g.W("NOT ")
	}
	if r.Full {
		g.W("regexp_full_match(")
	} else {
		g.W("regexp_matches(")
	}
	g.Expr(r.X)
	g.W(", ")
	g.Expr(r.Pattern)
	if r.CaseInsensitive {
		g.W(", 'i'")
	}
	g.W(")")
}

func cast(g *sqlgen.Gen, c *ast.Cast) bool {
	switch {
	case c.Type.Kind == ast.TypeNumeric && c.Type.Precision == 0:
		g.Refuse("CAST to numeric without a precision", c, "DuckDB's DECIMAL defaults to (18, 3); give the precision and scale")
		return true
	case c.Type.Kind == ast.TypeVarchar && c.Type.Length > 0:
		g.Refuse("CAST to varchar(n)", c, "DuckDB ignores the length, PostgreSQL truncates to it")
		return true
	}
	return false
}

func binary(g *sqlgen.Gen, b *ast.Binary) bool {
	if b.Op == ast.OpIntDiv {
		g.Refuse("integer division", b, "write CAST(a / b AS BIGINT) semantics explicitly: trunc(a / b)")
		return true
	}
	return false
}
