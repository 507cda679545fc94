package guard

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"tsgate/auth"
	"tsgate/errs"
)

func newGuard(t testing.TB, opts ...Option) *Guard {
	t.Helper()
	g, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// TestArcAllowed: ordinary Arc queries pass, names that look like
// keywords included.
func TestArcAllowed(t *testing.T) {
	g := newGuard(t, AdminOnly("memory"))
	ctx := context.Background()
	for _, q := range []string{
		"SELECT time, host, usage_idle FROM cpu WHERE time > now() - INTERVAL 1 HOUR",
		"SELECT time_bucket(INTERVAL '5 minutes', time) AS b, avg(v) FROM cpu GROUP BY ALL ORDER BY ALL",
		"FROM cpu SELECT host",
		"SELECT load, copy, attach FROM load",
		`SELECT "load" FROM "copy" AS c JOIN attach ON c.x = attach.x`,
		"WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a) SELECT * FROM b",
		"WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r",
		"SELECT * FROM generate_series(1, 3)",
		"SELECT unnest([1, 2]), list_transform([1, 2], x -> x * 2)",
		"VALUES (1), (2)",
		"SELECT * FROM telegraf.cpu",
		"EXPLAIN SELECT * FROM cpu",
		"explain analyze SELECT count(*) FROM cpu",
		"DESCRIBE cpu",
		"SUMMARIZE cpu",
		"SELECT x FROM cpu QUALIFY row_number() OVER (PARTITION BY host ORDER BY time) = 1",
		"SELECT * FROM cpu; ",
		"SELECT regexp_matches(host, 'a.*', 'i'), host ~ 'x', host LIKE 'y%' FROM cpu",
		"SELECT COLUMNS('usage_.*'), * EXCLUDE (host), TRY_CAST(x AS INT), x IS DISTINCT FROM y, x BETWEEN 1 AND 2 FROM cpu",
		"SELECT CASE WHEN x THEN 1 ELSE 2 END, coalesce(a, b), nullif(a, b), s.f, [1, 2][1], {'a': 1}, x IN (1, 2), MAP {'k': 1} FROM t",
		"SELECT x::INTERVAL, DATE '2020-01-01', INTERVAL '1 hour', epoch_ms(time), extract(hour FROM time), strftime(time, '%Y') FROM t",
		"SELECT arg_max(v, time), quantile_cont(v, 0.5), approx_count_distinct(h), string_agg(h, ','), list(v), first(v ORDER BY time) FROM t",
		"SELECT lag(v) OVER w, ntile(4) OVER (ORDER BY v), grouping(h) FROM t GROUP BY GROUPING SETS ((h), ()) WINDOW w AS (ORDER BY time)",
		"SELECT count(*) FILTER (WHERE v > 1), avg(DISTINCT v), v // 2, v % 2, -v, NOT b, a AND b OR c, x IS NULL, x IS NOT NULL FROM t",
		"SELECT * FROM t1 ASOF JOIN t2 USING (host, time)",
		"SELECT * FROM t1 POSITIONAL JOIN t2",
		"SELECT * FROM t USING SAMPLE 10%",
		"SELECT * FROM t PIVOT (avg(v) FOR host IN ('a', 'b'))",
		"SELECT 'a' || 'b', upper(h), lower(h), length(h), substr(h, 1, 2), h ILIKE 'x', h SIMILAR TO 'y', h GLOB 'z*' FROM t",
	} {
		if _, err := g.Arc(ctx, "telegraf", q); err != nil {
			t.Errorf("%s: refused: %v", q, err)
		}
	}
	// An admin reads the admin-only database.
	if _, err := g.Arc(auth.Internal(ctx), "telegraf", "SELECT * FROM memory.events"); err != nil {
		t.Errorf("admin: %v", err)
	}
	if _, err := g.Arc(auth.Internal(ctx), "memory", "SELECT * FROM events"); err != nil {
		t.Errorf("admin, bare name: %v", err)
	}
}

// TestArcRefused: what must never reach an engine, with the code each
// refusal carries.
func TestArcRefused(t *testing.T) {
	g := newGuard(t, AdminOnly("memory"))
	ctx := context.Background()
	for _, c := range []struct {
		q    string
		code errs.Code
	}{
		{"CREATE TABLE x (a INT)", errs.Invalid},
		{"CREATE LOCAL TEMP TABLE cpu AS SELECT 'EVIL' AS host", errs.Invalid},
		{"BEGIN TRANSACTION", errs.Invalid},
		{"USE telegraf", errs.Invalid},
		{"SET search_path = 'main'", errs.Invalid},
		{"PREPARE p AS SELECT 1", errs.Invalid},
		{"EXECUTE p", errs.Invalid},
		{"DROP PERSISTENT SECRET s", errs.Invalid},
		{"COPY (SELECT 1) TO '/tmp/f'", errs.Invalid},
		{"ATTACH '/tmp/x.db' AS pg_att", errs.Invalid},
		{"LOAD pg_x", errs.Invalid},
		{"INSTALL httpfs", errs.Invalid},
		{"PRAGMA database_list", errs.Invalid},
		{"CALL duckdb_settings()", errs.Invalid},
		{"EXPORT DATABASE '/tmp/d'", errs.Invalid},
		{"SELECT 1; SELECT 2", errs.Invalid},
		{"SELECT 1; DROP TABLE cpu", errs.Invalid},
		{"EXPLAIN CREATE TABLE x (a INT)", errs.Invalid},
		{"SELECT content FROM read_text('/etc/passwd') AS pg_x", errs.Invalid},
		{`SELECT * FROM "read_csv"('/etc/passwd')`, errs.Invalid},
		{"SELECT * FROM glob('/*')", errs.Invalid},
		{"SELECT * FROM query('SELECT * FROM other.t')", errs.PermissionDenied},
		{"SELECT * FROM json_execute_serialized_sql('{}')", errs.PermissionDenied},
		{"SELECT * FROM duckdb_settings()", errs.PermissionDenied},
		{"SELECT * FROM duckdb_tables", errs.PermissionDenied},
		{"SELECT * FROM pg_settings", errs.PermissionDenied},
		{"SELECT * FROM information_schema.tables", errs.PermissionDenied},
		{"SELECT * FROM _tsgate.columns", errs.PermissionDenied},
		{"SELECT * FROM _d_telegraf.cpu", errs.PermissionDenied},
		{"SELECT * FROM system.main.duckdb_tables", errs.PermissionDenied},
		{"SELECT * FROM memory.events", errs.PermissionDenied},
		{"SELECT * FROM MEMORY.events", errs.PermissionDenied},
		{"SELECT current_setting('enable_external_access')", errs.PermissionDenied},
		{"SELECT getvariable('x')", errs.PermissionDenied},
		{"SELECT setseed(0.5)", errs.PermissionDenied},
		{"SELECT main.current_setting('threads')", errs.PermissionDenied},
		{"SELECT pg_catalog.current_setting('threads')", errs.PermissionDenied},
		{"SELECT sleep_ms(100000)", errs.PermissionDenied},
		// A forward CTE reference is a table reference, as DuckDB binds it.
		{"WITH a AS (SELECT * FROM duckdb_tables), duckdb_tables AS (SELECT 1) SELECT * FROM a", errs.PermissionDenied},
		// A CTE out of scope likewise.
		{"SELECT * FROM (WITH pg_settings AS (SELECT 1) SELECT 1), pg_settings", errs.PermissionDenied},
		{"SELECT (SELECT current_setting('threads'))", errs.PermissionDenied},
		{"SELECT * FROM cpu WHERE host IN (SELECT table_name FROM duckdb_tables)", errs.PermissionDenied},
		{"SHOW TABLES", errs.Invalid},
		{"SHOW ALL TABLES", errs.Invalid},
		{"SELECT 1 +", errs.Invalid},
		// PIVOT without an IN list is several statements to DuckDB (it
		// first reads the distinct values): refused, not half-checked.
		{"PIVOT t ON host USING avg(v)", errs.Invalid},
		{"SELECT * FROM (PIVOT t ON host USING avg(v))", errs.Invalid},
	} {
		_, err := g.Arc(ctx, "telegraf", c.q)
		if err == nil {
			t.Errorf("%s: allowed", c.q)
			continue
		}
		if got := errs.CodeOf(err); got != c.code {
			t.Errorf("%s: code %v (%v), want %v", c.q, got, err, c.code)
		}
	}
	// A reader may not read the admin-only database even as its own.
	if _, err := g.Arc(ctx, "memory", "SELECT * FROM events"); errs.CodeOf(err) != errs.PermissionDenied {
		t.Errorf("reader on memory: %v", err)
	}
}

// TestFileReader: the file reader's engine reads its one file and no
// other, and its configuration cannot be changed back.
func TestFileReader(t *testing.T) {
	dir := t.TempDir()
	allowed, other := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	for _, p := range []string{allowed, other} {
		if err := os.WriteFile(p, []byte("x\n1\n2\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	db, conn, err := OpenFileReader(ctx, allowed)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	defer conn.Close()
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM read_csv('"+allowed+"')").Scan(&n); err != nil || n != 2 {
		t.Fatalf("allowed file: %d %v", n, err)
	}
	for _, q := range []string{
		"SELECT count(*) FROM read_csv('" + other + "')",
		"SELECT count(*) FROM read_csv('/etc/passwd')",
		"SET enable_external_access = true",
		"SET allowed_paths = ['/etc/passwd']",
		"SET lock_configuration = false",
		"INSTALL httpfs",
	} {
		if _, err := conn.ExecContext(ctx, q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
}
