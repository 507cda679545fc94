package memtrace

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestMetrics: the dashboard's metric names, with values that follow the
// traffic, on the registry the gateway shares and on /metrics.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newHarness(t, WithMetrics(reg, reg))
	h.call("POST", "/api/v1/memories", `{"agent_id":"a","content":"one"}`)
	h.call("POST", "/api/v1/memories", `{"memories":[{"agent_id":"a","content":"two"},{"agent_id":"a","content":"three"}]}`)
	h.call("GET", "/api/v1/memories?agent_id=a", nil)
	h.call("POST", "/api/v1/search", `{"content_contains":"t"}`)
	resp, err := http.Get(h.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(b)
	for _, want := range []string{
		"memtrace_writes_total 3",
		// Dedup asks the backend once, to build its index.
		`memtrace_queries_total{kind="dedup"} 1`,
		`memtrace_queries_total{kind="list"} 1`,
		`memtrace_queries_total{kind="search"} 1`,
		"memtrace_buffer_size 0",
		`memtrace_arc_latency_seconds_count{op="write"} 2`,
		`memtrace_arc_latency_seconds_count{op="query"} 3`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestInvalidUTF8 follows encoding/json (and memtrace): invalid bytes in a
// string become U+FFFD, and the memory reads back as answered.
func TestInvalidUTF8(t *testing.T) {
	h := newHarness(t)
	st, b := h.call("POST", "/api/v1/memories", "{\"agent_id\":\"a\",\"content\":\"x\xffy\"}")
	var m Memory
	json.Unmarshal(b, &m)
	if st != 201 || m.Content != "x\uFFFDy" {
		t.Fatalf("%d %s", st, b)
	}
	_, list := h.call("GET", "/api/v1/memories?agent_id=a", nil)
	if !strings.Contains(string(list), `"content":"x`+"\uFFFD"+`y"`) {
		t.Fatalf("read back: %s", list)
	}
}
