package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"tsgate/auth"
	"tsgate/conformance"
	"tsgate/dialects/duckdb"
	"tsgate/dialects/duckdb/duckdbtest"
	"tsgate/dialects/registry"
)

// consoleData writes what the console tests look at: three hosts' cpu in
// tsdb, and memtrace's storage (admin-only) holding a row.
func consoleData(t *testing.T, ts *testServer) {
	t.Helper()
	var lp strings.Builder
	for i := range 90 {
		fmt.Fprintf(&lp, "cpu,host=h%d usage=%d %d\n", i%3, 10+i%7*5+i/3, 1764115200+(i/3)*60)
	}
	ts.writeSec(t, "tsdb", lp.String())
	ts.writeSec(t, "memory", "events,org_id=o content=\"secret\" 1764115200\n")
}

// writeConformanceReport runs three conformance cases on the embedded
// reference and the translated embedded store and writes the JSON report
// where the console looks for it, as `tsgate conformance --report json
// --out` would.
func writeConformanceReport(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cases := "-- name: count-all\nSELECT count(*) AS n FROM cpu\n\n" +
		"-- name: max-by-host\nSELECT hostname, max(usage_user) AS m FROM cpu GROUP BY hostname ORDER BY hostname\n\n" +
		"-- name: first-rows\nSELECT time, hostname, usage_idle FROM cpu ORDER BY time, hostname LIMIT 5\n"
	if err := os.WriteFile(filepath.Join(dir, "c.test"), []byte(cases), 0o600); err != nil {
		t.Fatal(err)
	}
	cs, err := conformance.ParseCases(os.DirFS(dir), ".")
	if err != nil {
		t.Fatal(err)
	}
	base := conformance.DefaultBase(time.Now())
	if cs, err = conformance.Expand(cs, base); err != nil {
		t.Fatal(err)
	}
	var targets []*conformance.Target
	for _, name := range []string{"duckdb", "duckdb-translated"} {
		s := duckdbtest.Open(t, filepath.Join(t.TempDir(), name+".duckdb"))
		targets = append(targets, &conformance.Target{Name: name, Backend: duckdb.NewBackend(s), Reference: name == "duckdb"})
	}
	rep, err := conformance.Run(ctx, conformance.NewDataset(1, base), cs, targets, conformance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := rep.WriteJSON(f); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleAPI: the page is public and locked down (CSP, no sniffing);
// translations need read permission, go through the guard (no reading
// memtrace's storage with a read token, no statements), cover every
// generator of the registry and run nothing on the backend; the
// conformance route answers the baseline and the last report.
func TestConsoleAPI(t *testing.T) {
	ts := startGateway(t, nil)
	consoleData(t, ts)
	reader, _, err := ts.gateway.tokens.Create("reader", "", []auth.Permission{auth.Read})
	if err != nil {
		t.Fatal(err)
	}
	writer, _, err := ts.gateway.tokens.Create("writer", "", []auth.Permission{auth.Write})
	if err != nil {
		t.Fatal(err)
	}
	code, body, hdr := ts.do(t, req{method: "GET", path: "/ui/", header: map[string]string{"Authorization": ""}})
	if code != 200 || !strings.Contains(body, `<script src="app.js"`) || !strings.Contains(hdr.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("GET /ui/: %d, CSP %q", code, hdr.Get("Content-Security-Policy"))
	}
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Error("the page refers to another origin")
	}

	type result struct {
		Backend      string `json:"backend"`
		AsWritten    bool   `json:"as_written"`
		Translations []struct {
			Target  string `json:"target"`
			Live    bool   `json:"live"`
			Outcome string `json:"outcome"`
			Text    string `json:"text"`
			Steps   []string
			Error   *struct {
				SQLState string `json:"sqlstate"`
			} `json:"error"`
		} `json:"translations"`
	}
	translate := func(token, db, sql string) (int, result, string) {
		b, _ := json.Marshal(map[string]string{"sql": sql, "database": db})
		code, body, _ := ts.do(t, req{path: "/api/v1/ui/translate", body: b, header: map[string]string{"Authorization": "Bearer " + token}})
		var r result
		if code == 200 {
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
		}
		return code, r, body
	}
	queriesBefore := metricValue(t, ts, "tsgate_query_duration_seconds_count")
	code, r, body := translate(reader, "tsdb", "SELECT host, last(usage ORDER BY time) AS a FROM cpu GROUP BY host ORDER BY host")
	if code != 200 {
		t.Fatalf("translate: %d %s", code, body)
	}
	var targets []string
	outcome := map[string]string{}
	for _, tr := range r.Translations {
		targets = append(targets, tr.Target)
		outcome[tr.Target] = tr.Outcome
		if tr.Live != (tr.Target == "duckdb") {
			t.Errorf("%s: live %v on the embedded store", tr.Target, tr.Live)
		}
	}
	if d := cmp.Diff(registry.GeneratorNames(), targets); d != "" {
		t.Errorf("targets (-registry +console):\n%s", d)
	}
	// PostgreSQL has no last(): a refusal, shown beside the others'
	// translations.
	if outcome["postgres"] != "refused" || outcome["duckdb"] != "translated" || outcome["timescaledb"] != "translated" || r.Backend != "duckdb" || !r.AsWritten {
		t.Errorf("outcomes %v, backend %s as written %v", outcome, r.Backend, r.AsWritten)
	}
	if after := metricValue(t, ts, "tsgate_query_duration_seconds_count"); after != queriesBefore {
		t.Errorf("translating ran %v queries", after-queriesBefore)
	}

	for _, c := range []struct {
		name, token, db, sql string
		code                 int
	}{
		{"no token", "", "tsdb", "SELECT 1", 401},
		{"write-only token", writer, "tsdb", "SELECT 1", 403},
		{"memtrace's storage with a read token", reader, "memory", "SELECT content FROM events", 403},
		{"qualified memtrace storage", reader, "tsdb", "SELECT content FROM memory.events", 403},
		{"a statement", reader, "tsdb", "DROP TABLE cpu", 400},
		{"a file", reader, "tsdb", "SELECT * FROM read_csv('/etc/passwd')", 400},
		{"empty", reader, "tsdb", "", 400},
	} {
		if code, _, body := translate(c.token, c.db, c.sql); code != c.code {
			t.Errorf("%s: %d %s, want %d", c.name, code, body, c.code)
		}
	}
	if code, _, body := translate(adminToken, "memory", "SELECT content FROM events"); code != 200 {
		t.Errorf("admin translating memtrace's storage: %d %s", code, body)
	}
	if code, body, _ := ts.do(t, arcQuery("SELECT count(*) AS n FROM cpu", "x-arc-database", "tsdb")); code != 200 || !strings.Contains(body, "[[90]]") {
		t.Errorf("after the statements: %d %s", code, body)
	}

	conf := func() map[string]json.RawMessage {
		code, body, _ := ts.do(t, req{method: "GET", path: "/api/v1/ui/conformance", header: map[string]string{"Authorization": "Bearer " + reader}})
		if code != 200 {
			t.Fatalf("conformance: %d %s", code, body)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := conf()
	var baseline map[string]conformance.Baseline
	if !strings.Contains(string(m["baseline"]), `"influxql"`) || m["report"] != nil {
		t.Errorf("without a report: %s", m)
	}
	_ = baseline
	path := filepath.Join(ts.gateway.cfg.DataDir, "conformance.json")
	if err := os.WriteFile(path, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if m := conf(); m["report_error"] == nil || m["report"] != nil {
		t.Errorf("a broken report: %s", m)
	}
	writeConformanceReport(t, path)
	var rep struct {
		Total    int `json:"total"`
		Backends []struct {
			Name    string         `json:"name"`
			Counts  map[string]int `json:"counts"`
			Results []struct {
				Case, Outcome string
			} `json:"results"`
		} `json:"backends"`
	}
	if err := json.Unmarshal(conf()["report"], &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Total != 3 || len(rep.Backends) != 2 || rep.Backends[1].Counts["pass"] != 3 || len(rep.Backends[1].Results) != 3 {
		t.Errorf("report %+v", rep)
	}
}

// metricValue is a counter's (or histogram count's) total in /metrics.
func metricValue(t *testing.T, ts *testServer, name string) float64 {
	t.Helper()
	_, body, _ := ts.do(t, req{method: "GET", path: "/metrics"})
	var total float64
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		var v float64
		fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
		total += v
	}
	return total
}

// chromium is Debian's headless browser (scripts/clients.sh installs it).
func chromium(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: chromium is not installed; run scripts/test.sh")
		}
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	return p
}

// TestConsoleInBrowser drives the console in a real headless Chromium: a
// wrong token is refused; with the admin token a query's rows fill the
// table and its time chart draws one line per host; the translations of
// every backend appear side by side with the refusals; the conformance
// tab shows the baseline and the last report's matrix; the metrics tab
// shows live rates. The page loads nothing from another origin and logs
// no error (a CSP violation would be one). Screenshots go to the test's
// artifact directory (go test -artifacts keeps them).
func TestConsoleInBrowser(t *testing.T) {
	exe := chromium(t)
	ts := startGateway(t, nil)
	consoleData(t, ts)
	writeConformanceReport(t, filepath.Join(ts.gateway.cfg.DataDir, "conformance.json"))

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.WindowSize(1400, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()

	// What the page reports while the test drives it: exceptions,
	// console errors, log errors (a CSP violation is one), requests to
	// another origin.
	var (
		mu       sync.Mutex
		problems []string
		foreign  []string
	)
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			what := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				what += " " + e.ExceptionDetails.Exception.Description
			}
			problems = append(problems, "exception: "+what)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				problems = append(problems, "console."+string(e.Type))
			}
		case *log.EventEntryAdded:
			// The 401s the test provokes are network entries; anything
			// else at error level is a problem.
			if e.Entry.Level == log.EntryLevelError && e.Entry.Source != log.EntrySourceNetwork {
				problems = append(problems, "log: "+e.Entry.Text)
			}
		case *network.EventRequestWillBeSent:
			if !strings.HasPrefix(e.Request.URL, ts.base) {
				foreign = append(foreign, e.Request.URL)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every step below gets at most this long.
	step := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 30*time.Second) }
	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := step()
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		sctx, cancel := step()
		defer cancel()
		v, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	eval := func(js string, out any) {
		t.Helper()
		sctx, cancel := step()
		defer cancel()
		raw, err := chromedp.Run(sctx, chromedp.Evaluate[[]byte](js))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
	}
	shot := func(name string) {
		t.Helper()
		sctx, cancel := step()
		defer cancel()
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.ArtifactDir(), name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s (%d bytes)", p, len(png))
	}

	do(chromedp.Navigate(ts.base+"/ui/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SetValue(chromedp.ID("token"), "wrong-token-0123456789"),
		chromedp.Click(chromedp.ID("use-token")),
		chromedp.WaitVisible(chromedp.CSS(`#who[data-valid="false"]`)))
	if who := text("#who"); who != "token not accepted" {
		t.Errorf("wrong token: %q", who)
	}

	do(chromedp.SetValue(chromedp.ID("token"), adminToken),
		chromedp.Click(chromedp.ID("use-token")),
		chromedp.WaitVisible(chromedp.CSS(`#who[data-valid="true"]`)),
		chromedp.SetValue(chromedp.ID("database"), "tsdb"),
		chromedp.SetValue(chromedp.ID("sql"), "SELECT time, host, usage FROM cpu ORDER BY time, host"),
		chromedp.Click(chromedp.ID("run")),
		chromedp.WaitVisible(chromedp.CSS(`#query-status[data-rows]`)),
		chromedp.WaitVisible(chromedp.CSS(`#chart svg polyline.series`)))
	who, status := text("#who"), text("#query-status")
	var series []string
	var tableRows int
	eval(`[...document.querySelectorAll("#chart polyline.series")].map(p => p.dataset.series + ":" + p.getAttribute("points").split(" ").length)`, &series)
	eval(`document.querySelectorAll("#result tbody tr").length`, &tableRows)
	shot("console-query.png")
	if who != "admin: read, write, delete, admin" || !strings.HasPrefix(status, "90 rows in ") || tableRows != 90 {
		t.Errorf("who %q, status %q, table %d rows", who, status, tableRows)
	}
	if d := cmp.Diff([]string{"h0:30", "h1:30", "h2:30"}, series); d != "" {
		t.Errorf("chart lines (-want +got):\n%s", d)
	}

	// A query some backends cannot express: the translations tab shows
	// every target, PostgreSQL's refusal among them.
	do(chromedp.SetValue(chromedp.ID("sql"), "SELECT host, last(usage ORDER BY time) AS a FROM cpu GROUP BY host ORDER BY host"),
		chromedp.Click(chromedp.ID("run")),
		chromedp.Click(chromedp.CSS(`#tabs button[data-tab="translations"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.card[data-target="postgres"][data-outcome="refused"]`)))
	var cards map[string]string
	eval(`Object.fromEntries([...document.querySelectorAll(".card")].map(c => [c.dataset.target, c.dataset.outcome]))`, &cards)
	shot("console-translations.png")
	if len(cards) != len(registry.GeneratorNames()) || cards["duckdb"] != "translated" || cards["clickhouse"] != "translated" || cards["postgres"] != "refused" {
		t.Errorf("translation cards %v", cards)
	}

	do(chromedp.Click(chromedp.CSS(`#tabs button[data-tab="conformance"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#matrix tbody tr`)))
	var baseline, matrix []string
	eval(`[...document.querySelectorAll("#baseline tbody tr")].map(r => r.dataset.backend)`, &baseline)
	eval(`[...document.querySelectorAll("#matrix tbody tr")].map(r => [...r.cells].map(c => c.textContent).join(" "))`, &matrix)
	shot("console-conformance.png")
	if !slices.Contains(baseline, "postgres") || !slices.Contains(baseline, "influxql") {
		t.Errorf("baseline rows %v", baseline)
	}
	if d := cmp.Diff([]string{"c/count-all pass pass", "c/max-by-host pass pass", "c/first-rows pass pass"}, matrix); d != "" {
		t.Errorf("matrix (-want +got):\n%s", d)
	}

	do(chromedp.Click(chromedp.CSS(`#tabs button[data-tab="metrics"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#rate-chart svg polyline.series`)))
	rate := text(`.metric[data-metric="requests/s"] .value`)
	shot("console-metrics.png")
	if rate == "…" || rate == "" {
		t.Errorf("requests/s %q", rate)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("the page reported problems: %v", problems)
	}
	if len(foreign) > 0 {
		t.Errorf("the page requested other origins: %v", foreign)
	}
}
