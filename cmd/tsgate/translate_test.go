package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTranslateCLI prints a translation with each kind of note the command
// shows: the text, the gateway's post steps, a constant answered by the
// gateway, a refusal (exit 2).
func TestTranslateCLI(t *testing.T) {
	schema := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(schema, []byte(`{"events": {"tags": ["org_id", "agent_id"], "fields": {"content": "string"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"post steps", []string{"--to", "influxql", "--schema", schema, "SELECT * FROM events WHERE content LIKE '%a\nb%' ORDER BY agent_id LIMIT 2"}, 0,
			"SELECT * FROM events WHERE content =~ /a\\nb/\n" +
				"-- gateway step: sort \"nullif\"(\"coalesce\"(agent_id, ''), '')\n" +
				"-- gateway step: limit 2 offset 0\n" +
				"-- gateway step: project time := time, agent_id := \"nullif\"(\"coalesce\"(agent_id, ''), ''), content := content, org_id := \"nullif\"(\"coalesce\"(org_id, ''), '')\n"},
		{"constant", []string{"--from", "postgres", "--to", "flux", "SELECT 1"}, 0,
			"-- answered by the gateway: \"1\" INTEGER = 1\n"},
		{"refusal", []string{"--to", "influxql", "--schema", schema, "SELECT content FROM events e, events f"}, 2, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"translate"}, c.args...), &out, &errOut)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, out.String(), errOut.String())
			}
			if d := cmp.Diff(c.want, out.String()); d != "" {
				t.Errorf("stdout (-want +got):\n%s", d)
			}
		})
	}
}
