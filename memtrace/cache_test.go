package memtrace

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRedisContextCache checks against a real redis-server that a session
// context is served from the cache (no backend query) until the session
// gets a new memory, and that the new memory then shows.
func TestRedisContextCache(t *testing.T) {
	ctx := context.Background()
	rc, err := NewRedisCache(ctx, TestingRedisURL(t), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	h := newHarness(t, WithContextCache(rc))
	// A session id of its own, so data a previous run left in Redis
	// cannot answer for this one.
	sess := "sess-" + GenerateID("")
	other := sess + "-other"
	add := func(session, content string) {
		t.Helper()
		if st, b := h.call("POST", "/api/v1/memories", map[string]any{"agent_id": "a", "session_id": session, "content": content}); st != 201 {
			t.Fatalf("create: %d %s", st, b)
		}
	}
	contextOf := func(opts string) (string, int) {
		t.Helper()
		before := len(h.backend.queries())
		st, b := h.call("POST", "/api/v1/sessions/"+sess+"/context", opts)
		if st != 200 {
			t.Fatalf("context: %d %s", st, b)
		}
		var c sessionContext
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		return c.Context, len(h.backend.queries()) - before
	}
	add(sess, "first")
	c1, q := contextOf(`{}`)
	if q != 1 || !strings.Contains(c1, "first") {
		t.Fatalf("first context: %d queries, %q", q, c1)
	}
	if c, q := contextOf(`{}`); q != 0 || c != c1 {
		t.Fatalf("second context: %d queries (want 0, cached), %q", q, c)
	}
	// Other options are another entry.
	if _, q := contextOf(`{"include_types":["decision"]}`); q != 1 {
		t.Fatalf("other options: %d queries", q)
	}
	// A memory in another session leaves this one's cache alone.
	add(other, "elsewhere")
	if _, q := contextOf(`{}`); q != 0 {
		t.Fatalf("after a memory elsewhere: %d queries", q)
	}
	add(sess, "second")
	c2, q := contextOf(`{}`)
	if q != 1 || !strings.Contains(c2, "second") || !strings.Contains(c2, "first") {
		t.Fatalf("after a new memory: %d queries, %q", q, c2)
	}
	if _, q := contextOf(`{"include_types":["decision"]}`); q != 1 {
		t.Fatalf("other options after a new memory: %d queries (stale entry served)", q)
	}
	// A batch touching the session invalidates too.
	if st, b := h.call("POST", "/api/v1/memories", fmt.Sprintf(`{"memories":[{"agent_id":"a","session_id":%q,"content":"third"}]}`, sess)); st != 201 {
		t.Fatalf("batch: %d %s", st, b)
	}
	if c, q := contextOf(`{}`); q != 1 || !strings.Contains(c, "third") {
		t.Fatalf("after a batch: %d queries, %q", q, c)
	}
}

func TestRedisURLErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := NewRedisCache(ctx, "http://nope", time.Minute); err == nil {
		t.Error("a non-redis URL was accepted")
	}
	if _, err := NewRedisCache(ctx, "redis://127.0.0.1:1/0", time.Minute); err == nil {
		t.Error("an unreachable redis was accepted")
	}
}
