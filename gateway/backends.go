package gateway

import (
	"context"
	"slices"

	"tsgate/auth"
	"tsgate/guard"
	"tsgate/model"
	"tsgate/query"
	"tsgate/wire/arc"
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

func (a arcBackend) Query(ctx context.Context, db, sql string) (model.Rows, error) {
	return a.p.QueryArc(ctx, db, sql)
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
