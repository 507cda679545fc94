package memtrace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"tsgate/gateway"
	"tsgate/memtrace"
)

// TestContractOnRealBackends runs the whole memtrace contract with the
// memories stored in each real backend the test scripts start (InfluxDB
// through InfluxQL — the GaussDB(for Influx) stand-in — and through Flux,
// PostgreSQL, ClickHouse) and in a remote Arc,
// in a fresh database each: memtrace agents must see the same answers
// whichever backend holds their data.
func TestContractOnRealBackends(t *testing.T) {
	db := fmt.Sprintf("memtrace_%d", time.Now().UnixNano())
	backends := map[string]string{}
	if u := os.Getenv("TSGATE_TEST_INFLUX_URL"); u != "" {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		backends["influxql"] = "influxql://" + p.Host + "/" + db
		backends["flux"] = "flux://" + p.Host + "/" + db
	}
	if u := os.Getenv("TSGATE_TEST_POSTGRES_URL"); u != "" {
		backends["postgres"] = u
	}
	// ClickHouse 18.16 keeps whole seconds: memories also carry their
	// time in µs (time_us), which orders those made within one second.
	if u := os.Getenv("TSGATE_TEST_CLICKHOUSE_URL"); u != "" {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		backends["clickhouse"] = "clickhouse://" + p.Host + "/" + db
	}
	if len(backends) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: TSGATE_TEST_INFLUX_URL and TSGATE_TEST_POSTGRES_URL are unset; run scripts/test.sh")
		}
		t.Skip("no real backend configured (TSGATE_TEST_INFLUX_URL, TSGATE_TEST_POSTGRES_URL)")
	}
	// A remote Arc: another tsgate serving the Arc API on its embedded
	// store stands in for it (the same API, DuckDB underneath).
	backends["arc"] = "arc://" + startArcUpstream(t) + "/" + db + "?token=" + upstreamToken
	for name, u := range backends {
		t.Run(name, func(t *testing.T) {
			runContract(t, func(c *gateway.Config) {
				c.Backend.URL = u
				// Each backend its own database: InfluxQL and Flux share
				// one server.
				c.Memtrace.Database = db + "_" + name
			})
		})
	}
}

const upstreamToken = "tsg_upstream_arc_0123456789abcdef"

// startArcUpstream runs a gateway with only the Arc API on its embedded
// store, for the arc:// backend, and returns its address.
func startArcUpstream(t *testing.T) string {
	t.Helper()
	cfg := gateway.Default()
	cfg.DataDir = t.TempDir()
	cfg.Arc.Listen = "127.0.0.1:0"
	cfg.PGWire.Listen = ""
	cfg.Memtrace.Listen = ""
	cfg.Auth.BootstrapToken = upstreamToken
	cfg.Log.Level = "error"
	ctx, cancel := context.WithCancel(context.Background())
	g, err := gateway.New(ctx, cfg, gateway.NewLogger(cfg.Log, io.Discard), io.Discard)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("upstream run: %v", err)
		}
	})
	return g.Addr("arc").String()
}

// TestRoundTripPropertyOnRealBackends: any memory written reads back
// identical — content, metadata, tags, importance, time to the µs — with
// the memories in each real backend (ClickHouse too: the exact time rides
// in time_us).
func TestRoundTripPropertyOnRealBackends(t *testing.T) {
	db := fmt.Sprintf("memtrace_prop_%d", time.Now().UnixNano())
	backends := map[string]string{}
	if u := os.Getenv("TSGATE_TEST_INFLUX_URL"); u != "" {
		p, _ := url.Parse(u)
		backends["influxql"] = "influxql://" + p.Host + "/" + db
		backends["flux"] = "flux://" + p.Host + "/" + db
	}
	if u := os.Getenv("TSGATE_TEST_POSTGRES_URL"); u != "" {
		backends["postgres"] = u
	}
	if u := os.Getenv("TSGATE_TEST_CLICKHOUSE_URL"); u != "" {
		p, _ := url.Parse(u)
		backends["clickhouse"] = "clickhouse://" + p.Host + "/" + db
	}
	if len(backends) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: no TSGATE_TEST_* backend is set; run scripts/test.sh")
		}
		t.Skip("no real backend configured")
	}
	for name, u := range backends {
		t.Run(name, func(t *testing.T) {
			base, _ := startGateway(t, func(c *gateway.Config) {
				c.Backend.URL = u
				c.Memtrace.Database = db + "_" + name
				c.Memtrace.Dedup.Enabled = false
			})
			memtrace.RoundTripProperty(t, func(method, path string, body any) (int, []byte) {
				t.Helper()
				var r io.Reader
				if body != nil {
					b, err := json.Marshal(body)
					if err != nil {
						t.Fatal(err)
					}
					r = bytes.NewReader(b)
				}
				req, err := http.NewRequest(method, base+path, r)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("x-api-key", adminKey)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				out, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, out
			}, name == "postgres")
		})
	}
}
