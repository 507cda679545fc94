package pgparse

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"tsgate/errs"
	"tsgate/translate/ast"
)

var ignoreSpans = cmpopts.IgnoreTypes(ast.Span{})

// roundTrip parses sql, prints the tree, parses the print and checks both
// trees are equal; it returns the printed form.
func roundTrip(t *testing.T, sql string, flavor Flavor) string {
	t.Helper()
	st, err := Parse(sql, flavor)
	if err != nil {
		t.Fatalf("parse %q: %v", sql, err)
	}
	out := st.String()
	// The canonical form reads back as Arc SQL.
	st2, err := Parse(out, Arc)
	if err != nil {
		t.Fatalf("reparse %q: %v", out, err)
	}
	if d := cmp.Diff(st, st2, ignoreSpans); d != "" {
		t.Errorf("reparse of %q differs (-first +second):\n%s", out, d)
	}
	return out
}

func TestCanonical(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"memtrace list",
			`SELECT * FROM events WHERE org_id = 'org_default' AND agent_id = 'a' AND tags_csv LIKE '%crawl\\_x%' ESCAPE '\' AND time > (CURRENT_TIMESTAMP - INTERVAL '24 hours') ORDER BY time DESC LIMIT 100 OFFSET 0`,
			`SELECT * FROM events WHERE org_id = 'org_default' AND agent_id = 'a' AND tags_csv LIKE '%crawl\\_x%' ESCAPE '\' AND time > now() - INTERVAL '24 hours' ORDER BY time DESC NULLS LAST LIMIT 100 OFFSET 0`},
		{"like no escape arc", `SELECT 1 FROM t WHERE a LIKE '%x%'`, `SELECT 1 FROM t WHERE a LIKE '%x%' ESCAPE ''`},
		{"in list", `select a from t where x in ('a','b''c') and y not in (1,2)`, `SELECT a FROM t WHERE x IN ('a', 'b''c') AND y NOT IN (1, 2)`},
		{"count", `SELECT COUNT(*) as cnt FROM events WHERE org_id = 'o'`, `SELECT count(*) AS cnt FROM events WHERE org_id = 'o'`},
		{"bucket", `SELECT time_bucket(INTERVAL '5 minutes', time) AS b, avg(v) FROM cpu GROUP BY 1`,
			`SELECT time_bucket(INTERVAL '5 minutes', time, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS b, avg(v) FROM cpu GROUP BY 1`},
		{"date_trunc", `SELECT date_trunc('hour', time) FROM cpu`, `SELECT time_bucket(INTERVAL '1 hour', time, TIMESTAMPTZ '1970-01-01 00:00:00+00') FROM cpu`},
		{"grafana", `SELECT floor(extract(epoch from time)/300)*300 AS t FROM cpu`, `SELECT floor(EXTRACT(epoch FROM time) / 300) * 300 AS t FROM cpu`},
		{"grafana interval", `SELECT time_bucket('300.000s', time) FROM cpu`, `SELECT time_bucket(INTERVAL '5 minutes', time, TIMESTAMPTZ '1970-01-01 00:00:00+00') FROM cpu`},
		{"window", `SELECT row_number() OVER (PARTITION BY host ORDER BY time DESC) FROM cpu`, `SELECT row_number() OVER (PARTITION BY host ORDER BY time DESC NULLS LAST) FROM cpu`},
		{"frame", `SELECT avg(v) OVER (ORDER BY time ROWS 3 PRECEDING) FROM cpu`, `SELECT avg(v) OVER (ORDER BY time ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) FROM cpu`},
		{"cte join", `WITH m AS (SELECT host, max(v) AS mv FROM cpu GROUP BY host) SELECT c.host FROM cpu c JOIN m ON c.host = m.host AND c.v = m.mv`,
			`WITH m AS (SELECT host, max(v) AS mv FROM cpu GROUP BY host) SELECT c.host FROM cpu AS c JOIN m ON c.host = m.host AND c.v = m.mv`},
		{"case", `SELECT CASE WHEN v > 90 THEN 'high' WHEN v > 50 THEN 'mid' ELSE 'low' END FROM cpu`, `SELECT CASE WHEN v > 90 THEN 'high' WHEN v > 50 THEN 'mid' ELSE 'low' END FROM cpu`},
		{"not in subquery", `SELECT a FROM t WHERE a NOT IN (SELECT b FROM u)`, `SELECT a FROM t WHERE a NOT IN (SELECT b FROM u)`},
		{"arg_max", `SELECT arg_max(v, time) FROM cpu`, `SELECT last(v ORDER BY time) FROM cpu`},
		{"percentile", `SELECT quantile_cont(v, 0.9), approx_quantile(v, 0.5), median(v) FROM cpu`,
			`SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY v), approx_quantile(v, 0.5), median(v) FROM cpu`},
		{"precedence", `SELECT (a + b) * c, a - (b - c), NOT (a AND b) OR c FROM t`, `SELECT (a + b) * c, a - (b - c), NOT (a AND b) OR c FROM t`},
		{"union", `SELECT a FROM t UNION ALL (SELECT a FROM u ORDER BY a LIMIT 1)`, `SELECT a FROM t UNION ALL (SELECT a FROM u ORDER BY a LIMIT 1)`},
		{"show", `show measurements from mydb;`, `SHOW MEASUREMENTS FROM mydb`},
		{"describe", `DESCRIBE db.cpu`, `DESCRIBE db.cpu`},
		{"timestamps", `SELECT * FROM t WHERE time > TIMESTAMPTZ '2026-02-07T20:15:00Z'`, `SELECT * FROM t WHERE time > TIMESTAMPTZ '2026-02-07 20:15:00+00'`},
		{"quoted ident", `SELECT "User", "select" FROM "My Table"`, `SELECT "User", "select" FROM "My Table"`},
		{"neg", `SELECT -a, -5, 3 - -2 FROM t`, `SELECT -a, -5, 3 - -2 FROM t`},
		{"boolean tests", `SELECT 1 FROM t WHERE (a = 1) IS TRUE AND b IS NOT TRUE AND c IS FALSE AND d IS NOT FALSE AND e IS UNKNOWN AND f IS NOT UNKNOWN`,
			`SELECT 1 FROM t WHERE a = 1 IS NOT DISTINCT FROM true AND b IS DISTINCT FROM true AND c IS NOT DISTINCT FROM false AND d IS DISTINCT FROM false AND e IS NULL AND f IS NOT NULL`},
	}
	// The same call from a pg-wire client is TimescaleDB's time_bucket,
	// whose fixed-width buckets count from 2000-01-03 (a Monday).
	if got, want := roundTrip(t, `SELECT time_bucket(INTERVAL '7 minutes', time) FROM cpu`, Postgres),
		`SELECT time_bucket(INTERVAL '7 minutes', time, TIMESTAMPTZ '2000-01-03 00:00:00+00') FROM cpu`; got != want {
		t.Errorf("pg flavor: %s, want %s", got, want)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := roundTrip(t, c.in, Arc)
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestRejects(t *testing.T) {
	cases := []struct {
		name, in string
		duck     bool
		code     errs.Code
	}{
		{"exclude", `SELECT * EXCLUDE (a) FROM t`, true, errs.Unsupported},
		{"group by all", `SELECT a, count(*) FROM t GROUP BY ALL`, true, errs.Unsupported},
		{"qualify", `SELECT a FROM t QUALIFY row_number() OVER () = 1`, true, errs.Unsupported},
		{"list", `SELECT [1, 2, 3]`, true, errs.Unsupported},
		{"from first", `FROM t SELECT a`, true, errs.Unsupported},
		{"syntax", `SELEC a FROM t`, false, errs.Invalid},
		{"insert", `INSERT INTO t VALUES (1)`, false, errs.Unsupported},
		{"two", `SELECT 1; SELECT 2`, false, errs.Invalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.in, Arc)
			if err == nil {
				t.Fatal("no error")
			}
			if got := errs.CodeOf(err); got != c.code {
				t.Errorf("code %v, want %v (%v)", got, c.code, err)
			}
			if got := errors.Is(err, ErrDuckDBOnly); got != c.duck {
				t.Errorf("DuckDB-only %v, want %v (%v)", got, c.duck, err)
			}
		})
	}
}
