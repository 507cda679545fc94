package bench

import (
	"fmt"
	"strings"

	"github.com/vmihailenco/msgpack/v5"
)

// The ingest workload both the in-process benchmarks and bench/arccompare
// send: TSBS-like cpu rows, Hosts hosts, one row per second from
// 2025-11-26T00:00:00Z, three tags and the ten FieldNames floats.
const Hosts = 100

// FieldNames are the workload's float fields, in TSBS's order.
var FieldNames = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

// LineProtocol is n workload rows from row off as line protocol.
func LineProtocol(n, off int) []byte {
	var sb strings.Builder
	for i := range n {
		r := off + i
		fmt.Fprintf(&sb, "cpu,hostname=host_%d,region=eu-west-1,datacenter=eu-west-1a", r%Hosts)
		for j, f := range FieldNames {
			sep := ","
			if j == 0 {
				sep = " "
			}
			fmt.Fprintf(&sb, "%s%s=%d.%d", sep, f, (r+j)%100, j)
		}
		fmt.Fprintf(&sb, " %d\n", (int64(1764115200)+int64(r))*1_000_000_000)
	}
	return []byte(sb.String())
}

// MessagePack is the same rows as Arc's columnar MessagePack (the region
// and datacenter tags left out, as Arc's clients send them).
func MessagePack(n, off int) []byte {
	cols := map[string]any{}
	ts := make([]int64, n)
	host := make([]string, n)
	for i := range n {
		ts[i] = (int64(1764115200) + int64(off+i)) * 1_000_000
		host[i] = fmt.Sprintf("host_%d", (off+i)%Hosts)
	}
	cols["time"], cols["hostname"] = ts, host
	for j, f := range FieldNames {
		v := make([]float64, n)
		for i := range n {
			v[i] = float64((off+i+j)%100) + float64(j)/10
		}
		cols[f] = v
	}
	b, err := msgpack.Marshal(map[string]any{"m": "cpu", "columns": cols})
	if err != nil {
		panic(err) // maps of slices of plain values always marshal
	}
	return b
}
