package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckLoopback(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8000", true},
		{"http://localhost:8000/", true},
		{"http://[::1]:8000", true},
		{"http://10.0.0.1:8000", false},
		{"http://example.com:8000", false},
		{"https://127.0.0.1:8000", false},
		{"http://127.0.0.1", false}, // no port
	} {
		if err := checkLoopback(tc.url); (err == nil) != tc.ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}

func TestReport(t *testing.T) {
	r := newResults([]*side{{name: "tsgate"}, {name: "Arc"}})
	for _, v := range []float64{100, 300, 200} {
		r.add("tsgate", "msgpack.rps", v)
	}
	for _, v := range []float64{400, 100} {
		r.add("Arc", "msgpack.rps", v)
		r.add("Arc", "msgpack.rps+flush", v/2)
		r.add("tsgate", "msgpack.rps+flush", v/4)
	}
	r.add("tsgate", "cold", 50)
	r.add("Arc", "cold", 100)
	r.add("tsgate", "q.limit.p50", 3)
	r.add("Arc", "q.limit.p50", 12)
	loads := []workload{{key: "msgpack", title: "msgpack"}}
	var b bytes.Buffer
	r.print(&b, loads, options{rounds: 3})
	lines := strings.Split(b.String(), "\n")
	var got []string
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 0 && !strings.HasPrefix(l, "rows/s:") && !strings.HasPrefix(l, "(ingest") {
			got = append(got, strings.Join(f, " "))
		}
	}
	want := []string{
		"measure tsgate Arc tsgate/Arc",
		"msgpack 200 rows/s 250 rows/s 0.80",
		"… with the flush route's time counted 63 rows/s 125 rows/s 0.50",
		"newest 100 rows (ORDER BY time DESC LIMIT 100), p50 3.0 ms 12.0 ms 0.25",
		"cold start to healthy /health (empty data dir) 50.0 ms 100.0 ms 0.50",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("report (-want +got):\n%s", d)
	}
	if c := string(r.chart(loads)); !strings.Contains(c, "<svg") || !strings.Contains(c, "200 rows/s") {
		t.Errorf("chart lacks the bars: %s", c)
	}
}
