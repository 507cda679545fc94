package gateway

import (
	"context"

	"tsgate/dialects/duckdb"
	"tsgate/model"
	"tsgate/wire/arc"
)

// embedded serves the Arc API from the embedded DuckDB store. DuckDB is
// Arc's own engine, so Arc SQL runs as written.
type embedded struct {
	store *duckdb.Store
}

var _ arc.Backend = (*embedded)(nil)

func (e *embedded) Name() string { return "duckdb" }

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

func (e *embedded) Ready(ctx context.Context) error { return e.store.Ping(ctx) }
