package query

import (
	"context"
	"slices"
	"strings"

	"tsgate/auth"
	"tsgate/dialects"
	"tsgate/dialects/duckdbsql"
	"tsgate/errs"
	"tsgate/guard"
	"tsgate/model"
	"tsgate/query/rowop"
	"tsgate/translate"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// Pipeline is parse → rewrite → check → generate → execute → post-process
// for one backend. Front ends hand it a query in their source dialect
// (Arc SQL from HTTP and memtrace, PostgreSQL SQL from pg wire) and get
// rows in tsgate's column model.
type Pipeline struct {
	backend dialects.Backend
	// identity: the backend runs Arc SQL as written (the embedded DuckDB
	// store, Arc's own engine), so Arc queries skip translation.
	identity bool
	fromArc  *translate.Translator
	fromPG   *translate.Translator
	maxRows  int
	// guard, when set, classifies Arc SQL with DuckDB's parser before it
	// is translated and checks the tables every translation reads.
	guard *guard.Guard
	// local, when set, finishes what a backend cannot answer exactly
	// (hybrid plans); finishGen writes DuckDB SQL for it from pg wire's
	// PostgreSQL.
	local     *Local
	finishGen target.Generator
}

// Option configures a Pipeline.
type Option func(*Pipeline)

// Translated makes Arc SQL go through the translator even on a backend
// that runs it as written: the conformance suite checks the DuckDB
// generator this way against the reference.
func Translated() Option { return func(p *Pipeline) { p.identity = false } }

// WithGuard checks every query with g before it reaches the backend: the
// gateway's front ends run with one; tsgate's own tools, which send no
// user's text, need not.
func WithGuard(g *guard.Guard) Option { return func(p *Pipeline) { p.guard = g } }

// WithLocal lets the pipeline split a query the backend refuses as a
// whole: the backend returns the rows, the local engine finishes (see
// Hybrid).
func WithLocal(l *Local) Option { return func(p *Pipeline) { p.local = l } }

// New builds the pipeline for backend b.
func New(b dialects.Backend, opts ...Option) *Pipeline {
	p := &Pipeline{
		backend:   b,
		fromArc:   translate.New(translate.WithSource(translate.FromArc)),
		fromPG:    translate.New(translate.WithSource(translate.FromPostgres)),
		maxRows:   rowop.DefaultMaxRows,
		finishGen: duckdbsql.New(),
	}
	if n, ok := b.(dialects.ArcNative); ok {
		p.identity = n.RunsArcSQL()
	}
	for _, o := range opts {
		o(p)
	}
	if g := p.duckParser(); g != nil {
		// Arc SQL is DuckDB SQL: what PostgreSQL's grammar cannot read
		// goes through DuckDB's, in the guard's private parser engine.
		p.fromArc = translate.New(translate.WithSource(translate.FromArc), translate.WithDuckDBParser(g.SyntaxTree))
	}
	return p
}

// duckParser is the guard whose DuckDB parser reads Arc SQL: the
// pipeline's own, else its local engine's.
func (p *Pipeline) duckParser() *guard.Guard {
	if p.guard != nil {
		return p.guard
	}
	if p.local != nil {
		return p.local.guard
	}
	return nil
}

// AsWritten reports whether Arc SQL runs on the backend as written
// (untranslated).
func (p *Pipeline) AsWritten() bool { return p.identity }

// Backend is the backend the pipeline runs on.
func (p *Pipeline) Backend() dialects.Backend { return p.backend }

// Translate parses sql (in src's dialect) and generates the backend's
// query. db is the request's database: bare names resolve in it.
func (p *Pipeline) Translate(ctx context.Context, db, sql string, src translate.Source) (*translate.Translation, error) {
	tr := p.fromArc
	if src == translate.FromPostgres {
		tr = p.fromPG
	}
	t, err := tr.TranslateIn(ctx, sql, p.backend.Generator(), db, p.backend.Schema(db))
	if err != nil || p.guard == nil || t.Statement == nil {
		return t, err
	}
	// Whatever the source grammar, the tables a translation reads must be
	// measurements of databases the caller may read.
	check := p.guard.DatabaseTables(auth.CallerFrom(ctx), db)
	ast.Inspect(t.Statement, func(n ast.Node) bool {
		if tb, ok := n.(*ast.Table); ok && err == nil {
			err = check(guard.Name{Schema: tb.Schema, Name: tb.Name, Pos: tb.Start + 1})
		}
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Execute runs a translation's text in db and applies its post steps.
func (p *Pipeline) Execute(ctx context.Context, db string, t *translate.Translation) (model.Rows, error) {
	if t.Const != nil {
		return t.Const.Rows(), nil
	}
	rows, err := p.backend.Query(ctx, db, t.Text)
	if err != nil || len(t.Post) == 0 {
		return rows, err
	}
	return rowop.Apply(rows, t.Post, p.maxRows)
}

// QueryArc runs Arc SQL: as written on the embedded store (it already
// means exactly what Arc means there, and DuckDB-only syntax keeps
// working), translated for any other backend — whole when the backend
// can answer it exactly, split with the local engine when it cannot.
func (p *Pipeline) QueryArc(ctx context.Context, db, sql string) (model.Rows, error) {
	if r, ok := p.backend.(ArcRouter); ok {
		return r.QueryArc(ctx, db, sql)
	}
	if rows, ok, err := p.Explain(ctx, db, sql, translate.FromArc); ok {
		return rows, err
	}
	plan, err := p.Plan(ctx, db, sql, translate.FromArc)
	if err != nil {
		return nil, err
	}
	return p.Run(ctx, db, plan)
}

// Plan decides how sql (in src's dialect) is answered in db.
func (p *Pipeline) Plan(ctx context.Context, db, sql string, src translate.Source) (*Plan, error) {
	if src == translate.FromArc {
		if p.identity {
			// The engine's own guard classifies the text (it runs as
			// written there).
			return &Plan{AsWritten: sql}, nil
		}
		if p.guard != nil {
			if _, err := p.guard.Arc(ctx, db, sql); err != nil {
				return nil, err
			}
		}
	}
	t, err := p.Translate(ctx, db, sql, src)
	if err == nil {
		plan := &Plan{Translation: t}
		if src == translate.FromArc {
			plan.arc = sql
		}
		return plan, nil
	}
	if errs.CodeOf(err) == errs.Unsupported && p.local != nil {
		if h, herr := p.hybrid(ctx, db, sql, src, err); herr == nil {
			return h, nil
		}
	}
	return nil, err
}

// Run executes a plan.
func (p *Pipeline) Run(ctx context.Context, db string, plan *Plan) (model.Rows, error) {
	switch {
	case plan.AsWritten != "":
		return p.backend.Query(ctx, db, plan.AsWritten)
	case plan.Translation != nil:
		rows, err := p.Execute(ctx, db, plan.Translation)
		if plan.arc == "" || p.local == nil || plan.Translation.Const != nil {
			return rows, err
		}
		// A backend that raises a data exception (PostgreSQL's float
		// overflow on a sum DuckDB answers as infinity, say) has not
		// answered Arc SQL, whose meaning is DuckDB's: the query is split
		// instead, and the gateway's DuckDB computes it from the rows.
		// Only before the first row: after it, the error stands.
		rows, err = peek(rows, err)
		if !dataException(err) {
			return rows, err
		}
		h, herr := p.hybrid(ctx, db, plan.arc, translate.FromArc, err)
		if herr != nil {
			return nil, err
		}
		return p.Run(ctx, db, h)
	}
	h := plan.Hybrid
	tables := make([]LocalTable, 0, len(h.Scans))
	for _, s := range h.Scans {
		rows, err := p.Execute(ctx, db, s.Translation)
		if err != nil {
			for _, t := range tables {
				t.Rows.Close()
			}
			return nil, err
		}
		tables = append(tables, LocalTable{DB: s.DB, Name: s.Measurement, Columns: storeOrder(s.Columns), Rows: rows,
			Pushed: s.Translation.Text, Backend: p.backend.Name()})
	}
	return p.local.Run(ctx, db, tables, h.Finish)
}

// storeOrder lists columns as the embedded store does: alphabetically
// (time, always first, is not among them).
func storeOrder(cols []target.ColumnInfo) []target.ColumnInfo {
	out := slices.Clone(cols)
	slices.SortFunc(out, func(a, b target.ColumnInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// ArcRouter is a backend that runs Arc SQL itself: the gateway's
// backend, a replicate.Switch, whose current primary decides whether Arc
// SQL is translated and whose shadow reads tee the rows.
type ArcRouter interface {
	QueryArc(ctx context.Context, db, sql string) (model.Rows, error)
}

// Schema is the backend's schema as the translator sees it, with bare
// names resolving in db.
func (p *Pipeline) Schema(db string) target.Schema { return p.backend.Schema(db) }

// dataException reports a backend's refusal of the data itself (SQLSTATE
// class 22: overflow, division by zero, a value out of range).
func dataException(err error) bool {
	e := errs.As(err)
	return e != nil && e.Code == errs.Engine && strings.HasPrefix(e.SQLState, "22")
}

// peek reads rows' first row, so that an error the backend raises before
// answering anything is seen while the query can still be planned again;
// the rows returned replay it.
func peek(rows model.Rows, err error) (model.Rows, error) {
	if err != nil {
		return nil, err
	}
	first := make([]model.Value, len(rows.Columns()))
	if !rows.Next(first) {
		if err := rows.Err(); err != nil {
			rows.Close()
			return nil, err
		}
		return rows, nil
	}
	return &peeked{Rows: rows, first: first}, nil
}

// peeked replays a row read ahead.
type peeked struct {
	model.Rows
	first []model.Value
}

func (r *peeked) Next(dst []model.Value) bool {
	if r.first != nil {
		copy(dst, r.first)
		r.first = nil
		return true
	}
	return r.Rows.Next(dst)
}
