package gateway

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"tsgate/dialects"
	arcbackend "tsgate/dialects/arc"
	"tsgate/dialects/clickhouse"
	"tsgate/dialects/flux"
	"tsgate/dialects/influxql"
	"tsgate/dialects/postgres"
	"tsgate/dialects/timescaledb"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/wire/arc"
)

// opener connects to one kind of backend from its URL.
type opener func(ctx context.Context, url string) (dialects.Backend, error)

// openers maps backend.url schemes to their packages. Built per call, not
// held in a package variable: there is no registration at init time.
func openers() map[string]opener {
	return map[string]opener{
		"influxql":    func(ctx context.Context, u string) (dialects.Backend, error) { return influxql.Open(ctx, u) },
		"flux":        func(ctx context.Context, u string) (dialects.Backend, error) { return flux.Open(ctx, u) },
		"postgres":    func(ctx context.Context, u string) (dialects.Backend, error) { return postgres.Open(ctx, u) },
		"postgresql":  func(ctx context.Context, u string) (dialects.Backend, error) { return postgres.Open(ctx, u) },
		"timescaledb": func(ctx context.Context, u string) (dialects.Backend, error) { return timescaledb.Open(ctx, u) },
		"clickhouse":  func(ctx context.Context, u string) (dialects.Backend, error) { return clickhouse.Open(ctx, u) },
		"arc":         func(ctx context.Context, u string) (dialects.Backend, error) { return arcbackend.Open(ctx, u) },
	}
}

// OpenBackend connects to the backend a URL names (backend.url's syntax);
// the conformance runner and migration tools use it.
func OpenBackend(ctx context.Context, raw string) (dialects.Backend, error) {
	return openBackend(ctx, raw)
}

// openBackend connects to the backend backend.url names. The URL may
// carry credentials, so no error repeats it.
func openBackend(ctx context.Context, raw string) (dialects.Backend, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return nil, errs.New(errs.Invalid, "backend.url: not a URL of the form scheme://host[:port]/database")
	}
	ops := openers()
	open, ok := ops[strings.ToLower(u.Scheme)]
	if !ok {
		names := make([]string, 0, len(ops))
		for n := range ops {
			names = append(names, n+"://")
		}
		slices.Sort(names)
		avail := "none yet besides the embedded store (leave backend.url empty)"
		if len(names) > 0 {
			avail = strings.Join(names, ", ")
		}
		return nil, errs.Newf(errs.Unsupported, "backend.url: scheme %q is not available in this build; available: %s", u.Scheme, avail)
	}
	return open(ctx, raw)
}

// arcBackend is the Arc API's view of the pipeline: Arc SQL in, rows out;
// writes straight to the backend.
type arcBackend struct{ p *Pipeline }

var _ arc.Backend = arcBackend{}

func (a arcBackend) Name() string { return a.p.backend.Name() }

func (a arcBackend) Query(ctx context.Context, db, sql string) (model.Rows, error) {
	return a.p.QueryArc(ctx, db, sql)
}

func (a arcBackend) Write(ctx context.Context, db string, b *model.Batch) (model.WriteResult, error) {
	return a.p.backend.Write(ctx, db, b)
}

func (a arcBackend) Databases(ctx context.Context) ([]string, error) {
	return a.p.backend.Databases(ctx)
}

func (a arcBackend) Measurements(ctx context.Context, db string) ([]string, error) {
	return a.p.backend.Measurements(ctx, db)
}

func (a arcBackend) Ready(ctx context.Context) error { return a.p.backend.Ready(ctx) }
