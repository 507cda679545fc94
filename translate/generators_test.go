package translate

import (
	"tsgate/dialects/clickhouse"
	"tsgate/dialects/duckdbsql"
	"tsgate/dialects/flux"
	"tsgate/dialects/influxql"
	"tsgate/dialects/postgres"
	"tsgate/dialects/timescaledb"
	"tsgate/translate/target"
)

// gen is the generator of the named target. The translator imports no
// backend package; its tests build the generators they translate for
// (dialects/registry is the list the running gateway uses, and its tests
// check that every target there is one of these).
func gen(name string) target.Generator {
	for _, g := range []target.Generator{duckdbsql.New(), postgres.New(), timescaledb.New(), clickhouse.New(),
		clickhouse.NewLegacy(), influxql.New(), flux.New()} {
		if g.Name() == name {
			return g
		}
	}
	panic("unknown target " + name)
}
