package memtrace

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"tsgate/model"
)

// Benchmarks run the HTTP API over the embedded store (httptest server,
// auth off so key checks do not blur the figures):
//
//	go test -run '^$' -bench . -benchtime 3s ./memtrace/
//
// TSGATE_MEMTRACE_BENCH_ROWS sets how many memories the read benchmarks
// store first (default 100000; the figure is 1000000).
//
// Measured on the 2-core CI machine while other builds ran (load 1.6–2.3),
// December 2026:
//
//	go test -run '^$' -bench 'CreateSingle|CreateBatch' -benchtime 5s ./memtrace/
//	  CreateSingle (16 clients, SQLite metadata)      3,400–4,500 memories/s, ~8 a write, 1.8 ms a write
//	  CreateSinglePostgresMeta (16 clients)           1,400–1,600 memories/s
//	  CreateBatch1000 (2 clients)                     82,000–97,000 memories/s
//	TSGATE_MEMTRACE_BENCH_ROWS=1000000 go test -run '^$' -bench 'BenchmarkRead$' -benchtime 300x ./memtrace/
//	  list p50/p99 5.3/9.7 ms (14.5 ms p99 under heavier load); context 6.4/13.6;
//	  list_session_tags 14.9/23; search 11.9/79; stats 18/41
//
// Single creates are bound by the embedded store's commit: a DuckDB
// transaction (BEGIN, appender flush, COMMIT with its WAL sync) costs
// about 1.8 ms of wall time and more than a core of CPU across DuckDB's
// threads whatever its size up to ~64 rows, and 16 clients fill ~8 rows
// a commit (the profile: 56% of CPU in the store's writer, 10% in the
// HTTP server, 3% in memtrace's handlers).

// benchClient keeps a connection per client goroutine alive (the default
// transport keeps two, and would reconnect the others every request).
var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

func post(b *testing.B, url string, body []byte, want int) {
	resp, err := benchClient.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	// Read to the end so the connection is reused, as a client's is.
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("POST %s: %d", url, resp.StatusCode)
	}
}

var benchSeq atomic.Int64

// BenchmarkCreateSingle is 16 clients (8 per core on 2 cores) each
// creating one memory per request, as agents do.
func BenchmarkCreateSingle(b *testing.B) { benchCreateSingle(b, "") }

// BenchmarkCreateSinglePostgresMeta is the same with the metadata in the
// real PostgreSQL, as several replicas share it: dedup then also takes
// cross-replica advisory locks and asks the backend about keys the index
// does not know, once per group.
func BenchmarkCreateSinglePostgresMeta(b *testing.B) { benchCreateSingle(b, TestingPostgresURL(b)) }

func benchCreateSingle(b *testing.B, metaTarget string) {
	h := newHarnessMeta(b, metaTarget)
	cb := &countingBackend{recBackend: h.backend}
	srv := httptest.NewServer(New(cb, h.meta, WithoutAuth()))
	b.Cleanup(srv.Close)
	b.SetParallelism(16 / runtime.GOMAXPROCS(0))
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := benchSeq.Add(1)
			body := fmt.Sprintf(`{"agent_id":"bench","session_id":"s%d","content":"memory number %d with some text","tags":["t1","t2"],"importance":0.5}`, n%10, n)
			post(b, srv.URL+"/api/v1/memories", []byte(body), 201)
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "memories/s")
	// How many memories each backend write carried: the group commit.
	b.ReportMetric(float64(cb.rows.Load())/float64(max(cb.writes.Load(), 1)), "memories/write")
	b.ReportMetric(float64(cb.nanos.Load())/1e6/float64(max(cb.writes.Load(), 1)), "ms/write")
}

func BenchmarkCreateBatch1000(b *testing.B) {
	h := newHarness(b)
	start := time.Now()
	b.SetParallelism(1)
	b.RunParallel(func(pb *testing.PB) {
		var buf bytes.Buffer
		for pb.Next() {
			buf.Reset()
			buf.WriteString(`{"memories":[`)
			for i := range 1000 {
				if i > 0 {
					buf.WriteByte(',')
				}
				n := benchSeq.Add(1)
				fmt.Fprintf(&buf, `{"agent_id":"bench","session_id":"s%d","content":"memory number %d with some text","tags":["t1","t2"],"importance":0.5}`, n%10, n)
			}
			buf.WriteString(`]}`)
			post(b, h.url+"/api/v1/memories", buf.Bytes(), 201)
		}
	})
	b.ReportMetric(float64(b.N)*1000/time.Since(start).Seconds(), "memories/s")
}

// benchRows is how many memories the read benchmarks store first
// (TSGATE_MEMTRACE_BENCH_ROWS, default 100000).
func benchRows() int {
	rows := 100000
	if s := os.Getenv("TSGATE_MEMTRACE_BENCH_ROWS"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	return rows
}

// seedEvents writes rows memories of 20 agents and 1000 sessions spread
// over the hour before now, in batches, straight through write (the HTTP
// path is what the create benchmarks measure). exact adds time_us, as
// memtrace does on a backend that keeps less than µs.
func seedEvents(tb testing.TB, rows int, now time.Time, exact bool, write func(*model.Batch) error) {
	start := now.Add(-time.Hour)
	types := []string{"episodic", "decision", "session", "entity"}
	const chunk = 50000
	for done := 0; done < rows; done += chunk {
		batch := &model.Batch{}
		t := batch.Table("events")
		var cells []model.Cell
		for i := done; i < min(done+chunk, rows); i++ {
			m := &Memory{Time: start.Add(time.Duration(i) * time.Hour / time.Duration(rows)), OrgID: "org_default", CreateRequest: CreateRequest{
				AgentID: "agent_" + strconv.Itoa(i%20), SessionID: "sess_" + strconv.Itoa(i%1000),
				MemoryType: types[i%4], EventType: []string{"general", "error", "page_crawled"}[i%3],
				Content: "seeded memory " + strconv.Itoa(i) + " about " + []string{"crawling", "parsing", "ranking"}[i%3],
				Tags:    []string{"t" + strconv.Itoa(i%7)}, Importance: float64(i%10) / 10, DedupKey: DedupKey("a", "g", strconv.Itoa(i))}}
			var err error
			if cells, err = appendRow(t, m, cells, exact); err != nil {
				tb.Fatal(err)
			}
		}
		if err := write(batch); err != nil {
			tb.Fatal(err)
		}
	}
}

// seeded is a harness whose store holds benchRows memories.
func seeded(b *testing.B) *harness {
	h := newHarness(b)
	seedEvents(b, benchRows(), time.Now(), false, func(batch *model.Batch) error {
		_, err := h.backend.Write(context.Background(), "memory", batch)
		return err
	})
	return h
}

// latency runs fn b.N times and reports p50 and p99.
func latency(b *testing.B, fn func(i int)) {
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		fn(i)
		d = append(d, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, "p99-ms")
}

func get(b *testing.B, url string) {
	resp, err := benchClient.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	// Read to the end so the connection is reused, as a client's is.
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
}

func BenchmarkRead(b *testing.B) {
	h := seeded(b)
	readBenchmarks(b, h.url)
}

// readBenchmarks times memtrace's reads against the API at url (p50/p99).
func readBenchmarks(b *testing.B, url string) {
	h := struct{ url string }{url}
	b.Run("list", func(b *testing.B) {
		latency(b, func(i int) { get(b, h.url+"/api/v1/memories?agent_id=agent_"+strconv.Itoa(i%20)+"&limit=100") })
	})
	b.Run("list_session_tags", func(b *testing.B) {
		latency(b, func(i int) {
			get(b, h.url+"/api/v1/memories?session_id=sess_"+strconv.Itoa(i%1000)+"&tags=t3&since=24h&limit=50")
		})
	})
	b.Run("search", func(b *testing.B) {
		latency(b, func(i int) {
			post(b, h.url+"/api/v1/search", []byte(`{"agent_id":"agent_`+strconv.Itoa(i%20)+`","content_contains":"ranking","memory_types":["episodic","decision"],"min_importance":0.5,"limit":50}`), 200)
		})
	})
	b.Run("context", func(b *testing.B) {
		latency(b, func(i int) {
			post(b, h.url+"/api/v1/sessions/sess_"+strconv.Itoa(i%1000)+"/context", []byte(`{}`), 200)
		})
	})
	b.Run("stats", func(b *testing.B) {
		latency(b, func(i int) { get(b, h.url+"/api/v1/agents/agent_"+strconv.Itoa(i%20)+"/stats") })
	})
}
