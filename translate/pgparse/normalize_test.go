package pgparse

import (
	"fmt"
	"testing"

	"tsgate/translate/ast"
)

func render(st ast.Statement, err error) string {
	if err != nil {
		return fmt.Sprintf("error: %v %#v", err, err)
	}
	return st.String()
}

// FuzzNormalizedParse: whatever the input, the parse-tree cache gives
// exactly what a plain parse gives, on a miss and on a hit.
func FuzzNormalizedParse(f *testing.F) {
	for _, s := range []string{
		`SELECT * FROM events WHERE org_id = 'o''x' AND tags_csv LIKE '%a\_b%' ESCAPE '\' ORDER BY time DESC LIMIT 100 OFFSET 0`,
		`SELECT hostname, max(v) FROM cpu WHERE v > -1 GROUP BY 1 ORDER BY 2 LIMIT 5`,
		`SELECT CAST(v AS DECIMAL(10, 2)), '1 hour'::interval FROM cpu WHERE time > TIMESTAMP '2026-01-01'`,
		`SELECT date_trunc('hour', time), count(*) FROM cpu WHERE host IN ('a', 'b') GROUP BY 1`,
		"SELECT 'a'\n'b'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		p := NewParser(16)
		want := render(Parse(sql, Arc))
		if got := render(p.Parse(sql, Arc)); got != want {
			t.Fatalf("miss:\n got %s\nwant %s", got, want)
		}
		if got := render(p.Parse(sql, Arc)); got != want {
			t.Fatalf("hit:\n got %s\nwant %s", got, want)
		}
	})
}
