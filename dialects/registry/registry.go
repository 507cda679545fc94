package registry

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"tsgate/dialects"
	"tsgate/dialects/arc"
	"tsgate/dialects/clickhouse"
	"tsgate/dialects/duckdb"
	"tsgate/dialects/flux"
	"tsgate/dialects/influxql"
	"tsgate/dialects/parquet"
	"tsgate/dialects/postgres"
	"tsgate/dialects/timescaledb"
	"tsgate/errs"
	"tsgate/translate/target"
)

// All lists every backend, the embedded store first.
func All() []dialects.Descriptor {
	return []dialects.Descriptor{
		duckdb.Descriptor(),
		influxql.Descriptor(),
		flux.Descriptor(),
		postgres.Descriptor(),
		timescaledb.Descriptor(),
		clickhouse.Descriptor(),
		arc.Descriptor(),
		parquet.Descriptor(),
	}
}

// Open connects to the backend a URL names (backend.url's syntax). The
// URL may carry credentials, so no error repeats it.
func Open(ctx context.Context, raw string) (dialects.Backend, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return nil, errs.New(errs.Invalid, "backend.url: not a URL of the form scheme://host[:port]/database")
	}
	scheme := strings.ToLower(u.Scheme)
	var schemes []string
	for _, d := range All() {
		if slices.Contains(d.Schemes, scheme) && d.Open != nil {
			return d.Open(ctx, raw)
		}
		for _, s := range d.Schemes {
			schemes = append(schemes, s+"://")
		}
	}
	slices.Sort(schemes)
	return nil, errs.Newf(errs.Unsupported, "backend.url: scheme %q is not available in this build; available: %s",
		u.Scheme, strings.Join(schemes, ", "))
}

// Generators lists every translation target, sorted by name.
func Generators() []target.Generator {
	var out []target.Generator
	for _, d := range All() {
		out = append(out, d.Generators...)
	}
	slices.SortFunc(out, func(a, b target.Generator) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

// Generator finds a translation target by name.
func Generator(name string) (target.Generator, error) {
	var names []string
	for _, g := range Generators() {
		if g.Name() == name {
			return g, nil
		}
		names = append(names, g.Name())
	}
	return nil, &errs.Error{Code: errs.Invalid, Msg: "unknown target " + name, Hint: "targets: " + strings.Join(names, ", ")}
}

// GeneratorNames lists the targets' names, sorted (usage texts).
func GeneratorNames() []string {
	var names []string
	for _, g := range Generators() {
		names = append(names, g.Name())
	}
	return names
}

// Describe finds the descriptor of a backend by its name.
func Describe(name string) (dialects.Descriptor, bool) {
	for _, d := range All() {
		if d.Name == name {
			return d, true
		}
	}
	return dialects.Descriptor{}, false
}
