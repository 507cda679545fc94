package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// ingest.durability = "buffer": a write is answered 204 before it is
// committed; the flush route commits it (and a clean stop would too).
func TestIngestBufferMode(t *testing.T) {
	ts := startGateway(t, func(c *Config) {
		c.Ingest.Durability = "buffer"
		c.Ingest.BufferRows = 1_000_000
		c.Ingest.BufferAge = Duration{time.Hour}
	})
	db := map[string]string{"x-arc-database": "buf"}
	code, body, _ := ts.do(t, req{path: "/api/v1/write/line-protocol", header: db,
		body: []byte("cpu,host=a v=1 1700000000000000000\ncpu,host=b v=2 1700000001000000000\n")})
	if code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, body)
	}
	query := func() (int, string) {
		code, body, _ := ts.do(t, req{path: "/api/v1/query", header: map[string]string{"Content-Type": "application/json"},
			body: []byte(`{"sql":"SELECT count(*) AS n FROM buf.cpu"}`)})
		return code, body
	}
	// Still buffered: the measurement does not exist yet (empty answer).
	if code, body := query(); code != http.StatusOK || strings.Contains(body, `[[2]]`) {
		t.Fatalf("before the flush: %d %s", code, body)
	}
	code, body, _ = ts.do(t, req{path: "/api/v1/write/line-protocol/flush"})
	if code != http.StatusOK || !strings.Contains(body, "All buffers flushed") {
		t.Fatalf("flush: %d %s", code, body)
	}
	if code, body := query(); code != http.StatusOK || !strings.Contains(body, `"data":[[2]]`) {
		t.Fatalf("after the flush: %d %s", code, body)
	}
}
