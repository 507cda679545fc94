package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"

	"tsgate/auth"
	"tsgate/errs"
	"tsgate/internal/logring"
	"tsgate/model"
	"tsgate/query"
	"tsgate/translate"
	"tsgate/translate/ast"
	"tsgate/translate/target"
	"tsgate/wire/pgwire"
	"tsgate/wire/pgwire/catalog"
)

// addPGWire binds the PostgreSQL wire front end when pgwire.listen is set.
func (g *Gateway) addPGWire(cfg Config) error {
	pc := cfg.PGWire
	if pc.Listen == "" {
		return nil
	}
	wc := pgwire.Config{
		AuthMethod:    pc.AuthMethod,
		Logger:        g.log.With(logring.ComponentKey, "pgwire"),
		QueryTimeout:  cfg.Arc.QueryTimeout.Duration,
		ServerVersion: pc.ServerVersion,
		OnError:       func(err error) { g.pgErrors.WithLabelValues(errs.CodeOf(err).String()).Inc() },
	}
	if pc.TLSCert != "" || pc.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(pc.TLSCert, pc.TLSKey)
		if err != nil {
			return fmt.Errorf("pgwire tls: %w", err)
		}
		wc.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if g.tokens != nil {
		a, err := pgwire.NewTokenAuth(g.tokens)
		if err != nil {
			return err
		}
		if cfg.Auth.BootstrapToken != "" {
			// A bootstrap token from a store made before tokens carried
			// SCRAM verifiers gets one now that it is known in plaintext.
			if err := g.tokens.LearnSCRAM(cfg.Auth.BootstrapToken); err != nil {
				g.log.Warn("pgwire: bootstrap token not usable for SCRAM", "err", err)
			}
		}
		wc.Auth = a
	}
	cat := catalog.New(storeCatalog{g: g}, pc.ServerVersion, g.guard)
	wc.Catalog = cat
	srv := pgwire.New(&pgExecutor{p: g.pipeline, g: g}, wc)
	ln, err := net.Listen("tcp", pc.Listen)
	if err != nil {
		cat.Close()
		return fmt.Errorf("pgwire listen %s: %w", pc.Listen, err)
	}
	ln = newLimitListener(ln, pc.MaxConnections, pgBusy(), g.refused.WithLabelValues("pgwire"), g.open.WithLabelValues("pgwire"))
	g.frontends = append(g.frontends, &frontend{name: "pgwire", ln: ln, serve: srv.Serve, shutdown: func(ctx context.Context) error {
		err := srv.Shutdown(ctx)
		return errors.Join(err, cat.Close())
	}})
	return nil
}

// storeCatalog is the backend's schema as the pg catalog sees it: each
// measurement with its time column first.
type storeCatalog struct{ g *Gateway }

func (s storeCatalog) Version(db string) uint64 { return s.g.pipeline.Schema(db).Version() }

func (s storeCatalog) Databases(ctx context.Context) ([]string, error) {
	return s.g.backend.Databases(ctx)
}

func (s storeCatalog) Tables(ctx context.Context, db string) ([]catalog.Table, error) {
	ms, err := s.g.backend.Measurements(ctx, db)
	if err != nil {
		return nil, err
	}
	schema := s.g.pipeline.Schema(db)
	var out []catalog.Table
	for _, m := range ms {
		t := catalog.Table{Name: m, Columns: []catalog.Column{{Name: "time", Type: model.TypeTime, NotNull: true}}}
		cols, _ := schema.Columns(db, m)
		for _, c := range cols {
			if c.Name != "time" {
				t.Columns = append(t.Columns, catalog.Column{Name: c.Name, Type: c.Type})
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// pgExecutor runs pg wire statements through the translation pipeline.
type pgExecutor struct {
	p *query.Pipeline
	g *Gateway
}

func (e *pgExecutor) Query(ctx context.Context, db, sql string) (model.Rows, error) {
	if rows, ok, err := e.p.Explain(ctx, db, sql, translate.FromPostgres); ok {
		return rows, err
	}
	tr, err := e.p.Translate(ctx, db, sql, translate.FromPostgres)
	if errs.CodeOf(err) == errs.Unsupported {
		// What the backend cannot answer whole may still be answered
		// exactly, split with the local engine.
		plan, perr := e.p.Plan(ctx, db, sql, translate.FromPostgres)
		if perr != nil || plan.Hybrid == nil {
			return nil, err
		}
		rows, err := e.p.Run(ctx, db, plan)
		if err != nil {
			return nil, err
		}
		return pgColumnNames(plan.Hybrid.Statement, rows), nil
	}
	if err != nil {
		return nil, err
	}
	if tr.Catalog != nil {
		return e.catalog(ctx, db, tr.Catalog)
	}
	rows, err := e.p.Execute(ctx, db, tr)
	if err != nil {
		return nil, err
	}
	return pgColumnNames(tr.Statement, rows), nil
}

// Describe types a statement's result without reading data: the
// translated query runs inside SELECT * FROM (…) LIMIT 0.
func (e *pgExecutor) Describe(ctx context.Context, db, sql string) ([]model.ResultColumn, error) {
	tr, err := e.p.Translate(ctx, db, sql, translate.FromPostgres)
	if err != nil && errs.CodeOf(err) != errs.Unsupported {
		return nil, err
	}
	// A split plan's columns are known once it runs.
	if err != nil || tr.Catalog != nil || tr.Const != nil || tr.Language != target.SQL {
		rows, err := e.Query(ctx, db, sql)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		return rows.Columns(), nil
	}
	wrapped := *tr
	wrapped.Text = "SELECT * FROM (" + tr.Text + ") AS tsgate_describe LIMIT 0"
	rows, err := e.p.Execute(ctx, db, &wrapped)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return pgColumnNames(tr.Statement, rows).Columns(), nil
}

// pgColumnNames gives unaliased result columns the names PostgreSQL would
// (count, avg, the column itself, ?column?) instead of the backend's
// (count_star(), "avg(usage)"): clients and BI tools key on them. A name
// PostgreSQL's rule would derive from spelling the AST no longer has
// (a cast's type name, say) keeps the backend's name. A top-level
// CAST(… AS varchar) gets PostgreSQL's varchar type as well.
func pgColumnNames(st ast.Statement, rows model.Rows) model.Rows {
	sel, ok := st.(*ast.Select)
	if !ok {
		return rows
	}
	cols := rows.Columns()
	if len(sel.Columns) != len(cols) {
		return rows
	}
	var out []model.ResultColumn
	edit := func(i int) *model.ResultColumn {
		if out == nil {
			out = append([]model.ResultColumn(nil), cols...)
		}
		return &out[i]
	}
	for i, item := range sel.Columns {
		// The type: PostgreSQL's CAST(x AS varchar) is a varchar, which
		// DuckDB's one string type cannot say; drivers see the OID.
		if c, ok := item.Expr.(*ast.Cast); ok && c.Type.Kind == ast.TypeVarchar && isDuckDBString(cols[i].BackendType) {
			edit(i).BackendType = "CHARACTER VARYING"
		}
		// avg of integers and the quotient of integer-valued numbers are
		// PostgreSQL's numeric, whose display scale varies by row: the
		// DuckDB generator prints them as numeric's text (neither is
		// ever a string otherwise).
		if numericText(item.Expr) && isDuckDBString(cols[i].BackendType) {
			edit(i).BackendType = "NUMERIC"
		}
		if item.Alias != "" {
			continue
		}
		name, ok := figureColname(item.Expr)
		if !ok || name == cols[i].Name {
			continue
		}
		edit(i).Name = name
	}
	if out == nil {
		return rows
	}
	return renamedRows{Rows: rows, cols: out}
}

func numericText(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Agg:
		return e.Kind == ast.AggAvg
	case *ast.Binary:
		// A split plan's statement may hold the division as parsed,
		// before the translator decided it was not integer division.
		return e.Op == ast.OpDiv || e.Op == ast.OpPgDiv
	}
	return false
}

// isDuckDBString reports DuckDB's name for its string type.
func isDuckDBString(backendType string) bool { return strings.EqualFold(backendType, "VARCHAR") }

func figureColname(x ast.Expr) (string, bool) {
	switch e := x.(type) {
	case *ast.Star:
		return "", false
	case *ast.ColumnRef:
		return e.Name, true
	case *ast.Func:
		return strings.ToLower(e.Name), true
	case *ast.Agg:
		switch e.Kind {
		case ast.AggCount, ast.AggSum, ast.AggAvg, ast.AggMin, ast.AggMax, ast.AggBoolAnd, ast.AggBoolOr:
			return e.Kind.String(), true
		}
	case *ast.Cast:
		if n, ok := figureColname(e.X); ok && n != "?column?" {
			return n, true
		}
	case *ast.Case:
		return "case", true
	case *ast.Literal, *ast.Binary, *ast.Unary:
		return "?column?", true
	}
	return "", false
}

type renamedRows struct {
	model.Rows
	cols []model.ResultColumn
}

func (r renamedRows) Columns() []model.ResultColumn { return r.cols }

// catalog answers Arc's SHOW DATABASES / SHOW TABLES / DESCRIBE.
func (e *pgExecutor) catalog(ctx context.Context, db string, st ast.Statement) (model.Rows, error) {
	text := func(names ...string) []model.ResultColumn {
		cols := make([]model.ResultColumn, len(names))
		for i, n := range names {
			cols[i] = model.ResultColumn{Name: n, Type: model.TypeString, BackendType: "VARCHAR"}
		}
		return cols
	}
	// The listings go through the Arc API's view, which hides what the
	// caller may not read.
	view := arcBackend{p: e.p, g: e.g.guard}
	switch s := st.(type) {
	case *ast.ShowDatabases:
		dbs, err := view.Databases(ctx)
		if err != nil {
			return nil, err
		}
		r := &model.SliceRows{Cols: text("database_name")}
		for _, d := range dbs {
			r.Data = append(r.Data, []model.Value{model.String(d)})
		}
		return r, nil
	case *ast.ShowTables:
		if s.Database != "" {
			db = s.Database
		}
		ms, err := view.Measurements(ctx, db)
		if err != nil {
			return nil, err
		}
		r := &model.SliceRows{Cols: text("database", "name")}
		for _, m := range ms {
			r.Data = append(r.Data, []model.Value{model.String(db), model.String(m)})
		}
		return r, nil
	case *ast.Describe:
		d := db
		if s.Table.Schema != "" {
			d = s.Table.Schema
		}
		if err := e.g.guard.CanRead(auth.CallerFrom(ctx), d); err != nil {
			return nil, err
		}
		cols, ok := e.p.Schema(db).Columns(d, s.Table.Name)
		if !ok {
			return nil, &errs.Error{Code: errs.NotFound, SQLState: "42P01", Msg: fmt.Sprintf("relation %q does not exist", s.Table.Name)}
		}
		r := &model.SliceRows{Cols: text("column_name", "column_type", "kind")}
		for _, c := range cols {
			kind := "field"
			if c.Tag {
				kind = "tag"
			}
			r.Data = append(r.Data, []model.Value{model.String(c.Name), model.String(c.Type.String()), model.String(kind)})
		}
		return r, nil
	}
	return nil, errs.Newf(errs.Unsupported, "statement %s is not supported over pg wire", st)
}

// ParamTypes infers parameter types from the columns they are compared
// with (col = $1, col BETWEEN $1 AND $2, col IN ($1, $2)), looking the
// columns up in the tables the statement reads.
func (e *pgExecutor) ParamTypes(ctx context.Context, db, sql string) map[int]model.FieldType {
	tr, err := e.p.Translate(ctx, db, sql, translate.FromPostgres)
	if err != nil || tr.Statement == nil {
		return nil
	}
	var tables []*ast.Table
	ast.Inspect(tr.Statement, func(n ast.Node) bool {
		if t, ok := n.(*ast.Table); ok {
			tables = append(tables, t)
		}
		return true
	})
	schema := e.p.Schema(db)
	colType := func(x ast.Expr) (model.FieldType, bool) {
		ref, ok := x.(*ast.ColumnRef)
		if !ok {
			return 0, false
		}
		if ref.Name == "time" {
			return model.TypeTime, true
		}
		for _, t := range tables {
			d := db
			if t.Schema != "" {
				d = t.Schema
			}
			cols, _ := schema.Columns(d, t.Name)
			for _, c := range cols {
				if c.Name == ref.Name {
					return c.Type, true
				}
			}
		}
		return 0, false
	}
	out := map[int]model.FieldType{}
	pair := func(col ast.Expr, ps ...ast.Expr) {
		ft, ok := colType(col)
		if !ok {
			return
		}
		for _, p := range ps {
			if pr, ok := p.(*ast.Param); ok {
				out[pr.N] = ft
			}
		}
	}
	ast.Inspect(tr.Statement, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.Binary:
			if x.Op.IsComparison() {
				pair(x.L, x.R)
				pair(x.R, x.L)
			}
		case *ast.Between:
			pair(x.X, x.Lo, x.Hi)
		case *ast.InList:
			pair(x.X, x.List...)
		}
		return true
	})
	return out
}
