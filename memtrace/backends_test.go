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
	"strings"
	"testing"
	"time"

	"tsgate/dialects"
	"tsgate/dialects/registry"
	"tsgate/gateway"
	"tsgate/memtrace"
	"tsgate/model"
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
			dropAfter(t, u, db+"_"+name)
			runContract(t, func(c *gateway.Config) {
				c.Backend.URL = u
				// Each backend its own database: InfluxQL and Flux share
				// one server.
				c.Memtrace.Database = db + "_" + name
			})
		})
	}
}

// dropAfter drops the memories' database db from the backend at u when
// the test ends: every run makes fresh ones, and left behind they pile up
// on the shared servers. Best effort: the test's answers are already in.
func dropAfter(t *testing.T, u, db string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		be, err := registry.Open(ctx, u)
		if err != nil {
			t.Logf("drop %s: %v", db, err)
			return
		}
		defer be.Close()
		if d, ok := dialects.As[dialects.Deleter](be); ok {
			if err := d.DropDatabase(ctx, db); err != nil {
				t.Logf("drop %s: %v", db, err)
			}
		}
	})
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
			dropAfter(t, u, db+"_"+name)
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
				if body != nil {
					req.Header.Set("Content-Type", "application/json")
				}
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

// TestClickHouseMemoriesWithoutExactTime: memories that reached ClickHouse
// without time_us (copied by `tsgate migrate`, say) still list; memories
// made afterwards carry it and order within their second.
func TestClickHouseMemoriesWithoutExactTime(t *testing.T) {
	u := os.Getenv("TSGATE_TEST_CLICKHOUSE_URL")
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: TSGATE_TEST_CLICKHOUSE_URL is unset; run scripts/test.sh")
		}
		t.Skip("TSGATE_TEST_CLICKHOUSE_URL is unset")
	}
	p, _ := url.Parse(u)
	db := fmt.Sprintf("memtrace_noexact_%d", time.Now().UnixNano())
	backendURL := "clickhouse://" + p.Host + "/" + db
	t.Cleanup(func() {
		if resp, err := http.Post(u+"/", "text/plain", strings.NewReader("DROP DATABASE IF EXISTS `"+db+"`")); err == nil {
			resp.Body.Close()
		}
	})
	ctx := context.Background()
	be, err := registry.Open(ctx, backendURL)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Minute).Truncate(time.Second)
	memtrace.SeedEvents(t, 1, old.Add(time.Hour), false, func(b *model.Batch) error {
		_, err := be.Write(ctx, db, b)
		return err
	})
	be.Close()
	base, _ := startGateway(t, func(c *gateway.Config) {
		c.Backend.URL = backendURL
		c.Memtrace.Database = db
	})
	c := &client{t: t, base: base, key: adminKey, ids: map[string]string{}}
	list := func() []string {
		t.Helper()
		st, body := c.do("GET", "/api/v1/memories?org_id=org_default&limit=10", "", nil)
		if st != 200 {
			t.Fatalf("list: %d %s", st, body)
		}
		var out struct{ Memories []struct{ Content string } }
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		var cs []string
		for _, m := range out.Memories {
			cs = append(cs, m.Content)
		}
		return cs
	}
	if got := list(); len(got) != 1 || got[0] != "seeded memory 0 about crawling" {
		t.Fatalf("before any new memory: %q", got)
	}
	for i := range 3 {
		st, body := c.do("POST", "/api/v1/memories", fmt.Sprintf(`{"agent_id":"a1","content":"new %d"}`, i), nil)
		if st != 201 {
			t.Fatalf("create: %d %s", st, body)
		}
	}
	want := []string{"new 2", "new 1", "new 0", "seeded memory 0 about crawling"}
	for range 50 { // the backend's schema cache learns of time_us
		if got := list(); strings.Join(got, "|") == strings.Join(want, "|") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("after three new memories in one second: %q, want %q", list(), want)
}
