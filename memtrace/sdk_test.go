package memtrace_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The requests below are the ones memtrace's SDKs send, transcribed from
// their source (memtrace's code is not vendored here): the Go SDK
// (pkg/sdk: Content-Type only on POST and PUT, url.Values-encoded list
// queries, `null` as the context body when no options are given) and the
// Python SDK (httpx: Content-Type on every request, bodies as
// model_dump(exclude_none=True), `{}` as the context body, path ids
// quote()d since 0.1.1). Answers are decoded as the SDKs decode them:
// into the Go SDK's types, and checked against the Python SDK's pydantic
// constraints. The SDKs themselves were also run against tsgate (issue 17).

// Go SDK types (pkg/sdk/types.go), field for field. The SDK's Memory
// repeats AddMemoryRequest's fields after time and org_id; embedding them
// here decodes the same JSON into the same fields.
type sdkMemory struct {
	Time  time.Time `json:"time"`
	OrgID string    `json:"org_id"`
	sdkAddMemory
}

type sdkAddMemory struct {
	AgentID    string         `json:"agent_id"`
	SessionID  string         `json:"session_id,omitempty"`
	MemoryType string         `json:"memory_type"`
	EventType  string         `json:"event_type"`
	Content    string         `json:"content"`
	Metadata   map[string]any `json:"metadata,omitempty"`
	Tags       []string       `json:"tags,omitempty"`
	DedupKey   string         `json:"dedup_key,omitempty"`
	Importance float64        `json:"importance,omitempty"`
	ParentID   string         `json:"parent_id,omitempty"`
}

type sdkMemoryList struct {
	Memories []sdkMemory `json:"memories"`
	Count    int         `json:"count"`
	HasMore  bool        `json:"has_more"`
}

type sdkSearchResult struct {
	Results     []sdkMemory `json:"results"`
	Count       int         `json:"count"`
	QueryTimeMS int64       `json:"query_time_ms"`
}

type sdkAgent struct {
	ID           string         `json:"id"`
	OrgID        string         `json:"org_id"`
	Name         string         `json:"name"`
	Description  string         `json:"description,omitempty"`
	Config       map[string]any `json:"config,omitempty"`
	CreatedAt    time.Time      `json:"created_at"`
	LastActiveAt *time.Time     `json:"last_active_at,omitempty"`
}

type sdkStats struct {
	AgentID        string         `json:"agent_id"`
	MemoryCount    int            `json:"memory_count"`
	Memories24h    int            `json:"memories_24h"`
	Errors24h      int            `json:"errors_24h"`
	SessionCount   int            `json:"session_count"`
	ActiveSessions int            `json:"active_sessions"`
	LastActiveAt   *time.Time     `json:"last_active_at,omitempty"`
	MemoryTypes    map[string]int `json:"memory_types"`
}

type sdkSession struct {
	ID        string         `json:"id"`
	OrgID     string         `json:"org_id"`
	AgentID   string         `json:"agent_id"`
	Status    string         `json:"status"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	ClosedAt  *time.Time     `json:"closed_at,omitempty"`
}

type sdkContext struct {
	SessionID   string `json:"session_id"`
	Context     string `json:"context"`
	MemoryCount int    `json:"memory_count"`
}

// sdkDo sends one request as an SDK does and decodes a 2xx answer into
// out (the Go SDK's doRequest); it returns the status and the error
// message the SDKs would raise (the body's "error", else the raw body).
func sdkDo(t *testing.T, base, key, method, path string, body any, python bool, out any) (int, string) {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-api-key", key)
	if python || method == "POST" || method == "PUT" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	dec := json.NewDecoder(resp.Body)
	dec.Decode(&raw)
	if resp.StatusCode >= 400 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			return resp.StatusCode, e.Error
		}
		return resp.StatusCode, string(raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Errorf("%s %s: the Go SDK fails to parse the answer: %v\n%s", method, path, err, raw)
		}
		if python {
			pydanticCheck(t, method+" "+path, raw)
		}
	}
	return resp.StatusCode, ""
}

// rfc3339 is what pydantic 2 parses as a datetime and Go as a time.Time.
var rfc3339 = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$`)

// pydanticCheck applies the Python SDK's model constraints that a server
// could break: memory_type is one of four literals, times are datetimes,
// counts and query_time_ms are ints, the required fields are present.
func pydanticCheck(t *testing.T, what string, raw json.RawMessage) {
	t.Helper()
	var v any
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	d.Decode(&v)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				p := path + "." + k
				switch k {
				case "time", "created_at", "updated_at", "closed_at", "last_active_at":
					if s, ok := e.(string); !ok || !rfc3339.MatchString(s) {
						t.Errorf("%s: %s = %v is not a datetime pydantic parses", what, p, e)
					}
				case "memory_type":
					if s, _ := e.(string); !slices.Contains([]string{"episodic", "session", "decision", "entity"}, s) && !strings.HasSuffix(path, "memory_types") {
						t.Errorf("%s: %s = %v is not one of the SDK's Literal memory types", what, p, e)
					}
				case "count", "query_time_ms", "memory_count", "memories_24h", "errors_24h", "session_count", "active_sessions":
					if n, ok := e.(json.Number); !ok || strings.ContainsAny(n.String(), ".eE") {
						t.Errorf("%s: %s = %v is not an int", what, p, e)
					}
				}
				if k != "metadata" && k != "config" {
					walk(p, e)
				}
			}
			// MemoryList and SearchResult (a batch create's answer is read
			// as a plain dict: only its memories are validated).
			for _, req := range [][2]string{{"memories", "has_more"}, {"results", "query_time_ms"}} {
				if _, ok := x[req[0]]; ok && !strings.HasPrefix(what, "POST /api/v1/memories") {
					if _, ok := x[req[1]]; !ok {
						t.Errorf("%s: %s lacks %s, which the SDK requires", what, path, req[1])
					}
				}
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e)
			}
		}
	}
	walk("", v)
}

// TestSDKRequests replays both SDKs' whole surfaces.
func TestSDKRequests(t *testing.T) {
	base, _ := startGateway(t, nil)
	for _, python := range []bool{false, true} {
		name := map[bool]string{false: "go", true: "python"}[python]
		t.Run(name, func(t *testing.T) {
			do := func(method, path string, body, out any) (int, string) {
				t.Helper()
				return sdkDo(t, base, adminKey, method, path, body, python, out)
			}
			must := func(st int, msg string) {
				t.Helper()
				if st >= 300 {
					t.Fatalf("%d %s", st, msg)
				}
			}
			var a sdkAgent
			must(do("POST", "/api/v1/agents", map[string]any{"name": name + " agent", "config": map[string]any{"depth": 2}}, &a))
			if st, msg := do("POST", "/api/v1/agents", map[string]any{"name": name + " agent"}, nil); st != 409 || msg != "agent '"+name+" agent' already exists in this organization" {
				t.Errorf("duplicate agent: %d %s", st, msg)
			}
			var g sdkAgent
			must(do("GET", "/api/v1/agents/"+a.ID, nil, &g))
			if g.ID != a.ID || g.CreatedAt.Nanosecond() != 0 || !g.CreatedAt.Equal(a.CreatedAt.Truncate(time.Second)) {
				t.Errorf("get agent: %+v (created %+v)", g, a)
			}
			if st, msg := do("GET", "/api/v1/agents/nobody", nil, nil); st != 404 || msg != "agent not found" {
				t.Errorf("unknown agent: %d %s", st, msg)
			}
			var s sdkSession
			must(do("POST", "/api/v1/sessions", map[string]any{"agent_id": a.ID}, &s))
			var m sdkMemory
			// Remember and Decide: the convenience calls' exact bodies.
			must(do("POST", "/api/v1/memories", sdkAddMemory{AgentID: a.ID, MemoryType: "episodic", EventType: "general", Content: name + " remembers"}, &m))
			if m.Time.Nanosecond()%1000 == 0 && m.Time.Nanosecond() != 0 {
				t.Logf("create time %v has no sub-µs digits (possible, rare)", m.Time)
			}
			if st, msg := do("POST", "/api/v1/memories", sdkAddMemory{AgentID: a.ID, MemoryType: "episodic", EventType: "general", Content: name + " remembers"}, nil); st != 409 || msg != "duplicate memory" {
				t.Errorf("duplicate memory: %d %s", st, msg)
			}
			must(do("POST", "/api/v1/memories", sdkAddMemory{AgentID: a.ID, MemoryType: "decision", EventType: "decision", Content: "decided", Metadata: map[string]any{"reasoning": "because"}}, &m))
			must(do("POST", "/api/v1/memories", sdkAddMemory{AgentID: a.ID, SessionID: s.ID, MemoryType: "session", EventType: "error", Content: "failed", Tags: []string{"x"}, Importance: 0.9}, &m))
			var batch struct {
				Memories []sdkMemory `json:"memories"`
				Count    int         `json:"count"`
			}
			must(do("POST", "/api/v1/memories", map[string]any{"memories": []*sdkAddMemory{
				{AgentID: a.ID, SessionID: s.ID, MemoryType: "entity", EventType: "general", Content: "one"},
				{AgentID: a.ID, SessionID: s.ID, MemoryType: "episodic", EventType: "general", Content: "two"},
			}}, &batch))
			if batch.Count != 2 || len(batch.Memories) != 2 {
				t.Errorf("batch: %+v", batch)
			}
			// ListMemories: url.Values.Encode (sorted keys); with no
			// options the Go SDK's URL ends in "?".
			var l sdkMemoryList
			q := url.Values{"agent_id": {a.ID}, "since": {"24h"}, "order": {"desc"}, "limit": {"100"}}
			must(do("GET", "/api/v1/memories?"+q.Encode(), nil, &l))
			if l.Count != 5 || l.HasMore || l.Memories[0].Content != "two" {
				t.Errorf("recall: %+v", l)
			}
			must(do("GET", "/api/v1/memories?", nil, &l))
			var sr sdkSearchResult
			must(do("POST", "/api/v1/search", map[string]any{"agent_id": a.ID, "memory_types": []string{"decision"}, "limit": 10}, &sr))
			if sr.Count != 1 || sr.Results[0].Metadata["reasoning"] != "because" {
				t.Errorf("search: %+v", sr)
			}
			var st sdkStats
			must(do("GET", "/api/v1/agents/"+a.ID+"/stats", nil, &st))
			if st.MemoryCount != 5 || st.Errors24h != 1 || st.SessionCount != 1 {
				t.Errorf("stats: %+v", st)
			}
			// Context: the Go SDK sends null without options, the Python
			// SDK {}.
			var ctxBody any
			if python {
				ctxBody = map[string]any{}
			}
			var c sdkContext
			if ctxBody == nil {
				must(sdkDo(t, base, adminKey, "POST", "/api/v1/sessions/"+s.ID+"/context", json.RawMessage("null"), false, &c))
			} else {
				must(do("POST", "/api/v1/sessions/"+s.ID+"/context", ctxBody, &c))
			}
			if c.MemoryCount != 3 || !strings.HasPrefix(c.Context, "## Session Context ("+s.ID+")\n\n### Recent Actions (1)\n") {
				t.Errorf("context: %+v", c)
			}
			var closed sdkSession
			must(do("PUT", "/api/v1/sessions/"+s.ID, map[string]string{"status": "closed"}, &closed))
			if closed.Status != "closed" || closed.ClosedAt == nil {
				t.Errorf("close: %+v", closed)
			}
			if python {
				// 0.1.1's calls: list agents and sessions, the per-agent and
				// per-session lists, delete (204, body not parsed), with
				// quote()d ids.
				var agents struct {
					Agents []sdkAgent `json:"agents"`
					Count  int        `json:"count"`
				}
				must(do("GET", "/api/v1/agents", nil, &agents))
				must(do("GET", "/api/v1/sessions?agent_id="+url.QueryEscape(a.ID), nil, &struct{}{}))
				must(do("GET", "/api/v1/agents/"+url.PathEscape(a.ID)+"/memories?memory_type=decision", nil, &l))
				must(do("GET", "/api/v1/sessions/"+url.PathEscape(s.ID)+"/memories", nil, &l))
				if st, msg := do("DELETE", "/api/v1/agents/"+url.PathEscape(a.ID), nil, nil); st != 404 || msg != "FOREIGN KEY constraint failed" {
					t.Errorf("delete agent with sessions: %d %s", st, msg)
				}
				var tmp sdkAgent
				must(do("POST", "/api/v1/agents", map[string]any{"name": "temp"}, &tmp))
				if st, _ := do("DELETE", "/api/v1/agents/"+url.PathEscape(tmp.ID), nil, nil); st != 204 {
					t.Errorf("delete agent: %d", st)
				}
			}
			if st, msg := sdkDo(t, base, "mtk_nope", "GET", "/api/v1/memories?agent_id=a", nil, python, nil); st != 401 || msg != "invalid API key" {
				t.Errorf("invalid key: %d %s", st, msg)
			}
		})
	}
}
