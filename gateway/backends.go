package gateway

import (
	"context"
	"slices"
	"strings"

	"tsgate/auth"
	"tsgate/dialects/duckdb"
	"tsgate/errs"
	"tsgate/guard"
	"tsgate/manage"
	"tsgate/model"
	"tsgate/query"
	"tsgate/replicate"
	"tsgate/translate/ast"
	"tsgate/wire/arc"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// arcBackend is the Arc API's view of the pipeline: Arc SQL in, rows out;
// writes straight to the backend. The caller in the request's context
// (auth.CallerFrom) decides which databases it sees: an admin-only one
// (memtrace's storage) is not listed, read or written for anyone else.
type arcBackend struct {
	p *query.Pipeline
	g *guard.Guard
}

var _ arc.Backend = arcBackend{}

func (a arcBackend) Name() string { return a.p.Backend().Name() }

// Query runs Arc SQL by Arc's rules. The guard's parse (cached: the
// engine asks for the same one) names the tables the query reads, which
// decides the two rules that depend on them.
func (a arcBackend) Query(ctx context.Context, q arc.Query) (model.Rows, error) {
	st, err := a.check(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := a.p.QueryArc(ctx, q.DB, q.SQL)
	if err == nil {
		return rows, nil
	}
	// A query naming a measurement that does not exist answers an empty
	// result, as Arc's does (it finds no files). The catalog decides,
	// not the error's text.
	if code := errs.CodeOf(err); (code == errs.Engine || code == errs.NotFound) && a.namesMissing(ctx, q.DB, st) {
		return &model.SliceRows{}, nil
	}
	return nil, err
}

// check classifies q and applies the rule that depends on its tables.
func (a arcBackend) check(ctx context.Context, q arc.Query) (*guard.Statement, error) {
	st, err := a.g.Arc(ctx, q.DB, q.SQL)
	if err != nil {
		return nil, err
	}
	if q.HeaderDB && slices.ContainsFunc(st.Tables, func(t guard.Name) bool { return t.Schema != "" }) {
		return nil, errs.New(errs.Invalid, "Cross-database queries (db.table syntax) not allowed when x-arc-database header is set")
	}
	return st, nil
}

// QueryArrow streams the embedded store's own Arrow output (Arc's path);
// on any other backend ok is false and the API builds batches from Query.
func (a arcBackend) QueryArrow(ctx context.Context, q arc.Query) (array.RecordReader, bool, error) {
	sw, ok := a.p.Backend().(*replicate.Switch)
	if !ok {
		return nil, false, nil
	}
	st, err := a.check(ctx, q)
	if err != nil {
		return nil, false, err
	}
	rr, ok, err := sw.QueryArcArrow(ctx, q.DB, q.SQL)
	if err == nil || !ok {
		return rr, ok, err
	}
	if code := errs.CodeOf(err); (code == errs.Engine || code == errs.NotFound) && a.namesMissing(ctx, q.DB, st) {
		// An empty stream with an empty schema, as Arc answers a query
		// that finds no files.
		rr, err := array.NewRecordReader(arrow.NewSchema(nil, nil), nil)
		return rr, true, err
	}
	return nil, true, err
}

// namesMissing reports whether st reads a table that is not a
// measurement of its database.
func (a arcBackend) namesMissing(ctx context.Context, db string, st *guard.Statement) bool {
	known := map[string][]string{}
	for _, t := range st.Tables {
		d := db
		if t.Schema != "" {
			d = t.Schema
		}
		ms, ok := known[d]
		if !ok {
			var err error
			if ms, err = a.p.Backend().Measurements(ctx, d); err != nil {
				return false
			}
			known[d] = ms
		}
		if !slices.ContainsFunc(ms, func(m string) bool { return strings.EqualFold(m, t.Name) }) {
			return true
		}
	}
	return false
}

func (a arcBackend) Write(ctx context.Context, db string, b *model.Batch) (model.WriteResult, error) {
	if err := a.g.CanRead(auth.CallerFrom(ctx), db); err != nil {
		return model.WriteResult{}, err
	}
	return a.p.Backend().Write(ctx, db, b)
}

func (a arcBackend) Databases(ctx context.Context) ([]string, error) {
	dbs, err := a.p.Backend().Databases(ctx)
	if err != nil {
		return nil, err
	}
	c := auth.CallerFrom(ctx)
	return slices.DeleteFunc(dbs, func(db string) bool { return a.g.CanRead(c, db) != nil }), nil
}

func (a arcBackend) Measurements(ctx context.Context, db string) ([]string, error) {
	if err := a.g.CanRead(auth.CallerFrom(ctx), db); err != nil {
		return nil, err
	}
	return a.p.Backend().Measurements(ctx, db)
}

func (a arcBackend) Ready(ctx context.Context) error { return a.p.Backend().Ready(ctx) }

// Check classifies q as Query would, without running it.
func (a arcBackend) Check(ctx context.Context, q arc.Query) error {
	_, err := a.check(ctx, q)
	return err
}

// manageEngine is what Arc's management jobs run on: the Arc API's view
// of the pipeline, and the current primary's own deletes.
type manageEngine struct {
	a  arcBackend
	sw *replicate.Switch
}

var _ manage.Engine = manageEngine{}

func (e manageEngine) Query(ctx context.Context, db, sql string) (model.Rows, error) {
	return e.a.Query(ctx, arc.Query{DB: db, SQL: sql})
}

func (e manageEngine) Write(ctx context.Context, db string, b *model.Batch) (model.WriteResult, error) {
	return e.a.Write(ctx, db, b)
}

func (e manageEngine) Databases(ctx context.Context) ([]string, error) { return e.a.Databases(ctx) }

func (e manageEngine) Measurements(ctx context.Context, db string) ([]string, error) {
	return e.a.Measurements(ctx, db)
}

func (e manageEngine) DeleteRows(ctx context.Context, db, m string, where ast.Expr) error {
	if err := e.a.g.CanRead(auth.CallerFrom(ctx), db); err != nil {
		return err
	}
	return e.sw.DeleteRows(ctx, db, m, where)
}

func (e manageEngine) DropDatabase(ctx context.Context, db string) error {
	if err := e.a.g.CanRead(auth.CallerFrom(ctx), db); err != nil {
		return err
	}
	return e.sw.DropDatabase(ctx, db)
}

// ReadParquet reads a Parquet file the import API spooled, with a
// private engine allowed that one file.
func (a arcBackend) ReadParquet(ctx context.Context, path string) (model.Rows, error) {
	return duckdb.ReadParquetFile(ctx, path)
}
