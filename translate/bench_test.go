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

// memtrace shapes, verbatim, one per family, translated with memtrace's
// schema (testSchema) as the gateway does: without it, memory_type's
// type is unknown and ClickHouse refuses to group by what may be a float.
var benchShapes = []struct{ name, sql string }{
	{"list", `SELECT * FROM events WHERE org_id = 'org_default' AND agent_id = 'agent_web_crawler' AND tags_csv LIKE '%crawling%' ESCAPE '\' AND time > (CURRENT_TIMESTAMP - INTERVAL '24 hours') ORDER BY time DESC LIMIT 100 OFFSET 0`},
	{"search", `SELECT * FROM events WHERE org_id = 'org_default' AND memory_type IN ('episodic', 'decision') AND event_type IN ('page_crawled', 'error') AND content LIKE '%timeout%' ESCAPE '\' AND importance >= 0.500000 AND time > (CURRENT_TIMESTAMP - INTERVAL '48 hours') ORDER BY time DESC LIMIT 50`},
	{"dedup", `SELECT COUNT(*) as cnt FROM events WHERE org_id = 'org_default' AND dedup_key = 'a1b2c3d4e5f60718293a4b5c6d7e8f90' AND time > (CURRENT_TIMESTAMP - INTERVAL '24 hours')`},
	{"time-literal", `SELECT * FROM events WHERE org_id = 'org_default' AND time > '2026-02-07T20:15:00.123456789Z' AND time < '2026-02-08T00:00:00Z' ORDER BY time DESC LIMIT 100 OFFSET 0`},
	{"session", `SELECT time, memory_type, event_type, content, importance FROM events WHERE org_id = 'org_default' AND session_id = 'sess_1' AND time > (CURRENT_TIMESTAMP - INTERVAL '24 hours') ORDER BY time DESC LIMIT 100`},
	{"stats", `SELECT memory_type, COUNT(*) as cnt FROM events WHERE org_id = 'org_default' AND agent_id = 'agent_1' GROUP BY memory_type`},
}

var benchTargets = []string{"duckdb", "postgres", "clickhouse"}

func BenchmarkParse(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pgparse.Parse(s.sql, pgparse.Arc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRewriteCheck measures rewrite + capability check on a fresh
// tree each iteration (the parse is outside the timer).
func BenchmarkRewriteCheck(b *testing.B) {
	g := gen("postgres")
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				st, _ := pgparse.Parse(s.sql, pgparse.Arc)
				b.StartTimer()
				q := st.(ast.Query)
				if err := Rewrite(q, FromArc); err != nil {
					b.Fatal(err)
				}
				if err := Check(q, g); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGenerate(b *testing.B) { benchGenerate(b, benchTargets, nil) }

// benchGenerate times generating each shape for each of targets, the
// query parsed and rewritten beforehand.
func benchGenerate(b *testing.B, targets []string, env *target.Env) {
	for _, tg := range targets {
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

// BenchmarkTranslateUncached: no cache at all; every iteration pays the
// full pipeline, pg_query parse included.
func BenchmarkTranslateUncached(b *testing.B) {
	benchSameText(b, New(WithCacheSize(0), WithParseCacheSize(0)))
}

// BenchmarkTranslateNewValues is the realistic miss: every query text is
// new (another org id each time, so the exact-text cache never answers)
// but its shape was seen, so the parse-tree cache skips pg_query.
func BenchmarkTranslateNewValues(b *testing.B) {
	tr := New(WithCacheSize(0))
	schema := testSchema()
	for _, tg := range benchTargets {
		for _, s := range benchShapes {
			variants := orgVariants(s.sql)
			b.Run(tg+"/"+s.name, func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := tr.Translate(context.Background(), variants[i%len(variants)], gen(tg), schema); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}

// orgVariants is sql with 1024 different org ids in place of
// 'org_default': one shape, texts the exact-text cache has not seen.
func orgVariants(sql string) []string {
	variants := make([]string, 1024)
	for i := range variants {
		variants[i] = strings.Replace(sql, "'org_default'", fmt.Sprintf("'org_%d'", i), 1)
	}
	return variants
}

func BenchmarkTranslateCached(b *testing.B) {
	benchSameText(b, New())
}

// benchSameText translates each shape's text again and again with tr.
func benchSameText(b *testing.B, tr *Translator) {
	schema := testSchema()
	for _, tg := range benchTargets {
		for _, s := range benchShapes {
			b.Run(tg+"/"+s.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := tr.Translate(context.Background(), s.sql, gen(tg), schema); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
