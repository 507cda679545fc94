package duckdbsql

import (
	"strconv"
	"strings"

	"tsgate/translate/ast"
	"tsgate/translate/sqlgen"
	"tsgate/translate/types"
)

// PostgreSQL's avg of integers is a numeric: numeric_div(sum, count),
// whose display scale varies by row (select_div_scale: at least 16
// significant digits), e.g. 1.5000000000000000 and 0.33333333333333333333;
// so is the quotient of integer-valued numbers such as sum(bigint) /
// count(*). DuckDB computes a double, and a DECIMAL has one scale per
// column, so the exact value is printed as PostgreSQL's text, computed in
// HUGEINT, and pg wire sends that column as numeric.
//
// Only an output column of the outermost SELECT is printed this way: its
// value is text, which an enclosing expression, comparison or sort could
// not use. Elsewhere it stays DuckDB's double (listed in
// docs/compatibility.md), and so does an output column that ORDER BY
// names (by alias, output name or position), or under DISTINCT, whose
// sort key it is. Its text (::text, ||) and round() are computed exactly
// for an average and refused otherwise.

// prepare marks the output columns pgAvg and pgQuotient print: avg of
// integers, and the quotient of two integer-valued numbers that
// PostgreSQL divides as numeric (sum(bigint) / count(*)), whose divisor is
// not 0 when the dividend is not NULL.
func prepare(g *sqlgen.Gen, q ast.Query) {
	sel, ok := q.(*ast.Select)
	if !ok || !pgSemantics(g) || sel.Distinct || len(sel.DistinctOn) > 0 {
		return
	}
	for i, it := range sel.Columns {
		var n ast.Node
		switch e := it.Expr.(type) {
		case *ast.Agg:
			if isIntAvg(g, e) && e.Over == nil {
				n = e
			}
		case *ast.Binary:
			if e.Op == ast.OpDiv && pgIntegral(g, e.L) && pgIntegral(g, e.R) && sqlgen.SafeDivision(e.L, e.R) {
				n = e
			}
		}
		if n == nil || orderNames(sel.OrderBy, i, it) {
			continue
		}
		if g.Marks == nil {
			g.Marks = map[ast.Node]bool{}
		}
		g.Marks[n] = true
	}
}

// pgIntegral reports expressions whose PostgreSQL type is an integer or
// a numeric of display scale 0 in every row: integer columns and
// constants, casts to integer types, and sums, counts, extremes and
// integer arithmetic of those. floor(i) is not one: PostgreSQL computes it
// in double precision.
func pgIntegral(g *sqlgen.Gen, e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.ColumnRef:
		return g.TypeOf(e) == sqlgen.KInt
	case *ast.Literal:
		return e.Kind == ast.LitInt
	case *ast.Cast:
		return e.Type.Kind.IsInteger()
	case *ast.Unary:
		return e.Op == ast.Neg && pgIntegral(g, e.X)
	case *ast.Agg:
		switch e.Kind {
		case ast.AggCount:
			return true
		case ast.AggSum, ast.AggMin, ast.AggMax:
			return e.Over == nil && e.Arg != nil && pgIntegral(g, e.Arg)
		}
	case *ast.Func:
		return e.Name == "abs" && len(e.Args) == 1 && pgIntegral(g, e.Args[0])
	case *ast.Binary:
		switch e.Op {
		case ast.OpAdd, ast.OpSub, ast.OpMul, ast.OpMod, ast.OpIntDiv:
			return pgIntegral(g, e.L) && pgIntegral(g, e.R)
		}
	}
	return false
}

// orderNames reports whether an ORDER BY item refers to output column i
// (item it) by position, alias or the output names avg and ?column?.
func orderNames(order []*ast.OrderItem, i int, it *ast.SelectItem) bool {
	for _, o := range order {
		switch e := o.Expr.(type) {
		case *ast.Literal:
			if e.Kind == ast.LitInt && e.Int == int64(i+1) {
				return true
			}
		case *ast.ColumnRef:
			if e.Table == "" && (e.Name == it.Alias || e.Name == "avg" || e.Name == "?column?") {
				return true
			}
		}
	}
	return false
}

// avgSQL prints the pieces of PostgreSQL's numeric_div(S, N) of two
// integer-valued numbers (display scale 0), exact in DuckDB's HUGEINT:
// avg of integers is numeric_div(sum, count).
//
//	A = |S|, and N's magnitude |N|;
//	weight and first base-10000 digit of A and of N, from their decimal
//	text: w = (len-1) // 4, f = the leading len - 4w digits;
//	qweight = wA - wN - (fA <= fN ? 1 : 0);
//	R = max(16 - 4*qweight, 0) decimal places (select_div_scale);
//	Q = A*10^R / |N| rounded half away from zero (round_var): the
//	quotient's magnitude in units of 10^-R; negative when exactly one
//	of S and N is.
//
// Each piece is printed where it is used, so the text repeats them; DuckDB
// computes the two aggregates once per group. A product past HUGEINT
// (counts beyond about 10^17) raises DuckDB's overflow error.
type avgSQL struct {
	g    *sqlgen.Gen
	s, n ast.Expr
}

func newAvgSQL(g *sqlgen.Gen, a *ast.Agg) avgSQL {
	return avgSQL{g: g,
		s: &ast.Agg{Span: a.Span, Kind: ast.AggSum, Arg: a.Arg, Distinct: a.Distinct, Filter: a.Filter},
		n: &ast.Agg{Span: a.Span, Kind: ast.AggCount, Arg: a.Arg, Distinct: a.Distinct, Filter: a.Filter},
	}
}

func (p avgSQL) huge(e ast.Expr) func() {
	return func() { p.g.W("CAST("); p.g.Expr(e); p.g.W(" AS HUGEINT)") }
}

func (p avgSQL) sum() { p.huge(p.s)() }

// count prints |N|.
func (p avgSQL) count() { p.g.W("abs("); p.huge(p.n)(); p.g.W(")") }

func (p avgSQL) abs() { p.g.W("abs("); p.sum(); p.g.W(")") }

// places prints R, an INTEGER.
func (p avgSQL) places() {
	g := p.g
	digits := func(v func()) func() { return func() { g.W("CAST("); v(); g.W(" AS VARCHAR)") } }
	length := func(v func()) func() { return func() { g.W("length("); digits(v)(); g.W(")") } }
	weight := func(v func()) func() { return func() { g.W("(("); length(v)(); g.W(" - 1) // 4)") } }
	first := func(v func()) func() {
		return func() {
			g.W("CAST(left(")
			digits(v)()
			g.W(", ")
			length(v)()
			g.W(" - 4 * ")
			weight(v)()
			g.W(") AS INTEGER)")
		}
	}
	g.W("CAST(greatest(16 - 4 * (")
	weight(p.abs)()
	g.W(" - ")
	weight(p.count)()
	g.W(" - CASE WHEN ")
	first(p.abs)()
	g.W(" <= ")
	first(p.count)()
	g.W(" THEN 1 ELSE 0 END), 0) AS INTEGER)")
}

// pow prints 10^e as a HUGEINT, e an INTEGER expression from 0 to 38
// (rpad never truncates the '1').
func (p avgSQL) pow(e func()) {
	p.g.W("CAST(rpad('1', ")
	e()
	p.g.W(" + 1, '0') AS HUGEINT)")
}

// quotient prints Q.
func (p avgSQL) quotient() {
	g := p.g
	scaled := func() {
		g.W("(")
		p.abs()
		g.W(" * ")
		p.pow(p.places)
		g.W(")")
	}
	g.W("(")
	scaled()
	g.W(" // ")
	p.count()
	g.W(" + CASE WHEN 2 * (")
	scaled()
	g.W(" % ")
	p.count()
	g.W(") >= ")
	p.count()
	g.W(" THEN 1 ELSE 0 END)")
}

// text prints sign, then q (a magnitude in units of 10^-places) with a
// point before its last places digits: q // 10^places, and q mod 10^places
// plus 10^places, a 1 and then exactly places digits, leading zeros
// included. No sign on zero: numeric has no -0.
func (p avgSQL) text(q, places func()) {
	g := p.g
	g.W("CASE WHEN (")
	p.sum()
	g.W(" < 0) <> (")
	p.huge(p.n)()
	g.W(" < 0) AND ")
	q()
	g.W(" <> 0 THEN '-' ELSE '' END || CAST(")
	q()
	g.W(" // ")
	p.pow(places)
	g.W(" AS VARCHAR) || CASE WHEN ")
	places()
	g.W(" = 0 THEN '' ELSE '.' || right(CAST(")
	q()
	g.W(" % ")
	p.pow(places)
	g.W(" + ")
	p.pow(places)
	g.W(" AS VARCHAR), ")
	places()
	g.W(") END")
}

// pgAvg prints avg(x) of integers as PostgreSQL's numeric text.
func pgAvg(g *sqlgen.Gen, a *ast.Agg) {
	p := newAvgSQL(g, a)
	g.W("CASE WHEN ")
	p.count()
	g.W(" = 0 THEN NULL ELSE ")
	p.text(p.quotient, p.places)
	g.W(" END")
}

// pgQuotient prints S / N of integer-valued numbers as PostgreSQL's
// numeric text. prepare checked that N is 0 only where S is NULL, so a 0
// divisor answers NULL as PostgreSQL's strict operator does.
func pgQuotient(g *sqlgen.Gen, b *ast.Binary) {
	p := avgSQL{g: g, s: b.L, n: b.R}
	g.W("CASE WHEN ")
	p.count()
	g.W(" = 0 THEN NULL ELSE ")
	p.text(p.quotient, p.places)
	g.W(" END")
}

// pgNumericText prints x as text when PostgreSQL's x is a numeric that
// DuckDB computes as a double, whose text would print the double's
// digits, not numeric's: avg of integers as pgAvg's exact text, anything
// else refused. It reports whether it printed x (or refused it).
func pgNumericText(g *sqlgen.Gen, x ast.Expr) bool {
	if a, ok := x.(*ast.Agg); ok && isIntAvg(g, a) && a.Over == nil {
		pgAvg(g, a)
		return true
	}
	if numericAsDouble(g, x) {
		g.Refuse("the text of a numeric computed from a quotient or an average", x, "PostgreSQL prints numeric's exact digits and display scale, tsgate computes a double; cast to double precision first")
		return true
	}
	return false
}

// numericAsDouble reports expressions PostgreSQL computes in numeric
// where DuckDB computes a double: the quotient of exact numbers (integer /
// integer is integer division, decided before generation), and avg,
// stddev and variance of them, and whatever takes its type from those.
func numericAsDouble(g *sqlgen.Gen, x ast.Expr) bool {
	exact := func(e ast.Expr) bool { return g.TypeOf(e).Exact() }
	switch e := x.(type) {
	case *ast.Agg:
		switch e.Kind {
		case ast.AggAvg, ast.AggStddevSamp, ast.AggStddevPop, ast.AggVarSamp, ast.AggVarPop:
			return e.Arg != nil && exact(e.Arg)
		case ast.AggMin, ast.AggMax, ast.AggSum:
			return e.Arg != nil && numericAsDouble(g, e.Arg)
		}
	case *ast.Binary:
		switch e.Op {
		case ast.OpDiv:
			return exact(e.L) && exact(e.R) || numericAsDouble(g, e.L) || numericAsDouble(g, e.R)
		case ast.OpAdd, ast.OpSub, ast.OpMul, ast.OpMod:
			return numericAsDouble(g, e.L) || numericAsDouble(g, e.R)
		}
	case *ast.Unary:
		return numericAsDouble(g, e.X)
	case *ast.Func:
		for _, a := range e.Args {
			if numericAsDouble(g, a) {
				return true
			}
		}
	case *ast.Case:
		for _, w := range e.Whens {
			if numericAsDouble(g, w.Result) {
				return true
			}
		}
		return e.Else != nil && numericAsDouble(g, e.Else)
	}
	return false
}

// isIntAvg reports avg of integers.
func isIntAvg(g *sqlgen.Gen, a *ast.Agg) bool {
	return a.Kind == ast.AggAvg && a.Arg != nil && g.TypeOf(a.Arg) == sqlgen.KInt
}

// guardedAvg prints avg of integers where pgAvg's text cannot stand
// (inside an expression, a comparison, a sort): DuckDB's double, which is
// the exact quotient correctly rounded while the sum is below 2^53, and
// would lose the sum's digits past it (the average of two integers near
// 2^63 would be off by hundreds), so that is refused at run time.
func guardedAvg(g *sqlgen.Gen, a *ast.Agg) {
	sum := &ast.Agg{Span: a.Span, Kind: ast.AggSum, Arg: a.Arg, Distinct: a.Distinct, Filter: a.Filter, Over: a.Over}
	g.W("CASE WHEN abs(CAST(")
	g.Expr(sum)
	g.W(" AS HUGEINT)) >= 9007199254740992 THEN " +
		raise("0A000", "avg of integers whose sum passes 2^53 inside an expression cannot be computed exactly (PostgreSQL computes it in numeric); select it as a column of its own") +
		" ELSE ")
	g.AggCall("avg", a)
	g.W(" END")
}

// pgRoundAvg prints round(avg(x)) and round(avg(x), n) of integers, n a
// constant from 0 to 18, as PostgreSQL computes it: numeric's round of
// the average, itself already rounded to R places (pgAvg), so rounded
// twice: from R to n places half away from zero when n < R, padded with
// zeros when n >= R. The result has display scale n in every row, so it is
// a DECIMAL(38, n) (read from its exact text), which can be compared,
// sorted and computed with exactly.
func pgRoundAvg(g *sqlgen.Gen, f *ast.Func) bool {
	if len(f.Args) == 0 || len(f.Args) > 2 {
		return false
	}
	a, ok := f.Args[0].(*ast.Agg)
	if !ok || !isIntAvg(g, a) || a.Over != nil {
		return false
	}
	n := "0"
	if len(f.Args) == 2 {
		l, ok := f.Args[1].(*ast.Literal)
		if !ok || l.Kind != ast.LitInt || l.Int < 0 || l.Int > 18 {
			return false
		}
		n = strconv.FormatInt(l.Int, 10)
	}
	p := newAvgSQL(g, a)
	places := func() { g.W(n) }
	diff := func(x func(), y string) func() { return func() { g.W("("); x(); g.W(" - " + y + ")") } }
	rounded := func() {
		g.W("(CASE WHEN ")
		p.places()
		g.W(" <= " + n + " THEN ")
		p.quotient()
		g.W(" * ")
		p.pow(func() { g.W("(" + n + " - "); p.places(); g.W(")") })
		g.W(" ELSE (")
		p.quotient()
		g.W(" + 5 * ")
		p.pow(diff(p.places, n+" - 1"))
		g.W(") // ")
		p.pow(diff(p.places, n))
		g.W(" END)")
	}
	g.W("CASE WHEN ")
	p.count()
	g.W(" = 0 THEN NULL ELSE CAST(")
	p.text(rounded, places)
	g.W(" AS DECIMAL(38, " + n + ")) END")
	return true
}

// isPGAvg reports an aggregate prepare marked. floatAgg, the other user
// of Marks, never marks an avg of integers.
func isPGAvg(g *sqlgen.Gen, a *ast.Agg) bool {
	return g.Marks[a] && isIntAvg(g, a)
}

// narrowSum prints sum of smallint or integer values as PostgreSQL's
// bigint (DuckDB's is a HUGEINT, numeric on the wire); past bigint both
// raise.
func narrowSum(g *sqlgen.Gen, a *ast.Agg) bool {
	if a.Kind != ast.AggSum || a.Arg == nil || g.TypeOf(a.Arg) != sqlgen.KInt {
		return false
	}
	if bigint, known := types.PGBigint(a.Arg); bigint || !known {
		return false
	}
	g.W("CAST(")
	g.AggCall("sum", a)
	g.W(" AS BIGINT)")
	return true
}

// mixedScaleChoice refuses a numeric choice (coalesce, greatest, least,
// CASE) among values of different display scales. PostgreSQL's numeric
// keeps each value's own scale, so coalesce(bigint, 1.5) is 9 in one row
// and 1.5 in another; DuckDB's DECIMAL has one scale per column and would
// print 9.0. A choice among constants and casts of one scale is exact.
func mixedScaleChoice(g *sqlgen.Gen, n ast.Node) bool {
	var branches []ast.Expr
	switch e := n.(type) {
	case *ast.Func:
		switch e.Name {
		case "coalesce", "greatest", "least":
			branches = e.Args
		default:
			return false
		}
	case *ast.Case:
		for _, w := range e.Whens {
			branches = append(branches, w.Result)
		}
		if e.Else != nil {
			branches = append(branches, e.Else)
		}
	default:
		return false
	}
	x := n.(ast.Expr)
	if g.TypeOf(x) != sqlgen.KDecimal {
		return false
	}
	scale := -1
	for _, b := range branches {
		if isNullLiteral(b) {
			continue
		}
		s, ok := displayScale(b)
		if !ok || scale >= 0 && s != scale {
			g.Refuse("a choice among numerics of different display scales", x, "PostgreSQL keeps each value's scale (9 beside 1.5), DuckDB one per column (9.0); cast every branch to numeric(p, s)")
			return true
		}
		scale = s
	}
	return false
}

// displayScale is the display scale every value of e has in PostgreSQL,
// when e is a numeric constant or a cast to numeric(p, s).
func displayScale(e ast.Expr) (int, bool) {
	switch x := e.(type) {
	case *ast.Unary:
		return displayScale(x.X)
	case *ast.Literal:
		if x.Kind != ast.LitNumber || strings.ContainsAny(x.Text, "eE") {
			return 0, false
		}
		if _, frac, ok := strings.Cut(x.Text, "."); ok {
			return len(frac), true
		}
		return 0, true
	case *ast.Cast:
		if x.Type.Kind == ast.TypeNumeric && x.Type.Precision > 0 {
			return x.Type.Scale, true
		}
	}
	return 0, false
}
