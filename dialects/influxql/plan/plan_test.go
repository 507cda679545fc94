package plan_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"tsgate/dialects/influxql/plan"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// testSchema has the shapes plan decides on: cpu has tags and float
// fields every point carries; mem has a tag some points lack and only
// fields that may be absent; disk has a Required field beside absent
// ones; events has Required string fields; labels has a tag some points
// lack and some carry as ”.
func testSchema() *translate.StaticSchema {
	tag := func(n string) target.ColumnInfo {
		return target.ColumnInfo{Name: n, Tag: true, Type: model.TypeString, Required: true}
	}
	field := func(n string, t model.FieldType) target.ColumnInfo {
		return target.ColumnInfo{Name: n, Type: t, Required: true}
	}
	optional := func(n string, t model.FieldType) target.ColumnInfo { return target.ColumnInfo{Name: n, Type: t} }
	return &translate.StaticSchema{Ver: 1, Measurements: map[string][]target.ColumnInfo{
		"cpu": {tag("hostname"), tag("region"), field("usage_user", model.TypeFloat), field("usage_system", model.TypeFloat),
			field("usage_guest", model.TypeFloat)},
		"mem": {{Name: "hostname", Tag: true, Type: model.TypeString}, optional("used", model.TypeInt),
			optional("free", model.TypeUint), optional("ok", model.TypeBool)},
		"disk": {tag("host"), {Name: "mount", Tag: true, Type: model.TypeString}, field("total", model.TypeFloat),
			optional("used_pct", model.TypeFloat), optional("inodes", model.TypeInt), optional("ro", model.TypeBool),
			optional("label", model.TypeString)},
		"events": {tag("org_id"), field("content", model.TypeString), field("importance", model.TypeFloat)},
		"labels": {{Name: "env", Tag: true, Type: model.TypeString, EmptyValues: true}, field("v", model.TypeFloat)},
	}}
}

// targetName is deliberately neither target's name: plan's decisions
// come from Options alone, the name only reaches messages.
const targetName = "plantest"

// capture is a generator that records the plan Build makes from the
// checked, rewritten AST the translator hands generators.
type capture struct {
	opt plan.Options
	got **plan.Plan
}

func (capture) Name() string              { return targetName }
func (capture) Language() target.Language { return target.InfluxQL }
func (capture) Caps() target.Caps         { return target.CapHaving | target.CapOffset | target.CapRegex }
func (capture) Hint(target.Caps) string   { return "" }

func (c capture) Generate(q ast.Query, env *target.Env) (*target.Output, error) {
	p, err := plan.Build(targetName, q, env, c.opt)
	if err != nil {
		return nil, err
	}
	*c.got = p
	return &target.Output{Text: "plan"}, nil
}

// noStddev stands for a target's aggregate list: it lacks the standard
// deviations.
func noStddev(a *ast.Agg, _ target.ColumnInfo) (bool, string) {
	switch a.Kind {
	case ast.AggStddevSamp, ast.AggStddevPop:
		return true, "no stddev in this target"
	}
	return false, ""
}

// influxqlLike is the InfluxQL generator's options with a test aggregate
// list; TestOptions varies each flag.
var influxqlLike = plan.Options{TimeCol: "time", Agg: noStddev, AggSkipsAbsent: true}

// decisions is what a plan decided, rendered for comparison.
type decisions struct {
	// Lower and Upper are the time range: "> 2024-01-01T00:00:00Z",
	// ">= now()-1h0m0s".
	Lower, Upper string
	// Where is the condition left for the target, each leaf marked tag,
	// field, or field? (a field that may be absent).
	Where string
	Never bool
	Star  bool
	// Fetch are the columns a raw query reads.
	Fetch []string
	// Aggs are the aggregates the target computes: "max(usage_user) AS mx".
	Aggs      []string
	Bucket    string
	GroupTags []string
	// Native is what the target orders and limits itself:
	// "order time desc limit 10 offset 2".
	Native string
	// Post are the gateway's steps, in order.
	Post []string
	// Notes are the constructs noted.
	Notes []string
}

func bound(b plan.Bound, lower bool) string {
	if !b.Set {
		return ""
	}
	op := map[[2]bool]string{{true, true}: ">=", {true, false}: ">", {false, true}: "<=", {false, false}: "<"}[[2]bool{lower, b.Incl}]
	if b.Now {
		return fmt.Sprintf("%s now()%+v", op, time.Duration(b.NS))
	}
	return op + " " + time.Unix(0, b.NS).UTC().Format(time.RFC3339Nano)
}

var opText = map[plan.Op]string{plan.Eq: "=", plan.Ne: "<>", plan.Lt: "<", plan.Le: "<=", plan.Gt: ">", plan.Ge: ">=",
	plan.Match: "=~", plan.NotMatch: "!~"}

func pred(p plan.Pred) string {
	switch p := p.(type) {
	case nil:
		return ""
	case *plan.And:
		return "(" + pred(p.L) + " AND " + pred(p.R) + ")"
	case *plan.Or:
		return "(" + pred(p.L) + " OR " + pred(p.R) + ")"
	case *plan.Cmp:
		kind := "field"
		if p.Col.Tag {
			kind = "tag"
		}
		if p.Nullable {
			kind += "?"
		}
		rhs := "/" + p.Regex + "/"
		if p.Lit != nil {
			rhs = p.Lit.String()
		}
		return kind + " " + p.Col.Name + " " + opText[p.Op] + " " + rhs
	}
	return fmt.Sprintf("%T", p)
}

func decide(p *plan.Plan) decisions {
	d := decisions{Lower: bound(p.Lower, true), Upper: bound(p.Upper, false), Where: pred(p.Where), Never: p.Never,
		Star: p.Star, GroupTags: p.GroupTags}
	for _, c := range p.Fetch {
		d.Fetch = append(d.Fetch, c.Name)
	}
	for _, a := range p.Aggs {
		s := a.Kind.String() + "("
		if a.Distinct {
			s += "DISTINCT "
		}
		d.Aggs = append(d.Aggs, s+a.Field.Name+") AS "+a.Name)
	}
	if p.BucketNS > 0 {
		d.Bucket = time.Duration(p.BucketNS).String() + " offset " + time.Duration(p.OffsetNS).String()
	}
	var native []string
	switch p.Order {
	case 1:
		native = append(native, "order time asc")
	case -1:
		native = append(native, "order time desc")
	}
	if p.Limit >= 0 {
		native = append(native, "limit "+strconv.FormatInt(p.Limit, 10))
	}
	if p.Offset >= 0 {
		native = append(native, "offset "+strconv.FormatInt(p.Offset, 10))
	}
	d.Native = strings.Join(native, " ")
	for _, s := range p.Post {
		d.Post = append(d.Post, s.String())
	}
	for _, n := range p.Notes {
		d.Notes = append(d.Notes, n.Construct)
	}
	return d
}

// build translates sql with a capturing generator: the plan is Build's
// answer for the AST a real generator receives.
func build(t *testing.T, sql string, opt plan.Options) (*plan.Plan, error) {
	t.Helper()
	var got *plan.Plan
	_, err := translate.New(translate.WithCacheSize(0)).TranslateIn(context.Background(), sql,
		capture{opt: opt, got: &got}, "memory", testSchema())
	return got, err
}

type planCase struct {
	name, sql string
	// opt is influxqlLike unless set.
	opt  *plan.Options
	want decisions
	// err is the expected error: "code: message | hint".
	err string
}

func run(t *testing.T, cases []planCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opt := influxqlLike
			if c.opt != nil {
				opt = *c.opt
			}
			p, err := build(t, c.sql, opt)
			if c.err != "" {
				if err == nil {
					t.Fatalf("planned, want error %q; plan: %+v", c.err, decide(p))
				}
				e := errs.As(err)
				if d := cmp.Diff(c.err, fmt.Sprintf("%s: %s | %s", e.Code, e.Msg, e.Hint)); d != "" {
					t.Errorf("error (-want +got):\n%s", d)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v, want a plan", err)
			}
			if d := cmp.Diff(c.want, decide(p), cmpopts.EquateEmpty()); d != "" {
				t.Errorf("plan (-want +got):\n%s", d)
			}
		})
	}
}

const (
	jan1 = "2024-01-01T00:00:00Z"
	jan2 = "2024-01-02T00:00:00Z"
	jan3 = "2024-01-03T00:00:00Z"
	jan4 = "2024-01-04T00:00:00Z"
)

// raw is the plan of `SELECT usage_user FROM cpu` around the decision
// under test.
func raw(d decisions) decisions {
	d.Fetch = []string{"usage_user"}
	d.Post = append(d.Post, "project usage_user := usage_user")
	return d
}

func refused(construct, hint string) string {
	return "unsupported: " + construct + " cannot be expressed exactly in " + targetName + " | " + hint
}

// TestTimeRange: top-level time comparisons become the range; the
// tighter of two absolute bounds wins; anything else about time is
// refused.
func TestTimeRange(t *testing.T) {
	lit := []string{"time literal"}
	run(t, []planCase{
		{name: "half-open", sql: "SELECT usage_user FROM cpu WHERE time >= '" + jan1 + "' AND time < '" + jan2 + "'",
			want: raw(decisions{Lower: ">= " + jan1, Upper: "< " + jan2, Notes: lit})},
		{name: "tighter bounds win", sql: "SELECT usage_user FROM cpu WHERE time > '" + jan1 + "' AND time > '" + jan3 +
			"' AND time <= '2024-01-05T00:00:00Z' AND time < '" + jan4 + "'",
			want: raw(decisions{Lower: "> " + jan3, Upper: "< " + jan4, Notes: lit})},
		{name: "exclusive beats inclusive at one instant", sql: "SELECT usage_user FROM cpu WHERE time >= '" + jan1 + "' AND time > '" + jan1 + "'",
			want: raw(decisions{Lower: "> " + jan1, Notes: lit})},
		{name: "between is inclusive", sql: "SELECT usage_user FROM cpu WHERE time BETWEEN '" + jan1 + "' AND '" + jan2 + "'",
			want: raw(decisions{Lower: ">= " + jan1, Upper: "<= " + jan2, Notes: lit})},
		{name: "equality is both bounds", sql: "SELECT usage_user FROM cpu WHERE time = '2024-01-01T00:00:00.000001Z'",
			want: raw(decisions{Lower: ">= 2024-01-01T00:00:00.000001Z", Upper: "<= 2024-01-01T00:00:00.000001Z", Notes: lit})},
		{name: "constant on the left", sql: "SELECT usage_user FROM cpu WHERE '" + jan1 + "' < time",
			want: raw(decisions{Lower: "> " + jan1, Notes: lit})},
		{name: "relative to now", sql: "SELECT usage_user FROM cpu WHERE time > now() - INTERVAL '1 hour'",
			want: raw(decisions{Lower: "> now()-1h0m0s"})},
		{name: "time beside tag and field conditions", sql: "SELECT max(usage_user) FROM cpu WHERE hostname = 'a' AND time >= '" + jan1 + "'",
			want: decisions{Lower: ">= " + jan1, Where: "tag hostname = 'a'", Aggs: []string{"max(usage_user) AS _c0"},
				Post: []string{"default-row _c0 := NULL", "project max(usage_user) := _c0"}, Notes: lit}},
		{name: "interval of months", sql: "SELECT usage_user FROM cpu WHERE time > now() - INTERVAL '1 month'",
			err: refused("an interval with months", "a month has no fixed length; use days or hours")},
		{name: "relative and absolute on one side", sql: "SELECT usage_user FROM cpu WHERE time > now() - INTERVAL '1 hour' AND time > '" + jan1 + "'",
			err: refused("two time bounds on one side", "give at most one lower and one upper time bound")},
		{name: "time under OR", sql: "SELECT usage_user FROM cpu WHERE time > '" + jan1 + "' OR hostname = 'a'",
			err: refused("a time condition under OR or NOT", "time bounds must be joined to the rest of WHERE by AND")},
		{name: "time not between", sql: "SELECT usage_user FROM cpu WHERE time NOT BETWEEN '" + jan1 + "' AND '" + jan2 + "'",
			err: refused("time NOT BETWEEN", "a time range must be one interval")},
	})
}

// TestWhere: the conditions left after the time range, as tag and field
// comparisons with NOT pushed to the leaves, and what is refused because
// InfluxDB's absent tags and fields would not behave as SQL's NULL.
func TestWhere(t *testing.T) {
	run(t, []planCase{
		{name: "tag and field", sql: "SELECT usage_user FROM cpu WHERE hostname = 'a' AND usage_user > 90",
			want: raw(decisions{Where: "(tag hostname = 'a' AND field usage_user > 90)"})},
		{name: "NOT pushed to the leaves", sql: "SELECT usage_user FROM cpu WHERE NOT (hostname = 'a' OR usage_user > 90)",
			want: raw(decisions{Where: "(tag hostname <> 'a' AND field usage_user <= 90)"})},
		{name: "IN is OR of equalities", sql: "SELECT usage_user FROM cpu WHERE hostname IN ('a', 'b')",
			want: raw(decisions{Where: "(tag hostname = 'a' OR tag hostname = 'b')"})},
		{name: "NOT IN is AND of inequalities", sql: "SELECT usage_user FROM cpu WHERE hostname NOT IN ('a', 'b')",
			want: raw(decisions{Where: "(tag hostname <> 'a' AND tag hostname <> 'b')"})},
		{name: "LIKE is an anchored regex", sql: "SELECT usage_user FROM cpu WHERE hostname LIKE 'web%'",
			want: raw(decisions{Where: "tag hostname =~ /^web/"})},
		{name: "constant false", sql: "SELECT usage_user FROM cpu WHERE false",
			want: raw(decisions{Never: true, Post: []string{"filter false"}})},
		{name: "optional tag equal to a non-empty string", sql: "SELECT total FROM disk WHERE mount = '/'",
			want: decisions{Where: "tag mount = '/'", Fetch: []string{"total"}, Post: []string{"project total := total"}}},
		{name: "optional tag matching a pattern that excludes ''", sql: "SELECT total FROM disk WHERE mount LIKE '/v%'",
			want: decisions{Where: "tag mount =~ /^/v/", Fetch: []string{"total"}, Post: []string{"project total := total"}}},
		{name: "optional field is nullable", sql: "SELECT total FROM disk WHERE used_pct > 5",
			want: decisions{Where: "field? used_pct > 5", Fetch: []string{"total"}, Post: []string{"project total := total"}}},
		{name: "whole decimal against an integer field is an integer", sql: "SELECT total FROM disk WHERE inodes = 2.0",
			want: decisions{Where: "field? inodes = 2", Fetch: []string{"total"}, Post: []string{"project total := total"}}},
		{name: "fraction against an integer field stays", sql: "SELECT total FROM disk WHERE inodes > 1.5",
			want: decisions{Where: "field? inodes > 1.5", Fetch: []string{"total"}, Post: []string{"project total := total"}}},
		{name: "optional tag not equal", sql: "SELECT total FROM disk WHERE mount <> '/'",
			err: refused("this condition on tag mount, which some points lack",
				"InfluxDB reads an absent tag as '', where SQL's NULL fails every condition; the gateway computes it")},
		{name: "optional tag matching ''", sql: "SELECT total FROM disk WHERE mount LIKE '%'",
			err: refused("this condition on tag mount, which some points lack",
				"InfluxDB reads an absent tag as '', where SQL's NULL fails every condition; the gateway computes it")},
		{name: "optional boolean", sql: "SELECT total FROM disk WHERE ro = true",
			err: refused("comparing the boolean field ro, which may be absent",
				"InfluxQL treats an absent boolean as false; mark the field Required in the schema if every point has it")},
		{name: "ordering a string tag", sql: "SELECT usage_user FROM cpu WHERE hostname > 'a'",
			err: refused("ordering comparison on the string tag hostname", "use =, <>, LIKE or IN")},
		{name: "IS NULL", sql: "SELECT usage_user FROM cpu WHERE hostname IS NULL",
			err: refused("IS [NOT] NULL", "InfluxDB has no NULL test in WHERE: an absent tag reads as '' and an absent field is simply not there")},
	})
}

// TestSelect: what a raw query fetches and how the select list becomes
// the final projection; errors in names are not refusals.
func TestSelect(t *testing.T) {
	run(t, []planCase{
		{name: "a tag alone fetches a Required field", sql: "SELECT hostname FROM cpu",
			want: decisions{Fetch: []string{"hostname", "usage_guest"}, Post: []string{`project hostname := "coalesce"(hostname, '')`}}},
		{name: "star", sql: "SELECT * FROM cpu",
			want: decisions{Star: true, Post: []string{`project time := time, hostname := "coalesce"(hostname, ''), ` +
				`region := "coalesce"(region, ''), usage_guest := usage_guest, usage_system := usage_system, usage_user := usage_user`}}},
		{name: "arithmetic is the gateway's", sql: "SELECT usage_user * 2 AS d FROM cpu",
			want: decisions{Fetch: []string{"usage_user"}, Post: []string{"project d := usage_user * 2"}}},
		{name: "no Required field to fetch", sql: "SELECT hostname FROM mem",
			err: refused("selecting columns none of which is present in every point", "mark a field that every point has as Required in the schema")},
		{name: "tag both absent and empty", sql: "SELECT env, v FROM labels",
			err: refused("reading tag env, which some points lack and some carry as ''", "InfluxDB stores both as no tag; which was written is not recorded per point")},
		{name: "unknown measurement", sql: "SELECT usage_user FROM nope", err: "not_found: measurement nope does not exist | "},
		{name: "unknown column", sql: "SELECT nope FROM cpu", err: "invalid: column nope does not exist in cpu | "},
	})
}

// TestGroupAndAggregates: the tags and bucket the target groups by, the
// aggregates it computes, and what stays SQL's by post steps.
func TestGroupAndAggregates(t *testing.T) {
	run(t, []planCase{
		{name: "bucket and tag", sql: "SELECT time_bucket(INTERVAL '5 minutes', time) AS t, hostname, avg(usage_user) AS a FROM cpu GROUP BY t, hostname",
			want: decisions{Aggs: []string{"avg(usage_user) AS a"}, Bucket: "5m0s offset 0s", GroupTags: []string{"hostname"},
				Post: []string{`project t := time, hostname := "coalesce"(hostname, ''), a := a`}}},
		{name: "bucket origin is an offset", sql: "SELECT time_bucket(INTERVAL '1 hour', time, TIMESTAMP '2000-01-01 00:15:00') AS h, max(usage_user) FROM cpu GROUP BY h",
			want: decisions{Aggs: []string{"max(usage_user) AS _c0"}, Bucket: "1h0m0s offset 15m0s",
				Post: []string{"project h := time, max(usage_user) := _c0"}}},
		{name: "count(*) counts a Required field", sql: "SELECT count(*) FROM cpu",
			want: decisions{Aggs: []string{"count(usage_guest) AS _c0"},
				Post: []string{"default-row _c0 := 0", "project count_star() := _c0"}, Notes: []string{"count(*)"}}},
		{name: "per tag, no default row", sql: "SELECT hostname, count(*) FROM cpu GROUP BY hostname",
			want: decisions{Aggs: []string{"count(usage_guest) AS _c0"}, GroupTags: []string{"hostname"},
				Post: []string{`project hostname := "coalesce"(hostname, ''), count_star() := _c0`}, Notes: []string{"count(*)"}}},
		{name: "HAVING and arithmetic on aggregates", sql: "SELECT max(usage_user) - min(usage_user) AS spread FROM cpu GROUP BY hostname HAVING max(usage_user) > 50",
			want: decisions{Aggs: []string{"max(usage_user) AS _c0", "min(usage_user) AS _c1"}, GroupTags: []string{"hostname"},
				Post: []string{"filter _c0 > 50", "project spread := _c0 - _c1"}}},
		{name: "count(*) without a Required field", sql: "SELECT count(*) FROM mem",
			err: refused("count(*) on a measurement with no field present in every point",
				"InfluxDB counts a field's values, not rows; mark a field that every point has as Required in the schema")},
		{name: "group by a field", sql: "SELECT max(usage_user) FROM cpu GROUP BY usage_system",
			err: refused("GROUP BY usage_system", targetName+" groups by tags and one time bucket only")},
		{name: "group without aggregate", sql: "SELECT hostname FROM cpu GROUP BY hostname",
			err: refused("GROUP BY without an aggregate", "InfluxDB computes groups only for aggregates of fields (SHOW TAG VALUES lists a tag's values)")},
		{name: "bucket of months", sql: "SELECT time_bucket(INTERVAL '1 month', time), max(usage_user) FROM cpu GROUP BY 1",
			err: refused("a time bucket of months", targetName+" buckets have a fixed width; a month has none")},
		{name: "aggregate of an expression", sql: "SELECT avg(usage_user + 1) FROM cpu",
			err: refused("an aggregate of an expression (avg(usage_user + 1))", targetName+" aggregates fields only")},
		{name: "aggregate of a tag", sql: "SELECT count(DISTINCT hostname) FROM cpu",
			err: refused("count() of the tag hostname", targetName+" aggregates fields only")},
		{name: "first by a field", sql: "SELECT hostname, first(usage_user ORDER BY usage_system) FROM cpu GROUP BY hostname",
			err: refused("first() ordered by usage_system", targetName+" orders first/last by time only")},
		{name: "aggregate the target lacks (Options.Agg)", sql: "SELECT stddev(usage_user) FROM cpu",
			err: refused("aggregate stddev_samp", "no stddev in this target")},
	})
}

// TestOrderLimit: the target orders only by time and limits only whole
// results; the rest is the gateway's.
func TestOrderLimit(t *testing.T) {
	run(t, []planCase{
		{name: "raw by time desc", sql: "SELECT usage_user FROM cpu ORDER BY time DESC LIMIT 10 OFFSET 2",
			want: raw(decisions{Native: "order time desc limit 10 offset 2"})},
		{name: "raw by a field", sql: "SELECT usage_user FROM cpu ORDER BY usage_system LIMIT 3",
			want: decisions{Fetch: []string{"usage_user", "usage_system"},
				Post: []string{"sort usage_system", "limit 3 offset 0", "project usage_user := usage_user"}}},
		{name: "buckets by time", sql: "SELECT time_bucket(INTERVAL '1 minute', time) AS m, max(usage_user) AS mx FROM cpu GROUP BY m ORDER BY m DESC LIMIT 5",
			want: decisions{Aggs: []string{"max(usage_user) AS mx"}, Bucket: "1m0s offset 0s", Native: "order time desc limit 5",
				Post: []string{"project m := time, mx := mx"}}},
		{name: "series split: LIMIT counts per series", sql: "SELECT time_bucket(INTERVAL '1 minute', time) AS m, hostname, max(usage_user) AS mx FROM cpu GROUP BY m, hostname ORDER BY m LIMIT 5",
			want: decisions{Aggs: []string{"max(usage_user) AS mx"}, Bucket: "1m0s offset 0s", GroupTags: []string{"hostname"},
				Post: []string{"sort time", "limit 5 offset 0", `project m := time, hostname := "coalesce"(hostname, ''), mx := mx`}}},
		{name: "by an aggregate", sql: "SELECT hostname, avg(usage_user) AS a FROM cpu GROUP BY hostname ORDER BY a DESC LIMIT 5",
			want: decisions{Aggs: []string{"avg(usage_user) AS a"}, GroupTags: []string{"hostname"},
				Post: []string{"sort a DESC NULLS LAST", "limit 5 offset 0", `project hostname := "coalesce"(hostname, ''), a := a`}}},
	})
}

// TestOptions: each Options field changes exactly its decision, whatever
// the target is called.
func TestOptions(t *testing.T) {
	skips := plan.Options{TimeCol: "time", Agg: noStddev, AggSkipsAbsent: true}
	noSkip := plan.Options{TimeCol: "time", Agg: noStddev}
	emptyNull := plan.Options{TimeCol: "_time", Agg: noStddev, EmptyStringReadsNull: true}
	emptyKept := plan.Options{TimeCol: "_time", Agg: noStddev}
	absentHint := "groups whose points all lack the field would be missing (and count would be NULL instead of 0); mark it Required in the schema if every point has it"
	run(t, []planCase{
		{name: "AggSkipsAbsent: anchored by a Required field", opt: &skips, sql: "SELECT max(used_pct), count(total) FROM disk",
			want: decisions{Aggs: []string{"max(used_pct) AS _c0", "count(total) AS _c1"},
				Post: []string{"default-row _c0 := NULL, _c1 := 0", "project max(used_pct) := _c0, count(total) := _c1"}}},
		{name: "AggSkipsAbsent: anchor after the aggregate", opt: &skips, sql: "SELECT count(total), min(used_pct) FROM disk",
			want: decisions{Aggs: []string{"count(total) AS _c0", "min(used_pct) AS _c1"},
				Post: []string{"default-row _c0 := 0, _c1 := NULL", "project count(total) := _c0, min(used_pct) := _c1"}}},
		{name: "AggSkipsAbsent: no anchor", opt: &skips, sql: "SELECT max(used_pct) FROM disk",
			err: refused("max() of field used_pct, which may be absent",
				"groups whose points all lack the field would be missing; select an aggregate of a Required field beside it, or mark it Required in the schema")},
		{name: "without AggSkipsAbsent: refused though anchored", opt: &noSkip, sql: "SELECT max(used_pct), count(total) FROM disk",
			err: refused("max() of field used_pct, which may be absent", absentHint)},
		{name: "without AggSkipsAbsent: no anchor", opt: &noSkip, sql: "SELECT max(used_pct) FROM disk",
			err: refused("max() of field used_pct, which may be absent", absentHint)},
		{name: "count of an absent field is refused either way", opt: &skips, sql: "SELECT count(used_pct), count(total) FROM disk",
			err: refused("count() of field used_pct, which may be absent", absentHint)},
		{name: "EmptyStringReadsNull: Required string field coalesced", opt: &emptyNull, sql: "SELECT content, importance FROM events",
			want: decisions{Fetch: []string{"content", "importance"}, Post: []string{`project content := "coalesce"(content, ''), importance := importance`}}},
		{name: "without EmptyStringReadsNull: read as is", opt: &emptyKept, sql: "SELECT content, importance FROM events",
			want: decisions{Fetch: []string{"content", "importance"}, Post: []string{"project content := content, importance := importance"}}},
		{name: "EmptyStringReadsNull: star", opt: &emptyNull, sql: "SELECT * FROM events",
			want: decisions{Star: true, Post: []string{`project time := _time, content := "coalesce"(content, ''), importance := importance, org_id := "coalesce"(org_id, '')`}}},
		{name: "EmptyStringReadsNull: a string field that may be absent stays NULL", opt: &emptyNull, sql: "SELECT label, total FROM disk",
			want: decisions{Fetch: []string{"label", "total"}, Post: []string{"project label := label, total := total"}}},
		{name: "TimeCol names the time column", opt: &emptyNull, sql: "SELECT time_bucket(INTERVAL '1 minute', time) AS m, hostname, max(usage_user) AS mx FROM cpu GROUP BY m, hostname ORDER BY m",
			want: decisions{Aggs: []string{"max(usage_user) AS mx"}, Bucket: "1m0s offset 0s", GroupTags: []string{"hostname"},
				Post: []string{"sort _time", `project m := _time, hostname := "coalesce"(hostname, ''), mx := mx`}}},
	})
}

// TestLikeRegex: a LIKE pattern as an RE2 pattern with the same matches.
func TestLikeRegex(t *testing.T) {
	for _, c := range []struct {
		pat, esc string
		want     string
		ok       bool
	}{
		{"abc", "", "^abc$", true},
		{"", "", "^$", true},
		{"%", "", "^", true},
		{"%%", "", "^", true},
		{"web%", "", "^web", true},
		{"%web", "", "web$", true},
		{"%x%", "", "x", true},
		{"a_c", "", "(?s)^a.c$", true},
		{"a%b", "", "(?s)^a.*b$", true},
		{"a.b%", "", `^a\.b`, true},
		{`50\%`, `\`, "^50%$", true},
		{`50!%`, "!", "^50%$", true},
		{`ab\`, `\`, "", false},
	} {
		got, ok := plan.LikeRegex(c.pat, c.esc)
		if d := cmp.Diff(fmt.Sprint(c.want, " ", c.ok), fmt.Sprint(got, " ", ok)); d != "" {
			t.Errorf("LikeRegex(%q, %q) (-want +got):\n%s", c.pat, c.esc, d)
		}
	}
}

// TestPrintableRegex: the pattern a Cmp carries survives printing between
// slashes: an escaped backslash becomes \x5c.
func TestPrintableRegex(t *testing.T) {
	run(t, []planCase{
		{name: "literal backslash", sql: `SELECT usage_user FROM cpu WHERE hostname LIKE 'a\%' ESCAPE '!'`,
			want: raw(decisions{Where: `tag hostname =~ /^a\x5c/`})},
	})
}

// TestTrueOnEmpty: whether a comparison holds for the empty string, which
// an absent tag reads as.
func TestTrueOnEmpty(t *testing.T) {
	str := func(s string) *ast.Literal { return &ast.Literal{Kind: ast.LitString, Text: s} }
	for _, c := range []struct {
		name string
		cmp  plan.Cmp
		want bool
	}{
		{"= ''", plan.Cmp{Op: plan.Eq, Lit: str("")}, true},
		{"= 'a'", plan.Cmp{Op: plan.Eq, Lit: str("a")}, false},
		{"<> 'a'", plan.Cmp{Op: plan.Ne, Lit: str("a")}, true},
		{"<> ''", plan.Cmp{Op: plan.Ne, Lit: str("")}, false},
		{"=~ /^a/", plan.Cmp{Op: plan.Match, Regex: "^a"}, false},
		{"=~ /a*/", plan.Cmp{Op: plan.Match, Regex: "a*"}, true},
		{"!~ /^a/", plan.Cmp{Op: plan.NotMatch, Regex: "^a"}, true},
	} {
		if got := c.cmp.TrueOnEmpty(); got != c.want {
			t.Errorf("%s: TrueOnEmpty() = %v, want %v", c.name, got, c.want)
		}
	}
}
