package replicate

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tsgate/dialects"
	"tsgate/dialects/duckdb"
	"tsgate/dialects/duckdb/duckdbtest"
	"tsgate/dialects/registry"
	"tsgate/model"
	"tsgate/query"
)

func writeLines(t *testing.T, b dialects.Backend, db string, from, n int) {
	t.Helper()
	var batch model.Batch
	tb := batch.Table("cpu")
	for i := from; i < from+n; i++ {
		tb.AppendRow(int64(1_700_000_000_000_000+i*1_000_000), []model.Cell{
			{Name: "host", Tag: true, Value: model.String(fmt.Sprintf("h%d", i%4))},
			{Name: "usage", Value: model.Float(float64(i) * 0.5)},
			{Name: "n", Value: model.Int(int64(i))},
		})
	}
	if _, err := b.Write(context.Background(), db, &batch); err != nil {
		t.Fatal(err)
	}
}

func drain(t *testing.T, rows model.Rows) int {
	t.Helper()
	n := 0
	v := make([]model.Value, len(rows.Columns()))
	for rows.Next(v) {
		n++
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	return n
}

var shadowQueries = []string{
	"SELECT time, host, usage FROM cpu ORDER BY time",
	"SELECT host, count(*) AS c, sum(usage) AS s FROM cpu GROUP BY host",
	"SELECT max(n) AS m FROM cpu WHERE host = 'h1'",
}

// TestShadowReadsPipeline: identical data counts matches; a secondary
// missing a row counts a mismatch, logged with both queries and the
// first difference; a result past the tee bound is skipped; the
// secondary's translator refusing counts refused, its failure error. The
// client always gets the primary's rows.
func TestShadowReadsPipeline(t *testing.T) {
	ctx := context.Background()
	prim := duckdb.NewBackend(duckdbtest.Open(t, filepath.Join(t.TempDir(), "tsgate.duckdb")))
	sec := duckdb.NewBackend(duckdbtest.Open(t, filepath.Join(t.TempDir(), "tsgate.duckdb")))
	defer prim.Close()
	defer sec.Close()
	writeLines(t, prim, "db", 0, 40)
	writeLines(t, sec, "db", 0, 40)
	pp, sp := query.New(prim), query.New(sec)
	var logs bytes.Buffer
	sh := newShadow(func() (*query.Pipeline, func()) { return sp, nil }, 1,
		withShadowLogger(slog.New(slog.NewTextHandler(&logs, nil))), withShadowMetrics(newShadowMetrics(prometheus.NewRegistry())))
	run := func(sh *Shadow, sql string) int {
		rows, err := sh.Wrap(ctx, "db", sql, func(ctx context.Context) (model.Rows, error) { return pp.QueryArc(ctx, "db", sql) })
		if err != nil {
			t.Fatal(err)
		}
		n := drain(t, rows)
		sh.Wait()
		return n
	}
	for _, q := range shadowQueries {
		run(sh, q)
	}
	if got := gaugeValue(t, sh.m.reads.WithLabelValues(shadowMatch)); got != 3 {
		t.Fatalf("matches = %v, want 3; log:\n%s", got, logs.String())
	}

	// The secondary misses a row now.
	writeLines(t, prim, "db", 40, 1)
	if n := run(sh, shadowQueries[0]); n != 41 {
		t.Fatalf("client got %d rows, want the primary's 41", n)
	}
	if got := gaugeValue(t, sh.m.reads.WithLabelValues(shadowMismatch)); got != 1 {
		t.Fatalf("mismatches = %v, want 1", got)
	}
	l := logs.String()
	for _, want := range []string{"shadow read mismatch", "query=\"SELECT time, host, usage FROM cpu ORDER BY time\"", "secondary_query=", "row count differs: want 41, got 40"} {
		if !strings.Contains(l, want) {
			t.Errorf("mismatch log lacks %q:\n%s", want, l)
		}
	}

	// Past the tee bound: the client still gets every row, no comparison.
	small := newShadow(func() (*query.Pipeline, func()) { return sp, nil }, 1, withShadowMaxRows(10))
	if n := run(small, shadowQueries[0]); n != 41 {
		t.Fatalf("client got %d rows past the tee bound, want 41", n)
	}
	if got := gaugeValue(t, small.m.reads.WithLabelValues(shadowSkipped)); got != 1 {
		t.Fatalf("skipped = %v, want 1", got)
	}

	// A translated secondary (InfluxQL, here on a closed port): a query
	// its translator refuses counts refused, one it translates but
	// cannot run counts error.
	ib, err := registry.Open(ctx, "influxql://127.0.0.1:1/db")
	if err != nil {
		t.Fatal(err)
	}
	ip := query.New(ib)
	tr := newShadow(func() (*query.Pipeline, func()) { return ip, nil }, 1, withShadowTimeout(5*time.Second))
	run(tr, "SELECT a.host FROM cpu a JOIN cpu b ON a.time = b.time")
	run(tr, shadowQueries[2])
	if r, e := gaugeValue(t, tr.m.reads.WithLabelValues(shadowRefused)), gaugeValue(t, tr.m.reads.WithLabelValues(shadowError)); r != 1 || e != 1 {
		t.Fatalf("refused = %v, error = %v, want 1 and 1", r, e)
	}

	// A fraction of 0 shadows nothing.
	none := newShadow(func() (*query.Pipeline, func()) { return sp, nil }, 0)
	run(none, shadowQueries[1])
	for _, r := range []string{shadowMatch, shadowMismatch, shadowError, shadowRefused, shadowSkipped} {
		if gaugeValue(t, none.m.reads.WithLabelValues(r)) != 0 {
			t.Fatalf("fraction 0 shadowed a query (%s)", r)
		}
	}
}
