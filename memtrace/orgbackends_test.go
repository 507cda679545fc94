package memtrace_test

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"tsgate/dialects/registry"
	"tsgate/gateway"
	"tsgate/internal/testenv"
	"tsgate/memtrace"
	"tsgate/model"
)

// TestOrgBackends: one tsgate serves three organizations at once, each
// with its memories in a different real backend — org_default in the
// gateway's embedded store, org_pg in PostgreSQL, org_ch in ClickHouse
// 18.16 — bound as memtrace binds Arc instances (sealed under the master
// key). Every organization runs the same workload concurrently and gets
// the same answers; each backend holds exactly its organization's rows.
// Then a gateway that requires per-organization backends answers
// org_default memtrace's 503 and still serves its agents and sessions.
func TestOrgBackends(t *testing.T) {
	ctx := context.Background()
	pgURL := memtrace.TestingPostgresURL(t)
	chBase := testenv.URL(t, "TSGATE_TEST_CLICKHOUSE_URL")
	ch, _ := url.Parse(chBase)
	chDB := fmt.Sprintf("memtrace_org_%d", time.Now().UnixNano())
	chURL := "clickhouse://" + ch.Host + "/" + chDB
	t.Cleanup(func() {
		if b, err := registry.Open(ctx, chURL); err == nil {
			if rows, err := b.Query(ctx, chDB, "DROP DATABASE IF EXISTS `"+chDB+"`"); err == nil {
				rows.Close()
			}
			b.Close()
		}
	})
	master := memtrace.NewMasterKey()
	metaPath := filepath.Join(t.TempDir(), "memtrace.db")
	base, _ := startGateway(t, func(c *gateway.Config) {
		c.Memtrace.MasterKey = master
		c.Memtrace.Metadata.Path = metaPath
	})
	meta, err := memtrace.OpenMeta(ctx, metaPath)
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	sealer, err := memtrace.NewSealer(master)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{"org_default": adminKey}
	// The database memories go in: a schema of the test's PostgreSQL
	// database; a ClickHouse database of the test's own.
	targets := map[string][2]string{"org_pg": {pgURL, "mem_pg"}, "org_ch": {chURL, chDB}}
	for org, tg := range targets {
		if err := meta.CreateOrg(ctx, org, org); err != nil {
			t.Fatal(err)
		}
		if _, err := meta.SetOrgBackend(ctx, sealer, org, tg[0], tg[1]); err != nil {
			t.Fatal(err)
		}
		k, _, err := meta.CreateKey(ctx, org, org+"-key", []string{memtrace.PermRead, memtrace.PermWrite}, "")
		if err != nil {
			t.Fatal(err)
		}
		keys[org] = k
	}
	// A second binding is refused in memtrace's words; the URL is sealed.
	if _, err := meta.SetOrgBackend(ctx, sealer, "org_pg", pgURL, "x"); err == nil || err.Error() != "org 'org_pg' already has an arc instance configured" {
		t.Errorf("second binding: %v", err)
	}
	if b, err := meta.OrgBackendOf(ctx, nil, "org_pg"); err != nil || b.URL != "" || b.Database != "mem_pg" {
		t.Errorf("binding read without the master key: %+v %v", b, err)
	}
	wrong, _ := memtrace.NewSealer(memtrace.NewMasterKey())
	if _, err := meta.OrgBackendOf(ctx, wrong, "org_pg"); err == nil {
		t.Error("a wrong master key opened the sealed URL")
	}

	// The same workload in all three organizations at once.
	got := map[string][]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for org, key := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &client{t: t, base: base, key: key, ids: map[string]string{}}
			out := orgWorkload(c)
			for i := range out {
				out[i] = strings.ReplaceAll(out[i], org, "<org>")
			}
			mu.Lock()
			got[org] = out
			mu.Unlock()
		}()
	}
	wg.Wait()
	if d := cmp.Diff(got["org_default"], got["org_pg"]); d != "" {
		t.Errorf("org_pg (PostgreSQL) answers differently from org_default (embedded) (-embedded +postgres):\n%s", d)
	}
	if d := cmp.Diff(got["org_default"], got["org_ch"]); d != "" {
		t.Errorf("org_ch (ClickHouse) answers differently from org_default (embedded) (-embedded +clickhouse):\n%s", d)
	}
	// Each backend holds exactly its organization's memories.
	for org, target := range targets {
		b, err := registry.Open(ctx, target[0])
		if err != nil {
			t.Fatal(err)
		}
		rows, err := b.Query(ctx, target[1], "SELECT org_id, count(*) FROM events GROUP BY org_id")
		if err != nil {
			t.Fatalf("%s: %v", org, err)
		}
		vals := make([]model.Value, 2)
		counts := map[string]int64{}
		for rows.Next(vals) {
			counts[vals[0].S] = vals[1].I + int64(vals[1].U)
		}
		rows.Close()
		b.Close()
		if d := cmp.Diff(map[string]int64{org: 4}, counts); d != "" {
			t.Errorf("%s's backend holds (-want +got):\n%s", org, d)
		}
	}
	c := &client{t: t, base: base, key: adminKey, ids: map[string]string{}}
	c.expect("GET", "/health", "", 200, `{"arc":{"org_ch":true,"org_default":true,"org_pg":true},"service":"memtrace","status":"ok","uptime":"<uptime>"}`)

	// Requiring per-organization backends: org_default has none.
	strict, _ := startGateway(t, func(c *gateway.Config) {
		c.Memtrace.MasterKey = master
		c.Memtrace.Metadata.Path = metaPath
		c.Memtrace.RequireOrgBackend = true
	})
	s := &client{t: t, base: strict, key: adminKey, ids: map[string]string{}}
	noArc := `{"error":"no arc instance configured for this org","hint":"ask an admin to run ` + "`memtrace org add-arc \\u003corg_id\\u003e`" + `"}`
	s.expect("POST", "/api/v1/memories", `{"agent_id":"a","content":"x"}`, 503, noArc)
	s.expect("POST", "/api/v1/memories", `{"memories":[{"agent_id":"a","content":"x"}]}`, 503, noArc)
	s.expect("GET", "/api/v1/memories", "", 503, noArc)
	s.expect("GET", "/api/v1/memories/x", "", 503, noArc)
	s.expect("POST", "/api/v1/search", `{}`, 503, noArc)
	s.expect("GET", "/api/v1/agents/a/memories", "", 503, noArc)
	s.expect("GET", "/api/v1/agents/a/stats", "", 503, noArc)
	s.expect("GET", "/api/v1/sessions/s/memories", "", 503, noArc)
	s.expect("POST", "/api/v1/sessions/s/context", `{}`, 503, noArc)
	// Validation first, as memtrace: these fail before the instance is
	// looked up.
	s.expect("POST", "/api/v1/memories", `{"agent_id":"a"}`, 400, `{"error":"content is required"}`)
	s.expect("GET", "/api/v1/memories?agent_id=1x", "", 500, `{"error":"invalid agent_id: invalid ID format: must be alphanumeric with underscores/hyphens, max 128 chars"}`)
	// Agents and sessions never touch a backend.
	s.expect("GET", "/api/v1/agents", "", 200, strings.ReplaceAll(strings.TrimPrefix(got["org_default"][0], "200 "), "<org>", "org_default"))
	s.expect("GET", "/health", "", 200, `{"arc":{"org_ch":true,"org_pg":true},"service":"memtrace","status":"ok","uptime":"<uptime>"}`)
	s.expect("GET", "/ready", "", 200, `{"arc":{"org_ch":true,"org_pg":true},"status":"ready"}`)
	// org_pg is still served, from PostgreSQL.
	p := &client{t: t, base: strict, key: keys["org_pg"], ids: map[string]string{}}
	if st, b := p.do("GET", "/api/v1/memories?agent_id=crawler", "", nil); st != 200 || !strings.Contains(b, `"count":3`) {
		t.Errorf("org_pg on the strict gateway: %d %s", st, b)
	}

	// No organization with a backend: memtrace's not-ready body.
	empty, _ := startGateway(t, func(c *gateway.Config) { c.Memtrace.RequireOrgBackend = true })
	e := &client{t: t, base: empty, key: adminKey, ids: map[string]string{}}
	e.expect("GET", "/ready", "", 503, `{"hint":"configure an Arc instance with `+"`memtrace org add-arc`"+`","reason":"no_instances","status":"not ready"}`)
}

// orgWorkload is what an agent does, answers normalized (ids, times).
// Its first answer is the agent list.
func orgWorkload(c *client) []string {
	var out []string
	do := func(method, path, body string) string {
		st, b := c.do(method, path, body, nil)
		out = append(out, fmt.Sprintf("%d %s", st, c.normalize(b)))
		return b
	}
	raw := do("POST", "/api/v1/agents", `{"name":"crawler"}`)
	aid := field(c.t, raw, "id")
	out = out[:0]
	do("GET", "/api/v1/agents", "")
	raw = do("POST", "/api/v1/sessions", `{"agent_id":"`+aid+`"}`)
	sid := field(c.t, raw, "id")
	do("POST", "/api/v1/memories", `{"agent_id":"crawler","session_id":"`+sid+`","content":"fetched the page","tags":["web"],"importance":0.5}`)
	do("POST", "/api/v1/memories", `{"agent_id":"crawler","session_id":"`+sid+`","content":"fetched the page","tags":["web"],"importance":0.5}`)
	do("POST", "/api/v1/memories", `{"memories":[{"agent_id":"crawler","session_id":"`+sid+`","content":"chose depth 2","memory_type":"decision"},{"agent_id":"crawler","session_id":"`+sid+`","content":"timeout","memory_type":"session","event_type":"error"},{"agent_id":"crawler","content":"fetched the page"}]}`)
	do("POST", "/api/v1/memories", `{"agent_id":"other","content":"another agent's"}`)
	do("GET", "/api/v1/memories?agent_id=crawler", "")
	do("GET", "/api/v1/memories?agent_id=crawler&limit=1&offset=1&order=asc", "")
	do("POST", "/api/v1/search", `{"agent_id":"crawler","content_contains":"page","min_importance":0.4}`)
	do("GET", "/api/v1/memories/depth", "")
	do("GET", "/api/v1/sessions/"+sid+"/memories", "")
	do("POST", "/api/v1/sessions/"+sid+"/context", `{}`)
	do("GET", "/api/v1/agents/crawler/stats", "")
	do("GET", "/api/v1/agents/crawler/memories?memory_type=decision", "")
	return out
}
