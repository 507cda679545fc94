package memtrace_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"tsgate/memtrace"

	"github.com/google/go-cmp/cmp"
)

// answer is what a test compares of a response: the status, the headers
// it names (absent ones as ""), and the body.
type answer struct {
	Status int
	Header map[string]string
	Body   string
}

// rawExchange sends a request exactly as written (paths Go's client would
// escape or clean stay as they are) and reads the answer.
func rawExchange(t *testing.T, addr, request string, headers []string) answer {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	// Written alongside the read: a server refusing a large body answers
	// and closes before taking all of it.
	go io.WriteString(conn, request)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode, Header: map[string]string{}, Body: string(b)}
	for _, h := range headers {
		a.Header[h] = strings.Join(resp.Header.Values(h), " | ")
	}
	return a
}

// corsHeaders are every header memtrace's CORS middleware may send, and
// the framework's others a client can see.
var corsHeaders = []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
	"Access-Control-Allow-Credentials", "Access-Control-Expose-Headers", "Access-Control-Max-Age", "Vary", "Allow",
	"Content-Type", "Content-Length"}

// TestWireParity replays the requests that show how memtrace's HTTP layer
// (Fiber 2.52 with memtrace's middleware order: recover, CORS with its
// defaults, the /api/v1 key check, the routes) answers CORS, routing,
// content types and body limits, and checks tsgate answers the same.
// Each expected answer is the one recorded from memtrace's stack.
func TestWireParity(t *testing.T) {
	base, _ := startGateway(t, nil)
	addr := strings.TrimPrefix(base, "http://")
	c := &client{t: t, base: base, key: adminKey, ids: map[string]string{}}
	c.expect("POST", "/api/v1/agents", `{"name":"a%2Fb"}`, 201, `{"id":"agent_#1","org_id":"org_default","name":"a%2Fb","created_at":"<time>"}`)

	req := func(method, path string, hdr ...string) string {
		s := method + " " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n"
		for _, h := range hdr {
			s += h + "\r\n"
		}
		return s + "\r\n"
	}
	withBody := func(method, path, body string, hdr ...string) string {
		hdr = append(hdr, "Content-Length: "+strconv.Itoa(len(body)))
		return req(method, path, hdr...) + body
	}
	key := "x-api-key: " + adminKey
	origin := "Origin: http://app.example"
	none := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for _, h := range corsHeaders {
			m[h] = ""
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	text := func(body string, extra map[string]string) map[string]string {
		e := map[string]string{"Content-Type": "text/plain; charset=utf-8", "Content-Length": strconv.Itoa(len(body))}
		for k, v := range extra {
			e[k] = v
		}
		return none(e)
	}
	js := func(body string, extra map[string]string) map[string]string {
		e := map[string]string{"Content-Type": "application/json", "Content-Length": strconv.Itoa(len(body))}
		for k, v := range extra {
			e[k] = v
		}
		return none(e)
	}
	acao := map[string]string{"Access-Control-Allow-Origin": "*"}
	missing, invalid := `{"error":"missing API key"}`, `{"error":"invalid API key"}`
	agentsList := `{"agents":[{"id":"agent_#1","org_id":"org_default","name":"a%2Fb","created_at":"<time>"}],"count":1}`
	agent := `{"id":"agent_#1","org_id":"org_default","name":"a%2Fb","created_at":"<time>"}`
	huge := strings.Repeat("x", 4<<20)
	for _, tc := range []struct {
		name, request string
		want          answer
	}{
		// CORS (§1): preflights answer 204 anywhere, before the key check.
		{"preflight", req("OPTIONS", "/api/v1/memories", origin, "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: content-type,x-api-key"),
			answer{204, none(map[string]string{"Vary": "Access-Control-Request-Method, Access-Control-Request-Headers, Origin", "Access-Control-Allow-Origin": "*",
				"Access-Control-Allow-Methods": "GET,POST,HEAD,PUT,DELETE,PATCH", "Access-Control-Allow-Headers": "content-type,x-api-key"}), ""}},
		{"preflight of an unknown path without request headers", req("OPTIONS", "/nothing", origin, "Access-Control-Request-Method: GET"),
			answer{204, none(map[string]string{"Vary": "Access-Control-Request-Method, Access-Control-Request-Headers, Origin", "Access-Control-Allow-Origin": "*",
				"Access-Control-Allow-Methods": "GET,POST,HEAD,PUT,DELETE,PATCH"}), ""}},
		{"simple request with an origin", req("GET", "/ready", origin), answer{200, js(`{"arc":{"org_default":true},"status":"ready"}`, acao), `{"arc":{"org_default":true},"status":"ready"}`}},
		{"no origin, no CORS headers", req("GET", "/ready"), answer{200, js(`{"arc":{"org_default":true},"status":"ready"}`, nil), `{"arc":{"org_default":true},"status":"ready"}`}},
		{"OPTIONS with an origin but no request method: routing, after the key check", req("OPTIONS", "/api/v1/memories", origin),
			answer{401, js(missing, map[string]string{"Vary": "Origin", "Access-Control-Allow-Origin": ""}), missing}},
		{"OPTIONS with a key and no origin: 405", req("OPTIONS", "/api/v1/memories", key), answer{405, text("Method Not Allowed", map[string]string{"Allow": "GET, HEAD, POST"}), "Method Not Allowed"}},
		{"OPTIONS /health: 405", req("OPTIONS", "/health"), answer{405, text("Method Not Allowed", map[string]string{"Allow": "GET, HEAD"}), "Method Not Allowed"}},

		// The key check runs before routing (§2).
		{"unknown /api/v1 path without a key", req("GET", "/api/v1/nothing", origin), answer{401, js(missing, acao), missing}},
		{"unknown /api/v1 path, invalid key", req("GET", "/api/v1/nothing", "x-api-key: mtk_nope"), answer{401, js(invalid, nil), invalid}},
		{"unknown /api/v1 path with a key", req("GET", "/api/v1/nothing", key), answer{404, text("Cannot GET /api/v1/nothing", nil), "Cannot GET /api/v1/nothing"}},
		{"prefix match", req("GET", "/api/v1x"), answer{401, js(missing, nil), missing}},
		{"wrong method without a key", req("DELETE", "/api/v1/memories"), answer{401, js(missing, nil), missing}},
		{"wrong method with a key", req("DELETE", "/api/v1/memories", key, origin), answer{405, text("Method Not Allowed", map[string]string{"Allow": "GET, HEAD, POST", "Access-Control-Allow-Origin": "*"}), "Method Not Allowed"}},
		{"wrong method on a parameter route", req("POST", "/api/v1/agents/x", key), answer{405, text("Method Not Allowed", map[string]string{"Allow": "GET, HEAD, DELETE"}), "Method Not Allowed"}},
		{"GET on a POST-only route", req("GET", "/api/v1/search", key), answer{405, text("Method Not Allowed", map[string]string{"Allow": "POST"}), "Method Not Allowed"}},
		{"wrong method on /health", req("POST", "/health"), answer{405, text("Method Not Allowed", map[string]string{"Allow": "GET, HEAD"}), "Method Not Allowed"}},
		{"unknown method", req("BREW", "/health", origin), answer{400, text("Invalid http method", nil), "Invalid http method"}},

		// Matching: trailing slashes and case are ignored; "//" and dot
		// segments are not cleaned; parameters stay raw.
		{"trailing slash", req("GET", "/api/v1/agents/", key), answer{200, js(agentsList, nil), agentsList}},
		{"trailing slashes", req("GET", "/api/v1/agents//", key), answer{200, js(agentsList, nil), agentsList}},
		{"case", req("GET", "/API/V1/Agents", key), answer{200, js(agentsList, nil), agentsList}},
		{"raw parameter", req("GET", "/api/v1/agents/a%2Fb/", key), answer{200, js(agent, nil), agent}},
		{"parameter keeps its case", req("GET", "/api/v1/agents/A%2FB", key), answer{404, js(`{"error":"agent not found"}`, nil), `{"error":"agent not found"}`}},
		{"double slash", req("GET", "//api/v1/memories", key), answer{404, text("Cannot GET //api/v1/memories", nil), "Cannot GET //api/v1/memories"}},
		{"inner double slash", req("GET", "/api/v1//memories", key), answer{404, text("Cannot GET /api/v1//memories", nil), "Cannot GET /api/v1//memories"}},
		{"dot segments", req("GET", "/api/v1/memories/a/../b", key), answer{404, text("Cannot GET /api/v1/memories/a/../b", nil), "Cannot GET /api/v1/memories/a/../b"}},
		{"404 text is the raw path, HTML-escaped", req("GET", "/nothing%20<b>?q=1"), answer{404, text("Cannot GET /nothing%20&lt;b&gt;", nil), "Cannot GET /nothing%20&lt;b&gt;"}},
		{"HEAD on a GET route", req("HEAD", "/ready"), answer{200, js(`{"arc":{"org_default":true},"status":"ready"}`, nil), ""}},

		// Bodies (§2): the decoder follows the Content-Type.
		{"no content type", withBody("POST", "/api/v1/memories", `{"agent_id":"a","content":"x"}`, key),
			answer{400, js(`{"error":"invalid request body: Unprocessable Entity"}`, nil), `{"error":"invalid request body: Unprocessable Entity"}`}},
		{"text/plain", withBody("POST", "/api/v1/agents", `{"name":"n"}`, key, "Content-Type: text/plain"),
			answer{400, js(`{"error":"invalid request body: Unprocessable Entity"}`, nil), `{"error":"invalid request body: Unprocessable Entity"}`}},
		{"form (curl -d)", withBody("POST", "/api/v1/memories", `{"agent_id":"a","content":"x"}`, key, "Content-Type: application/x-www-form-urlencoded"),
			answer{400, js(`{"error":"agent_id is required"}`, nil), `{"error":"agent_id is required"}`}},
		{"empty JSON body", withBody("POST", "/api/v1/search", ``, key, "Content-Type: application/json"),
			answer{400, js(`{"error":"invalid request body: unexpected end of JSON input"}`, nil), `{"error":"invalid request body: unexpected end of JSON input"}`}},
		{"null body", withBody("POST", "/api/v1/sessions", `null`, key, "Content-Type: application/json"),
			answer{400, js(`{"error":"agent_id is required"}`, nil), `{"error":"agent_id is required"}`}},
		{"vendor JSON type", withBody("POST", "/api/v1/sessions", `{}`, key, "Content-Type: application/vnd.api+json; charset=utf-8"),
			answer{400, js(`{"error":"agent_id is required"}`, nil), `{"error":"agent_id is required"}`}},
		{"context without a content type uses the defaults", withBody("POST", "/api/v1/sessions/s1/context", `{"since":"1h"}`, key),
			answer{200, js(`{"session_id":"s1","context":"## Session Context (s1)\n\n","memory_count":0}`, nil), `{"session_id":"s1","context":"## Session Context (s1)\n\n","memory_count":0}`}},
		{"body over 4 MiB: before any middleware", withBody("POST", "/api/v1/memories", huge+"xx", origin, "Content-Type: application/json"),
			answer{413, text("Request Entity Too Large", nil), "Request Entity Too Large"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rawExchange(t, addr, tc.request, corsHeaders)
			if norm := c.normalize(got.Body); norm != got.Body {
				// Ids and times normalized: the length is the raw body's.
				if got.Header["Content-Length"] == strconv.Itoa(len(got.Body)) {
					got.Header["Content-Length"] = strconv.Itoa(len(norm))
				}
				got.Body = norm
			}
			if tc.want.Body == agent || tc.want.Body == agentsList {
				// Reads give agents' created_at in whole seconds.
				if raw := rawExchange(t, addr, tc.request, nil).Body; !wholeSeconds.MatchString(raw) {
					t.Errorf("created_at not in whole seconds: %s", raw)
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("%q (-memtrace +tsgate):\n%s", tc.request[:min(len(tc.request), 120)], d)
			}
		})
	}
}

var wholeSeconds = regexp.MustCompile(`"created_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"`)

// TestBodyParity: metadata numbers and session context options behave as
// in memtrace.
func TestBodyParity(t *testing.T) {
	base, _ := startGateway(t, nil)
	c := &client{t: t, base: base, key: adminKey, ids: map[string]string{}}
	// Numbers in metadata are float64 in memtrace: 1.50 → 1.5, 1e2 → 100,
	// 2^53+1 rounds.
	c.expect("POST", "/api/v1/memories", `{"agent_id":"a","session_id":"s1","content":"numbers","metadata":{"a":1.50,"b":1e2,"c":9007199254740993}}`, 201,
		`{"time":"<time>","org_id":"org_default","agent_id":"a","session_id":"s1","memory_type":"episodic","event_type":"general","content":"numbers","metadata":{"a":1.5,"b":100,"c":9007199254740992},"dedup_key":"`+memtrace.DedupKey("a", "general", "numbers")+`"}`)
	c.expect("GET", "/api/v1/memories?agent_id=a", "", 200,
		`{"memories":[{"time":"<time>","org_id":"org_default","agent_id":"a","session_id":"s1","memory_type":"episodic","event_type":"general","content":"numbers","metadata":{"a":1.5,"b":100,"c":9007199254740992},"dedup_key":"`+memtrace.DedupKey("a", "general", "numbers")+`"}],"count":1,"has_more":false}`)
	for i := range 3 {
		if st, b := c.do("POST", "/api/v1/memories", `{"agent_id":"a","session_id":"s1","content":"action `+strconv.Itoa(i)+` `+strings.Repeat("z", 60)+`"}`, nil); st != 201 {
			t.Fatalf("%d %s", st, b)
		}
	}
	// max_tokens is ignored, as in memtrace: no entry is dropped and the
	// counts stay right.
	_, full := c.do("POST", "/api/v1/sessions/s1/context", `{}`, nil)
	_, small := c.do("POST", "/api/v1/sessions/s1/context", `{"max_tokens":10}`, nil)
	if full != small || !strings.Contains(full, `### Recent Actions (4)`) || strings.Count(full, `\n- [`) != 4 {
		t.Errorf("max_tokens changed the context:\n%s\n%s", full, small)
	}
}
