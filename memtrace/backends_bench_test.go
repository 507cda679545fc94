package memtrace_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"tsgate/dialects"
	"tsgate/dialects/registry"
	"tsgate/gateway"
	"tsgate/memtrace"
	"tsgate/model"
)

// BenchmarkReadBackends is BenchmarkRead with the memories in each real
// backend: TSGATE_MEMTRACE_BENCH_ROWS memories (default 100000) written
// straight into the backend, then list, search, context and stats timed
// through a gateway in front of it. Flux is left out: its pivot over the
// whole measurement takes seconds a query at this size.
//
//	eval "$(./scripts/services.sh)"; eval "$(./scripts/backends.sh)"
//	TSGATE_MEMTRACE_BENCH_ROWS=1000000 go test -run '^$' -bench ReadBackends -benchtime 50x ./memtrace/
func BenchmarkReadBackends(b *testing.B) {
	db := fmt.Sprintf("memtrace_bench_%d", time.Now().UnixNano())
	backends := realBackends(b, db)
	delete(backends, "flux")
	if _, ok := backends["postgres"]; ok {
		backends["postgres"] = memtrace.TestingPostgresURL(b)
	}
	b.Cleanup(func() {
		// The InfluxDB and ClickHouse databases (PostgreSQL's is dropped
		// with its test database).
		if u := os.Getenv("TSGATE_TEST_INFLUX_URL"); u != "" {
			if resp, err := http.PostForm(u+"/query", url.Values{"q": {`DROP DATABASE "` + db + `"`}}); err == nil {
				resp.Body.Close()
			}
		}
		if u := os.Getenv("TSGATE_TEST_CLICKHOUSE_URL"); u != "" {
			if resp, err := http.Post(u+"/", "text/plain", strings.NewReader("DROP DATABASE IF EXISTS `"+db+"`")); err == nil {
				resp.Body.Close()
			}
		}
	})
	for _, name := range []string{"influxql", "postgres", "clickhouse"} {
		u, ok := backends[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			be, err := registry.Open(ctx, u)
			if err != nil {
				b.Fatal(err)
			}
			exact := dialects.TimePrecision(be) > time.Microsecond
			memtrace.SeedEvents(b, memtrace.BenchRows(), time.Now(), exact, func(batch *model.Batch) error {
				_, err := be.Write(ctx, db, batch)
				return err
			})
			// The steady state a running system reaches on its own:
			// PostgreSQL's autovacuum analyzes the new table (without
			// statistics the planner scans it whole instead of walking
			// the time index: 160 ms against 0.3 ms measured), and
			// ClickHouse merges the inserted parts.
			settle := map[string]string{"postgres": "ANALYZE events", "clickhouse": "OPTIMIZE TABLE events FINAL"}[name]
			if settle != "" {
				rows, err := be.Query(ctx, db, settle)
				if err != nil {
					b.Fatal(err)
				}
				rows.Close()
			}
			be.Close()
			base, _ := startGateway(b, func(c *gateway.Config) {
				c.Backend.URL = u
				c.Memtrace.Database = db
				c.Memtrace.AuthEnabled = false
			})
			memtrace.ReadBenchmarks(b, base)
		})
	}
}
