package clickhouse

import (
	"math"
	"strconv"
	"strings"

	"tsgate/translate/ast"
	"tsgate/translate/sqlgen"
	"tsgate/translate/target"
)

// New returns the modern ClickHouse generator.
func New() target.Generator { return &sqlgen.Generator{D: Dialect(false)} }

// NewLegacy returns the ClickHouse 18.16 generator.
func NewLegacy() target.Generator { return &sqlgen.Generator{D: Dialect(true)} }

type profile struct{ legacy bool }

// Dialect describes modern ClickHouse, or 18.16 when legacy.
func Dialect(legacy bool) *sqlgen.Dialect {
	pr := profile{legacy}
	d := &sqlgen.Dialect{
		Name: "clickhouse",
		Caps: target.CapJoin | target.CapSubquery | target.CapCTE | target.CapWindow | target.CapCase |
			target.CapSetOp | target.CapHaving | target.CapDistinct | target.CapOffset | target.CapILike |
			target.CapRegex | target.CapOuterJoin,
		Hints: map[target.Caps]string{
			target.CapParams:     "ClickHouse has no $n parameters; the gateway binds values before translating",
			target.CapDistinctOn: "ClickHouse's DISTINCT ON differs from PostgreSQL's; use argMax/LIMIT 1 BY",
		},
		Funcs: map[string]sqlgen.FuncSpec{
			"abs": {Name: "abs", MinArgs: 1, MaxArgs: 1}, "ceil": {Name: "ceil", MinArgs: 1, MaxArgs: 1},
			"ceiling": {Name: "ceil", MinArgs: 1, MaxArgs: 1}, "floor": {Name: "floor", MinArgs: 1, MaxArgs: 1},
			"sqrt": {Name: "sqrt", MinArgs: 1, MaxArgs: 1}, "exp": {Name: "exp", MinArgs: 1, MaxArgs: 1},
			"ln": {Name: "log", MinArgs: 1, MaxArgs: 1}, "power": {Name: "pow", MinArgs: 2, MaxArgs: 2},
			"pow": {Name: "pow", MinArgs: 2, MaxArgs: 2},
			// Character semantics: the UTF8 variants, as PostgreSQL and
			// DuckDB count and case-map characters, not bytes.
			"lower": {Name: "lowerUTF8", MinArgs: 1, MaxArgs: 1}, "upper": {Name: "upperUTF8", MinArgs: 1, MaxArgs: 1},
			"length": {Name: "lengthUTF8", MinArgs: 1, MaxArgs: 1}, "char_length": {Name: "lengthUTF8", MinArgs: 1, MaxArgs: 1},
			"coalesce": {Name: "coalesce", MinArgs: 1, MaxArgs: -1}, "nullif": {Name: "nullIf", MinArgs: 2, MaxArgs: 2},
		},
		Aggs: map[ast.AggKind]sqlgen.AggSpec{
			// toInt64: count() and uniqExact() are UInt64 in ClickHouse,
			// BIGINT (int64) in DuckDB; Arc's msgpack envelope names the
			// type and encodes the value by it, so a client would see it.
			ast.AggCount: {Print: func(g *sqlgen.Gen, a *ast.Agg) {
				if a.Distinct {
					// uniqExact of a Nullable column whose values are all
					// NULL is NULL, not 0.
					g.W("ifNull(toInt64(")
					pr.agg(g, a, "uniqExact", nil, a.Arg)
					g.W("), 0)")
					return
				}
				g.W("toInt64(")
				pr.agg(g, a, "count", nil, a.Arg)
				g.W(")")
			}},
			ast.AggSum:        pr.exactSum("sum"),
			ast.AggAvg:        pr.exactSum("avg"),
			ast.AggMin:        pr.simple("min"),
			ast.AggMax:        pr.simple("max"),
			ast.AggStddevSamp: {Hint: "ClickHouse's stddevSamp of one value is nan, DuckDB's NULL; the gateway computes it"},
			ast.AggStddevPop:  {Hint: "ClickHouse's stddevPop differs from DuckDB's in NULL and single-row cases; the gateway computes it"},
			ast.AggVarSamp:    {Hint: "ClickHouse's varSamp of one value is nan, DuckDB's NULL; the gateway computes it"},
			ast.AggVarPop:     {Hint: "ClickHouse's varPop differs from DuckDB's in NULL and single-row cases; the gateway computes it"},
			ast.AggFirst:      {Print: func(g *sqlgen.Gen, a *ast.Agg) { pr.agg(g, a, "argMin", nil, a.Arg, a.By) }},
			ast.AggLast:       {Print: func(g *sqlgen.Gen, a *ast.Agg) { pr.agg(g, a, "argMax", nil, a.Arg, a.By) }},
			ast.AggApproxQuantile: {Print: func(g *sqlgen.Gen, a *ast.Agg) { pr.agg(g, a, "quantileTDigest", a.Fraction, a.Arg) },
				Note: "approximated by ClickHouse's quantileTDigest; results differ slightly from the source engine's approximation"},
			ast.AggBoolAnd:        {Hint: "ClickHouse has no boolean aggregates; use min(toUInt8(x))"},
			ast.AggBoolOr:         {Hint: "ClickHouse has no boolean aggregates; use max(toUInt8(x))"},
			ast.AggPercentileDisc: {Hint: "no ClickHouse quantile function returns PostgreSQL's percentile_disc value"},
		},
		Types: map[ast.TypeKind]string{
			ast.TypeBool: "Bool", ast.TypeSmallInt: "Int16", ast.TypeInt: "Int32", ast.TypeBigInt: "Int64",
			ast.TypeReal: "Float32", ast.TypeDouble: "Float64", ast.TypeNumeric: "Decimal", ast.TypeText: "String",
			ast.TypeDate: "Date", ast.TypeTimestamp: "DateTime64(6, 'UTC')", ast.TypeTimestampTZ: "DateTime64(6, 'UTC')",
		},
		Extract: map[string]string{
			"year": "toInt64(toYear(%s))", "quarter": "toInt64(toQuarter(%s))", "month": "toInt64(toMonth(%s))",
			"week": "toInt64(toISOWeek(%s))", "day": "toInt64(toDayOfMonth(%s))", "isodow": "toInt64(toDayOfWeek(%s))",
			"dow": "toInt64(toDayOfWeek(%s) % 7)",
			// toInt64: the to*() functions return UInt8/UInt16, and
			// ClickHouse 18.16 stores booleans as UInt8, so a bare UInt8
			// cannot be told from a boolean when the result is read.
			"doy": "toInt64(toDayOfYear(%s))", "hour": "toInt64(toHour(%s))", "minute": "toInt64(toMinute(%s))",
			"epoch": "(toUnixTimestamp64Micro(%s) / 1000000)",
		},
		QuoteIdent:    quoteIdent,
		QuoteString:   quoteString,
		Conservative:  true,
		NullsLastDesc: true,
		NaNWithNulls:  true,
		UnifyNumbers:  true,
		LikeEscape:    `\`,
		Now:           pr.now,
		TimestampLit:  pr.timestampLit,
		Interval:      pr.interval,
		Bucket:        pr.bucket,
		Like:          like,
		Regex:         regex,
		DotNewline:    true,
		Cast:          pr.cast,
		Binary:        pr.binary,
		Node:          pr.node,
		Rewrite:       unshadow,
		Prepare:       pr.prepare,
		Suffix:        pr.suffix,
	}
	if !legacy {
		d.Funcs["row_number"] = sqlgen.FuncSpec{Name: "row_number", Window: true}
		d.Funcs["rank"] = sqlgen.FuncSpec{Name: "rank", Window: true}
		d.Funcs["dense_rank"] = sqlgen.FuncSpec{Name: "dense_rank", Window: true}
		pct := func(frac func(a *ast.Agg) ast.Expr) sqlgen.AggSpec {
			return sqlgen.AggSpec{Print: func(g *sqlgen.Gen, a *ast.Agg) {
				pr.agg(g, a, "quantileExactInclusive", frac(a), a.Arg)
			}}
		}
		half := &ast.Literal{Span: ast.NoSpan, Kind: ast.LitNumber, Text: "0.5"}
		d.Aggs[ast.AggMedian] = pct(func(*ast.Agg) ast.Expr { return half })
		d.Aggs[ast.AggPercentileCont] = pct(func(a *ast.Agg) ast.Expr { return a.Fraction })
		return d
	}
	d.Name = "clickhouse-legacy"
	d.Caps &^= target.CapJoin | target.CapOuterJoin | target.CapCTE | target.CapWindow | target.CapILike
	d.Hints[target.CapJoin] = "ClickHouse 18.16 joins need ANY/ALL strictness and equality keys with different NULL semantics; run the join in tsgate or upgrade"
	d.Hints[target.CapOuterJoin] = d.Hints[target.CapJoin]
	d.Hints[target.CapWindow] = "ClickHouse 18.16 has no window functions"
	d.Hints[target.CapCTE] = "ClickHouse 18.16 has no WITH subqueries; inline the subquery"
	d.Hints[target.CapILike] = "ClickHouse 18.16 has no ILIKE; lowerUTF8(x) LIKE lowerUTF8(p) differs for some scripts"
	d.Aggs[ast.AggMedian] = sqlgen.AggSpec{Hint: "ClickHouse 18.16 has no interpolating exact quantile (quantileExactInclusive)"}
	d.Aggs[ast.AggPercentileCont] = d.Aggs[ast.AggMedian]
	d.Types[ast.TypeBool] = "UInt8"
	d.Types[ast.TypeTimestamp] = "DateTime('UTC')"
	d.Types[ast.TypeTimestampTZ] = "DateTime('UTC')"
	d.Extract["epoch"] = "toUnixTimestamp(%s)"
	return d
}

func quoteIdent(s string) string {
	ok := s != ""
	for i := 0; i < len(s) && ok; i++ {
		c := s[i]
		ok = c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9'
	}
	if ok {
		return s
	}
	return "`" + strings.NewReplacer(`\`, `\\`, "`", "\\`").Replace(s) + "`"
}

// quoteString escapes for ClickHouse, where backslash is an escape
// character inside string literals.
func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func (pr profile) simple(name string) sqlgen.AggSpec {
	return sqlgen.AggSpec{Print: func(g *sqlgen.Gen, a *ast.Agg) { pr.agg(g, a, name, nil, a.Arg) }}
}

// exactSum is sum/avg of floats only: ClickHouse adds Int64 in Int64 and
// wraps on overflow, where DuckDB adds integers exactly (HUGEINT); the
// argument's type decides, and an unknown type is refused too.
func (pr profile) exactSum(name string) sqlgen.AggSpec {
	return sqlgen.AggSpec{Print: func(g *sqlgen.Gen, a *ast.Agg) {
		if k := g.TypeOf(a.Arg); k != sqlgen.KFloat {
			g.Refuse(a.Kind.String()+"() of an integer or untyped value", a, "ClickHouse's integer sum wraps on overflow where DuckDB's is exact; the gateway computes it")
			return
		}
		pr.agg(g, a, name, nil, a.Arg)
	}}
}

// orNull marks aggregates that can see no rows: in a SELECT without GROUP
// BY, or with a FILTER. PostgreSQL returns NULL there; ClickHouse returns
// 0 (nan for avg) unless the -OrNull combinator asks otherwise.
func (pr profile) prepare(g *sqlgen.Gen, q ast.Query) {
	floatKeys(g, q)
	ordinals(q)
	intResults(g, q)
	g.Marks = map[ast.Node]bool{}
	markLogic(g, q)
	var visit func(n ast.Node)
	visit = func(n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			sel, ok := n.(*ast.Select)
			if !ok {
				return true
			}
			grouped := len(sel.GroupBy) > 0
			mark := func(n ast.Node) {
				ast.Inspect(n, func(n ast.Node) bool {
					switch n := n.(type) {
					case *ast.Subquery, *ast.InSubquery, *ast.Exists:
						visit(n)
						return false
					case *ast.Agg:
						if n.Kind != ast.AggCount && n.Over == nil && (!grouped || n.Filter != nil) {
							g.Marks[n] = true
						}
					}
					return true
				})
			}
			for _, c := range sel.Columns {
				mark(c)
			}
			if sel.Having != nil {
				mark(sel.Having)
			}
			for _, o := range sel.OrderBy {
				mark(o)
			}
			for _, f := range sel.From {
				visit(f)
			}
			if sel.With != nil {
				visit(sel.With)
			}
			if sel.Where != nil {
				visit(sel.Where)
			}
			return false
		})
	}
	visit(q)
}

// agg prints name[(param)](args...) with ClickHouse's combinators: If for
// FILTER, OrNull where PostgreSQL would return NULL over no rows.
func (pr profile) agg(g *sqlgen.Gen, a *ast.Agg, name string, param ast.Expr, args ...ast.Expr) {
	if a.Distinct && a.Kind != ast.AggCount {
		g.Refuse(a.Kind.String()+"(DISTINCT …)", a, "ClickHouse drops DISTINCT inside this aggregate; the gateway computes it")
		return
	}
	g.W(name)
	if a.Filter != nil {
		g.W("If")
	}
	if g.Marks[a] {
		if pr.legacy {
			g.Refuse(a.Kind.String()+"() over possibly no rows", a, "ClickHouse 18.16 returns 0 (nan for avg) over no rows where SQL returns NULL; the gateway computes it")
			return
		}
		g.W("OrNull")
	}
	if param != nil {
		g.W("(")
		g.Expr(param)
		g.W(")")
	}
	g.W("(")
	n := 0
	for _, x := range args {
		if x == nil {
			continue
		}
		if n > 0 {
			g.W(", ")
		}
		g.Expr(x)
		n++
	}
	if a.Filter != nil {
		if n > 0 {
			g.W(", ")
		}
		// A Nullable condition makes 18.16's -If aggregates NULL over no
		// rows (measured: countIf(NULL-able false) is NULL, not 0); a
		// NULL condition counts as false either way.
		g.W("ifNull(")
		g.Expr(a.Filter)
		g.W(", 0)")
	}
	g.W(")")
	g.P.Over(a.Over)
}

func (pr profile) now(g *sqlgen.Gen, _ *ast.Now) {
	if pr.legacy {
		g.Note("now()", "ClickHouse 18.16 has second precision: now() and stored times are whole seconds")
		g.W("now()")
		return
	}
	g.W("now64(6)")
}

func (pr profile) timestampLit(g *sqlgen.Gen, t *ast.TimestampLit) {
	s := ast.FormatMicros(t.Micros)
	s = strings.TrimSuffix(s, "+00")
	// Outside its type's range ClickHouse wraps a time silently.
	lo, hi, typ := int64(-1_420_070_400_000_000), int64(9_877_248_000_000_000), "DateTime64 (1925 to 2283)"
	if pr.legacy {
		lo, hi, typ = 0, int64(math.MaxUint32)*1_000_000, "DateTime (1970 to 2106)"
	}
	if t.Micros < lo || t.Micros > hi {
		g.Refuse("a timestamp outside "+typ, t, "ClickHouse wraps times outside its type's range")
		return
	}
	if pr.legacy {
		if sqlgen.Mod(t.Micros, 1_000_000) != 0 {
			g.Refuse("a sub-second timestamp", t, "ClickHouse 18.16 stores whole seconds")
			return
		}
		g.W("toDateTime(" + quoteString(s) + ", 'UTC')")
		return
	}
	g.W("toDateTime64(" + quoteString(s) + ", 6, 'UTC')")
}

var intervalUnits = []struct {
	micros int64
	name   string
}{{86_400_000_000, "DAY"}, {3_600_000_000, "HOUR"}, {60_000_000, "MINUTE"}, {1_000_000, "SECOND"}}

// intervalTerms splits an interval into ClickHouse INTERVAL terms, largest
// unit first. Months and days stay calendar units.
func (pr profile) intervalTerms(g *sqlgen.Gen, iv *ast.Interval) []string {
	var out []string
	if iv.Months != 0 {
		out = append(out, "INTERVAL "+strconv.FormatInt(int64(iv.Months), 10)+" MONTH")
	}
	if iv.Days != 0 {
		out = append(out, "INTERVAL "+strconv.FormatInt(int64(iv.Days), 10)+" DAY")
	}
	us := iv.Micros
	for _, u := range intervalUnits[1:] {
		if us/u.micros != 0 {
			out = append(out, "INTERVAL "+strconv.FormatInt(us/u.micros, 10)+" "+u.name)
			us %= u.micros
		}
	}
	if us != 0 {
		if pr.legacy {
			g.Refuse("a sub-second interval", iv, "ClickHouse 18.16 has second precision")
			return nil
		}
		out = append(out, "INTERVAL "+strconv.FormatInt(us, 10)+" MICROSECOND")
	}
	if len(out) == 0 {
		out = append(out, "INTERVAL 0 SECOND")
	}
	return out
}

func (pr profile) interval(g *sqlgen.Gen, iv *ast.Interval) {
	terms := pr.intervalTerms(g, iv)
	if len(terms) > 1 {
		g.Refuse("a multi-unit interval value", iv, "ClickHouse intervals have one unit; add them to a timestamp one by one")
		return
	}
	if len(terms) == 1 {
		g.W(terms[0])
	}
}

func (pr profile) binary(g *sqlgen.Gen, b *ast.Binary) bool {
	if decimalArith(g, b) || dateComparison(g, b) || nanComparison(g, b) {
		return true
	}
	if wrappingArith(g, b) {
		return true
	}
	switch b.Op {
	case ast.OpAdd, ast.OpSub:
		iv, ok := b.R.(*ast.Interval)
		if !ok {
			return false
		}
		// t ± INTERVAL: one term per unit.
		op := " + "
		if b.Op == ast.OpSub {
			op = " - "
		}
		g.P.Operand(b.L, ast.PrecCast)
		for _, t := range pr.intervalTerms(g, iv) {
			g.W(op)
			g.W(t)
		}
		return true
	case ast.OpDiv:
		// Arc SQL's / is DuckDB's float division: by zero it gives
		// infinity or NaN, as ClickHouse's does. PostgreSQL's raises.
		if g.Env != nil && g.Env.PostgresSemantics && !sqlgen.SafeDivision(b.L, b.R) {
			g.Refuse("division by a value that may be zero", b, "PostgreSQL raises an error there; ClickHouse answers inf or nan")
			return true
		}
		return false
	case ast.OpMod:
		if !sqlgen.NonZero(b.R) || g.TypeOf(b.L) != sqlgen.KInt || g.TypeOf(b.R) != sqlgen.KInt {
			g.Refuse("% of non-integers or by a value that may be zero", b, "ClickHouse's % truncates fractions and raises on zero; the gateway computes it")
			return true
		}
		return false
	case ast.OpIntDiv:
		g.Refuse("integer division", b, "ClickHouse's intDiv rounds differently for negative operands")
		return true
	case ast.OpConcat:
		g.W("concat(")
		g.Expr(b.L)
		g.W(", ")
		g.Expr(b.R)
		g.W(")")
		return true
	case ast.OpIsDistinct, ast.OpIsNotDistinct:
		g.Refuse(b.Op.String(), b, "")
		return true
	}
	if pr.legacy && b.Op.IsComparison() {
		// Stored times are whole seconds: round a fractional instant in
		// the direction that keeps the comparison's answer.
		if ts, ok := b.R.(*ast.TimestampLit); ok && sqlgen.Mod(ts.Micros, 1_000_000) != 0 {
			r, always := sqlgen.RoundForComparison(b.Op, ts.Micros, 1_000_000)
			if always != nil {
				g.P.Literal(always)
				return true
			}
			g.P.Binary(&ast.Binary{Span: b.Span, Op: b.Op, L: b.L, R: &ast.TimestampLit{Span: ts.Span, Micros: r}}, b.Op.String())
			return true
		}
	}
	return false
}

// bucket prints a time bucket with ClickHouse's functions. Fixed widths
// are whole seconds counted from the epoch; an origin that is not a
// multiple of the width shifts the time before and after bucketing.
func (pr profile) bucket(g *sqlgen.Gen, b *ast.TimeBucket) {
	if b.Width.Months != 0 {
		fn := map[int32]string{1: "toStartOfMonth", 3: "toStartOfQuarter", 12: "toStartOfYear"}[b.Width.Months]
		if fn == "" || !sqlgen.SameOrigin(b.Width, b.Origin, ast.Origin2000) || b.Result != ast.BucketTimestamp {
			g.Refuse("a "+b.Width.Text()+" bucket", b, "ClickHouse buckets months only as calendar months, quarters or years")
			return
		}
		g.W("toDateTime(" + fn + "(")
		g.Expr(b.Source)
		g.W("), 'UTC')")
		return
	}
	w := b.Width.FixedMicros()
	off := sqlgen.Mod(b.Origin, w)
	if w%1_000_000 != 0 || off%1_000_000 != 0 {
		g.Refuse("a bucket width or origin with a fraction of a second", b, "")
		return
	}
	ws, offs := strconv.FormatInt(w/1_000_000, 10), strconv.FormatInt(off/1_000_000, 10)
	if b.Result == ast.BucketEpochSeconds {
		g.W("(intDiv(toUnixTimestamp(")
		g.Expr(b.Source)
		g.W("), " + ws + ") * " + ws + ")")
		return
	}
	if pr.legacy {
		if fn := legacyStartOf[w/1_000_000]; fn != "" && off == 0 {
			g.W(fn + "(")
			g.Expr(b.Source)
			g.W(")")
			return
		}
		if off != 0 {
			// The bucket holding the first seconds after the epoch starts
			// before 1970, where DateTime has no value, and intDiv
			// truncates toward zero for the negative offsets there.
			g.Refuse("a "+b.Width.Text()+" bucket not aligned to the epoch", b, "ClickHouse 18.16's DateTime starts at 1970; the gateway computes it")
			return
		}
		g.W("toDateTime(intDiv(toUInt32(")
		g.Expr(b.Source)
		g.W("), " + ws + ") * " + ws + ", 'UTC')")
		return
	}
	if off == 0 {
		g.W("toStartOfInterval(")
		g.Expr(b.Source)
		g.W(", INTERVAL " + ws + " SECOND)")
		return
	}
	g.W("addSeconds(toStartOfInterval(subtractSeconds(")
	g.Expr(b.Source)
	g.W(", " + offs + "), INTERVAL " + ws + " SECOND), " + offs + ")")
}

var legacyStartOf = map[int64]string{
	60: "toStartOfMinute", 300: "toStartOfFiveMinute", 900: "toStartOfFifteenMinutes",
	3600: "toStartOfHour", 86400: "toStartOfDay",
}

// like re-encodes a constant pattern with backslash escapes, the only
// escape ClickHouse's LIKE knows.
func like(g *sqlgen.Gen, l *ast.Like) {
	if l.CaseInsensitive && g.D.Caps&target.CapILike == 0 {
		g.Refuse("ILIKE", l, g.D.Hints[target.CapILike])
		return
	}
	pat := l.Pattern
	if lit, ok := pat.(*ast.Literal); ok && lit.Kind == ast.LitString {
		toks, ok := sqlgen.ParseLike(lit.Text, l.Escape)
		if !ok {
			g.Refuse("a LIKE pattern ending in its escape character", l, "")
			return
		}
		pat = &ast.Literal{Span: lit.Span, Kind: ast.LitString, Text: sqlgen.FormatLike(toks)}
	} else if l.Escape != `\` {
		g.Refuse("LIKE with a non-constant pattern and escape '"+l.Escape+"'", l, "ClickHouse always escapes with backslash")
		return
	}
	g.P.LikeHead(l, ast.PrecAtom)
	g.Expr(pat)
}

func regex(g *sqlgen.Gen, r *ast.RegexMatch) {
	if r.CaseInsensitive {
		// 18.16's match() answers (?i) patterns wrongly (the fuzzer:
		// '^mixe' with 'i' missed 'MiXeD').
		g.Refuse("case-insensitive regular-expression matching", r, "ClickHouse 18.16's match() mishandles (?i); the gateway computes it")
		return
	}
	g.Note("regular expression", "evaluated by RE2; PostgreSQL (ARE) and RE2 agree on the syntax used here")
	if r.Not {
		// Parenthesized: NOT binds looser than IS NULL.
		g.W("(NOT ")
		defer g.W(")")
	}
	g.P.RegexCall("match", r) // case-sensitive: no 'i' flag (refused above)
}

func (pr profile) cast(g *sqlgen.Gen, c *ast.Cast) bool {
	switch {
	case c.Type.Kind.IsInteger() && !sqlgen.IsIntegerExpr(c.X) && !choiceOfInts(g, c.X):
		g.Refuse("CAST of a possibly fractional value to an integer", c, "ClickHouse truncates where PostgreSQL and DuckDB round; wrap the value in round()")
		return true
	case c.Type.Kind == ast.TypeNumeric && c.Type.Precision == 0:
		g.Refuse("CAST to numeric without a precision", c, "give the precision and scale")
		return true
	case c.Type.Kind == ast.TypeVarchar && c.Type.Length > 0:
		g.Refuse("CAST to varchar(n)", c, "ClickHouse strings have no length limit to truncate to")
		return true
	case (c.Type.Kind == ast.TypeVarchar || c.Type.Kind == ast.TypeText) && !textSafe(g.TypeOf(c.X)):
		// Measured: ClickHouse prints 0.0 as 0, a boolean as 1, a time
		// without its zone; DuckDB 0.0, true, +00.
		g.Refuse("CAST of a non-string, non-integer value to text", c, "ClickHouse prints floats, booleans and times differently from DuckDB")
		return true
	case c.Type.Kind == ast.TypeVarchar:
		// toString, not CAST(x AS String), which fails on a NULL in 18.16
		// ("Cannot convert NULL value to non-Nullable type").
		g.W("toString(")
		g.Expr(c.X)
		g.W(")")
		return true
	case (c.Type.Kind == ast.TypeTimestamp || c.Type.Kind == ast.TypeTimestampTZ) && pr.legacy:
		g.Note("timestamp", "ClickHouse 18.16 DateTime has second precision")
	}
	// CAST(x AS Float64) fails on a NULL in 18.16 ("Cannot convert NULL
	// value to non-Nullable type"); the conversion functions keep x's
	// nullability and convert the same way.
	if f, ok := numberCasts[c.Type.Kind]; ok {
		g.W(f + "(")
		g.Expr(c.X)
		g.W(")")
		return true
	}
	return false
}

var numberCasts = map[ast.TypeKind]string{
	ast.TypeSmallInt: "toInt16", ast.TypeInt: "toInt32", ast.TypeBigInt: "toInt64",
	ast.TypeReal: "toFloat32", ast.TypeDouble: "toFloat64",
}

// textSafe: values of kind k print the same as text in both engines.
func textSafe(k sqlgen.Kind) bool { return k == sqlgen.KString || k == sqlgen.KInt }

func (pr profile) node(g *sqlgen.Gen, n ast.Node) bool {
	if l, ok := n.(*ast.InList); ok && zeroInList(g, l) {
		return true
	}
	if logicNode(g, n) {
		return true
	}
	switch n := n.(type) {
	case *ast.Func:
		if n.Over == nil && (n.Name == "coalesce" || n.Name == "ifnull") && mixesIntAndFraction(g, n.Args) {
			g.Refuse(n.Name+"() of an integer column and a non-integer", n,
				"ClickHouse has no common type for Int64 and Float64 (an error at run time); DuckDB's is DOUBLE or DECIMAL")
			return true
		}
	case *ast.Case:
		if n.Operand != nil {
			// CASE x WHEN v is CASE WHEN x = v: ClickHouse 18.16's form
			// with an operand answers NULL for a NULL x instead of taking
			// ELSE.
			c := &ast.Case{Span: n.Span, Else: n.Else}
			for _, w := range n.Whens {
				c.Whens = append(c.Whens, &ast.When{Cond: &ast.Binary{Span: n.Span, Op: ast.OpEq, L: n.Operand, R: w.Cond}, Result: w.Result})
			}
			g.Expr(c)
			return true
		}
	case *ast.Literal:
		if n.Kind == ast.LitBool && pr.legacy {
			if n.Bool {
				g.W("1")
			} else {
				g.W("0")
			}
			return true
		}
		if n.Kind == ast.LitNumber {
			// 18.16's parser rejects subnormal numbers (5e-324).
			if f, err := strconv.ParseFloat(n.Text, 64); err == nil && f != 0 && math.Abs(f) < 0x1p-1022 {
				g.Refuse("the subnormal number "+n.Text, n, "ClickHouse 18.16 cannot read it")
				return true
			}
		}
	case *ast.InList:
		for _, e := range n.List {
			if l, ok := e.(*ast.Literal); ok && l.Kind == ast.LitNull {
				g.Refuse("NULL in an IN list", n, "ClickHouse's IN treats NULL as a value, not as unknown")
				return true
			}
		}
	case *ast.Agg:
		switch n.Kind {
		case ast.AggMin, ast.AggMax, ast.AggMedian, ast.AggPercentileCont, ast.AggPercentileDisc:
			if n.Arg != nil && sqlgen.MayNaN(g, n.Arg) {
				g.Refuse(n.Kind.String()+" of a value that may be NaN", n, "ClickHouse orders NaN unlike DuckDB (above every number)")
				return true
			}
		}
	case *ast.Exists:
		g.Refuse("EXISTS", n, "ClickHouse does not run correlated subqueries; rewrite as IN (SELECT ...)")
		return true
	case *ast.SetOp:
		if !n.All && (pr.legacy || n.Op != ast.Union) {
			if pr.legacy {
				g.Refuse(n.Op.String()+" without ALL", n, "ClickHouse 18.16 has only UNION ALL")
				return true
			}
		}
	case *ast.Join:
		if n.Natural || len(n.Using) > 0 && n.Kind != ast.InnerJoin {
			g.Refuse("NATURAL and outer USING joins", n, "ClickHouse merges USING columns differently; join ON the columns")
			return true
		}
	}
	return false
}

// choiceOfInts reports an expression that picks one of its integer
// arguments (coalesce of integer columns and constants, say): it has no
// fraction to truncate and computes nothing that could overflow, where
// ClickHouse's integer arithmetic wraps and DuckDB's raises.
func choiceOfInts(g *sqlgen.Gen, e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.ColumnRef:
		return g.TypeOf(e) == sqlgen.KInt
	case *ast.Func:
		switch e.Name {
		case "coalesce", "ifnull", "nullif", "greatest", "least":
			for _, a := range e.Args {
				if !sqlgen.IsIntegerExpr(a) && !choiceOfInts(g, a) {
					return false
				}
			}
			return e.Over == nil && len(e.Args) > 0
		}
	}
	return false
}

// mixesIntAndFraction reports arguments that ClickHouse must bring to one
// type and cannot: a non-constant integer (Int64 holds what Float64 does
// not) beside a double or decimal. An integer constant converts exactly.
func mixesIntAndFraction(g *sqlgen.Gen, args []ast.Expr) bool {
	integer, fraction := false, false
	for _, a := range args {
		switch g.TypeOf(a) {
		case sqlgen.KInt, sqlgen.KHugeInt:
			if l, ok := a.(*ast.Literal); !ok || l.Kind != ast.LitInt {
				integer = true
			}
		case sqlgen.KFloat, sqlgen.KDecimal:
			fraction = true
		}
	}
	return integer && fraction
}

// suffix adds the settings that make ClickHouse follow SQL semantics:
// NULLs (not default values) for outer-join misses, DISTINCT for a bare
// UNION.
func (pr profile) suffix(g *sqlgen.Gen, q ast.Query) {
	var outer, union bool
	ast.Inspect(q, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Join:
			if n.Kind == ast.LeftJoin || n.Kind == ast.RightJoin || n.Kind == ast.FullJoin {
				outer = true
			}
		case *ast.SetOp:
			if !n.All {
				union = true
			}
		}
		return true
	})
	var settings []string
	if outer {
		settings = append(settings, "join_use_nulls = 1")
	}
	if union {
		settings = append(settings, "union_default_mode = 'DISTINCT'", "intersect_default_mode = 'DISTINCT'", "except_default_mode = 'DISTINCT'")
	}
	if len(settings) > 0 {
		g.W(" SETTINGS " + strings.Join(settings, ", "))
	}
}

// ordinals replaces GROUP BY 1 / ORDER BY 2 with the select item they
// name — its alias when it has one, else its expression. ClickHouse 18.16
// reads a number there as a constant: GROUP BY 1 fails and ORDER BY 1
// silently does not sort. (Newer servers need enable_positional_arguments
// for the same, so every profile gets the rewrite.)
func ordinals(q ast.Query) {
	ast.Inspect(q, func(n ast.Node) bool {
		sel, ok := n.(*ast.Select)
		if !ok {
			return true
		}
		item := func(e ast.Expr) ast.Expr {
			l, ok := e.(*ast.Literal)
			if !ok || l.Kind != ast.LitInt || l.Int < 1 || int(l.Int) > len(sel.Columns) {
				return e
			}
			it := sel.Columns[l.Int-1]
			if it.Alias != "" {
				return &ast.ColumnRef{Span: l.Span, Name: it.Alias}
			}
			if _, star := it.Expr.(*ast.Star); star {
				return e
			}
			return it.Expr
		}
		for i, g := range sel.GroupBy {
			sel.GroupBy[i] = item(g)
		}
		for _, o := range sel.OrderBy {
			o.Expr = item(o.Expr)
		}
		return true
	})
}

// unshadow rewrites a query with a select alias that names a column of
// its table (Grafana's date_trunc('hour', time) AS time beside a time
// filter). ClickHouse resolves such an alias wherever the name appears —
// even qualified with the table, in 18.16 — where SQL reads the column
// everywhere but in a bare ORDER BY item. So the query runs with fresh
// aliases inside a subquery, and an outer SELECT gives the columns their
// names and does the ordering and the limit:
//
//	SELECT q.a0 AS time, q.n FROM (SELECT date_trunc(…) AS a0, count() AS n
//	  FROM t WHERE time >= … GROUP BY a0) AS q ORDER BY time LIMIT …
//
// Shapes this cannot keep exact are refused.
func unshadow(g *sqlgen.Gen, q ast.Query) ast.Query {
	ast.Inspect(q, func(n ast.Node) bool {
		if sel, ok := n.(*ast.Select); ok && sel != q && len(shadowed(g, sel)) > 0 {
			g.Refuse("an alias that names a column, in a subquery", sel, "ClickHouse resolves the alias where SQL reads the column; the gateway computes it")
		}
		return true
	})
	sel, ok := q.(*ast.Select)
	if !ok || len(shadowed(g, sel)) == 0 {
		return q
	}
	inner := *sel
	inner.OrderBy, inner.Limit, inner.Offset = nil, nil, nil
	inner.Columns = make([]*ast.SelectItem, len(sel.Columns))
	outer := &ast.Select{Span: sel.Span, OrderBy: sel.OrderBy, Limit: sel.Limit, Offset: sel.Offset}
	fresh := map[string]string{} // output name → inner alias
	for i, it := range sel.Columns {
		name := it.Alias
		if name == "" {
			c, ok := it.Expr.(*ast.ColumnRef)
			if !ok {
				g.Refuse("an unnamed expression beside an alias that names a column", it, "name every select item")
				return q
			}
			name = c.Name
		}
		a := "__tsgate_" + strconv.Itoa(i)
		fresh[name] = a
		inner.Columns[i] = &ast.SelectItem{Span: it.Span, Expr: it.Expr, Alias: a}
		outer.Columns = append(outer.Columns, &ast.SelectItem{Span: ast.NoSpan, Expr: &ast.ColumnRef{Span: ast.NoSpan, Name: a}, Alias: name})
	}
	// GROUP BY k means the k-th item, now named by its fresh alias; a
	// name means the column (SQL's rule), as it now does in ClickHouse.
	inner.GroupBy = make([]ast.Expr, len(sel.GroupBy))
	for i, e := range sel.GroupBy {
		if l, ok := e.(*ast.Literal); ok && l.Kind == ast.LitInt && l.Int >= 1 && int(l.Int) <= len(sel.Columns) {
			e = &ast.ColumnRef{Span: l.Span, Name: inner.Columns[l.Int-1].Alias}
		}
		inner.GroupBy[i] = e
	}
	// ORDER BY may name the output (bare names, positions) only: the
	// outer query has no other columns.
	for _, o := range sel.OrderBy {
		switch e := o.Expr.(type) {
		case *ast.ColumnRef:
			if _, ok := fresh[e.Name]; ok && e.Table == "" {
				continue
			}
		case *ast.Literal:
			if e.Kind == ast.LitInt {
				continue
			}
		}
		g.Refuse("ORDER BY an expression beside an alias that names a column", o, "order by output columns")
		return q
	}
	outer.From = []ast.TableExpr{&ast.SubqueryTable{Span: ast.NoSpan, Query: &inner, Alias: "__tsgate_q"}}
	return outer
}

// shadowed lists sel's aliases that name a column of the query's tables
// (other than the item that is that very column).
func shadowed(g *sqlgen.Gen, sel *ast.Select) []string {
	var out []string
	for _, it := range sel.Columns {
		if it.Alias == "" || !g.IsColumn(it.Alias) {
			continue
		}
		if c, ok := it.Expr.(*ast.ColumnRef); ok && c.Name == it.Alias {
			continue
		}
		out = append(out, it.Alias)
	}
	return out
}

// intResults casts the integer-typed expressions of the result to Int64:
// ClickHouse types a small constant (THEN 1 ELSE 0) UInt8, which is also
// how 18.16 stores booleans, so the value would read back as a boolean.
// Columns and aggregates already have their types.
func intResults(g *sqlgen.Gen, q ast.Query) {
	var items []*ast.SelectItem
	switch q := q.(type) {
	case *ast.Select:
		items = q.Columns
		if len(q.From) == 1 {
			if sub, ok := q.From[0].(*ast.SubqueryTable); ok && sub.Alias == "__tsgate_q" {
				// unshadow's wrapper: the values are the inner query's.
				intResults(g, sub.Query)
				return
			}
		}
	case *ast.SetOp:
		if s, ok := q.Left.(*ast.Select); ok {
			items = s.Columns
		}
	}
	for _, it := range items {
		switch it.Expr.(type) {
		case *ast.ColumnRef, *ast.Agg, *ast.Star, *ast.Cast:
			continue
		}
		if g.TypeOf(it.Expr) == sqlgen.KInt {
			it.Expr = &ast.Cast{Span: ast.NoSpan, X: it.Expr, Type: ast.Type{Kind: ast.TypeBigInt}}
		}
	}
}

// floatKeys refuses grouping by floats — DISTINCT, GROUP BY, count
// (DISTINCT …): ClickHouse keeps -0.0 and 0.0 apart where SQL engines
// compare them equal.
func floatKeys(g *sqlgen.Gen, q ast.Query) {
	float := func(e ast.Expr) bool { k := g.TypeOf(e); return k == sqlgen.KFloat || k == sqlgen.KUnknown }
	// A GROUP BY name that is no column is an output alias (ClickHouse's
	// and DuckDB's rule alike): its item's expression is grouped.
	item := func(sel *ast.Select, e ast.Expr) ast.Expr {
		switch x := e.(type) {
		case *ast.Literal:
			if x.Kind == ast.LitInt && x.Int >= 1 && int(x.Int) <= len(sel.Columns) {
				return sel.Columns[x.Int-1].Expr
			}
		case *ast.ColumnRef:
			if x.Table == "" && !g.IsColumn(x.Name) {
				for _, it := range sel.Columns {
					if it.Alias == x.Name {
						return it.Expr
					}
				}
			}
		}
		return e
	}
	ast.Inspect(q, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Select:
			if n.Distinct {
				for _, it := range n.Columns {
					if _, star := it.Expr.(*ast.Star); star || float(it.Expr) {
						g.Refuse("DISTINCT over a float (or untyped) column", it, "ClickHouse keeps -0.0 and 0.0 apart; the gateway computes it")
						return false
					}
				}
			}
			for _, e := range n.GroupBy {
				if e = item(n, e); float(e) {
					g.Refuse("GROUP BY a float (or untyped) value", e, "ClickHouse keeps -0.0 and 0.0 apart; the gateway computes it")
					return false
				}
			}
		case *ast.Agg:
			if n.Distinct && n.Arg != nil && float(n.Arg) {
				g.Refuse("count(DISTINCT) of a float (or untyped) value", n, "ClickHouse keeps -0.0 and 0.0 apart; the gateway computes it")
				return false
			}
		}
		return true
	})
}
