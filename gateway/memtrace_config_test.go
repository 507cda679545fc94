package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tsgate/memtrace"
)

func TestMemtraceCompatConfig(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	// A memtrace.toml as memtrace ships it, unrelated keys included.
	err := os.WriteFile(filepath.Join(dir, "memtrace.toml"), []byte(`
[server]
host = "0.0.0.0"
port = 9200
read_timeout = 30

[log]
level = "debug"
format = "console"

[arc]
url = "http://localhost:8000"
api_key = "x"
database = "agents"
write_batch_size = 100

[auth]
enabled = true
db_path = "./data/memtrace.db"

[dedup]
enabled = false
window_hours = 12
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := LoadConfig("", nil)
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.Memtrace
	if m.Listen != ":9200" || cfg.Log.Level != "debug" || cfg.Log.Format != "text" || m.Database != "agents" ||
		m.Measurement != "events" || !m.AuthEnabled || m.Metadata.Path != "./data/memtrace.db" || m.Dedup.Enabled || m.Dedup.WindowHours != 12 {
		t.Fatalf("from memtrace.toml: %+v log %+v", m, cfg.Log)
	}
	// MEMTRACE_* beats memtrace.toml; TSGATE_* beats both.
	cfg, _, err = LoadConfig("", []string{
		"MEMTRACE_SERVER_PORT=9300", "MEMTRACE_SERVER_HOST=127.0.0.1", "MEMTRACE_DEDUP_WINDOW_HOURS=6",
		"MEMTRACE_LOG_FORMAT=json", "MEMTRACE_AUTH_ENABLED=false", "MEMTRACE_ARC_MEASUREMENT=mem_events",
		"TSGATE_MEMTRACE_DEDUP_WINDOW_HOURS=48",
	})
	if err != nil {
		t.Fatal(err)
	}
	m = cfg.Memtrace
	if m.Listen != "127.0.0.1:9300" || cfg.Log.Format != "json" || m.AuthEnabled || m.Measurement != "mem_events" || m.Dedup.WindowHours != 48 {
		t.Fatalf("with environment: %+v log %+v", m, cfg.Log)
	}
	if _, _, err := LoadConfig("", []string{"MEMTRACE_SERVER_PORT=ninety"}); err == nil {
		t.Fatal("a non-numeric MEMTRACE_SERVER_PORT was accepted")
	}
	if _, _, err := LoadConfig("", []string{"MEMTRACE_ARC_MEASUREMENT=events; DROP TABLE x"}); err == nil {
		t.Fatal("a measurement that is not a bare name was accepted")
	}
	// memtrace's master key (env only in memtrace); TSGATE_ wins.
	mk := memtrace.NewMasterKey()
	cfg, _, err = LoadConfig("", []string{"MEMTRACE_MASTER_KEY=" + mk, "TSGATE_MEMTRACE_REQUIRE_ORG_BACKEND=true"})
	if err != nil || cfg.Memtrace.MasterKey != mk || !cfg.Memtrace.RequireOrgBackend {
		t.Fatalf("master key: %q %v %v", cfg.Memtrace.MasterKey, cfg.Memtrace.RequireOrgBackend, err)
	}
	if _, _, err := LoadConfig("", []string{"MEMTRACE_MASTER_KEY=short"}); err == nil || !strings.Contains(err.Error(), "base64 of 32 bytes") {
		t.Fatalf("a malformed master key: %v", err)
	}
}
