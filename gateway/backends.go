package gateway

import (
	"context"

	"tsgate/model"
	"tsgate/query"
	"tsgate/wire/arc"
)

// arcBackend is the Arc API's view of the pipeline: Arc SQL in, rows out;
// writes straight to the backend.
type arcBackend struct{ p *query.Pipeline }

var _ arc.Backend = arcBackend{}

func (a arcBackend) Name() string { return a.p.Backend().Name() }

func (a arcBackend) Query(ctx context.Context, db, sql string) (model.Rows, error) {
	return a.p.QueryArc(ctx, db, sql)
}

func (a arcBackend) Write(ctx context.Context, db string, b *model.Batch) (model.WriteResult, error) {
	return a.p.Backend().Write(ctx, db, b)
}

func (a arcBackend) Databases(ctx context.Context) ([]string, error) {
	return a.p.Backend().Databases(ctx)
}

func (a arcBackend) Measurements(ctx context.Context, db string) ([]string, error) {
	return a.p.Backend().Measurements(ctx, db)
}

func (a arcBackend) Ready(ctx context.Context) error { return a.p.Backend().Ready(ctx) }
