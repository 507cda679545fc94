package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"tsgate/dialects/registry"
	"tsgate/internal/testenv"
	"tsgate/model"
)

// TestTranslateCLI prints a translation with each kind of note the command
// shows: the text, the gateway's post steps, a constant answered by the
// gateway, a refusal (exit 2); and reads the schema file's required
// fields and database, without which InfluxQL and Flux cannot count
// points or name a bucket.
func TestTranslateCLI(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	schema := file("schema.json", `{"events": {"tags": ["org_id", "agent_id"], "fields": {"content": "string"}}}`)
	cpu := `{"cpu": {"tags": ["host"], "fields": {"usage": "float", "idle": "float"}, "required": ["usage"]}}`
	required := file("required.json", cpu)
	withDB := file("db.json", `{"database": "telegraf", "measurements": `+cpu+`}`)
	for _, c := range []struct {
		name    string
		args    []string
		code    int
		want    string
		wantErr string
	}{
		{"post steps", []string{"--to", "influxql", "--schema", schema, "SELECT * FROM events WHERE content LIKE '%a\nb%' ORDER BY agent_id LIMIT 2"}, 0,
			"SELECT * FROM events WHERE content =~ /a\\nb/\n" +
				"-- gateway step: sort \"nullif\"(\"coalesce\"(agent_id, ''), '')\n" +
				"-- gateway step: limit 2 offset 0\n" +
				"-- gateway step: project time := time, agent_id := \"nullif\"(\"coalesce\"(agent_id, ''), ''), content := content, org_id := \"nullif\"(\"coalesce\"(org_id, ''), '')\n", ""},
		{"constant", []string{"--from", "postgres", "--to", "flux", "SELECT 1"}, 0,
			"-- answered by the gateway: \"1\" INTEGER = 1\n", ""},
		{"refusal", []string{"--to", "influxql", "--schema", schema, "SELECT content FROM events e, events f"}, 2, "", "refused (SQLSTATE 0A000)"},
		{"count without required field", []string{"--to", "influxql", "--schema", schema, "SELECT count(*) FROM events"}, 2, "", "refused (SQLSTATE 0A000)"},
		{"count with required field", []string{"--to", "influxql", "--schema", required, "SELECT count(*) FROM cpu WHERE host = 'a'"}, 0,
			"SELECT count(usage) AS _c0 FROM cpu WHERE host = 'a'\n" +
				"-- note: count(*): counts the points that have field usage, which the schema marks present in every point\n" +
				"-- gateway step: default-row _c0 := 0\n" +
				"-- gateway step: project count_star() := _c0\n", ""},
		{"flux without a database", []string{"--to", "flux", "--schema", required, "SELECT usage FROM cpu"}, 2, "", "Flux reads a bucket"},
		{"flux with the file's database", []string{"--to", "flux", "--schema", withDB, "SELECT host, usage FROM cpu LIMIT 2"}, 0,
			"from(bucket: \"telegraf/autogen\")\n" +
				"  |> range(start: 1677-09-21T00:12:43.145224194Z, stop: 2262-04-11T23:47:16.854775806Z)\n" +
				"  |> filter(fn: (r) => r._measurement == \"cpu\")\n" +
				"  |> pivot(rowKey: [\"_time\"], columnKey: [\"_field\"], valueColumn: \"_value\")\n" +
				"  |> group()\n" +
				"  |> limit(n: 2)\n" +
				"-- gateway step: project host := \"nullif\"(\"coalesce\"(host, ''), ''), usage := usage\n", ""},
		{"--db over the file's database", []string{"--to", "flux", "--schema", withDB, "--db", "other", "SELECT usage FROM cpu LIMIT 1"}, 0,
			"from(bucket: \"other/autogen\")\n" +
				"  |> range(start: 1677-09-21T00:12:43.145224194Z, stop: 2262-04-11T23:47:16.854775806Z)\n" +
				"  |> filter(fn: (r) => r._measurement == \"cpu\")\n" +
				"  |> pivot(rowKey: [\"_time\"], columnKey: [\"_field\"], valueColumn: \"_value\")\n" +
				"  |> group()\n" +
				"  |> limit(n: 1)\n" +
				"-- gateway step: project usage := usage\n", ""},
		{"misspelt key", []string{"--to", "influxql", "--schema", file("typo.json", `{"cpu": {"fields": {"usage": "float"}, "requird": ["usage"]}}`), "SELECT 1"}, 1, "",
			`measurement cpu: json: unknown field "requird"`},
		{"required not a field", []string{"--to", "influxql", "--schema", file("bad.json", `{"cpu": {"tags": ["host"], "fields": {"usage": "float"}, "required": ["host"]}}`), "SELECT 1"}, 1, "",
			`measurement cpu: required "host" is not one of the fields`},
		{"schema and backend", []string{"--schema", schema, "--backend", "influxql://127.0.0.1:1/x", "SELECT 1"}, 1, "", "usage:"},
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
			if !strings.Contains(errOut.String(), c.wantErr) {
				t.Errorf("stderr %q lacks %q", errOut.String(), c.wantErr)
			}
		})
	}
}

// TestTranslateCLIBackend: with --backend the command reads the live
// schema and the database from a real InfluxDB, as the server does: a
// field tsgate wrote in every point makes count(*) translatable for
// InfluxQL and Flux, and the URL's database is Flux's bucket.
func TestTranslateCLIBackend(t *testing.T) {
	base := testenv.URL(t, "TSGATE_TEST_INFLUX_URL")
	host := strings.TrimPrefix(base, "http://")
	db := fmt.Sprintf("tsgate_translate_%d", time.Now().UnixNano())
	t.Cleanup(func() {
		resp, err := http.PostForm(base+"/query", url.Values{"q": {"DROP DATABASE " + db}})
		if err == nil {
			resp.Body.Close()
		}
	})
	ctx := context.Background()
	be, err := registry.Open(ctx, "influxql://"+host+"/"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	var b model.Batch
	for i := range 3 {
		cells := []model.Cell{{Name: "host", Tag: true, Value: model.String("h" + fmt.Sprint(i%2))}, {Name: "usage", Value: model.Float(float64(i))}}
		if i == 0 {
			cells = append(cells, model.Cell{Name: "idle", Value: model.Float(1)})
		}
		b.Table("cpu").AppendRow(int64(1_764_115_200_000_000+i*1_000_000), cells)
	}
	if _, err := be.Write(ctx, db, &b); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"influxql", []string{"--backend", "influxql://" + host + "/" + db},
			"SELECT count(usage) AS _c0 FROM cpu\n" +
				"-- note: count(*): counts the points that have field usage, which the schema marks present in every point\n" +
				"-- gateway step: default-row _c0 := 0\n" +
				"-- gateway step: project count_star() := _c0\n"},
		{"flux", []string{"--backend", "flux://" + host + "/" + db},
			"from(bucket: \"" + db + "/autogen\")\n" +
				"  |> range(start: 1677-09-21T00:12:43.145224194Z, stop: 2262-04-11T23:47:16.854775806Z)\n" +
				"  |> filter(fn: (r) => r._measurement == \"cpu\")\n" +
				"  |> pivot(rowKey: [\"_time\"], columnKey: [\"_field\"], valueColumn: \"_value\")\n" +
				"  |> group(columns: [])\n" +
				"  |> reduce(identity: {_c0: 0}, fn: (r, accumulator) => ({_c0: accumulator._c0 + 1}))\n" +
				"  |> group()\n" +
				"-- note: count(*): counts the points that have field usage, which the schema marks present in every point\n" +
				"-- gateway step: default-row _c0 := 0\n" +
				"-- gateway step: project count_star() := _c0\n"},
		{"another target on the backend's schema", []string{"--backend", "influxql://" + host + "/" + db, "--to", "postgres"},
			"SELECT count(*) AS \"count_star()\" FROM cpu\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append(append([]string{"translate"}, c.args...), "SELECT count(*) FROM cpu")
			if code := run(ctx, args, &out, &errOut); code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
			}
			if d := cmp.Diff(c.want, out.String()); d != "" {
				t.Errorf("stdout (-want +got):\n%s", d)
			}
		})
	}
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"translate", "--backend", "influxql://127.0.0.1:1/" + db, "SELECT count(*) FROM cpu"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "backend influxql") {
		t.Errorf("unreachable backend: exit %d, stderr %q", code, errOut.String())
	}
}
