package query

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"tsgate/dialects/clickhouse"
	"tsgate/dialects/duckdb"
	"tsgate/dialects/duckdb/duckdbtest"
	"tsgate/dialects/duckdbsql"
	"tsgate/dialects/flux"
	"tsgate/dialects/influxql"
	"tsgate/dialects/postgres"
	bt "tsgate/internal/batchtest"
	"tsgate/model"
	"tsgate/translate"
	"tsgate/translate/target"
)

// TestConstAnswersLikeDuckDB checks the constant SELECTs the gateway
// answers itself against DuckDB running the same text: same column
// names, types and values, from both source dialects and for every
// target, so no client can tell who answered.
func TestConstAnswersLikeDuckDB(t *testing.T) {
	ctx := context.Background()
	store := duckdbtest.Open(t, filepath.Join(t.TempDir(), "c.duckdb"))
	queries := []string{
		"SELECT 1",
		"select 1 as one",
		"SELECT -1, 0, 2147483647, 2147483648, -2147483648, -2147483649, 9223372036854775807",
		"SELECT 'ok', 'it''s', '', 'a\\b', '%_'",
		"SELECT true, false",
		"SELECT -9223372036854775807",
		"SELECT NULL",
		"SELECT 1 AS a, 'x' AS b, true AS c, NULL AS d",
	}
	// Not constants the gateway can type: these go to the backend.
	for _, q := range []string{"SELECT 1.5", "SELECT -9223372036854775808", "SELECT 1 + 1", "SELECT 1 FROM cpu", "SELECT 1 LIMIT 0", "SELECT DISTINCT 1", "SELECT 1 WHERE false"} {
		got, err := translate.New().TranslateIn(ctx, q, duckdbsql.New(), "db", nil)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got.Const != nil {
			t.Errorf("%s: answered by the gateway", q)
		}
	}
	for _, src := range []translate.Source{translate.FromArc, translate.FromPostgres} {
		tr := translate.New(translate.WithSource(src))
		for _, q := range queries {
			for _, gen := range []target.Generator{duckdbsql.New(), postgres.New(), clickhouse.NewLegacy(), influxql.New(), flux.New()} {
				t.Run(q+"/"+gen.Name(), func(t *testing.T) {
					got, err := tr.TranslateIn(ctx, q, gen, "db", nil)
					if err != nil {
						t.Fatal(err)
					}
					if got.Const == nil {
						t.Fatalf("not answered by the gateway: %q", got.Text)
					}
					wantCols, wantRows := bt.Rows(t, mustQuery(t, store, q))
					gotCols, gotRows := bt.Rows(t, got.Const.Rows())
					if d := cmp.Diff(wantCols, gotCols); d != "" {
						t.Errorf("columns (-duckdb +gateway):\n%s", d)
					}
					if d := cmp.Diff(wantRows, gotRows); d != "" {
						t.Errorf("rows (-duckdb +gateway):\n%s", d)
					}
				})
			}
		}
	}
}

func mustQuery(t *testing.T, s *duckdb.Store, q string) model.Rows {
	t.Helper()
	r, err := s.Query(context.Background(), "db", q)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
