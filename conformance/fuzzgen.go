package conformance

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"tsgate/model"
)

// The query generator composes Arc SQL the way dashboards, Arc users and
// BI tools write it — filters of every shape, arithmetic and casts,
// CASE/COALESCE, string and time functions, aggregates (DISTINCT and
// quantiles too), GROUP BY tags and time buckets, HAVING, ORDER BY,
// LIMIT/OFFSET, aliases that shadow columns, subqueries, CTEs, windows,
// joins and UNION — over the conformance dataset, with literals drawn
// from the data itself and from the edges of every type. A query is kept
// as parts (genQuery) so a wrong answer can be minimized by dropping
// parts.

// colKind is a column's type as the generator uses it.
type colKind uint8

const (
	kTag colKind = iota
	kString
	kFloat
	kInt
	kBool
	kTime
)

type genCol struct {
	name string
	kind colKind
	// vals are values the column holds (a sample), as SQL literals.
	vals []string
	// strs are the string values themselves (tags and string fields),
	// for LIKE and regex patterns.
	strs []string
}

type genTable struct {
	name string
	cols []genCol // time first
}

func (t *genTable) of(kinds ...colKind) []genCol {
	var out []genCol
	for _, c := range t.cols {
		if slices.Contains(kinds, c.kind) {
			out = append(out, c)
		}
	}
	return out
}

// schemaOf reads the generator's view of the dataset's measurements.
func schemaOf(ds *Dataset) []*genTable {
	var out []*genTable
	for _, b := range ds.Batches {
		for _, tb := range b.Tables {
			t := &genTable{name: tb.Measurement}
			t.cols = append(t.cols, genCol{name: "time", kind: kTime, vals: timeLiterals(tb)})
			for _, c := range tb.Columns {
				gc := genCol{name: c.Name}
				switch {
				case c.Tag:
					gc.kind = kTag
				case c.Type == model.TypeString:
					gc.kind = kString
				case c.Type == model.TypeFloat:
					gc.kind = kFloat
				case c.Type == model.TypeInt:
					gc.kind = kInt
				case c.Type == model.TypeBool:
					gc.kind = kBool
				default:
					continue
				}
				seen := map[string]bool{}
				for i := range c.Len() {
					v := c.At(i)
					if v.IsNull() {
						continue
					}
					lit := literal(v)
					if seen[lit] || len(seen) >= 40 {
						continue
					}
					seen[lit] = true
					gc.vals = append(gc.vals, lit)
					if v.Type == model.TypeString {
						gc.strs = append(gc.strs, v.S)
					}
				}
				slices.Sort(gc.vals)
				t.cols = append(t.cols, gc)
			}
			slices.SortFunc(t.cols[1:], func(a, b genCol) int { return strings.Compare(a.name, b.name) })
			out = append(out, t)
		}
	}
	return out
}

// timeLiterals are instants around the data: its first and last points,
// points inside, and the edges (sub-microsecond, before 1970).
func timeLiterals(tb *model.Table) []string {
	if len(tb.Time) == 0 {
		return nil
	}
	lo, hi := slices.Min(tb.Time), slices.Max(tb.Time)
	var out []string
	for _, us := range []int64{lo, hi, lo + (hi-lo)/3, lo + (hi-lo)/2, tb.Time[len(tb.Time)/7], tb.Time[len(tb.Time)*5/7]} {
		out = append(out, "'"+time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05Z")+"'")
	}
	out = append(out, "'1970-01-01T00:00:00Z'", "'1969-12-31 23:59:59'", "'2024-03-01'",
		"'"+time.UnixMicro(lo).UTC().Format("2006-01-02T15:04:05.000000001Z")+"'",
		"'"+time.UnixMicro(hi).UTC().Format("2006-01-02 15:04:05.999999")+"'",
		"'"+time.UnixMicro(lo+500_000).UTC().Format("2006-01-02T15:04:05.5Z")+"'")
	return out
}

func literal(v model.Value) string {
	switch v.Type {
	case model.TypeString, model.TypeText:
		return "'" + strings.ReplaceAll(v.S, "'", "''") + "'"
	case model.TypeInt:
		return strconv.FormatInt(v.I, 10)
	case model.TypeFloat:
		if math.IsInf(v.F, 0) || math.IsNaN(v.F) {
			return "0"
		}
		s := strconv.FormatFloat(v.F, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return s
	case model.TypeBool:
		return strconv.FormatBool(v.B)
	}
	return "NULL"
}

// genItem is one select-list item.
type genItem struct {
	expr, alias string
	agg         bool
}

// genQuery is a generated query kept as parts.
type genQuery struct {
	table    string // the measurement it reads
	with     string // a CTE prefix, complete
	distinct bool
	items    []genItem
	from     string
	where    *pred
	group    []string
	having   string
	order    bool // ORDER BY every output column, totally
	desc     []bool
	limit    int // -1: none
	offset   int
	suffix   string // UNION … or other tail, complete
	// sqlOnly: drawn from constructs outside the InfluxQL/Flux subset
	// (CTE, subquery, window, set operation).
	sqlOnly bool
}

// pred is a WHERE tree: a leaf, or AND/OR of children, or NOT of one.
type pred struct {
	op   string // "leaf", "AND", "OR", "NOT"
	leaf string
	kids []*pred
}

func (p *pred) String() string {
	switch p.op {
	case "leaf":
		return p.leaf
	case "NOT":
		return "NOT (" + p.kids[0].String() + ")"
	}
	parts := make([]string, len(p.kids))
	for i, k := range p.kids {
		parts[i] = "(" + k.String() + ")"
	}
	return strings.Join(parts, " "+p.op+" ")
}

func (q *genQuery) String() string {
	var sb strings.Builder
	if q.with != "" {
		sb.WriteString(q.with + " ")
	}
	sb.WriteString("SELECT ")
	if q.distinct {
		sb.WriteString("DISTINCT ")
	}
	for i, it := range q.items {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(it.expr)
		if it.alias != "" {
			sb.WriteString(" AS " + it.alias)
		}
	}
	sb.WriteString(" FROM " + q.from)
	if q.where != nil {
		sb.WriteString(" WHERE " + q.where.String())
	}
	if len(q.group) > 0 {
		sb.WriteString(" GROUP BY " + strings.Join(q.group, ", "))
	}
	if q.having != "" {
		sb.WriteString(" HAVING " + q.having)
	}
	if q.suffix != "" {
		sb.WriteString(" " + q.suffix)
	}
	if q.order {
		sb.WriteString(" ORDER BY ")
		for i := range q.items {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(strconv.Itoa(i + 1))
			if i < len(q.desc) && q.desc[i] {
				sb.WriteString(" DESC")
			}
		}
	}
	if q.limit >= 0 {
		fmt.Fprintf(&sb, " LIMIT %d", q.limit)
		if q.offset > 0 {
			fmt.Fprintf(&sb, " OFFSET %d", q.offset)
		}
	}
	return sb.String()
}

// ordered: the rows come in one order only (every output column sorted).
func (q *genQuery) ordered() bool { return q.order }

// generator draws queries.
type generator struct {
	r      *rand.Rand
	tables []*genTable
}

func newGenerator(seed uint64, ds *Dataset) *generator {
	return &generator{r: rand.New(rand.NewPCG(seed, seed*0x9E3779B97F4A7C15+1)), tables: schemaOf(ds)}
}

func (g *generator) pick(n int) int { return g.r.IntN(n) }

func (g *generator) chance(p float64) bool { return g.r.Float64() < p }

func pickOf[T any](g *generator, xs []T) T { return xs[g.r.IntN(len(xs))] }

// query draws one query.
func (g *generator) query() *genQuery {
	t := pickOf(g, g.tables)
	q := &genQuery{table: t.name, from: t.name, limit: -1}
	switch g.pick(10) {
	case 0, 1, 2:
		g.raw(t, q)
	case 3, 4, 5, 6:
		g.aggregate(t, q)
	case 7:
		g.count(t, q)
	case 8:
		g.shadow(t, q)
	default:
		g.sqlOnly(t, q)
	}
	return q
}

// raw: rows of columns and expressions, filtered, ordered and limited.
func (g *generator) raw(t *genTable, q *genQuery) {
	for n := 1 + g.pick(4); n > 0; n-- {
		e := g.scalar(t, 2)
		q.items = append(q.items, genItem{expr: e, alias: fmt.Sprintf("c%d", len(q.items))})
	}
	if g.chance(0.2) {
		q.distinct = true
	}
	if g.chance(0.85) {
		q.where = g.pred(t, 3)
	}
	q.order = g.chance(0.7)
	g.orderLimit(q)
}

func (g *generator) orderLimit(q *genQuery) {
	if !q.order {
		return
	}
	for range q.items {
		q.desc = append(q.desc, g.chance(0.3))
	}
	if g.chance(0.5) {
		q.limit = pickOf(g, []int{0, 1, 3, 10, 100})
		if g.chance(0.3) {
			q.offset = pickOf(g, []int{1, 2, 5})
		}
	}
}

// aggregate: aggregates over groups of tags, time buckets or expressions.
func (g *generator) aggregate(t *genTable, q *genQuery) {
	ngroup := g.pick(3)
	for range ngroup {
		e := g.groupExpr(t)
		if slices.Contains(q.group, e) {
			continue
		}
		q.group = append(q.group, e)
		q.items = append(q.items, genItem{expr: e, alias: fmt.Sprintf("g%d", len(q.items))})
	}
	for n := 1 + g.pick(3); n > 0; n-- {
		q.items = append(q.items, genItem{expr: g.agg(t), alias: fmt.Sprintf("a%d", len(q.items)), agg: true})
	}
	if g.chance(0.8) {
		q.where = g.pred(t, 2)
	}
	if len(q.group) > 0 && g.chance(0.3) {
		q.having = g.agg(t) + " " + pickOf(g, []string{">", "<", ">=", "=", "<>"}) + " " + pickOf(g, []string{"0", "1", "2", "10", "50.5", "-1"})
	}
	q.order = len(q.group) > 0 && g.chance(0.7)
	g.orderLimit(q)
}

// count: the partitions of ternary logic — count(*) where p, where NOT
// p, where p IS NULL — which sum to count(*) on every correct engine.
func (g *generator) count(t *genTable, q *genQuery) {
	q.items = []genItem{{expr: "count(*)", alias: "n", agg: true}}
	p := g.pred(t, 3)
	switch g.pick(3) {
	case 0:
		q.where = p
	case 1:
		q.where = &pred{op: "NOT", kids: []*pred{p}}
	default:
		q.where = &pred{op: "leaf", leaf: "(" + p.String() + ") IS NULL"}
	}
}

// shadow: an alias that names a column, used where SQL engines resolve
// it differently (Grafana's $__timeGroup … AS time with $__timeFilter).
func (g *generator) shadow(t *genTable, q *genQuery) {
	switch g.pick(3) {
	case 0:
		unit := pickOf(g, []string{"minute", "hour", "day"})
		q.items = []genItem{{expr: "date_trunc('" + unit + "', time)", alias: "time"}, {expr: "count(*)", alias: "n", agg: true}}
		q.group = []string{"1"}
		q.where = &pred{op: "leaf", leaf: "time >= " + pickOf(g, t.cols[0].vals)}
		q.order = true
	case 1:
		c := pickOf(g, t.of(kFloat, kInt))
		q.items = []genItem{{expr: c.name + " * 2", alias: c.name}}
		q.where = &pred{op: "leaf", leaf: c.name + " > " + pickOf(g, c.vals)}
		q.order = true
	default:
		c := pickOf(g, t.of(kTag, kString))
		q.items = []genItem{{expr: "lower(" + c.name + ")", alias: c.name}, {expr: "count(*)", alias: "n", agg: true}}
		q.group = []string{c.name}
		q.order = true
	}
}

// sqlOnly: constructs outside the InfluxQL/Flux subset.
func (g *generator) sqlOnly(t *genTable, q *genQuery) {
	c := pickOf(g, t.of(kFloat, kInt))
	tag := pickOf(g, t.of(kTag))
	q.sqlOnly = true
	switch g.pick(5) {
	case 0: // CTE
		q.with = "WITH w AS (SELECT " + tag.name + ", " + c.name + " FROM " + t.name + " WHERE " + g.pred(t, 2).String() + ")"
		q.from = "w"
		q.items = []genItem{{expr: tag.name, alias: "k"}, {expr: "count(*)", alias: "n", agg: true}, {expr: "max(" + c.name + ")", alias: "m", agg: true}}
		q.group = []string{tag.name}
		q.order = true
	case 1: // subquery in FROM
		q.from = "(SELECT " + tag.name + ", " + c.name + " FROM " + t.name + " WHERE " + c.name + " IS NOT NULL) AS s"
		q.items = []genItem{{expr: tag.name, alias: "k"}, {expr: "avg(" + c.name + ")", alias: "m", agg: true}}
		q.group = []string{tag.name}
		q.order = true
	case 2: // window
		q.items = []genItem{{expr: tag.name, alias: "k"}, {expr: "time", alias: "t"},
			{expr: "row_number() OVER (PARTITION BY " + tag.name + " ORDER BY time, " + c.name + ")", alias: "rn"}}
		q.where = g.pred(t, 1)
		q.order = true
	case 3: // IN subquery
		q.items = []genItem{{expr: "count(*)", alias: "n", agg: true}}
		q.where = &pred{op: "leaf", leaf: tag.name + " IN (SELECT " + tag.name + " FROM " + t.name + " WHERE " + g.pred(t, 1).String() + ")"}
	default: // UNION ALL
		q.items = []genItem{{expr: tag.name, alias: "k"}}
		q.where = g.pred(t, 1)
		q.suffix = "UNION ALL SELECT " + tag.name + " FROM " + t.name + " WHERE " + g.pred(t, 1).String()
	}
}

// groupExpr is a tag, a time bucket, or an expression over a tag.
func (g *generator) groupExpr(t *genTable) string {
	switch g.pick(6) {
	case 0, 1:
		return pickOf(g, t.of(kTag)).name
	case 2:
		return "time_bucket(INTERVAL '" + pickOf(g, []string{"1 minute", "5 minutes", "7 minutes", "1 hour", "1 day", "11 minutes"}) + "', time)"
	case 3:
		return "date_trunc('" + pickOf(g, []string{"minute", "hour", "day", "month", "week", "year"}) + "', time)"
	case 4:
		return pickOf(g, t.of(kTag, kString, kBool)).name
	}
	return "lower(" + pickOf(g, t.of(kTag, kString)).name + ")"
}

// agg is an aggregate call.
func (g *generator) agg(t *genTable) string {
	num := t.of(kFloat, kInt)
	c := pickOf(g, num)
	switch g.pick(14) {
	case 0:
		return "count(*)"
	case 1:
		return "count(" + pickOf(g, t.cols[1:]).name + ")"
	case 2:
		return "count(DISTINCT " + pickOf(g, t.cols[1:]).name + ")"
	case 3:
		return "sum(" + c.name + ")"
	case 4:
		return "avg(" + c.name + ")"
	case 5:
		return "min(" + pickOf(g, t.cols[1:]).name + ")"
	case 6:
		return "max(" + pickOf(g, t.cols[1:]).name + ")"
	case 7:
		return pickOf(g, []string{"stddev_samp", "stddev_pop", "var_samp", "var_pop", "stddev", "variance"}) + "(" + c.name + ")"
	case 8:
		return "median(" + c.name + ")"
	case 9:
		return "quantile_cont(" + c.name + ", " + pickOf(g, []string{"0.5", "0.9", "0.99", "0.25"}) + ")"
	case 10:
		return pickOf(g, []string{"sum", "avg", "min", "max"}) + "(DISTINCT " + c.name + ")"
	case 11:
		return "sum(" + c.name + ") / count(*)"
	case 12:
		return "max(" + c.name + ") - min(" + c.name + ")"
	}
	return "count(*) FILTER (WHERE " + g.pred(t, 1).String() + ")"
}

// scalar is a column or an expression over columns.
func (g *generator) scalar(t *genTable, depth int) string {
	if depth == 0 || g.chance(0.45) {
		return pickOf(g, t.cols).name
	}
	num := t.of(kFloat, kInt)
	str := t.of(kTag, kString)
	c := pickOf(g, num)
	s := pickOf(g, str)
	switch g.pick(16) {
	case 0:
		return c.name + " " + pickOf(g, []string{"+", "-", "*", "/", "%"}) + " " + pickOf(g, append([]string{"2", "0.5", "3", "-1", "0"}, c.vals...))
	case 1:
		return "abs(" + c.name + ")"
	case 2:
		return pickOf(g, []string{"round", "ceil", "floor"}) + "(" + c.name + ")"
	case 3:
		return "CAST(" + c.name + " AS " + pickOf(g, []string{"BIGINT", "DOUBLE", "VARCHAR", "INTEGER"}) + ")"
	case 4:
		return pickOf(g, []string{"lower", "upper", "length", "trim"}) + "(" + s.name + ")"
	case 5:
		return s.name + " || '-' || " + pickOf(g, str).name
	case 6:
		return "coalesce(" + c.name + ", " + pickOf(g, []string{"0", "-1", "1.5"}) + ")"
	case 7:
		return "coalesce(" + s.name + ", 'none')"
	case 8:
		return "CASE WHEN " + g.pred(t, 1).String() + " THEN 1 ELSE 0 END"
	case 9:
		return "CASE " + s.name + " WHEN " + pickOf(g, append([]string{"NULL"}, s.vals...)) + " THEN 'yes' ELSE 'no' END"
	case 10:
		return "nullif(" + c.name + ", " + pickOf(g, c.vals) + ")"
	case 11:
		return "extract(" + pickOf(g, []string{"hour", "minute", "day", "month", "year", "epoch", "dow"}) + " FROM time)"
	case 12:
		return "substr(" + s.name + ", " + pickOf(g, []string{"1", "2", "0"}) + ", " + pickOf(g, []string{"1", "3"}) + ")"
	case 13:
		return "greatest(" + c.name + ", " + pickOf(g, c.vals) + ")"
	case 14:
		return "(" + c.name + " > " + pickOf(g, c.vals) + ")"
	}
	return "-" + c.name
}

// pred is a boolean condition.
func (g *generator) pred(t *genTable, depth int) *pred {
	if depth > 0 && g.chance(0.35) {
		switch g.pick(3) {
		case 0:
			return &pred{op: "NOT", kids: []*pred{g.pred(t, depth-1)}}
		default:
			p := &pred{op: pickOf(g, []string{"AND", "OR"})}
			for n := 2 + g.pick(2); n > 0; n-- {
				p.kids = append(p.kids, g.pred(t, depth-1))
			}
			return p
		}
	}
	return &pred{op: "leaf", leaf: g.leaf(t)}
}

var cmpOps = []string{"=", "<>", "<", "<=", ">", ">=", "!="}

func (g *generator) leaf(t *genTable) string {
	c := pickOf(g, t.cols)
	lit := func(c genCol) string {
		if len(c.vals) == 0 || g.chance(0.1) {
			switch c.kind {
			case kFloat, kInt:
				return pickOf(g, []string{"0", "-0.0", "1.5", "9007199254740993", "9.007199254740993e15", "1e300", "-9223372036854775808", "0.1 + 0.2"})
			case kTime:
				return "'2025-01-01'"
			case kBool:
				return "true"
			}
			return pickOf(g, []string{"''", "'x'", "'MiXeD'", "'%'", `'\'`})
		}
		return pickOf(g, c.vals)
	}
	switch g.pick(12) {
	case 0, 1, 2:
		return c.name + " " + pickOf(g, cmpOps) + " " + lit(c)
	case 3:
		if c.kind == kBool {
			return c.name
		}
		same := []genCol{}
		for _, o := range t.cols {
			if o.kind == c.kind || (o.kind == kTag || o.kind == kString) && (c.kind == kTag || c.kind == kString) ||
				(o.kind == kInt || o.kind == kFloat) && (c.kind == kInt || c.kind == kFloat) {
				same = append(same, o)
			}
		}
		return c.name + " " + pickOf(g, cmpOps) + " " + pickOf(g, same).name
	case 4:
		var ls []string
		for n := 1 + g.pick(4); n > 0; n-- {
			ls = append(ls, lit(c))
		}
		if g.chance(0.2) {
			ls = append(ls, "NULL")
		}
		return c.name + pickOf(g, []string{" IN ", " NOT IN "}) + "(" + strings.Join(ls, ", ") + ")"
	case 5:
		a, b := lit(c), lit(c)
		return c.name + pickOf(g, []string{" BETWEEN ", " NOT BETWEEN "}) + a + " AND " + b
	case 6:
		return c.name + pickOf(g, []string{" IS NULL", " IS NOT NULL"})
	case 7, 8:
		s := pickOf(g, t.of(kTag, kString))
		return s.name + " " + pickOf(g, []string{"LIKE", "NOT LIKE", "ILIKE", "NOT ILIKE"}) + " " + g.likePattern(s)
	case 9:
		s := pickOf(g, t.of(kTag, kString))
		pat := g.regex(s)
		switch g.pick(3) {
		case 0:
			return s.name + " " + pickOf(g, []string{"~", "!~"}) + " " + pat
		case 1:
			return "regexp_matches(" + s.name + ", " + pat + ")"
		}
		return "regexp_matches(" + s.name + ", " + pat + ", 'i')"
	case 10:
		s := pickOf(g, t.of(kTag, kString))
		return s.name + " IS DISTINCT FROM " + lit(s)
	}
	tc := t.cols[0]
	return "time " + pickOf(g, []string{">=", "<", ">", "<=", "="}) + " " + pickOf(g, tc.vals)
}

// part draws a substring (possibly empty, possibly whole) of a value of
// s, or of "abc" when s has no strings.
func (g *generator) part(s genCol) string {
	v := "abc"
	if len(s.strs) > 0 {
		v = pickOf(g, s.strs)
	}
	rs := []rune(v)
	a := g.pick(len(rs) + 1)
	b := a + g.pick(len(rs)-a+1)
	return string(rs[a:b])
}

// likePattern draws a LIKE pattern from a value of s: a prefix, a
// suffix, an infix or the whole value, with the metacharacters it holds
// escaped (ESCAPE '\') or left as wildcards.
func (g *generator) likePattern(s genCol) string {
	part := g.part(s)
	escape := g.chance(0.5)
	if escape {
		part = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(part)
	}
	pat := pickOf(g, []string{"%" + part + "%", part + "%", "%" + part, part, "_" + part + "%"})
	lit := "'" + strings.ReplaceAll(pat, "'", "''") + "'"
	if escape {
		lit += ` ESCAPE '\'`
	}
	return lit
}

// regex draws a regular expression from a value of s, sometimes with its
// metacharacters quoted, sometimes with anchors and classes.
func (g *generator) regex(s genCol) string {
	part := g.part(s)
	if g.chance(0.6) {
		var sb strings.Builder
		for _, r := range part {
			if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
				sb.WriteByte('\\')
			}
			sb.WriteRune(r)
		}
		part = sb.String()
	}
	pat := pickOf(g, []string{part, "^" + part, part + "$", ".*" + part + ".*", "[a-z]+", `\d`, "^(?:" + part + ")$", `\bx`, "a|" + part})
	return "'" + strings.ReplaceAll(pat, "'", "''") + "'"
}

// Generated is one generated query: its Arc SQL and whether its rows
// compare in order (its ORDER BY is total).
type Generated struct {
	SQL     string
	Ordered bool
}

// Generate draws n queries over ds, as the differential fuzzer does with
// the same seed; other oracles (PostgreSQL behind pg wire) run them too.
func Generate(seed uint64, ds *Dataset, n int) []Generated {
	g := newGenerator(seed, ds)
	out := make([]Generated, n)
	for i := range out {
		q := g.query()
		out[i] = Generated{SQL: q.String(), Ordered: q.ordered()}
	}
	return out
}
