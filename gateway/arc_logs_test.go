package gateway

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"tsgate/auth"
)

// TestArcLogs: GET /api/v1/logs as Arc answers it (internal/api/server.go
// logsHandler, internal/logger/buffer.go) and arcli's logs command calls
// it: admin only, Arc's parameter clamping, its fiber.Map body (sorted
// keys), entries newest first with Arc's level names; a record the
// gateway logs is read back with its message and front end only.
func TestArcLogs(t *testing.T) {
	ts := startGateway(t, func(c *Config) { c.Log.Level = "info" })
	reader, _, err := ts.gateway.tokens.Create("reader", "", []auth.Permission{auth.Read, auth.Write, auth.Delete})
	if err != nil {
		t.Fatal(err)
	}
	// "tsgate serving" is logged just after /ready turns 200; what
	// follows is logged after it.
	awaitLog(t, ts, "tsgate serving")
	writeLP(t, ts, "telegraf", cpuLines)
	// A malformed line is logged at debug, below the configured level.
	writeLP(t, ts, "telegraf", cpuLines+"not line protocol\n")
	// An engine error is logged at warn by the Arc front end, with the
	// engine's message in an attribute the ring does not keep.
	if status, body, _ := ts.do(t, arcQuery("SELECT nocolumn FROM telegraf.cpu")); status < 400 {
		t.Fatalf("query of a missing column: %d %s", status, body)
	}

	steps := []contractStep{
		{"no token", req{method: "GET", path: "/api/v1/logs", header: map[string]string{"Authorization": ""}}, 401,
			`{"error":"Authentication required","success":false}`},
		{"not admin", req{method: "GET", path: "/api/v1/logs", header: map[string]string{"Authorization": "Bearer " + reader}}, 403,
			`{"error":"Permission denied: admin required","success":false}`},
		{"warn and above", req{method: "GET", path: "/api/v1/logs?level=warn"}, 200,
			`{"count":1,"level_filter":"warn","limit":100,"logs":[{"timestamp":X,"level":"WARN","component":"arc","message":"query failed"}],"since_minutes":60,"timestamp":X}`},
		{"newest first", req{method: "GET", path: "/api/v1/logs?limit=2&level=INFO&since_minutes=1440"}, 200,
			`{"count":2,"level_filter":"INFO","limit":2,"logs":[{"timestamp":X,"level":"WARN","component":"arc","message":"query failed"},{"timestamp":X,"level":"INFO","message":"tsgate serving"}],"since_minutes":1440,"timestamp":X}`},
		{"out of range parameters take Arc's defaults", req{method: "GET", path: "/api/v1/logs?limit=1001&since_minutes=1441&level=warn"}, 200,
			`{"count":1,"level_filter":"warn","limit":100,"logs":[{"timestamp":X,"level":"WARN","component":"arc","message":"query failed"}],"since_minutes":60,"timestamp":X}`},
		{"unparsable parameters too", req{method: "GET", path: "/api/v1/logs?limit=x&since_minutes=0&level=error"}, 200,
			`{"count":0,"level_filter":"error","limit":100,"logs":[],"since_minutes":60,"timestamp":X}`},
		{"fatal: none", req{method: "GET", path: "/api/v1/logs?limit=1&level=fatal"}, 200,
			`{"count":0,"level_filter":"fatal","limit":1,"logs":[],"since_minutes":60,"timestamp":X}`},
		{"unknown level matches by name", req{method: "GET", path: "/api/v1/logs?level=warning"}, 200,
			`{"count":0,"level_filter":"warning","limit":100,"logs":[],"since_minutes":60,"timestamp":X}`},
	}
	runSteps(t, ts, steps)

	// Every entry: Arc's time format (RFC 3339 UTC, to the second), a
	// level at or above the configured one, no attribute's text.
	status, body, _ := ts.do(t, req{method: "GET", path: "/api/v1/logs?limit=1000&level=debug"})
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var got struct {
		Count     int
		Timestamp string
		Logs      []struct{ Timestamp, Level, Component, Message string }
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if _, err := time.Parse(time.RFC3339, got.Timestamp); err != nil || !strings.HasSuffix(got.Timestamp, "Z") {
		t.Errorf("timestamp %q", got.Timestamp)
	}
	if got.Count != len(got.Logs) || got.Count < 3 {
		t.Errorf("count %d, %d entries: %s", got.Count, len(got.Logs), body)
	}
	for _, e := range got.Logs {
		if ts, err := time.Parse(time.RFC3339, e.Timestamp); err != nil || ts.Location() != time.UTC || ts.Nanosecond() != 0 {
			t.Errorf("entry time %q", e.Timestamp)
		}
		if e.Level == "DEBUG" || e.Message == "dropped malformed lines" {
			t.Errorf("debug record kept at level info: %+v", e)
		}
	}
	for _, leak := range []string{"nocolumn", "Binder", "telegraf", "127.0.0.1"} {
		if strings.Contains(body, leak) {
			t.Errorf("the log route shows %q, from a record's attributes: %s", leak, body)
		}
	}
}

// awaitLog polls the log route until an entry has message msg.
func awaitLog(t *testing.T, ts *testServer, msg string) {
	t.Helper()
	for i := 0; ; i++ {
		_, body, _ := ts.do(t, req{method: "GET", path: "/api/v1/logs?limit=1000"})
		if strings.Contains(body, `"message":"`+msg+`"`) {
			return
		}
		if i > 200 {
			t.Fatalf("%q never logged: %s", msg, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
