package translate

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// TestPGDivisionKinds: PostgreSQL's / truncates when both operands are
// integers, and the type of a sum depends on its argument's width:
// sum(smallint) and sum(integer) are bigint, sum(bigint) is numeric.
// Stored integer fields are bigint.
func TestPGDivisionKinds(t *testing.T) {
	schema := &StaticSchema{Ver: 1, Measurements: map[string][]target.ColumnInfo{
		"t": {{Name: "host", Tag: true, Type: model.TypeString}, {Name: "n", Type: model.TypeInt}, {Name: "s", Type: model.TypeString}},
	}}
	tr := New(WithCacheSize(0), WithSource(FromPostgres))
	for _, c := range []struct{ sql, want string }{
		{"SELECT sum(n) / count(*) FROM t", "true"},
		{"SELECT sum(n % 7) / count(*) FROM t", "true"},
		{"SELECT sum(CAST(n AS integer)) / count(*) FROM t", "integer"},
		{"SELECT sum(CAST(n AS smallint)) / 2 FROM t", "integer"},
		{"SELECT sum(CAST(n AS integer) + 1) / 2 FROM t", "integer"},
		{"SELECT sum(CAST(n AS integer) * -2) / 2 FROM t", "integer"},
		{"SELECT sum(CAST(n AS integer) + 3000000000) / 2 FROM t", "true"},
		{"SELECT sum(CAST(n AS bigint)) / 2 FROM t", "true"},
		{"SELECT sum(abs(CAST(n AS integer))) / 2 FROM t", "integer"},
		{"SELECT sum(length(s)) / 2 FROM t", "refused"},
	} {
		got := "true"
		out, err := tr.Translate(context.Background(), c.sql, gen("duckdb"), schema)
		switch {
		case errs.CodeOf(err) == errs.Unsupported:
			got = "refused"
		case err != nil:
			t.Errorf("%s: %v", c.sql, err)
			continue
		default:
			// The resolved operator, not the printed text: the exact
			// numeric quotient is itself printed with DuckDB's //.
			ast.Inspect(out.Statement, func(n ast.Node) bool {
				if b, ok := n.(*ast.Binary); ok && b.Op == ast.OpIntDiv {
					got = "integer"
				}
				return true
			})
		}
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("%s (-want +got): %s", c.sql, d)
		}
	}
}
