package influxql

import (
	"regexp"
	"strconv"
	"time"

	iql "github.com/influxdata/influxql"

	"tsgate/dialects/influxql/plan"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// Name is the target's name.
const Name = "influxql"

// Generator is the InfluxQL target.
type Generator struct{ plan.Target }

// New returns the InfluxQL generator.
func New() target.Generator { return Generator{plan.NewTarget(Name, target.InfluxQL, hints)} }

var hints = map[target.Caps]string{
	target.CapJoin:       "InfluxQL cannot join measurements; query each one and join in the client",
	target.CapSubquery:   "InfluxQL subqueries cannot express SQL subqueries exactly; run the inner query first",
	target.CapCTE:        "InfluxQL has no WITH; inline the query",
	target.CapWindow:     "InfluxQL has no window functions",
	target.CapCase:       "InfluxQL has no CASE",
	target.CapSetOp:      "InfluxQL has no UNION; run the queries separately",
	target.CapDistinct:   "InfluxQL's distinct() applies to one field's values; use GROUP BY on tags instead",
	target.CapILike:      "InfluxQL has no case-insensitive LIKE; Go's (?i) folds case differently",
	target.CapParams:     "inline the parameter values",
	target.CapDistinctOn: "use last(field) with GROUP BY on the tag",
}

func aggSupport(a *ast.Agg, _ target.ColumnInfo) (bool, string) {
	switch a.Kind {
	case ast.AggCount, ast.AggSum, ast.AggAvg, ast.AggMin, ast.AggMax, ast.AggFirst, ast.AggLast, ast.AggMedian:
		return false, ""
	case ast.AggStddevSamp, ast.AggStddevPop, ast.AggVarSamp, ast.AggVarPop:
		return true, "InfluxQL's stddev() is not verified to match SQL on one-point groups"
	case ast.AggPercentileCont, ast.AggPercentileDisc, ast.AggApproxQuantile:
		return true, "InfluxQL's percentile() picks the value at rank round(n·p), which neither percentile_cont nor percentile_disc does"
	}
	return true, ""
}

var cmpTok = map[plan.Op]iql.Token{
	plan.Eq: iql.EQ, plan.Ne: iql.NEQ, plan.Lt: iql.LT, plan.Le: iql.LTE, plan.Gt: iql.GT, plan.Ge: iql.GTE,
	plan.Match: iql.EQREGEX, plan.NotMatch: iql.NEQREGEX,
}

// Generate builds the statement.
func (Generator) Generate(q ast.Query, env *target.Env) (*target.Output, error) {
	p, err := plan.Build(Name, q, env, plan.Options{TimeCol: "time", Agg: aggSupport, AggSkipsAbsent: true})
	if err != nil {
		return nil, err
	}
	st := &iql.SelectStatement{
		Sources: iql.Sources{&iql.Measurement{Database: p.Database, Name: p.Measurement}},
		Limit:   int(max(p.Limit, 0)),
		Offset:  int(max(p.Offset, 0)),
	}
	if q.(*ast.Select).From[0].(*ast.Table).Schema == "" {
		// An unqualified table is the request's database (the db= parameter).
		st.Sources[0].(*iql.Measurement).Database = ""
	}
	switch {
	case p.Star:
		st.Fields = iql.Fields{{Expr: &iql.Wildcard{}}}
	case p.Aggregate:
		for _, g := range p.Aggs {
			st.Fields = append(st.Fields, &iql.Field{Expr: call(g), Alias: g.Name})
		}
	default:
		for _, c := range p.Fetch {
			st.Fields = append(st.Fields, &iql.Field{Expr: &iql.VarRef{Val: c.Name}})
		}
	}
	if p.BucketNS > 0 {
		args := []iql.Expr{&iql.DurationLiteral{Val: time.Duration(p.BucketNS)}}
		if p.OffsetNS != 0 {
			args = append(args, &iql.DurationLiteral{Val: time.Duration(p.OffsetNS)})
		}
		st.Dimensions = append(st.Dimensions, &iql.Dimension{Expr: &iql.Call{Name: "time", Args: args}})
		st.Fill = iql.NoFill
	}
	for _, t := range p.GroupTags {
		st.Dimensions = append(st.Dimensions, &iql.Dimension{Expr: &iql.VarRef{Val: t}})
	}
	cond := pred(p.Where)
	upper := p.Upper
	if p.BucketNS > 0 && !upper.Set {
		upper = plan.Bound{Set: true, NS: plan.MaxTime, Incl: true}
	}
	cond = andExpr(cond, bound(p.Lower, iql.GT, iql.GTE))
	cond = andExpr(cond, bound(upper, iql.LT, iql.LTE))
	st.Condition = cond
	if p.Order == -1 {
		st.SortFields = iql.SortFields{{Name: "time", Ascending: false}}
	}
	return &target.Output{Text: st.String(), Notes: p.Notes, Post: p.Post}, nil
}

func call(g *plan.Agg) iql.Expr {
	name := map[ast.AggKind]string{
		ast.AggCount: "count", ast.AggSum: "sum", ast.AggAvg: "mean", ast.AggMin: "min", ast.AggMax: "max",
		ast.AggFirst: "first", ast.AggLast: "last", ast.AggMedian: "median",
	}[g.Kind]
	var arg iql.Expr = &iql.VarRef{Val: g.Field.Name}
	if g.Distinct {
		arg = &iql.Call{Name: "distinct", Args: []iql.Expr{arg}}
	}
	return &iql.Call{Name: name, Args: []iql.Expr{arg}}
}

func andExpr(l, r iql.Expr) iql.Expr {
	switch {
	case l == nil:
		return r
	case r == nil:
		return l
	}
	return &iql.BinaryExpr{Op: iql.AND, LHS: paren(l, iql.AND), RHS: paren(r, iql.AND)}
}

// paren wraps an OR operand of AND: InfluxQL's AST keeps parentheses as
// nodes, so precedence is the printer's job.
func paren(e iql.Expr, parent iql.Token) iql.Expr {
	if b, ok := e.(*iql.BinaryExpr); ok && b.Op.Precedence() < parent.Precedence() {
		return &iql.ParenExpr{Expr: e}
	}
	return e
}

func pred(p plan.Pred) iql.Expr {
	switch p := p.(type) {
	case nil:
		return nil
	case *plan.And:
		return andExpr(pred(p.L), pred(p.R))
	case *plan.Or:
		return &iql.BinaryExpr{Op: iql.OR, LHS: pred(p.L), RHS: pred(p.R)}
	case *plan.Cmp:
		var rhs iql.Expr
		if p.Op == plan.Match || p.Op == plan.NotMatch {
			rhs = &iql.RegexLiteral{Val: regexp.MustCompile(p.Regex)}
		} else {
			rhs = literal(p.Lit)
		}
		return &iql.BinaryExpr{Op: cmpTok[p.Op], LHS: &iql.VarRef{Val: p.Col.Name}, RHS: rhs}
	}
	panic("influxql: unknown predicate")
}

func literal(l *ast.Literal) iql.Expr {
	switch l.Kind {
	case ast.LitString:
		return &iql.StringLiteral{Val: l.Text}
	case ast.LitBool:
		return &iql.BooleanLiteral{Val: l.Bool}
	case ast.LitInt:
		return &iql.IntegerLiteral{Val: l.Int}
	}
	// The plan has checked the digits parse; the float64 prints back as
	// the shortest text of the same value.
	f, _ := strconv.ParseFloat(l.Text, 64)
	return &iql.NumberLiteral{Val: f}
}

// bound prints one end of the time range.
func bound(b plan.Bound, excl, incl iql.Token) iql.Expr {
	if !b.Set {
		return nil
	}
	op := excl
	if b.Incl {
		op = incl
	}
	var rhs iql.Expr
	if b.Now {
		rhs = &iql.Call{Name: "now"}
		if b.NS != 0 {
			d, o := b.NS, iql.ADD
			if d < 0 {
				d, o = -d, iql.SUB
			}
			rhs = &iql.BinaryExpr{Op: o, LHS: rhs, RHS: &iql.DurationLiteral{Val: time.Duration(d)}}
		}
	} else {
		rhs = &iql.StringLiteral{Val: time.Unix(0, b.NS).UTC().Format(time.RFC3339Nano)}
	}
	return &iql.BinaryExpr{Op: op, LHS: &iql.VarRef{Val: "time"}, RHS: rhs}
}
