package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"tsgate/auth"
	"tsgate/internal/testenv"
	"tsgate/translate/pgparse"
)

// attack is one statement of the corpus in testdata/security/attacks.txt.
type attack struct {
	category, expect, sql string
}

// refused reports whether the attack must be refused on path for a token
// (see the corpus file's header for the expectations).
func (a attack) refused(path, token string) bool {
	switch a.expect {
	case "refuse":
		return true
	case "admin":
		return token != "admin"
	case "http-only":
		return path == "http"
	}
	return false // harmless
}

func loadAttacks(t *testing.T, dir string) []attack {
	t.Helper()
	f, err := os.Open("testdata/security/attacks.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []attack
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 {
			t.Fatalf("corpus line is not category<TAB>expect<TAB>sql: %q", line)
		}
		switch f[1] {
		case "refuse", "admin", "http-only", "harmless":
		default:
			t.Fatalf("corpus line with an unknown expectation: %q", line)
		}
		sql := strings.ReplaceAll(strings.ReplaceAll(f[2], "{dir}", dir), "{nl}", "\n")
		out = append(out, attack{f[0], f[1], sql})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

const sentinel = "TSGATE-SENTINEL-c41f9e"

// secTokens are the three callers every attack is sent as.
type secTokens struct{ read, write, admin string }

func makeTokens(t *testing.T, g *Gateway) secTokens {
	t.Helper()
	mk := func(name string, p ...auth.Permission) string {
		s, _, err := g.tokens.Create(name, "", p)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return secTokens{read: mk("reader", auth.Read), write: mk("writer", auth.Write), admin: adminToken}
}

// TestSecurityAttackCorpus sends every statement of the attack corpus over
// the Arc HTTP API, pg-wire simple query and pg-wire extended protocol,
// as a read, a write and an admin token, and checks that none reaches an
// engine: each is refused with a client error (pg wire may answer
// statements that act on its own session state — BEGIN, SET — without
// an engine, as PostgreSQL would), no file is created or read, and what a
// second client sees afterwards is what it saw before.
func TestSecurityAttackCorpus(t *testing.T) {
	s := startPG(t, nil)
	g := s.gateway
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret.txt"), []byte(sentinel+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	attacks := loadAttacks(t, dir)
	if len(attacks) < 200 {
		t.Fatalf("the corpus has %d statements; it must keep at least 200", len(attacks))
	}
	seedSecurityData(t, s)
	toks := makeTokens(t, g)
	before := observe(t, s)

	ctx := context.Background()
	counts := map[string]int{}
	for _, a := range attacks {
		counts[a.category]++
		for _, tok := range []struct{ name, secret string }{{"read", toks.read}, {"write", toks.write}, {"admin", toks.admin}} {
			// HTTP.
			code, body, _ := s.do(t, req{path: "/api/v1/query", body: testenv.ArcQuery(a.sql),
				header: map[string]string{"Authorization": "Bearer " + tok.secret, "Content-Type": "application/json"}})
			if a.refused("http", tok.name) && (code < 400 || code >= 500 || !strings.Contains(body, `"success":false`)) {
				t.Errorf("http/%s %s: %q answered %d %s", tok.name, a.category, a.sql, code, body)
			}
			if code >= 500 {
				t.Errorf("http/%s %s: %q: server error %d %s", tok.name, a.category, a.sql, code, body)
			}
			if strings.Contains(body, sentinel) {
				t.Errorf("http/%s: %q read the secret file: %s", tok.name, a.sql, body)
			}
			// pg wire, both protocols, a fresh session each.
			for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeDescribeExec} {
				checkPGAttack(ctx, t, s, tok.name, tok.secret, mode, a)
			}
		}
	}
	t.Logf("corpus: %d statements × 3 paths × 3 tokens; by category: %v", len(attacks), counts)

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "secret.txt" {
			t.Errorf("an attack created %s", filepath.Join(dir, e.Name()))
		}
	}
	if after := observe(t, s); after != before {
		t.Errorf("a second client's view changed:\nbefore %s\nafter  %s", before, after)
	}
}

func checkPGAttack(ctx context.Context, t *testing.T, s *pgServer, who, secret string, mode pgx.QueryExecMode, a attack) {
	t.Helper()
	cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://sec:%s@%s:%s/telegraf?sslmode=disable", url.QueryEscape(secret), s.host, s.port))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = mode
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		t.Fatalf("connect as %s: %v", who, err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(cctx, a.sql)
	var body strings.Builder
	if err == nil {
		for rows.Next() {
			vals, _ := rows.Values()
			fmt.Fprint(&body, vals...)
		}
		rows.Close()
		err = rows.Err()
	}
	if strings.Contains(body.String(), sentinel) || (err != nil && strings.Contains(err.Error(), sentinel)) {
		t.Errorf("pg %v/%s: %q read the secret file", mode, who, a.sql)
	}
	if err == nil {
		if !a.refused("pg", who) {
			return
		}
		// Only statements PostgreSQL's grammar puts in the session layer
		// may succeed: they touch no engine.
		if c, cerr := pgparse.Classify(a.sql); cerr != nil || !sessionOnly(c.Kind) {
			t.Errorf("pg %v/%s %s: %q was answered: %.200s", mode, who, a.category, a.sql, body.String())
		}
		return
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Errorf("pg %v/%s: %q: not a server error: %v", mode, who, a.sql, err)
		return
	}
	switch pe.Code {
	case "42601", "25006", "42501", "0A000", "22023", "25P02", "42P01", "42704", "26000", "34000", "25P01":
	default:
		t.Errorf("pg %v/%s %s: %q: SQLSTATE %s (%s), want a refusal", mode, who, a.category, a.sql, pe.Code, pe.Message)
	}
}

func sessionOnly(k pgparse.Kind) bool {
	switch k {
	case pgparse.KindSet, pgparse.KindShow, pgparse.KindTransaction, pgparse.KindDiscard, pgparse.KindListen,
		pgparse.KindClose, pgparse.KindFetch, pgparse.KindDeallocate:
		return true
	}
	return false
}

// seedSecurityData writes telegraf.cpu and a memtrace-like memory.events.
func seedSecurityData(t *testing.T, s *pgServer) {
	t.Helper()
	for _, w := range []struct{ db, lines string }{
		{"telegraf", "cpu,host=a usage=1.5,count=3i 1764115200\ncpu,host=b usage=2.5,count=4i 1764115260\n"},
		{"memory", "events,org_id=org_a,agent_id=x content=\"secret memory of org_a\" 1764115200\n"},
	} {
		s.writeSec(t, w.db, w.lines)
	}
}

// observe is what a second, admin client sees: the data over HTTP and pg
// wire, the databases, and the engine's own databases (an ATTACH that
// stuck would show there).
func observe(t *testing.T, s *pgServer) string {
	t.Helper()
	var sb strings.Builder
	for _, q := range []struct{ db, sql string }{
		{"telegraf", "SELECT time, host, usage FROM cpu ORDER BY time"},
		{"memory", "SELECT content FROM events"},
		{"telegraf", "SHOW DATABASES"},
		{"telegraf", "SHOW TABLES"},
	} {
		code, body, _ := s.do(t, req{path: "/api/v1/query", body: testenv.ArcQuery(q.sql), header: map[string]string{"x-arc-database": q.db, "Content-Type": "application/json"}})
		fmt.Fprintf(&sb, "%d %s | ", code, normalize(body))
	}
	conn := pgConnect(t, s.url("telegraf"))
	rows, err := conn.Query(context.Background(), "SELECT host, usage FROM cpu ORDER BY host")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		v, _ := rows.Values()
		fmt.Fprint(&sb, v...)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	dbs, err := s.gateway.store.AttachedDatabases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&sb, " | engine databases %v", dbs)
	return sb.String()
}

// TestKeywordNamesWork: names are never matched as keywords — a
// measurement called load with columns copy and attach is written and
// read like any other, over HTTP and pg wire (Arc itself refuses it as
// "Dangerous SQL").
func TestKeywordNamesWork(t *testing.T) {
	s := startPG(t, nil)
	s.writeSec(t, "kw", "load,attach=a copy=1i,pragma=2.5 1764115200\n")
	code, body, _ := s.do(t, req{path: "/api/v1/query", body: testenv.ArcQuery(`SELECT attach, copy, pragma FROM load WHERE attach = 'a'`),
		header: map[string]string{"x-arc-database": "kw", "Content-Type": "application/json"}})
	if code != 200 || !strings.Contains(body, `"data":[["a",1,2.5]]`) {
		t.Fatalf("http: %d %s", code, body)
	}
	var attach string
	var cp int64
	if err := pgConnect(t, s.url("kw")).QueryRow(context.Background(), `SELECT attach, copy FROM load`).Scan(&attach, &cp); err != nil || attach != "a" || cp != 1 {
		t.Fatalf("pg wire: %q %d %v", attach, cp, err)
	}
}
