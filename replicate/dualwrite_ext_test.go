package replicate_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tsgate/internal/testenv"

	"github.com/prometheus/client_golang/prometheus"

	"tsgate/conformance"
	"tsgate/dialects"
	"tsgate/dialects/backendkit/kittest"
	"tsgate/dialects/duckdb"
	"tsgate/dialects/duckdb/duckdbtest"
	"tsgate/dialects/registry"
	"tsgate/migrate"
	"tsgate/model"
	"tsgate/query"
	"tsgate/replicate"
)

// seqBatch is one row of measurement m carrying its batch number, so
// order and exactly-once are visible on the secondary.
func seqBatch(i int) *model.Batch {
	var b model.Batch
	b.Table("m").AppendRow(int64(1_700_000_000_000_000+i*1000), []model.Cell{
		{Name: "host", Tag: true, Value: model.String(fmt.Sprintf("h%d", i%3))},
		{Name: "seq", Value: model.Int(int64(i))},
		{Name: "v", Value: model.Float(float64(i) / 3)},
	})
	return &b
}

func readAll(t testing.TB, b dialects.Backend, identity bool, db, sql string) *conformance.Result {
	t.Helper()
	var opts []query.Option
	if !identity {
		opts = append(opts, query.Translated())
	}
	rows, err := query.New(b, opts...).QueryArc(context.Background(), db, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	r, err := conformance.Read(rows)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func verify(t *testing.T, src, dst *migrate.Side, db string) {
	t.Helper()
	diffs, err := migrate.Verify(context.Background(), src, dst, migrate.Options{Database: db})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("verification: %s: %s", d.Measurement, d.What)
	}
}

// checkSeq: the secondary holds batches 0..n-1 exactly once each, and
// (embedded store, whose scans keep insertion order: DuckDB's
// preserve_insertion_order) in the order written.
func checkSeq(t *testing.T, b dialects.Backend, identity bool, db string, n int, byRowid bool) {
	t.Helper()
	q := "SELECT seq FROM m ORDER BY seq"
	if byRowid {
		q = "SELECT seq FROM m"
	}
	r := readAll(t, b, identity, db, q)
	if len(r.Rows) != n {
		t.Fatalf("secondary holds %d rows of m, want %d", len(r.Rows), n)
	}
	for i, row := range r.Rows {
		if row[0].I != int64(i) {
			t.Fatalf("row %d of m has seq %d: a batch is missing, duplicated or out of order", i, row[0].I)
		}
	}
}

// TestDualWriteEveryWriteReachesSecondary: two embedded stores; every
// batch the primary accepted arrives on the secondary, once, in order.
func TestDualWriteEveryWriteReachesSecondary(t *testing.T) {
	ctx := context.Background()
	ps, ss := duckdbtest.Open(t, filepath.Join(t.TempDir(), "tsgate.duckdb")), duckdbtest.Open(t, filepath.Join(t.TempDir(), "tsgate.duckdb"))
	prim, sec := duckdb.NewBackend(ps), duckdb.NewBackend(ss)
	defer prim.Close()
	defer sec.Close()
	dw, err := replicate.NewDualWriter(prim, func(context.Context) (dialects.Backend, error) { return sec, nil },
		filepath.Join(t.TempDir(), "q"), 0, replicate.WithBackoff(time.Millisecond, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer dw.Stop()
	ds := conformance.NewDataset(7, conformance.DefaultBase(time.Now()))
	for _, b := range ds.Batches {
		if _, err := dw.Write(ctx, ds.Database, b); err != nil {
			t.Fatal(err)
		}
	}
	// Concurrent writers (as the HTTP front ends are)…
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				var b model.Batch
				b.Table("c").AppendRow(int64(1_700_000_000_000_000+w*1000+i), []model.Cell{
					{Name: "writer", Tag: true, Value: model.String(fmt.Sprint(w))},
					{Name: "i", Value: model.Int(int64(i))},
				})
				if _, err := dw.Write(ctx, ds.Database, &b); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// …and one sequential, whose order the secondary must keep.
	const n = 200
	for i := range n {
		if _, err := dw.Write(ctx, ds.Database, seqBatch(i)); err != nil {
			t.Fatal(err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := dw.WaitEmpty(wctx); err != nil {
		t.Fatal(err)
	}
	verify(t, &migrate.Side{Backend: prim}, &migrate.Side{Backend: sec}, ds.Database)
	for _, m := range []string{"cpu", "events", "m", "c"} {
		want := readAll(t, prim, true, ds.Database, "SELECT * FROM "+m+" ORDER BY ALL")
		got := readAll(t, sec, true, ds.Database, "SELECT * FROM "+m+" ORDER BY ALL")
		if d := conformance.DefaultRules().Compare(want, got, true); d != "" {
			t.Errorf("%s differs on the secondary: %s", m, d)
		}
	}
	checkSeq(t, sec, true, ds.Database, n, true)
}

// TestDualWriteSecondaryDownThenBack (embedded): the secondary is an
// InfluxDB URL on a closed port while the primary takes writes; the
// gateway restarts (the queue resumes from disk) with the secondary back,
// an embedded store, and every batch arrives exactly once, in order.
func TestDualWriteSecondaryDownThenBack(t *testing.T) {
	ctx := context.Background()
	prim := duckdb.NewBackend(duckdbtest.Open(t, filepath.Join(t.TempDir(), "tsgate.duckdb")))
	defer prim.Close()
	qdir := filepath.Join(t.TempDir(), "q")
	down, err := registry.Open(ctx, "influxql://"+testenv.FreeAddr(t)+"/mig")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	dw, err := replicate.NewDualWriter(noClose{prim}, func(context.Context) (dialects.Backend, error) { return down, nil }, qdir, 0,
		replicate.WithBackoff(time.Millisecond, 20*time.Millisecond), replicate.WithDualMetrics(reg))
	if err != nil {
		t.Fatal(err)
	}
	const n = 150
	for i := range n {
		if _, err := dw.Write(ctx, "mig", seqBatch(i)); err != nil {
			t.Fatalf("primary write %d failed while the secondary is down: %v", i, err)
		}
	}
	time.Sleep(1200 * time.Millisecond) // the worker fails a few times; the lag gauge ticks
	if depth, _ := dw.QueueDepth(); depth != n {
		t.Fatalf("queue depth %d with the secondary down, want %d", depth, n)
	}
	m := metrics(t, reg)
	if m["tsgate_dualwrite_queue_depth"] != n || m["tsgate_dualwrite_lag_seconds"] < 1 || m["tsgate_dualwrite_errors_total"] < 2 ||
		m["tsgate_dualwrite_queue_bytes"] <= 0 || m["tsgate_dualwrite_replayed_total"] != 0 {
		t.Fatalf("metrics while the secondary is down: %v", m)
	}
	if dw.Diverged() {
		t.Fatal("a down secondary marked diverged")
	}
	if err := dw.Close(); err != nil { // a restart: the queue stays on disk
		t.Fatal(err)
	}
	sec := duckdb.NewBackend(duckdbtest.Open(t, filepath.Join(t.TempDir(), "tsgate.duckdb")))
	defer sec.Close()
	dw2, err := replicate.NewDualWriter(noClose{prim}, func(context.Context) (dialects.Backend, error) { return noClose{sec}, nil }, qdir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer dw2.Stop()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := dw2.WaitEmpty(wctx); err != nil {
		t.Fatal(err)
	}
	verify(t, &migrate.Side{Backend: prim}, &migrate.Side{Backend: sec}, "mig")
	checkSeq(t, sec, true, "mig", n, true)
}

func metrics(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if m.Gauge != nil {
				out[mf.GetName()] = m.Gauge.GetValue()
			} else if m.Counter != nil {
				out[mf.GetName()] = m.Counter.GetValue()
			}
		}
	}
	return out
}

// noClose keeps a shared backend open when a wrapper is closed.
type noClose struct{ dialects.Backend }

func (noClose) Close() error { return nil }

// forwarder is a TCP proxy that can be started on a fixed address later:
// the secondary "comes back" on the same URL.
func forward(t *testing.T, addr, to string) func() {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				u, err := net.Dial("tcp", to)
				if err != nil {
					c.Close()
					return
				}
				go func() { io.Copy(u, c); u.Close() }()
				io.Copy(c, u)
				c.Close()
			}()
		}
	}()
	return func() { l.Close() }
}

// TestDualWriteInfluxSecondaryDownThenBack: embedded → InfluxDB 1.8. The
// secondary's URL points at a closed port; writes keep succeeding and
// queue; then a proxy to the real server opens on that port and every
// batch arrives exactly once, in order (a point every batch overwrites
// ends with the last batch's value), verified by migrate.Verify.
func TestDualWriteInfluxSecondaryDownThenBack(t *testing.T) {
	influx := strings.TrimPrefix(kittest.URL(t, "TSGATE_TEST_INFLUX_URL"), "http://")
	ctx := context.Background()
	db := fmt.Sprintf("tsgate_dw_%d", time.Now().UnixNano())
	t.Cleanup(func() {
		// Each run writes a fresh database: left behind, they pile up.
		be, err := registry.Open(ctx, "influxql://"+influx+"/"+db)
		if err != nil {
			t.Logf("drop %s: %v", db, err)
			return
		}
		defer be.Close()
		d, ok := dialects.As[dialects.Deleter](be)
		if !ok {
			t.Logf("drop %s: the backend cannot drop a database", db)
			return
		}
		if err := d.DropDatabase(ctx, db); err != nil {
			t.Logf("drop %s: %v", db, err)
		}
	})
	addr := testenv.FreeAddr(t)
	sec, err := registry.Open(ctx, "influxql://"+addr+"/"+db)
	if err != nil {
		t.Fatal(err)
	}
	prim := duckdb.NewBackend(duckdbtest.Open(t, filepath.Join(t.TempDir(), "tsgate.duckdb")))
	dw, err := replicate.NewDualWriter(prim, func(context.Context) (dialects.Backend, error) { return sec, nil },
		filepath.Join(t.TempDir(), "q"), 0, replicate.WithBackoff(10*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer dw.Close()
	const n = 100
	write := func(i int) {
		b := seqBatch(i)
		// f: float fields only. migrate.Verify sums integer fields, and
		// DuckDB's sum(BIGINT) is a HUGEINT read as text, which the
		// comparison rules do not equate with InfluxDB's integer sum.
		b.Table("f").AppendRow(int64(1_700_000_000_000_000+i*1000), []model.Cell{{Name: "x", Value: model.Float(float64(i) * 1.5)}})
		b.Table("last").AppendRow(1_700_000_000_000_000, []model.Cell{{Name: "seq", Value: model.Int(int64(i))}})
		if _, err := dw.Write(ctx, db, b); err != nil {
			t.Fatalf("primary write %d: %v", i, err)
		}
	}
	for i := range n / 2 {
		write(i)
	}
	time.Sleep(300 * time.Millisecond) // a few failed attempts
	if depth, _ := dw.QueueDepth(); depth != n/2 {
		t.Fatalf("queue depth %d while the secondary is down, want %d", depth, n/2)
	}
	stop := forward(t, addr, influx)
	defer stop()
	for i := n / 2; i < n; i++ {
		write(i)
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := dw.WaitEmpty(wctx); err != nil {
		t.Fatal(err)
	}
	// last is overwritten on InfluxDB (one point per series and time),
	// so it is checked on its own below.
	diffs, err := migrate.Verify(ctx, &migrate.Side{Backend: prim}, &migrate.Side{Backend: sec}, migrate.Options{Database: db, Measurements: []string{"f"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("verification: %s: %s", d.Measurement, d.What)
	}
	q := "SELECT time, host, seq, v FROM m ORDER BY time"
	if d := conformance.DefaultRules().Compare(readAll(t, prim, true, db, q), readAll(t, sec, false, db, q), true); d != "" {
		t.Errorf("m differs on the secondary: %s", d)
	}
	checkSeq(t, sec, false, db, n, false)
	last := readAll(t, sec, false, db, "SELECT seq FROM last")
	if len(last.Rows) != 1 || last.Rows[0][0].I != n-1 {
		t.Fatalf("overwritten point = %v, want seq %d (batches applied out of order)", last.Rows, n-1)
	}
}
