package gateway

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"tsgate/internal/testenv"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/google/go-cmp/cmp"
	"github.com/vmihailenco/msgpack/v5"
)

// recordedVolatile blanks what differs between any two runs.
var recordedVolatile = regexp.MustCompile(`"(time|uptime|uptime_sec|execution_time_ms|timestamp|created_at|last_used_at|token)":("[^"]*"|[0-9.e+-]+)`)

func recorded(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "arc-recorded", name+".body"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestArcRecordedAnswers replays the requests whose answers were recorded
// from a real Arc build (testdata/arc-recorded) and compares tsgate's
// answers with Arc's: JSON bodies byte for byte once run-dependent fields
// are blanked, Arrow streams by their decoded schema and rows, MessagePack
// by its decoded content.
func TestArcRecordedAnswers(t *testing.T) {
	ts := startGateway(t, nil)
	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	js := func(extra ...string) map[string]string {
		h := map[string]string{"Authorization": "Bearer " + adminToken, "Content-Type": "application/json"}
		for i := 0; i+1 < len(extra); i += 2 {
			h[extra[i]] = extra[i+1]
		}
		return h
	}
	noAuth := map[string]string{"Authorization": ""}
	type step struct {
		name   string
		req    req
		status int
		kind   string // "json" (default), "arrow", "msgpack"
		// arc adjusts Arc's recorded body for a difference the README
		// lists as deliberate.
		arc func(string) string
	}
	steps := []step{
		{name: "health", req: req{method: "GET", path: "/health", header: noAuth}, status: 200},
		{name: "unknown_no_token", req: req{method: "GET", path: "/api/v1/nothing", header: noAuth}, status: 401},
		{name: "unknown_with_token", req: req{method: "GET", path: "/api/v1/nothing", header: admin}, status: 404},
		{name: "verify", req: req{method: "GET", path: "/api/v1/auth/verify", header: admin}, status: 200,
			arc: func(s string) string {
				return strings.ReplaceAll(s, "ARC_AUTH_BOOTSTRAP_TOKEN", "TSGATE_AUTH_BOOTSTRAP_TOKEN")
			}},
		{name: "write", req: req{path: "/api/v1/write/line-protocol", header: js("x-arc-database", "telegraf"), body: []byte(cpuLines)}, status: 204, kind: "none"},
		{name: "flush", req: req{path: "/api/v1/write/line-protocol/flush", header: admin}, status: 200},
		{name: "arrow_grafana", req: req{path: "/api/v1/query/arrow", header: js("X-Arc-Database", "telegraf"), body: testenv.ArcQuery("SELECT time, host, usage, n FROM cpu ORDER BY time")}, status: 200, kind: "arrow"},
		{name: "arrow_agg", req: req{path: "/api/v1/query/arrow", header: js(), body: testenv.ArcQuery("SELECT host, count(*) AS c, sum(n) AS s, avg(usage) AS a FROM telegraf.cpu GROUP BY host ORDER BY host")}, status: 200, kind: "arrow"},
		{name: "arrow_literals", req: req{path: "/api/v1/query/arrow", header: js("x-arc-database", "default"), body: testenv.ArcQuery("SELECT 1 AS one, 'x' AS s, 2.5::DECIMAL(4,1) AS d, 7::DECIMAL(9,0) AS d0")}, status: 200, kind: "arrow"},
		{name: "arrow_show", req: req{path: "/api/v1/query/arrow", header: js(), body: testenv.ArcQuery("SHOW DATABASES")}, status: 400},
		{name: "arrow_bad_compression", req: req{path: "/api/v1/query/arrow", header: js("x-arc-arrow-compression", "gzip"), body: testenv.ArcQuery("SELECT 1")}, status: 400},
		{name: "json_nested", req: req{path: "/api/v1/query", header: js(), body: testenv.ArcQuery(`SELECT ['x','y'] AS l, MAP {'k': 1} AS m, {'g': 'z', 'f': 1} AS s, INTERVAL '4 days 3 hours' AS i, 0.00001::DECIMAL(10,5) AS d, 12.50::DECIMAL(5,2) AS d2, TIME '12:34:56' AS t, '550e8400-e29b-41d4-a716-446655440000'::UUID AS u, [TIMESTAMPTZ '2024-01-01 00:00:00+00'] AS ts FROM telegraf.cpu LIMIT 1`)}, status: 200},
		{name: "estimate", req: req{path: "/api/v1/query/estimate", header: js("x-arc-database", "telegraf"), body: testenv.ArcQuery("SELECT * FROM cpu")}, status: 200},
		{name: "msgpack_query", req: req{path: "/api/v1/query/msgpack", header: js("x-arc-database", "telegraf"), body: testenv.ArcQuery("SELECT time, host, usage, n FROM cpu ORDER BY time")}, status: 200, kind: "msgpack"},
		{name: "delete_config", req: req{method: "GET", path: "/api/v1/delete/config", header: admin}, status: 200,
			arc: func(s string) string {
				// tsgate deletes with the backend's own delete, not by
				// rewriting files.
				return strings.NewReplacer(`"rewrite-based"`, `"backend-native"`, `"expensive (file rewrites)"`,
					`"the backend's own delete (DuckDB/PostgreSQL DELETE, ClickHouse ALTER TABLE … DELETE, InfluxQL DELETE)"`).Replace(s)
			}},
		{name: "msgpack_spec", req: req{method: "GET", path: "/api/v1/write/msgpack/spec", header: admin}, status: 200},
		{name: "db_create", req: req{path: "/api/v1/databases", header: js(), body: []byte(`{"name":"metrics"}`)}, status: 201},
		{name: "db_list", req: req{method: "GET", path: "/api/v1/databases", header: admin}, status: 200,
			arc: func(s string) string {
				// Arc lists its own backups and compaction directories
				// as databases.
				s = strings.NewReplacer(`{"name":"backups","measurement_count":0},`, ``, `{"name":"compaction","measurement_count":0},`, ``).Replace(s)
				return strings.Replace(s, `"count":4`, `"count":2`, 1)
			}},
		{name: "db_get_missing", req: req{method: "GET", path: "/api/v1/databases/nothing", header: admin}, status: 404},
		{name: "token_create", req: req{path: "/api/v1/auth/tokens", header: js(), body: []byte(`{"name":"grafana","description":"dashboards","permissions":["read"]}`)}, status: 201},
		{name: "token_list", req: req{method: "GET", path: "/api/v1/auth/tokens", header: admin}, status: 200,
			arc: func(s string) string {
				return strings.ReplaceAll(s, "ARC_AUTH_BOOTSTRAP_TOKEN", "TSGATE_AUTH_BOOTSTRAP_TOKEN")
			}},
		{name: "token_get_missing", req: req{method: "GET", path: "/api/v1/auth/tokens/99", header: admin}, status: 404},
		{name: "retention_list_empty", req: req{method: "GET", path: "/api/v1/retention", header: admin}, status: 200},
		{name: "cq_list_empty", req: req{method: "GET", path: "/api/v1/continuous_queries", header: admin}, status: 200},
		{name: "delete_disabled", req: req{path: "/api/v1/delete", header: js(), body: []byte(`{"database":"telegraf","measurement":"cpu","where":"1=1","confirm":true}`)}, status: 403,
			arc: func(s string) string { return strings.ReplaceAll(s, "arc.toml", "tsgate.toml") }},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			status, body, hdr := ts.do(t, st.req)
			if status != st.status {
				t.Fatalf("status %d, want Arc's %d: %s", status, st.status, body)
			}
			switch st.kind {
			case "none":
				return
			case "arrow":
				if hdr.Get("Content-Type") != "application/vnd.apache.arrow.stream" {
					t.Errorf("content type %q", hdr.Get("Content-Type"))
				}
				want, got := decodeArrow(t, recorded(t, st.name)), decodeArrow(t, []byte(body))
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Arrow answer differs from Arc's (-arc +tsgate):\n%s", diff)
				}
			case "msgpack":
				want, got := decodeMsgpack(t, recorded(t, st.name)), decodeMsgpack(t, []byte(body))
				if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
					t.Errorf("MessagePack answer differs from Arc's (-arc +tsgate):\n%s", diff)
				}
			default:
				want := string(recorded(t, st.name))
				if st.arc != nil {
					want = st.arc(want)
				}
				norm := func(s string) string { return recordedVolatile.ReplaceAllString(s, `"$1":X`) }
				if diff := cmp.Diff(norm(want), norm(body)); diff != "" {
					t.Errorf("answer differs from Arc's (-arc +tsgate):\n%s", diff)
				}
			}
		})
	}
}

func decodeArrow(t *testing.T, b []byte) []string {
	t.Helper()
	rd, err := ipc.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	out := []string{rd.Schema().String()}
	for rd.Next() {
		rec := rd.RecordBatch()
		for i := range int(rec.NumRows()) {
			var row []string
			for j := range int(rec.NumCols()) {
				row = append(row, rec.Column(j).ValueStr(i))
			}
			out = append(out, strings.Join(row, " | "))
		}
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func decodeMsgpack(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := msgpack.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "execution_time_ms")
	delete(m, "timestamp")
	return m
}

// TestArcRecordedRewrites: queries where Arc's rewrites give a different
// answer, recorded from the same Arc build after writing three points to
// measurement m (at 22:13:20.6, 22:13:21 and 22:13:22 on 2023-11-14, in
// the order 22, 20.6, 21). Each case states the right answer; where Arc's
// recorded answer is wrong, tsgate must give the right one instead (the
// README lists these), and where Arc is right, both agree.
func TestArcRecordedRewrites(t *testing.T) {
	ts := startGateway(t, nil)
	writeLP(t, ts, "bugs", "m v=3 1700000002000000000\nm v=1 1700000000600000000\nm v=2 1700000001000000000\n")
	cases := []struct {
		name, sql string
		// right is the correct answer's data; arcWrong says Arc's
		// recorded answer is not it.
		right    string
		arcWrong bool
	}{
		// Arc rounds to the nearest second (epoch(time)::BIGINT).
		{"bug_date_trunc_second", "SELECT date_trunc('second', time) AS s FROM m ORDER BY time",
			`[["2023-11-14T22:13:20Z"],["2023-11-14T22:13:21Z"],["2023-11-14T22:13:22Z"]]`, true},
		// Weeks start on Monday (2023-11-13), not Thursday (Arc: 11-09).
		{"bug_date_trunc_week", "SELECT date_trunc('week', time) AS w FROM m ORDER BY time LIMIT 1", `[["2023-11-13T00:00:00Z"]]`, true},
		// FROM M is the measurement m (Arc looks for a directory "M").
		{"bug_uppercase", "SELECT count(*) AS n FROM M", `[[3]]`, true},
		// With one file Arc answers these right; tsgate agrees.
		{"bug_between", "SELECT count(*) AS n FROM m WHERE time BETWEEN '2023-11-14T22:13:20.6Z' AND '2023-11-14T22:13:22Z'", `[[3]]`, false},
		{"bug_not", "SELECT count(*) AS n FROM m WHERE NOT (time >= '2023-11-14T22:13:21Z')", `[[1]]`, false},
		// Arc's alignment, which tsgate follows: 7-minute buckets count
		// from the Unix epoch (22:13:00), not from DuckDB's 2000-01-03
		// (22:12:00). All three points fall in the one bucket.
		{"bucket_7m", "SELECT DISTINCT time_bucket(INTERVAL '7 minutes', time) AS b FROM m", `[["2023-11-14T22:13:00Z"]]`, false},
	}
	dataRe := regexp.MustCompile(`"data":(\[.*\]),"row_count"`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, body, _ := ts.do(t, arcQuery(c.sql, "x-arc-database", "bugs"))
			m := dataRe.FindStringSubmatch(body)
			if m == nil || m[1] != c.right {
				t.Errorf("tsgate: %s, want data %s", body, c.right)
			}
			am := dataRe.FindStringSubmatch(string(recorded(t, c.name)))
			arcRight := am != nil && am[1] == c.right
			if arcRight == c.arcWrong {
				t.Errorf("Arc's recorded answer %s: wrong=%v, the case says %v", recorded(t, c.name), !arcRight, c.arcWrong)
			}
		})
	}
	// Recorded for the notes, not matched: first()/last() without ORDER BY
	// follow Arc's time-sorted file (1, 3) and the store's write order
	// (3, 2); neither is an order SQL promises.
	for name, want := range map[string]string{"bug_first_last": `[[1,3]]`} {
		if am := dataRe.FindStringSubmatch(string(recorded(t, name))); am == nil || am[1] != want {
			t.Errorf("%s recorded as %s", name, recorded(t, name))
		}
	}
}
