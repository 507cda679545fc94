package translate

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	iql "github.com/influxdata/influxql"
	pg "github.com/pganalyze/pg_query_go/v6"

	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/pgparse"
	"tsgate/translate/target"
)

var update = flag.Bool("update", false, "rewrite testdata/cases.golden from the current output")

// testSchema is memtrace's events plus TSBS's cpu measurement.
func testSchema() *StaticSchema {
	// Tags memtrace and TSBS write in every point are Required too.
	tag := func(n string) target.ColumnInfo {
		return target.ColumnInfo{Name: n, Tag: true, Type: model.TypeString, Required: true}
	}
	// Fields memtrace and TSBS write in every point are Required.
	field := func(n string, t model.FieldType) target.ColumnInfo {
		return target.ColumnInfo{Name: n, Type: t, Required: true}
	}
	optional := func(n string, t model.FieldType) target.ColumnInfo { return target.ColumnInfo{Name: n, Type: t} }
	cpu := []target.ColumnInfo{tag("hostname"), tag("region"), tag("datacenter"), tag("os")}
	for _, f := range []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq",
		"usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"} {
		cpu = append(cpu, field(f, model.TypeFloat))
	}
	return &StaticSchema{Ver: 1, Measurements: map[string][]target.ColumnInfo{
		"events": {tag("org_id"), tag("agent_id"), tag("session_id"), tag("memory_type"), tag("event_type"),
			field("content", model.TypeString), field("metadata_json", model.TypeString), field("tags_csv", model.TypeString),
			field("dedup_key", model.TypeString), field("importance", model.TypeFloat), field("parent_id", model.TypeString)},
		// mem has no field present in every point: count(*) and raw
		// selects of tags cannot be exact in InfluxQL or Flux.
		// Its host tag is absent from some points.
		"mem": {{Name: "hostname", Tag: true, Type: model.TypeString}, optional("used", model.TypeInt), optional("free", model.TypeUint), optional("ok", model.TypeBool)},
		"cpu": cpu,
	}}
}

var allTargets = []string{"duckdb", "postgres", "timescaledb", "clickhouse", "clickhouse-legacy", "influxql", "flux"}

// testDatabase is the request's default database (Flux names its bucket).
const testDatabase = "memory"

// result renders one translation the way the golden file records it.
func result(tr *Translation, err error) string {
	if err != nil {
		e := errs.As(err)
		if e.Code == errs.Unsupported {
			return "REFUSED " + e.Msg
		}
		return "ERROR " + e.State() + " " + e.Msg
	}
	if tr.Catalog != nil {
		return "CATALOG " + tr.Catalog.String()
	}
	if tr.Const != nil {
		return "CONST " + tr.Const.String()
	}
	s := tr.Text
	for _, n := range tr.Notes {
		s += "\n  NOTE " + n.String()
	}
	for _, p := range tr.Post {
		s += "\n  POST " + p.String()
	}
	return s
}

// TestCases runs every case against every target and compares with the
// golden file, sqlglot style: one block per case, one line per target.
// Regenerate with -update and review the diff; never hand-edit.
func TestCases(t *testing.T) {
	tr := New(WithCacheSize(0))
	schema := testSchema()
	var golden strings.Builder
	want := readGolden(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var block strings.Builder
			fmt.Fprintf(&block, "## %s\n%s\n", c.name, c.sql)
			for _, tg := range allTargets {
				out, err := tr.TranslateIn(context.Background(), c.sql, gen(tg), testDatabase, schema)
				fmt.Fprintf(&block, "-- %s: %s\n", tg, result(out, err))
				if err == nil && out.Catalog == nil && out.Const == nil {
					checkOutput(t, tg, out)
				}
				if err != nil && errs.CodeOf(err) == errs.Internal {
					t.Errorf("%s: untyped error %v", tg, err)
				}
			}
			golden.WriteString(block.String())
			golden.WriteString("\n")
			if *update {
				return
			}
			w, ok := want[c.name]
			if !ok {
				t.Fatalf("case %q not in golden file; run with -update", c.name)
			}
			if d := cmp.Diff(w, block.String()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	if *update {
		if err := os.WriteFile("testdata/cases.golden", []byte(golden.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkOutput re-parses SQL output where PostgreSQL's grammar covers it and
// checks generation is a fixed point: translating the output again for the
// same target gives the same text.
func checkOutput(t *testing.T, tg string, out *Translation) {
	t.Helper()
	var src pgparse.Flavor
	switch tg {
	case "influxql":
		// The text must be what the library prints for its own parse.
		st, err := iql.ParseStatement(out.Text)
		if err != nil {
			t.Errorf("influxql output does not parse: %v\n%s", err, out.Text)
		} else if st.String() != out.Text {
			t.Errorf("influxql output does not re-print equal:\n%s\n%s", out.Text, st.String())
		}
		return
	case "flux":
		return // executed against InfluxDB 1.8 in the backends issue
	case "postgres", "timescaledb":
		src = pgparse.Postgres
	case "duckdb":
		src = pgparse.Arc
	default:
		return // ClickHouse output is checked against a real server elsewhere
	}
	if _, err := pg.Parse(out.Text); err != nil {
		t.Errorf("%s output does not parse: %v\n%s", tg, err, out.Text)
		return
	}
	again, err := New(WithCacheSize(0), WithSource(src)).Translate(context.Background(), out.Text, gen(tg), testSchema())
	if err != nil {
		t.Errorf("%s output does not translate again: %v\n%s", tg, err, out.Text)
		return
	}
	if d := cmp.Diff(out.Text, again.Text); d != "" {
		t.Errorf("%s generation is not a fixed point (-first +second):\n%s", tg, d)
	}
}

func readGolden(t *testing.T) map[string]string {
	data, err := os.ReadFile("testdata/cases.golden")
	if err != nil {
		if *update {
			return nil
		}
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, b := range strings.Split(string(data), "\n\n") {
		if !strings.HasPrefix(b, "## ") {
			continue
		}
		name, _, _ := strings.Cut(b[3:], "\n")
		out[name] = b + "\n"
	}
	return out
}
