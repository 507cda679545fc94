package memtrace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"tsgate/gateway"
	"tsgate/internal/gatewaytest"
	"tsgate/memtrace"
)

// adminKey is a well-formed key the gateway bootstraps with, so tests
// (like scripts) know it in advance.
const adminKey = "mtk_dGVzdC1hZG1pbi1rZXktZm9yLXRzZ2F0ZS10ZXN0cyE="

type client struct {
	t    *testing.T
	base string
	key  string
	ids  map[string]string // random id → stable placeholder
}

// startGateway runs a real gateway (embedded store) with the memtrace API
// on a free loopback port.
func startGateway(t testing.TB, mutate func(*gateway.Config)) (string, gateway.Config) {
	t.Helper()
	cfg := gatewaytest.Config(t)
	cfg.Memtrace.Listen = "127.0.0.1:0"
	cfg.Memtrace.BootstrapKey = adminKey
	if mutate != nil {
		mutate(&cfg)
	}
	return "http://" + gatewaytest.Start(t, cfg).Addr("memtrace").String(), cfg
}

var (
	timeRE   = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	idRE     = regexp.MustCompile(`(agent|sess)_[0-9a-f]{24}`)
	uptimeRE = regexp.MustCompile(`"uptime":"[^"]*"`)
	qtimeRE  = regexp.MustCompile(`"query_time_ms":\d+`)
)

// normalize replaces what is random or clock-dependent: times, generated
// ids (each id gets a stable name in order of first appearance), uptime
// and query time. Everything else is compared byte for byte.
func (c *client) normalize(s string) string {
	s = timeRE.ReplaceAllString(s, "<time>")
	s = uptimeRE.ReplaceAllString(s, `"uptime":"<uptime>"`)
	s = qtimeRE.ReplaceAllString(s, `"query_time_ms":0`)
	return idRE.ReplaceAllStringFunc(s, func(id string) string {
		if p, ok := c.ids[id]; ok {
			return p
		}
		kind, _, _ := strings.Cut(id, "_")
		p := fmt.Sprintf("%s_#%d", kind, len(c.ids)+1)
		c.ids[id] = p
		return p
	})
}

func (c *client) do(method, path, body string, hdr map[string]string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.key != "" {
		req.Header.Set("x-api-key", c.key)
	}
	if body != "" {
		// What memtrace's SDKs send; memtrace parses no body without it.
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// expect checks status and the whole normalized body, and returns the raw
// body.
func (c *client) expect(method, path, body string, status int, want string) string {
	c.t.Helper()
	got, raw := c.do(method, path, body, nil)
	if n := c.normalize(raw); got != status || n != want {
		c.t.Errorf("%s %s %s\n got %d %s\nwant %d %s", method, path, body, got, n, status, want)
	}
	return raw
}

func field(t *testing.T, raw, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	s, _ := m[name].(string)
	return s
}

func TestContract(t *testing.T) { runContract(t, nil) }

// TestContractPostgresMetadata is the same contract with orgs, keys,
// agents and sessions in the real PostgreSQL.
func TestContractPostgresMetadata(t *testing.T) {
	u := memtrace.TestingPostgresURL(t)
	runContract(t, func(c *gateway.Config) { c.Memtrace.Metadata.URL = u })
}

// TestContractRedisCache is the same contract with session contexts
// cached in the real Redis: answers must not change.
func TestContractRedisCache(t *testing.T) {
	u := memtrace.TestingRedisURL(t)
	runContract(t, func(c *gateway.Config) { c.Memtrace.Cache.RedisURL = u })
}

func runContract(t *testing.T, mutate func(*gateway.Config)) {
	base, cfg := startGateway(t, mutate)
	c := &client{t: t, base: base, key: adminKey, ids: map[string]string{}}

	c.expect("GET", "/health", "", 200, `{"arc":{"org_default":true},"service":"memtrace","status":"ok","uptime":"<uptime>"}`)
	c.expect("GET", "/ready", "", 200, `{"arc":{"org_default":true},"status":"ready"}`)

	// Auth: memtrace's two 401 bodies; Bearer and bare Authorization work.
	if st, b := c.do("GET", "/api/v1/agents", "", map[string]string{"x-api-key": ""}); st != 401 || b != `{"error":"missing API key"}` {
		t.Errorf("no key: %d %s", st, b)
	}
	if st, b := c.do("GET", "/api/v1/agents", "", map[string]string{"x-api-key": "mtk_nope"}); st != 401 || b != `{"error":"invalid API key"}` {
		t.Errorf("bad key: %d %s", st, b)
	}
	for _, auth := range []string{"Bearer " + adminKey, adminKey} {
		if st, b := c.do("GET", "/api/v1/agents", "", map[string]string{"x-api-key": "", "Authorization": auth}); st != 200 || b != `{"agents":[],"count":0}` {
			t.Errorf("Authorization %q: %d %s", auth, st, b)
		}
	}

	// Agents.
	raw := c.expect("POST", "/api/v1/agents", `{"name":"web_crawler","description":"crawls","config":{"depth":3}}`, 201,
		`{"id":"agent_#1","org_id":"org_default","name":"web_crawler","description":"crawls","config":{"depth":3},"created_at":"<time>"}`)
	aid := field(t, raw, "id")
	c.expect("POST", "/api/v1/agents", `{"name":"web_crawler"}`, 409, `{"error":"agent 'web_crawler' already exists in this organization"}`)
	c.expect("POST", "/api/v1/agents", `{}`, 400, `{"error":"name is required"}`)
	c.expect("POST", "/api/v1/agents", `{"name":1}`, 400, `{"error":"invalid request body: json: cannot unmarshal number into Go struct field CreateRequest.name of type string"}`)
	agentBody := `{"id":"agent_#1","org_id":"org_default","name":"web_crawler","description":"crawls","config":{"depth":3},"created_at":"<time>"}`
	c.expect("GET", "/api/v1/agents/web_crawler", "", 200, agentBody)
	c.expect("GET", "/api/v1/agents/"+aid, "", 200, agentBody)
	c.expect("GET", "/api/v1/agents", "", 200, `{"agents":[`+agentBody+`],"count":1}`)
	c.expect("GET", "/api/v1/agents/nope", "", 404, `{"error":"agent not found"}`)

	// Sessions.
	c.expect("POST", "/api/v1/sessions", `{}`, 400, `{"error":"agent_id is required"}`)
	c.expect("POST", "/api/v1/sessions", `{"agent_id":"agent_unknown"}`, 400, `{"error":"failed to create session: FOREIGN KEY constraint failed"}`)
	raw = c.expect("POST", "/api/v1/sessions", `{"agent_id":"`+aid+`","metadata":{"task":"crawl"}}`, 201,
		`{"id":"sess_#2","org_id":"org_default","agent_id":"agent_#1","status":"active","metadata":{"task":"crawl"},"created_at":"<time>","updated_at":"<time>"}`)
	sid := field(t, raw, "id")
	sessBody := `{"id":"sess_#2","org_id":"org_default","agent_id":"agent_#1","status":"active","metadata":{"task":"crawl"},"created_at":"<time>","updated_at":"<time>"}`
	c.expect("GET", "/api/v1/sessions/"+sid, "", 200, sessBody)
	c.expect("GET", "/api/v1/sessions?agent_id="+aid, "", 200, `{"count":1,"sessions":[`+sessBody+`]}`)
	c.expect("GET", "/api/v1/sessions?agent_id=other", "", 200, `{"count":0,"sessions":[]}`)
	c.expect("GET", "/api/v1/sessions/sess_000000000000000000000000", "", 404, `{"error":"session not found"}`)

	// Memories: single, duplicate, batch with stored and in-batch duplicates.
	crawled := `{"agent_id":"` + aid + `","session_id":"` + sid + `","content":"Crawled https://example.com <ok>","event_type":"page_crawled","tags":["crawling","web"],"importance":0.7,"metadata":{"url":"https://example.com","status":200}}`
	dk := memtrace.DedupKey(aid, "page_crawled", "Crawled https://example.com <ok>")
	crawledBody := `{"time":"<time>","org_id":"org_default","agent_id":"agent_#1","session_id":"sess_#2","memory_type":"episodic","event_type":"page_crawled","content":"Crawled https://example.com \u003cok\u003e","metadata":{"status":200,"url":"https://example.com"},"tags":["crawling","web"],"dedup_key":"` + dk + `","importance":0.7}`
	c.expect("POST", "/api/v1/memories", crawled, 201, crawledBody)
	c.expect("POST", "/api/v1/memories", crawled, 409, `{"error":"duplicate memory"}`)
	decision := `{"agent_id":"` + aid + `","session_id":"` + sid + `","content":"Chose to skip robots-disallowed pages","memory_type":"decision"}`
	failure := `{"agent_id":"` + aid + `","session_id":"` + sid + `","content":"timeout fetching page","memory_type":"session","event_type":"error","dedup_key":"my-key"}`
	decisionBody := `{"time":"<time>","org_id":"org_default","agent_id":"agent_#1","session_id":"sess_#2","memory_type":"decision","event_type":"general","content":"Chose to skip robots-disallowed pages","dedup_key":"` + memtrace.DedupKey(aid, "general", "Chose to skip robots-disallowed pages") + `"}`
	failureBody := `{"time":"<time>","org_id":"org_default","agent_id":"agent_#1","session_id":"sess_#2","memory_type":"session","event_type":"error","content":"timeout fetching page","dedup_key":"my-key"}`
	c.expect("POST", "/api/v1/memories", `{"memories":[`+crawled+`,`+decision+`,`+failure+`,`+decision+`]}`, 201,
		`{"count":2,"memories":[`+decisionBody+`,`+failureBody+`]}`)

	// Validation, in memtrace's words.
	for _, tc := range []struct{ body, want string }{
		{`{"content":"x"}`, `agent_id is required`},
		{`{"agent_id":"a"}`, `content is required`},
		{`{"agent_id":"a","content":"x","memory_type":"bogus"}`, `invalid memory_type: bogus`},
		{`{"agent_id":"1a","content":"x"}`, `invalid agent_id: invalid ID format: must be alphanumeric with underscores/hyphens, max 128 chars`},
		{`{"agent_id":"a","session_id":"s'; DROP TABLE events; --","content":"x"}`, `invalid session_id: invalid ID format: must be alphanumeric with underscores/hyphens, max 128 chars`},
		{`{"agent_id":"a","content":"x","event_type":"a-b"}`, `invalid event_type: invalid type format: must be alphanumeric with underscores, max 64 chars`},
		{`{"agent_id":"a","content":"x","tags":["ok","bad tag"]}`, `invalid tag 'bad tag': invalid tag format: must be alphanumeric with underscores/hyphens/dots, max 64 chars`},
		{`{`, `invalid request body: unexpected end of JSON input`},
		{`{"agent_id":5}`, `invalid request body: json: cannot unmarshal number into Go struct field CreateRequest.agent_id of type string`},
	} {
		want, _ := json.Marshal(map[string]string{"error": tc.want})
		c.expect("POST", "/api/v1/memories", tc.body, 400, string(want))
	}
	// A bad memory fails the whole batch (memtrace: 500 after writing the
	// ones before it; tsgate writes none).
	c.expect("POST", "/api/v1/memories", `{"memories":[{"agent_id":"a","content":"first"},{"agent_id":"a"}]}`, 500, `{"error":"failed to create memory 1: content is required"}`)
	c.expect("GET", "/api/v1/memories?agent_id=a", "", 200, `{"memories":[],"count":0,"has_more":false}`)

	// List: newest first, pagination, order, filters.
	all := `[` + failureBody + `,` + decisionBody + `,` + crawledBody + `]`
	c.expect("GET", "/api/v1/memories?agent_id="+aid, "", 200, `{"memories":`+all+`,"count":3,"has_more":false}`)
	c.expect("GET", "/api/v1/memories?agent_id="+aid+"&limit=1&offset=1", "", 200, `{"memories":[`+decisionBody+`],"count":1,"has_more":true}`)
	c.expect("GET", "/api/v1/memories?agent_id="+aid+"&limit=2&order=asc", "", 200, `{"memories":[`+crawledBody+`,`+decisionBody+`],"count":2,"has_more":true}`)
	c.expect("GET", "/api/v1/memories?tags=crawling,web&memory_type=episodic&event_type=page_crawled&since=1h&until=now", "", 200, `{"memories":[`+crawledBody+`],"count":1,"has_more":false}`)
	c.expect("GET", "/api/v1/memories?since=2020-01-01T00:00:00Z&until=2020-01-02", "", 200, `{"memories":[],"count":0,"has_more":false}`)
	// Read-side validation errors come back 500, as in memtrace.
	c.expect("GET", "/api/v1/memories?since=1w", "", 500, `{"error":"invalid since: \"1w\" is neither a relative time (30m, 24h, 7d) nor an ISO 8601 timestamp"}`)
	c.expect("GET", "/api/v1/memories?agent_id=x%27%20OR%201=1", "", 500, `{"error":"invalid agent_id: invalid ID format: must be alphanumeric with underscores/hyphens, max 128 chars"}`)
	c.expect("GET", "/api/v1/memories?tags=a%25", "", 500, `{"error":"invalid tag: invalid tag format: must be alphanumeric with underscores/hyphens/dots, max 64 chars"}`)

	// Get by content.
	c.expect("GET", "/api/v1/memories/robots-disallowed", "", 200, decisionBody)
	c.expect("GET", "/api/v1/memories/no-such-text", "", 404, `{"error":"memory not found"}`)

	// Search.
	c.expect("POST", "/api/v1/search", `{"agent_id":"`+aid+`","memory_types":["decision","session"]}`, 200,
		`{"results":[`+failureBody+`,`+decisionBody+`],"count":2,"query_time_ms":0}`)
	c.expect("POST", "/api/v1/search", `{"content_contains":"example.com","min_importance":0.5,"tags":["web"],"event_types":["page_crawled"],"session_id":"`+sid+`"}`, 200,
		`{"results":[`+crawledBody+`],"count":1,"query_time_ms":0}`)
	c.expect("POST", "/api/v1/search", `{"min_importance":0.8}`, 200, `{"results":[],"count":0,"query_time_ms":0}`)
	c.expect("POST", "/api/v1/search", `{"memory_types":["bad-type"]}`, 500, `{"error":"invalid memory_type: invalid type format: must be alphanumeric with underscores, max 64 chars"}`)
	c.expect("POST", "/api/v1/search", `[`, 400, `{"error":"invalid request body: unexpected end of JSON input"}`)

	// Per-agent and per-session lists.
	c.expect("GET", "/api/v1/agents/"+aid+"/memories?memory_type=decision", "", 200, `{"memories":[`+decisionBody+`],"count":1,"has_more":false}`)
	c.expect("GET", "/api/v1/sessions/"+sid+"/memories?limit=3", "", 200, `{"memories":`+all+`,"count":3,"has_more":true}`)

	// Session context.
	c.expect("POST", "/api/v1/sessions/"+sid+"/context", `{}`, 200,
		`{"session_id":"sess_#2","context":"## Session Context (sess_#2)\n\n### Recent Actions (1)\n- [<time>] page_crawled: Crawled https://example.com \u003cok\u003e\n\n### Decisions Made (1)\n- [<time>] general: Chose to skip robots-disallowed pages\n\n### Errors (1)\n- [<time>] error: timeout fetching page\n\n","memory_count":3}`)
	c.expect("POST", "/api/v1/sessions/"+sid+"/context", `{"include_types":["decision"],"since":"30m"}`, 200,
		`{"session_id":"sess_#2","context":"## Session Context (sess_#2)\n\n### Decisions Made (1)\n- [<time>] general: Chose to skip robots-disallowed pages\n\n","memory_count":1}`)
	c.expect("POST", "/api/v1/sessions/"+sid+"/context", `not json`, 200,
		`{"session_id":"sess_#2","context":"## Session Context (sess_#2)\n\n### Recent Actions (1)\n- [<time>] page_crawled: Crawled https://example.com \u003cok\u003e\n\n### Decisions Made (1)\n- [<time>] general: Chose to skip robots-disallowed pages\n\n### Errors (1)\n- [<time>] error: timeout fetching page\n\n","memory_count":3}`)
	c.expect("POST", "/api/v1/sessions/empty_session/context", `{}`, 200, `{"session_id":"empty_session","context":"## Session Context (empty_session)\n\n","memory_count":0}`)

	// Stats.
	c.expect("GET", "/api/v1/agents/"+aid+"/stats", "", 200,
		`{"agent_id":"agent_#1","memory_count":3,"memories_24h":3,"errors_24h":1,"session_count":1,"active_sessions":1,"memory_types":{"decision":1,"episodic":1,"session":1}}`)
	c.expect("GET", "/api/v1/agents/ghost/stats", "", 200,
		`{"agent_id":"ghost","memory_count":0,"memories_24h":0,"errors_24h":0,"session_count":0,"active_sessions":0,"memory_types":{}}`)

	// Close the session; metadata replaces.
	c.expect("PUT", "/api/v1/sessions/"+sid, `{"status":"closed","metadata":{"outcome":"done"}}`, 200,
		`{"id":"sess_#2","org_id":"org_default","agent_id":"agent_#1","status":"closed","metadata":{"outcome":"done"},"created_at":"<time>","updated_at":"<time>","closed_at":"<time>"}`)
	c.expect("PUT", "/api/v1/sessions/sess_000000000000000000000000", `{"status":"closed"}`, 400, `{"error":"session not found"}`)
	c.expect("GET", "/api/v1/agents/"+aid+"/stats", "", 200,
		`{"agent_id":"agent_#1","memory_count":3,"memories_24h":3,"errors_24h":1,"session_count":1,"active_sessions":0,"memory_types":{"decision":1,"episodic":1,"session":1}}`)

	// Delete: refused while sessions reference the agent (memtrace's
	// foreign key, with its words), then 204, then 404.
	c.expect("DELETE", "/api/v1/agents/"+aid, "", 404, `{"error":"FOREIGN KEY constraint failed"}`)
	raw = c.expect("POST", "/api/v1/agents", `{"name":"temp"}`, 201, `{"id":"agent_#3","org_id":"org_default","name":"temp","created_at":"<time>"}`)
	c.expect("DELETE", "/api/v1/agents/"+field(t, raw, "id"), "", 204, ``)
	c.expect("DELETE", "/api/v1/agents/"+field(t, raw, "id"), "", 404, `{"error":"agent not found"}`)

	// Unknown route, huge body.
	if st, b := c.do("GET", "/api/v2/nothing", "", nil); st != 404 || b != "Cannot GET /api/v2/nothing" {
		t.Errorf("unknown route: %d %s", st, b)
	}
	huge := `{"agent_id":"a","content":"` + strings.Repeat("x", 5<<20) + `"}`
	if st, b := c.do("POST", "/api/v1/memories", huge, nil); st != 413 || b != "Request Entity Too Large" {
		t.Errorf("huge body: %d %s", st, b)
	}
	deep := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	if st, _ := c.do("POST", "/api/v1/memories", `{"agent_id":"a","content":"x","metadata":`+deep+`}`, nil); st != 400 {
		t.Errorf("deep JSON: %d", st)
	}

	// Permissions: a read-only key reads and may not write.
	meta, err := memtrace.OpenMeta(context.Background(), gateway.MemtraceMetaTarget(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	ro, _, err := meta.CreateKey(context.Background(), "org_default", "reader", []string{memtrace.PermRead}, "")
	if err != nil {
		t.Fatal(err)
	}
	r := &client{t: t, base: base, key: ro, ids: c.ids}
	r.expect("GET", "/api/v1/memories?agent_id="+aid+"&limit=1", "", 200, `{"memories":[`+failureBody+`],"count":1,"has_more":true}`)
	r.expect("POST", "/api/v1/sessions/"+sid+"/context", `{"include_types":["decision"]}`, 200,
		`{"session_id":"sess_#2","context":"## Session Context (sess_#2)\n\n### Decisions Made (1)\n- [<time>] general: Chose to skip robots-disallowed pages\n\n","memory_count":1}`)
	r.expect("POST", "/api/v1/memories", `{"agent_id":"a","content":"x"}`, 403, `{"error":"permission denied"}`)
	r.expect("POST", "/api/v1/agents", `{"name":"x"}`, 403, `{"error":"permission denied"}`)
	r.expect("DELETE", "/api/v1/agents/x", ``, 403, `{"error":"permission denied"}`)

	// A second org sees none of org_default's data.
	if err := meta.CreateOrg(context.Background(), "org_other", "Other"); err != nil {
		t.Fatal(err)
	}
	ok, _, err := meta.CreateKey(context.Background(), "org_other", "other", []string{memtrace.PermRead, memtrace.PermWrite}, "")
	if err != nil {
		t.Fatal(err)
	}
	o := &client{t: t, base: base, key: ok, ids: c.ids}
	o.expect("GET", "/api/v1/memories", "", 200, `{"memories":[],"count":0,"has_more":false}`)
	o.expect("GET", "/api/v1/agents/web_crawler", "", 404, `{"error":"agent not found"}`)
	o.expect("POST", "/api/v1/sessions", `{"agent_id":"`+aid+`"}`, 400, `{"error":"failed to create session: FOREIGN KEY constraint failed"}`)
	// The dedup window is per org: the same memory is new in another org.
	if st, _ := o.do("POST", "/api/v1/memories", crawled, nil); st != 201 {
		t.Errorf("same memory in another org: %d", st)
	}
	c.expect("GET", "/health", "", 200, `{"arc":{"org_default":true,"org_other":true},"service":"memtrace","status":"ok","uptime":"<uptime>"}`)
}

// TestMemoryTimesIncrease checks that a batch's memories keep their order:
// times are strictly increasing even within one microsecond.
func TestMemoryTimesIncrease(t *testing.T) {
	base, _ := startGateway(t, nil)
	c := &client{t: t, base: base, key: adminKey, ids: map[string]string{}}
	var b bytes.Buffer
	b.WriteString(`{"memories":[`)
	for i := range 200 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"agent_id":"a","content":"m%03d"}`, i)
	}
	b.WriteString(`]}`)
	if st, body := c.do("POST", "/api/v1/memories", b.String(), nil); st != 201 {
		t.Fatalf("%d %s", st, body)
	}
	_, body := c.do("GET", "/api/v1/memories?agent_id=a&order=asc&limit=1000", "", nil)
	var list struct {
		Memories []struct {
			Time    time.Time
			Content string
		}
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Memories) != 200 {
		t.Fatalf("got %d memories", len(list.Memories))
	}
	for i, m := range list.Memories {
		if want := fmt.Sprintf("m%03d", i); m.Content != want {
			t.Fatalf("memory %d is %q, want %q", i, m.Content, want)
		}
		if i > 0 && !m.Time.After(list.Memories[i-1].Time) {
			t.Fatalf("memory %d time %v not after %v", i, m.Time, list.Memories[i-1].Time)
		}
	}
}
