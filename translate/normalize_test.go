package translate

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"tsgate/translate/ast"
	"tsgate/translate/pgparse"
)

// TestNormalizedParseMatchesParse: for every case, the parse-tree cache
// (literals as parameters) yields exactly the statement a plain parse
// does, on the miss that fills the cache and on the hit after it, and the
// same error when there is one.
func TestNormalizedParseMatchesParse(t *testing.T) {
	show := func(st ast.Statement, err error) string {
		if err != nil {
			return "error: " + err.Error() + fmt.Sprintf(" %#v", err)
		}
		return st.String()
	}
	extra := []struct{ name, sql string }{
		{"order-by-positions", `SELECT hostname, avg(usage_user) FROM cpu GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5`},
		{"negative-number", `SELECT * FROM cpu WHERE usage_user > -5 AND usage_system < - 2.5`},
		{"typmod", `SELECT CAST(usage_user AS DECIMAL(10, 2)) FROM cpu`},
		{"typed-literals", `SELECT * FROM cpu WHERE time > TIMESTAMP '2026-01-01 00:00:00' AND time < now() - INTERVAL '1 hour'`},
		{"cast-literal", `SELECT '1 hour'::interval, '42'::bigint, 7::text`},
		{"big-int", `SELECT * FROM cpu WHERE n = 2147483648 AND m = 2147483647 AND f = 1e3 AND g = .5`},
		{"adjacent-strings", "SELECT 'a'\n'b'"},
		{"syntax-error", `SELECT * FROM cpu WHERE x = 'a' AND AND`},
		{"unsupported-error", `SELECT levenshtein(host, 'abc') FROM cpu`},
		{"limit-all", `SELECT * FROM cpu LIMIT ALL OFFSET 3`},
		{"escape", `SELECT * FROM events WHERE content LIKE '%a!%b%' ESCAPE '!'`},
		{"case", `SELECT CASE WHEN usage_user > 90 THEN 'hot' ELSE 'ok' END AS s FROM cpu`},
		{"between", `SELECT * FROM cpu WHERE usage_user BETWEEN 10 AND 20.5`},
		{"in-subquery-order", `SELECT * FROM (SELECT hostname, max(usage_user) AS m FROM cpu GROUP BY 1 ORDER BY 2 LIMIT 3) s ORDER BY 1`},
		{"params", `SELECT * FROM cpu WHERE hostname = $1 AND usage_user > 5`},
	}
	all := append(append([]struct{ name, sql string }{}, cases...), extra...)
	for _, src := range []Source{FromArc, FromPostgres} {
		p := pgparse.NewParser(1024)
		for _, c := range all {
			t.Run(fmt.Sprintf("%v/%s", src, c.name), func(t *testing.T) {
				want := show(pgparse.Parse(c.sql, src))
				if diff := cmp.Diff(want, show(p.Parse(c.sql, src))); diff != "" {
					t.Errorf("miss (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want, show(p.Parse(c.sql, src))); diff != "" {
					t.Errorf("hit (-want +got):\n%s", diff)
				}
			})
		}
	}
}
