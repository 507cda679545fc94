package memtrace_test

import (
	"context"
	"encoding/json"
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
	"tsgate/internal/gatewaytest"
	"tsgate/internal/testenv"
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
	backends := realBackends(t, db)
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

// realBackends maps a backend's name to the URL of database db on each
// real server the environment names: InfluxDB through InfluxQL (the
// GaussDB(for Influx) stand-in) and through Flux, PostgreSQL (its
// database as the URL names it) and ClickHouse. With none set the test is
// skipped locally and fails under CI.
func realBackends(t testing.TB, db string) map[string]string {
	t.Helper()
	backends := map[string]string{}
	host := func(u string) string {
		t.Helper()
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		return p.Host
	}
	if u := os.Getenv("TSGATE_TEST_INFLUX_URL"); u != "" {
		backends["influxql"] = "influxql://" + host(u) + "/" + db
		backends["flux"] = "flux://" + host(u) + "/" + db
	}
	if u := os.Getenv("TSGATE_TEST_POSTGRES_URL"); u != "" {
		backends["postgres"] = u
	}
	// ClickHouse 18.16 keeps whole seconds: memories also carry their
	// time in µs (time_us), which orders those made within one second.
	if u := os.Getenv("TSGATE_TEST_CLICKHOUSE_URL"); u != "" {
		backends["clickhouse"] = "clickhouse://" + host(u) + "/" + db
	}
	if len(backends) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: no TSGATE_TEST_* backend is set; run scripts/test.sh")
		}
		t.Skip("no real backend configured (TSGATE_TEST_INFLUX_URL, TSGATE_TEST_POSTGRES_URL, TSGATE_TEST_CLICKHOUSE_URL)")
	}
	return backends
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
	cfg := gatewaytest.Config(t)
	cfg.Auth.BootstrapToken = upstreamToken
	return gatewaytest.Start(t, cfg).ArcAddr().String()
}

// TestRoundTripPropertyOnRealBackends: any memory written reads back
// identical — content, metadata, tags, importance, time to the µs — with
// the memories in each real backend (ClickHouse too: the exact time rides
// in time_us).
func TestRoundTripPropertyOnRealBackends(t *testing.T) {
	db := fmt.Sprintf("memtrace_prop_%d", time.Now().UnixNano())
	backends := realBackends(t, db)
	for name, u := range backends {
		t.Run(name, func(t *testing.T) {
			dropAfter(t, u, db+"_"+name)
			base, _ := startGateway(t, func(c *gateway.Config) {
				c.Backend.URL = u
				c.Memtrace.Database = db + "_" + name
				c.Memtrace.Dedup.Enabled = false
			})
			c := &client{t: t, base: base, key: adminKey}
			memtrace.RoundTripProperty(t, func(method, path string, body any) (int, []byte) {
				t.Helper()
				var b []byte
				if body != nil {
					var err error
					if b, err = json.Marshal(body); err != nil {
						t.Fatal(err)
					}
				}
				st, out := c.do(method, path, string(b), nil)
				return st, []byte(out)
			}, name == "postgres")
		})
	}
}

// TestClickHouseMemoriesWithoutExactTime: memories that reached ClickHouse
// without time_us (copied by `tsgate migrate`, say) still list; memories
// made afterwards carry it and order within their second.
func TestClickHouseMemoriesWithoutExactTime(t *testing.T) {
	u := testenv.URL(t, "TSGATE_TEST_CLICKHOUSE_URL")
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
