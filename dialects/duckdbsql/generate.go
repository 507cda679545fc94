package duckdbsql

import (
	"math/big"
	"strconv"
	"strings"

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
			target.CapRegex | target.CapRegexFull | target.CapParams | target.CapOuterJoin | target.CapDistinctOn | target.CapPostgresSemantics,
		Funcs: postgres.Funcs(),
		Aggs: map[ast.AggKind]sqlgen.AggSpec{
			ast.AggCount: {Name: "count"}, ast.AggSum: {Name: "sum"}, ast.AggAvg: {Name: "avg"},
			ast.AggMin: {Name: "min"}, ast.AggMax: {Name: "max"},
			ast.AggStddevSamp: {Name: "stddev_samp"}, ast.AggStddevPop: {Name: "stddev_pop"},
			ast.AggVarSamp: {Name: "var_samp"}, ast.AggVarPop: {Name: "var_pop"},
			ast.AggBoolAnd: {Name: "bool_and"}, ast.AggBoolOr: {Name: "bool_or"},
			ast.AggMedian:         {Name: "median"},
			ast.AggFirst:          {Print: func(g *sqlgen.Gen, a *ast.Agg) { postgres.AggCall2(g, a, "arg_min", a.Arg, a.By) }},
			ast.AggLast:           {Print: func(g *sqlgen.Gen, a *ast.Agg) { postgres.AggCall2(g, a, "arg_max", a.Arg, a.By) }},
			ast.AggPercentileCont: {Print: func(g *sqlgen.Gen, a *ast.Agg) { postgres.AggCall2(g, a, "quantile_cont", a.Arg, a.Fraction) }},
			ast.AggPercentileDisc: {Print: func(g *sqlgen.Gen, a *ast.Agg) { postgres.AggCall2(g, a, "quantile_disc", a.Arg, a.Fraction) }},
			ast.AggApproxQuantile: {Print: func(g *sqlgen.Gen, a *ast.Agg) { postgres.AggCall2(g, a, "approx_quantile", a.Arg, a.Fraction) }},
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
		Node:          node,
		Prepare:       prepare,
	}
}

// node spells the functions whose meaning differs between the two source
// dialects: from Arc SQL they are DuckDB's own, from pg wire they must
// mean what they mean in PostgreSQL.
func node(g *sqlgen.Gen, n ast.Node) bool {
	if l, ok := n.(*ast.Literal); ok && l.IsDouble() &&
		g.Env != nil && g.Env.PostgresSemantics {
		pgNumeric(g, l)
		return true
	}
	if a, ok := n.(*ast.Agg); ok && pgSemantics(g) {
		if isPGAvg(g, a) {
			pgAvg(g, a)
			return true
		}
		if isIntAvg(g, a) {
			guardedAvg(g, a)
			return true
		}
		if narrowSum(g, a) {
			return true
		}
		return floatAgg(g, a) || distinctFloatSum(g, a)
	}
	if pgSemantics(g) && mixedScaleChoice(g, n) {
		return true
	}
	if x, ok := n.(*ast.Extract); ok && pgSemantics(g) {
		return pgExtract(g, x)
	}
	if b, ok := n.(*ast.Binary); ok && b.Op == ast.OpDiv && g.Marks[b] {
		pgQuotient(g, b)
		return true
	}
	if b, ok := n.(*ast.Binary); ok && b.Op == ast.OpConcat && pgSemantics(g) {
		return pgConcat(g, b)
	}
	f, ok := n.(*ast.Func)
	if !ok || f.Over != nil || len(f.Args) == 0 {
		return false
	}
	switch f.Name {
	case "length", "char_length":
		if !pgSemantics(g) {
			return false
		}
		// PostgreSQL's length is an integer (int4), DuckDB's a BIGINT:
		// the column's type is what a driver decodes.
		g.W("CAST(")
		postgres.Call(g, f.Name, f.Args...)
		g.W(" AS INTEGER)")
		return true
	case "round":
		return round(g, f)
	case "substr", "substring":
		return substr(g, f)
	case "greatest", "least":
		// Both skip NULLs and answer NULL only when every argument is.
		if !pgSemantics(g) {
			return false
		}
		postgres.Call(g, f.Name, f.Args...)
		return true
	}
	return false
}

func pgSemantics(g *sqlgen.Gen) bool { return g.Env != nil && g.Env.PostgresSemantics }

// pgExtract prints EXTRACT as PostgreSQL 14+ answers it, a numeric: whole
// fields with scale 0 (DuckDB's BIGINT as DECIMAL), epoch with scale 6
// computed exactly from the µs (DuckDB's is a double), so the column is
// numeric on the wire with PostgreSQL's digits ("1451606400.000000").
func pgExtract(g *sqlgen.Gen, x *ast.Extract) bool {
	if x.Field == "epoch" {
		g.W("(CAST(epoch_us(")
		g.Expr(x.X)
		g.W(") AS DECIMAL(38,0)) * CAST(0.000001 AS DECIMAL(38,6)))")
		return true
	}
	f, ok := g.D.Extract[x.Field]
	if !ok {
		return false // refused by name in the generic path
	}
	pre, post, _ := strings.Cut(f, "%s")
	g.W("CAST(" + pre)
	g.Expr(x.X)
	g.W(post + " AS DECIMAL(18,0))")
	return true
}

// round: PostgreSQL's round(double precision) is rint, ties to even
// (DuckDB's round_even), and integers take that overload; round(numeric)
// breaks ties away from zero like DuckDB's round of a DECIMAL. PostgreSQL has no
// round(double precision, int).
func round(g *sqlgen.Gen, f *ast.Func) bool {
	name := "round"
	if pgSemantics(g) {
		k := g.TypeOf(f.Args[0])
		switch {
		case pgRoundAvg(g, f):
			return true
		case numericAsDouble(g, f.Args[0]):
			g.Refuse("round() of a numeric quotient or average", f, "PostgreSQL rounds the exact numeric away from zero, tsgate computes a double")
			return true
		case len(f.Args) != 1:
			g.Refuse("round(x, n)", f, "PostgreSQL rounds only numeric to n places: CAST(x AS numeric(p, s)) first")
			return true
		case k == sqlgen.KFloat:
			g.W("round_even(")
			g.Expr(f.Args[0])
			g.W(", 0)")
			return true
		case k == sqlgen.KInt:
			// PostgreSQL has no round(bigint): the integer goes to
			// double precision, where it is already whole.
			g.W("CAST(")
			g.Expr(f.Args[0])
			g.W(" AS DOUBLE)")
			return true
		case !k.Exact():
			g.Refuse("round() of a value of unknown type", f, "PostgreSQL rounds double precision ties to even and numeric away from zero: cast the argument")
			return true
		}
	}
	postgres.Call(g, name, f.Args...)
	return true
}

// substr agrees with PostgreSQL for a start of at least 1 and a length of
// at least 0, given as constants: PostgreSQL counts a start below 1 as
// positions before the string, DuckDB from its end, and PostgreSQL
// rejects a negative length.
func substr(g *sqlgen.Gen, f *ast.Func) bool {
	if !pgSemantics(g) {
		postgres.Call(g, "substr", f.Args...)
		return true
	}
	var n [2]int64
	ok := len(f.Args) == 2 || len(f.Args) == 3
	for i := 1; ok && i < len(f.Args); i++ {
		n[i-1], ok = intConst(f.Args[i])
	}
	if !ok || len(f.Args) == 3 && n[1] < 0 {
		g.Refuse("substr() with a non-constant start or length, or a negative length", f,
			"PostgreSQL counts a start below 1 as positions before the string, DuckDB from its end; a negative length is an error")
		return true
	}
	start, length := n[0], n[1]
	if start >= 1 {
		postgres.Call(g, "substr", f.Args...)
		return true
	}
	// The positions before the string count against the length.
	g.W("substr(")
	g.Expr(f.Args[0])
	g.W(", 1")
	if len(f.Args) == 3 {
		g.W(", " + strconv.FormatInt(max(start+length-1, 0), 10))
	}
	g.W(")")
	return true
}

// intConst reads an integer constant, negated or not.
func intConst(e ast.Expr) (int64, bool) {
	neg := false
	if u, ok := e.(*ast.Unary); ok && u.Op == ast.Neg {
		neg, e = true, u.X
	}
	l, ok := e.(*ast.Literal)
	if !ok || l.Kind != ast.LitInt || l.Int < -1<<40 || l.Int > 1<<40 {
		return 0, false
	}
	if neg {
		return -l.Int, true
	}
	return l.Int, true
}

func extractFields() map[string]string {
	m := map[string]string{}
	for _, f := range []string{"epoch", "year", "quarter", "month", "week", "day", "dow", "isodow", "doy", "hour", "minute"} {
		m[f] = "EXTRACT(" + f + " FROM %s)"
	}
	return m
}

// bucket prints time_bucket with its origin always written out: a
// two-argument time_bucket means DuckDB's default origin (2000-01-03) to
// DuckDB but the Unix epoch to Arc, which rewrites it, and to tsgate's
// embedded store, which follows Arc (guard.Statement.Run); written out,
// the text means one thing wherever it runs.
func bucket(g *sqlgen.Gen, b *ast.TimeBucket) {
	if b.Result == ast.BucketEpochSeconds {
		// DuckDB's EXTRACT(epoch) is already a double: the canonical
		// Grafana form as is.
		g.P.Hooks = nil
		g.P.Expr(b)
		g.P.Hooks = g
		return
	}
	postgres.Call(g, "time_bucket", &b.Width, b.Source, &ast.TimestampLit{Span: ast.NoSpan, Micros: b.Origin})
}

// regex uses regexp_matches, which like PostgreSQL's ~ matches anywhere in
// the string, or regexp_full_match (DuckDB's own ~) for a whole-string
// match.
func regex(g *sqlgen.Gen, r *ast.RegexMatch) {
	if r.Not {
		// Parenthesized: NOT binds looser than IS NULL, so a bare NOT
		// f(...) IS NULL would negate the IS NULL (the fuzzer found it).
		g.W("(NOT ")
		defer g.W(")")
	}
	fn := "regexp_matches"
	if r.Full {
		fn = "regexp_full_match"
	}
	g.P.RegexCall(fn, r)
}

func cast(g *sqlgen.Gen, c *ast.Cast) bool {
	switch {
	case c.Type.Kind == ast.TypeNumeric && c.Type.Precision == 0:
		g.Refuse("CAST to numeric without a precision", c, "DuckDB's DECIMAL defaults to (18, 3); give the precision and scale")
		return true
	case c.Type.Kind == ast.TypeNumeric && pgSemantics(g) && numericAsDouble(g, c.X):
		g.Refuse("CAST to numeric of a numeric computed from a quotient or an average", c, "PostgreSQL rounds the exact numeric, tsgate computes a double")
		return true
	case c.Type.Kind == ast.TypeVarchar && c.Type.Length > 0:
		g.Refuse("CAST to varchar(n)", c, "DuckDB ignores the length, PostgreSQL truncates to it")
		return true
	case (c.Type.Kind == ast.TypeText || c.Type.Kind == ast.TypeVarchar) && pgSemantics(g):
		switch k := g.TypeOf(c.X); {
		case pgNumericText(g, c.X):
			return true
		case k == sqlgen.KFloat && !isReal(c.X):
			pgFloatText(g, c.X)
			return true
		case k == sqlgen.KFloat || k == sqlgen.KUnknown:
			g.Refuse("CAST of real or of a value of unknown type to text", c, "PostgreSQL prints floats in its own format (0, 1e+15, Infinity); cast a double precision")
			return true
		}
	case c.Type.Kind == ast.TypeDouble && pgSemantics(g):
		// A numeric constant cast to double precision is the double
		// nearest its decimal value in both engines (PostgreSQL's
		// numeric_float8 reads the digits with strtod), however many
		// digits the constant has: no DECIMAL in between.
		if l, ok := c.X.(*ast.Literal); ok && l.Kind == ast.LitNumber {
			g.W("CAST(" + g.D.QuoteString(l.Text) + " AS DOUBLE)")
			return true
		}
	case pgSemantics(g):
		if r, ok := intRanges[c.Type.Kind]; ok {
			return intCast(g, c, r)
		}
	}
	return false
}

// pgFloatText prints CAST(x AS text) of a double as PostgreSQL's float8out
// does. Both engines print the shortest digits that read back as the
// same double, and agree on the exponent form (1e+300, 1.5e-07, at least
// two exponent digits) below 1e-4 and from 1e16. They differ in three
// ways, each undone by one replacement, so x is evaluated once:
//   - DuckDB names the specials nan, inf and -inf: NaN, Infinity, -Infinity;
//   - DuckDB writes a whole number with ".0" (100.0, -0.0): 100, -0;
//   - PostgreSQL switches to the exponent form one decade earlier, at 1e15
//     (DuckDB prints 1000000000000000.0 there): 1e+15, with the mantissa's
//     trailing zeros dropped.
func pgFloatText(g *sqlgen.Gen, x ast.Expr) {
	steps := [][2]string{
		{`^nan$`, `NaN`},
		{`^(-?)inf$`, `\1Infinity`},
		{`\.0$`, ``},
		{`^(-?)([1-9])([0-9]{15})(?:\.([0-9]+))?$`, `\1\2.\3\4e+15`},
		{`\.?0*e\+15$`, `e+15`},
	}
	for range steps {
		g.W("regexp_replace(")
	}
	g.W("CAST(")
	g.Expr(x)
	g.W(" AS VARCHAR)")
	for _, st := range steps {
		g.W(", " + g.D.QuoteString(st[0]) + ", " + g.D.QuoteString(st[1]) + ")")
	}
}

// pgConcat prints || as PostgreSQL computes it: an operand that is not
// text goes to text by its type's output function, which for a double is
// float8out (100x, not DuckDB's 100.0x). Every other type DuckDB writes
// as PostgreSQL does (measured: booleans, integers, numeric, timestamps,
// dates, intervals); an operand of unknown type could be a double and is
// refused.
func pgConcat(g *sqlgen.Gen, b *ast.Binary) bool {
	operand := func(x ast.Expr) {
		switch k := g.TypeOf(x); {
		case pgNumericText(g, x):
		case k == sqlgen.KFloat && !isReal(x):
			pgFloatText(g, x)
		case k == sqlgen.KFloat || k == sqlgen.KUnknown && !isNullLiteral(x):
			g.Refuse("|| with an operand of type real or of unknown type", x, "PostgreSQL prints floats in its own format; cast the operand to text or to double precision")
		case isConcat(x):
			g.Expr(x) // parenthesized by pgConcat itself
		default:
			g.P.Operand(x, ast.PrecAtom)
		}
	}
	g.W("(")
	operand(b.L)
	g.W(" || ")
	operand(b.R)
	g.W(")")
	return true
}

func isCount(e ast.Expr) bool {
	a, ok := e.(*ast.Agg)
	return ok && a.Kind == ast.AggCount
}

func isConcat(e ast.Expr) bool {
	b, ok := e.(*ast.Binary)
	return ok && b.Op == ast.OpConcat
}

func isNullLiteral(e ast.Expr) bool {
	l, ok := e.(*ast.Literal)
	return ok && l.Kind == ast.LitNull
}

// isReal reports a value cast to real (float4), whose text PostgreSQL
// prints with float4's shortest digits, which pgFloatText does not model.
func isReal(e ast.Expr) bool {
	c, ok := e.(*ast.Cast)
	return ok && c.Type.Kind == ast.TypeReal
}

// intRange is an integer type's bounds, lo inclusive and hi exclusive
// (2^63 compares exactly against a double, 2^63-1 does not), and
// PostgreSQL's name for it.
type intRange struct {
	lo, hi, name string
}

var intRanges = map[ast.TypeKind]intRange{
	ast.TypeSmallInt: {"-32768", "32768", "smallint"},
	ast.TypeInt:      {"-2147483648", "2147483648", "integer"},
	ast.TypeBigInt:   {"-9223372036854775808", "9223372036854775808", "bigint"},
}

// intCast prints CAST(x AS an integer type) as PostgreSQL computes it: a
// double rounds half to even (rint; DuckDB rounds half away from zero),
// and a value out of the type's range — NaN and infinities included —
// raises "<type> out of range" (22003), where DuckDB raises a
// conversion error (22P02).
func intCast(g *sqlgen.Gen, c *ast.Cast, r intRange) bool {
	k := g.TypeOf(c.X)
	if k != sqlgen.KFloat && k != sqlgen.KInt && k != sqlgen.KHugeInt {
		return false
	}
	x := func() {
		if k == sqlgen.KFloat {
			g.W("round_even(")
			g.Expr(c.X)
			g.W(", 0)")
			return
		}
		g.W("(")
		g.Expr(c.X)
		g.W(")")
	}
	if k == sqlgen.KInt && c.Type.Kind == ast.TypeBigInt {
		return false // a bigint already
	}
	g.W("CASE WHEN ")
	x()
	g.W(" < " + r.lo + " OR ")
	x()
	g.W(" >= " + r.hi + " THEN " + raise("22003", r.name+" out of range") + " ELSE CAST(")
	x()
	g.W(" AS " + g.D.Types[c.Type.Kind] + ") END")
	return true
}

func binary(g *sqlgen.Gen, b *ast.Binary) bool {
	pg := g.Env != nil && g.Env.PostgresSemantics
	if pg && zeroDivide(g, b) {
		return true
	}
	switch {
	case b.Op == ast.OpIntDiv && pg && (nonZeroNorMinusOne(b.R) || isCount(b.R) && sqlgen.SafeDivision(b.L, b.R)):
		// PostgreSQL's integer / and DuckDB's // both truncate toward
		// zero; a constant divisor other than 0 and -1 leaves out the
		// cases where they part (PostgreSQL raises division by zero or
		// bigint out of range, DuckDB answers NULL), and so does a
		// count, never negative, beside an aggregate of the same rows,
		// NULL when the count is 0.
		// Parenthesized whole: // binds like * in DuckDB, tighter than
		// the printer's model of an unknown operator.
		g.Operands(b.L, "//", b.R)
		return true
	case b.Op == ast.OpIntDiv && pg:
		g.Refuse("integer division by a value that may be 0 or -1", b, "PostgreSQL raises an error there, DuckDB answers NULL or wraps")
		return true
	case b.Op == ast.OpIntDiv:
		g.Refuse("integer division", b, "write CAST(a / b AS BIGINT) semantics explicitly: trunc(a / b)")
		return true
	case pg && (b.Op == ast.OpDiv || b.Op == ast.OpMod) && !sqlgen.SafeDivision(b.L, b.R):
		g.Refuse(b.Op.String()+" by a value that may be zero", b, "PostgreSQL raises division by zero where DuckDB answers NULL")
		return true
	case pg && g.TypeOf(b) == sqlgen.KFloat && (b.Op == ast.OpAdd || b.Op == ast.OpSub || b.Op == ast.OpMul || b.Op == ast.OpDiv):
		return floatArith(g, b)
	}
	return false
}

// zeroDivide prints /, integer / and % whose divisor may be zero as
// PostgreSQL computes them, where DuckDB answers NULL, infinity or NaN:
//
//   - double / double (an integer or numeric beside a double is promoted): a zero
//     divisor raises "division by zero" (22012) unless the dividend is
//     NaN (float8div), then the overflow checks of floatArith;
//   - bigint / bigint: a zero divisor raises 22012; -1 negates, which
//     overflows (22003) for the smallest value, as int8div does;
//   - bigint % bigint: a zero divisor raises 22012; -1 answers 0 (int8mod).
//
// NULL operands answer NULL, as PostgreSQL's strict operators do. It
// declines (false) what it cannot type — numeric operands among them —
// and constant divisors the plain paths already get right.
func zeroDivide(g *sqlgen.Gen, b *ast.Binary) bool {
	lk, rk := g.TypeOf(b.L), g.TypeOf(b.R)
	ints := lk == sqlgen.KInt && rk == sqlgen.KInt
	switch b.Op {
	case ast.OpDiv:
		// A numeric beside a double is promoted to double precision.
		num := func(k sqlgen.Kind) bool { return k == sqlgen.KFloat || k == sqlgen.KInt || k == sqlgen.KDecimal }
		if sqlgen.SafeDivision(b.L, b.R) || lk != sqlgen.KFloat && rk != sqlgen.KFloat || !num(lk) || !num(rk) {
			return false
		}
	case ast.OpIntDiv, ast.OpMod:
		if nonZeroNorMinusOne(b.R) || !ints {
			return false
		}
	default:
		return false
	}
	x := func(e ast.Expr) { g.W("("); g.Expr(e); g.W(")") }
	g.W("CASE WHEN ")
	x(b.R)
	g.W(" = 0")
	// A NULL dividend answers NULL even over zero (strict operators);
	// NOT isnan(NULL) is NULL, which is not true.
	if b.Op == ast.OpDiv {
		g.W(" AND NOT isnan")
		x(b.L)
	} else {
		g.W(" AND ")
		x(b.L)
		g.W(" IS NOT NULL")
	}
	g.W(" THEN " + raise("22012", "division by zero"))
	switch b.Op {
	case ast.OpDiv:
		g.W(" ELSE ")
		floatArith(g, b)
	case ast.OpIntDiv:
		g.W(" WHEN ")
		x(b.R)
		g.W(" = -1 THEN -")
		x(b.L)
		g.W(" ELSE ")
		g.Operands(b.L, "//", b.R)
	case ast.OpMod:
		g.W(" WHEN ")
		x(b.R)
		g.W(" = -1 THEN ")
		x(b.L)
		g.W(" * 0 ELSE (")
		g.P.Binary(b, "%")
		g.W(")")
	}
	g.W(" END")
	return true
}

// floatArith prints double precision +, -, *, / as PostgreSQL computes
// them: an infinite result from finite operands raises "value out of
// range: overflow", and a zero product or quotient of non-zero finite
// operands "underflow" (SQLSTATE 22003), where DuckDB answers inf or 0:
//
//	CASE WHEN isinf(a op b) AND NOT isinf(a) AND NOT isinf(b)
//	  THEN error('tsgate:22003:value out of range: overflow') … ELSE a op b END
//
// DuckDB evaluates a THEN only for the rows that take it; Raised reads
// the error back. The operands print more than once, so nesting is
// bounded.
func floatArith(g *sqlgen.Gen, b *ast.Binary) bool {
	depth := 0
	ast.Inspect(b, func(n ast.Node) bool {
		if x, ok := n.(*ast.Binary); ok && x != b && g.TypeOf(x) == sqlgen.KFloat {
			depth++
		}
		return true
	})
	if depth > 3 {
		g.Refuse("double precision arithmetic nested this deep", b, "PostgreSQL checks every step for overflow; split the expression")
		return true
	}
	op := b.Op.String()
	r := func() { g.W("("); g.P.Binary(b, op); g.W(")") }
	x := func(e ast.Expr) { g.W("("); g.Expr(e); g.W(")") }
	g.W("CASE WHEN isinf")
	r()
	g.W(" AND NOT isinf")
	x(b.L)
	if b.Op != ast.OpDiv {
		g.W(" AND NOT isinf")
		x(b.R)
	}
	g.W(" THEN " + raise("22003", "value out of range: overflow"))
	switch b.Op {
	case ast.OpMul, ast.OpDiv:
		g.W(" WHEN ")
		r()
		g.W(" = 0 AND ")
		x(b.L)
		g.W(" <> 0 AND ")
		if b.Op == ast.OpMul {
			x(b.R)
			g.W(" <> 0")
		} else {
			g.W("NOT isinf")
			x(b.R)
		}
		g.W(" THEN " + raise("22003", "value out of range: underflow"))
	}
	g.W(" ELSE ")
	r()
	g.W(" END")
	return true
}

// floatAgg prints PostgreSQL's double precision sum, avg, stddev and
// variance where they raise "value out of range: overflow" (22003) and
// DuckDB answers inf: sum when its result is infinite from finite
// values; the others, which accumulate squares (Youngs-Cramer), when a
// value reaches 6.7e153, past which a square can overflow — PostgreSQL
// then raises or not depending on the values and their order, and tsgate
// raises rather than guess.
func floatAgg(g *sqlgen.Gen, a *ast.Agg) bool {
	switch a.Kind {
	case ast.AggSum, ast.AggAvg, ast.AggStddevSamp, ast.AggStddevPop, ast.AggVarSamp, ast.AggVarPop:
	default:
		return false
	}
	k := sqlgen.KUnknown
	if a.Arg != nil {
		k = g.TypeOf(a.Arg)
	}
	if a.Over != nil || g.Marks[a] || k != sqlgen.KFloat && (k != sqlgen.KInt || a.Kind == ast.AggSum || a.Kind == ast.AggAvg) {
		return false
	}
	if g.Marks == nil {
		g.Marks = map[ast.Node]bool{}
	}
	g.Marks[a] = true
	maxAbs := &ast.Agg{Span: a.Span, Kind: ast.AggMax, Arg: &ast.Func{Span: a.Span, Name: "abs", Args: []ast.Expr{a.Arg}}, Distinct: a.Distinct, Filter: a.Filter}
	if k == sqlgen.KInt {
		// PostgreSQL's stddev and variance of integers are numeric,
		// exact; DuckDB's are doubles, exact enough only while the
		// values are small: past 2^31 the answer is refused, at run
		// time, rather than rounded.
		lo, hi := *maxAbs, *maxAbs // abs() of the smallest bigint overflows
		lo.Kind, lo.Arg, hi.Arg = ast.AggMin, a.Arg, a.Arg
		g.W("CASE WHEN ")
		g.Expr(&hi)
		g.W(" >= 2147483648 OR ")
		g.Expr(&lo)
		g.W(" <= -2147483648 THEN " + raise("0A000", a.Kind.String()+" of integers beyond 2^31 cannot be computed exactly (PostgreSQL answers it in numeric)") + " ELSE ")
		g.Expr(a)
		g.W(" END")
		return true
	}
	g.W("CASE WHEN ")
	if a.Kind == ast.AggSum {
		g.W("isinf(")
		g.Expr(a)
		g.W(") AND NOT isinf(")
		g.Expr(maxAbs)
		g.W(")")
	} else {
		g.Expr(maxAbs)
		g.W(" >= 6.7e153")
	}
	g.W(" THEN " + raise("22003", "value out of range: overflow") + " ELSE ")
	g.Expr(a)
	g.W(" END")
	return true
}

// distinctFloatSum prints sum(DISTINCT x) of doubles adding in ascending
// order, as PostgreSQL's sort-based DISTINCT does: rounding, and whether a
// partial sum overflows, depend on the order.
func distinctFloatSum(g *sqlgen.Gen, a *ast.Agg) bool {
	if a.Kind != ast.AggSum || !a.Distinct || a.Over != nil || a.Arg == nil || g.TypeOf(a.Arg) != sqlgen.KFloat {
		return false
	}
	g.W("sum(DISTINCT ")
	g.Expr(a.Arg)
	g.W(" ORDER BY ")
	g.Expr(a.Arg)
	g.W(")")
	if a.Filter != nil {
		g.W(" FILTER (WHERE ")
		g.Expr(a.Filter)
		g.W(")")
	}
	return true
}

// raisePrefix marks an error tsgate's own SQL raises with error(): the
// SQLSTATE follows, then PostgreSQL's message.
const raisePrefix = "tsgate:"

func raise(state, msg string) string {
	return "error(" + ast.QuoteStringPG(raisePrefix+state+":"+msg) + ")"
}

// Raised reads back an error raise() put in the query: DuckDB's message
// for it is its prefix ("Invalid Input Error: ") and the argument. ok is
// false for any other message.
func Raised(engineMsg string) (state, msg string, ok bool) {
	_, rest, found := strings.Cut(engineMsg, ": "+raisePrefix)
	if !found {
		return "", "", false
	}
	state, msg, found = strings.Cut(rest, ":")
	if !found || len(state) != 5 {
		return "", "", false
	}
	return state, msg, true
}

// nonZeroNorMinusOne reports an integer constant divisor other than 0
// and -1.
func nonZeroNorMinusOne(e ast.Expr) bool {
	neg := false
	if u, ok := e.(*ast.Unary); ok && u.Op == ast.Neg {
		neg, e = true, u.X
	}
	l, ok := e.(*ast.Literal)
	if !ok || l.Kind != ast.LitInt || l.Int == 0 {
		return false
	}
	return !(neg && l.Int == 1) && l.Int != -1
}

// pgNumeric prints a number written with an exponent as PostgreSQL reads
// it: numeric, exact (DuckDB would read a DOUBLE, and compare a bigint
// with it as double: 9007199254740993 = 9.007199254740993e15 is true
// there, false in PostgreSQL). Written out in digits it is a DECIMAL in
// DuckDB, exact too; one that needs more than 38 digits is refused.
func pgNumeric(g *sqlgen.Gen, l *ast.Literal) {
	r, ok := new(big.Rat).SetString(l.Text)
	if !ok {
		g.Refuse("the number "+l.Text, l, "")
		return
	}
	// The denominator of a decimal constant is 2^a·5^b: max(a, b) digits
	// after the point write it exactly.
	twos, fives := 0, 0
	d, rem := new(big.Int).Set(r.Denom()), new(big.Int)
	for _, f := range []struct {
		p int64
		n *int
	}{{2, &twos}, {5, &fives}} {
		for *f.n <= 39 {
			q, m := new(big.Int).QuoRem(d, big.NewInt(f.p), rem)
			if m.Sign() != 0 {
				break
			}
			d, *f.n = q, *f.n+1
		}
	}
	scale := max(twos, fives)
	text := r.FloatString(scale)
	if digits := strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(text), "0"); len(digits) > 38 || scale > 38 || d.Cmp(big.NewInt(1)) != 0 {
		g.Refuse("the numeric constant "+l.Text, l, "PostgreSQL reads it as an exact numeric; DuckDB's DECIMAL holds 38 digits")
		return
	}
	if strings.HasPrefix(text, "-") {
		text = "(" + text + ")"
	}
	g.W(text)
}
