package plan

import (
	"regexp"

	"tsgate/errs"
	"tsgate/translate/ast"
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

func (*Or) pred() {}

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

// Target is the description part of target.Generator that the two
// plan-built generators share; each embeds it and adds Generate. What a
// target can be asked for is what Build accepts, the same for both; only
// the name, the language and the hints for what is refused differ.
type Target struct {
	name  string
	lang  target.Language
	hints map[target.Caps]string
}

// NewTarget describes a plan-built target.
func NewTarget(name string, lang target.Language, hints map[target.Caps]string) Target {
	return Target{name: name, lang: lang, hints: hints}
}

func (t Target) Name() string              { return t.name }
func (t Target) Language() target.Language { return t.lang }
func (t Target) Hint(c target.Caps) string { return t.hints[c] }

// Caps: HAVING and OFFSET are emulated by post steps; regular expressions
// are RE2 on both sides. Everything else is refused by the checker.
func (Target) Caps() target.Caps { return target.CapHaving | target.CapOffset | target.CapRegex }

// Options are the target's answers to what plan cannot know. The plan
// never branches on the target's name: each difference between the
// targets that changes a decision is a field here, named for the
// behaviour and set by the target's generator.
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
