package memtrace

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tsgate/errs"
	"tsgate/model"
)

// flakyBackend wraps the store: Write can be held, or fail a number of
// times as a briefly unavailable backend would.
type flakyBackend struct {
	*recBackend
	hold     chan struct{} // when non-nil, writes wait for it
	failures atomic.Int32  // writes left to fail with Unavailable
	writes   atomic.Int32
}

func (f *flakyBackend) Write(ctx context.Context, db string, b *model.Batch) (model.WriteResult, error) {
	f.writes.Add(1)
	if f.hold != nil {
		<-f.hold
	}
	if f.failures.Add(-1) >= 0 {
		return model.WriteResult{}, errs.New(errs.Unavailable, "backend restarting")
	}
	return f.recBackend.Write(ctx, db, b)
}

func newFlaky(t *testing.T, opts ...Option) (*flakyBackend, string) {
	t.Helper()
	h := newHarness(t) // for its store and metadata
	f := &flakyBackend{recBackend: h.backend}
	srv := httptest.NewServer(New(f, h.meta, append([]Option{WithoutAuth(), WithDedup(false, 24)}, opts...)...))
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func postStatus(t *testing.T, url, body string) (int, string) {
	resp, err := http.Post(url+"/api/v1/memories", "application/json", strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 512)
	n, _ := resp.Body.Read(buf)
	sb.Write(buf[:n])
	return resp.StatusCode, sb.String()
}

// TestBackpressure: past the write limit a write waits briefly, then is
// answered 503 — nothing is queued without bound, nothing dropped.
func TestBackpressure(t *testing.T) {
	hold := make(chan struct{})
	f, url := newFlaky(t, WithWriteLimit(1, 100*time.Millisecond))
	f.hold = hold
	var wg sync.WaitGroup
	wg.Add(1)
	var first int
	go func() {
		defer wg.Done()
		first, _ = postStatus(t, url, `{"agent_id":"a","content":"held"}`)
	}()
	for f.writes.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	st, body := postStatus(t, url, `{"agent_id":"a","content":"refused"}`)
	if st != 503 || body != `{"error":"too many writes in progress, retry later"}` {
		t.Errorf("over the limit: %d %s", st, body)
	}
	close(hold)
	wg.Wait()
	if first != 201 {
		t.Errorf("held write: %d", first)
	}
	if st, _ := postStatus(t, url, `{"agent_id":"a","content":"after"}`); st != 201 {
		t.Errorf("after the backlog cleared: %d", st)
	}
}

// TestBoundedRetries: a backend that is briefly unavailable is retried a
// bounded number of times; one that stays down is reported, not retried
// forever.
func TestBoundedRetries(t *testing.T) {
	f, url := newFlaky(t)
	f.failures.Store(2)
	if st, body := postStatus(t, url, `{"agent_id":"a","content":"retried"}`); st != 201 {
		t.Fatalf("after two failures: %d %s", st, body)
	}
	if n := f.writes.Load(); n != 3 {
		t.Errorf("%d write attempts, want 3", n)
	}
	f.writes.Store(0)
	f.failures.Store(100)
	st, body := postStatus(t, url, `{"agent_id":"a","content":"lost cause"}`)
	if st != 503 || body != `{"error":"backend restarting"}` {
		t.Errorf("backend down: %d %s", st, body)
	}
	if n := f.writes.Load(); n != 3 {
		t.Errorf("%d write attempts, want 3", n)
	}
}
