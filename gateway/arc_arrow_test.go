package gateway

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"tsgate/internal/testenv"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/google/go-cmp/cmp"
)

// arrowResult is a decoded Arrow IPC answer: the schema as arrow-go
// prints it, and the rows as arrow-go renders each cell (ValueStr).
type arrowResult struct {
	Status  int
	Schema  string
	Rows    [][]string
	Batches int
	Header  http.Header
	Trailer http.Header
	Body    string // the JSON body of an error answer
}

// postArrow sends req exactly as given (no header added) and decodes the
// answer with arrow-go's IPC reader, as Grafana's datasource, arcli and
// pyarrow do.
func postArrow(t *testing.T, ts *testServer, sql string, header map[string]string) arrowResult {
	t.Helper()
	body := testenv.ArcQuery(sql)
	hr, err := http.NewRequest("POST", ts.base+"/api/v1/query/arrow", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		hr.Header.Set(k, v)
	}
	resp, raw := testenv.Do(t, hr)
	out := arrowResult{Status: resp.StatusCode, Header: resp.Header, Trailer: resp.Trailer}
	if resp.StatusCode != 200 {
		out.Body = string(raw)
		return out
	}
	rd, err := ipc.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("ipc reader: %v", err)
	}
	defer rd.Release()
	out.Schema = rd.Schema().String()
	for rd.Next() {
		rec := rd.RecordBatch()
		out.Batches++
		for i := range int(rec.NumRows()) {
			row := make([]string, rec.NumCols())
			for j := range row {
				row[j] = rec.Column(j).ValueStr(i)
			}
			out.Rows = append(out.Rows, row)
		}
	}
	if err := rd.Err(); err != nil {
		t.Fatalf("ipc stream: %v", err)
	}
	return out
}

// Request headers exactly as each client sends them (from their source):
// Grafana's datasource (pkg/plugin/datasource.go doRequest), arcli
// (internal/client/arrow.go QueryArrow), arc-client-python 0.1.0
// (http/base.py build_headers + query/executor.py query_arrow).
func grafanaHeaders(db string) map[string]string {
	h := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + adminToken}
	if db != "" {
		h["X-Arc-Database"] = db
	}
	return h
}

func arcliHeaders(db string) map[string]string {
	h := map[string]string{
		"Content-Type": "application/json", "Accept": "application/vnd.apache.arrow.stream",
		"Authorization": "Bearer " + adminToken, "User-Agent": "arcli/26.09.4 (linux/amd64)",
	}
	if db != "" {
		h["x-arc-database"] = db
	}
	return h
}

func pythonHeaders(db string) map[string]string {
	return map[string]string{
		"User-Agent": "arc-client-python/0.1.0", "Authorization": "Bearer " + adminToken,
		"x-arc-database": db, "Content-Type": "application/json", "Accept": "application/vnd.apache.arrow.stream",
	}
}

const cpuLines = "cpu,host=a usage=1.5,n=3i 1700000000000000000\n" +
	"cpu,host=b usage=2.25,n=4i 1700000001000000000\n" +
	"cpu,host=a usage=3,n=5i 1700000002500000000\n"

// startCPU is startGateway with cpuLines written to database telegraf.
func startCPU(t *testing.T, mutate func(*Config)) *testServer {
	t.Helper()
	ts := startGateway(t, mutate)
	writeLP(t, ts, "telegraf", cpuLines)
	return ts
}

func writeLP(t *testing.T, ts *testServer, db, lines string) {
	t.Helper()
	status, body, _ := ts.do(t, req{path: "/api/v1/write/line-protocol", header: map[string]string{"x-arc-database": db}, body: []byte(lines)})
	if status != 204 {
		t.Fatalf("write: %d %s", status, body)
	}
}

// cpuArrowSQL reads cpuLines whole; cpuArrow is its Arrow answer on
// every backend.
const cpuArrowSQL = "SELECT time, host, usage, n FROM cpu ORDER BY time"

var cpuArrow = arrowResult{
	Status: 200,
	Schema: "schema:\n  fields: 4\n    - time: type=timestamp[us, tz=Etc/UTC], nullable\n    - host: type=utf8, nullable\n    - usage: type=float64, nullable\n    - n: type=int64, nullable",
	Rows: [][]string{
		{"2023-11-14T22:13:20Z", "a", "1.5", "3"},
		{"2023-11-14T22:13:21Z", "b", "2.25", "4"},
		{"2023-11-14T22:13:22.5Z", "a", "3", "5"},
	},
}

// TestArrowEndpoint: the Arrow IPC stream on the embedded store, decoded
// with arrow-go, for each client's request shape. Schemas are DuckDB's
// Arrow export after Arc's decimal cast (Arc internal/api/query_arrow.go):
// Arc's time column is TIMESTAMPTZ → timestamp[us, tz=Etc/UTC], BIGINT
// int64, DOUBLE float64, VARCHAR utf8, INTEGER int32, SUM(BIGINT)
// (HUGEINT) → int64, every field nullable. The same gateway answers the
// requests Arc refuses before streaming with Arc's JSON errors.
func TestArrowEndpoint(t *testing.T) {
	ts := startCPU(t, nil)
	cases := []struct {
		name   string
		sql    string
		header map[string]string
		want   arrowResult
	}{
		{"grafana", cpuArrowSQL, grafanaHeaders("telegraf"), cpuArrow},
		{"arcli db.table without header", "SELECT host, count(*) AS c, sum(n) AS s, avg(usage) AS a FROM telegraf.cpu GROUP BY host ORDER BY host", arcliHeaders(""), arrowResult{
			Status: 200,
			Schema: "schema:\n  fields: 4\n    - host: type=utf8, nullable\n    - c: type=int64, nullable\n    - s: type=int64, nullable\n    - a: type=float64, nullable",
			Rows:   [][]string{{"a", "2", "8", "2.25"}, {"b", "1", "4", "2.25"}},
		}},
		{"python", "SELECT 1 AS one, 'x' AS s, 2.5::DECIMAL(4,1) AS d, 7::DECIMAL(9,0) AS d0, NULL AS nothing", pythonHeaders("default"), arrowResult{
			Status: 200,
			Schema: "schema:\n  fields: 5\n    - one: type=int32, nullable\n    - s: type=utf8, nullable\n    - d: type=float64, nullable\n    - d0: type=int64, nullable\n    - nothing: type=int32, nullable",
			Rows:   [][]string{{"1", "x", "2.5", "7", "(null)"}},
		}},
		{"zero rows keep their schema", "SELECT host FROM cpu WHERE host = 'zzz'", grafanaHeaders("telegraf"), arrowResult{
			Status: 200,
			Schema: "schema:\n  fields: 1\n    - host: type=utf8, nullable",
		}},
		{"missing measurement: empty stream", "SELECT * FROM nosuch", grafanaHeaders("telegraf"), arrowResult{
			Status: 200,
			Schema: "schema:\n  fields: 0\n",
		}},
		// What Arc answers before streaming, as JSON {"error","success":false}
		// with Arc's texts and codes. Grafana's "Save & test" sends SHOW DATABASES here; Arc refuses
		// it on this endpoint (query_arrow.go, since #489).
		{"grafana health check", "SHOW DATABASES", grafanaHeaders(""), arrowResult{Status: 400,
			Body: `{"error":"SHOW DATABASES is not supported on the Arrow endpoint; use /api/v1/query instead","success":false}`}},
		{"show tables", "SHOW TABLES FROM telegraf", grafanaHeaders(""), arrowResult{Status: 400,
			Body: `{"error":"SHOW TABLES/MEASUREMENTS is not supported on the Arrow endpoint; use /api/v1/query instead","success":false}`}},
		{"show measurements", "show measurements", pythonHeaders("default"), arrowResult{Status: 400,
			Body: `{"error":"SHOW TABLES/MEASUREMENTS is not supported on the Arrow endpoint; use /api/v1/query instead","success":false}`}},
		{"compression", "SELECT 1", map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + adminToken, "x-arc-arrow-compression": "gzip"}, arrowResult{Status: 400,
			Body: `{"error":"invalid x-arc-arrow-compression: must be zstd or lz4","success":false}`}},
		{"empty", "", grafanaHeaders(""), arrowResult{Status: 400, Body: `{"error":"SQL query is required","success":false}`}},
		{"cross database with header", "SELECT * FROM telegraf.cpu", pythonHeaders("default"), arrowResult{Status: 400,
			Body: `{"error":"Cross-database queries (db.table syntax) not allowed when x-arc-database header is set","success":false}`}},
		{"not a query", "DROP TABLE cpu", grafanaHeaders("telegraf"), arrowResult{Status: 400, Body: `{"error":"Dangerous SQL operation not allowed","success":false}`}},
		{"no token", "SELECT 1", map[string]string{"Content-Type": "application/json"}, arrowResult{Status: 401, Body: `{"error":"Authentication required","success":false}`}},
		{"engine error", "SELECT nosuchcolumn FROM cpu", grafanaHeaders("telegraf"), arrowResult{Status: 500}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := postArrow(t, ts, c.sql, c.header)
			if c.want.Status != 200 {
				wantArrowRefusal(t, c.want, got)
				return
			}
			if got.Header.Get("Content-Type") != "application/vnd.apache.arrow.stream" {
				t.Errorf("content type %q", got.Header.Get("Content-Type"))
			}
			// Go's client moves the declared trailers from the Trailer
			// header into resp.Trailer's keys.
			var declared []string
			for k := range got.Trailer {
				declared = append(declared, k)
			}
			slices.Sort(declared)
			if diff := cmp.Diff([]string{"Arc-Execution-Time-Ms", "Arc-Rows-Capped", "Arc-Stream-Truncated"}, declared); diff != "" {
				t.Errorf("declared trailers (-want +got):\n%s", diff)
			}
			if got.Trailer.Get("Arc-Execution-Time-Ms") == "" || got.Trailer.Get("Arc-Stream-Truncated") != "" {
				t.Errorf("trailers %v", got.Trailer)
			}
			got.Header, got.Trailer, got.Batches = nil, nil, 0
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// wantArrowRefusal checks an answer of the Arrow endpoint that is not a
// stream: want's status and JSON body; with no body, the engine's error
// for the query's missing column.
func wantArrowRefusal(t *testing.T, want, got arrowResult) {
	t.Helper()
	if got.Status != want.Status {
		t.Fatalf("status %d, want %d: %s", got.Status, want.Status, got.Body)
	}
	if want.Body == "" {
		if !strings.HasPrefix(got.Body, `{"error":"Binder Error: Referenced column \"nosuchcolumn\" not found`) || !strings.HasSuffix(got.Body, `"success":false}`) {
			t.Errorf("body %s", got.Body)
		}
		return
	}
	if diff := cmp.Diff(want.Body, got.Body); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got.Header.Get("Content-Type") != "application/json" {
		t.Errorf("content type %q", got.Header.Get("Content-Type"))
	}
}

// TestArrowEndpointEncodings: Arc's opt-in compression and dictionary
// encoding, and a result of many batches, decoded by arrow-go.
func TestArrowEndpointEncodings(t *testing.T) {
	ts := startGateway(t, nil)
	var lines strings.Builder
	const n = 25_000
	for i := range n {
		fmt.Fprintf(&lines, "m,host=h%d v=%di %d\n", i%7, i, int64(1_700_000_000_000_000_000)+int64(i)*1_000_000)
	}
	writeLP(t, ts, "big", lines.String())
	sql := "SELECT host, v FROM m ORDER BY v"
	for _, comp := range []string{"", "zstd", "lz4"} {
		for _, dict := range []string{"", "true"} {
			t.Run(comp+"/"+dict, func(t *testing.T) {
				h := grafanaHeaders("big")
				h["x-arc-arrow-compression"] = comp
				h["x-arc-arrow-dictionary"] = dict
				got := postArrow(t, ts, sql, h)
				if got.Status != 200 {
					t.Fatalf("%d %s", got.Status, got.Body)
				}
				hostType := "utf8"
				if dict == "true" {
					hostType = "dictionary<values=utf8, indices=int32, ordered=false>"
				}
				want := "schema:\n  fields: 2\n    - host: type=" + hostType + ", nullable\n    - v: type=int64, nullable"
				if got.Schema != want {
					t.Errorf("schema\n%s\nwant\n%s", got.Schema, want)
				}
				if len(got.Rows) != n {
					t.Fatalf("%d rows", len(got.Rows))
				}
				for i, r := range got.Rows {
					if r[0] != fmt.Sprintf("h%d", i%7) || r[1] != fmt.Sprint(i) {
						t.Fatalf("row %d: %v", i, r)
					}
				}
				if got.Batches < 2 {
					t.Errorf("%d batches: the result was not streamed in bounded batches", got.Batches)
				}
			})
		}
	}
}

// TestArrowEndpointRemote: on a remote backend the batches are built from
// the translated query's rows, typed as Arc's DuckDB would type them.
func TestArrowEndpointRemote(t *testing.T) {
	u := testenv.URL(t, "TSGATE_TEST_POSTGRES_URL")
	ts := startGateway(t, func(c *Config) { c.Backend.URL = u })
	db := fmt.Sprintf("arrow_%d", os.Getpid())
	writeLP(t, ts, db, cpuLines)
	got := postArrow(t, ts, cpuArrowSQL, grafanaHeaders(db))
	want := cpuArrow
	want.Batches = 1
	got.Header, got.Trailer = nil, nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestArrowEndpointTruncated: a stream that fails after its headers ends
// with Arc's poison bytes instead of the end-of-stream marker, so the
// reader fails rather than taking a short result for a whole one, and
// the Arc-Stream-Truncated trailer says why (what arcli reads).
func TestArrowEndpointTruncated(t *testing.T) {
	ts := startGateway(t, nil)
	var lines strings.Builder
	for i := range 30_000 {
		fmt.Fprintf(&lines, "m v=%di %d\n", i, int64(1_700_000_000_000_000_000)+int64(i)*1_000_000)
	}
	writeLP(t, ts, "big", lines.String())
	// A HUGEINT that fits int64 until row 25,000: Arc casts HUGEINT to
	// int64 and fails the stream on overflow.
	sql := "SELECT CASE WHEN v >= 25000 THEN 170141183460469231731687303715884105727::HUGEINT ELSE v::HUGEINT END AS h FROM m ORDER BY v"
	hr, _ := http.NewRequest("POST", ts.base+"/api/v1/query/arrow", bytes.NewReader(testenv.ArcQuery(sql)))
	for k, v := range grafanaHeaders("big") {
		hr.Header.Set(k, v)
	}
	resp, raw := testenv.Do(t, hr)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	if !bytes.HasSuffix(raw, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0x40, 0, 0, 0, 0}) {
		t.Errorf("stream does not end with Arc's poison marker: % x", raw[max(0, len(raw)-16):])
	}
	rd, err := ipc.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	rows := 0
	for rd.Next() {
		rows += int(rd.RecordBatch().NumRows())
	}
	if rd.Err() == nil {
		t.Errorf("a truncated stream decoded without error (%d rows)", rows)
	}
	if rows >= 25_000 {
		t.Errorf("%d rows decoded past the failure", rows)
	}
	if got := resp.Trailer.Get("Arc-Stream-Truncated"); !strings.Contains(got, "does not fit int64") {
		t.Errorf("Arc-Stream-Truncated = %q", got)
	}
	if resp.Trailer.Get("Arc-Execution-Time-Ms") == "" {
		t.Error("no execution time trailer")
	}
}
