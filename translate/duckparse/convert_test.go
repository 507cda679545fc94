package duckparse_test

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"tsgate/conformance"
	"tsgate/errs"
	"tsgate/guard"
	"tsgate/model"
	"tsgate/translate"
	"tsgate/translate/ast"
	"tsgate/translate/duckparse"
	"tsgate/translate/pgparse"
	"tsgate/translate/target"
)

// newGuard opens the DuckDB parser the gateway uses.
func newGuard(t testing.TB) *guard.Guard {
	t.Helper()
	g, err := guard.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func testEnv() duckparse.Env {
	tag := func(n string) target.ColumnInfo {
		return target.ColumnInfo{Name: n, Tag: true, Type: model.TypeString}
	}
	field := func(n string, t model.FieldType) target.ColumnInfo { return target.ColumnInfo{Name: n, Type: t} }
	return duckparse.Env{Database: "db", Schema: &translate.StaticSchema{Measurements: map[string][]target.ColumnInfo{
		"cpu": {tag("hostname"), tag("region"), field("usage_user", model.TypeFloat), field("usage_idle", model.TypeFloat)},
		"mem": {tag("hostname"), field("used", model.TypeInt), field("free", model.TypeUint), field("ok", model.TypeBool)},
	}}}
}

func convert(t testing.TB, g *guard.Guard, sql string, env duckparse.Env) (ast.Statement, error) {
	t.Helper()
	tree, err := g.SyntaxTree(context.Background(), sql)
	if err != nil {
		t.Fatalf("parser: %v", err)
	}
	return duckparse.Convert(sql, tree, env)
}

// corpus is every query of translate's golden cases and the conformance
// corpus.
func corpus(t *testing.T) []string {
	t.Helper()
	var out []string
	f, err := os.Open("../testdata/cases.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	next := false
	for sc.Scan() {
		if next {
			out = append(out, sc.Text())
		}
		next = strings.HasPrefix(sc.Text(), "## ")
	}
	cases, err := conformance.ParseCases(os.DirFS("../../conformance"), "cases")
	if err != nil {
		t.Fatal(err)
	}
	if cases, err = conformance.Expand(cases, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		out = append(out, c.SQL)
	}
	return out
}

// TestRoundtrip checks the two front ends agree: for every corpus query
// both read, the trees print identically.
func TestRoundtrip(t *testing.T) {
	g := newGuard(t)
	both, refused := 0, map[string]int{}
	for _, sql := range corpus(t) {
		want, err := pgparse.Parse(sql, pgparse.Arc)
		if err != nil {
			continue
		}
		got, err := convert(t, g, sql, testEnv())
		if err != nil {
			refused[errs.As(err).Msg]++
			continue
		}
		both++
		if d := cmp.Diff(sameInDuckDB(want), sameInDuckDB(got)); d != "" {
			t.Errorf("%s\n(-pg_query +duckdb):\n%s", sql, d)
		}
	}
	t.Logf("%d queries read by both front ends; DuckDB front end refused: %v", both, refused)
}

// sameInDuckDB prints st with the two distinctions DuckDB's parser does
// not keep made the same way: CASE x WHEN a is CASE WHEN x = a (DuckDB
// rewrites it so), and text is varchar (one type in DuckDB).
func sameInDuckDB(st ast.Statement) string {
	ast.Inspect(st, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Case:
			if n.Operand != nil {
				for _, w := range n.Whens {
					w.Cond = &ast.Binary{Span: ast.NoSpan, Op: ast.OpEq, L: n.Operand, R: w.Cond}
				}
				n.Operand = nil
			}
		case *ast.Cast:
			if n.Type.Kind == ast.TypeText {
				n.Type.Kind = ast.TypeVarchar
			}
		}
		return true
	})
	return st.String()
}

func TestConvert(t *testing.T) {
	g := newGuard(t)
	cases := []struct {
		name, sql string
		// want is the tree's canonical print; wantErr, when set, the code
		// and the construct the refusal names.
		want    string
		code    errs.Code
		wantErr string
	}{
		{name: "int division", sql: `SELECT 7 // 2, -7 // 2, CAST(used AS BIGINT) // 3 FROM mem`,
			want: `SELECT div(7, 2), div(-7, 2), div(CAST(used AS bigint), 3) FROM mem`},
		{name: "int division of integer fields", sql: `SELECT used // 2, free // used FROM mem`,
			want: `SELECT div(used, 2), div(free, used) FROM mem`},
		{name: "// of doubles is true division", sql: `SELECT usage_user // 2, 7.5 // 2 FROM cpu`,
			want: `SELECT usage_user / 2, 7.5 / 2 FROM cpu`},
		{name: "// of unknown types", sql: `SELECT a // 2 FROM t`, code: errs.Unsupported, wantErr: "// on operands whose types"},
		{name: "// of a tag", sql: `SELECT hostname // 2 FROM cpu`, code: errs.Unsupported, wantErr: "// on operands whose types"},
		{name: "grafana timeGroup", sql: `SELECT to_timestamp((epoch_ns(time) // 1000000000 // 3600) * 3600) AS time, avg(usage_user) FROM cpu GROUP BY 1 ORDER BY 1`,
			want: `SELECT to_timestamp((div(div(epoch_ns(time), 1000000000), 3600)) * 3600) AS time, avg(usage_user) FROM cpu GROUP BY 1 ORDER BY 1`},
		{name: "interval units", sql: `SELECT * FROM cpu WHERE time > now() - INTERVAL 1 MONTH AND time < now() - INTERVAL 5 MINUTE + INTERVAL '2' HOUR`,
			want: `SELECT * FROM cpu WHERE time > now() - INTERVAL '1 month' AND time < now() - INTERVAL '5 minutes' + INTERVAL '2 hours'`},
		{name: "interval weeks and years", sql: `SELECT INTERVAL 2 WEEK, INTERVAL 1 YEAR, INTERVAL 3 DAY, INTERVAL 10 SECOND`,
			want: `SELECT INTERVAL '14 days', INTERVAL '1 year', INTERVAL '3 days', INTERVAL '10 seconds'`},
		{name: "interval fraction", sql: `SELECT INTERVAL (1.5) HOUR`, code: errs.Unsupported, wantErr: "non-integer count"},
		{name: "group by all", sql: `SELECT hostname, region, avg(usage_user) AS a FROM cpu GROUP BY ALL`,
			want: `SELECT hostname, region, avg(usage_user) AS a FROM cpu GROUP BY 1, 2`},
		{name: "group by all, aggregate first", sql: `SELECT count(*) AS n, hostname FROM cpu GROUP BY ALL ORDER BY ALL`,
			want: `SELECT count(*) AS n, hostname FROM cpu GROUP BY 2 ORDER BY 1, 2`},
		{name: "group by all with a window", sql: `SELECT hostname, row_number() OVER () FROM cpu GROUP BY ALL`,
			code: errs.Unsupported, wantErr: "GROUP BY ALL with a window function"},
		{name: "order by all desc", sql: `SELECT hostname, usage_user FROM cpu ORDER BY ALL DESC`,
			want: `SELECT hostname, usage_user FROM cpu ORDER BY 1 DESC NULLS LAST, 2 DESC NULLS LAST`},
		{name: "order by all over *", sql: `SELECT * FROM cpu ORDER BY ALL`, code: errs.Unsupported, wantErr: "ORDER BY ALL over a select list with *"},
		{name: "exclude", sql: `SELECT * EXCLUDE (region, usage_idle) FROM cpu`,
			want: `SELECT time, hostname, usage_user FROM cpu`},
		{name: "replace", sql: `SELECT * REPLACE (usage_user / 100 AS usage_user) FROM cpu AS c`,
			want: `SELECT time, hostname, region, usage_idle, usage_user / 100 AS usage_user FROM cpu AS c`},
		{name: "exclude without schema", sql: `SELECT * EXCLUDE (a) FROM t`, code: errs.Unsupported, wantErr: "SELECT * EXCLUDE over anything but one measurement"},
		{name: "exclude missing column", sql: `SELECT * EXCLUDE (nope) FROM cpu`, code: errs.Invalid, wantErr: `"nope" in EXCLUDE list not found`},
		{name: "alias-less subquery", sql: `SELECT max(n) AS m FROM (SELECT hostname, count(*) AS n FROM cpu GROUP BY hostname)`,
			want: `SELECT max(n) AS m FROM (SELECT hostname, count(*) AS n FROM cpu GROUP BY hostname)`},
		{name: "qualify", sql: `SELECT hostname FROM cpu QUALIFY row_number() OVER (PARTITION BY hostname) = 1`,
			want: `SELECT _tsgate_q.hostname AS hostname FROM (SELECT hostname AS hostname, row_number() OVER (PARTITION BY hostname) = 1 AS _tsgate_qualify FROM cpu) AS _tsgate_q WHERE _tsgate_q._tsgate_qualify`},
		{name: "qualify alias star order limit", sql: `SELECT *, row_number() OVER (PARTITION BY hostname ORDER BY time DESC) AS rn FROM cpu QUALIFY rn <= 2 ORDER BY usage_user + 1 DESC, rn LIMIT 5`,
			want: `SELECT _tsgate_q.time AS time, _tsgate_q.hostname AS hostname, _tsgate_q.region AS region, _tsgate_q.usage_idle AS usage_idle, _tsgate_q.usage_user AS usage_user, _tsgate_q.rn AS rn FROM (SELECT time AS time, hostname AS hostname, region AS region, usage_idle AS usage_idle, usage_user AS usage_user, row_number() OVER (PARTITION BY hostname ORDER BY time DESC NULLS LAST) AS rn, row_number() OVER (PARTITION BY hostname ORDER BY time DESC NULLS LAST) <= 2 AS _tsgate_qualify, usage_user + 1 AS _tsgate_order7 FROM cpu) AS _tsgate_q WHERE _tsgate_q._tsgate_qualify ORDER BY _tsgate_q._tsgate_order7 DESC NULLS LAST, _tsgate_q.rn LIMIT 5`},
		{name: "qualify unnamed expression", sql: `SELECT usage_user * 2 FROM cpu QUALIFY rank() OVER (ORDER BY usage_user) = 1`, code: errs.Unsupported, wantErr: "unnamed computed column"},
		{name: "qualify subquery", sql: `SELECT hostname FROM cpu QUALIFY hostname IN (SELECT hostname FROM cpu)`, code: errs.Unsupported, wantErr: "subquery in QUALIFY"},
		{name: "list literal", sql: `SELECT [1, 2]`, code: errs.Unsupported, wantErr: "list literals"},
		{name: "columns", sql: `SELECT COLUMNS('usage_.*') FROM cpu`, code: errs.Unsupported, wantErr: "COLUMNS(...)"},
		{name: "asof join", sql: `SELECT * FROM cpu ASOF JOIN mem USING (hostname, time)`, code: errs.Unsupported, wantErr: "ASOF JOIN"},
		{name: "rollup", sql: `SELECT hostname, count(*) FROM cpu GROUP BY ROLLUP (hostname)`, code: errs.Unsupported, wantErr: "GROUPING SETS, ROLLUP and CUBE"},
		{name: "from first", sql: `FROM cpu SELECT hostname`, want: `SELECT hostname FROM cpu`},
		{name: "true and decimals", sql: `SELECT true, false, 1.50, -0.25, 1e3 FROM cpu`, want: `SELECT true, false, 1.50, -0.25, 1e3 FROM cpu`},
		{name: "double spelled as written", sql: `SELECT * FROM cpu WHERE usage_idle = 9.007199254740993e15`, want: `SELECT * FROM cpu WHERE usage_idle = 9.007199254740993e15`},
		{name: "not regex", sql: `SELECT * FROM cpu WHERE (hostname !~ 'a') IS NULL`, want: `SELECT * FROM cpu WHERE (NOT regexp_full_match(hostname, 'a')) IS NULL`},
		{name: "current_timestamp", sql: `SELECT * FROM cpu WHERE time > CURRENT_TIMESTAMP - INTERVAL 1 HOUR`,
			want: `SELECT * FROM cpu WHERE time > now() - INTERVAL '1 hour'`},
		{name: "comma join", sql: `SELECT c.hostname FROM cpu AS c, mem AS m WHERE c.hostname = m.hostname`,
			want: `SELECT c.hostname FROM cpu AS c, mem AS m WHERE c.hostname = m.hostname`},
		{name: "not between, not exists", sql: `SELECT 1 FROM cpu WHERE usage_user NOT BETWEEN 1 AND 2 AND NOT EXISTS (SELECT 1 FROM mem)`,
			want: `SELECT 1 FROM cpu WHERE usage_user NOT BETWEEN 1 AND 2 AND NOT EXISTS (SELECT 1 FROM mem)`},
		{name: "try_cast", sql: `SELECT TRY_CAST(hostname AS INTEGER) FROM cpu`, code: errs.Unsupported, wantErr: "TRY_CAST"},
		{name: "syntax", sql: `SELEC 1`, code: errs.Invalid, wantErr: "syntax error"},
		{name: "not a query", sql: `DROP TABLE cpu`, code: errs.Invalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := convert(t, g, c.sql, testEnv())
			if c.wantErr != "" || c.code != 0 {
				if err == nil {
					t.Fatalf("converted to %s, want an error", st)
				}
				e := errs.As(err)
				if e.Code != c.code || !strings.Contains(e.Msg, c.wantErr) {
					t.Errorf("error %v %q, want %v containing %q", e.Code, e.Msg, c.code, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, st.String()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			// The canonical print reads back through pg_query to the same
			// tree: the DuckDB front end's trees are ordinary trees.
			back, err := pgparse.Parse(st.String(), pgparse.Arc)
			if err != nil {
				t.Fatalf("reparse %q: %v", st, err)
			}
			if d := cmp.Diff(st.String(), back.String()); d != "" {
				t.Errorf("reparse (-duckdb +pg_query):\n%s", d)
			}
		})
	}
}

// FuzzConvert feeds the converter damaged and odd trees: it must answer
// with an error, never panic.
func FuzzConvert(f *testing.F) {
	g := newGuard(f)
	for _, sql := range []string{
		`SELECT hostname, avg(usage_user) FROM cpu WHERE time > now() - INTERVAL 1 HOUR GROUP BY ALL ORDER BY ALL LIMIT 3`,
		`SELECT * EXCLUDE (region) REPLACE (usage_user // 2 AS usage_user) FROM cpu`,
		`WITH m AS (SELECT used // 2 AS u FROM mem) SELECT sum(u) OVER (ORDER BY u ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM m UNION SELECT 1`,
		`SELECT CASE WHEN a IN (1, 2) THEN lag(a, 1, 0) OVER (PARTITION BY b) END, x NOT ILIKE 'a' ESCAPE '!' FROM t LEFT JOIN (SELECT 1) ON true`,
		`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v), first(v ORDER BY time DESC), count(DISTINCT v) FILTER (WHERE v > 1) FROM t`,
	} {
		tree, err := g.SyntaxTree(context.Background(), sql)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sql, tree)
	}
	env := testEnv()
	f.Fuzz(func(t *testing.T, sql string, tree []byte) {
		st, err := duckparse.Convert(sql, tree, env)
		if err == nil && st == nil {
			t.Fatal("no statement and no error")
		}
		if err != nil && errs.As(err).Msg == "" {
			t.Fatalf("error without a message: %#v", err)
		}
		if err == nil {
			_ = st.String()
		}
	})
}
