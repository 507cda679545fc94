package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/jackc/pgx/v5"

	"tsgate/auth"
	"tsgate/dialects/backendkit/kittest"
	"tsgate/dialects/registry"
	"tsgate/guard"
	"tsgate/model"
	"tsgate/query"
	"tsgate/translate"
)

// BenchmarkHybrid compares, side by side in one run on a real PostgreSQL,
// an aggregate the backend answers whole (pushed) with nearly the same
// aggregate answered by a split plan (local): PostgreSQL refuses a double
// cast to text from Arc SQL (it prints doubles differently), so every row
// of the table is pulled and the query finished in the gateway's DuckDB.
// Tables of 10k, 100k and 1M rows (8 hosts, one float field). Reported
// per run: ns/op, pulled rows/s, and Go bytes allocated per pulled row
// (DuckDB's own memory is outside Go's heap and bounded by
// query.local_memory_limit).
//
//	source /tmp/tsgate-env.sh   # or eval "$(./scripts/services.sh)"
//	go test -run '^$' -bench Hybrid -benchtime 5x ./bench/
func BenchmarkHybrid(b *testing.B) {
	url := os.Getenv("TSGATE_TEST_POSTGRES_URL")
	if url == "" {
		b.Skip("TSGATE_TEST_POSTGRES_URL is unset (scripts/services.sh starts PostgreSQL)")
	}
	ctx := auth.Internal(context.Background())
	be, err := registry.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	g, err := guard.New()
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	local, err := query.NewLocal(g, query.DefaultLocalLimits())
	if err != nil {
		b.Fatal(err)
	}
	defer local.Close()
	p := query.New(be, query.WithLocal(local))
	db := kittest.DBName("bench_hybrid")
	defer func() { // the Arc database is a PostgreSQL schema
		if conn, err := pgx.Connect(context.Background(), url); err == nil {
			conn.Exec(context.Background(), `DROP SCHEMA "`+db+`" CASCADE`)
			conn.Close(context.Background())
		}
	}()
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		m := fmt.Sprintf("h%d", n)
		for from := 0; from < n; from += 50_000 {
			var batch model.Batch
			tb := batch.Table(m)
			for i := from; i < min(from+50_000, n); i++ {
				tb.AppendRow(int64(1_700_000_000_000_000+int64(i)*1_000_000), []model.Cell{
					{Name: "host", Tag: true, Value: model.String(fmt.Sprintf("host_%d", i%8))},
					{Name: "usage", Value: model.Float(float64(i%1000) / 10)},
				})
			}
			if _, err := be.Write(ctx, db, &batch); err != nil {
				b.Fatal(err)
			}
		}
		queries := []struct{ name, sql string }{
			{"pushed", "SELECT host, count(*) AS n, avg(usage) AS a, max(usage) AS m FROM " + m + " GROUP BY host"},
			{"local", "SELECT host, count(*) AS n, avg(usage) AS a, CAST(max(usage) AS VARCHAR) AS m FROM " + m + " GROUP BY host"},
		}
		for _, q := range queries {
			b.Run(fmt.Sprintf("rows=%d/%s", n, q.name), func(b *testing.B) {
				plan, err := p.Plan(ctx, db, q.sql, translate.FromArc)
				if err != nil {
					b.Fatal(err)
				}
				if (plan.Hybrid != nil) != (q.name == "local") {
					b.Fatalf("plan %s, want %s", plan, q.name)
				}
				var ms0, ms1 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				b.ResetTimer()
				for range b.N {
					rows, err := p.QueryArc(ctx, db, q.sql)
					wantRows(b, rows, err, 8) // one per group
				}
				b.StopTimer()
				runtime.ReadMemStats(&ms1)
				if q.name == "local" {
					pulled := float64(n) * float64(b.N)
					b.ReportMetric(pulled/b.Elapsed().Seconds(), "pulled-rows/s")
					b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/pulled, "Go-B/pulled-row")
				}
			})
		}
	}
}
