package conformance

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
)

// WriteText writes the score lines, then every failure with its queries
// and difference.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "conformance: %d cases, reference = %s\n\n", r.Total, r.Backends[0].Name)
	for _, b := range r.Backends {
		fmt.Fprintln(w, b.ScoreLine(r.Total))
	}
	sqlOf := map[string]string{}
	for _, c := range r.Cases {
		sqlOf[c.Name] = c.SQL
	}
	first := true
	for _, b := range r.Backends {
		for _, cr := range b.Results {
			if cr.Outcome != Fail && cr.Outcome != RefusedUndeclared && cr.Outcome != Error {
				continue
			}
			if first {
				fmt.Fprintf(w, "\nFAILURES\n")
				first = false
			}
			fmt.Fprintf(w, "\n[%s] %s: %s\n  query:         %s\n", b.Name, cr.Case, cr.Outcome, oneLine(sqlOf[cr.Case]))
			if cr.Query != "" {
				fmt.Fprintf(w, "  backend query: %s\n", oneLine(cr.Query))
			}
			fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(cr.Detail, "\n", "\n  "))
		}
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// WriteJSON writes the whole report.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

var htmlPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tsgate conformance</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}
th{position:sticky;top:0;background:#f4f4f4}
.pass{background:#cfeccf}.fail{background:#f4a0a0}.refused{background:#e8e8e8}
.refused-undeclared,.error{background:#f7d08a}.differs{background:#d8e4f7}
td.case{font-family:monospace;white-space:nowrap}
</style></head><body>
<h1>tsgate conformance</h1>
<p>{{.Total}} cases · started {{.Started.Format "2006-01-02 15:04:05 MST"}} · reference: {{(index .Backends 0).Name}}</p>
<ul>{{range .Lines}}<li>{{.}}</li>{{end}}</ul>
<table><tr><th>case</th>{{range .Backends}}<th>{{.Name}}</th>{{end}}</tr>
{{range .Rows}}<tr><td class="case" title="{{.SQL}}">{{.Name}}</td>{{range .Cells}}<td class="{{.Outcome}}" title="{{.Title}}">{{.Outcome}}</td>{{end}}</tr>
{{end}}</table></body></html>
`))

// WriteHTML writes one self-contained page: score lines and the
// case × backend matrix, each cell's title holding the backend query and
// the difference.
func (r *Report) WriteHTML(w io.Writer) error {
	type cell struct{ Outcome, Title string }
	type row struct {
		Name, SQL string
		Cells     []cell
	}
	data := struct {
		*Report
		Lines []string
		Rows  []row
	}{Report: r}
	for _, b := range r.Backends {
		data.Lines = append(data.Lines, b.ScoreLine(r.Total))
	}
	for i, c := range r.Cases {
		rw := row{Name: c.Name, SQL: c.SQL}
		for _, b := range r.Backends {
			cr := b.Results[i]
			rw.Cells = append(rw.Cells, cell{Outcome: cr.Outcome.String(), Title: strings.TrimSpace(cr.Query + "\n" + cr.Detail)})
		}
		data.Rows = append(data.Rows, rw)
	}
	return htmlPage.Execute(w, data)
}

// Baseline is the committed floor each backend's score must keep.
type Baseline map[string]struct {
	MinPassed int `json:"min_passed"`
	MaxFailed int `json:"max_failed"`
}

// ParseBaseline reads baseline.json.
func ParseBaseline(data []byte) (Baseline, error) {
	var b Baseline
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	return b, nil
}

// Regressions lists every backend below its baseline. A backend without a
// baseline entry is held to no failures at all.
func (r *Report) Regressions(b Baseline) []string {
	var out []string
	for _, br := range r.Backends {
		want, ok := b[br.Name]
		if !ok {
			if br.Failed() > 0 {
				out = append(out, fmt.Sprintf("%s: %d failures and no baseline", br.Name, br.Failed()))
			}
			continue
		}
		if br.Passed() < want.MinPassed {
			out = append(out, fmt.Sprintf("%s: %d passed, baseline %d", br.Name, br.Passed(), want.MinPassed))
		}
		if br.Failed() > want.MaxFailed {
			out = append(out, fmt.Sprintf("%s: %d failed (wrong results, undeclared refusals, errors), baseline allows %d", br.Name, br.Failed(), want.MaxFailed))
		}
	}
	sort.Strings(out)
	return out
}
