package timescaledb

import (
	"tsgate/dialects/postgres"
	"tsgate/translate/ast"
	"tsgate/translate/sqlgen"
	"tsgate/translate/target"
)

// New returns the TimescaleDB generator.
func New() target.Generator { return &sqlgen.Generator{D: Dialect()} }

// Dialect is PostgreSQL's with TimescaleDB's additions.
func Dialect() *sqlgen.Dialect {
	d := postgres.Dialect()
	d.Name = "timescaledb"
	d.Aggs[ast.AggFirst] = sqlgen.AggSpec{Print: func(g *sqlgen.Gen, a *ast.Agg) { postgres.AggCall2(g, a, "first", a.Arg, a.By) }}
	d.Aggs[ast.AggLast] = sqlgen.AggSpec{Print: func(g *sqlgen.Gen, a *ast.Agg) { postgres.AggCall2(g, a, "last", a.Arg, a.By) }}
	d.Bucket = bucket
	return d
}

// bucket uses time_bucket, whose default origin is TimescaleDB's own
// (2000-01-03, months 2000-01-01, computed in UTC for timestamptz); any
// other origin, Arc SQL's epoch included, is passed explicitly.
func bucket(g *sqlgen.Gen, b *ast.TimeBucket) {
	if b.Result == ast.BucketEpochSeconds {
		postgres.Bucket(g, b)
		return
	}
	def := ast.Origin2000Monday
	if b.Width.Months != 0 {
		def = ast.Origin2000
	}
	args := []ast.Expr{&b.Width, b.Source}
	if !sqlgen.SameOrigin(b.Width, b.Origin, def) {
		args = append(args, &ast.TimestampLit{Span: ast.NoSpan, Micros: b.Origin})
	}
	postgres.Call(g, "time_bucket", args...)
}
