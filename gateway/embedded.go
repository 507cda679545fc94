package gateway

import (
	"context"

	"tsgate/dialects"
	"tsgate/dialects/duckdb"
	"tsgate/model"
	"tsgate/translate/target"
)

// embedded is the embedded DuckDB store as a backend. DuckDB is Arc's own
// engine, so Arc SQL runs on it as written (see Pipeline.QueryArc).
type embedded struct {
	store *duckdb.Store
}

var _ dialects.Backend = (*embedded)(nil)

func (e *embedded) Name() string   { return "duckdb" }
func (e *embedded) Target() string { return "duckdb" }

func (e *embedded) Query(ctx context.Context, db, sql string) (model.Rows, error) {
	return e.store.Query(ctx, db, sql)
}

func (e *embedded) Write(ctx context.Context, db string, b *model.Batch) (model.WriteResult, error) {
	return e.store.Write(ctx, db, b)
}

func (e *embedded) Databases(context.Context) ([]string, error) { return e.store.Databases(), nil }

func (e *embedded) Measurements(_ context.Context, db string) ([]string, error) {
	return e.store.Measurements(db), nil
}

func (e *embedded) Schema(db string) target.Schema { return storeSchema{store: e.store, db: db} }

func (e *embedded) Ready(ctx context.Context) error { return e.store.Ping(ctx) }

func (e *embedded) Close() error { return e.store.Close() }

// NewEmbedded wraps an open embedded store as a Backend (the conformance
// reference uses it directly).
func NewEmbedded(s *duckdb.Store) dialects.Backend { return &embedded{store: s} }
