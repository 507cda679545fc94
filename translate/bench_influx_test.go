package translate

import (
	"context"
	"testing"

	"tsgate/translate/target"
)

// The InfluxQL and Flux generators need a schema (tags versus fields) and
// Flux the request's database, so they have their own benchmarks over the
// same memtrace shapes.
var influxTargets = []string{"influxql", "flux"}

func BenchmarkGenerateInflux(b *testing.B) {
	benchGenerate(b, influxTargets, &target.Env{Schema: testSchema(), Database: testDatabase})
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
					variants = orgVariants(s.sql)
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
