package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"tsgate/auth"
	"tsgate/internal/testenv"
)

// TestSecurityPoisoningSequences replays the sequences that used to leave
// state on pooled connections — a temp table shadowing a measurement, an
// open transaction, a transaction left aborted, USE — as a read token over
// HTTP and pg wire, many times and concurrently, and proves every other
// client's answers unchanged afterwards, on both front ends and memtrace.
func TestSecurityPoisoningSequences(t *testing.T) {
	s := startPG(t, nil)
	seedSecurityData(t, s)
	toks := makeTokens(t, s.gateway)
	before := observe(t, s)
	reader := map[string]string{"Authorization": "Bearer " + toks.read, "x-arc-database": "telegraf", "Content-Type": "application/json"}
	sequences := [][]string{
		{"CREATE LOCAL TEMP TABLE cpu AS SELECT now() AS time, 'EVIL' AS host, 9.9 AS usage"},
		{"CREATE TEMP TABLE events AS SELECT 'EVIL' AS content", "SELECT * FROM events"},
		{"BEGIN TRANSACTION"},
		{"BEGIN", "SELECT error('x') FROM cpu", "SELECT error('y') FROM cpu", "USE memory"},
		{"SET search_path = 'memory'"},
		{"ATTACH ':memory:' AS cpu", "USE cpu"},
		{"SELECT error('boom') FROM cpu"},
		{"SELECT * FROM cpu WHERE usage / 0 > 1 AND error('mid-stream') IS NULL"},
	}
	var wg sync.WaitGroup
	for round := range 4 {
		for _, seq := range sequences {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, q := range seq {
					code, body, _ := s.do(t, req{path: "/api/v1/query", body: testenv.ArcQuery(q), header: reader})
					if code >= 500 && !strings.Contains(q, "error(") {
						t.Errorf("round %d: %q: %d %s", round, q, code, body)
					}
				}
				ctx := context.Background()
				c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://r:%s@%s:%s/telegraf?sslmode=disable", toks.read, s.host, s.port))
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close(ctx)
				for _, q := range seq {
					c.Exec(ctx, q) // each may fail; none may leave anything behind
				}
			}()
		}
	}
	wg.Wait()
	// A write acknowledged now is read back at once by everyone: no open
	// transaction on a pooled connection hides it.
	s.writeSec(t, "telegraf", "cpu,host=c usage=7.5,count=1i 1764115320\n")
	after := observe(t, s)
	if !strings.Contains(after, `"c",7.5`) {
		t.Errorf("the acknowledged write is not visible: %s", after)
	}
	if strings.Contains(after, "EVIL") {
		t.Errorf("a reader's temp object shadows a measurement: %s", after)
	}
	// Apart from the new row, every answer is what it was.
	if strings.Count(after, `"c",7.5`) == 0 || len(after) <= len(before) {
		t.Errorf("views differ unexpectedly:\nbefore %s\nafter  %s", before, after)
	}
	// Each engine connection answers for the right database afterwards.
	for range 16 {
		for _, q := range []struct{ db, want string }{{"telegraf", `"a"`}, {"tsdb", `"a"`}} {
			code, body, _ := s.do(t, req{path: "/api/v1/query", body: testenv.ArcQuery("SELECT host FROM cpu ORDER BY host LIMIT 1"), header: map[string]string{"x-arc-database": q.db, "Content-Type": "application/json"}})
			if code != 200 || !strings.Contains(body, q.want) {
				t.Fatalf("%s after poisoning: %d %s", q.db, code, body)
			}
		}
	}
}

// TestSecurityPGPermissions: over pg wire a token needs read to query,
// whatever the protocol; an admin-only database is closed to others; a
// token revoked while its session is open stops working at its next
// statement.
func TestSecurityPGPermissions(t *testing.T) {
	s := startPG(t, nil)
	seedSecurityData(t, s)
	g := s.gateway
	mk := func(name string, p ...auth.Permission) (string, string) {
		secret, tok, err := g.tokens.Create(name, "", p)
		if err != nil {
			t.Fatal(err)
		}
		return secret, tok.ID
	}
	writeOnly, _ := mk("w", auth.Write)
	deleteOnly, _ := mk("d", auth.Delete)
	reader, readerID := mk("r", auth.Read)
	ctx := context.Background()
	connect := func(secret, db string, mode pgx.QueryExecMode) *pgx.Conn {
		return pgConnectWith(t, fmt.Sprintf("postgres://u:%s@%s:%s/%s?sslmode=disable", secret, s.host, s.port, db), func(cfg *pgx.ConnConfig) { cfg.DefaultQueryExecMode = mode })
	}
	state := func(err error) string {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return pe.Code
		}
		return fmt.Sprint(err)
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		for _, secret := range []string{writeOnly, deleteOnly} {
			c := connect(secret, "telegraf", mode)
			for _, q := range []string{"SELECT host FROM cpu", "SELECT relname FROM pg_class", "SHOW TABLES", "DESCRIBE cpu"} {
				var v any
				if err := c.QueryRow(ctx, q).Scan(&v); state(err) != "42501" {
					t.Errorf("%v: a token without read ran %q: %v", mode, q, err)
				}
			}
		}
		c := connect(reader, "telegraf", mode)
		var host string
		if err := c.QueryRow(ctx, "SELECT host FROM cpu ORDER BY host LIMIT 1").Scan(&host); err != nil || host != "a" {
			t.Fatalf("%v: reader: %q %v", mode, host, err)
		}
		for _, q := range []string{"SELECT content FROM memory.events", "SELECT 1 FROM memory.events LIMIT 1"} {
			var v any
			if err := c.QueryRow(ctx, q).Scan(&v); state(err) != "42501" {
				t.Errorf("%v: reader read memtrace's storage with %q: %v", mode, q, err)
			}
		}
		var dbs []string
		rows, _ := c.Query(ctx, "SHOW DATABASES")
		for rows.Next() {
			var d string
			rows.Scan(&d)
			dbs = append(dbs, d)
		}
		if strings.Contains(strings.Join(dbs, ","), "memory") {
			t.Errorf("%v: SHOW DATABASES lists memtrace's storage to a reader: %v", mode, dbs)
		}
		mc := connect(reader, "memory", mode)
		var v any
		if err := mc.QueryRow(ctx, "SELECT content FROM events").Scan(&v); state(err) != "42501" {
			t.Errorf("%v: reader connected to memory read events: %v", mode, err)
		}
		if err := mc.QueryRow(ctx, "SELECT relname FROM pg_class WHERE relname = 'events'").Scan(&v); state(err) != "42501" {
			t.Errorf("%v: reader read memory's catalog: %v", mode, err)
		}
	}
	// Revocation takes effect on open sessions.
	c := connect(reader, "telegraf", pgx.QueryExecModeSimpleProtocol)
	if err := g.tokens.Revoke(readerID); err != nil {
		t.Fatal(err)
	}
	var one int
	if err := c.QueryRow(ctx, "SELECT 1 FROM cpu LIMIT 1").Scan(&one); state(err) != "28000" {
		t.Errorf("a revoked token still queries: %v", err)
	}
}

// TestSecurityTransportLimits: a body dribbled past http.read_timeout is
// answered 408 and stores nothing; connections past a listener's cap are
// refused at once (HTTP 503, pg wire 53300) and counted.
func TestSecurityTransportLimits(t *testing.T) {
	s := startPG(t, func(c *Config) {
		c.HTTP.ReadTimeout = Duration{time.Second}
		c.HTTP.MaxConnections = 4
		c.PGWire.MaxConnections = 2
	})
	addr := strings.TrimPrefix(s.base, "http://")

	// A slow body.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /write?db=slow&precision=s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 100000\r\n\r\n", adminToken)
	start := time.Now()
	done := make(chan string, 1)
	go func() {
		// The status line is the answer; the server may keep the
		// connection open after it.
		line, _ := bufio.NewReader(conn).ReadString('\n')
		done <- line
	}()
	var answer string
	timeout := time.After(10 * time.Second)
dribble:
	for {
		conn.Write([]byte("slow,host=a v=1i 1764115200\n"))
		select {
		case answer = <-done:
			break dribble
		case <-timeout:
			t.Fatal("a dribbled body held its connection past 10 s")
		case <-time.After(100 * time.Millisecond):
		}
	}
	conn.Close()
	if !strings.HasPrefix(answer, "HTTP/1.1 408") {
		t.Errorf("slow body answered %q, want 408", answer)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("slow body cut after %v, want about the 1 s read timeout", el)
	}
	if code, body, _ := s.do(t, req{path: "/api/v1/query", body: testenv.ArcQuery("SHOW TABLES"), header: map[string]string{"x-arc-database": "slow", "Content-Type": "application/json"}}); code != 200 || strings.Contains(body, "slow") {
		t.Errorf("the slow body stored something: %d %s", code, body)
	}

	// The connection cap (4): open idle connections one by one; each
	// holds a slot (nothing comes back) until one is refused with a 503
	// at once. Connections left from earlier requests may hold slots
	// too, so the refusal comes at the fifth connection at the latest.
	http.DefaultClient.CloseIdleConnections()
	var held []net.Conn
	refused := false
	for len(held) < 5 && !refused {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		b, err := io.ReadAll(c)
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout() && len(b) == 0:
			held = append(held, c) // accepted, waiting for a request
		case strings.HasPrefix(string(b), "HTTP/1.1 503"):
			refused = true
			c.Close()
		default:
			t.Fatalf("connection %d got %q, %v", len(held)+1, b, err)
		}
	}
	if !refused {
		t.Errorf("%d connections held open past a cap of 4", len(held))
	}
	for _, c := range held {
		c.Close()
	}
	// Released slots serve again.
	ok := false
	for range 50 {
		resp, err := http.Get(s.base + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				ok = true
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !ok {
		t.Error("the listener did not serve again after connections closed")
	}

	// pg wire: two sessions, the third is refused with 53300.
	ctx := context.Background()
	a := pgConnect(t, s.url("tsdb"))
	bb := pgConnect(t, s.url("tsdb"))
	_, err = pgx.Connect(ctx, s.url("tsdb"))
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53300" {
		t.Errorf("third pg session: %v, want 53300", err)
	}
	a.Close(ctx)
	bb.Close(ctx)
	if m := s.metric(t, `tsgate_connections_refused_total{listener="pgwire"}`); m < 1 {
		t.Errorf("refused pg connections not counted: %v", m)
	}
}
