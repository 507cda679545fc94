package main

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// results holds every sample per side and metric key.
type results struct {
	sides   []string
	samples map[string]map[string][]float64 // side → key → samples
}

func newResults(sides []*side) *results {
	r := &results{samples: map[string]map[string][]float64{}}
	for _, s := range sides {
		r.sides = append(r.sides, s.name)
		r.samples[s.name] = map[string][]float64{}
	}
	return r
}

func (r *results) add(side, key string, v float64) {
	r.samples[side][key] = append(r.samples[side][key], v)
}

// median of side's samples for key; NaN when there are none.
func (r *results) median(side, key string) float64 {
	s := slices.Clone(r.samples[side][key])
	if len(s) == 0 {
		return math.NaN()
	}
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// row is one line of the report.
type row struct {
	title, key, unit string
	label            string // the chart's, when not title
	lowerBetter      bool
	chart            bool // drawn in the chart
}

func rows(loads []workload) []row {
	var out []row
	for _, l := range loads {
		out = append(out,
			row{title: l.title, key: l.key + ".rps", unit: "rows/s", chart: true},
			row{title: "  … with the flush route's time counted", key: l.key + ".rps+flush", unit: "rows/s"},
			row{title: "  … request p50", label: l.key + " request p50", key: l.key + ".p50", unit: "ms", lowerBetter: true, chart: true},
			row{title: "  … request p99", key: l.key + ".p99", unit: "ms", lowerBetter: true})
	}
	for _, q := range queryLoads {
		out = append(out, row{title: q.title + ", p50", label: q.key + " p50", key: q.key + ".p50", unit: "ms", lowerBetter: true, chart: true})
	}
	return append(out,
		row{title: "cold start to healthy /health (empty data dir)", key: "cold", unit: "ms", lowerBetter: true, chart: true},
		row{title: "  … to a 200 from /ready", label: "cold start to /ready", key: "ready", unit: "ms", lowerBetter: true, chart: true},
		row{title: "idle RSS (fresh process)", key: "rss", unit: "MB", lowerBetter: true, chart: true},
		row{title: "  … anonymous (heap, engines)", key: "rss.anon", unit: "MB", lowerBetter: true},
		row{title: "  … file-backed (the binary's mapped pages)", key: "rss.file", unit: "MB", lowerBetter: true},
		row{title: "disk per row after ingest", key: "disk", unit: "B", lowerBetter: true, chart: true})
}

func fmtNum(v float64, unit string) string {
	if math.IsNaN(v) {
		return "–"
	}
	switch unit {
	case "rows/s":
		return groupThousands(int64(math.Round(v))) + " rows/s"
	case "ms":
		return fmt.Sprintf("%.1f ms", v)
	case "MB":
		return fmt.Sprintf("%.1f MB", v)
	case "B":
		return fmt.Sprintf("%.2f B", v)
	}
	return fmt.Sprint(v)
}

func groupThousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (r *results) value(side string, rw row) float64 {
	if _, ok := r.samples[side]; !ok {
		return math.NaN()
	}
	return r.median(side, rw.key)
}

// has reports whether any side measured rw.
func (r *results) has(rw row) bool {
	for _, s := range r.sides {
		if !math.IsNaN(r.value(s, rw)) {
			return true
		}
	}
	return false
}

func (r *results) print(w io.Writer, loads []workload, o options) {
	fmt.Fprintf(w, "arccompare %s, %d rounds (medians), GOMAXPROCS %d, %s\n", time.Now().UTC().Format(time.RFC3339), o.rounds, runtime.GOMAXPROCS(0), strings.Join(o.tsgateEnv, " "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "measure\t"
	for _, s := range r.sides {
		head += s + "\t"
	}
	if len(r.sides) == 2 {
		head += "tsgate/Arc\t"
	}
	fmt.Fprintln(tw, head)
	for _, rw := range rows(loads) {
		if !r.has(rw) {
			continue
		}
		vals := make([]float64, len(r.sides))
		for i, s := range r.sides {
			vals[i] = r.value(s, rw)
		}
		line := rw.title + "\t"
		for _, v := range vals {
			line += fmtNum(v, rw.unit) + "\t"
		}
		if len(vals) == 2 {
			ratio := "–"
			if !math.IsNaN(vals[0]) && !math.IsNaN(vals[1]) && vals[1] != 0 {
				ratio = fmt.Sprintf("%.2f", vals[0]/vals[1])
			}
			line += ratio + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	fmt.Fprintln(w, "rows/s: higher is better; ms, MB, B: lower is better. Arc acknowledges ingest on its buffer; tsgate once rows are in DuckDB's WAL")
	fmt.Fprintln(w, "(ingest.durability=wal, the default) or on its buffer (buffer). \"with the flush\" ends each run with POST /api/v1/write/line-protocol/flush.")
}

// chart is an HTML page with one inline-SVG bar pair per charted measure.
func (r *results) chart(loads []workload) []byte {
	var b bytes.Buffer
	colors := []string{"#2b6cb0", "#dd6b20"}
	b.WriteString(`<!doctype html><meta charset="utf-8"><title>tsgate vs Arc</title>
<style>body{font:14px sans-serif;margin:2em}svg text{font:12px sans-serif}</style>
<h1>tsgate vs Arc (medians)</h1><p>`)
	for i, s := range r.sides {
		fmt.Fprintf(&b, `<span style="color:%s">■</span> %s &nbsp; `, colors[i%2], html.EscapeString(s))
	}
	b.WriteString("</p>\n")
	const width, barH, labelW = 520.0, 18, 360
	var charted []row
	for _, rw := range rows(loads) {
		if rw.chart && r.has(rw) {
			charted = append(charted, rw)
		}
	}
	h := len(charted) * (len(r.sides)*barH + 24)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d">`+"\n", int(labelW+width+160), h+10)
	y := 10
	for _, rw := range charted {
		vals := make([]float64, len(r.sides))
		top := 0.0
		for i, s := range r.sides {
			vals[i] = r.value(s, rw)
			if !math.IsNaN(vals[i]) {
				top = math.Max(top, vals[i])
			}
		}
		better := "higher is better"
		if rw.lowerBetter {
			better = "lower is better"
		}
		fmt.Fprintf(&b, `<text x="0" y="%d">%s (%s)</text>`+"\n", y+barH-4, html.EscapeString(cmpLabel(rw)+", "+rw.unit), better)
		for i, v := range vals {
			w := 0.0
			if top > 0 && !math.IsNaN(v) {
				w = v / top * width
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/><text x="%.1f" y="%d">%s</text>`+"\n",
				labelW, y, w, barH-2, colors[i%2], float64(labelW)+w+4, y+barH-5, html.EscapeString(fmtNum(v, rw.unit)))
			y += barH
		}
		y += 24
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func cmpLabel(rw row) string {
	if rw.label != "" {
		return rw.label
	}
	return rw.title
}
