package memtrace

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"tsgate/model"
)

// countingBackend counts writes and the rows they carry.
type countingBackend struct {
	*recBackend
	writes atomic.Int32
	rows   atomic.Int32
	nanos  atomic.Int64
}

func (c *countingBackend) Write(ctx context.Context, db string, b *model.Batch) (model.WriteResult, error) {
	c.writes.Add(1)
	c.rows.Add(int32(b.Rows()))
	start := time.Now()
	defer func() { c.nanos.Add(int64(time.Since(start))) }()
	return c.recBackend.Write(ctx, db, b)
}

// TestGroupCommit: concurrent single creates, many of them copies of one
// another, share writes; each distinct memory is stored exactly once, and
// every 201 names a memory that reads back.
func TestGroupCommit(t *testing.T) {
	h := newHarness(t)
	cb := &countingBackend{recBackend: h.backend}
	srv := httptest.NewServer(New(cb, h.meta, WithoutAuth()))
	t.Cleanup(srv.Close)
	const clients, each, distinct = 16, 40, 200
	var created, dups atomic.Int32
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := (c*each + i*7) % distinct
				st, body := postStatus(t, srv.URL, fmt.Sprintf(`{"agent_id":"a","session_id":"s%d","content":"memory %d"}`, n%5, n))
				switch st {
				case 201:
					created.Add(1)
				case 409:
					dups.Add(1)
				default:
					t.Errorf("create %d: %d %s", n, st, body)
				}
			}
		}()
	}
	wg.Wait()
	if created.Load() != distinct || created.Load()+dups.Load() != clients*each {
		t.Errorf("%d created and %d duplicates of %d requests; want %d created", created.Load(), dups.Load(), clients*each, distinct)
	}
	if int(cb.rows.Load()) != distinct {
		t.Errorf("%d rows written, want %d", cb.rows.Load(), distinct)
	}
	if w := cb.writes.Load(); w >= distinct {
		t.Errorf("%d writes for %d memories: no group commit", w, distinct)
	}
	_, body := h.call("GET", "/api/v1/memories?agent_id=a&limit=1000", nil)
	var list struct{ Count int }
	decode(t, body, &list)
	if list.Count != distinct {
		t.Errorf("list holds %d memories, want %d", list.Count, distinct)
	}
}

// TestDedupIndexRebuiltAtStart: a new server over the same store knows
// the memories already stored (its index is built from the store), and
// forgets them once they leave the dedup window.
func TestDedupIndexRebuiltAtStart(t *testing.T) {
	h := newHarness(t)
	const mem = `{"agent_id":"a","content":"stored before the restart"}`
	if st, b := h.call("POST", "/api/v1/memories", mem); st != 201 {
		t.Fatalf("%d %s", st, b)
	}
	restart := func(now func() time.Time) string {
		srv := httptest.NewServer(New(h.backend, h.meta, WithoutAuth(), WithClock(now)))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	if st, b := postStatus(t, restart(time.Now), mem); st != 409 {
		t.Errorf("after a restart: %d %s, want 409", st, b)
	}
	later := func() time.Time { return time.Now().Add(24*time.Hour + time.Minute) }
	if st, b := postStatus(t, restart(later), mem); st != 201 {
		t.Errorf("past the window: %d %s, want 201", st, b)
	}
}

// TestDedupIndex: keys are seen within the window only, the newest time
// of a key counts, and expired pairs leave the index.
func TestDedupIndex(t *testing.T) {
	d := newDedupIndex()
	d.load("old", 10)
	d.load("k", 50)
	d.load("k", 30)
	d.sort()
	d.add("new", 100)
	d.add("old", 90) // seen again: the newer time counts
	type look struct {
		key    string
		cutoff int64
		want   bool
	}
	for _, tc := range []look{
		{"k", 49, true}, {"k", 50, false}, {"old", 80, true}, {"new", 99, true}, {"none", 0, false},
	} {
		if got := d.seen(tc.key, tc.cutoff); got != tc.want {
			t.Errorf("seen(%q, %d) = %v", tc.key, tc.cutoff, got)
		}
	}
	d.expire(60)
	if diff := cmp.Diff(map[string]int64{"old": 90, "new": 100}, d.last); diff != "" {
		t.Errorf("after expire(60) (-want +got):\n%s", diff)
	}
	d.expire(100)
	if d.len() != 0 {
		t.Errorf("after expire(100): %v", d.last)
	}
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}
