package gateway

import (
	"context"
	"hash/fnv"

	"tsgate/dialects/duckdb"
	"tsgate/model"
	"tsgate/translate"
)

// Pipeline is parse → rewrite → check → generate → execute for one
// backend. Front ends hand it a query in their source dialect (Arc SQL
// from HTTP and memtrace, PostgreSQL SQL from pg wire) and get rows in
// tsgate's column model.
type Pipeline struct {
	backend *embedded
	target  string
	fromArc *translate.Translator
	fromPG  *translate.Translator
}

func newPipeline(b *embedded) *Pipeline {
	reg := translate.DefaultRegistry()
	return &Pipeline{
		backend: b,
		target:  "duckdb",
		fromArc: translate.New(translate.WithRegistry(reg), translate.WithSource(translate.FromArc)),
		fromPG:  translate.New(translate.WithRegistry(reg), translate.WithSource(translate.FromPostgres)),
	}
}

// Target is the generator name of the configured backend.
func (p *Pipeline) Target() string { return p.target }

// Translate parses sql (in src's dialect) and generates the backend's
// query. db is the request's database: bare names resolve in it.
func (p *Pipeline) Translate(ctx context.Context, db, sql string, src translate.Source) (*translate.Translation, error) {
	tr := p.fromArc
	if src == translate.FromPostgres {
		tr = p.fromPG
	}
	return tr.Translate(ctx, sql, p.target, p.Schema(db))
}

// Execute runs a translation's text in db.
func (p *Pipeline) Execute(ctx context.Context, db string, t *translate.Translation) (model.Rows, error) {
	return p.backend.Query(ctx, db, t.Text)
}

// QueryArc runs Arc SQL. On the embedded store the engine is Arc's own, so
// the text runs as written: it already means exactly what Arc means, and
// DuckDB-only syntax the PostgreSQL grammar cannot parse keeps working.
func (p *Pipeline) QueryArc(ctx context.Context, db, sql string) (model.Rows, error) {
	return p.backend.Query(ctx, db, sql)
}

// Schema is the backend's schema as the translator sees it, with bare
// names resolving in db.
func (p *Pipeline) Schema(db string) translate.Schema {
	return storeSchema{store: p.backend.store, db: db}
}

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
