package gateway

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tsgate/dialects/backendkit/kittest"
)

// TestHybridOnInfluxDB: over a real InfluxDB 1.8, a query InfluxQL cannot
// say (CASE inside an aggregate) is answered by a split plan — the raw
// rows pulled, the rest finished in the gateway's DuckDB — with the
// answer the data implies, counted in the hybrid metrics; the same query
// over the pull cap is refused with SQLSTATE 54000 naming the cap.
func TestHybridOnInfluxDB(t *testing.T) {
	raw := kittest.URL(t, "TSGATE_TEST_INFLUX_URL")
	influx := strings.TrimPrefix(raw, "http://")
	db := kittest.DBName("tsgate_hybrid")
	t.Cleanup(func() {
		resp, err := http.PostForm(raw+"/query", url.Values{"q": {"DROP DATABASE " + db}})
		if err == nil {
			resp.Body.Close()
		}
	})
	const n = 50
	const q = "SELECT host, sum(CASE WHEN usage > 10 THEN 1 ELSE 0 END) AS over FROM cpu GROUP BY host ORDER BY host"
	// A lower bound relative to now() is pushed down as an instant (a
	// minute early); the answer must not change.
	const recent = "SELECT host, sum(CASE WHEN usage > 10 THEN 1 ELSE 0 END) AS over FROM cpu WHERE time > now() - INTERVAL '3650 days' AND host = 'h1' GROUP BY host"
	data := func(body string) string {
		i, j := strings.Index(body, `"data":`), strings.Index(body, `,"row_count"`)
		if i < 0 || j < i {
			return body
		}
		return body[i:j]
	}
	// The embedded store's answer is the reference; usage = i on host
	// h(i%3) makes it 13 points over 10 per host.
	ref := startGateway(t, nil)
	ref.write(t, db, 0, n)
	code, body, _ := ref.do(t, arcQuery(q, "x-arc-database", db))
	want := data(body)
	if code != 200 || !strings.Contains(want, `["h0",`) || !strings.Contains(want, "13") {
		t.Fatalf("reference answered %d %s", code, body)
	}
	_, body, _ = ref.do(t, arcQuery(recent, "x-arc-database", db))
	wantRecent := data(body)
	if !strings.Contains(wantRecent, `[["h1",`) {
		t.Fatalf("reference answered %s", body)
	}
	ref.stop()

	ts := startGateway(t, func(c *Config) { c.Backend.URL = "influxql://" + influx + "/" + db })
	ts.write(t, db, 0, n)
	code, body, _ = ts.do(t, arcQuery(q, "x-arc-database", db))
	if code != 200 || data(body) != want {
		t.Fatalf("split plan answered %d %s, want %s", code, body, want)
	}
	if v := ts.metric(t, `tsgate_hybrid_queries_total{backend="influxql"}`); v != 1 {
		t.Errorf("hybrid queries %v, want 1", v)
	}
	if v := ts.metric(t, `tsgate_hybrid_rows_pulled_total{backend="influxql"}`); v != n {
		t.Errorf("rows pulled %v, want %d", v, n)
	}
	code, body, _ = ts.do(t, arcQuery(recent, "x-arc-database", db))
	if code != 200 || data(body) != wantRecent {
		t.Fatalf("split plan with a now() bound answered %d %s, want %s", code, body, wantRecent)
	}
	// Only h1's points were pulled: the tag and the time bound went down.
	if v := ts.metric(t, `tsgate_hybrid_rows_pulled_total{backend="influxql"}`); v != n+(n+1)/3 {
		t.Errorf("rows pulled %v after the bounded query, want %d", v, n+(n+1)/3)
	}
	// EXPLAIN shows the split without running it, on both front ends.
	code, body, _ = ts.do(t, arcQuery("EXPLAIN "+recent, "x-arc-database", db))
	if code != 200 || !strings.Contains(body, `"columns":["QUERY PLAN"]`) || !strings.Contains(body, "finish locally (DuckDB)") ||
		!strings.Contains(body, `host = 'h1'`) {
		t.Errorf("EXPLAIN on the Arc API: %d %s", code, body)
	}
	if v := ts.metric(t, `tsgate_hybrid_queries_total{backend="influxql"}`); v != 2 {
		t.Errorf("hybrid queries %v after EXPLAIN, want 2 (EXPLAIN runs nothing)", v)
	}
	host, port, _ := net.SplitHostPort(ts.gateway.Addr("pgwire").String())
	conn := pgConnect(t, fmt.Sprintf("postgres://alice:%s@%s:%s/%s?sslmode=disable", adminToken, host, port, db))
	var lines []string
	rows, err := conn.Query(context.Background(), "EXPLAIN SELECT host, count(*) FILTER (WHERE usage > 10) FROM cpu GROUP BY host")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil || len(lines) == 0 || !strings.HasPrefix(lines[0], "push down: ") && !strings.HasPrefix(lines[0], "split") {
		t.Errorf("EXPLAIN over pg wire: %q %v", lines, err)
	}
	if _, err := conn.Exec(context.Background(), "EXPLAIN ANALYZE SELECT count(*) FROM cpu"); err == nil || !strings.Contains(err.Error(), "0A000") {
		t.Errorf("EXPLAIN ANALYZE over pg wire: %v, want 0A000", err)
	}
	ts.stop()

	capped := startGateway(t, func(c *Config) {
		c.Backend.URL = "influxql://" + influx + "/" + db
		c.Query.MaxPullRows = n - 1
	})
	code, body, _ = capped.do(t, arcQuery(q, "x-arc-database", db))
	if code == 200 || !strings.Contains(body, "query.max_pull_rows") {
		t.Fatalf("over the pull cap: %d %s, want a refusal naming query.max_pull_rows", code, body)
	}
	if v := capped.metric(t, `tsgate_hybrid_pull_capped_total{backend="influxql"}`); v != 1 {
		t.Errorf("capped pulls %v, want 1", v)
	}
}
