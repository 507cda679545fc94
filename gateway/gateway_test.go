package gateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"

	"tsgate/internal/batchtest"
	"tsgate/internal/testenv"
	"tsgate/model"
	"tsgate/query"
	"tsgate/translate"
)

const adminToken = "test-admin-token-0123456789"

type testServer struct {
	base    string
	stop    func()
	gateway *Gateway
}

func startGateway(t *testing.T, mutate func(*Config)) *testServer {
	t.Helper()
	cfg := testConfig(t)
	if mutate != nil {
		mutate(&cfg)
	}
	ts := runGateway(t, cfg)
	awaitHTTP(t, ts.base+"/ready", true)
	return ts
}

// testConfig is Default for a test: data in a temporary directory, every
// front end on a free loopback port (never the fixed default port: tests
// may run side by side), the admin token, only errors logged.
func testConfig(t testing.TB) Config {
	cfg := Default()
	cfg.DataDir = t.TempDir()
	cfg.Arc.Listen = "127.0.0.1:0"
	cfg.Memtrace.Listen = "127.0.0.1:0"
	cfg.PGWire.Listen = "127.0.0.1:0"
	cfg.Auth.BootstrapToken = adminToken
	cfg.Log.Level = "error"
	return cfg
}

// runGateway runs a gateway with cfg until ts.stop or the end of the
// test, failing the test if Run ends in an error. It is
// internal/gatewaytest.Start for this package's tests, which cannot
// import that package (it imports this one).
func runGateway(t testing.TB, cfg Config) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	g, err := New(ctx, cfg, NewLogger(cfg.Log, io.Discard), io.Discard)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	ts := &testServer{base: "http://" + g.ArcAddr().String(), gateway: g}
	stopped := false
	ts.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}
	t.Cleanup(ts.stop)
	return ts
}

// awaitHTTP polls url until it answers (with 200 when need200), failing
// the test after about a second.
func awaitHTTP(t testing.TB, url string, need200 bool) {
	t.Helper()
	for i := 0; ; i++ {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if !need200 || resp.StatusCode == 200 {
				return
			}
		}
		if i > 100 {
			t.Fatalf("%s never answered", url)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type req struct {
	method, path string
	header       map[string]string
	body         []byte
}

func (ts *testServer) do(t *testing.T, r req) (int, string, http.Header) {
	t.Helper()
	if r.method == "" {
		r.method = "POST"
	}
	hr, err := http.NewRequest(r.method, ts.base+r.path, bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.header["Authorization"]; !ok {
		hr.Header.Set("Authorization", "Bearer "+adminToken)
	}
	for k, v := range r.header {
		if v == "" {
			hr.Header.Del(k)
			continue
		}
		hr.Header.Set(k, v)
	}
	resp, b := testenv.Do(t, hr)
	return resp.StatusCode, string(b), resp.Header
}

// writeSec writes line protocol with timestamps in seconds to db
// through /write, failing the test unless it is answered 204.
func (ts *testServer) writeSec(t *testing.T, db, lines string) {
	t.Helper()
	if status, body, _ := ts.do(t, req{path: "/write?db=" + db + "&precision=s", body: []byte(lines)}); status != 204 {
		t.Fatalf("write to %s: %d %s", db, status, body)
	}
}

var volatile = regexp.MustCompile(`"(execution_time_ms|timestamp|time|uptime|uptime_sec|total_ms|planner_ms|execution_ms|latency_ms)":("[^"]*"|[0-9.e+-]+)`)

// normalize blanks the fields that change from run to run, keeping the
// rest of the body byte for byte.
func normalize(s string) string { return volatile.ReplaceAllString(s, `"$1":X`) }

// contractStep is one request of a client conversation the tests replay,
// with the status and body Arc answers it.
type contractStep struct {
	name   string
	req    req
	status int
	body   string
}

// stepCheck judges the answers to contract steps.
type stepCheck struct {
	// norm blanks what changes from run to run in a body before it is
	// compared with the step's.
	norm func(string) string
	// partial judges, by the status, the raw answer to a step that gives
	// no body because the body is known only in part (an engine's error
	// text). For a status not listed, that body must be empty.
	partial map[int]func(t *testing.T, body string)
}

// check sends st's request to ts and judges the answer: st's status, and
// st's body once normalized. It returns the raw body.
func (c stepCheck) check(t *testing.T, ts *testServer, st contractStep) string {
	t.Helper()
	status, body, _ := ts.do(t, st.req)
	if status != st.status {
		t.Fatalf("status %d, want %d: %s", status, st.status, body)
	}
	if judge := c.partial[status]; st.body == "" && judge != nil {
		judge(t, body)
		return body
	}
	if diff := cmp.Diff(st.body, c.norm(body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	return body
}

// run checks the steps in order, each as a subtest: later steps may
// read what earlier ones did.
func (c stepCheck) run(t *testing.T, ts *testServer, steps []contractStep) {
	t.Helper()
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) { c.check(t, ts, st) })
	}
}

func arcQuery(sql string, hdr ...string) req {
	h := map[string]string{"Content-Type": "application/json"}
	for i := 0; i+1 < len(hdr); i += 2 {
		h[hdr[i]] = hdr[i+1]
	}
	return req{path: "/api/v1/query", header: h, body: testenv.ArcQuery(sql)}
}

func gz(t *testing.T, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func zst(t *testing.T, s string) []byte {
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return enc.EncodeAll([]byte(s), nil)
}

// mp encodes v with map keys sorted, so the wire order of columns (which
// decides the length-mismatch message) is fixed.
func mp(t *testing.T, v any) []byte {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestArcAPI runs the spec's examples against a real server in order;
// later steps read what earlier steps wrote.
func TestArcAPI(t *testing.T) {
	ts := startGateway(t, nil)
	steps := []contractStep{
		{"write line protocol v1", req{path: "/write?db=telegraf&precision=s", body: []byte("cpu,host=server01,region=us usage_idle=95.5,usage_user=3i 1764115200\ncpu,host=server02,region=eu usage_idle=80 1764115210\n")}, 204, ""},
		{"query what was written", arcQuery("SELECT time, host, usage_idle FROM cpu ORDER BY time", "x-arc-database", "telegraf"), 200,
			`{"success":true,"columns":["time","host","usage_idle"],"data":[["2025-11-26T00:00:00Z","server01",95.5],["2025-11-26T00:00:10Z","server02",80]],"row_count":2,"execution_time_ms":X,"timestamp":X}`},
		{"db.table without header", arcQuery("SELECT count(*) AS n FROM telegraf.cpu"), 200,
			`{"success":true,"columns":["n"],"data":[[2]],"row_count":1,"execution_time_ms":X,"timestamp":X}`},
		{"db.table with header", arcQuery("SELECT * FROM telegraf.cpu", "x-arc-database", "telegraf"), 400,
			`{"success":false,"columns":null,"data":null,"row_count":0,"execution_time_ms":X,"timestamp":X,"error":"Cross-database queries (db.table syntax) not allowed when x-arc-database header is set"}`},
		{"v2 write gzip bucket", req{path: "/api/v2/write?bucket=telegraf&org=x&precision=ms", body: gz(t, "mem,host=a used=1.5 1764115200000\n")}, 204, ""},
		{"line-protocol route zstd header db", req{path: "/api/v1/write/line-protocol?precision=us", header: map[string]string{"x-arc-database": "telegraf"}, body: zst(t, "mem,host=b used=2.5 1764115200000000\n")}, 204, ""},
		{"header wins over db param", req{path: "/write?db=other", header: map[string]string{"x-arc-database": "telegraf"}, body: []byte("mem,host=c used=3.5 1764115200000000000\n")}, 204, ""},
		{"gzip and zstd rows readable", arcQuery("SELECT host, used FROM mem ORDER BY host", "x-arc-database", "telegraf"), 200,
			`{"success":true,"columns":["host","used"],"data":[["a",1.5],["b",2.5],["c",3.5]],"row_count":3,"execution_time_ms":X,"timestamp":X}`},
		{"msgpack columnar with nil hole", req{path: "/api/v1/write/msgpack", header: map[string]string{"x-arc-database": "db1"},
			body: mp(t, map[string]any{"m": "events", "columns": map[string]any{"time": []int64{1764115200000, 1764115201000}, "agent": []any{"a1", "a2"}, "v": []any{1.25, nil}}})}, 204, ""},
		{"msgpack rows readable", arcQuery("SELECT time, agent, v FROM events ORDER BY time", "x-arc-database", "db1"), 200,
			`{"success":true,"columns":["time","agent","v"],"data":[["2025-11-26T00:00:00Z","a1",1.25],["2025-11-26T00:00:01Z","a2",null]],"row_count":2,"execution_time_ms":X,"timestamp":X}`},
		{"msgpack length mismatch", req{path: "/api/v1/write/msgpack", body: mp(t, map[string]any{"m": "cpu", "columns": map[string]any{"time": []int64{1, 2}, "v": []float64{1}}})}, 400,
			`{"error":"Invalid MessagePack payload: columnar format: array length mismatch (expected 2, got 1 for 'v')"}`},
		{"bad precision", req{path: "/write?precision=h", body: []byte("cpu v=1\n")}, 400, `{"error":"invalid precision \"h\": must be ns, us, ms, or s"}`},
		{"no valid lines", req{path: "/write", body: []byte("this is not line protocol\n")}, 400, `{"error":"No valid records in request"}`},
		{"empty body", req{path: "/write", body: nil}, 400, `{"error":"Empty request body"}`},
		{"bad database name", req{path: "/write?db=1bad", body: []byte("cpu v=1\n")}, 400,
			`{"error":"invalid database name: must start with a letter and contain only alphanumeric characters, underscores, or hyphens (max 64 characters)"}`},
		{"type conflict keeps other rows", req{path: "/write?db=telegraf&precision=s", body: []byte("cpu,host=server03 usage_idle=1i 1764115220\ncpu,host=server04 usage_idle=50 1764115230\n")}, 400,
			`{"error":"partial write: field type conflict: input field \"usage_idle\" on measurement \"cpu\" is type integer, already exists as type float dropped=1"}`},
		{"conflict lost nothing else", arcQuery("SELECT host FROM cpu ORDER BY time", "x-arc-database", "telegraf"), 200,
			`{"success":true,"columns":["host"],"data":[["server01"],["server02"],["server04"]],"row_count":3,"execution_time_ms":X,"timestamp":X}`},
		{"empty sql", arcQuery("  "), 400, `{"success":false,"columns":null,"data":null,"row_count":0,"execution_time_ms":X,"timestamp":X,"error":"SQL query is required"}`},
		{"multiple statements", arcQuery("SELECT 1; SELECT 2"), 400, `{"success":false,"columns":null,"data":null,"row_count":0,"execution_time_ms":X,"timestamp":X,"error":"Multiple SQL statements are not allowed"}`},
		{"trailing semicolon ok", arcQuery("SELECT 1 AS one;"), 200, `{"success":true,"columns":["one"],"data":[[1]],"row_count":1,"execution_time_ms":X,"timestamp":X}`},
		{"dangerous", arcQuery("DROP TABLE cpu"), 400, `{"success":false,"columns":null,"data":null,"row_count":0,"execution_time_ms":X,"timestamp":X,"error":"Dangerous SQL operation not allowed"}`},
		{"dangerous hidden by comment", arcQuery("DROP /* x */ TABLE cpu"), 400, `{"success":false,"columns":null,"data":null,"row_count":0,"execution_time_ms":X,"timestamp":X,"error":"Dangerous SQL operation not allowed"}`},
		{"keyword in string is fine", arcQuery("SELECT 'DROP TABLE x; SET y' AS s"), 200, `{"success":true,"columns":["s"],"data":[["DROP TABLE x; SET y"]],"row_count":1,"execution_time_ms":X,"timestamp":X}`},
		{"file function", arcQuery("SELECT * FROM read_parquet('/etc/passwd')"), 400, `{"success":false,"columns":null,"data":null,"row_count":0,"execution_time_ms":X,"timestamp":X,"error":"File I/O function not allowed in user SQL: read_parquet()"}`},
		{"quoted file function", arcQuery(`SELECT * FROM "read_csv"('/etc/passwd')`), 400, `{"success":false,"columns":null,"data":null,"row_count":0,"execution_time_ms":X,"timestamp":X,"error":"File I/O function not allowed in user SQL: read_csv()"}`},
		{"replacement scan", arcQuery(`SELECT * FROM '/etc/passwd'`), 400, `{"success":false,"columns":null,"data":null,"row_count":0,"execution_time_ms":X,"timestamp":X,"error":"String literal not allowed in table position (replacement scans are disabled); reference a table by name"}`},
		{"too long", arcQuery("SELECT " + strings.Repeat("1+", 5000) + "1"), 400, `{"success":false,"columns":null,"data":null,"row_count":0,"execution_time_ms":X,"timestamp":X,"error":"SQL query exceeds maximum length (10000 characters)"}`},
		{"engine error", arcQuery("SELECT nosuchcol FROM cpu", "x-arc-database", "telegraf"), 500, ""},
		{"missing measurement is empty", arcQuery("SELECT * FROM nothing_here", "x-arc-database", "telegraf"), 200, `{"success":true,"columns":[],"data":[],"row_count":0,"execution_time_ms":X,"timestamp":X}`},
		{"missing database is empty", arcQuery("SELECT * FROM cpu", "x-arc-database", "nodb"), 200, `{"success":true,"columns":[],"data":[],"row_count":0,"execution_time_ms":X,"timestamp":X}`},
		{"form body", req{path: "/api/v1/query", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: []byte("sql=SELECT+42+AS+x")}, 200, `{"success":true,"columns":["x"],"data":[[42]],"row_count":1,"execution_time_ms":X,"timestamp":X}`},
		{"other content type", req{path: "/api/v1/query", header: map[string]string{"Content-Type": "text/plain"}, body: []byte("SELECT 1")}, 400, `{"success":false,"columns":null,"data":null,"row_count":0,"execution_time_ms":X,"timestamp":X,"error":"Invalid request body: Unprocessable Entity"}`},
		{"value encoding", arcQuery(`SELECT 'NaN'::DOUBLE AS nan, 'inf'::DOUBLE AS inf, 2.5::DECIMAL(3,1) AS d, [1,2] AS l, 1e-7 AS small, 1e21 AS big, '<a&b>' AS html, 18446744073709551615::UBIGINT AS u, true AS b, NULL AS n, DATE '2025-01-02' AS day`), 200,
			`{"success":true,"columns":["nan","inf","d","l","small","big","html","u","b","n","day"],"data":[[null,null,"2.5","[1,2]",1e-7,1e+21,"\u003ca\u0026b\u003e",18446744073709551615,true,null,"2025-01-02T00:00:00Z"]],"row_count":1,"execution_time_ms":X,"timestamp":X}`},
		{"show databases", arcQuery("SHOW DATABASES"), 200, `{"success":true,"columns":["database"],"data":[["db1"],["telegraf"]],"row_count":2,"execution_time_ms":X,"timestamp":X}`},
		{"show tables from", arcQuery("/* c */ SHOW MEASUREMENTS FROM telegraf"), 200,
			`{"success":true,"columns":["database","table_name","storage_path","file_count","total_size_mb"],"data":[["telegraf","cpu","duckdb://telegraf/cpu",0,0],["telegraf","mem","duckdb://telegraf/mem",0,0]],"row_count":2,"execution_time_ms":X,"timestamp":X}`},
		{"unknown route", req{method: "GET", path: "/api/v1/nothing"}, 404, `{"error":"Cannot GET /api/v1/nothing"}`},
		{"health", req{method: "GET", path: "/health", header: map[string]string{"Authorization": ""}}, 200, `{"status":"ok","storage":{"hot":{"backend":"local","credentials":"none","state":"ok"}},"time":X,"uptime":X,"uptime_sec":X}`},
		{"ready", req{method: "GET", path: "/ready", header: map[string]string{"Authorization": ""}}, 200, `{"status":"ready","time":X,"uptime_sec":X}`},
		{"databases endpoint", req{method: "GET", path: "/api/v1/databases"}, 200, `{"databases":[{"name":"db1","measurement_count":1},{"name":"telegraf","measurement_count":2}],"count":2}`},
		{"measurements endpoint", req{method: "GET", path: "/api/v1/measurements?database=db1"}, 200,
			`{"count":1,"execution_time_ms":X,"measurements":[{"database":"db1","measurement":"events","file_count":0,"total_size_mb":0,"storage_path":"duckdb://db1/events"}],"success":true}`},
	}
	stepCheck{norm: normalize, partial: map[int]func(*testing.T, string){
		500: func(t *testing.T, body string) {
			if !strings.Contains(body, `"success":false`) || !strings.Contains(body, `"error":"Binder Error`) {
				t.Errorf("engine error body %s", body)
			}
		},
	}}.run(t, ts, steps)
}

func TestAuth(t *testing.T) {
	ts := startGateway(t, nil)
	q := func(h map[string]string, path string) req {
		h["Content-Type"] = "application/json"
		return req{path: path, header: h, body: testenv.ArcQuery("SELECT 1 AS x")}
	}
	ok := `{"success":true,"columns":["x"],"data":[[1]],"row_count":1,"execution_time_ms":X,"timestamp":X}`
	cases := []contractStep{
		{"bearer", q(map[string]string{"Authorization": "Bearer " + adminToken}, "/api/v1/query"), 200, ok},
		{"token scheme", q(map[string]string{"Authorization": "Token " + adminToken}, "/api/v1/query"), 200, ok},
		{"bare authorization", q(map[string]string{"Authorization": adminToken}, "/api/v1/query"), 200, ok},
		{"x-api-key", q(map[string]string{"Authorization": "", "x-api-key": adminToken}, "/api/v1/query"), 200, ok},
		{"query p", q(map[string]string{"Authorization": ""}, "/api/v1/query?p="+adminToken), 200, ok},
		{"missing", q(map[string]string{"Authorization": ""}, "/api/v1/query"), 401, `{"error":"Authentication required","success":false}`},
		{"wrong", q(map[string]string{"Authorization": "Bearer nope"}, "/api/v1/query"), 401, `{"error":"Invalid or expired token","success":false}`},
		{"write needs auth", req{path: "/write", header: map[string]string{"Authorization": ""}, body: []byte("cpu v=1\n")}, 401, `{"error":"Authentication required","success":false}`},
		{"metrics public", req{method: "GET", path: "/metrics", header: map[string]string{"Authorization": ""}}, 200, ""},
	}
	// /metrics answers Prometheus's text format, not judged here.
	stepCheck{norm: normalize, partial: map[int]func(*testing.T, string){200: func(*testing.T, string) {}}}.run(t, ts, cases)
}

// TestPipelineFromPostgres: PostgreSQL SQL (as pg wire clients send it) is
// translated for the embedded store and runs there.
func TestPipelineFromPostgres(t *testing.T) {
	ts := startGateway(t, nil)
	ts.writeSec(t, "pg", "cpu,host=a usage=1.5 1764115200\ncpu,host=b usage=2.5 1764115260\n")
	g := ts.gateway
	ctx := context.Background()
	tr, err := g.pipeline.Translate(ctx, "pg", `SELECT date_trunc('hour', "time") AS h, count(*) AS n, avg(usage) AS a FROM cpu WHERE host IN ('a', 'b') GROUP BY 1 ORDER BY 1`, translate.FromPostgres)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := g.pipeline.Execute(ctx, "pg", tr)
	if err != nil {
		t.Fatalf("execute %q: %v", tr.Text, err)
	}
	defer rows.Close()
	vals := make([]model.Value, len(rows.Columns()))
	var got [][]model.Value
	for rows.Next(vals) {
		got = append(got, append([]model.Value(nil), vals...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := [][]model.Value{{model.Time(1764115200_000000), model.Int(2), model.Float(2)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestQueryTimeoutAndLimits(t *testing.T) {
	ts := startGateway(t, func(c *Config) {
		c.Arc.QueryTimeout = Duration{100 * time.Millisecond}
		c.Arc.MaxBodyBytes = 1 << 20
	})
	start := time.Now()
	status, body, _ := ts.do(t, arcQuery("SELECT sum(a.range * b.range) AS s FROM range(1000000) a, range(1000000) b"))
	if status != 504 || normalize(body) != `{"success":false,"columns":null,"data":null,"row_count":0,"execution_time_ms":X,"timestamp":X,"error":"Query timed out"}` {
		t.Fatalf("slow query: %d %s", status, body)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("timeout took %v: the engine was not interrupted", el)
	}
	big := bytes.Repeat([]byte("cpu,host=a v=1 1\n"), (1<<20)/17+1)
	status, body, _ = ts.do(t, req{path: "/write", body: big})
	if status != 413 || body != `{"error":"Payload too large (max 1MB). Consider batching into smaller requests."}` {
		t.Errorf("oversize line protocol: %d %s", status, body)
	}
	status, body, _ = ts.do(t, req{path: "/write", body: gz(t, string(big))})
	if status != 400 || body != `{"error":"Failed to decompress gzip data: decompressed payload exceeds 1MB limit"}` {
		t.Errorf("gzip bomb: %d %s", status, body)
	}
	// Nothing of the refused bodies was written.
	status, body, _ = ts.do(t, arcQuery("SELECT count(*) FROM cpu"))
	if status != 200 || normalize(body) != `{"success":true,"columns":[],"data":[],"row_count":0,"execution_time_ms":X,"timestamp":X}` {
		t.Errorf("after refused writes: %d %s", status, body)
	}
}

// TestTranslatedMatchesAsWritten runs Arc queries two ways on the same
// embedded store: as written (what Arc does) and through the translator's
// DuckDB generator (the path every other backend takes). Both must give
// the same rows.
func TestTranslatedMatchesAsWritten(t *testing.T) {
	ts := startGateway(t, nil)
	var lp strings.Builder
	for i := range 200 {
		fmt.Fprintf(&lp, "events,org_id=org_%d,agent_id=agent_%d,memory_type=%s content=\"note %d it's 100%% done\",importance=%d.5 %d\n",
			i%2, i%5, []string{"episodic", "decision", "entity"}[i%3], i, i%10, int64(1764115200+i*60))
	}
	ts.writeSec(t, "mem", lp.String())
	g := ts.gateway
	translated := query.New(g.backend, query.Translated())
	queries := []string{
		`SELECT * FROM events WHERE org_id = 'org_1' AND agent_id = 'agent_3' ORDER BY time DESC LIMIT 5 OFFSET 1`,
		`SELECT * FROM events WHERE org_id = 'org_0' AND memory_type IN ('episodic', 'entity') AND content LIKE '%100\% done%' ESCAPE '\' AND importance >= 0.500000 ORDER BY time DESC LIMIT 7`,
		`SELECT COUNT(*) as cnt FROM events WHERE org_id = 'org_1' AND time > '2025-11-26T01:00:00Z'`,
		`SELECT memory_type, COUNT(*) as cnt FROM events WHERE org_id = 'org_0' GROUP BY memory_type ORDER BY memory_type`,
		`SELECT time_bucket(INTERVAL '1 hour', time) AS h, agent_id, avg(importance) AS a, max(importance) AS m FROM events GROUP BY h, agent_id ORDER BY h, agent_id`,
		`SELECT date_trunc('hour', time) AS h, count(*) FROM events GROUP BY 1 HAVING count(*) > 10 ORDER BY 1`,
		`SELECT agent_id, count(*) AS n FROM events GROUP BY agent_id ORDER BY n DESC, agent_id LIMIT 3`,
		`WITH t AS (SELECT agent_id, max(importance) AS m FROM events GROUP BY agent_id) SELECT * FROM t WHERE m > 5 ORDER BY agent_id`,
		`SELECT agent_id, time, importance, row_number() OVER (PARTITION BY agent_id ORDER BY time DESC) AS rn FROM events ORDER BY agent_id, time DESC LIMIT 12`,
		`SELECT CASE WHEN importance > 5 THEN 'high' ELSE 'low' END AS level, count(*) FROM events GROUP BY 1 ORDER BY 1`,
	}
	// read fails the subtest t, not the test the closure was made in.
	read := func(t *testing.T, rows model.Rows, err error) ([]model.ResultColumn, [][]model.Value) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return batchtest.Rows(t, rows)
	}
	ctx := context.Background()
	for _, q := range queries {
		t.Run(q, func(t *testing.T) {
			rows, err := g.pipeline.QueryArc(ctx, "mem", q)
			wantCols, want := read(t, rows, err)
			if len(want) == 0 {
				t.Fatal("query returns no rows: the comparison would prove nothing")
			}
			rows, err = translated.QueryArc(ctx, "mem", q)
			gotCols, got := read(t, rows, err)
			names := func(cs []model.ResultColumn) []string {
				var n []string
				for _, c := range cs {
					n = append(n, c.Name)
				}
				return n
			}
			if diff := cmp.Diff(names(wantCols), names(gotCols)); diff != "" {
				t.Errorf("columns (-as written +translated):\n%s", diff)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rows (-as written +translated):\n%s", diff)
			}
		})
	}
}

func TestUnknownBackendScheme(t *testing.T) {
	cfg := Default()
	cfg.DataDir = t.TempDir()
	cfg.Backend.URL = "mysql://user:secret@127.0.0.1/db"
	_, err := New(context.Background(), cfg, NewLogger(cfg.Log, io.Discard), io.Discard)
	if err == nil {
		t.Fatal("unknown scheme accepted")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks the URL's password: %v", err)
	}
}
