package gateway

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"tsgate/auth"
)

// manageVolatile blanks timestamps and durations in management bodies.
var manageVolatile = regexp.MustCompile(`"(created_at|updated_at|execution_time|last_execution_time|executed_at|cutoff_date|execution_duration_ms|execution_time_seconds|execution_duration_seconds|execution_id|duration_ms)":("[^"]*"|[0-9.e+-]+)`)

func normalizeManage(s string) string {
	return manageVolatile.ReplaceAllString(normalize(s), `"$1":X`)
}

// runSteps runs management API steps, whose bodies normalizeManage
// blanks.
func runSteps(t *testing.T, ts *testServer, steps []contractStep) {
	t.Helper()
	stepCheck{norm: normalizeManage}.run(t, ts, steps)
}

func jsonReq(method, path, body string) req {
	return req{method: method, path: path, header: map[string]string{"Content-Type": "application/json", "Accept": "application/json"}, body: []byte(body)}
}

// TestArcDatabasesAPI replays arcli's db list|show|create|drop
// (internal/client: POST {"name"}, DELETE ?confirm=true) against Arc's
// bodies (internal/api/databases.go).
func TestArcDatabasesAPI(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		t.Run(fmt.Sprintf("delete.enabled=%v", enabled), func(t *testing.T) {
			ts := startCPU(t, func(c *Config) { c.Delete.Enabled = enabled })
			steps := []contractStep{
				{"create", jsonReq("POST", "/api/v1/databases", `{"name":"metrics"}`), 201, `{"name":"metrics","measurement_count":0,"created_at":X}`},
				{"create again", jsonReq("POST", "/api/v1/databases", `{"name":"metrics"}`), 409, `{"error":"Database 'metrics' already exists"}`},
				{"create existing with data", jsonReq("POST", "/api/v1/databases", `{"name":"telegraf"}`), 409, `{"error":"Database 'telegraf' already exists"}`},
				{"create reserved", jsonReq("POST", "/api/v1/databases", `{"name":"System"}`), 400, `{"error":"Database name 'System' is reserved"}`},
				{"create invalid", jsonReq("POST", "/api/v1/databases", `{"name":"1x"}`), 400,
					`{"error":"Invalid database name: must start with a letter and contain only alphanumeric characters, underscores, or hyphens (max 64 characters)"}`},
				{"create without name", jsonReq("POST", "/api/v1/databases", `{}`), 400, `{"error":"Database name is required"}`},
				{"list shows the empty one", req{method: "GET", path: "/api/v1/databases"}, 200,
					`{"databases":[{"name":"metrics","measurement_count":0},{"name":"telegraf","measurement_count":1}],"count":2}`},
				{"show databases too", arcQuery("SHOW DATABASES"), 200, `{"success":true,"columns":["database"],"data":[["metrics"],["telegraf"]],"row_count":2,"execution_time_ms":X,"timestamp":X}`},
				{"get", req{method: "GET", path: "/api/v1/databases/telegraf"}, 200, `{"name":"telegraf","measurement_count":1}`},
				{"get empty", req{method: "GET", path: "/api/v1/databases/metrics"}, 200, `{"name":"metrics","measurement_count":0}`},
				{"get missing", req{method: "GET", path: "/api/v1/databases/nothing"}, 404, `{"error":"Database 'nothing' not found"}`},
			}
			if !enabled {
				steps = append(steps, contractStep{"drop disabled", req{method: "DELETE", path: "/api/v1/databases/telegraf?confirm=true"}, 403,
					`{"error":"Delete operations are disabled. Set delete.enabled=true in tsgate.toml to enable."}`})
				runSteps(t, ts, steps)
				return
			}
			steps = append(steps,
				contractStep{"drop without confirm", req{method: "DELETE", path: "/api/v1/databases/telegraf"}, 400, `{"error":"Confirmation required. Add ?confirm=true to delete the database."}`},
				contractStep{"drop reserved", req{method: "DELETE", path: "/api/v1/databases/_internal?confirm=true"}, 403, `{"error":"Cannot delete reserved database '_internal'"}`},
				contractStep{"drop missing", req{method: "DELETE", path: "/api/v1/databases/nothing?confirm=true"}, 404, `{"error":"Database 'nothing' not found"}`},
				contractStep{"drop", req{method: "DELETE", path: "/api/v1/databases/telegraf?confirm=true"}, 200, `{"files_deleted":1,"message":"Database 'telegraf' deleted successfully"}`},
				contractStep{"drop the empty one", req{method: "DELETE", path: "/api/v1/databases/metrics?confirm=true"}, 200, `{"files_deleted":1,"message":"Database 'metrics' deleted successfully"}`},
				contractStep{"gone", req{method: "GET", path: "/api/v1/databases/telegraf"}, 404, `{"error":"Database 'telegraf' not found"}`},
				contractStep{"its data is gone", arcQuery("SELECT count(*) AS n FROM cpu", "x-arc-database", "telegraf"), 200, `{"success":true,"columns":[],"data":[],"row_count":0,"execution_time_ms":X,"timestamp":X}`},
				contractStep{"list after", req{method: "GET", path: "/api/v1/databases"}, 200, `{"databases":[],"count":0}`},
			)
			runSteps(t, ts, steps)
			// Writing again recreates it from nothing.
			writeLP(t, ts, "telegraf", cpuLines)
			runSteps(t, ts, []contractStep{{"written again", arcQuery("SELECT count(*) AS n FROM cpu", "x-arc-database", "telegraf"), 200,
				`{"success":true,"columns":["n"],"data":[[3]],"row_count":1,"execution_time_ms":X,"timestamp":X}`}})
		})
	}
}

// TestArcDeleteAPI replays the Python client's delete.delete() and
// get_config() and arcli's delete (POST /api/v1/delete/ with
// "(<where>) IS TRUE") against Arc's DeleteResponse (delete.go).
func TestArcDeleteAPI(t *testing.T) {
	ts := startCPU(t, func(c *Config) { c.Delete.Enabled = true; c.Delete.ConfirmationThreshold = 2 })
	steps := []contractStep{
		{"config", req{method: "GET", path: "/api/v1/delete/config"}, 200,
			`{"enabled":true,"confirmation_threshold":2,"max_rows_per_delete":1000000,"implementation":"backend-native","performance_impact":{"deletes":"the backend's own delete (DuckDB/PostgreSQL DELETE, ClickHouse ALTER TABLE … DELETE, InfluxQL DELETE)","queries":"zero overhead","writes":"zero overhead"}}`},
		{"python dry run", jsonReq("POST", "/api/v1/delete", `{"database": "telegraf", "measurement": "cpu", "where": "host = 'a'", "dry_run": true, "confirm": false}`), 200,
			`{"success":true,"deleted_count":2,"affected_files":1,"rewritten_files":0,"execution_time_ms":X,"dry_run":true,"files_processed":["telegraf/cpu"]}`},
		{"no match", jsonReq("POST", "/api/v1/delete", `{"database":"telegraf","measurement":"cpu","where":"host = 'zzz'","dry_run":true}`), 200,
			`{"success":true,"deleted_count":0,"affected_files":0,"rewritten_files":0,"execution_time_ms":X,"dry_run":true,"files_processed":[]}`},
		{"without confirm", jsonReq("POST", "/api/v1/delete", `{"database":"telegraf","measurement":"cpu","where":"host = 'a'"}`), 400,
			`{"success":false,"deleted_count":0,"affected_files":0,"rewritten_files":0,"execution_time_ms":X,"dry_run":false,"files_processed":null,"error":"Confirmation required for delete operation. Set confirm=true or use dry_run=true to preview."}`},
		{"full table without confirm", jsonReq("POST", "/api/v1/delete", `{"database":"telegraf","measurement":"cpu","where":"1=1","dry_run":true}`), 400,
			`{"success":false,"deleted_count":0,"affected_files":0,"rewritten_files":0,"execution_time_ms":X,"dry_run":false,"files_processed":null,"error":"Full table delete detected (WHERE 1=1). Set confirm=true to proceed."}`},
		{"over the threshold, dry run", jsonReq("POST", "/api/v1/delete", `{"database":"telegraf","measurement":"cpu","where":"usage > 0","dry_run":true}`), 400,
			`{"success":false,"deleted_count":0,"affected_files":0,"rewritten_files":0,"execution_time_ms":X,"dry_run":false,"files_processed":null,"error":"Delete would affect 3 rows (threshold: 2). Set confirm=true to proceed."}`},
		{"no where", jsonReq("POST", "/api/v1/delete", `{"database":"telegraf","measurement":"cpu","where":" "}`), 400,
			`{"success":false,"deleted_count":0,"affected_files":0,"rewritten_files":0,"execution_time_ms":X,"dry_run":false,"files_processed":null,"error":"WHERE clause is required. To delete all data, use WHERE clause '1=1' with confirm=true"}`},
		{"unmatched quote", jsonReq("POST", "/api/v1/delete", `{"database":"telegraf","measurement":"cpu","where":"host = 'a"}`), 400,
			`{"success":false,"deleted_count":0,"affected_files":0,"rewritten_files":0,"execution_time_ms":X,"dry_run":false,"files_processed":null,"error":"WHERE clause has unmatched quotes"}`},
		{"no database", jsonReq("POST", "/api/v1/delete", `{"measurement":"cpu","where":"x=1"}`), 400,
			`{"success":false,"deleted_count":0,"affected_files":0,"rewritten_files":0,"execution_time_ms":X,"dry_run":false,"files_processed":null,"error":"database is required"}`},
		{"bad measurement", jsonReq("POST", "/api/v1/delete", `{"database":"telegraf","measurement":"../x","where":"x=1"}`), 400,
			`{"success":false,"deleted_count":0,"affected_files":0,"rewritten_files":0,"execution_time_ms":X,"dry_run":false,"files_processed":null,"error":"measurement name contains invalid characters"}`},
		{"a second statement", jsonReq("POST", "/api/v1/delete", `{"database":"telegraf","measurement":"cpu","where":"host = 'a'; DROP TABLE cpu","confirm":true}`), 400, ""},
		{"a subquery", jsonReq("POST", "/api/v1/delete", `{"database":"telegraf","measurement":"cpu","where":"host IN (SELECT host FROM mem)","confirm":true}`), 400, ""},
		{"arcli: (where) IS TRUE, trailing slash", jsonReq("POST", "/api/v1/delete/", `{"database":"telegraf","measurement":"cpu","where":"(host = 'a' AND time < '2023-11-14T22:13:22Z') IS TRUE","dry_run":false,"confirm":true}`), 200,
			`{"success":true,"deleted_count":1,"affected_files":1,"rewritten_files":1,"execution_time_ms":X,"dry_run":false,"files_processed":["telegraf/cpu"]}`},
		{"what is left", arcQuery("SELECT host, n FROM cpu ORDER BY time", "x-arc-database", "telegraf"), 200,
			`{"success":true,"columns":["host","n"],"data":[["b",4],["a",5]],"row_count":2,"execution_time_ms":X,"timestamp":X}`},
		{"full table confirmed", jsonReq("POST", "/api/v1/delete", `{"database":"telegraf","measurement":"cpu","where":"WHERE 1=1","confirm":true}`), 200,
			`{"success":true,"deleted_count":2,"affected_files":1,"rewritten_files":1,"execution_time_ms":X,"dry_run":false,"files_processed":["telegraf/cpu"]}`},
		{"nothing left", arcQuery("SELECT count(*) AS n FROM cpu", "x-arc-database", "telegraf"), 200,
			`{"success":true,"columns":["n"],"data":[[0]],"row_count":1,"execution_time_ms":X,"timestamp":X}`},
	}
	// Statements Arc's checks let through fail in the engine, whose
	// error text is its own.
	stepCheck{norm: normalizeManage, partial: map[int]func(*testing.T, string){
		400: func(t *testing.T, body string) {
			if !strings.HasPrefix(body, `{"success":false,`) || !strings.Contains(body, `"error":"`) {
				t.Errorf("body %s", body)
			}
		},
	}}.run(t, ts, steps)
	// Disabled (the default): 403 with Arc's DeleteResponse.
	off := startGateway(t, nil)
	status, body, _ := off.do(t, jsonReq("POST", "/api/v1/delete", `{"database":"x","measurement":"y","where":"1=1","confirm":true}`))
	want := `{"success":false,"deleted_count":0,"affected_files":0,"rewritten_files":0,"execution_time_ms":X,"dry_run":false,"files_processed":null,"error":"Delete operations are disabled. Set delete.enabled=true in tsgate.toml to enable."}`
	if status != 403 || normalizeManage(body) != want {
		t.Errorf("disabled: %d %s", status, body)
	}
	status, body, _ = off.do(t, req{method: "POST", path: "/api/v1/delete", header: map[string]string{"Authorization": ""}})
	if status != 401 {
		t.Errorf("no token: %d %s", status, body)
	}
}

// TestArcRetentionAPI: Arc's retention routes (retention.go) with the
// Python client's create (all six fields) and arcli's execute
// ({"dry_run","confirm"}), then a real execution deleting old rows.
func TestArcRetentionAPI(t *testing.T) {
	ts := startGateway(t, nil)
	now := time.Now().UTC()
	old := now.Add(-40 * 24 * time.Hour).UnixNano()
	recent := now.Add(-time.Hour).UnixNano()
	writeLP(t, ts, "telegraf", fmt.Sprintf("cpu,host=a v=1 %d\ncpu,host=b v=2 %d\nmem,host=a v=3 %d\n", old, recent, old))
	steps := []contractStep{
		{"empty list is null", req{method: "GET", path: "/api/v1/retention"}, 200, `null`},
		{"create (python)", jsonReq("POST", "/api/v1/retention", `{"name": "thirty", "database": "telegraf", "measurement": "cpu", "retention_days": 30, "buffer_days": 7, "is_active": true}`), 201,
			`{"id":1,"name":"thirty","database":"telegraf","measurement":"cpu","retention_days":30,"buffer_days":7,"is_active":true,"last_execution_time":null,"last_execution_status":null,"last_deleted_count":null,"created_at":X,"updated_at":X}`},
		{"create whole database (arcli, trailing slash)", jsonReq("POST", "/api/v1/retention/", `{"name":"all","database":"telegraf","measurement":null,"retention_days":10,"buffer_days":0,"is_active":false}`), 201,
			`{"id":2,"name":"all","database":"telegraf","measurement":null,"retention_days":10,"buffer_days":0,"is_active":false,"last_execution_time":null,"last_execution_status":null,"last_deleted_count":null,"created_at":X,"updated_at":X}`},
		{"duplicate", jsonReq("POST", "/api/v1/retention", `{"name":"thirty","database":"telegraf","retention_days":30}`), 400, `{"error":"Retention policy with name 'thirty' already exists"}`},
		{"days", jsonReq("POST", "/api/v1/retention", `{"name":"x","database":"telegraf","retention_days":3,"buffer_days":3}`), 400, `{"error":"retention_days must be greater than buffer_days"}`},
		{"no name", jsonReq("POST", "/api/v1/retention", `{"database":"telegraf","retention_days":3}`), 400, `{"error":"name is required"}`},
		{"list newest first", req{method: "GET", path: "/api/v1/retention"}, 200,
			`[{"id":2,"name":"all","database":"telegraf","measurement":null,"retention_days":10,"buffer_days":0,"is_active":false,"last_execution_time":null,"last_execution_status":null,"last_deleted_count":null,"created_at":X,"updated_at":X},` +
				`{"id":1,"name":"thirty","database":"telegraf","measurement":"cpu","retention_days":30,"buffer_days":7,"is_active":true,"last_execution_time":null,"last_execution_status":null,"last_deleted_count":null,"created_at":X,"updated_at":X}]`},
		{"get missing", req{method: "GET", path: "/api/v1/retention/9"}, 404, `{"error":"Retention policy not found"}`},
		{"get bad id", req{method: "GET", path: "/api/v1/retention/x"}, 400, `{"error":"Invalid policy ID"}`},
		{"execute needs confirm", jsonReq("POST", "/api/v1/retention/1/execute", `{"dry_run":false,"confirm":false}`), 400, `{"error":"Confirmation required for retention policy execution. Set confirm=true"}`},
		{"execute inactive", jsonReq("POST", "/api/v1/retention/2/execute", `{"dry_run":true}`), 400, `{"error":"Retention policy is not active"}`},
		{"dry run", jsonReq("POST", "/api/v1/retention/1/execute", `{"dry_run":true,"confirm":false}`), 200,
			`{"policy_id":1,"policy_name":"thirty","deleted_count":1,"files_deleted":1,"execution_time_ms":X,"dry_run":true,"cutoff_date":X,"affected_measurements":["cpu"]}`},
		{"execute", jsonReq("POST", "/api/v1/retention/1/execute", `{"dry_run":false,"confirm":true}`), 200,
			`{"policy_id":1,"policy_name":"thirty","deleted_count":1,"files_deleted":1,"execution_time_ms":X,"dry_run":false,"cutoff_date":X,"affected_measurements":["cpu"]}`},
		{"old cpu row gone, mem kept", arcQuery("SELECT host, v FROM cpu UNION ALL SELECT 'mem-' || host, v FROM mem ORDER BY v", "x-arc-database", "telegraf"), 200,
			`{"success":true,"columns":["host","v"],"data":[["b",2],["mem-a",3]],"row_count":2,"execution_time_ms":X,"timestamp":X}`},
		{"executions", req{method: "GET", path: "/api/v1/retention/1/executions?limit=5"}, 200,
			`{"executions":[{"id":1,"policy_id":1,"execution_time":X,"status":"completed","deleted_count":1,"cutoff_date":X,"execution_duration_ms":X,"error_message":""}],"policy_id":1}`},
		{"get shows the last run", req{method: "GET", path: "/api/v1/retention/1"}, 200,
			`{"id":1,"name":"thirty","database":"telegraf","measurement":"cpu","retention_days":30,"buffer_days":7,"is_active":true,"last_execution_time":X,"last_execution_status":"completed","last_deleted_count":1,"created_at":X,"updated_at":X}`},
		{"update replaces every field", jsonReq("PUT", "/api/v1/retention/2", `{"name":"all","database":"telegraf","retention_days":20,"is_active":true}`), 200,
			`{"id":2,"name":"all","database":"telegraf","measurement":null,"retention_days":20,"buffer_days":0,"is_active":true,"last_execution_time":null,"last_execution_status":null,"last_deleted_count":null,"created_at":X,"updated_at":X}`},
		{"whole database", jsonReq("POST", "/api/v1/retention/2/execute", `{"confirm":true}`), 200,
			`{"policy_id":2,"policy_name":"all","deleted_count":1,"files_deleted":1,"execution_time_ms":X,"dry_run":false,"cutoff_date":X,"affected_measurements":["cpu","mem"]}`},
		// The Python client's ExecuteRetentionResponse needs a list here:
		// Arc lists every measurement the policy covered, deleted from or not.
		{"create (python, whole database)", jsonReq("POST", "/api/v1/retention", `{"name": "long", "database": "telegraf", "retention_days": 100, "measurement": null, "buffer_days": 7, "is_active": true}`), 201,
			`{"id":3,"name":"long","database":"telegraf","measurement":null,"retention_days":100,"buffer_days":7,"is_active":true,"last_execution_time":null,"last_execution_status":null,"last_deleted_count":null,"created_at":X,"updated_at":X}`},
		{"dry run deleting nothing lists what it covered", jsonReq("POST", "/api/v1/retention/3/execute", `{"dry_run": true, "confirm": false}`), 200,
			`{"policy_id":3,"policy_name":"long","deleted_count":0,"files_deleted":0,"execution_time_ms":X,"dry_run":true,"cutoff_date":X,"affected_measurements":["cpu","mem"]}`},
		{"delete", req{method: "DELETE", path: "/api/v1/retention/1"}, 200, `{"message":"Retention policy deleted successfully"}`},
		{"deleted", req{method: "GET", path: "/api/v1/retention/1/executions"}, 404, `{"error":"Retention policy not found"}`},
	}
	runSteps(t, ts, steps)
	// Reading needs a token, changing needs admin.
	status, body, _ := ts.do(t, req{method: "GET", path: "/api/v1/retention", header: map[string]string{"Authorization": ""}})
	if status != 401 {
		t.Errorf("no token: %d %s", status, body)
	}
}

// TestArcContinuousQueryAPI: Arc's continuous query routes
// (continuous_query.go) as arcli sends them (full bodies, tag_columns
// [] when none), and a real execution writing the aggregate through
// tsgate's write path.
func TestArcContinuousQueryAPI(t *testing.T) {
	ts := startGateway(t, nil)
	base := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	var lines strings.Builder
	for i := range 12 {
		fmt.Fprintf(&lines, "cpu,host=h%d usage=%d %d\n", i%2, i, base.Add(time.Duration(i)*5*time.Minute).UnixNano())
	}
	writeLP(t, ts, "telegraf", lines.String())
	q := `SELECT time_bucket(INTERVAL '30 minutes', time) AS time, host, avg(usage) AS usage_avg, count(*) AS n FROM telegraf.cpu WHERE time >= {start_time} AND time < {end_time} GROUP BY 1, 2`
	body := func(name, interval string, active bool) string {
		b, _ := json.Marshal(map[string]any{"name": name, "description": "half-hourly", "database": "telegraf", "source_measurement": "cpu",
			"destination_measurement": "cpu_30m", "query": q, "interval": interval, "tag_columns": []string{"host"},
			"retention_days": nil, "delete_source_after_days": nil, "is_active": active})
		return string(b)
	}
	qJSON, _ := json.Marshal(q)
	cq := func(active bool, last string) string {
		return `{"id":1,"name":"cpu30","description":"half-hourly","database":"telegraf","source_measurement":"cpu","destination_measurement":"cpu_30m","query":` + string(qJSON) +
			`,"interval":"1h","tag_columns":["host"],"retention_days":null,"delete_source_after_days":null,"is_active":` + fmt.Sprint(active) + last + `,"created_at":X,"updated_at":X}`
	}
	never := `,"last_execution_time":null,"last_execution_status":null,"last_processed_time":null,"last_records_written":null`
	steps := []contractStep{
		{"empty list", req{method: "GET", path: "/api/v1/continuous_queries/"}, 200, `null`},
		{"create", jsonReq("POST", "/api/v1/continuous_queries/", body("cpu30", "1h", true)), 201, cq(true, never)},
		{"duplicate", jsonReq("POST", "/api/v1/continuous_queries", body("cpu30", "1h", true)), 400, `{"error":"Continuous query with name 'cpu30' already exists"}`},
		{"no placeholders", jsonReq("POST", "/api/v1/continuous_queries", strings.Replace(body("x", "1h", true), "{start_time}", "'2026-01-01'", 1)), 400, `{"error":"query must contain {start_time} and {end_time} placeholders"}`},
		{"not a query", jsonReq("POST", "/api/v1/continuous_queries", strings.Replace(body("x", "1h", true), strings.TrimSuffix(string(qJSON[1:]), `"`), "DELETE FROM cpu WHERE time >= {start_time} AND time < {end_time}", 1)), 400, `{"error":"invalid query: Dangerous SQL operation not allowed"}`},
		{"bad destination", jsonReq("POST", "/api/v1/continuous_queries", strings.Replace(body("x", "1h", true), `"cpu_30m"`, `"1bad"`, 1)), 400,
			`{"error":"invalid destination_measurement: must start with a letter and contain only alphanumeric characters, underscores, or hyphens"}`},
		{"reserved tag", jsonReq("POST", "/api/v1/continuous_queries", strings.Replace(body("x", "1h", true), `["host"]`, `["time"]`, 1)), 400,
			`{"error":"tag column \"time\" is reserved: the time column is always the row's timestamp"}`},
		{"list", req{method: "GET", path: "/api/v1/continuous_queries?database=telegraf&is_active=true"}, 200, `[` + cq(true, never) + `]`},
		{"list inactive", req{method: "GET", path: "/api/v1/continuous_queries?is_active=false"}, 200, `null`},
		{"bad start", jsonReq("POST", "/api/v1/continuous_queries/1/execute", `{"start_time":"2026-01-01T10:00:00","dry_run":true}`), 400, `{"error":"Invalid start_time format"}`},
		{"dry run", jsonReq("POST", "/api/v1/continuous_queries/1/execute", `{"start_time":"2026-01-01T10:00:00Z","end_time":"2026-01-01T11:00:00Z","dry_run":true}`), 200,
			`{"query_id":1,"query_name":"cpu30","execution_id":X,"status":"dry_run","start_time":"2026-01-01T10:00:00Z","end_time":"2026-01-01T11:00:00Z","records_read":null,"records_written":0,"execution_time_seconds":X,"destination_measurement":"cpu_30m","dry_run":true,"executed_at":X,"executed_query":` +
				strings.NewReplacer("{start_time}", "'2026-01-01T10:00:00Z'", "{end_time}", "'2026-01-01T11:00:00Z'").Replace(string(qJSON)) + `}`},
		{"execute", jsonReq("POST", "/api/v1/continuous_queries/1/execute", `{"start_time":"2026-01-01T10:00:00Z","end_time":"2026-01-01T11:00:00Z","dry_run":false}`), 200,
			`{"query_id":1,"query_name":"cpu30","execution_id":X,"status":"completed","start_time":"2026-01-01T10:00:00Z","end_time":"2026-01-01T11:00:00Z","records_read":null,"records_written":4,"execution_time_seconds":X,"destination_measurement":"cpu_30m","dry_run":false,"executed_at":X}`},
		{"the aggregate was written", arcQuery("SELECT time, host, usage_avg, n FROM cpu_30m ORDER BY time, host", "x-arc-database", "telegraf"), 200,
			`{"success":true,"columns":["time","host","usage_avg","n"],"data":[["2026-01-01T10:00:00Z","h0",2,3],["2026-01-01T10:00:00Z","h1",3,3],["2026-01-01T10:30:00Z","h0",8,3],["2026-01-01T10:30:00Z","h1",9,3]],"row_count":4,"execution_time_ms":X,"timestamp":X}`},
		{"host is a tag", arcQuery("SHOW TABLES", "x-arc-database", "telegraf"), 200,
			`{"success":true,"columns":["database","table_name","storage_path","file_count","total_size_mb"],"data":[["telegraf","cpu","duckdb://telegraf/cpu",0,0],["telegraf","cpu_30m","duckdb://telegraf/cpu_30m",0,0]],"row_count":2,"execution_time_ms":X,"timestamp":X}`},
		{"executions", req{method: "GET", path: "/api/v1/continuous_queries/1/executions"}, 200,
			`{"executions":[{"id":1,"query_id":1,"execution_id":X,"execution_time":X,"status":"completed","start_time":"2026-01-01T10:00:00Z","end_time":"2026-01-01T11:00:00Z","records_read":null,"records_written":4,"execution_duration_seconds":X,"error_message":null}],"query_id":1}`},
		{"get", req{method: "GET", path: "/api/v1/continuous_queries/1"}, 200,
			cq(true, `,"last_execution_time":X,"last_execution_status":"completed","last_processed_time":"2026-01-01T11:00:00Z","last_records_written":4`)},
		{"deactivate", jsonReq("PUT", "/api/v1/continuous_queries/1", body("cpu30", "1h", false)), 200,
			cq(false, `,"last_execution_time":X,"last_execution_status":"completed","last_processed_time":"2026-01-01T11:00:00Z","last_records_written":4`)},
		{"inactive", jsonReq("POST", "/api/v1/continuous_queries/1/execute", `{}`), 400, `{"error":"Continuous query is not active"}`},
		{"delete", req{method: "DELETE", path: "/api/v1/continuous_queries/1"}, 200, `{"message":"Continuous query deleted successfully"}`},
		{"gone", req{method: "GET", path: "/api/v1/continuous_queries/1"}, 404, `{"error":"Continuous query not found"}`},
	}
	runSteps(t, ts, steps)
}

// TestArcEstimateAndMeasurementQuery: POST /api/v1/query/estimate and GET
// /api/v1/query/:measurement (query.go) with Arc's bodies.
func TestArcEstimateAndMeasurementQuery(t *testing.T) {
	ts := startCPU(t, nil)
	est := func(sql string, hdr ...string) req {
		r := arcQuery(sql, hdr...)
		r.path = "/api/v1/query/estimate"
		return r
	}
	steps := []contractStep{
		{"estimate", est("SELECT * FROM cpu", "x-arc-database", "telegraf"), 200,
			`{"success":true,"estimated_rows":3,"warning_level":"none","warning_message":"✅ Small query: 3 rows.","execution_time_ms":X}`},
		{"estimate low", est("SELECT * FROM range(12345)"), 200,
			`{"success":true,"estimated_rows":12345,"warning_level":"low","warning_message":"📊: 12,345 rows. Should complete quickly.","execution_time_ms":X}`},
		{"estimate high", est("SELECT * FROM range(1234567)"), 200,
			`{"success":true,"estimated_rows":1234567,"warning_level":"high","warning_message":"⚠️ Large query: 1,234,567 rows. This may take several minutes and use significant memory.","execution_time_ms":X}`},
		{"estimate show", est("SHOW DATABASES"), 400,
			`{"success":false,"estimated_rows":null,"warning_level":"error","execution_time_ms":X,"error":"SHOW DATABASES is not supported on the estimate endpoint; use /api/v1/query instead"}`},
		{"estimate engine error", est("SELECT nosuch FROM cpu", "x-arc-database", "telegraf"), 200, ""},
		// Arc's checks are patterns; text DuckDB cannot parse fails inside
		// the count, answered 200 (the Python client returns it, not raises).
		{"estimate syntax error", est("SELEC 1"), 200,
			`{"success":false,"estimated_rows":null,"warning_level":"error","execution_time_ms":X,"error":"Cannot estimate query: syntax error at or near \"SELEC\""}`},
		{"estimate not a query", est("DROP TABLE cpu"), 400,
			`{"success":false,"estimated_rows":null,"warning_level":"error","execution_time_ms":X,"error":"Dangerous SQL operation not allowed"}`},
		{"measurement", req{method: "GET", path: "/api/v1/query/cpu?database=telegraf&limit=2"}, 200,
			`{"success":true,"columns":["time","host","n","usage"],"data":[["2023-11-14T22:13:22.5Z","a",5,3],["2023-11-14T22:13:21Z","b",4,2.25]],"row_count":2,"execution_time_ms":X,"timestamp":X}`},
		{"measurement where order offset", req{method: "GET", path: "/api/v1/query/cpu?database=telegraf&where=host%20%3D%20%27a%27&order_by=time%20ASC&offset=1"}, 200,
			`{"success":true,"columns":["time","host","n","usage"],"data":[["2023-11-14T22:13:22.5Z","a",5,3]],"row_count":1,"execution_time_ms":X,"timestamp":X}`},
		{"measurement bad limit", req{method: "GET", path: "/api/v1/query/cpu?limit=-1"}, 400,
			`{"success":false,"columns":null,"data":null,"row_count":0,"execution_time_ms":X,"timestamp":X,"error":"Invalid limit: must be a positive integer up to 1000000"}`},
		{"measurement forbidden where", req{method: "GET", path: "/api/v1/query/cpu?where=1%3D1%3B"}, 400,
			`{"success":false,"columns":null,"data":null,"row_count":0,"execution_time_ms":X,"timestamp":X,"error":"Invalid where clause: where clause contains forbidden pattern: ;"}`},
		{"GET /api/v1/query/arrow is a measurement read, as in Arc", req{method: "GET", path: "/api/v1/query/arrow?database=telegraf"}, 200,
			`{"success":true,"columns":[],"data":[],"row_count":0,"execution_time_ms":X,"timestamp":X}`},
	}
	stepCheck{norm: normalizeManage, partial: map[int]func(*testing.T, string){
		200: func(t *testing.T, body string) {
			want := `{"success":false,"estimated_rows":null,"warning_level":"error","execution_time_ms":X,"error":"Cannot estimate query: Binder Error: Referenced column \"nosuch\" not found`
			if !strings.HasPrefix(normalizeManage(body), want) {
				t.Errorf("body %s", body)
			}
		},
	}}.run(t, ts, steps)
}

// TestArcDeleteRemote: the delete API and a retention run on the real
// remote backends, each with its own delete.
func TestArcDeleteRemote(t *testing.T) {
	backends := map[string]string{}
	if u := os.Getenv("TSGATE_TEST_POSTGRES_URL"); u != "" {
		backends["postgres"] = u
	}
	if u := os.Getenv("TSGATE_TEST_INFLUX_URL"); u != "" {
		backends["influxql"] = "influxql://" + strings.TrimPrefix(u, "http://") + "/default"
	}
	if u := os.Getenv("TSGATE_TEST_CLICKHOUSE_URL"); u != "" {
		backends["clickhouse"] = "clickhouse://" + strings.TrimPrefix(u, "http://") + "/default"
	}
	if len(backends) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: no real backend configured; run scripts/test.sh")
		}
		t.Skip("no real backend configured")
	}
	for name, u := range backends {
		t.Run(name, func(t *testing.T) {
			ts := startGateway(t, func(c *Config) { c.Backend.URL = u; c.Delete.Enabled = true })
			db := fmt.Sprintf("del_%s_%d", name, time.Now().UnixNano()%1_000_000)
			writeLP(t, ts, db, cpuLines)
			t.Cleanup(func() { ts.do(t, req{method: "DELETE", path: "/api/v1/databases/" + db + "?confirm=true"}) })
			status, body, _ := ts.do(t, jsonReq("POST", "/api/v1/delete", `{"database":"`+db+`","measurement":"cpu","where":"host = 'a' AND time < '2023-11-14T22:13:22Z'","confirm":true}`))
			if status != 200 || !strings.Contains(body, `"deleted_count":1,`) {
				t.Fatalf("delete: %d %s", status, body)
			}
			want := `{"success":true,"columns":["host"],"data":[["b"],["a"]],"row_count":2,"execution_time_ms":X,"timestamp":X}`
			deadline := time.Now().Add(10 * time.Second) // ClickHouse deletes in the background
			for {
				_, got, _ := ts.do(t, arcQuery("SELECT host FROM cpu ORDER BY time", "x-arc-database", db))
				if normalize(got) == want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after delete: %s", got)
				}
				time.Sleep(100 * time.Millisecond)
			}
			// A condition on a field: InfluxDB deletes by tag and time only.
			status, body, _ = ts.do(t, jsonReq("POST", "/api/v1/delete", `{"database":"`+db+`","measurement":"cpu","where":"usage > 2","confirm":true}`))
			if name == "influxql" {
				if status != 400 || !strings.Contains(body, "cannot be expressed exactly in influxql") {
					t.Errorf("field delete on influxql: %d %s", status, body)
				}
			} else if status != 200 || !strings.Contains(body, `"deleted_count":2,`) {
				t.Errorf("field delete: %d %s", status, body)
			}
		})
	}
}

// TestArcScheduler: tsgate's scheduler runs an active retention policy
// and an active continuous query by itself (Arc's open-source build runs
// them only on request), on the embedded store.
func TestArcScheduler(t *testing.T) {
	ts := startGateway(t, func(c *Config) { c.Retention.Interval = Duration{time.Second} })
	now := time.Now().UTC()
	writeLP(t, ts, "sched", fmt.Sprintf("cpu,host=a v=1 %d\ncpu,host=a v=2 %d\ncpu,host=b v=4 %d\n",
		now.Add(-40*24*time.Hour).UnixNano(), now.Add(-10*time.Minute).UnixNano(), now.Add(-5*time.Minute).UnixNano()))
	for _, r := range []req{
		jsonReq("POST", "/api/v1/retention", `{"name":"p","database":"sched","measurement":"cpu","retention_days":30,"buffer_days":0,"is_active":true}`),
		jsonReq("POST", "/api/v1/continuous_queries", `{"name":"q","database":"sched","source_measurement":"cpu","destination_measurement":"cpu_by_host","query":"SELECT host, sum(v) AS total FROM cpu WHERE time >= {start_time} AND time < {end_time} GROUP BY host","interval":"10s","tag_columns":["host"],"is_active":true}`),
	} {
		if status, body, _ := ts.do(t, r); status != 201 {
			t.Fatalf("%s: %d %s", r.path, status, body)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, old, _ := ts.do(t, arcQuery("SELECT count(*) AS n FROM cpu", "x-arc-database", "sched"))
		_, agg, _ := ts.do(t, arcQuery("SELECT host, total FROM cpu_by_host ORDER BY host", "x-arc-database", "sched"))
		if normalize(old) == `{"success":true,"columns":["n"],"data":[[2]],"row_count":1,"execution_time_ms":X,"timestamp":X}` &&
			normalize(agg) == `{"success":true,"columns":["host","total"],"data":[["a",2],["b",4]],"row_count":2,"execution_time_ms":X,"timestamp":X}` {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scheduler did not run both jobs:\n%s\n%s", old, agg)
		}
		time.Sleep(200 * time.Millisecond)
	}
	_, body, _ := ts.do(t, req{method: "GET", path: "/api/v1/continuous_queries/1/executions"})
	if !strings.Contains(body, `"execution_id":"cq-sched-`) || !strings.Contains(body, `"status":"completed"`) {
		t.Errorf("scheduled execution not recorded: %s", body)
	}
}

// TestArcSchedulersStatus: GET /api/v1/schedulers/ (arcli `scheduler
// status`; Arc's scheduler.go, any token) reports tsgate's own scheduler
// in Arc's running shape: the continuous queries it runs (active, interval
// of at least 10 s), and for retention its interval and the tick at which
// the first active policy falls due. Arc's open-source build answers
// {"enabled":false,"reason":"Enterprise license required"} for both
// (recorded in docs/clients/arcli): it runs neither.
func TestArcSchedulersStatus(t *testing.T) {
	ts := startGateway(t, nil)
	reader, _, err := ts.gateway.tokens.Create("reader", "", []auth.Permission{auth.Read})
	if err != nil {
		t.Fatal(err)
	}
	cq := func(name, interval string, active bool) req {
		return jsonReq("POST", "/api/v1/continuous_queries", fmt.Sprintf(`{"name":%q,"database":"sched","source_measurement":"cpu","destination_measurement":"cpu_%s","query":"SELECT host, count(*) AS n FROM cpu WHERE time >= {start_time} AND time < {end_time} GROUP BY host","interval":%q,"tag_columns":["host"],"is_active":%t}`, name, name, interval, active))
	}
	runSteps(t, ts, []contractStep{
		{"nothing to run", req{method: "GET", path: "/api/v1/schedulers/"}, 200,
			`{"cq_scheduler":{"job_count":0,"jobs":[],"license_valid":true,"running":true},"retention_scheduler":{"license_valid":true,"running":true,"schedule":"@every 1h0m0s"}}`},
	})
	for _, r := range []req{cq("minutely", "1m", true), cq("paused", "1m", false), cq("fast", "5s", true), cq("slow", "90m", true),
		jsonReq("POST", "/api/v1/retention", `{"name":"off","database":"sched","measurement":"cpu","retention_days":30,"is_active":false}`)} {
		if status, body, _ := ts.do(t, r); status != 201 {
			t.Fatalf("%s: %d %s", r.path, status, body)
		}
	}
	jobs := `"jobs":[{"cq_id":1,"cq_name":"minutely","interval":"1m0s"},{"cq_id":4,"cq_name":"slow","interval":"1h30m0s"}]`
	runSteps(t, ts, []contractStep{
		{"active queries at 10 s or more; no active policy, no next run", req{method: "GET", path: "/api/v1/schedulers"}, 200,
			`{"cq_scheduler":{"job_count":2,` + jobs + `,"license_valid":true,"running":true},"retention_scheduler":{"license_valid":true,"running":true,"schedule":"@every 1h0m0s"}}`},
		{"any token", req{method: "GET", path: "/api/v1/schedulers/", header: map[string]string{"Authorization": "Bearer " + reader}}, 200,
			`{"cq_scheduler":{"job_count":2,` + jobs + `,"license_valid":true,"running":true},"retention_scheduler":{"license_valid":true,"running":true,"schedule":"@every 1h0m0s"}}`},
		{"no token", req{method: "GET", path: "/api/v1/schedulers/", header: map[string]string{"Authorization": ""}}, 401,
			`{"error":"Authentication required","success":false}`},
	})

	// An active policy run now is next due an hour later, at the first
	// scheduler tick (every 5 s) from then.
	if status, body, _ := ts.do(t, jsonReq("POST", "/api/v1/retention", `{"name":"on","database":"sched","measurement":"cpu","retention_days":30,"is_active":true}`)); status != 201 {
		t.Fatalf("create policy: %d %s", status, body)
	}
	for {
		status, body, _ := ts.do(t, jsonReq("POST", "/api/v1/retention/2/execute", `{"confirm":true}`))
		if status == 200 {
			break
		}
		if status != 409 { // 409: the scheduler is running it right now
			t.Fatalf("execute: %d %s", status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, body, _ := ts.do(t, req{method: "GET", path: "/api/v1/retention/2"})
	var p struct {
		Last string `json:"last_execution_time"`
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	last, err := time.Parse(time.RFC3339, p.Last)
	if err != nil {
		t.Fatalf("last_execution_time %q: %v", p.Last, err)
	}
	_, body, _ = ts.do(t, req{method: "GET", path: "/api/v1/schedulers/"})
	var st struct {
		Retention struct {
			NextRun string `json:"next_run"`
		} `json:"retention_scheduler"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	next, err := time.Parse(time.RFC3339, st.Retention.NextRun)
	if err != nil {
		t.Fatalf("next_run in %s: %v", body, err)
	}
	if due := last.Add(time.Hour); next.Before(due) || next.After(due.Add(6*time.Second)) {
		t.Errorf("next_run %s, want within a tick after %s", next, due)
	}
	if want := `{"cq_scheduler":{"job_count":2,` + jobs + `,"license_valid":true,"running":true},"retention_scheduler":{"license_valid":true,"next_run":"` + st.Retention.NextRun + `","running":true,"schedule":"@every 1h0m0s"}}`; body != want {
		t.Errorf("got\n%s\nwant\n%s", body, want)
	}

	off := startGateway(t, func(c *Config) { c.Retention.Enabled, c.ContinuousQuery.Enabled = false, false })
	runSteps(t, off, []contractStep{
		{"both off: Arc's not-enabled shape", req{method: "GET", path: "/api/v1/schedulers/"}, 200,
			`{"cq_scheduler":{"enabled":false,"reason":"CQ feature not enabled (continuous_query.enabled=false)"},"retention_scheduler":{"enabled":false,"reason":"Retention feature not enabled (retention.enabled=false)"}}`},
	})
}
