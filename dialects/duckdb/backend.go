package duckdb

import (
	"context"
	"hash/fnv"

	"tsgate/dialects"
	"tsgate/dialects/duckdbsql"
	"tsgate/model"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// Descriptor registers the embedded store: no URL opens it (it runs when
// backend.url is empty), and its generator, DuckDB SQL, is also what a
// remote Arc and Arc's Parquet files are sent.
func Descriptor() dialects.Descriptor {
	return dialects.Descriptor{Name: "duckdb", Generators: []target.Generator{duckdbsql.New()}}
}

// Backend is the embedded store as a dialects.Backend. DuckDB is Arc's own
// engine, so Arc SQL runs on it as written (RunsArcSQL).
type Backend struct {
	store *Store
	gen   target.Generator
}

var (
	_ dialects.Backend   = (*Backend)(nil)
	_ dialects.ArcNative = (*Backend)(nil)
	_ dialects.Deleter   = (*Backend)(nil)
)

// NewBackend wraps an open store as a Backend; closing the Backend closes
// the store.
func NewBackend(s *Store) *Backend { return &Backend{store: s, gen: duckdbsql.New()} }

// Store is the store behind the backend.
func (b *Backend) Store() *Store { return b.store }

func (b *Backend) Name() string                    { return "duckdb" }
func (b *Backend) Generator() target.Generator     { return b.gen }
func (b *Backend) RunsArcSQL() bool                { return true }
func (b *Backend) Ready(ctx context.Context) error { return b.store.Ping(ctx) }
func (b *Backend) Close() error                    { return b.store.Close() }

func (b *Backend) Query(ctx context.Context, db, sql string) (model.Rows, error) {
	return b.store.Query(ctx, db, sql)
}

func (b *Backend) Write(ctx context.Context, db string, batch *model.Batch) (model.WriteResult, error) {
	return b.store.Write(ctx, db, batch)
}

func (b *Backend) DeleteRows(ctx context.Context, db, m string, where ast.Expr) error {
	return b.store.DeleteRows(ctx, db, m, where)
}

func (b *Backend) DropDatabase(ctx context.Context, db string) error {
	return b.store.DropDatabase(ctx, db)
}

func (b *Backend) Databases(context.Context) ([]string, error) { return b.store.Databases(), nil }

// Flush commits what the store has buffered (WithBuffer).
func (b *Backend) Flush(ctx context.Context) error { return b.store.Flush(ctx) }

func (b *Backend) Measurements(_ context.Context, db string) ([]string, error) {
	return b.store.Measurements(db), nil
}

func (b *Backend) Schema(db string) target.Schema { return storeSchema{store: b.store, db: db} }

// storeSchema adapts the store's catalog to the translator.
type storeSchema struct {
	store *Store
	db    string
}

func (s storeSchema) Columns(database, measurement string) ([]target.ColumnInfo, bool) {
	if database == "" {
		database = s.db
	}
	if !s.store.HasTable(database, measurement) {
		return nil, false
	}
	cols := s.store.Columns(database, measurement)
	out := make([]target.ColumnInfo, len(cols))
	for i, c := range cols {
		out[i] = target.ColumnInfo{Name: c.Name, Tag: c.Tag, Type: c.Type}
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
