package gateway

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tsgate/internal/testenv"
)

// metric reads one sample from the Arc API's /metrics.
func (ts *testServer) metric(t *testing.T, name string) float64 {
	t.Helper()
	return testenv.Metric(t, ts.base, name)
}

// TestShadowReadsGateway: [migration] with a secondary and
// shadow_fraction = 1 on the running gateway: writes through the Arc API
// are dual-written, queries through it shadowed and matched, and the
// metrics are on /metrics.
func TestShadowReadsGateway(t *testing.T) {
	secDir := t.TempDir()
	ts := startGateway(t, func(c *Config) {
		c.Migration.Secondary = "embedded:" + secDir
		c.Migration.ShadowFraction = 1
	})
	for i := range 5 {
		code, body, _ := ts.do(t, req{path: "/write?db=telegraf&precision=s", body: fmt.Appendf(nil, "cpu,host=h%d usage=%d.5 %d\n", i%2, i, 1764115200+i)})
		if code != 204 {
			t.Fatalf("write: %d %s", code, body)
		}
	}
	sw := ts.gateway.sw
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sw.DualWriter().WaitEmpty(ctx); err != nil {
		t.Fatal(err)
	}
	if v := ts.metric(t, "tsgate_dualwrite_replayed_total"); v != 5 {
		t.Fatalf("tsgate_dualwrite_replayed_total = %v, want 5", v)
	}
	for _, q := range []string{"SELECT time, host, usage FROM cpu ORDER BY time", "SELECT host, avg(usage) AS a FROM cpu GROUP BY host"} {
		code, body, _ := ts.do(t, arcQuery(q, "x-arc-database", "telegraf"))
		if code != 200 || !strings.Contains(body, `"success":true`) {
			t.Fatalf("%s: %d %s", q, code, body)
		}
	}
	sw.Shadow().Wait()
	if v := ts.metric(t, `tsgate_shadow_reads_total{result="match"}`); v != 2 {
		t.Fatalf("shadow matches = %v, want 2 (mismatch %v, error %v)", v,
			ts.metric(t, `tsgate_shadow_reads_total{result="mismatch"}`), ts.metric(t, `tsgate_shadow_reads_total{result="error"}`))
	}
	for _, m := range []string{"tsgate_dualwrite_queue_depth", "tsgate_dualwrite_queue_bytes", "tsgate_dualwrite_lag_seconds", "tsgate_dualwrite_errors_total"} {
		if v := ts.metric(t, m); v != 0 {
			t.Errorf("%s = %v, want 0", m, v)
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(ts.gateway.cfg.DataDir, "dualwrite", "*", "secondary.txt")); len(entries) != 1 {
		t.Errorf("queue directories: %v", entries)
	}
}
