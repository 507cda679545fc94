package lineprotocol

import (
	"fmt"
	"strings"
	"testing"

	"tsgate/model"
)

var cpuFields = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

// tsbsCPU builds n lines like TSBS's cpu-only data set: 3 tags, 10 float
// fields, nanosecond timestamps, 100 hosts.
func tsbsCPU(n int) []byte {
	var sb strings.Builder
	for k := range n {
		fmt.Fprintf(&sb, "cpu,hostname=host_%d,region=us-east-1,datacenter=us-east-1%c ", k%100, 'a'+byte(k%3))
		for j, name := range cpuFields {
			if j > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "%s=%d.%02d", name, (k*7+j*13)%100, (k+j)%100)
		}
		fmt.Fprintf(&sb, " %d\n", 1_700_000_000_000_000_000+int64(k)*10_000_000_000)
	}
	return []byte(sb.String())
}

func BenchmarkParse(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		data := tsbsCPU(n)
		b.Run(fmt.Sprintf("cpu-%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var batch model.Batch
				if err := Parse(data, Nanosecond, now, &batch); err != nil {
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
