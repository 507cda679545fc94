package pgparse

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"tsgate/translate/ast"
	"tsgate/translate/sqltime"
)

// aggKinds maps aggregate spellings whose only argument is the value.
var aggKinds = map[string]ast.AggKind{
	"count": ast.AggCount, "sum": ast.AggSum, "avg": ast.AggAvg, "mean": ast.AggAvg,
	"min": ast.AggMin, "max": ast.AggMax,
	"stddev": ast.AggStddevSamp, "stddev_samp": ast.AggStddevSamp, "stddev_pop": ast.AggStddevPop,
	"variance": ast.AggVarSamp, "var_samp": ast.AggVarSamp, "var_pop": ast.AggVarPop,
	"median": ast.AggMedian, "bool_and": ast.AggBoolAnd, "bool_or": ast.AggBoolOr,
}

// dateTruncUnits maps date_trunc units to bucket width and origin. Units up
// to a day align to any midnight, so the epoch serves; weeks start on
// Monday (2000-01-03 is one); months, quarters and years count from
// 2000-01-01.
var dateTruncUnits = map[string]struct {
	width  ast.Interval
	origin int64
}{
	"second":  {ast.Interval{Micros: 1_000_000}, ast.OriginEpoch},
	"minute":  {ast.Interval{Micros: 60_000_000}, ast.OriginEpoch},
	"hour":    {ast.Interval{Micros: 3_600_000_000}, ast.OriginEpoch},
	"day":     {ast.Interval{Days: 1}, ast.OriginEpoch},
	"week":    {ast.Interval{Days: 7}, ast.Origin2000Monday},
	"month":   {ast.Interval{Months: 1}, ast.Origin2000},
	"quarter": {ast.Interval{Months: 3}, ast.Origin2000},
	"year":    {ast.Interval{Months: 12}, ast.Origin2000},
}

var extractFields = map[string]bool{
	"epoch": true, "year": true, "quarter": true, "month": true, "week": true, "day": true, "dow": true,
	"isodow": true, "doy": true, "hour": true, "minute": true, "second": true, "millisecond": true,
	"microsecond": true, "milliseconds": true, "microseconds": true,
}

func (c *conv) funcCall(fc *pg.FuncCall) (ast.Expr, error) {
	sp := c.span(fc.Location)
	var parts []string
	for _, n := range fc.Funcname {
		s := n.GetString_()
		if s == nil {
			return nil, c.unsupported(fc.Location, "this function name")
		}
		parts = append(parts, s.Sval)
	}
	if len(parts) == 2 && parts[0] != "pg_catalog" || len(parts) > 2 || len(parts) == 0 {
		return nil, c.unsupported(fc.Location, "schema-qualified function "+strings.Join(parts, "."))
	}
	if fc.FuncVariadic {
		return nil, c.unsupported(fc.Location, "VARIADIC")
	}
	call := Call{Span: sp, Name: parts[len(parts)-1], Star: fc.AggStar, Distinct: fc.AggDistinct, WithinGroup: fc.AggWithinGroup}
	var err error
	if fc.Over != nil {
		if call.Over, err = c.window(fc.Over); err != nil {
			return nil, err
		}
	}
	if fc.AggFilter != nil {
		if call.Filter, err = c.expr(fc.AggFilter); err != nil {
			return nil, err
		}
	}
	if call.Args, err = c.exprs(fc.Args); err != nil {
		return nil, err
	}
	if call.Order, err = c.orderList(fc.AggOrder); err != nil {
		return nil, err
	}
	for _, o := range fc.AggOrder {
		call.OrderNulls = append(call.OrderNulls, explicitNulls(o))
	}
	return c.call(call)
}

// Call is a function call whose parts are already converted: what both
// front ends (pg_query's and DuckDB's) hand to the one table that decides
// what a function name means.
type Call struct {
	Span ast.Span
	// Name is the function's name, lower case as written.
	Name string
	Args []ast.Expr
	// Star is count(*); Distinct is f(DISTINCT x).
	Star, Distinct bool
	// Order is an aggregate's ORDER BY (or WITHIN GROUP's when
	// WithinGroup); OrderNulls[i] says whether Order[i] spelled NULLS
	// FIRST/LAST.
	Order       []*ast.OrderItem
	OrderNulls  []bool
	WithinGroup bool
	Filter      ast.Expr
	Over        *ast.Window
}

// ConvertCall gives a call its meaning in flavor: an aggregate, a time
// bucket, an extract, or a plain Func. sql is the text Span points into
// (for error positions).
func ConvertCall(sql string, flavor Flavor, call Call) (ast.Expr, error) {
	c := conv{sql: sql, flavor: flavor}
	return c.call(call)
}

func (c *conv) call(fc Call) (ast.Expr, error) {
	sp, name, args, over, filter := fc.Span, fc.Name, fc.Args, fc.Over, fc.Filter
	loc := int32(sp.Start)
	if sp.Start < 0 {
		loc = -1
	}
	agg := func(kind ast.AggKind) *ast.Agg {
		return &ast.Agg{Span: sp, Kind: kind, Distinct: fc.Distinct, Filter: filter, Over: over}
	}
	plain := !fc.Star && !fc.Distinct && len(fc.Order) == 0 && !fc.WithinGroup
	// First/last by an ordering column: DuckDB's arg_min/min_by and
	// first(x ORDER BY t), TimescaleDB's first(x, t).
	firstLast := func(kind ast.AggKind) (ast.Expr, error) {
		a := agg(kind)
		switch {
		case plain && len(args) == 2:
			a.Arg, a.By = args[0], args[1]
		case len(args) == 1 && len(fc.Order) == 1 && !fc.Distinct && !fc.WithinGroup:
			if fc.OrderNulls[0] {
				return nil, c.unsupported(loc, "NULLS FIRST/LAST inside "+name)
			}
			a.Arg, a.By = args[0], fc.Order[0].Expr
			if fc.Order[0].Desc {
				a.Kind = ast.AggFirst + ast.AggLast - kind
			}
		default:
			return nil, c.unsupported(loc, name+" without an ordering column")
		}
		return a, nil
	}
	switch name {
	case "now", "current_timestamp", "get_current_timestamp", "transaction_timestamp":
		if len(args) != 0 || !plain || over != nil {
			return nil, c.invalid(loc, name+"() takes no arguments")
		}
		return &ast.Now{Span: sp}, nil
	case "extract", "date_part":
		if len(args) != 2 || !plain || over != nil {
			return nil, c.invalid(loc, name+" takes a field and a value")
		}
		f, ok := args[0].(*ast.Literal)
		if !ok || f.Kind != ast.LitString || !extractFields[strings.ToLower(f.Text)] {
			return nil, c.unsupported(loc, name+" of this field")
		}
		return &ast.Extract{Span: sp, Field: strings.ToLower(f.Text), X: args[1]}, nil
	case "div":
		// PostgreSQL's truncating division; the canonical form of //.
		if !plain || over != nil || len(args) != 2 {
			return nil, c.unsupported(loc, "this form of div")
		}
		return &ast.Binary{Span: sp, Op: ast.OpIntDiv, L: args[0], R: args[1]}, nil
	case "regexp_matches", "regexp_full_match":
		// DuckDB's spellings: a match anywhere, and a match of the whole
		// string (what its ~ operator means).
		if !plain || over != nil || len(args) < 2 || len(args) > 3 {
			return nil, c.unsupported(loc, "this form of "+name)
		}
		m := &ast.RegexMatch{Span: sp, X: args[0], Pattern: args[1], Full: name == "regexp_full_match"}
		if len(args) == 3 {
			o, ok := args[2].(*ast.Literal)
			if !ok || o.Kind != ast.LitString || o.Text != "i" {
				return nil, c.unsupported(loc, "regexp_matches options other than 'i'")
			}
			m.CaseInsensitive = true
		}
		return m, nil
	case "time_bucket", "date_bin":
		return c.bucket(loc, sp, name, args, plain && over == nil)
	case "date_trunc":
		if len(args) < 2 || len(args) > 3 || !plain || over != nil {
			return nil, c.invalid(loc, "date_trunc takes a unit and a value")
		}
		u, ok := args[0].(*ast.Literal)
		if !ok || u.Kind != ast.LitString {
			return nil, c.unsupported(loc, "date_trunc with a non-constant unit")
		}
		spec, ok := dateTruncUnits[strings.ToLower(u.Text)]
		if !ok {
			return nil, c.unsupported(loc, "date_trunc('"+u.Text+"')")
		}
		tb := &ast.TimeBucket{Span: sp, Width: spec.width, Source: args[1], Origin: spec.origin, Result: ast.BucketTimestamp}
		tb.Width.Span = ast.NoSpan
		if len(args) == 3 {
			z, ok := args[2].(*ast.Literal)
			if !ok || z.Kind != ast.LitString {
				return nil, c.unsupported(loc, "date_trunc with a non-constant time zone")
			}
			if !isUTC(z.Text) {
				tb.TZ = z.Text
			}
		}
		return tb, nil
	case "arg_min", "min_by":
		if !plain || len(args) != 2 {
			return nil, c.unsupported(loc, "this form of "+name)
		}
		return firstLast(ast.AggFirst)
	case "arg_max", "max_by":
		if !plain || len(args) != 2 {
			return nil, c.unsupported(loc, "this form of "+name)
		}
		return firstLast(ast.AggLast)
	case "first", "last":
		kind := ast.AggFirst
		if name == "last" {
			kind = ast.AggLast
		}
		return firstLast(kind)
	case "percentile_cont", "percentile_disc":
		if !fc.WithinGroup || len(args) != 1 || len(fc.Order) != 1 {
			return nil, c.unsupported(loc, name+" without WITHIN GROUP (ORDER BY x)")
		}
		o := fc.Order
		if o[0].Desc || fc.OrderNulls[0] {
			return nil, c.unsupported(loc, name+" with a descending order")
		}
		kind := ast.AggPercentileCont
		if name == "percentile_disc" {
			kind = ast.AggPercentileDisc
		}
		a := agg(kind)
		a.Arg, a.Fraction = o[0].Expr, args[0]
		return a, nil
	case "quantile_cont", "quantile_disc", "quantile", "approx_quantile", "reservoir_quantile":
		if !plain || len(args) != 2 {
			return nil, c.unsupported(loc, "this form of "+name)
		}
		kind := map[string]ast.AggKind{"quantile_cont": ast.AggPercentileCont, "quantile_disc": ast.AggPercentileDisc,
			"quantile": ast.AggPercentileDisc, "approx_quantile": ast.AggApproxQuantile}[name]
		if kind == 0 {
			return nil, c.unsupported(loc, name)
		}
		if _, ok := args[1].(*ast.Literal); !ok {
			return nil, c.unsupported(loc, name+" with a non-constant fraction (or a list of fractions)")
		}
		a := agg(kind)
		a.Arg, a.Fraction = args[0], args[1]
		return a, nil
	}
	if kind, ok := aggKinds[name]; ok {
		if len(fc.Order) > 0 || fc.WithinGroup {
			return nil, c.unsupported(loc, "ORDER BY inside "+name+"()")
		}
		if fc.Distinct && kind != ast.AggCount && kind != ast.AggSum && kind != ast.AggAvg && kind != ast.AggMin && kind != ast.AggMax {
			return nil, c.unsupported(loc, "DISTINCT inside "+name+"()")
		}
		a := agg(kind)
		switch {
		case fc.Star && kind == ast.AggCount && len(args) == 0:
		case !fc.Star && len(args) == 1:
			a.Arg = args[0]
		default:
			return nil, c.invalid(loc, name+" takes one argument")
		}
		if kind == ast.AggCount && a.Arg == nil && fc.Distinct {
			return nil, c.invalid(loc, "count(DISTINCT *)")
		}
		return a, nil
	}
	if !plain || filter != nil {
		return nil, c.unsupported(loc, "DISTINCT, ORDER BY, FILTER or * in a call to "+name)
	}
	return &ast.Func{Span: sp, Name: name, Args: args, Over: over}, nil
}

func isUTC(z string) bool {
	switch strings.ToUpper(z) {
	case "UTC", "ETC/UTC", "Z", "GMT", "+00", "+00:00":
		return true
	}
	return false
}

// bucket reads time_bucket(width, t [, origin]) and date_bin(width, t,
// origin). The origin must be a timestamp constant: the default depends on
// the width and the flavor (fixed widths: 1970-01-01 in Arc SQL, as Arc
// aligns them, 2000-01-03 as TimescaleDB does; months: 2000-01-01).
func (c *conv) bucket(loc int32, sp ast.Span, name string, args []ast.Expr, plain bool) (ast.Expr, error) {
	if !plain || len(args) < 2 || len(args) > 4 || name == "date_bin" && len(args) != 3 {
		return nil, c.unsupported(loc, "this form of "+name)
	}
	var width ast.Interval
	switch w := args[0].(type) {
	case *ast.Interval:
		width = *w
	case *ast.Literal:
		iv, err := sqltime.ParseInterval(w.Text)
		if w.Kind != ast.LitString || err != nil {
			return nil, c.unsupported(loc, name+" with this width")
		}
		width = ast.Interval{Months: iv.Months, Days: iv.Days, Micros: iv.Micros}
	default:
		return nil, c.unsupported(loc, name+" with a non-constant width")
	}
	width.Span = ast.NoSpan
	if width.Months < 0 || width.Days < 0 || width.Micros < 0 || width.Months == 0 && width.FixedMicros() <= 0 ||
		width.Months != 0 && (width.Days != 0 || width.Micros != 0) {
		return nil, c.unsupported(loc, name+" with a zero, negative or mixed month/time width")
	}
	if name == "date_bin" && width.Months != 0 {
		return nil, c.invalid(loc, "date_bin does not take month widths")
	}
	tb := &ast.TimeBucket{Span: sp, Width: width, Source: args[1], Result: ast.BucketTimestamp, Origin: ast.Origin2000Monday}
	switch {
	case width.Months != 0:
		tb.Origin = ast.Origin2000
	case c.flavor == Arc:
		// Arc rewrites time_bucket(width, t) into epoch arithmetic before
		// DuckDB sees it, so its fixed-width buckets count from the Unix
		// epoch (InfluxQL's GROUP BY time() does the same); tsgate's
		// embedded store runs it with that origin too (guard.Statement.Run).
		// TimescaleDB's time_bucket, which pg wire reads, keeps 2000-01-03.
		tb.Origin = ast.OriginEpoch
	}
	if len(args) == 4 {
		// time_bucket(width, t, origin, zone): the canonical form of a
		// bucket computed in a time zone.
		z, ok := args[3].(*ast.Literal)
		if !ok || z.Kind != ast.LitString || name != "time_bucket" {
			return nil, c.unsupported(loc, name+" with a non-constant time zone")
		}
		if !isUTC(z.Text) {
			tb.TZ = z.Text
		}
	}
	if len(args) >= 3 {
		switch o := args[2].(type) {
		case *ast.TimestampLit:
			tb.Origin = o.Micros
		case *ast.Cast:
			lit, ok := o.X.(*ast.Literal)
			ts, err := sqltime.ParseTimestamp(lit.Text)
			if !ok || lit.Kind != ast.LitString || o.Type.Kind != ast.TypeTimestamp || err != nil || ts.SubMicro() {
				return nil, c.unsupported(loc, name+" with this origin")
			}
			tb.Origin = ts.Micros()
		case *ast.Literal:
			ts, err := sqltime.ParseTimestamp(o.Text)
			if o.Kind != ast.LitString || err != nil || ts.SubMicro() {
				// A bare string could be DuckDB's time-zone argument.
				return nil, c.unsupported(loc, name+" with a third argument that is not a timestamp constant (a time zone or offset)")
			}
			tb.Origin = ts.Micros()
		default:
			return nil, c.unsupported(loc, name+" with a non-constant origin")
		}
	}
	return tb, nil
}

// Frame option bits from PostgreSQL's nodes/parsenodes.h.
const (
	frameNonDefault      = 0x1
	frameRange           = 0x2
	frameRows            = 0x4
	frameGroups          = 0x8
	frameStartUnbPrec    = 0x20
	frameEndUnbFoll      = 0x100
	frameStartCurrent    = 0x200
	frameEndCurrent      = 0x400
	frameStartOffsetPrec = 0x800
	frameEndOffsetPrec   = 0x1000
	frameStartOffsetFoll = 0x2000
	frameEndOffsetFoll   = 0x4000
	frameExclusion       = 0x8000 | 0x10000 | 0x20000
	frameEndUnbPrec      = 0x40
	frameStartUnbFoll    = 0x80
)

func (c *conv) window(w *pg.WindowDef) (*ast.Window, error) {
	if w.Refname != "" || w.Name != "" {
		return nil, c.unsupported(w.Location, "named windows")
	}
	out := &ast.Window{Span: c.span(w.Location)}
	var err error
	if out.PartitionBy, err = c.exprs(w.PartitionClause); err != nil {
		return nil, err
	}
	if len(out.PartitionBy) == 0 {
		out.PartitionBy = nil
	}
	if out.OrderBy, err = c.orderList(w.OrderClause); err != nil {
		return nil, err
	}
	fo := w.FrameOptions
	if fo&frameNonDefault == 0 {
		return out, nil
	}
	if fo&(frameGroups|frameExclusion|frameEndUnbPrec|frameStartUnbFoll) != 0 {
		return nil, c.unsupported(w.Location, "GROUPS frames, EXCLUDE and inverted frame bounds")
	}
	f := &ast.Frame{Mode: ast.FrameRange}
	if fo&frameRows != 0 {
		f.Mode = ast.FrameRows
	}
	bound := func(unbPrec, cur, offPrec, offFoll, unbFoll int32, off *pg.Node) (ast.FrameBound, error) {
		switch {
		case fo&unbPrec != 0:
			return ast.FrameBound{Kind: ast.UnboundedPreceding}, nil
		case fo&cur != 0:
			return ast.FrameBound{Kind: ast.CurrentRow}, nil
		case fo&unbFoll != 0:
			return ast.FrameBound{Kind: ast.UnboundedFollowing}, nil
		case fo&(offPrec|offFoll) != 0:
			e, err := c.expr(off)
			if err != nil {
				return ast.FrameBound{}, err
			}
			k := ast.Preceding
			if fo&offFoll != 0 {
				k = ast.Following
			}
			return ast.FrameBound{Kind: k, Offset: e}, nil
		}
		return ast.FrameBound{Kind: ast.CurrentRow}, nil
	}
	if f.Start, err = bound(frameStartUnbPrec, frameStartCurrent, frameStartOffsetPrec, frameStartOffsetFoll, frameStartUnbFoll, w.StartOffset); err != nil {
		return nil, err
	}
	if f.End, err = bound(frameEndUnbPrec, frameEndCurrent, frameEndOffsetPrec, frameEndOffsetFoll, frameEndUnbFoll, w.EndOffset); err != nil {
		return nil, err
	}
	out.Frame = f
	return out, nil
}

func explicitNulls(n *pg.Node) bool {
	sb := n.GetSortBy()
	return sb != nil && (sb.SortbyNulls == pg.SortByNulls_SORTBY_NULLS_FIRST || sb.SortbyNulls == pg.SortByNulls_SORTBY_NULLS_LAST)
}
