package guard

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"tsgate/auth"

	bindings "github.com/duckdb/duckdb-go-bindings"
)

// sandbox is DuckDB's own statement splitter and binder, reached through
// its C API so nothing is executed (duckdb-go's database/sql driver runs
// every statement of a text but the last while preparing it). It runs
// in memory with external access off and its configuration locked, and
// holds one table, cpu, so queries over it bind.
type sandbox struct {
	db   bindings.Database
	conn bindings.Connection
}

func newSandbox(t testing.TB) *sandbox {
	t.Helper()
	var cfg bindings.Config
	if bindings.CreateConfig(&cfg) == bindings.StateError {
		t.Fatal("duckdb config")
	}
	defer bindings.DestroyConfig(&cfg)
	for _, kv := range [][2]string{{"enable_external_access", "false"}, {"autoinstall_known_extensions", "false"},
		{"autoload_known_extensions", "false"}, {"threads", "1"}} {
		if bindings.SetConfig(cfg, kv[0], kv[1]) == bindings.StateError {
			t.Fatalf("duckdb config %s", kv[0])
		}
	}
	s := &sandbox{}
	var msg string
	if bindings.OpenExt("", &s.db, cfg, &msg) == bindings.StateError {
		t.Fatalf("duckdb open: %s", msg)
	}
	if bindings.Connect(s.db, &s.conn) == bindings.StateError {
		t.Fatal("duckdb connect")
	}
	var res bindings.Result
	if bindings.Query(s.conn, "CREATE TABLE cpu (time TIMESTAMPTZ, host VARCHAR, usage DOUBLE); SET lock_configuration = true", &res) == bindings.StateError {
		t.Fatalf("sandbox setup: %s", bindings.ResultError(&res))
	}
	bindings.DestroyResult(&res)
	t.Cleanup(func() {
		bindings.Disconnect(&s.conn)
		bindings.Close(&s.db)
	})
	return s
}

// kinds splits text with DuckDB's splitter and binds each statement
// without running it: the statement types DuckDB would run. ok is false
// when DuckDB cannot split or bind the text (then it cannot run it
// either).
func (s *sandbox) kinds(text string) (kinds []bindings.StatementType, ok bool) {
	var ex bindings.ExtractedStatements
	n := bindings.ExtractStatements(s.conn, text, &ex)
	defer bindings.DestroyExtracted(&ex)
	if n == 0 {
		return nil, false
	}
	for i := bindings.IdxT(0); i < n; i++ {
		var st bindings.PreparedStatement
		state := bindings.PrepareExtractedStatement(s.conn, ex, i, &st)
		if state == bindings.StateError {
			bindings.DestroyPrepare(&st)
			return nil, false
		}
		kinds = append(kinds, bindings.PreparedStatementType(st))
		bindings.DestroyPrepare(&st)
	}
	return kinds, true
}

// agree checks the guard against DuckDB on one text: whatever the guard
// accepts, DuckDB splits into exactly one statement that it binds as a
// query (or an EXPLAIN of one, when the guard saw EXPLAIN).
func agree(t *testing.T, g *Guard, s *sandbox, text string) (accepted bool) {
	t.Helper()
	st, err := g.Parse(context.Background(), text)
	if err != nil {
		return false
	}
	if err := g.Check(st, g.DatabaseTables(callerNone, "db"), nil); err != nil {
		return false
	}
	want := bindings.StatementTypeSelect
	if st.Explain {
		want = bindings.StatementTypeExplain
	}
	// What runs is st.Run (text with Arc's bucket alignment): both must
	// be one statement of the kind the guard said.
	for _, run := range []string{text, st.Run} {
		kinds, ok := s.kinds(run)
		if !ok {
			continue // DuckDB cannot run it; nothing to compare
		}
		if len(kinds) != 1 || kinds[0] != want {
			t.Errorf("the guard accepted %q (running %q), which DuckDB runs as statement types %v", text, run, kinds)
		}
	}
	return true
}

// TestClassifierDifferential generates statements from fragments that
// attacks are made of — statement keywords, separators, comments, quotes
// of every kind, table functions — and checks each against DuckDB's own
// splitter and binder.
func TestClassifierDifferential(t *testing.T) {
	g := newGuard(t)
	s := newSandbox(t)
	frags := []string{
		"SELECT", "select", "1", "*", "FROM", "cpu", "WHERE", "host", "=", "'a'", ";", " ", "\n", "--", "/*", "*/",
		"'", "''", `"`, "$$", "$t$", "E'\\'", "(", ")", ",", "WITH", "x", "AS", "CREATE", "TABLE", "TEMP", "INSERT",
		"INTO", "VALUES", "DROP", "ATTACH", "'f.db'", "COPY", "TO", "'out.csv'", "SET", "threads", "=", "4", "PRAGMA",
		"LOAD", "INSTALL", "BEGIN", "COMMIT", "EXPLAIN", "ANALYZE", "DESCRIBE", "SUMMARIZE", "SHOW", "TABLES",
		"read_text('/etc/passwd')", "current_setting('threads')", "UNION", "ALL", "EXPORT", "DATABASE", "CALL",
		"PREPARE", "p", "EXECUTE", "USE", "main", "DETACH", "CHECKPOINT", "VACUUM", "UPDATE", "DELETE", "TRUNCATE",
		"PIVOT", "ON", "USING", "first(usage)", "FROM-first", "RECURSIVE", "r", "MACRO", "m(x)", "x", "OR", "REPLACE",
		"time_bucket(INTERVAL '7 minutes', time)", "time_bucket(", "INTERVAL 7 MINUTE", "'11 minutes'", "time)",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	accepted := 0
	const n = 20000
	bases := []string{"SELECT * FROM cpu", "SELECT host, avg(usage) FROM cpu GROUP BY host", "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
		"EXPLAIN SELECT 1", "SELECT 'a', $$b$$, E'c' FROM cpu WHERE host = 'x' -- tail", "FROM cpu SELECT host"}
	for i := range n {
		var text string
		if i%2 == 0 {
			var sb strings.Builder
			for k := 1 + rng.IntN(9); k > 0; k-- {
				sb.WriteString(frags[rng.IntN(len(frags))])
				if rng.IntN(3) > 0 {
					sb.WriteByte(' ')
				}
			}
			text = sb.String()
		} else {
			// A valid query with fragments spliced in at random places:
			// most stay queries, some become something else.
			text = bases[rng.IntN(len(bases))]
			for k := 1 + rng.IntN(3); k > 0; k-- {
				at := rng.IntN(len(text) + 1)
				text = text[:at] + " " + frags[rng.IntN(len(frags))] + " " + text[at:]
			}
		}
		if agree(t, g, s, text) {
			accepted++
		}
	}
	// Whole statements, accepted or not, from the guard's own tests.
	for _, text := range []string{
		"SELECT * FROM cpu", "EXPLAIN SELECT * FROM cpu", "EXPLAIN ANALYZE SELECT 1", "FROM cpu", "VALUES (1)",
		"WITH a AS (SELECT 1) SELECT * FROM a", "SELECT 1; SELECT 2", "SELECT 1 -- ; DROP TABLE cpu",
		"SELECT ';'", "SELECT $$;$$", "EXPLAIN (SELECT 1)", "EXPLAIN /* x */ SELECT 1", "DESCRIBE cpu", "SUMMARIZE cpu",
	} {
		agree(t, g, s, text)
	}
	t.Logf("%d generated statements, %d accepted by the guard, every one a single query to DuckDB", n, accepted)
	if accepted == 0 {
		t.Fatal("the generator produced no accepted statement: it tests nothing")
	}
}

// FuzzClassifier is the same property on fuzzed text.
func FuzzClassifier(f *testing.F) {
	for _, s := range []string{"SELECT 1", "SELECT * FROM cpu; DROP TABLE cpu", "EXPLAIN SELECT 1", "WITH x AS (SELECT 1) SELECT * FROM x",
		"SELECT 'a;b' FROM cpu -- x", "COPY cpu TO 'x'", "/* */ SELECT $$ $$", "DESCRIBE cpu",
		"SELECT time_bucket(INTERVAL '7 minutes', time_bucket('11 minutes', time)) FROM cpu"} {
		f.Add(s)
	}
	g := newGuard(f)
	s := newSandbox(f)
	f.Fuzz(func(t *testing.T, text string) {
		if strings.IndexByte(text, 0) >= 0 {
			return // C strings end there for both; not a differential
		}
		agree(t, g, s, text)
	})
}

// callerNone is an ordinary reader.
var callerNone = auth.Caller{}
