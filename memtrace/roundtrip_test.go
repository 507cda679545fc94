package memtrace

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"tsgate/dialects/duckdb"
	"tsgate/dialects/duckdb/duckdbtest"
	"tsgate/model"
)

// recBackend is the embedded store with every query recorded, so tests
// can inspect exactly what SQL reached the backend.
type recBackend struct {
	st  *duckdb.Store
	mu  sync.Mutex
	sql []string
}

// NativeArcSQL: the store runs Arc SQL as written, as the gateway's
// embedded backend does.
func (b *recBackend) NativeArcSQL() bool { return true }

func (b *recBackend) Query(ctx context.Context, db, q string) (model.Rows, error) {
	b.mu.Lock()
	b.sql = append(b.sql, q)
	b.mu.Unlock()
	rows, err := b.st.Query(ctx, db, q)
	if err != nil && duckdb.IsCatalogError(err) && !b.st.HasTable(db, "events") {
		return &model.SliceRows{}, nil
	}
	return rows, err
}

func (b *recBackend) Write(ctx context.Context, db string, batch *model.Batch) (model.WriteResult, error) {
	return b.st.Write(ctx, db, batch)
}

func (b *recBackend) Ready(ctx context.Context) error { return b.st.Ping(ctx) }

func (b *recBackend) queries() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.sql...)
}

type harness struct {
	t       testing.TB
	url     string
	backend *recBackend
	meta    *Meta
}

func newHarness(t testing.TB, opts ...Option) *harness {
	return newHarnessMeta(t, "", opts...)
}

// newHarnessMeta is newHarness with the metadata at metaTarget (a
// postgres:// URL), or SQLite in the test's directory when empty.
func newHarnessMeta(t testing.TB, metaTarget string, opts ...Option) *harness {
	t.Helper()
	dir := t.TempDir()
	st := duckdbtest.Open(t, filepath.Join(dir, "store.duckdb"))
	if metaTarget == "" {
		metaTarget = filepath.Join(dir, "meta.db")
	}
	b := &recBackend{st: st}
	base, meta := serveTestMeta(t, b, metaTarget, opts...)
	return &harness{t: t, url: base, backend: b, meta: meta}
}

func (h *harness) call(method, path string, body any) (int, []byte) {
	h.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, h.url+path, r)
	if r != nil {
		// What memtrace's SDKs send; memtrace parses no body without it.
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// hostile is what the property test builds strings from: SQL and LIKE
// metacharacters, InfluxQL regex metacharacters, NUL, quotes, escapes and
// multi-byte text.
var hostile = []string{"'", "''", `\`, `\'`, "%", "_", "\x00", `"`, "\n", "\t", ";", "--", "/*", "*/",
	"/.*/", "=~", "^", "$", "|", "(", ")", "[", "]", "{", "}", "?", "+", ".", "é", "世界", "🙂", "a", "Z", "0", " ",
	"' OR '1'='1", "'; DROP TABLE events; --", "<script>", "&"}

func randString(r *rand.Rand, maxParts int) string {
	var b strings.Builder
	for range 1 + r.IntN(maxParts) {
		b.WriteString(hostile[r.IntN(len(hostile))])
	}
	return b.String()
}

// TestRoundTripProperty writes random memories and checks each reads back
// identical — content, metadata, tags, importance, time to the µs —
// through list, search and get-by-content.
func TestRoundTripProperty(t *testing.T) {
	h := newHarness(t, WithDedup(false, 24))
	roundTripProperty(t, h.call, false)
}

// roundTripProperty is TestRoundTripProperty against any memtrace API
// reached through call (dedup off): the real backends run it too
// (backends_test.go, through export_test.go). nulRefused says the backend
// cannot store a NUL byte in text (PostgreSQL): a memory with one in a
// stored string must then be refused with 400 saying so, and is left out
// of the read checks; every other memory must still round-trip.
func roundTripProperty(t *testing.T, call func(method, path string, body any) (int, []byte), nulRefused bool) {
	h := struct {
		call func(method, path string, body any) (int, []byte)
	}{call}
	r := rand.New(rand.NewPCG(1, 2))
	tagAlphabet := []string{"a", "b.c", "d-e", "f_g", "H1", "x", "_", "."}
	const n = 150
	created := make([]Memory, 0, n)
	raws := make([]string, 0, n)
	sub := 0
	for i := range n {
		req := map[string]any{
			"agent_id": "agent_prop",
			"content":  fmt.Sprintf("m%03d:", i) + randString(r, 12),
		}
		if r.IntN(2) == 0 {
			req["session_id"] = fmt.Sprintf("sess-%d", r.IntN(5))
		}
		if r.IntN(3) > 0 {
			req["metadata"] = map[string]any{
				randString(r, 3): randString(r, 5),
				"n":              json.Number(fmt.Sprint(r.Int64())),
				"f":              r.Float64() * 1e6,
				"nested":         map[string]any{"list": []any{randString(r, 2), true, nil}},
			}
		}
		if k := r.IntN(4); k > 0 {
			var tags []string
			for range k {
				tags = append(tags, tagAlphabet[r.IntN(len(tagAlphabet))])
			}
			req["tags"] = tags
		}
		if r.IntN(2) == 0 {
			req["importance"] = r.Float64()
		}
		req["memory_type"] = []string{"episodic", "session", "decision", "entity"}[r.IntN(4)]
		req["event_type"] = []string{"general", "error", "page_crawled", "X_1"}[r.IntN(4)]
		if r.IntN(3) == 0 {
			req["parent_id"] = randString(r, 3)
		}
		st, body := h.call("POST", "/api/v1/memories", req)
		if nulRefused && hasNUL(req) {
			if st != 400 || !bytes.Contains(body, []byte("NUL")) {
				t.Fatalf("create %d with a NUL byte: %d %s, want 400 naming it", i, st, body)
			}
			continue
		}
		if st != 201 {
			t.Fatalf("create %d: %d %s", i, st, body)
		}
		var m Memory
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		if m.Content != req["content"] {
			t.Fatalf("create %d answered content %q, sent %q", i, m.Content, req["content"])
		}
		if m.Time.Nanosecond()%1000 == 0 && bytes.Contains(body, []byte(m.Time.Format(time.RFC3339Nano))) {
			sub++ // a create answers the clock's ns; rarely they are all zero
		}
		// Reads give the time to the µs: the create answer truncated.
		m.Time = m.Time.Truncate(time.Microsecond)
		canon, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		created = append(created, m)
		raws = append(raws, string(canon))
	}
	if sub > n/10 {
		t.Errorf("%d of %d create answers had no sub-µs digits; memtrace answers the clock's ns", sub, n)
	}
	canon := func(i int) string { return raws[i] }
	// List returns every memory identical to what create answered.
	st, body := h.call("GET", "/api/v1/memories?agent_id=agent_prop&order=asc&limit=1000", nil)
	if st != 200 {
		t.Fatalf("list: %d %s", st, body)
	}
	var list struct{ Memories []json.RawMessage }
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Memories) != len(created) {
		t.Fatalf("list returned %d memories, want %d", len(list.Memories), len(created))
	}
	if !nulRefused && len(created) != n {
		t.Fatalf("created %d memories of %d", len(created), n)
	}
	if nulRefused {
		t.Logf("%d of %d memories stored; the rest hold a NUL byte the backend cannot store", len(created), n)
	}
	for i, raw := range list.Memories {
		if got, want := string(raw), canon(i); got != want {
			t.Errorf("memory %d read back differs:\n got %s\nwant %s", i, got, want)
		}
	}
	// Search by the exact content finds it (NUL is dropped from patterns,
	// as in memtrace, so contents with NUL are searched by their prefix).
	for i, m := range created {
		needle := m.Content
		if j := strings.IndexByte(needle, 0); j >= 0 {
			needle = needle[:j]
		}
		st, body := h.call("POST", "/api/v1/search", map[string]any{"content_contains": needle, "agent_id": "agent_prop", "limit": 1000})
		if st != 200 {
			t.Fatalf("search %d for %q: %d %s", i, needle, st, body)
		}
		if !bytes.Contains(body, []byte(canon(i))) {
			t.Errorf("search for memory %d's content %q did not return it: %s", i, needle, body)
		}
		// GET /memories/:id searches the path parameter as sent (memtrace
		// does not unescape it), so only contents that need no escaping
		// can be asked for this way.
		if strings.IndexByte(m.Content, 0) >= 0 || url.PathEscape(needle) != needle {
			continue
		}
		st, body = h.call("GET", "/api/v1/memories/"+needle, nil)
		if st != 200 {
			t.Errorf("get by content %d (%q): %d %s", i, needle, st, body)
			continue
		}
		if got := string(body); got != canon(i) {
			t.Errorf("get by content %d:\n got %s\nwant %s", i, got, canon(i))
		}
	}
}

// hasNUL reports a NUL byte in a request's strings stored as text (the
// metadata is stored as JSON, where NUL is escaped).
func hasNUL(req map[string]any) bool {
	for k, v := range req {
		if s, ok := v.(string); ok && k != "metadata" && strings.IndexByte(s, 0) >= 0 {
			return true
		}
	}
	return false
}

// stripLiterals replaces every SQL string literal with ? and reports
// whether every literal was terminated.
func stripLiterals(q string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if q[i] != '\'' {
			b.WriteByte(q[i])
			continue
		}
		closed := false
		for i++; i < len(q); i++ {
			if q[i] == '\'' {
				if i+1 < len(q) && q[i+1] == '\'' {
					i++
					continue
				}
				closed = true
				break
			}
		}
		if !closed {
			return b.String(), false
		}
		b.WriteByte('?')
	}
	return b.String(), true
}

// skeleton is what may remain of a query once its literals are gone:
// keywords, column names, numbers, operators. No ; no comment, no quote.
var skeleton = regexp.MustCompile(`^[A-Za-z0-9_ ()*,.=<>?\-]*$`)

// TestInjectionReachesBackendOnlyAsLiterals sends hostile strings in every
// string field and parameter and checks that (1) every query the backend
// received has them inside well-formed literals only, and (2) they still
// mean themselves: stored, found and deduplicated exactly.
//
// With SQLite metadata, dedup is answered by the in-memory index; with a
// shared PostgreSQL metadata store it also asks the backend, so both are
// run to put the dedup query's literals to the test too.
func TestInjectionReachesBackendOnlyAsLiterals(t *testing.T) {
	t.Run("sqlite-meta", func(t *testing.T) { injection(t, newHarness(t)) })
	t.Run("postgres-meta", func(t *testing.T) { injection(t, newHarnessMeta(t, TestingPostgresURL(t))) })
}

func injection(t *testing.T, h *harness) {
	payloads := []string{"'", `\`, `\'`, "%", "_", "a\x00b", "' OR '1'='1", "'; DROP TABLE events; --",
		"/.*/", `=~ /x/`, "^$|()", "\"", "%_\\%", "-- c", "/* c */"}
	for i, p := range payloads {
		content := fmt.Sprintf("p%02d[%s]", i, p)
		body := map[string]any{"agent_id": "agent_inj", "session_id": "s1", "content": content,
			"dedup_key": "k" + p, "parent_id": p, "metadata": map[string]any{p: p}}
		if strings.Contains(p, "\x00") {
			// A dedup key with NUL could never match in SQL: refused.
			if st, b := h.call("POST", "/api/v1/memories", body); st != 400 || string(b) != `{"error":"invalid dedup_key: must not contain NUL bytes"}` {
				t.Errorf("NUL dedup key: %d %s", st, b)
			}
			body["dedup_key"] = strings.ReplaceAll("k"+p, "\x00", "")
		}
		if st, b := h.call("POST", "/api/v1/memories", body); st != 201 {
			t.Fatalf("create %q: %d %s", p, st, b)
		}
		// The same dedup key is a duplicate: the literal matched exactly
		// (memtrace doubled backslashes here, so keys with one never
		// matched on DuckDB).
		body["content"] = content + " again"
		if st, b := h.call("POST", "/api/v1/memories", body); st != 409 {
			t.Errorf("dedup key %q: %d %s", "k"+p, st, b)
		}
		needle := strings.ReplaceAll(content, "\x00", "")
		if strings.Contains(content, "\x00") {
			needle = fmt.Sprintf("p%02d[", i)
		}
		st, b := h.call("POST", "/api/v1/search", map[string]any{"content_contains": needle, "limit": 1000})
		if st != 200 {
			t.Fatalf("search %q: %d %s", needle, st, b)
		}
		var res struct{ Results []Memory }
		json.Unmarshal(b, &res)
		if len(res.Results) != 1 || res.Results[0].Content != content || res.Results[0].ParentID != p {
			t.Errorf("search %q: %s", needle, b)
		}
		// Every other string a client controls, in every read.
		h.call("GET", "/api/v1/memories/"+url.PathEscape(p), nil)
		h.call("GET", "/api/v1/memories?since="+url.QueryEscape(p)+"&until="+url.QueryEscape(p), nil)
		h.call("GET", "/api/v1/memories?agent_id="+url.QueryEscape(p)+"&tags="+url.QueryEscape(p)+"&memory_type="+url.QueryEscape(p), nil)
		h.call("POST", "/api/v1/search", map[string]any{"agent_id": p, "session_id": p, "memory_types": []string{p},
			"event_types": []string{p}, "tags": []string{p}, "since": p, "until": p, "order": p})
		h.call("POST", "/api/v1/sessions/"+url.PathEscape(p)+"/context", map[string]any{"since": p, "include_types": []string{p}})
		h.call("GET", "/api/v1/agents/"+url.PathEscape(p)+"/stats", nil)
		h.call("GET", "/api/v1/agents/"+url.PathEscape(p)+"/memories?since="+url.QueryEscape(p), nil)
	}
	// Each payload reaches the backend at least in its search and its
	// get by content; with shared metadata also in its first create's
	// dedup lookup (the second create is answered by the index).
	perPayload := 2
	if h.meta.Shared() {
		perPayload = 3
	}
	qs := h.backend.queries()
	if len(qs) < len(payloads)*perPayload {
		t.Fatalf("only %d queries recorded", len(qs))
	}
	for _, q := range qs {
		sk, ok := stripLiterals(q)
		if !ok || !skeleton.MatchString(sk) {
			t.Errorf("query escapes its literals: %q (skeleton %q)", q, sk)
		}
		if strings.Contains(q, "\x00") {
			t.Errorf("query carries a NUL: %q", q)
		}
	}
	// The events table is intact and holds exactly the payload memories.
	st, b := h.call("GET", "/api/v1/memories?agent_id=agent_inj&limit=1000", nil)
	var list struct{ Count int }
	json.Unmarshal(b, &list)
	if st != 200 || list.Count != len(payloads) {
		t.Errorf("after the payloads: %d %s", st, b)
	}
}

func TestSQLShapes(t *testing.T) {
	q := listQuery{orgID: "org_default", agentID: "a", sessionID: "s", memoryType: "episodic", eventType: "e",
		tags: []string{"t_1", "x"}, since: "24h", until: "2h", limit: 100, offset: 5}
	got, err := q.sql("events", false)
	if err != nil {
		t.Fatal(err)
	}
	want := `SELECT * FROM events WHERE org_id = 'org_default' AND agent_id = 'a' AND session_id = 's' AND memory_type = 'episodic' AND event_type = 'e' AND tags_csv LIKE '%t\_1%' ESCAPE '\' AND tags_csv LIKE '%x%' ESCAPE '\' AND time > (CURRENT_TIMESTAMP - INTERVAL '24 hours') AND time < (CURRENT_TIMESTAMP - INTERVAL '2 hours') ORDER BY time DESC LIMIT 100 OFFSET 5`
	if got != want {
		t.Errorf("list:\n got %s\nwant %s", got, want)
	}
	q = listQuery{orgID: "o", memoryTypes: []string{"decision", "entity"}, eventTypes: []string{"x"},
		contentContains: `it's 100% \_`, minImportance: 0.5, since: "2026-02-07T20:15:00Z", until: "now", limit: 50, asc: true, search: true}
	got, _ = q.sql("events", false)
	want = `SELECT * FROM events WHERE org_id = 'o' AND memory_type IN ('decision','entity') AND event_type IN ('x') AND content LIKE '%it''s 100\% \\\_%' ESCAPE '\' AND importance >= 0.500000 AND time > '2026-02-07T20:15:00Z' ORDER BY time ASC LIMIT 50`
	if got != want {
		t.Errorf("search:\n got %s\nwant %s", got, want)
	}
	for in, want := range map[string]string{"30m": "30 minutes", "1h": "1 hours", "365d": "365 days", "366d": "", "8761h": "", "0h": "", "1w": "", "h": "", "-1h": ""} {
		if got := relativeInterval(in); got != want {
			t.Errorf("relativeInterval(%q) = %q, want %q", in, got, want)
		}
	}
}
