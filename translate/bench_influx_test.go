package translate

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"tsgate/translate/ast"
	"tsgate/translate/pgparse"
	"tsgate/translate/target"
)

// The InfluxQL and Flux generators need a schema (tags versus fields) and
// Flux the request's database, so they have their own benchmarks over the
// same memtrace shapes.
var influxTargets = []string{"influxql", "flux"}

func BenchmarkGenerateInflux(b *testing.B) {

	env := &target.Env{Schema: testSchema(), Database: testDatabase}
	for _, tg := range influxTargets {
		g := gen(tg)
		for _, s := range benchShapes {
			st, _ := pgparse.Parse(s.sql, pgparse.Arc)
			q := st.(ast.Query)
			_ = Rewrite(q, FromArc)
			b.Run(tg+"/"+s.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := g.Generate(q, env); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkTranslateInflux(b *testing.B) {
	schema := testSchema()
	for _, mode := range []struct {
		name string
		tr   *Translator
	}{
		{"uncached", New(WithCacheSize(0), WithParseCacheSize(0))},
		{"newvalues", New(WithCacheSize(0))},
		{"cached", New()},
	} {
		for _, tg := range influxTargets {
			for _, s := range benchShapes {
				// newvalues: another org id each time, as in
				// BenchmarkTranslateNewValues.
				variants := []string{s.sql}
				if mode.name == "newvalues" {
					variants = make([]string, 1024)
					for i := range variants {
						variants[i] = strings.Replace(s.sql, "'org_default'", fmt.Sprintf("'org_%d'", i), 1)
					}
				}
				b.Run(mode.name+"/"+tg+"/"+s.name, func(b *testing.B) {
					b.ReportAllocs()
					i := 0
					for b.Loop() {
						if _, err := mode.tr.TranslateIn(context.Background(), variants[i%len(variants)], gen(tg), testDatabase, schema); err != nil {
							b.Fatal(err)
						}
						i++
					}
				})
			}
		}
	}
}
