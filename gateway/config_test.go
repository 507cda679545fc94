package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoadConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tsgate.toml")
	if err := os.WriteFile(file, []byte(`
data_dir = "/var/lib/tsgate"
[arc]
listen = ":8001"
query_timeout = "10s"
[log]
format = "json"
[backend]
write_buffer_rows = 5000
write_retries = 5
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, used, err := LoadConfig(file, []string{
		"TSGATE_ARC_LISTEN=127.0.0.1:9000", // env beats file
		"TSGATE_AUTH_BOOTSTRAP_TOKEN=abcdefghijklmnopq",
		"TSGATE_BACKEND_URL=",
		"TSGATE_AUTH_ENABLED=false",
		"TSGATE_BACKEND_WRITE_RETRIES=2", // env beats file
		"TSGATE_BACKEND_WRITE_RETRY_MAX_WAIT=250ms",
		"OTHER_ARC_LISTEN=ignored",
	})
	if err != nil {
		t.Fatal(err)
	}
	if used != file {
		t.Errorf("used %q", used)
	}
	want := Default()
	want.DataDir = "/var/lib/tsgate"
	want.Arc.Listen = "127.0.0.1:9000"
	want.Arc.QueryTimeout = Duration{10 * time.Second}
	want.Log.Format = "json"
	want.Auth.BootstrapToken = "abcdefghijklmnopq"
	want.Auth.Enabled = false
	want.Backend.WriteBufferRows = 5000
	want.Backend.WriteRetries = 2
	want.Backend.WriteRetryMaxWait = Duration{250 * time.Millisecond}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.toml")
	os.WriteFile(unknown, []byte("[arc]\nlisten_typo = \":1\"\n"), 0o600)
	cases := []struct {
		name, file string
		env        []string
		want       string
	}{
		{"unknown key", unknown, nil, `unknown key "arc.listen_typo"`},
		{"missing file", filepath.Join(dir, "absent.toml"), nil, "no such file"},
		{"bad env duration", "", []string{"TSGATE_ARC_QUERY_TIMEOUT=soon"}, "TSGATE_ARC_QUERY_TIMEOUT"},
		{"bad env bool", "", []string{"TSGATE_AUTH_ENABLED=maybe"}, "TSGATE_AUTH_ENABLED"},
		{"bad log format", "", []string{"TSGATE_LOG_FORMAT=xml"}, "log.format"},
		{"zero write buffer", "", []string{"TSGATE_BACKEND_WRITE_BUFFER_ROWS=0"}, "backend.write_buffer_rows"},
		{"negative retries", "", []string{"TSGATE_BACKEND_WRITE_RETRIES=-1"}, "backend.write_retries"},
		{"bad retry wait", "", []string{"TSGATE_BACKEND_WRITE_RETRY_MAX_WAIT=soon"}, "TSGATE_BACKEND_WRITE_RETRY_MAX_WAIT"},
		{"bad durability", "", []string{"TSGATE_INGEST_DURABILITY=fsync"}, "ingest.durability"},
		{"zero buffer rows", "", []string{"TSGATE_INGEST_DURABILITY=buffer", "TSGATE_INGEST_BUFFER_ROWS=0"}, "ingest.buffer_rows"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(dir) // no tsgate.toml on the search path
			_, _, err := LoadConfig(c.file, c.env)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}
