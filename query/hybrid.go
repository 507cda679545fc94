package query

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tsgate/errs"
	"tsgate/translate"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// Plan is how a query is answered: by the backend as written (the
// embedded store), by the backend through one translation, or in two
// parts — the backend returns each measurement's rows (filtered by what
// it can filter exactly), and the local engine finishes the query on
// them as the reference would.
type Plan struct {
	// AsWritten is the text the backend runs as written.
	AsWritten string
	// Translation answers the whole query on the backend.
	Translation *translate.Translation
	// Hybrid splits the query between the backend and the local engine.
	Hybrid *Hybrid
	// arc is the Arc SQL a Translation answers: kept so that a backend's
	// data exception can still be answered by splitting (Run).
	arc string
}

// Hybrid is a split plan.
type Hybrid struct {
	Scans []*Scan
	// Finish is DuckDB SQL the local engine runs over the scans' rows.
	Finish string
	// Why is the refusal of the whole query that made it split.
	Why error
	// Statement is the parsed query (result columns are named after it).
	Statement ast.Statement
}

// Scan is one measurement's rows from the backend.
type Scan struct {
	DB, Measurement string
	Columns         []target.ColumnInfo
	// Pushed is the filter the backend applies, as SQL ("" for none).
	Pushed      string
	Translation *translate.Translation
}

// String renders the plan for EXPLAIN and `tsgate translate`.
func (p *Plan) String() string {
	switch {
	case p.AsWritten != "":
		return "run as written: " + p.AsWritten
	case p.Translation != nil:
		return "push down: " + p.Translation.Text
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "split (the whole query: %s)\n", errs.As(p.Hybrid.Why).Msg)
	for _, s := range p.Hybrid.Scans {
		pushed := s.Pushed
		if pushed == "" {
			pushed = "every row"
		}
		fmt.Fprintf(&sb, "  push down %s.%s (%s): %s\n", s.DB, s.Measurement, pushed, s.Translation.Text)
		for _, st := range s.Translation.Post {
			fmt.Fprintf(&sb, "    gateway step: %s\n", st)
		}
	}
	fmt.Fprintf(&sb, "  finish locally (DuckDB): %s", p.Hybrid.Finish)
	return sb.String()
}

// hybrid plans a query the backend refused as a whole (why): every
// measurement it reads comes from the backend, filtered by the parts of
// the WHERE clause that can only keep more rows than the query needs —
// time bounds and tag equality, which every backend evaluates exactly —
// and the local engine runs the query itself over those rows. Whatever
// the backend did, the local engine applies every filter again, so a
// pushed filter only has to keep every row the query needs.
func (p *Pipeline) hybrid(ctx context.Context, db, sql string, src translate.Source, why error) (*Plan, error) {
	tr := p.fromArc
	if src == translate.FromPostgres {
		tr = p.fromPG
	}
	schema := p.backend.Schema(db)
	st, err := tr.Parse(ctx, sql, db, schema)
	if err != nil {
		return nil, why
	}
	q, ok := st.(ast.Query)
	if !ok {
		return nil, why
	}
	if err := translate.Rewrite(q, src); err != nil {
		return nil, why
	}
	tables, single := baseTables(q)
	if len(tables) == 0 {
		return nil, why
	}
	h := &Hybrid{Why: why, Statement: st}
	for _, t := range tables {
		tdb := db
		if t.Schema != "" {
			tdb = t.Schema
		}
		cols, ok := schema.Columns(t.Schema, t.Name)
		if !ok {
			// Not a measurement here: the local engine then says so, and
			// the Arc API answers an empty result as Arc does.
			continue
		}
		var conj []ast.Expr
		if single {
			conj = pushable(q.(*ast.Select).Where, cols, time.Now())
		}
		scan, err := p.scan(ctx, db, t, tdb, cols, conj)
		if err != nil {
			return nil, why
		}
		h.Scans = append(h.Scans, scan)
	}
	if src == translate.FromArc {
		h.Finish = sql
	} else {
		ft, err := p.fromPG.TranslateIn(ctx, sql, p.finishGen, db, schema)
		if err != nil {
			return nil, why
		}
		h.Finish = ft.Text
	}
	return &Plan{Hybrid: h}, nil
}

// scan translates one measurement's scan, pushing down as much of conj
// as the backend takes: all of it, else its time bounds, else nothing.
func (p *Pipeline) scan(ctx context.Context, db string, t *ast.Table, tdb string, cols []target.ColumnInfo, conj []ast.Expr) (*Scan, error) {
	name := quoteName(t.Name)
	if t.Schema != "" {
		name = quoteName(t.Schema) + "." + name
	}
	var timeOnly []ast.Expr
	for _, c := range conj {
		if timeBound(c) {
			timeOnly = append(timeOnly, c)
		}
	}
	var lastErr error
	for _, try := range [][]ast.Expr{conj, timeOnly, nil} {
		where := andAll(try)
		text := "SELECT * FROM " + name
		pushed := ""
		if where != nil {
			pushed = where.String()
			text += " WHERE " + pushed
		}
		tl, err := p.Translate(ctx, db, text, translate.FromArc)
		if err == nil {
			return &Scan{DB: tdb, Measurement: t.Name, Columns: cols, Pushed: pushed, Translation: tl}, nil
		}
		lastErr = err
		if len(try) == 0 {
			break
		}
	}
	return nil, lastErr
}

// baseTables are the measurements q reads (CTE names excluded), once
// each, and whether q is one SELECT over one of them that appears
// nowhere else (only then is its WHERE clause the measurement's filter).
func baseTables(q ast.Query) ([]*ast.Table, bool) {
	ctes := map[string]bool{}
	ast.Inspect(q, func(n ast.Node) bool {
		if c, ok := n.(*ast.CTE); ok {
			ctes[strings.ToLower(c.Name)] = true
		}
		return true
	})
	var out []*ast.Table
	seen := map[string]int{}
	ast.Inspect(q, func(n ast.Node) bool {
		t, ok := n.(*ast.Table)
		if !ok || (t.Schema == "" && ctes[strings.ToLower(t.Name)]) {
			return true
		}
		key := strings.ToLower(t.Schema) + "." + strings.ToLower(t.Name)
		if seen[key] == 0 {
			out = append(out, t)
		}
		seen[key]++
		return true
	})
	single := false
	if s, ok := q.(*ast.Select); ok && len(s.From) == 1 && len(out) == 1 {
		if _, ok := s.From[0].(*ast.Table); ok && s.With == nil {
			single = seen[strings.ToLower(out[0].Schema)+"."+strings.ToLower(out[0].Name)] == 1
		}
	}
	return out, single
}

// pushable are the conjuncts of where that can only keep more rows than
// the query keeps, on every backend: time compared with an instant, and
// a tag equal to (or IN) string literals. Columns are re-made unqualified
// for the scan.
func pushable(where ast.Expr, cols []target.ColumnInfo, now time.Time) []ast.Expr {
	isTag := func(e ast.Expr) (*ast.ColumnRef, bool) {
		c, ok := e.(*ast.ColumnRef)
		if !ok {
			return nil, false
		}
		for _, col := range cols {
			if col.Name == c.Name && col.Tag {
				return &ast.ColumnRef{Span: ast.NoSpan, Name: c.Name}, true
			}
		}
		return nil, false
	}
	isTime := func(e ast.Expr) bool { c, ok := e.(*ast.ColumnRef); return ok && c.Name == "time" }
	str := func(e ast.Expr) bool { l, ok := e.(*ast.Literal); return ok && l.Kind == ast.LitString }
	var out []ast.Expr
	for _, c := range conjuncts(where) {
		switch e := c.(type) {
		case *ast.Binary:
			switch {
			case e.Op.IsComparison() && e.Op != ast.OpNe && isTime(e.L):
				if ts, ok := e.R.(*ast.TimestampLit); ok {
					out = append(out, &ast.Binary{Span: ast.NoSpan, Op: e.Op, L: timeRef(), R: ts})
				} else if ts, ok := sinceNow(e.R, now); ok && (e.Op == ast.OpGt || e.Op == ast.OpGe) {
					out = append(out, &ast.Binary{Span: ast.NoSpan, Op: ast.OpGe, L: timeRef(), R: ts})
				}
			case e.Op.IsComparison() && e.Op != ast.OpNe && isTime(e.R):
				if ts, ok := e.L.(*ast.TimestampLit); ok {
					out = append(out, &ast.Binary{Span: ast.NoSpan, Op: e.Op, L: ts, R: timeRef()})
				}
			case e.Op == ast.OpEq:
				if tag, ok := isTag(e.L); ok && str(e.R) {
					out = append(out, &ast.Binary{Span: ast.NoSpan, Op: ast.OpEq, L: tag, R: e.R})
				} else if tag, ok := isTag(e.R); ok && str(e.L) {
					out = append(out, &ast.Binary{Span: ast.NoSpan, Op: ast.OpEq, L: tag, R: e.L})
				}
			}
		case *ast.Between:
			_, lo := e.Lo.(*ast.TimestampLit)
			_, hi := e.Hi.(*ast.TimestampLit)
			if !e.Not && isTime(e.X) && lo && hi {
				out = append(out, &ast.Between{Span: ast.NoSpan, X: timeRef(), Lo: e.Lo, Hi: e.Hi})
			}
		case *ast.InList:
			tag, ok := isTag(e.X)
			if !ok || e.Not || len(e.List) == 0 {
				continue
			}
			all := true
			for _, x := range e.List {
				all = all && str(x)
			}
			if all {
				out = append(out, &ast.InList{Span: ast.NoSpan, X: tag, List: e.List})
			}
		}
	}
	return out
}

// sinceNow turns a lower bound relative to now() — now(), or now() minus
// a fixed interval — into an instant the scan can push down: a minute
// earlier than the gateway's now, so the scan keeps every row the local
// engine's later now() keeps, whatever the backend's clock says (its own
// now() is never used).
func sinceNow(e ast.Expr, now time.Time) (*ast.TimestampLit, bool) {
	var back int64
	switch x := e.(type) {
	case *ast.Now:
	case *ast.Binary:
		iv, ok := x.R.(*ast.Interval)
		if _, isNow := x.L.(*ast.Now); !isNow || !ok || x.Op != ast.OpSub || !iv.Fixed() {
			return nil, false
		}
		back = iv.FixedMicros()
	default:
		return nil, false
	}
	const slack = int64(time.Minute / time.Microsecond)
	return &ast.TimestampLit{Span: ast.NoSpan, Micros: now.UnixMicro() - back - slack}, true
}

func timeRef() *ast.ColumnRef { return &ast.ColumnRef{Span: ast.NoSpan, Name: "time"} }

func timeBound(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Binary:
		_, l := e.L.(*ast.TimestampLit)
		_, r := e.R.(*ast.TimestampLit)
		return l || r
	case *ast.Between:
		return true
	}
	return false
}

func conjuncts(e ast.Expr) []ast.Expr {
	if e == nil {
		return nil
	}
	if b, ok := e.(*ast.Binary); ok && b.Op == ast.OpAnd {
		return append(conjuncts(b.L), conjuncts(b.R)...)
	}
	return []ast.Expr{e}
}

func andAll(es []ast.Expr) ast.Expr {
	var out ast.Expr
	for _, e := range es {
		if out == nil {
			out = e
		} else {
			out = &ast.Binary{Span: ast.NoSpan, Op: ast.OpAnd, L: out, R: e}
		}
	}
	return out
}

func quoteName(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
