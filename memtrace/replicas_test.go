package memtrace

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"tsgate/dialects/duckdb/duckdbtest"
	"tsgate/model"
)

// TestDedupAcrossReplicas: several tsgate replicas share the metadata
// PostgreSQL and the backend; the same memory sent to all of them at once
// is stored once. Each replica's in-process locks cannot see the others,
// so the dedup check and the write are serialized through PostgreSQL
// advisory locks on the org and dedup key.
func TestDedupAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	u := TestingPostgresURL(t)
	st := duckdbtest.Open(t, filepath.Join(t.TempDir(), "store.duckdb"))
	b := &recBackend{st: st}
	var urls []string
	for range 3 {
		base, _ := serveTestMeta(t, b, u)
		urls = append(urls, base)
	}
	const rounds = 20
	for round := range rounds {
		body := []byte(`{"agent_id":"a1","content":"the same memory, round ` + string(rune('a'+round)) + `"}`)
		var wg sync.WaitGroup
		codes := make(chan int, 3*len(urls))
		for range 3 {
			for _, url := range urls {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := http.Post(url+"/api/v1/memories", "application/json", bytes.NewReader(body))
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					codes <- resp.StatusCode
				}()
			}
		}
		wg.Wait()
		close(codes)
		created := 0
		for c := range codes {
			switch c {
			case 201:
				created++
			case 409:
			default:
				t.Errorf("round %d: status %d", round, c)
			}
		}
		if created != 1 {
			t.Errorf("round %d: %d replicas stored the memory, want 1", round, created)
		}
	}
	rows, err := st.Query(ctx, "memory", "SELECT count(*), count(DISTINCT dedup_key) FROM events")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	v := make([]model.Value, 2)
	if !rows.Next(v) || v[0].I != rounds || v[1].I != rounds {
		t.Errorf("stored %d memories with %d dedup keys, want %d of each", v[0].I, v[1].I, rounds)
	}
}
