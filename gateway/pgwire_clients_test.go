package gateway

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"
)

// needTool finds an external client; a missing one fails under CI (the
// CI image installs them with scripts/clients.sh) and skips elsewhere.
func needTool(t *testing.T, path string) string {
	t.Helper()
	p, err := exec.LookPath(path)
	if err != nil {
		if _, serr := os.Stat(path); serr == nil {
			return path
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing (run scripts/clients.sh)", path)
		}
		t.Skipf("%s is missing (run scripts/clients.sh)", path)
	}
	return p
}

func clientsDir(t *testing.T) string {
	d, err := filepath.Abs("../wire/pgwire/testdata/clients")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func runClient(t *testing.T, cmd *exec.Cmd, env ...string) string {
	t.Helper()
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd.Args, err, out)
	}
	return string(out)
}

func TestPGWireLibPQ(t *testing.T) { forEachPGBackend(t, testPGWireLibPQ) }

func testPGWireLibPQ(t *testing.T, backend func(*Config)) {
	s := startPG(t, backend)
	db, err := sql.Open("postgres", s.url("tsdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	var avg float64
	if err := db.QueryRow("SELECT count(*), avg(usage) FROM cpu WHERE host = $1", "a").Scan(&n, &avg); err != nil || n != 2 || avg != 2.5 {
		t.Fatalf("lib/pq: %v %d %g", err, n, avg)
	}
	rows, err := db.Query("SELECT host, region FROM cpu ORDER BY time")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var h, r string
		if err := rows.Scan(&h, &r); err != nil {
			t.Fatal(err)
		}
		got = append(got, h+"/"+r)
	}
	if strings.Join(got, ",") != "a/us,b/eu,a/us" {
		t.Errorf("rows %v", got)
	}
	if _, err := db.Exec("SELECT nosuchcol FROM cpu"); err == nil {
		t.Error("expected an error")
	}
}

func TestPGWirePsql(t *testing.T) { forEachPGBackend(t, testPGWirePsql) }

func testPGWirePsql(t *testing.T, backend func(*Config)) {
	psql := needTool(t, "psql")
	s := startPG(t, backend)
	env := []string{"PGPASSWORD=" + adminToken, "PGHOST=" + s.host, "PGPORT=" + s.port, "PGUSER=alice", "PGDATABASE=tsdb", "PGSSLMODE=prefer"}
	out := runClient(t, exec.Command(psql, "-X", "-A", "-t", "-c", "SELECT host, usage FROM cpu ORDER BY time"), env...)
	if out != "a|1.5\nb|2.5\na|3.5\n" {
		t.Errorf("psql -c: %q", out)
	}
	script := filepath.Join(t.TempDir(), "s.sql")
	os.WriteFile(script, []byte("SELECT count(*) FROM cpu;\nSHOW TimeZone;\nBEGIN;\nSELECT max(count) FROM cpu;\nCOMMIT;\nSELECT version();\n"), 0o600)
	out = runClient(t, exec.Command(psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-f", script), env...)
	if !strings.HasPrefix(out, "3\nUTC\nBEGIN\n5\nCOMMIT\nPostgreSQL 15.0") {
		t.Errorf("psql -f: %q", out)
	}
	// An error: psql exits 1 and prints the server's message.
	cmd := exec.Command(psql, "-X", "-v", "ON_ERROR_STOP=1", "-c", "SELECT nosuchcol FROM cpu")
	cmd.Env = append(os.Environ(), env...)
	b, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "ERROR:") {
		t.Errorf("psql error: %v %s", err, b)
	}
}

func TestPGWirePsycopg2(t *testing.T) { forEachPGBackend(t, testPGWirePsycopg2) }

func testPGWirePsycopg2(t *testing.T, backend func(*Config)) {
	py := needTool(t, "/usr/bin/python3")
	if err := exec.Command(py, "-c", "import psycopg2").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3-psycopg2 is missing (run scripts/clients.sh)")
		}
		t.Skip("python3-psycopg2 is missing")
	}
	s := startPG(t, backend)
	out := runClient(t, exec.Command(py, filepath.Join(clientsDir(t), "psycopg2_client.py")), "PGURL="+s.url("tsdb"))
	if strings.TrimSpace(out) != "OK" {
		t.Errorf("psycopg2: %s", out)
	}
}

func TestPGWireNodePG(t *testing.T) { forEachPGBackend(t, testPGWireNodePG) }

func testPGWireNodePG(t *testing.T, backend func(*Config)) {
	node := needTool(t, "node")
	dir := filepath.Join(clientsDir(t), "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "pg")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node pg is not installed (run scripts/clients.sh)")
		}
		t.Skip("node pg is not installed (run scripts/clients.sh)")
	}
	s := startPG(t, backend)
	cmd := exec.Command(node, "client.js")
	cmd.Dir = dir
	out := runClient(t, cmd, "PGURL="+s.url("tsdb"))
	if strings.TrimSpace(out) != "OK" {
		t.Errorf("node pg: %s", out)
	}
}

func testJDBC(t *testing.T, backend func(*Config), metadata bool) {
	javac := needTool(t, "javac")
	java := needTool(t, "java")
	jar := needTool(t, "/usr/share/java/postgresql.jar")
	s := startPG(t, backend)
	classes := t.TempDir()
	runClient(t, exec.Command(javac, "-d", classes, "-cp", jar, filepath.Join(clientsDir(t), "Client.java")))
	meta := "0"
	if metadata {
		meta = "1"
	}
	out := runClient(t, exec.Command(java, "-cp", classes+":"+jar, "Client"),
		"JDBCURL=jdbc:postgresql://"+s.host+":"+s.port+"/tsdb", "PGPASSWORD="+adminToken, "WITH_METADATA="+meta)
	if strings.TrimSpace(out) != "OK" {
		t.Errorf("jdbc: %s", out)
	}
}

func TestPGWireJDBC(t *testing.T) {
	forEachPGBackend(t, func(t *testing.T, backend func(*Config)) { testJDBC(t, backend, false) })
}

func TestPGWireJDBCMetadata(t *testing.T) {
	forEachPGBackend(t, func(t *testing.T, backend func(*Config)) { testJDBC(t, backend, true) })
}

// TestPGWirePsqlCatalog runs psql's own catalog queries (\l, \dn, \dt,
// \d) against the emulated catalog and checks what psql prints.
func TestPGWirePsqlCatalog(t *testing.T) { forEachPGBackend(t, testPGWirePsqlCatalog) }

func testPGWirePsqlCatalog(t *testing.T, backend func(*Config)) {
	psql := needTool(t, "psql")
	s := startPG(t, backend)
	env := []string{"PGPASSWORD=" + adminToken, "PGHOST=" + s.host, "PGPORT=" + s.port, "PGUSER=alice", "PGDATABASE=tsdb"}
	for _, c := range []struct{ cmd, want string }{
		{`\l`, " tsdb | tsgate | UTF8     | C.UTF-8 | C.UTF-8 |            | libc            | \n"},
		{`\dn`, "  Name  | Owner  \n--------+--------\n public | tsgate\n(1 row)\n"},
		{`\dt`, " Schema | Name | Type  | Owner  \n--------+------+-------+--------\n public | cpu  | table | tsgate\n public | mem  | table | tsgate\n(2 rows)\n"},
		{`\d cpu`, `                         Table "public.cpu"
 Column |           Type           | Collation | Nullable | Default 
--------+--------------------------+-----------+----------+---------
 time   | timestamp with time zone |           | not null | 
 count  | bigint                   |           |          | 
 host   | text                     |           |          | 
 region | text                     |           |          | 
 usage  | double precision         |           |          | 
`},
		{`\d mem`, " ok     | boolean                  |           |          | \n"},
	} {
		out := runClient(t, exec.Command(psql, "-X", "-v", "ON_ERROR_STOP=1", "-c", c.cmd), env...)
		if !strings.Contains(out, c.want) {
			t.Errorf("psql %s:\n%s\nwant it to contain:\n%s", c.cmd, out, c.want)
		}
	}
	// information_schema answers too.
	out := runClient(t, exec.Command(psql, "-X", "-A", "-t", "-c", "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_name = 'mem' ORDER BY ordinal_position"), env...)
	if out != "mem|time|timestamp with time zone\nmem|host|text\nmem|ok|boolean\nmem|used|double precision\n" {
		t.Errorf("information_schema.columns: %q", out)
	}
}

// TestPGWirePsqlCancel interrupts psql (SIGINT) during a long query: psql
// sends CancelRequest on a second connection and must print PostgreSQL's
// cancel error.
func TestPGWirePsqlCancel(t *testing.T) { forEachPGBackend(t, testPGWirePsqlCancel) }

func testPGWirePsqlCancel(t *testing.T, backend func(*Config)) {
	psql := needTool(t, "psql")
	s := startPG(t, backend)
	writeBig(t, s)
	cmd := exec.Command(psql, "-X", "-c", slowQuery)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+adminToken, "PGHOST="+s.host, "PGPORT="+s.port, "PGUSER=alice", "PGDATABASE=tsdb")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	start := time.Now()
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if err == nil || !strings.Contains(out.String(), "canceling statement due to user request") {
		t.Fatalf("psql cancel: %v\n%s", err, out.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancel took %v", d)
	}
}
