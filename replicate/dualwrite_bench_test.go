package replicate

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"tsgate/dialects"
	"tsgate/dialects/duckdb"
	"tsgate/dialects/duckdb/duckdbtest"
	"tsgate/errs"
	"tsgate/model"
)

func benchBatch(i, rows int) *model.Batch {
	var b model.Batch
	tb := b.Table("cpu")
	for r := range rows {
		n := int64(i*rows + r)
		tb.AppendRow(1_700_000_000_000_000+n, []model.Cell{
			{Name: "host", Tag: true, Value: model.String(fmt.Sprintf("h%d", r%8))},
			{Name: "usage", Value: model.Float(float64(n) * 0.25)},
			{Name: "n", Value: model.Int(n)},
		})
	}
	return &b
}

// BenchmarkDualWrite is write throughput through the primary alone and
// through the DualWriter (primary write, then the batch fsync'd to the
// queue; the secondary, another embedded store, is fed in the
// background), and queue-only (the secondary down: encoding and fsync
// alone). Rows/s is per client write path.
func BenchmarkDualWrite(b *testing.B) {
	for _, rows := range []int{1, 1000} {
		for _, mode := range []string{"primary-only", "dual-write", "queue-only"} {
			b.Run(fmt.Sprintf("%s/rows=%d", mode, rows), func(b *testing.B) {
				ctx := context.Background()
				prim := duckdb.NewBackend(duckdbtest.Open(b, filepath.Join(b.TempDir(), "tsgate.duckdb")))
				defer prim.Close()
				var w dialects.Backend = prim
				if mode == "queue-only" {
					// The secondary is down: the cost of encoding and
					// fsyncing the queue alone, without the background
					// replay competing for the CPU and disk.
					down := func(context.Context) (dialects.Backend, error) { return nil, errs.New(errs.Unavailable, "down") }
					dw, err := NewDualWriter(prim, down, b.TempDir(), 0, WithBackoff(time.Hour, time.Hour))
					if err != nil {
						b.Fatal(err)
					}
					defer dw.Stop()
					w = dw
				}
				if mode == "dual-write" {
					sec := duckdb.NewBackend(duckdbtest.Open(b, filepath.Join(b.TempDir(), "tsgate.duckdb")))
					defer sec.Close()
					dw, err := NewDualWriter(prim, func(context.Context) (dialects.Backend, error) { return sec, nil }, b.TempDir(), 0)
					if err != nil {
						b.Fatal(err)
					}
					defer dw.Stop()
					w = dw
				}
				batches := make([]*model.Batch, b.N)
				for i := range batches {
					batches[i] = benchBatch(i, rows)
				}
				b.ResetTimer()
				start := time.Now()
				for i := range b.N {
					if _, err := w.Write(ctx, "bench", batches[i]); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*rows)/time.Since(start).Seconds(), "rows/s")
			})
		}
	}
}
