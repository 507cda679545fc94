package plan

import (
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/ast"
	"tsgate/translate/sqlgen"
	"tsgate/translate/target"
)

// MinTime and MaxTime are the smallest and largest instants InfluxDB
// stores, in ns since the epoch.
const (
	MinTime int64 = -9223372036854775806
	MaxTime int64 = 9223372036854775806
)

// Op is a comparison in a Pred leaf.
type Op uint8

const (
	Eq Op = iota + 1
	Ne
	Lt
	Le
	Gt
	Ge
	Match
	NotMatch
)

// Pred is a WHERE condition without its time bounds.
type Pred interface{ pred() }

// And and Or combine predicates.
type And struct{ L, R Pred }
type Or struct{ L, R Pred }

// Cmp is `column op constant`: the only leaf either target evaluates.
type Cmp struct {
	Col target.ColumnInfo
	Op  Op
	// Lit is the constant (string, number or boolean); for Match and
	// NotMatch, Regex is the RE2 pattern instead.
	Lit   *ast.Literal
	Regex string
	// Nullable: the column may be absent (a field not Required). A tag is
	// never NULL.
	Nullable bool
}

func (*And) pred() {}
func (*Or) pred()  {}
func (*Cmp) pred() {}

// TrueOnEmpty reports whether the comparison holds for the empty string:
// an absent tag reads as ” in InfluxQL, and Flux must say so explicitly.
func (c *Cmp) TrueOnEmpty() bool {
	switch c.Op {
	case Eq:
		return c.Lit.Text == ""
	case Ne:
		return c.Lit.Text != ""
	case Match, NotMatch:
		ok := regexp.MustCompile(c.Regex).MatchString("")
		return ok == (c.Op == Match)
	}
	return false
}

// Bound is one end of the time range.
type Bound struct {
	Set bool
	// Now: NS is an offset from now(); else NS is an instant.
	Now bool
	NS  int64
	// Incl: the bound itself is in the range.
	Incl bool
}

// Agg is one aggregate the target computes, named Name in its output.
type Agg struct {
	Kind     ast.AggKind
	Field    target.ColumnInfo
	Distinct bool
	Name     string
	Node     *ast.Agg
}

// Plan is what the generator prints.
type Plan struct {
	// Target names the target in refusal messages; no decision reads it.
	Target      string
	Database    string
	Measurement string
	Schema      []target.ColumnInfo

	// Star: SELECT * (raw). Fetch lists the columns a raw query reads
	// (tags and fields, never time), in first-use order.
	Star  bool
	Fetch []target.ColumnInfo

	Where        Pred
	Lower, Upper Bound
	// Never: WHERE is constantly false.
	Never bool

	// Aggregate query: Aggs computed per group of (Bucket, GroupTags).
	Aggregate bool
	Aggs      []*Agg
	// BucketNS and OffsetNS describe the time bucket (0: none); OffsetNS
	// is in [0, BucketNS).
	BucketNS, OffsetNS int64
	GroupTags          []string

	// Native order and limit (applied by the target): Order is 0 for
	// none, +1 time ascending, -1 time descending.
	Order         int
	Limit, Offset int64 // -1: none

	Post  []target.PostStep
	Notes []target.Note
}

// Options are the target's answers to what plan cannot know. The plan
// never branches on the target's name: each difference between the
// targets that changes a decision is a field here, named for the
// behaviour. The zero value of each flag is the cautious answer.
type Options struct {
	// TimeCol is the target's name for the time column in its output.
	TimeCol string
	// Agg reports a refusal hint for an aggregate the target lacks, or ""
	// if it has it.
	Agg func(a *ast.Agg, field target.ColumnInfo) (refuse bool, hint string)
	// AggSkipsAbsent: the target's sum, avg, min and max skip the points
	// that lack the field, so over a field some points lack they agree
	// with SQL's (which skips NULL) in every group that exists — exact
	// once another aggregate anchors the groups (InfluxQL). False when
	// such an aggregate fails instead: Flux's reduce() stops on the nulls
	// pivot() leaves ("unknown type invalid" on InfluxDB 1.8), so it is
	// refused at once.
	AggSkipsAbsent bool
	// EmptyStringReadsNull: the target's result format writes an empty
	// string and a missing value alike (Flux's annotated CSV), so a string
	// field every point has reads NULL where its value was "". The final
	// projection then reads such a field's NULL back as "".
	EmptyStringReadsNull bool
}

type analyzer struct {
	p     *Plan
	opt   Options
	cols  map[string]target.ColumnInfo
	alias string // the table's alias or name
	sel   *ast.Select
	names []string // SQL output names
	used  map[string]bool
	// pg: the query means what it means in PostgreSQL (pg wire).
	pg bool
	// anchored: some aggregate counts a Required field (or count(*)), so
	// every group that has points is in the result. Until then a sum,
	// avg, min or max of a field that may be absent is only deferred:
	// alone it could lose a group whose points all lack the field.
	anchored bool
	absent   error
}

// Build analyzes q for target name.
func Build(name string, q ast.Query, env *target.Env, opt Options) (*Plan, error) {
	sel, ok := q.(*ast.Select)
	if !ok {
		return nil, target.Refuse(name, "UNION/INTERSECT/EXCEPT", q, "")
	}
	if len(sel.From) != 1 {
		return nil, target.Refuse(name, "a query without exactly one measurement", sel, "name one measurement in FROM")
	}
	tbl, ok := sel.From[0].(*ast.Table)
	if !ok {
		return nil, target.Refuse(name, "this FROM item", sel.From[0], "")
	}
	if env == nil || env.Schema == nil {
		return nil, target.Refuse(name, "a query without a schema", tbl,
			name+" needs to know which columns are tags and which are fields")
	}
	db := tbl.Schema
	if db == "" && env != nil {
		db = env.Database
	}
	cols, ok := env.Schema.Columns(db, tbl.Name)
	if !ok {
		return nil, &errs.Error{Code: errs.NotFound, Msg: "measurement " + tbl.Name + " does not exist", Position: pos(tbl)}
	}
	a := &analyzer{
		p:    &Plan{Target: name, Database: db, Measurement: tbl.Name, Schema: cols, Limit: -1, Offset: -1},
		opt:  opt,
		cols: map[string]target.ColumnInfo{},
		sel:  sel, used: map[string]bool{},
		pg: env.PostgresSemantics,
	}
	a.alias = tbl.Name
	if tbl.Alias != "" {
		a.alias = tbl.Alias
	}
	for _, c := range cols {
		a.cols[c.Name] = c
		a.used[c.Name] = true
	}
	a.used["time"] = true
	if err := a.where(sel.Where); err != nil {
		return nil, err
	}
	if err := a.output(); err != nil {
		return nil, err
	}
	return a.p, nil
}

func pos(n ast.Node) int {
	if n == nil || n.Pos().Start < 0 {
		return 0
	}
	return n.Pos().Start + 1
}

func (a *analyzer) refuse(construct string, n ast.Node, hint string) error {
	return target.Refuse(a.p.Target, construct, n, hint)
}

func (a *analyzer) note(construct, msg string) {
	for _, n := range a.p.Notes {
		if n.Construct == construct && n.Msg == msg {
			return
		}
	}
	a.p.Notes = append(a.p.Notes, target.Note{Construct: construct, Msg: msg})
}

// column resolves a column reference: ok is false for time.
func (a *analyzer) column(c *ast.ColumnRef) (info target.ColumnInfo, isTime bool, err error) {
	if c.Table != "" && c.Table != a.alias {
		return info, false, &errs.Error{Code: errs.Invalid, Msg: "missing FROM-clause entry for table " + c.Table, Position: pos(c)}
	}
	if c.Name == "time" {
		return info, true, nil
	}
	info, ok := a.cols[c.Name]
	if !ok {
		return info, false, &errs.Error{Code: errs.Invalid, Msg: "column " + c.Name + " does not exist in " + a.p.Measurement, Position: pos(c)}
	}
	return info, false, nil
}

// required is the first Required field, alphabetically.
func (a *analyzer) required() (target.ColumnInfo, bool) {
	best := target.ColumnInfo{}
	for _, c := range a.p.Schema {
		if !c.Tag && c.Required && (best.Name == "" || c.Name < best.Name) {
			best = c
		}
	}
	return best, best.Name != ""
}

// ---- WHERE ----

func conjuncts(e ast.Expr, out []ast.Expr) []ast.Expr {
	if b, ok := e.(*ast.Binary); ok && b.Op == ast.OpAnd {
		return conjuncts(b.R, conjuncts(b.L, out))
	}
	return append(out, e)
}

func (a *analyzer) where(e ast.Expr) error {
	if e == nil {
		return nil
	}
	var rest Pred
	for _, c := range conjuncts(e, nil) {
		done, err := a.timeCond(c)
		if err != nil {
			return err
		}
		if done {
			continue
		}
		p, err := a.cond(c, false)
		if err != nil {
			return err
		}
		rest = and(rest, p)
	}
	if rest == constFalse {
		a.p.Never = true
		rest = nil
	}
	if rest == constTrue {
		rest = nil
	}
	a.p.Where = rest
	return nil
}

// Constant predicates, folded away before generation.
type constPred bool

func (constPred) pred() {}

var (
	constTrue  Pred = constPred(true)
	constFalse Pred = constPred(false)
)

func and(l, r Pred) Pred {
	switch {
	case l == nil || l == constTrue:
		return r
	case r == nil || r == constTrue:
		return l
	case l == constFalse || r == constFalse:
		return constFalse
	}
	return &And{L: l, R: r}
}

func or(l, r Pred) Pred {
	switch {
	case l == constFalse:
		return r
	case r == constFalse:
		return l
	case l == constTrue || r == constTrue:
		return constTrue
	}
	return &Or{L: l, R: r}
}

func isTimeRef(e ast.Expr) bool {
	c, ok := e.(*ast.ColumnRef)
	return ok && c.Name == "time"
}

// timeCond takes a top-level time comparison into the range.
func (a *analyzer) timeCond(e ast.Expr) (bool, error) {
	switch e := e.(type) {
	case *ast.Binary:
		if !e.Op.IsComparison() {
			return false, nil
		}
		op, other := e.Op, e.R
		if isTimeRef(e.R) && !isTimeRef(e.L) {
			op, other = flip(op), e.L
		} else if !isTimeRef(e.L) {
			return false, nil
		}
		b, err := a.instant(other)
		if err != nil {
			return true, err
		}
		switch op {
		case ast.OpGt, ast.OpGe:
			b.Incl = op == ast.OpGe
			return true, a.bound(&a.p.Lower, b, e, true)
		case ast.OpLt, ast.OpLe:
			b.Incl = op == ast.OpLe
			return true, a.bound(&a.p.Upper, b, e, false)
		case ast.OpEq:
			b.Incl = true
			if err := a.bound(&a.p.Lower, b, e, true); err != nil {
				return true, err
			}
			return true, a.bound(&a.p.Upper, b, e, false)
		}
		return true, a.refuse("time "+op.String()+" …", e, "compare time with <, <=, >, >= or =")
	case *ast.Between:
		if !isTimeRef(e.X) {
			return false, nil
		}
		if e.Not {
			return true, a.refuse("time NOT BETWEEN", e, "a time range must be one interval")
		}
		lo, err := a.instant(e.Lo)
		if err != nil {
			return true, err
		}
		hi, err := a.instant(e.Hi)
		if err != nil {
			return true, err
		}
		lo.Incl, hi.Incl = true, true
		if err := a.bound(&a.p.Lower, lo, e, true); err != nil {
			return true, err
		}
		return true, a.bound(&a.p.Upper, hi, e, false)
	}
	return false, nil
}

func flip(op ast.BinaryOp) ast.BinaryOp {
	switch op {
	case ast.OpLt:
		return ast.OpGt
	case ast.OpLe:
		return ast.OpGe
	case ast.OpGt:
		return ast.OpLt
	case ast.OpGe:
		return ast.OpLe
	}
	return op
}

// instant reads a time constant: a TimestampLit (the rewrite stage has
// put it on the µs grid), now(), or now() ± a fixed interval.
func (a *analyzer) instant(e ast.Expr) (Bound, error) {
	switch e := e.(type) {
	case *ast.TimestampLit:
		a.note("time literal", "bound is on the µs grid (Arc's precision); InfluxDB keeps ns, so a point written with sub-µs digits directly to InfluxDB can compare differently within 1 µs of the bound")
		return Bound{Set: true, NS: e.Micros * 1000}, nil
	case *ast.Now:
		return Bound{Set: true, Now: true}, nil
	case *ast.Binary:
		if _, ok := e.L.(*ast.Now); ok && (e.Op == ast.OpAdd || e.Op == ast.OpSub) {
			iv, ok := e.R.(*ast.Interval)
			if !ok {
				break
			}
			if !iv.Fixed() {
				return Bound{}, a.refuse("an interval with months", iv, "a month has no fixed length; use days or hours")
			}
			d := iv.FixedMicros() * 1000
			if e.Op == ast.OpSub {
				d = -d
			}
			return Bound{Set: true, Now: true, NS: d}, nil
		}
	}
	return Bound{}, a.refuse("comparing time with "+e.String(), e, "compare time with a timestamp literal or now() ± an interval")
}

// bound merges b into *dst: two absolute bounds keep the tighter one;
// a relative and another bound cannot be ordered at translation time.
func (a *analyzer) bound(dst *Bound, b Bound, n ast.Node, lower bool) error {
	if !dst.Set {
		*dst = b
		return nil
	}
	if dst.Now || b.Now {
		return a.refuse("two time bounds on one side", n, "give at most one lower and one upper time bound")
	}
	// Compare as half-open integers: an exclusive lower t is inclusive t+1.
	key := func(x Bound) int64 {
		switch {
		case lower && !x.Incl:
			return x.NS + 1
		case !lower && x.Incl:
			return x.NS + 1
		}
		return x.NS
	}
	if lower == (key(b) > key(*dst)) {
		*dst = b
	}
	return nil
}

var negOp = map[ast.BinaryOp]ast.BinaryOp{
	ast.OpEq: ast.OpNe, ast.OpNe: ast.OpEq, ast.OpLt: ast.OpGe, ast.OpGe: ast.OpLt, ast.OpGt: ast.OpLe, ast.OpLe: ast.OpGt,
}

var cmpOp = map[ast.BinaryOp]Op{ast.OpEq: Eq, ast.OpNe: Ne, ast.OpLt: Lt, ast.OpLe: Le, ast.OpGt: Gt, ast.OpGe: Ge}

// cond converts a condition, negated when neg, pushing NOT to the leaves.
func (a *analyzer) cond(e ast.Expr, neg bool) (Pred, error) {
	switch e := e.(type) {
	case *ast.Binary:
		switch e.Op {
		case ast.OpAnd, ast.OpOr:
			l, err := a.cond(e.L, neg)
			if err != nil {
				return nil, err
			}
			r, err := a.cond(e.R, neg)
			if err != nil {
				return nil, err
			}
			if (e.Op == ast.OpAnd) != neg {
				return and(l, r), nil
			}
			return or(l, r), nil
		}
		if !e.Op.IsComparison() {
			break
		}
		if isTimeRef(e.L) || isTimeRef(e.R) {
			return nil, a.refuse("a time condition under OR or NOT", e, "time bounds must be joined to the rest of WHERE by AND")
		}
		op := e.Op
		col, lit := e.L, e.R
		if _, ok := e.L.(*ast.Literal); ok {
			col, lit, op = e.R, e.L, flip(op)
		}
		if neg {
			op = negOp[op]
		}
		return a.leaf(e, col, cmpOp[op], lit, "")
	case *ast.Unary:
		if e.Op == ast.Not {
			return a.cond(e.X, !neg)
		}
	case *ast.Literal:
		if e.Kind == ast.LitBool {
			if e.Bool != neg {
				return constTrue, nil
			}
			return constFalse, nil
		}
	case *ast.InList:
		if err := a.mixedNumbers(e, e.X, e.List...); err != nil {
			return nil, err
		}
		var out Pred
		not := e.Not != neg
		for _, x := range e.List {
			if l, ok := x.(*ast.Literal); ok && l.Kind == ast.LitNull {
				return nil, a.refuse("NULL in an IN list", x, "IN with NULL is never true in SQL; remove the NULL")
			}
			op := Eq
			if not {
				op = Ne
			}
			p, err := a.leaf(e, e.X, op, x, "")
			if err != nil {
				return nil, err
			}
			if not {
				out = and(out, p)
			} else if out == nil {
				out = p
			} else {
				out = or(out, p)
			}
		}
		return out, nil
	case *ast.Between:
		if err := a.mixedNumbers(e, e.X, e.Lo, e.Hi); err != nil {
			return nil, err
		}
		not := e.Not != neg
		if not {
			l, err := a.leaf(e, e.X, Lt, e.Lo, "")
			if err != nil {
				return nil, err
			}
			r, err := a.leaf(e, e.X, Gt, e.Hi, "")
			if err != nil {
				return nil, err
			}
			return or(l, r), nil
		}
		l, err := a.leaf(e, e.X, Ge, e.Lo, "")
		if err != nil {
			return nil, err
		}
		r, err := a.leaf(e, e.X, Le, e.Hi, "")
		if err != nil {
			return nil, err
		}
		return and(l, r), nil
	case *ast.Like:
		lit, ok := e.Pattern.(*ast.Literal)
		if !ok || lit.Kind != ast.LitString {
			return nil, a.refuse("LIKE with a non-constant pattern", e, "")
		}
		re, ok := LikeRegex(lit.Text, e.Escape)
		if !ok {
			return nil, a.refuse("a LIKE pattern ending in its escape character", e, "")
		}
		op := Match
		if e.Not != neg {
			op = NotMatch
		}
		return a.leaf(e, e.X, op, nil, re)
	case *ast.RegexMatch:
		if e.CaseInsensitive {
			return nil, a.refuse("case-insensitive regular-expression matching", e, "Go's (?i) folds case differently from the SQL engines")
		}
		if why := sqlgen.CheckRegex(e.Pattern); why != "" {
			return nil, a.refuse("regular expression with "+why, e, "engines disagree on this syntax")
		}
		lit := e.Pattern.(*ast.Literal)
		if _, err := regexp.Compile(lit.Text); err != nil {
			return nil, a.refuse("a regular expression RE2 rejects", e, err.Error())
		}
		a.note("regular expression", "evaluated by Go's RE2 engine; PostgreSQL (ARE) and RE2 agree on the syntax used here")
		op := Match
		if e.Not != neg {
			op = NotMatch
		}
		return a.leaf(e, e.X, op, nil, lit.Text)
	case *ast.IsNull:
		return nil, a.refuse("IS [NOT] NULL", e, "InfluxDB has no NULL test in WHERE: an absent tag reads as '' and an absent field is simply not there")
	}
	return nil, a.refuse("this condition ("+e.String()+")", e, "the condition must compare a tag or field with a constant")
}

// leaf builds one comparison, checking the column's kind against the
// operator and the constant.
func (a *analyzer) leaf(n ast.Node, colExpr ast.Expr, op Op, litExpr ast.Expr, re string) (Pred, error) {
	cr, ok := colExpr.(*ast.ColumnRef)
	if !ok {
		return nil, a.refuse("a condition on an expression ("+colExpr.String()+")", n, "compare a tag or field directly with a constant")
	}
	col, isTime, err := a.column(cr)
	if err != nil {
		return nil, err
	}
	if isTime {
		return nil, a.refuse("a time condition under OR or NOT", n, "time bounds must be joined to the rest of WHERE by AND")
	}
	c := &Cmp{Col: col, Op: op, Regex: printableRegex(re), Nullable: !col.Tag && !col.Required}
	if col.Tag && !col.Required {
		// A point without the tag reads as '': only a condition false for
		// '' treats it as SQL treats NULL (not true).
		lit, ok := litExpr.(*ast.Literal)
		allowed := (op == Eq && ok && lit.Kind == ast.LitString && lit.Text != "") ||
			(op == Match && re != "" && !regexp.MustCompile(re).MatchString(""))
		if !allowed {
			return nil, a.refuse("this condition on tag "+col.Name+", which some points lack", n,
				"InfluxDB reads an absent tag as '', where SQL's NULL fails every condition; the gateway computes it")
		}
	}
	what := "field"
	if col.Tag {
		what = "tag"
	}
	if op == Match || op == NotMatch {
		if !col.Tag && col.Type != model.TypeString {
			return nil, a.refuse("pattern matching on the non-string "+what+" "+col.Name, n, "")
		}
		return c, nil
	}
	lit, ok := litExpr.(*ast.Literal)
	if !ok {
		return nil, a.refuse("comparing "+what+" "+col.Name+" with "+litExpr.String(), n, "compare with a constant")
	}
	c.Lit = lit
	str := col.Tag || col.Type == model.TypeString
	switch {
	case str:
		if lit.Kind != ast.LitString {
			return nil, a.refuse("comparing the string "+what+" "+col.Name+" with a non-string", n, "")
		}
		if op != Eq && op != Ne {
			return nil, a.refuse("ordering comparison on the string "+what+" "+col.Name, n, "use =, <>, LIKE or IN")
		}
	case col.Type == model.TypeBool:
		if lit.Kind != ast.LitBool || (op != Eq && op != Ne) {
			return nil, a.refuse("this comparison on the boolean field "+col.Name, n, "use = true or = false")
		}
		if !col.Required {
			// InfluxQL evaluates an absent boolean as false, so `= false`
			// would match points that lack the field.
			return nil, a.refuse("comparing the boolean field "+col.Name+", which may be absent", n, "InfluxQL treats an absent boolean as false; mark the field Required in the schema if every point has it")
		}
	default: // numeric field
		if lit.Kind != ast.LitInt && lit.Kind != ast.LitNumber {
			return nil, a.refuse("comparing the numeric field "+col.Name+" with a non-number", n, "")
		}
		if lit.Kind == ast.LitNumber {
			if _, err := strconv.ParseFloat(lit.Text, 64); err != nil {
				return nil, a.refuse("the number "+lit.Text, lit, "")
			}
			if col.Type == model.TypeInt || col.Type == model.TypeUint {
				l, err := a.intFieldLiteral(col, lit, n)
				if err != nil {
					return nil, err
				}
				c.Lit = l
			}
		}
		if col.Type == model.TypeUint && lit.Kind == ast.LitInt && lit.Int < 0 {
			return nil, a.refuse("comparing the unsigned field "+col.Name+" with a negative number", n, "")
		}
	}
	return c, nil
}

// mixedNumbers refuses an integer field compared, in one IN list or
// BETWEEN, with both a number written with an exponent (a DOUBLE in
// DuckDB) and other numbers: DuckDB then compares every operand as a
// double (2^53+1 matches 2^53), where InfluxDB compares the integer
// members exactly.
func (a *analyzer) mixedNumbers(n ast.Node, x ast.Expr, vals ...ast.Expr) error {
	c, ok := x.(*ast.ColumnRef)
	if a.pg || !ok {
		return nil
	}
	col, isTime, err := a.column(c)
	if err != nil || isTime || (col.Type != model.TypeInt && col.Type != model.TypeUint) {
		return nil
	}
	float, other := false, false
	for _, v := range vals {
		if u, ok := v.(*ast.Unary); ok && u.Op == ast.Neg {
			v = u.X
		}
		switch l, _ := v.(*ast.Literal); {
		case l == nil:
		case l.IsDouble():
			float = true
		case l.Kind == ast.LitNumber || l.Kind == ast.LitInt:
			other = true
		}
	}
	if float && other {
		return a.refuse("comparing the integer field "+col.Name+" with integers and a float together", n,
			"DuckDB compares every member as a double there; write the numbers alike")
	}
	return nil
}

// intFieldLiteral is the literal to compare the integer field col with
// in place of the number lit. InfluxDB compares an integer with a float
// as float64, which DuckDB and PostgreSQL do only for a number written
// with an exponent in DuckDB; a decimal number (a DECIMAL there, numeric
// in PostgreSQL) compares exactly. Below 2^53 in magnitude the float
// comparison gives the same answer (a larger integer keeps its sign and
// magnitude side as float64); a whole number within int64 is sent as an
// integer; anything else is refused.
func (a *analyzer) intFieldLiteral(col target.ColumnInfo, lit *ast.Literal, n ast.Node) (*ast.Literal, error) {
	if !a.pg && lit.IsDouble() {
		return lit, nil // DuckDB compares as float64 too
	}
	r, ok := new(big.Rat).SetString(lit.Text)
	if !ok {
		return nil, a.refuse("the number "+lit.Text, lit, "")
	}
	if r.IsInt() && r.Num().IsInt64() {
		return &ast.Literal{Span: lit.Span, Kind: ast.LitInt, Int: r.Num().Int64(), Text: r.Num().String()}, nil
	}
	if new(big.Rat).Abs(r).Cmp(new(big.Rat).SetInt64(1<<53)) < 0 {
		return lit, nil
	}
	return nil, a.refuse("comparing the integer field "+col.Name+" with "+lit.Text, n,
		"InfluxDB compares an integer with a fraction as float64, inexact beyond 2^53")
}

// LikeRegex turns a LIKE pattern into an equivalent RE2 pattern: every
// literal character quoted, % as (?s).* and _ as (?s)., anchored at
// each end that has no %. ok is false for a trailing escape.
func LikeRegex(pat, esc string) (string, bool) {
	toks, ok := sqlgen.ParseLike(pat, esc)
	if !ok {
		return "", false
	}
	if len(toks) == 0 {
		return "^$", true // LIKE '' matches the empty string only
	}
	start, end := 0, len(toks)
	for start < end && toks[start].Wild == '%' {
		start++
	}
	for end > start && toks[end-1].Wild == '%' {
		end--
	}
	var b strings.Builder
	dot := false
	if start == 0 {
		b.WriteByte('^')
	}
	for i := start; i < end; i++ {
		t := toks[i]
		switch t.Wild {
		case '%':
			if toks[i-1].Wild != '%' {
				b.WriteString(".*")
				dot = true
			}
		case '_':
			b.WriteByte('.')
			dot = true
		default:
			b.WriteString(regexp.QuoteMeta(string(t.R)))
		}
	}
	if end == len(toks) && start < end {
		b.WriteByte('$')
	}
	s := b.String()
	if s == "" {
		s = "^" // the pattern matches every string
	}
	if dot {
		// SQL's % and _ match newlines too.
		s = "(?s)" + s
	}
	return s, true
}

// printableRegex spells an RE2 pattern so it survives printing between
// slashes, meaning the same:
//   - each escaped backslash as \x5c: InfluxQL's and Flux's scanners read
//     `\\/` as a backslash and an escaped delimiter, so a pattern ending
//     in a literal backslash would not survive;
//   - a raw line feed or carriage return as \n or \r: InfluxQL's scanner
//     ends a regex literal at a line feed (a LIKE pattern for text with a
//     newline failed as "bad regex"). In valid RE2 a raw newline is never
//     itself escaped, so the escape sequence means the same character.
func printableRegex(re string) string {
	if !strings.ContainsAny(re, "\\\n\r") {
		return re
	}
	var b strings.Builder
	for i := 0; i < len(re); i++ {
		switch {
		case re[i] == '\\' && i+1 < len(re):
			if re[i+1] == '\\' {
				b.WriteString(`\x5c`)
			} else {
				b.WriteByte(re[i])
				b.WriteByte(re[i+1])
			}
			i++
		case re[i] == '\n':
			b.WriteString(`\n`)
		case re[i] == '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(re[i])
		}
	}
	return b.String()
}

// ---- select list, GROUP BY, HAVING, ORDER BY, LIMIT ----

// outName is the name SQL gives an output column: the alias, a column's
// own name, else the expression's text (DuckDB's rule).
func outName(it *ast.SelectItem) string {
	if it.Alias != "" {
		return it.Alias
	}
	if c, ok := it.Expr.(*ast.ColumnRef); ok {
		return c.Name
	}
	// DuckDB (Arc) names an unaliased count(*) count_star(); other
	// expressions print as DuckDB prints them for the simple shapes used.
	if a, ok := it.Expr.(*ast.Agg); ok && a.Kind == ast.AggCount && a.Arg == nil && !a.Distinct {
		return "count_star()"
	}
	return it.Expr.String()
}

func hasAgg(e ast.Node) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if _, ok := n.(*ast.Agg); ok {
			found = true
		}
		return !found
	})
	return found
}

func (a *analyzer) output() error {
	s := a.sel
	for _, it := range s.Columns {
		a.names = append(a.names, outName(it))
		if hasAgg(it.Expr) {
			a.p.Aggregate = true
		}
	}
	if len(s.GroupBy) > 0 || (s.Having != nil) {
		a.p.Aggregate = true
	}
	for _, o := range s.OrderBy {
		if hasAgg(o.Expr) {
			a.p.Aggregate = true
		}
	}
	if a.p.Aggregate {
		return a.aggregate()
	}
	return a.raw()
}

// resolve maps a GROUP BY / ORDER BY item that names an output column
// (by position or alias) to that column's expression. In GROUP BY an
// input column wins over an alias; in ORDER BY the alias wins.
func (a *analyzer) resolve(e ast.Expr, aliasFirst bool) (ast.Expr, error) {
	switch x := e.(type) {
	case *ast.Literal:
		if x.Kind == ast.LitInt {
			if x.Int < 1 || int(x.Int) > len(a.sel.Columns) {
				return nil, &errs.Error{Code: errs.Invalid, Msg: "position " + x.Text + " is not in select list", Position: pos(x)}
			}
			return a.sel.Columns[x.Int-1].Expr, nil
		}
	case *ast.ColumnRef:
		if x.Table != "" {
			return e, nil
		}
		_, isCol := a.cols[x.Name]
		isCol = isCol || x.Name == "time"
		if isCol && !aliasFirst {
			return e, nil
		}
		for i, it := range a.sel.Columns {
			if it.Alias == x.Name {
				return a.sel.Columns[i].Expr, nil
			}
		}
	}
	return e, nil
}

func colRef(name string) *ast.ColumnRef {
	return &ast.ColumnRef{Span: ast.NoSpan, Name: name}
}

var safeName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// fresh returns a backend column name for a computed column: the SQL
// name when it is a plain identifier no column uses, else _c<i>.
func (a *analyzer) fresh(want string) string {
	if safeName.MatchString(want) && !a.used[want] {
		a.used[want] = true
		return want
	}
	for i := 0; ; i++ {
		n := "_c" + strconv.Itoa(i)
		if !a.used[n] {
			a.used[n] = true
			return n
		}
	}
}

func (a *analyzer) raw() error {
	s := a.sel
	var proj []target.ProjectColumn
	fetched := map[string]bool{}
	fetch := func(c target.ColumnInfo) {
		if !fetched[c.Name] {
			fetched[c.Name] = true
			a.p.Fetch = append(a.p.Fetch, c)
		}
	}
	// expr converts a select or ORDER BY expression to one over backend
	// columns, fetching what it reads.
	var expr func(e ast.Expr) (ast.Expr, error)
	expr = func(e ast.Expr) (ast.Expr, error) {
		switch x := e.(type) {
		case *ast.ColumnRef:
			c, isTime, err := a.column(x)
			if err != nil {
				return nil, err
			}
			if isTime {
				return colRef(a.opt.TimeCol), nil
			}
			if err := a.optionalTag(c, x); err != nil {
				return nil, err
			}
			fetch(c)
			return colRef(c.Name), nil
		}
		return a.scalar(e, expr)
	}
	for i, it := range s.Columns {
		if st, ok := it.Expr.(*ast.Star); ok {
			if len(s.Columns) > 1 || (st.Table != "" && st.Table != a.alias) {
				return a.refuse("* beside other select items", it, "select * alone or list the columns")
			}
			for _, c := range a.p.Schema {
				if err := a.optionalTag(c, it); err != nil {
					return err
				}
			}
			a.p.Star = true
			proj = append(proj, target.ProjectColumn{Name: "time", Expr: colRef(a.opt.TimeCol)})
			// time, then every column alphabetically: Arc's SELECT *
			// order (it sorts a measurement's columns, tags and fields
			// alike), which the embedded store keeps too.
			cols := append([]target.ColumnInfo(nil), a.p.Schema...)
			sort.Slice(cols, func(i, j int) bool { return cols[i].Name < cols[j].Name })
			for _, c := range cols {
				proj = append(proj, target.ProjectColumn{Name: c.Name, Expr: colRef(c.Name)})
			}
			continue
		}
		x, err := expr(it.Expr)
		if err != nil {
			return err
		}
		proj = append(proj, target.ProjectColumn{Name: a.names[i], Expr: x})
	}
	var order []*ast.OrderItem
	for _, o := range s.OrderBy {
		e, err := a.resolve(o.Expr, true)
		if err != nil {
			return err
		}
		x, err := expr(e)
		if err != nil {
			return err
		}
		order = append(order, &ast.OrderItem{Span: ast.NoSpan, Expr: x, Desc: o.Desc, Nulls: o.Nulls})
	}
	if !a.p.Star {
		// InfluxQL returns only points that have one of the fetched
		// fields; a Required one makes that every point.
		has := false
		for _, c := range a.p.Fetch {
			has = has || (!c.Tag && c.Required)
		}
		if !has {
			req, ok := a.required()
			if !ok {
				return a.refuse("selecting columns none of which is present in every point", s,
					"mark a field that every point has as Required in the schema")
			}
			fetch(req)
		}
	}
	native := len(order) == 0 || (len(order) == 1 && isCol(order[0].Expr, a.opt.TimeCol))
	if native && len(order) == 1 {
		a.p.Order = 1
		if order[0].Desc {
			a.p.Order = -1
		}
	}
	return a.tail(native, order, nil, proj)
}

func isCol(e ast.Expr, name string) bool {
	c, ok := e.(*ast.ColumnRef)
	return ok && c.Name == name
}

// scalar handles the expression forms both raw and aggregate outputs
// allow: constants and arithmetic, which the gateway evaluates.
func (a *analyzer) scalar(e ast.Expr, sub func(ast.Expr) (ast.Expr, error)) (ast.Expr, error) {
	switch x := e.(type) {
	case *ast.Literal:
		return x, nil
	case *ast.Unary:
		if x.Op != ast.Neg {
			break
		}
		y, err := sub(x.X)
		if err != nil {
			return nil, err
		}
		return &ast.Unary{Span: ast.NoSpan, Op: x.Op, X: y}, nil
	case *ast.Binary:
		switch x.Op {
		case ast.OpAdd, ast.OpSub, ast.OpMul, ast.OpDiv, ast.OpIntDiv, ast.OpMod,
			ast.OpEq, ast.OpNe, ast.OpLt, ast.OpLe, ast.OpGt, ast.OpGe, ast.OpAnd, ast.OpOr:
			if x.Op != ast.OpDiv && !x.Op.IsComparison() && (decimalLit(x.L) && !a.isFloat(x.R) || decimalLit(x.R) && !a.isFloat(x.L)) {
				// DuckDB types 1 + 0.5 DECIMAL, exact and printed as
				// written; the gateway computes in float64.
				return nil, a.refuse(x.String()+" (arithmetic between a decimal literal and a non-float value)", x,
					"write the literal with an exponent (0.5e0) or cast the other operand to DOUBLE")
			}
			l, err := sub(x.L)
			if err != nil {
				return nil, err
			}
			r, err := sub(x.R)
			if err != nil {
				return nil, err
			}
			return &ast.Binary{Span: ast.NoSpan, Op: x.Op, L: l, R: r}, nil
		}
	}
	return nil, a.refuse(e.String()+" in the select list", e, "select columns, aggregates of fields, and arithmetic on them")
}

// decimalLit reports a fractional literal written without an exponent,
// which DuckDB reads as DECIMAL.
func decimalLit(e ast.Expr) bool {
	if u, ok := e.(*ast.Unary); ok && u.Op == ast.Neg {
		e = u.X
	}
	l, ok := e.(*ast.Literal)
	return ok && l.Kind == ast.LitNumber && !l.IsDouble()
}

// isFloat reports an expression DuckDB types DOUBLE, so arithmetic with
// a decimal literal is DOUBLE arithmetic, as the gateway computes it.
func (a *analyzer) isFloat(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.Literal:
		return x.IsDouble()
	case *ast.ColumnRef:
		c, isTime, err := a.column(x)
		return err == nil && !isTime && !c.Tag && c.Type == model.TypeFloat
	case *ast.Unary:
		return x.Op == ast.Neg && a.isFloat(x.X)
	case *ast.Cast:
		return x.Type.Kind == ast.TypeDouble
	case *ast.Agg:
		switch x.Kind {
		case ast.AggAvg, ast.AggStddevSamp, ast.AggStddevPop, ast.AggVarSamp, ast.AggVarPop, ast.AggMedian, ast.AggPercentileCont:
			return true
		case ast.AggSum, ast.AggMin, ast.AggMax, ast.AggFirst, ast.AggLast:
			return x.Arg != nil && a.isFloat(x.Arg)
		}
	case *ast.Binary:
		switch x.Op {
		case ast.OpDiv:
			return true
		case ast.OpAdd, ast.OpSub, ast.OpMul:
			return a.isFloat(x.L) || a.isFloat(x.R)
		}
	}
	return false
}

func (a *analyzer) aggregate() error {
	s := a.sel
	var bucket *ast.TimeBucket
	tags := map[string]bool{}
	for _, g := range s.GroupBy {
		e, err := a.resolve(g, false)
		if err != nil {
			return err
		}
		switch x := e.(type) {
		case *ast.TimeBucket:
			if bucket != nil {
				return a.refuse("two time buckets in GROUP BY", x, "")
			}
			if err := a.bucket(x); err != nil {
				return err
			}
			bucket = x
			continue
		case *ast.ColumnRef:
			c, isTime, err := a.column(x)
			if err != nil {
				return err
			}
			if !isTime && c.Tag {
				if err := a.optionalTag(c, x); err != nil {
					return err
				}
				if !tags[c.Name] {
					tags[c.Name] = true
					a.p.GroupTags = append(a.p.GroupTags, c.Name)
				}
				continue
			}
		}
		return a.refuse("GROUP BY "+e.String(), g, a.p.Target+" groups by tags and one time bucket only")
	}
	var expr func(e ast.Expr) (ast.Expr, error)
	expr = func(e ast.Expr) (ast.Expr, error) {
		switch x := e.(type) {
		case *ast.TimeBucket:
			if bucket != nil && x.String() == bucket.String() {
				return colRef(a.opt.TimeCol), nil
			}
			return nil, &errs.Error{Code: errs.Invalid, Msg: x.String() + " must appear in the GROUP BY clause", Position: pos(x)}
		case *ast.ColumnRef:
			c, _, err := a.column(x)
			if err != nil {
				return nil, err
			}
			if c.Tag && tags[c.Name] {
				return colRef(c.Name), nil
			}
			return nil, &errs.Error{Code: errs.Invalid, Msg: "column " + x.Name + " must appear in the GROUP BY clause or be used in an aggregate function", Position: pos(x)}
		case *ast.Agg:
			return a.agg(x, "")
		}
		return a.scalar(e, expr)
	}
	var proj []target.ProjectColumn
	for i, it := range s.Columns {
		if _, ok := it.Expr.(*ast.Star); ok {
			return a.refuse("* in an aggregate query", it, "")
		}
		// Name an aggregate selected as is after its SQL name.
		if ag, ok := it.Expr.(*ast.Agg); ok {
			if _, err := a.agg(ag, a.names[i]); err != nil {
				return err
			}
		}
		x, err := expr(it.Expr)
		if err != nil {
			return err
		}
		proj = append(proj, target.ProjectColumn{Name: a.names[i], Expr: x})
	}
	if len(a.p.Aggs) == 0 && s.Having == nil {
		return a.refuse("GROUP BY without an aggregate", s, "InfluxDB computes groups only for aggregates of fields (SHOW TAG VALUES lists a tag's values)")
	}

	var having ast.Expr
	if s.Having != nil {
		h, err := expr(s.Having)
		if err != nil {
			return err
		}
		having = h
	}
	var order []*ast.OrderItem
	for _, o := range s.OrderBy {
		e, err := a.resolve(o.Expr, true)
		if err != nil {
			return err
		}
		x, err := expr(e)
		if err != nil {
			return err
		}
		order = append(order, &ast.OrderItem{Span: ast.NoSpan, Expr: x, Desc: o.Desc, Nulls: o.Nulls})
	}
	if bucket == nil && len(a.p.GroupTags) == 0 {
		// SQL returns one row even when nothing matches.
		var def []target.ProjectColumn
		for _, g := range a.p.Aggs {
			v := &ast.Literal{Span: ast.NoSpan, Kind: ast.LitNull}
			if g.Kind == ast.AggCount {
				v = &ast.Literal{Span: ast.NoSpan, Kind: ast.LitInt, Text: "0"}
			}
			def = append(def, target.ProjectColumn{Name: g.Name, Expr: v})
		}
		a.p.Post = append(a.p.Post, target.PostStep{Kind: target.StepDefaultRow, Columns: def})
	}
	native := len(order) == 0 || (len(a.p.GroupTags) == 0 && bucket != nil && len(order) == 1 && isCol(order[0].Expr, a.opt.TimeCol))
	if native && len(order) == 1 {
		a.p.Order = 1
		if order[0].Desc {
			a.p.Order = -1
		}
	}
	if bucket == nil && len(a.p.GroupTags) == 0 {
		native = false // one row: LIMIT/OFFSET apply after the default row
	}
	if len(a.p.GroupTags) > 0 && (s.Limit != nil || s.Offset != nil) {
		native = false // InfluxQL's LIMIT counts per series
	}
	return a.tail(native, order, having, proj)
}

// tail decides where ORDER BY, HAVING and LIMIT/OFFSET run and closes the
// post steps with the projection.
func (a *analyzer) tail(native bool, order []*ast.OrderItem, having ast.Expr, proj []target.ProjectColumn) error {
	s := a.sel
	limit, offset := int64(-1), int64(0)
	if s.Limit != nil {
		l, ok := s.Limit.(*ast.Literal)
		if !ok || l.Kind != ast.LitInt || l.Int < 0 {
			if ok && l.Kind == ast.LitNull {
				l = nil
			} else {
				return a.refuse("LIMIT "+s.Limit.String(), s.Limit, "LIMIT takes a non-negative integer constant")
			}
		}
		if l != nil {
			limit = l.Int
		}
	}
	if s.Offset != nil {
		l, ok := s.Offset.(*ast.Literal)
		if !ok || l.Kind != ast.LitInt || l.Int < 0 {
			return a.refuse("OFFSET "+s.Offset.String(), s.Offset, "OFFSET takes a non-negative integer constant")
		}
		offset = l.Int
	}
	if a.p.Never {
		// Keep the query valid and let the gateway drop every row.
		a.p.Post = append([]target.PostStep{{Kind: target.StepFilter,
			Filter: &ast.Literal{Span: ast.NoSpan, Kind: ast.LitBool}}}, a.p.Post...)
	}
	if having != nil {
		a.p.Post = append(a.p.Post, target.PostStep{Kind: target.StepFilter, Filter: having})
		native = native && len(order) == 0 && limit < 0 && offset == 0
	}
	if native && having == nil && limit != 0 {
		// A zero LIMIT means "no limit" in InfluxQL: leave it to the gateway.
		if limit > 0 {
			a.p.Limit = limit
		}
		if offset > 0 {
			a.p.Offset = offset
		}
	} else {
		a.p.Order = 0
		if len(order) > 0 {
			a.p.Post = append(a.p.Post, target.PostStep{Kind: target.StepSort, Order: order})
		}
		if limit >= 0 || offset > 0 {
			a.p.Post = append(a.p.Post, target.PostStep{Kind: target.StepLimit, Limit: limit, Offset: offset})
		}
	}
	if a.absent != nil && !a.anchored {
		return a.absent
	}
	var absent []string
	for _, c := range a.p.Schema {
		absent = append(absent, c.Name)
	}
	a.p.Post = append(a.p.Post, target.PostStep{Kind: target.StepProject, Columns: a.emptyTags(proj), Absent: absent})
	return nil
}

// emptyTags reads InfluxDB's tags back as they were written. InfluxDB
// stores no empty tag value: a point written with tag "" and a point
// without the tag are stored alike, read as NULL in a raw row and as ”
// as a group key. tsgate records per tag whether every point carries it
// (Required) and whether some carry "" (EmptyValues): a Required tag reads
// ” wherever InfluxDB has nothing (memtrace writes ” for every unset
// tag); a tag some points lack, and none carries as "", reads NULL; the
// ambiguous rest is refused before this (optionalTag).
func (a *analyzer) emptyTags(proj []target.ProjectColumn) []target.ProjectColumn {
	empty := &ast.Literal{Span: ast.NoSpan, Kind: ast.LitString, Text: ""}
	how := map[string]string{}
	for _, c := range a.p.Schema {
		switch {
		case c.Tag && c.Required:
			how[c.Name] = "coalesce"
		case c.Tag:
			how[c.Name] = "nullif"
		case a.opt.EmptyStringReadsNull && c.Required && c.Type == model.TypeString:
			// The result cannot tell "" from null either, so a string
			// field every point has reads NULL only where it was "".
			how[c.Name] = "coalesce"
		}
	}
	wrap := func(e ast.Expr) ast.Expr {
		r, ok := e.(*ast.ColumnRef)
		if !ok {
			return e
		}
		coalesce := &ast.Func{Span: ast.NoSpan, Name: "coalesce", Args: []ast.Expr{r, empty}}
		switch how[r.Name] {
		case "coalesce":
			return coalesce
		case "nullif":
			return &ast.Func{Span: ast.NoSpan, Name: "nullif", Args: []ast.Expr{coalesce, empty}}
		}
		return e
	}
	// Sorts before the projection must see the values as written too.
	for _, st := range a.p.Post {
		for _, o := range st.Order {
			o.Expr = wrap(o.Expr)
		}
	}
	for i, pc := range proj {
		proj[i].Expr = wrap(pc.Expr)
	}
	return proj
}

// bucket checks a GROUP BY time bucket and records its width and offset.
func (a *analyzer) bucket(b *ast.TimeBucket) error {
	if !isTimeRef(b.Source) {
		return a.refuse("a time bucket of "+b.Source.String(), b, "bucket the time column")
	}
	if b.TZ != "" {
		return a.refuse("a time bucket in time zone "+b.TZ, b, "tsgate translates buckets computed in UTC only")
	}
	if !b.Width.Fixed() {
		return a.refuse("a time bucket of months", b, a.p.Target+" buckets have a fixed width; a month has none")
	}
	if b.Result != ast.BucketTimestamp {
		return a.refuse("a time bucket as epoch seconds", b, "use time_bucket(), which yields a timestamp")
	}
	w := b.Width.FixedMicros()
	if w <= 0 {
		return a.refuse("a time bucket of width "+b.Width.String(), b, "")
	}
	a.p.BucketNS = w * 1000
	a.p.OffsetNS = sqlgen.Mod(b.Origin, w) * 1000
	return nil
}

// agg registers an aggregate (once per distinct text) and returns the
// backend column holding it, named want when that name is free.
func (a *analyzer) agg(g *ast.Agg, want string) (ast.Expr, error) {
	for _, x := range a.p.Aggs {
		if x.Node.String() == g.String() {
			return colRef(x.Name), nil
		}
	}
	if g.Over != nil {
		return nil, a.refuse("window functions", g, "")
	}
	if g.Filter != nil {
		return nil, a.refuse("an aggregate FILTER clause", g, "move the condition into WHERE")
	}
	var field target.ColumnInfo
	if g.Arg == nil {
		if g.Kind != ast.AggCount {
			return nil, a.refuse(g.String(), g, "")
		}
		req, ok := a.required()
		if !ok {
			return nil, a.refuse("count(*) on a measurement with no field present in every point", g,
				"InfluxDB counts a field's values, not rows; mark a field that every point has as Required in the schema")
		}
		field = req
		a.anchored = true
		a.note("count(*)", "counts the points that have field "+req.Name+", which the schema marks present in every point")
	} else {
		cr, ok := g.Arg.(*ast.ColumnRef)
		if !ok {
			return nil, a.refuse("an aggregate of an expression ("+g.String()+")", g, a.p.Target+" aggregates fields only")
		}
		c, isTime, err := a.column(cr)
		if err != nil {
			return nil, err
		}
		if isTime || c.Tag {
			return nil, a.refuse(g.Kind.String()+"() of the "+map[bool]string{true: "time column", false: "tag " + c.Name}[isTime], g, a.p.Target+" aggregates fields only")
		}
		switch {
		case c.Required:
			a.anchored = true
		case a.opt.AggSkipsAbsent && (g.Kind == ast.AggSum || g.Kind == ast.AggAvg || g.Kind == ast.AggMin || g.Kind == ast.AggMax):
			// NULL in SQL and absent in the target agree once the group
			// exists; decided when every aggregate has been seen. (A
			// target without AggSkipsAbsent refuses below.)
			if a.absent == nil {
				a.absent = a.refuse(g.Kind.String()+"() of field "+c.Name+", which may be absent", g,
					"groups whose points all lack the field would be missing; select an aggregate of a Required field beside it, or mark it Required in the schema")
			}
		default:
			return nil, a.refuse(g.Kind.String()+"() of field "+c.Name+", which may be absent", g,
				"groups whose points all lack the field would be missing (and count would be NULL instead of 0); mark it Required in the schema if every point has it")
		}
		field = c
	}
	if g.Distinct && g.Kind != ast.AggCount {
		return nil, a.refuse(g.Kind.String()+"(DISTINCT …)", g, "")
	}
	if g.Kind == ast.AggFirst || g.Kind == ast.AggLast {
		if !isTimeRef(g.By) {
			return nil, a.refuse(g.Kind.String()+"() ordered by "+g.By.String(), g, a.p.Target+" orders first/last by time only")
		}
	}
	numeric := field.Type == model.TypeFloat || field.Type == model.TypeInt || field.Type == model.TypeUint
	switch g.Kind {
	case ast.AggSum, ast.AggAvg, ast.AggMin, ast.AggMax, ast.AggMedian:
		if !numeric {
			return nil, a.refuse(g.Kind.String()+"() of the non-numeric field "+field.Name, g, "")
		}
	}
	if (field.Type == model.TypeInt || field.Type == model.TypeUint) && (g.Kind == ast.AggSum || g.Kind == ast.AggAvg) {
		// InfluxDB adds int64 fields in int64 and wraps on overflow;
		// DuckDB adds integers exactly.
		return nil, a.refuse(g.Kind.String()+"() of the integer field "+field.Name, g, "InfluxDB's integer sum wraps on overflow; the gateway computes it")
	}
	if refuse, hint := a.opt.Agg(g, field); refuse {
		return nil, a.refuse("aggregate "+g.Kind.String(), g, hint)
	}
	x := &Agg{Kind: g.Kind, Field: field, Distinct: g.Distinct, Node: g}
	a.p.Aggs = append(a.p.Aggs, x)
	x.Name = a.fresh(want)
	return colRef(x.Name), nil
}

// optionalTag refuses reading a tag whose ” is ambiguous: some points
// lack it and some were written with ” — InfluxDB stores both without
// the tag, so neither NULL nor ” reads every point back as written.
func (a *analyzer) optionalTag(c target.ColumnInfo, n ast.Node) error {
	if !c.Tag || c.Required || !c.EmptyValues {
		return nil
	}
	return a.refuse("reading tag "+c.Name+", which some points lack and some carry as ''", n,
		"InfluxDB stores both as no tag; which was written is not recorded per point")
}
