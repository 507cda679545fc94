package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"tsgate/internal/gatewaytest"
	"tsgate/internal/testenv"
	"tsgate/memtrace"
)

// matcher is one label matcher of a selector.
type matcher struct{ label, op, value string }

// selector is a metric name and its label matchers.
type selector struct {
	metric   string
	matchers []matcher
}

// promExpr is what a dashboard expression reads: its selectors, and the
// labels it groups by (by, without, on, ignoring).
type promExpr struct {
	selectors []selector
	by        []string
}

type token struct {
	kind byte // 'i' identifier, 's' string, 'n' number or duration, 'p' punctuation
	s    string
}

// lexPromQL splits a PromQL expression into tokens. Grafana's interval
// variables become durations first; any other variable must be inside a
// string (a label value).
func lexPromQL(expr string) ([]token, error) {
	for _, v := range []string{"$__rate_interval", "$__interval", "$__range"} {
		expr = strings.ReplaceAll(expr, v, "5m")
	}
	var toks []token
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '_' || c == ':' || c|0x20 >= 'a' && c|0x20 <= 'z':
			j := i + 1
			for j < len(expr) && (expr[j] == '_' || expr[j] == ':' || expr[j]|0x20 >= 'a' && expr[j]|0x20 <= 'z' || expr[j] >= '0' && expr[j] <= '9') {
				j++
			}
			toks = append(toks, token{'i', expr[i:j]})
			i = j
		case c >= '0' && c <= '9' || c == '.':
			j := i + 1
			for j < len(expr) && (expr[j] == '.' || expr[j]|0x20 >= 'a' && expr[j]|0x20 <= 'z' || expr[j] >= '0' && expr[j] <= '9') {
				j++
			}
			toks = append(toks, token{'n', expr[i:j]})
			i = j
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			var b strings.Builder
			for ; j < len(expr) && expr[j] != c; j++ {
				if expr[j] == '\\' && c != '`' && j+1 < len(expr) {
					j++
				}
				b.WriteByte(expr[j])
			}
			if j >= len(expr) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			toks = append(toks, token{'s', b.String()})
			i = j + 1
		default:
			if i+1 < len(expr) {
				if two := expr[i : i+2]; slices.Contains([]string{"=~", "!~", "!=", "==", ">=", "<="}, two) {
					toks = append(toks, token{'p', two})
					i += 2
					continue
				}
			}
			if !strings.ContainsRune("(){}[],+-*/^%=<>@", rune(c)) {
				return nil, fmt.Errorf("unexpected %q at %d", c, i)
			}
			toks = append(toks, token{'p', string(c)})
			i++
		}
	}
	return toks, nil
}

// parsePromQL finds the selectors and grouping labels of a PromQL
// expression. It is not a full parser: it knows which identifiers are
// functions (followed by a parenthesis), keywords or grouping clauses,
// skips range brackets, and reads the rest as metric names.
func parsePromQL(expr string) (promExpr, error) {
	var out promExpr
	toks, err := lexPromQL(expr)
	if err != nil {
		return out, err
	}
	depth := 0
	is := func(i int, s string) bool { return i < len(toks) && toks[i].kind == 'p' && toks[i].s == s }
	for i := 0; i < len(toks); {
		t := toks[i]
		switch {
		case t.kind == 'p' && t.s == "[":
			for i < len(toks) && !is(i, "]") {
				i++
			}
			if i == len(toks) {
				return out, fmt.Errorf("unterminated range")
			}
			i++
		case t.kind == 'p' && t.s == "{":
			return out, fmt.Errorf("selector without a metric name")
		case t.kind == 'p' && (t.s == "(" || t.s == ")"):
			if t.s == "(" {
				depth++
			} else if depth--; depth < 0 {
				return out, fmt.Errorf("unbalanced parentheses")
			}
			i++
		case t.kind == 'i':
			switch strings.ToLower(t.s) {
			case "by", "without", "on", "ignoring", "group_left", "group_right":
				i++
				if !is(i, "(") {
					if strings.HasPrefix(strings.ToLower(t.s), "group_") {
						continue // group_left without labels
					}
					return out, fmt.Errorf("%s without a label list", t.s)
				}
				for i++; i < len(toks) && !is(i, ")"); i++ {
					if toks[i].kind == 'i' {
						out.by = append(out.by, toks[i].s)
					} else if !is(i, ",") {
						return out, fmt.Errorf("%s list: unexpected %q", t.s, toks[i].s)
					}
				}
				if i == len(toks) {
					return out, fmt.Errorf("unterminated %s list", t.s)
				}
				i++
				continue
			case "and", "or", "unless", "bool", "offset", "inf", "nan",
				// Aggregation operators: their grouping clause may come
				// before their parenthesis (sum by (x) (…)).
				"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
				"bottomk", "topk", "quantile", "limitk", "limit_ratio":
				i++
				continue
			}
			if is(i+1, "(") {
				i++ // a function or an aggregation
				continue
			}
			sel := selector{metric: t.s}
			i++
			if is(i, "{") {
				for i++; i < len(toks) && !is(i, "}"); {
					if is(i, ",") {
						i++
						continue
					}
					if i+2 >= len(toks) || toks[i].kind != 'i' || toks[i+1].kind != 'p' || toks[i+2].kind != 's' {
						return out, fmt.Errorf("bad matcher in %s", sel.metric)
					}
					op := toks[i+1].s
					if !slices.Contains([]string{"=", "!=", "=~", "!~"}, op) {
						return out, fmt.Errorf("matcher operator %q", op)
					}
					sel.matchers = append(sel.matchers, matcher{toks[i].s, op, toks[i+2].s})
					i += 3
				}
				if i == len(toks) {
					return out, fmt.Errorf("unterminated selector %s", sel.metric)
				}
				i++
			}
			out.selectors = append(out.selectors, sel)
		default:
			i++
		}
	}
	if depth != 0 {
		return out, fmt.Errorf("unbalanced parentheses")
	}
	return out, nil
}

func TestParsePromQL(t *testing.T) {
	got, err := parsePromQL(`histogram_quantile(0.99, sum by (le, endpoint) (rate(a_bucket{job=~"$job", code!="x|y"}[$__rate_interval]))) / on(instance) group_left b + sum(c) without (z)`)
	if err != nil {
		t.Fatal(err)
	}
	want := promExpr{
		selectors: []selector{{"a_bucket", []matcher{{"job", "=~", "$job"}, {"code", "!=", "x|y"}}}, {"b", nil}, {"c", nil}},
		by:        []string{"le", "endpoint", "instance", "z"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{`{job="x"}`, `rate(a[5m]`, `a{b=}`, `sum by a`, `a{b="c}`} {
		if _, err := parsePromQL(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParsePromQL(f *testing.F) {
	f.Add(`sum by (code) (rate(tsgate_errors_total{code=~"a|b"}[$__rate_interval]))`)
	f.Add(`a / on(x) group_left b offset 5m`)
	f.Fuzz(func(t *testing.T, expr string) {
		p, err := parsePromQL(expr)
		if err != nil {
			return
		}
		for _, s := range p.selectors {
			if s.metric == "" {
				t.Errorf("%q: selector without a name", expr)
			}
		}
	})
}

// panel is the part of a Grafana panel the test reads.
type panel struct {
	ID         int               `json:"id"`
	Type       string            `json:"type"`
	Title      string            `json:"title"`
	GridPos    map[string]int    `json:"gridPos"`
	Datasource map[string]string `json:"datasource"`
	Targets    []struct {
		RefID        string `json:"refId"`
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

// scraped is a /metrics answer: each series name (histograms as their
// _bucket, _sum and _count series) with its label names and values.
type scraped map[string]map[string]map[string]bool

func scrape(t *testing.T, base string) (scraped, map[string]*dto.MetricFamily) {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := scraped{}
	add := func(name string, m *dto.Metric, extra ...string) {
		if out[name] == nil {
			out[name] = map[string]map[string]bool{}
		}
		for _, l := range m.Label {
			if out[name][l.GetName()] == nil {
				out[name][l.GetName()] = map[string]bool{}
			}
			out[name][l.GetName()][l.GetValue()] = true
		}
		for _, e := range extra {
			if out[name][e] == nil {
				out[name][e] = map[string]bool{}
			}
		}
	}
	for name, f := range fams {
		for _, m := range f.Metric {
			switch f.GetType() {
			case dto.MetricType_HISTOGRAM:
				add(name+"_bucket", m, "le")
				add(name+"_sum", m)
				add(name+"_count", m)
			case dto.MetricType_SUMMARY:
				add(name, m, "quantile")
				add(name+"_sum", m)
				add(name+"_count", m)
			default:
				add(name, m)
			}
		}
	}
	return out, fams
}

// targetLabels are added by Prometheus when it scrapes, not by tsgate.
var targetLabels = []string{"job", "instance"}

// TestGrafanaDashboard: the dashboard is well formed, and every series its
// panels plot is in the /metrics of a running gateway — on a real
// PostgreSQL backend with a dual-write secondary, pg wire and memtrace, after
// writes, queries, a refused query on both front ends, permission errors,
// memtrace creates and searches — with the labels the expressions match,
// group and name their legends by, and every label value they match on.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("grafana", "tsgate.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID        string  `json:"uid"`
		Title      string  `json:"title"`
		Schema     int     `json:"schemaVersion"`
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	if dash.UID == "" || dash.Title == "" || dash.Schema < 36 {
		t.Errorf("uid %q title %q schemaVersion %d", dash.UID, dash.Title, dash.Schema)
	}
	vars := map[string]string{}
	for _, v := range dash.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["datasource"] != "datasource" || vars["job"] != "query" || vars["instance"] != "query" {
		t.Errorf("template variables %v: want a Prometheus data source choice, job and instance", vars)
	}
	var all []panel
	for _, p := range dash.Panels {
		all = append(all, p)
		all = append(all, p.Panels...)
	}
	ids := map[int]bool{}
	type exprOf struct {
		panel, ref, expr, legend string
	}
	var exprs []exprOf
	for _, p := range all {
		if ids[p.ID] {
			t.Errorf("panel id %d repeated", p.ID)
		}
		ids[p.ID] = true
		if g := p.GridPos; g["w"] <= 0 || g["h"] <= 0 || g["x"] < 0 || g["x"]+g["w"] > 24 {
			t.Errorf("panel %q: grid position %v", p.Title, g)
		}
		if p.Type == "row" {
			continue
		}
		if !slices.Contains([]string{"timeseries", "stat"}, p.Type) || len(p.Targets) == 0 || p.Datasource["uid"] != "${datasource}" {
			t.Errorf("panel %q: type %s, %d targets, data source %v", p.Title, p.Type, len(p.Targets), p.Datasource)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if refs[tg.RefID] || tg.Expr == "" {
				t.Errorf("panel %q: refId %q repeated or expression empty", p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
			exprs = append(exprs, exprOf{p.Title, tg.RefID, tg.Expr, tg.LegendFormat})
		}
	}

	base := exercisedGateway(t)
	series, fams := scrape(t, base)

	for _, e := range exprs {
		where := fmt.Sprintf("panel %q %s", e.panel, e.ref)
		pe, err := parsePromQL(e.expr)
		if err != nil {
			t.Errorf("%s: %v: %s", where, err, e.expr)
			continue
		}
		if len(pe.selectors) == 0 {
			t.Errorf("%s reads no series: %s", where, e.expr)
		}
		have := map[string]bool{}
		for _, l := range targetLabels {
			have[l] = true
		}
		for _, s := range pe.selectors {
			labels, ok := series[s.metric]
			if !ok {
				t.Errorf("%s: %s is not in /metrics", where, s.metric)
				continue
			}
			for l := range labels {
				have[l] = true
			}
			for _, m := range s.matchers {
				if slices.Contains(targetLabels, m.label) {
					if !strings.Contains(m.value, "$"+m.label) {
						t.Errorf("%s: %s matches %s on %q, not the dashboard's $%s", where, s.metric, m.label, m.value, m.label)
					}
					continue
				}
				values, ok := labels[m.label]
				if !ok {
					t.Errorf("%s: %s has no label %s", where, s.metric, m.label)
					continue
				}
				if m.op == "=" || m.op == "=~" {
					for _, v := range strings.Split(m.value, "|") {
						if !values[v] {
							t.Errorf("%s: %s{%s} never has the value %q (has %v)", where, s.metric, m.label, v, keys(values))
						}
					}
				}
			}
			if !slices.ContainsFunc(targetLabels, func(l string) bool {
				return slices.ContainsFunc(s.matchers, func(m matcher) bool { return m.label == l })
			}) {
				t.Errorf("%s: %s is not filtered by the dashboard's job and instance", where, s.metric)
			}
		}
		for _, l := range pe.by {
			if !have[l] {
				t.Errorf("%s groups by %s, which none of its series has", where, l)
			}
		}
		for _, m := range regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`).FindAllStringSubmatch(e.legend, -1) {
			if l := m[1]; !slices.Contains(pe.by, l) && !slices.Contains(targetLabels, l) && !(len(pe.by) == 0 && have[l]) {
				t.Errorf("%s: legend names {{%s}}, which the expression's result has not", where, l)
			}
		}
	}

	// The exercise reached the series the panels are about.
	for _, c := range []struct {
		metric string
		labels map[string]string
	}{
		{"tsgate_rows_written_total", nil},
		{"tsgate_errors_total", map[string]string{"code": "unsupported"}},
		{"tsgate_errors_total", map[string]string{"code": "permission_denied"}},
		{"tsgate_pgwire_errors_total", map[string]string{"code": "unsupported"}},
		{"tsgate_http_requests_total", map[string]string{"code": "401"}},
		{"memtrace_writes_total", nil},
		{"memtrace_queries_total", map[string]string{"kind": "search"}},
		{"tsgate_dualwrite_replayed_total", nil},
		{"tsgate_shadow_reads_total", nil},
		{"tsgate_backend_write_buffer_capacity_rows", nil},
	} {
		if v := value(fams, c.metric, c.labels); v <= 0 {
			t.Errorf("%s%v = %v after the exercise", c.metric, c.labels, v)
		}
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// value sums a counter's or gauge's series whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
	var sum float64
	for _, m := range f.Metric {
		match := true
		for k, v := range want {
			match = match && slices.ContainsFunc(m.Label, func(l *dto.LabelPair) bool { return l.GetName() == k && l.GetValue() == v })
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		}
	}
	return sum
}

// exercisedGateway runs a gateway on a fresh PostgreSQL database (the
// test server, TSGATE_TEST_POSTGRES_URL) with an embedded dual-write
// secondary and shadow reads, drives every front end through what the
// dashboard plots, and returns its Arc API's base URL.
func exercisedGateway(t *testing.T) string {
	t.Helper()
	pgURL := testenv.PostgresDB(t, "tsgate_dash")

	const token = "dashboard-admin-token-0123456789"
	key := memtrace.NewKey()
	cfg := gatewaytest.Config(t)
	cfg.Memtrace.Listen, cfg.PGWire.Listen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Backend.URL = pgURL
	cfg.Auth.BootstrapToken = token
	cfg.Memtrace.BootstrapKey = key
	cfg.Migration.Secondary = "embedded:" + t.TempDir()
	cfg.Migration.ShadowFraction = 1
	g := gatewaytest.Start(t, cfg)
	base := gatewaytest.ArcBase(g)
	mt := "http://" + g.Addr("memtrace").String()
	call := func(method, target, auth, body string, hdr ...string) int {
		t.Helper()
		req, _ := http.NewRequest(method, target, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(15 * time.Second)
	for call("GET", base+"/ready", "", "") != 200 {
		if time.Now().After(deadline) {
			t.Fatal("gateway never became ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var lp bytes.Buffer
	for i := range 100 {
		fmt.Fprintf(&lp, "cpu,host=h%d usage=%d %d\n", i%4, i, 1764115200+i)
	}
	for _, c := range []struct {
		method, path, auth, body string
		hdr                      []string
		want                     int
	}{
		{"POST", "/write?db=tsdb&precision=s", token, lp.String(), nil, 204},
		{"POST", "/api/v1/query", token, `{"sql":"SELECT host, avg(usage) FROM cpu GROUP BY host"}`, []string{"x-arc-database", "tsdb"}, 200},
		// PostgreSQL has no first(): refused (0A000), never approximated.
		{"POST", "/api/v1/query", token, `{"sql":"SELECT first(usage) FROM cpu"}`, []string{"x-arc-database", "tsdb"}, 400},
		{"POST", "/api/v1/query", "", `{"sql":"SELECT 1"}`, nil, 401},
		{"POST", "/api/v1/query", "not-a-token-0123456789", `{"sql":"SELECT 1"}`, nil, 401},
		// tsgate's internal schema is nobody's.
		{"POST", "/api/v1/query", token, `{"sql":"SELECT * FROM _tsgate.auth_tokens"}`, nil, 403},
	} {
		if got := call(c.method, base+c.path, c.auth, c.body, c.hdr...); got != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, got, c.want)
		}
	}
	host, port, _ := net.SplitHostPort(g.Addr("pgwire").String())
	ctx := t.Context()
	pc, err := pgx.Connect(ctx, fmt.Sprintf("postgres://grafana:%s@%s:%s/tsdb?sslmode=disable", token, host, port))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pc.QueryRow(ctx, "SELECT count(*) FROM cpu").Scan(&n); err != nil || n != 100 {
		t.Errorf("pg wire count: %v %d", err, n)
	}
	if _, err := pc.Exec(ctx, "SELECT first(usage) FROM cpu"); err == nil {
		t.Error("pg wire: first() on PostgreSQL answered")
	}
	pc.Close(ctx)
	if got := call("POST", mt+"/api/v1/memories", key, `{"agent_id":"a1","content":"the dashboard test remembers this"}`); got != 201 {
		t.Errorf("memtrace create: %d", got)
	}
	if got := call("POST", mt+"/api/v1/search", key, `{"agent_id":"a1","limit":5}`); got != 200 {
		t.Errorf("memtrace search: %d", got)
	}
	return base
}
