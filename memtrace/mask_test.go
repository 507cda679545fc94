package memtrace

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMaskURL: a chosen password never shows; a long generated token
// keeps only its ends, as memtrace shows API keys.
func TestMaskURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u:s3cretpass@db:5432/x", "postgres://u:**********@db:5432/x"},
		{"arc://h:8000/db?token=short", "arc://h:8000/db?token=*****"},
		{"arc://h:8000/db?token=0123456789abcdef0123456789abcdef", "arc://h:8000/db?token=0123************************cdef"},
		{"influxql://h:8086/db?u=me&p=hunter2", "influxql://h:8086/db?p=*******&u=me"},
		{"clickhouse://h:8123/db", "clickhouse://h:8123/db"},
		{"::", "(unparseable URL)"},
	} {
		if d := cmp.Diff(c.want, MaskURL(c.in)); d != "" {
			t.Errorf("MaskURL(%q) (-want +got):\n%s", c.in, d)
		}
	}
}
