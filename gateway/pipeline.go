package gateway

import (
	"context"
	"hash/fnv"

	"tsgate/dialects"
	"tsgate/dialects/duckdb"
	"tsgate/gateway/rowop"
	"tsgate/model"
	"tsgate/translate"
)

// Pipeline is parse → rewrite → check → generate → execute → post-process
// for the configured backend. Front ends hand it a query in their source
// dialect (Arc SQL from HTTP and memtrace, PostgreSQL SQL from pg wire) and
// get rows in tsgate's column model.
type Pipeline struct {
	backend dialects.Backend
	// identity: the backend runs Arc SQL as written (the embedded DuckDB
	// store, Arc's own engine), so Arc queries skip translation.
	identity bool
	fromArc  *translate.Translator
	fromPG   *translate.Translator
	maxRows  int
}

// NewPipeline builds the pipeline for backend b. identity says b runs
// Arc SQL as written (only the embedded DuckDB store does); every other
// backend gets translations. The conformance harness and third parties
// testing their own Backend use this.
func NewPipeline(b dialects.Backend, identity bool) *Pipeline { return newPipeline(b, identity) }

func newPipeline(b dialects.Backend, identity bool) *Pipeline {
	reg := translate.DefaultRegistry()
	return &Pipeline{
		backend:  b,
		identity: identity,
		fromArc:  translate.New(translate.WithRegistry(reg), translate.WithSource(translate.FromArc)),
		fromPG:   translate.New(translate.WithRegistry(reg), translate.WithSource(translate.FromPostgres)),
		maxRows:  rowop.DefaultMaxRows,
	}
}

// Target is the generator name of the configured backend.
func (p *Pipeline) Target() string { return p.backend.Target() }

// Translate parses sql (in src's dialect) and generates the backend's
// query. db is the request's database: bare names resolve in it.
func (p *Pipeline) Translate(ctx context.Context, db, sql string, src translate.Source) (*translate.Translation, error) {
	tr := p.fromArc
	if src == translate.FromPostgres {
		tr = p.fromPG
	}
	return tr.TranslateIn(ctx, sql, p.backend.Target(), db, p.backend.Schema(db))
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
// working), translated for any other backend.
func (p *Pipeline) QueryArc(ctx context.Context, db, sql string) (model.Rows, error) {
	if r, ok := p.backend.(arcRouter); ok {
		return r.queryArc(ctx, db, sql)
	}
	if p.identity {
		return p.backend.Query(ctx, db, sql)
	}
	t, err := p.Translate(ctx, db, sql, translate.FromArc)
	if err != nil {
		return nil, err
	}
	return p.Execute(ctx, db, t)
}

// arcRouter is a backend that runs Arc SQL itself: the gateway's
// switchable backend, whose current primary decides whether Arc SQL is
// translated and whose shadow reads tee the rows (migration.go).
type arcRouter interface {
	queryArc(ctx context.Context, db, sql string) (model.Rows, error)
}

// Schema is the backend's schema as the translator sees it, with bare
// names resolving in db.
func (p *Pipeline) Schema(db string) translate.Schema { return p.backend.Schema(db) }

// storeSchema adapts the embedded store's catalog to the translator.
type storeSchema struct {
	store *duckdb.Store
	db    string
}

func (s storeSchema) Columns(database, measurement string) ([]translate.ColumnInfo, bool) {
	if database == "" {
		database = s.db
	}
	if !s.store.HasTable(database, measurement) {
		return nil, false
	}
	cols := s.store.Columns(database, measurement)
	out := make([]translate.ColumnInfo, len(cols))
	for i, c := range cols {
		out[i] = translate.ColumnInfo{Name: c.Name, Tag: c.Tag, Type: c.Type}
	}
	return out, true
}

// Version mixes in the database: the translation cache keys on query text,
// target and Version, and the same text means different tables (with
// different tags and fields) in different databases.
func (s storeSchema) Version() uint64 {
	h := fnv.New64a()
	h.Write([]byte(s.db))
	return h.Sum64() ^ (s.store.SchemaVersion() * 0x9E3779B97F4A7C15)
}
