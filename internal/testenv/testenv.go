package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// URL returns the environment variable's value, skipping the test when it
// is unset locally and failing it under CI, where every server must run.
func URL(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI must run the integration tests (./scripts/test.sh starts the servers)", env)
		}
		t.Skipf("%s is not set; run eval \"$(./scripts/services.sh)\" and eval \"$(./scripts/backends.sh)\" to test against the real server", env)
	}
	return v
}

// PostgresDB is the URL of a fresh database on the test PostgreSQL
// (TSGATE_TEST_POSTGRES_URL), named UniqueName(prefix), dropped when the
// test ends.
func PostgresDB(t testing.TB, prefix string) string {
	t.Helper()
	base := URL(t, "TSGATE_TEST_POSTGRES_URL")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	admin := Postgres(t, base)
	name := UniqueName(prefix)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	u.Path = "/" + name
	return u.String()
}

// Postgres is a connection to the PostgreSQL at url, closed when the
// test ends (after the clean-ups registered later, which may use it).
func Postgres(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(ctx) })
	return c
}

// UniqueName is prefix_<12 random hex digits>: a name for a database or
// schema that no other test, or run, on the same server takes.
func UniqueName(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

// FuzzBudget is the seed and size of a generated-query test: fixed (seed
// 20261205, n queries), so CI runs the same queries every time, and
// overridden for longer runs by hand by TSGATE_TEST_FUZZ_SEED and the
// test's own budgetEnv.
func FuzzBudget(budgetEnv string, n int) (seed uint64, budget int) {
	seed, budget = 20261205, n
	if v, err := strconv.ParseUint(os.Getenv("TSGATE_TEST_FUZZ_SEED"), 10, 64); err == nil {
		seed = v
	}
	if v, err := strconv.Atoi(os.Getenv(budgetEnv)); err == nil {
		budget = v
	}
	return seed, budget
}

// Eventually polls cond until it holds, failing the test after d; it
// returns how long it took.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// FreeAddr is a loopback host:port nothing listens on: for a server a
// test starts to listen on, or to test a server that is down.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// InfluxdConfig renders scripts/influxd.conf, the shared InfluxDB's
// configuration, for a private influxd with its data in dir, its RPC
// (backup) address bind and its API on http, both loopback; it returns
// the written file's path. Tests that kill and restart an influxd run
// their own on it, configured as the shared one is.
func InfluxdConfig(t testing.TB, dir, bind, http string) string {
	t.Helper()
	// The template's place relative to this file: tests run in their
	// own package's directory, at different depths.
	_, self, _, _ := runtime.Caller(0)
	tmpl, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "..", "scripts", "influxd.conf"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "influxd.conf")
	conf := strings.NewReplacer("@DIR@", dir, "@BIND@", bind, "@HTTP@", http).Replace(string(tmpl))
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Do sends req with the default client and reads the whole answer,
// failing the test if either fails. The answer's body is closed and its
// trailers are in.
func Do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// ArcQuery is the JSON body of an Arc API query, {"sql":"…"}, with only
// quotes, backslashes and newlines escaped in sql: the other characters
// go as they are, as the clients the tests stand for send them.
func ArcQuery(sql string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"sql":"`)
	for _, r := range sql {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString(`"}`)
	return b.Bytes()
}

// InfluxQL runs q on the InfluxDB 1.x HTTP API at base, in database db
// (none when empty), with times in epoch µs, and returns the rows of the
// first statement's first series (nil when it has none), numbers as
// json.Number. A failed request, an undecodable answer or an error the
// statement returns fails the test.
func InfluxQL(t testing.TB, base, db, q string) [][]any {
	t.Helper()
	resp, err := http.PostForm(base+"/query", url.Values{"db": {db}, "q": {q}, "epoch": {"u"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Results []struct {
			Error  string
			Series []struct{ Values [][]any }
		}
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil || len(out.Results) == 0 || out.Results[0].Error != "" {
		t.Fatalf("%s: %v %+v", q, err, out)
	}
	if len(out.Results[0].Series) == 0 {
		return nil
	}
	return out.Results[0].Series[0].Values
}

// ClickHouse runs q on the ClickHouse HTTP interface at base and returns
// the answer without its last newline; a failed request or an answer
// other than 200 fails the test.
func ClickHouse(t testing.TB, base, q string) string {
	t.Helper()
	resp, err := http.Post(base+"/", "text/plain", strings.NewReader(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", q, resp.StatusCode, b)
	}
	return strings.TrimSuffix(string(b), "\n")
}

// Metric is the value of the unlabelled sample name in the Prometheus
// text base+"/metrics" answers; a failed request or a sample not exposed
// fails the test.
func Metric(t testing.TB, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(b.String())
	if m == nil {
		t.Fatalf("metric %s not exposed", name)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}
