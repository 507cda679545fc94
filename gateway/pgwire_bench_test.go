package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BenchmarkPGWire measures one round trip through pg wire, the
// translator and the embedded store (pgbench numbers are in the report).
func BenchmarkPGWire(b *testing.B) {
	for _, q := range []string{"SELECT 1", "SELECT count(*), avg(usage) FROM cpu"} {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
			b.Run(q+"/"+mode.String(), func(b *testing.B) {
				s := startPGBench(b)
				c, err := pgx.Connect(context.Background(), s)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close(context.Background())
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					rows, err := c.Query(ctx, q, mode)
					if err != nil {
						b.Fatal(err)
					}
					rows.Close()
					if rows.Err() != nil {
						b.Fatal(rows.Err())
					}
				}
			})
		}
	}
}

func startPGBench(b *testing.B) string {
	b.Helper()
	g := runGateway(b, testConfig(b)).gateway
	var sb strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&sb, "cpu,host=h%d usage=%g %d\n", i%10, float64(i)/2, 1764115200+i)
	}
	req, _ := http.NewRequest("POST", "http://"+g.ArcAddr().String()+"/write?db=tsdb&precision=s", strings.NewReader(sb.String()))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	for i := 0; ; i++ {
		resp, err := http.DefaultClient.Do(req)
		if err == nil && resp.StatusCode == 204 {
			resp.Body.Close()
			break
		}
		if i > 100 {
			b.Fatalf("write: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
		req, _ = http.NewRequest("POST", "http://"+g.ArcAddr().String()+"/write?db=tsdb&precision=s", strings.NewReader(sb.String()))
		req.Header.Set("Authorization", "Bearer "+adminToken)
	}
	return fmt.Sprintf("postgres://bench:%s@%s/tsdb?sslmode=disable", adminToken, g.Addr("pgwire"))
}
