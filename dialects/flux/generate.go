package flux

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"tsgate/dialects/influxql/plan"
	"tsgate/model"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// Name is the target's name.
const Name = "flux"

// Generator is the Flux target.
type Generator struct{ plan.Target }

// New returns the Flux generator.
func New() target.Generator { return Generator{plan.NewTarget(Name, target.Flux, hints)} }

var hints = map[target.Caps]string{
	target.CapJoin:       "tsgate does not translate SQL joins to Flux join(); query each measurement separately",
	target.CapSubquery:   "run the inner query first",
	target.CapCTE:        "inline the query",
	target.CapWindow:     "tsgate does not translate window functions to Flux",
	target.CapCase:       "tsgate does not translate CASE to Flux",
	target.CapSetOp:      "run the queries separately",
	target.CapDistinct:   "use GROUP BY on tags instead",
	target.CapILike:      "Flux has no case-insensitive LIKE; Go's (?i) folds case differently",
	target.CapParams:     "inline the parameter values",
	target.CapDistinctOn: "use GROUP BY on the tag with an aggregate",
}

func aggSupport(a *ast.Agg, _ target.ColumnInfo) (bool, string) {
	switch a.Kind {
	case ast.AggCount:
		if a.Distinct {
			return true, "tsgate's Flux reduce() has no count(DISTINCT …)"
		}
		return false, ""
	case ast.AggSum, ast.AggAvg, ast.AggMin, ast.AggMax:
		return false, ""
	}
	return true, "tsgate's Flux generator computes count, sum, avg, min and max only"
}

var cmpOp = map[plan.Op]string{
	plan.Eq: "==", plan.Ne: "!=", plan.Lt: "<", plan.Le: "<=", plan.Gt: ">", plan.Ge: ">=",
	plan.Match: "=~", plan.NotMatch: "!~",
}

var r = Ident("r")

func col(name string) Expr { return &Member{X: r, Prop: name} }

// timeFilter is the filter _time op b, op taking "=" when b includes
// its instant.
func timeFilter(op string, b plan.Bound) Expr {
	if b.Incl {
		op += "="
	}
	return &Binary{Op: op, L: col("_time"), R: Time(b.NS)}
}

// emptyStrings are the string fields a raw query returns: tags never
// hold "" in InfluxDB (the writer records an empty tag as absent), so
// only fields need their empty values told from null.
func emptyStrings(p *plan.Plan) []string {
	cols := p.Fetch
	if p.Star {
		cols = p.Schema
	}
	var out []string
	for _, c := range cols {
		if !c.Tag && c.Type == model.TypeString && !slices.Contains(out, c.Name) {
			out = append(out, c.Name)
		}
	}
	return out
}

// Generate builds the pipeline.
func (Generator) Generate(q ast.Query, env *target.Env) (*target.Output, error) {
	p, err := plan.Build(Name, q, env, plan.Options{TimeCol: "_time", Agg: aggSupport, EmptyStringReadsNull: true})
	if err != nil {
		return nil, err
	}
	if p.Database == "" {
		return nil, target.Refuse(Name, "a query without a database", q,
			"Flux reads a bucket: qualify the table (db.measurement) or send the request's database")
	}
	src := &Pipe{Head: &Call{Fn: "from", Args: []Arg{{"bucket", Str(p.Database + "/autogen")}}}}
	// InfluxDB 1.8's range() ignores a start or stop at or before the
	// epoch (measured: stop 1969-12-31T23:59:59Z returns every point), so
	// such a bound is a filter on _time, which compares them right.
	var pre Expr = &Binary{Op: "==", L: col("_measurement"), R: Str(p.Measurement)}
	lower, upper := p.Lower, p.Upper
	for _, b := range []plan.Bound{lower, upper} {
		if b.Set && b.Now && time.Now().UnixNano()+b.NS < int64(24*time.Hour) {
			return nil, target.Refuse(Name, "a time bound relative to now() before 1970", q,
				"InfluxDB 1.8's range() ignores bounds before the epoch")
		}
	}
	if lower.Set && !lower.Now && lower.NS <= 0 {
		pre = and(pre, timeFilter(">", lower))
		lower = plan.Bound{}
	}
	if upper.Set && !upper.Now && upper.NS <= 1 {
		pre = and(pre, timeFilter("<", upper))
		upper = plan.Bound{}
	}
	if empty, at := emptyRange(lower, upper); empty {
		// range() fails on start >= stop ("cannot query an empty
		// range"); no stored time lies between such bounds, so the
		// answer is no rows: a valid 1 ns range, filtered to nothing.
		src.Add("range", Arg{"start", Time(at)}, Arg{"stop", Time(at + 1)})
		pre = and(pre, Bool(false))
	} else {
		src.Add("range", Arg{"start", start(lower)}, Arg{"stop", stop(upper)})
	}

	// Top-level tag conditions filter series before pivot; the rest
	// needs the fields side by side.
	if c := absentMatch(p.Where); c != nil {
		return nil, target.Refuse(Name, "a regular expression on field "+c.Col.Name+", which some points lack", q,
			"InfluxDB 1.8's Flux fails to compile =~ on a column some tables lack (\"missing object properties\"), exists guard or not")
	}
	var post Expr
	for _, c := range conjuncts(p.Where, nil) {
		if cmp, ok := c.(*plan.Cmp); ok && cmp.Col.Tag {
			pre = and(pre, leaf(cmp, false))
			continue
		}
		post = and(post, pred(c, false))
	}
	src.Add("filter", Arg{"fn", fn(pre)})
	for _, c := range p.Schema {
		if strings.HasPrefix(c.Name, target.Marker) {
			return nil, target.Refuse(Name, "a column whose name starts with \\x01", q,
				"the Flux generator names its helper columns so")
		}
	}
	prog := &Program{Main: src}
	post1 := p.Post
	if !p.Aggregate {
		if empty := emptyStrings(p); len(empty) > 0 {
			// Flux's annotated CSV writes "" and null alike. Beside each
			// string field, a companion column (Marker + name) holds "1"
			// where the field's value is "": rows of its own, unioned in
			// before pivot(), so that no stage ever reads a column a table
			// may lack (map() fails on those; filter() reads them as null).
			// A union input made by map() crashes 1.8's union(); set()
			// does not.
			prog.Vars = []Var{{"rows", src}}
			tables := Array{Ident("rows")}
			for _, f := range empty {
				b := &Pipe{Head: Ident("rows")}
				b.Add("filter", Arg{"fn", fn(&Binary{Op: "==", L: col("_field"), R: Str(f)})})
				b.Add("filter", Arg{"fn", fn(&Binary{Op: "==", L: col("_value"), R: Str("")})})
				b.Add("set", Arg{"key", Str("_field")}, Arg{"value", Str(target.Marker + f)})
				b.Add("set", Arg{"key", Str("_value")}, Arg{"value", Str("1")})
				tables = append(tables, b)
			}
			prog.Main = &Pipe{Head: &Call{Fn: "union", Args: []Arg{{"tables", tables}}}}
			post1 = append([]target.PostStep{{Kind: target.StepEmpty, Names: empty}}, post1...)
		}
	}
	pipe := prog.Main
	pipe.Add("pivot", Arg{"rowKey", Array{Str("_time")}}, Arg{"columnKey", Array{Str("_field")}}, Arg{"valueColumn", Str("_value")})
	if post != nil {
		pipe.Add("filter", Arg{"fn", fn(post)})
	}
	if p.Aggregate {
		if err := aggregate(pipe, p); err != nil {
			return nil, err
		}
	}
	if !p.Aggregate && returnsBool(p) {
		// InfluxDB 1.8's group() scrambles a boolean column when it
		// merges tables that lack it (values land on other rows; measured
		// on the real server). Rows with a boolean field stay in their
		// series' tables: each sorted and cut to the rows the answer can
		// take from it, the gateway merges them. The first table fixes
		// the answer's columns, so a measurement with a tag some series
		// lack cannot be read this way (Flux has no per-table "add if
		// absent": fill() fails on a missing column, set() overwrites
		// present values).
		if t, ok := absentTag(p); ok {
			return nil, target.Refuse(Name, "a boolean field from a measurement whose tag "+t+" some series lack", q,
				"InfluxDB 1.8's group() scrambles boolean columns, and per-series tables cannot carry a tag some series lack")
		}
		post := perTable(pipe, p, post1) // adds stages: before the text is printed
		return &target.Output{Text: prog.String(), Notes: p.Notes, Post: post}, nil
	}
	pipe.Add("group")
	switch p.Order {
	case 1:
		pipe.Add("sort", Arg{"columns", Array{Str("_time")}})
	case -1:
		pipe.Add("sort", Arg{"columns", Array{Str("_time")}}, Arg{"desc", Bool(true)})
	}
	post2 := post1
	switch {
	case p.Limit > 0 && p.Offset > 0:
		pipe.Add("limit", Arg{"n", Int(p.Limit)}, Arg{"offset", Int(p.Offset)})
	case p.Limit > 0:
		pipe.Add("limit", Arg{"n", Int(p.Limit)})
	case p.Offset > 0:
		// limit() needs n: the gateway skips the rows of an OFFSET alone,
		// after the native sort.
		post2 = append(append([]target.PostStep{}, post1[:len(post1)-1]...),
			target.PostStep{Kind: target.StepLimit, Limit: -1, Offset: p.Offset}, post1[len(post1)-1])
	}
	return &target.Output{Text: prog.String(), Notes: p.Notes, Post: post2}, nil
}

// returnsBool says a raw query returns a boolean field.
func returnsBool(p *plan.Plan) bool {
	cols := p.Fetch
	if p.Star {
		cols = p.Schema
	}
	return slices.ContainsFunc(cols, func(c target.ColumnInfo) bool { return !c.Tag && c.Type == model.TypeBool })
}

// absentTag names a tag some points may lack. Every tag counts, read or
// not: each series' table carries its tags as its group key, and neither
// keep() nor drop() can remove one without merging tables whose columns
// differ (measured: "merges tables with different numbers of columns").
func absentTag(p *plan.Plan) (string, bool) {
	for _, c := range p.Schema {
		if c.Tag && !c.Required {
			return c.Name, true
		}
	}
	return "", false
}

// perTable orders and cuts each series' table natively (a table holds a
// top k only if the whole answer's top k can take them) and has the
// gateway merge them: its sort and limit go before the last post step,
// the projection.
func perTable(pipe *Pipe, p *plan.Plan, post []target.PostStep) []target.PostStep {
	var steps []target.PostStep
	if p.Order != 0 {
		desc := p.Order < 0
		if desc {
			pipe.Add("sort", Arg{"columns", Array{Str("_time")}}, Arg{"desc", Bool(true)})
		} else {
			pipe.Add("sort", Arg{"columns", Array{Str("_time")}})
		}
		steps = append(steps, target.PostStep{Kind: target.StepSort, Order: []*ast.OrderItem{
			{Span: ast.NoSpan, Expr: &ast.ColumnRef{Span: ast.NoSpan, Name: "_time"}, Desc: desc}}})
	}
	if p.Limit > 0 || p.Offset > 0 {
		if p.Limit > 0 {
			pipe.Add("limit", Arg{"n", Int(p.Limit + max(p.Offset, 0))})
		}
		steps = append(steps, target.PostStep{Kind: target.StepLimit, Limit: p.Limit, Offset: max(p.Offset, 0)})
	}
	out := append([]target.PostStep{}, post[:len(post)-1]...)
	return append(append(out, steps...), post[len(post)-1])
}

func fn(body Expr) Expr { return &Func{Params: []string{"r"}, Body: body} }

// emptyRange reports absolute bounds between which start and stop (as
// printed below) leave range() nothing. Bounds lie on the µs grid, as
// stored times do, so start >= stop exactly when no stored time
// satisfies both bounds. at is a valid instant for the empty range.
func emptyRange(lower, upper plan.Bound) (empty bool, at int64) {
	if !lower.Set || !upper.Set || lower.Now || upper.Now {
		return false, 0
	}
	lo, hi := lower.NS, upper.NS-1
	if !lower.Incl {
		lo++
	}
	if upper.Incl {
		hi = upper.NS + 999
	}
	return lo >= hi, lower.NS
}

func start(b plan.Bound) Expr {
	if !b.Set {
		return Time(plan.MinTime)
	}
	ns := b.NS
	if !b.Incl {
		ns++
	}
	if b.Now {
		return Dur(ns)
	}
	return Time(ns)
}

// stop picks a stop that is right whether range() excludes its stop (as
// documented) or includes it (InfluxDB 1.8, measured here: a point at the
// stop instant is returned): stored times lie on the µs grid, so for
// time < t the stop t-1ns and for time <= t the stop t+999ns fall
// between grid points either way.
func stop(b plan.Bound) Expr {
	if !b.Set {
		return Time(plan.MaxTime)
	}
	ns := b.NS - 1
	if b.Incl {
		ns = b.NS + 999
	}
	if b.Now {
		return Dur(ns)
	}
	return Time(ns)
}

func conjuncts(p plan.Pred, out []plan.Pred) []plan.Pred {
	switch x := p.(type) {
	case nil:
		return out
	case *plan.And:
		return conjuncts(x.R, conjuncts(x.L, out))
	}
	return append(out, p)
}

// absentMatch finds a regex match on a field that may be absent.
func absentMatch(p plan.Pred) *plan.Cmp {
	switch x := p.(type) {
	case *plan.And:
		if c := absentMatch(x.L); c != nil {
			return c
		}
		return absentMatch(x.R)
	case *plan.Or:
		if c := absentMatch(x.L); c != nil {
			return c
		}
		return absentMatch(x.R)
	case *plan.Cmp:
		if (x.Op == plan.Match || x.Op == plan.NotMatch) && !x.Col.Tag && !x.Col.Required {
			return x
		}
	}
	return nil
}

func and(l, r Expr) Expr {
	if l == nil {
		return parenOr(r)
	}
	return &Binary{Op: "and", L: parenOr(l), R: parenOr(r)}
}

// pred prints a condition; under is true below an OR.
func pred(p plan.Pred, under bool) Expr {
	switch x := p.(type) {
	case *plan.And:
		return and(pred(x.L, under), pred(x.R, under))
	case *plan.Or:
		return &Binary{Op: "or", L: pred(x.L, true), R: pred(x.R, true)}
	case *plan.Cmp:
		return leaf(x, under)
	}
	panic("flux: unknown predicate")
}

func parenOr(e Expr) Expr {
	if b, ok := e.(*Binary); ok && b.Op == "or" {
		return &Paren{X: e}
	}
	return e
}

// leaf prints one comparison with the guard its column needs (see the
// package comment).
func leaf(c *plan.Cmp, under bool) Expr {
	var rhs Expr
	lhs := col(c.Col.Name)
	switch {
	case c.Op == plan.Match || c.Op == plan.NotMatch:
		rhs = Regex(c.Regex)
	case c.Lit.Kind == ast.LitString:
		rhs = Str(c.Lit.Text)
	case c.Lit.Kind == ast.LitBool:
		rhs = Bool(c.Lit.Bool)
	default:
		lhs, rhs = numeric(c.Col, c.Lit)
	}
	var e Expr = &Binary{Op: cmpOp[c.Op], L: lhs, R: rhs}
	switch {
	case c.Col.Tag && c.TrueOnEmpty():
		e = &Paren{X: &Binary{Op: "or", L: &Not{X: &Exists{X: col(c.Col.Name)}}, R: e}}
	case under && (c.Col.Tag || c.Nullable):
		e = &Paren{X: &Binary{Op: "and", L: &Exists{X: col(c.Col.Name)}, R: e}}
	}
	return e
}

// numeric types a number for the field: Flux compares only equal types.
func numeric(f target.ColumnInfo, l *ast.Literal) (Expr, Expr) {
	lhs := col(f.Name)
	switch f.Type {
	case model.TypeFloat:
		return lhs, floatLit(l)
	case model.TypeUint:
		if l.Kind == ast.LitInt {
			return lhs, &Call{Fn: "uint", Args: []Arg{{"v", Int(l.Int)}}}
		}
		return &Call{Fn: "float", Args: []Arg{{"v", lhs}}}, floatLit(l)
	}
	if l.Kind == ast.LitInt {
		return lhs, Int(l.Int)
	}
	return &Call{Fn: "float", Args: []Arg{{"v", lhs}}}, floatLit(l)
}

func floatLit(l *ast.Literal) Expr {
	// An integer literal keeps its value in Int, not Text: the conformance
	// suite caught usage_user > 50 printed as > 0.0. Comparing a double
	// column with an integer converts the integer to double, in DuckDB
	// too.
	f := float64(l.Int)
	if l.Kind != ast.LitInt {
		var err error
		if f, err = strconv.ParseFloat(l.Text, 64); err != nil {
			// Unreachable: the shared plan refuses every number
			// ParseFloat rejects before generation.
			panic("flux: unparsable number literal " + strconv.Quote(l.Text))
		}
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	for _, c := range s {
		if c == '.' {
			return Float(s)
		}
	}
	return Float(s + ".0")
}

// aggregate appends bucketing, grouping and one reduce() computing every
// aggregate, then the divisions for averages.
func aggregate(pipe *Pipe, p *plan.Plan) error {
	var keys Array
	if p.BucketNS > 0 {
		t := &Call{Fn: "int", Args: []Arg{{"v", col("_time")}}}
		var since Expr = t
		if p.OffsetNS != 0 {
			since = &Paren{X: &Binary{Op: "-", L: t, R: Int(p.OffsetNS)}}
		}
		w := Int(p.BucketNS)
		// t - ((t - origin) % w + w) % w: the floor, also before the origin.
		floor := &Binary{Op: "-", L: t, R: &Binary{Op: "%", L: &Paren{X: &Binary{Op: "+", L: &Binary{Op: "%", L: since, R: w}, R: w}}, R: w}}
		pipe.Add("map", Arg{"fn", fn(&Record{With: r, Props: []Prop{{"_time", &Call{Fn: "time", Args: []Arg{{"v", floor}}}}}})})
		keys = append(keys, Str("_time"))
	}
	for _, t := range p.GroupTags {
		keys = append(keys, Str(t))
	}
	pipe.Add("group", Arg{"columns", keys})
	acc := Ident("accumulator")
	var id, next, avg []Prop
	for _, g := range p.Aggs {
		v := col(g.Field.Name)
		prev := &Member{X: acc, Prop: g.Name}
		switch g.Kind {
		case ast.AggCount:
			id = append(id, Prop{g.Name, Int(0)})
			next = append(next, Prop{g.Name, &Binary{Op: "+", L: prev, R: Int(1)}})
		case ast.AggSum:
			id = append(id, Prop{g.Name, zero(g.Field.Type)})
			next = append(next, Prop{g.Name, &Binary{Op: "+", L: prev, R: v}})
		case ast.AggMin, ast.AggMax:
			op := "<"
			if g.Kind == ast.AggMax {
				op = ">"
			}
			id = append(id, Prop{g.Name, extreme(g.Field.Type, g.Kind == ast.AggMax)})
			next = append(next, Prop{g.Name, &Cond{If: &Binary{Op: op, L: v, R: prev}, Then: v, Else: prev}})
		case ast.AggAvg:
			sum, n := "__sum_"+g.Name, "__n_"+g.Name
			id = append(id, Prop{sum, zero(g.Field.Type)}, Prop{n, Int(0)})
			next = append(next, Prop{sum, &Binary{Op: "+", L: &Member{X: acc, Prop: sum}, R: v}},
				Prop{n, &Binary{Op: "+", L: &Member{X: acc, Prop: n}, R: Int(1)}})
			toF := func(e Expr) Expr { return &Call{Fn: "float", Args: []Arg{{"v", e}}} }
			avg = append(avg, Prop{g.Name, &Binary{Op: "/", L: toF(col(sum)), R: toF(col(n))}})
		}
	}
	pipe.Add("reduce", Arg{"identity", &Record{Props: id}},
		Arg{"fn", &Func{Params: []string{"r", "accumulator"}, Body: &Record{Props: next}}})
	if len(avg) > 0 {
		pipe.Add("map", Arg{"fn", fn(&Record{With: r, Props: avg})})
	}
	return nil
}

func zero(t model.FieldType) Expr {
	switch t {
	case model.TypeFloat:
		return Float("0.0")
	case model.TypeUint:
		return &Call{Fn: "uint", Args: []Arg{{"v", Int(0)}}}
	}
	return Int(0)
}

// extreme is the identity of min (hi false) or max (hi true): the far
// end of the type's range, so the first value always replaces it.
func extreme(t model.FieldType, max bool) Expr {
	switch t {
	case model.TypeFloat:
		s := "+Inf"
		if max {
			s = "-Inf"
		}
		return &Call{Fn: "float", Args: []Arg{{"v", Str(s)}}}
	case model.TypeUint:
		s := "18446744073709551615"
		if max {
			s = "0"
		}
		return &Call{Fn: "uint", Args: []Arg{{"v", Str(s)}}}
	}
	if max {
		return Int(-1 << 63)
	}
	return Int(1<<63 - 1)
}
