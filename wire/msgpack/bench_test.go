package msgpack

import (
	"fmt"
	"testing"

	"tsgate/model"
)

// columnarCPU builds a Telegraf-style columnar payload: ms time, 3 string
// columns, 10 float columns.
func columnarCPU(tb testing.TB, n int) []byte {
	cols := omap{}
	times := make([]any, n)
	host, region, dc := make([]any, n), make([]any, n), make([]any, n)
	for k := range n {
		times[k] = sec*1000 + int64(k)*10
		host[k] = fmt.Sprintf("host_%d", k%100)
		region[k] = "us-east-1"
		dc[k] = fmt.Sprintf("us-east-1%c", 'a'+byte(k%3))
	}
	cols = append(cols, kv{"time", times}, kv{"hostname", host}, kv{"region", region}, kv{"datacenter", dc})
	for j := range 10 {
		vals := make([]any, n)
		for k := range n {
			vals[k] = float64((k*7+j*13)%100) + float64((k+j)%100)/100
		}
		cols = append(cols, kv{fmt.Sprintf("usage_%d", j), vals})
	}
	return enc(tb, omap{{"m", "cpu"}, {"columns", cols}})
}

func BenchmarkDecodeColumnar(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		data := columnarCPU(b, n)
		b.Run(fmt.Sprintf("cpu-%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var batch model.Batch
				if err := Decode(data, now, &batch); err != nil {
					b.Fatal(err)
				}
				if batch.Rows() != n {
					b.Fatalf("%d rows", batch.Rows())
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
