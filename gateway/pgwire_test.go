package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"tsgate/auth"
	"tsgate/internal/testenv"
)

// pgServer is a gateway with pg wire on a free port and a little data.
type pgServer struct {
	*testServer
	host string
	port string
}

func startPG(t *testing.T, mutate func(*Config)) *pgServer {
	t.Helper()
	ts := startGateway(t, func(c *Config) {
		c.PGWire.Listen = "127.0.0.1:0"
		if mutate != nil {
			mutate(c)
		}
	})
	lines := "cpu,host=a,region=us usage=1.5,count=3i 1764115200\n" +
		"cpu,host=b,region=eu usage=2.5,count=4i 1764115260\n" +
		"cpu,host=a,region=us usage=3.5,count=5i 1764115320\n" +
		"mem,host=a used=10.25,ok=true 1764115200\n"
	ts.writeSec(t, "tsdb", lines)
	host, port, _ := net.SplitHostPort(ts.gateway.Addr("pgwire").String())
	return &pgServer{testServer: ts, host: host, port: port}
}

func (s *pgServer) url(db string) string {
	return fmt.Sprintf("postgres://alice:%s@%s:%s/%s?sslmode=disable", adminToken, s.host, s.port, db)
}

// pgConnect connects to url within 10 s and closes the connection when
// the test ends.
func pgConnect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	return pgConnectWith(t, url, nil)
}

// pgConnectWith is pgConnect with the driver's configuration for url
// changed by set (unless nil) first.
func pgConnectWith(t *testing.T, url string, set func(*pgx.ConnConfig)) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	if set != nil {
		set(cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func TestPGWirePgxSimpleAndExtended(t *testing.T) {
	forEachPGBackend(t, testPGWirePgxSimpleAndExtended)
}

func testPGWirePgxSimpleAndExtended(t *testing.T, backend func(*Config)) {
	s := startPG(t, backend)
	ctx := context.Background()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement, pgx.QueryExecModeDescribeExec} {
		t.Run(mode.String(), func(t *testing.T) {
			c := pgConnect(t, s.url("tsdb"))
			var one int
			if err := c.QueryRow(ctx, "SELECT 1", mode).Scan(&one); err != nil || one != 1 {
				t.Fatalf("SELECT 1: %v %d", err, one)
			}
			rows, err := c.Query(ctx, "SELECT host, usage, count, time FROM cpu WHERE host = $1 ORDER BY time", mode, "a")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for rows.Next() {
				var host string
				var usage float64
				var count int64
				var tm time.Time
				if err := rows.Scan(&host, &usage, &count, &tm); err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%s %g %d %s", host, usage, count, tm.UTC().Format(time.RFC3339)))
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			want := "a 1.5 3 2025-11-26T00:00:00Z|a 3.5 5 2025-11-26T00:02:00Z"
			if strings.Join(got, "|") != want {
				t.Errorf("rows = %q, want %q", strings.Join(got, "|"), want)
			}
			fds := rows.FieldDescriptions()
			if fds[0].DataTypeOID != 25 || fds[1].DataTypeOID != 701 || fds[2].DataTypeOID != 20 || fds[3].DataTypeOID != 1184 {
				t.Errorf("type oids %d %d %d %d", fds[0].DataTypeOID, fds[1].DataTypeOID, fds[2].DataTypeOID, fds[3].DataTypeOID)
			}
			var n int64
			var avg float64
			if err := c.QueryRow(ctx, "SELECT count(*), avg(usage) FROM cpu WHERE count > $1", mode, 2).Scan(&n, &avg); err != nil || n != 3 || avg != 2.5 {
				t.Errorf("aggregate: %v %d %g", err, n, avg)
			}
			// An error carries SQLSTATE and position; the session survives it.
			_, err = c.Exec(ctx, "SELECT nosuchcol FROM cpu", mode)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code == "" || pe.Message == "" {
				t.Fatalf("error: %#v", err)
			}
			var ok bool
			if err := c.QueryRow(ctx, "SELECT true", mode).Scan(&ok); err != nil || !ok {
				t.Errorf("after error: %v", err)
			}
		})
	}
}

func TestPGWireMultiStatementAndErrors(t *testing.T) {
	s := startPG(t, nil)
	ctx := context.Background()
	c := pgConnect(t, s.url("tsdb"))
	res, err := c.PgConn().Exec(ctx, "SELECT 1 AS a; SELECT host FROM cpu ORDER BY time LIMIT 2; SET application_name = 'x'").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || len(res[1].Rows) != 2 || res[2].CommandTag.String() != "SET" || res[1].CommandTag.String() != "SELECT 2" {
		t.Fatalf("results: %+v", res)
	}
	// A syntax error reports 42601 and a position.
	_, err = c.PgConn().Exec(ctx, "SELECT FROM WHERE").ReadAll()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42601" {
		t.Fatalf("syntax error: %#v", err)
	}
	// Wrong password: 28P01.
	_, err = pgx.Connect(ctx, strings.Replace(s.url("tsdb"), adminToken, "wrong-token-000000000000", 1))
	if !errors.As(err, &pe) || pe.Code != "28P01" {
		t.Fatalf("bad password: %v", err)
	}
}

func TestPGWireColumnNames(t *testing.T) {
	s := startPG(t, nil)
	c := pgConnect(t, s.url("tsdb"))
	rows, err := c.Query(context.Background(), "SELECT host, count(*), avg(usage), max(count) AS m, 1 + 1, usage::bigint FROM cpu GROUP BY host, usage ORDER BY 1 LIMIT 1")
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	var names []string
	for _, f := range rows.FieldDescriptions() {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "host,count,avg,m,?column?,usage" {
		t.Errorf("column names %s", got)
	}
}

// forEachPGBackend runs a pg wire client test against the embedded store
// and, in a fresh database of its own, against the real PostgreSQL the
// test scripts start (TSGATE_TEST_POSTGRES_URL; required under CI): a
// client must not be able to tell which one answers.
func forEachPGBackend(t *testing.T, test func(t *testing.T, backend func(*Config))) {
	t.Run("embedded", func(t *testing.T) { test(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		u := testenv.PostgresDB(t, "tsgate_pgw")
		test(t, func(c *Config) { c.Backend.URL = u })
	})
}

// cliToken makes a read token named name in g's token file from outside
// the running gateway, as `tsgate token create` does, and returns the
// store it opened for that, the secret and the token.
func cliToken(t *testing.T, g *Gateway, name string) (*auth.Store, string, *auth.Token) {
	t.Helper()
	cli, err := auth.Open(TokenPath(g.cfg.DataDir))
	if err != nil {
		t.Fatal(err)
	}
	secret, tok, err := cli.Create(name, "", []auth.Permission{auth.Read})
	if err != nil {
		t.Fatal(err)
	}
	return cli, secret, tok
}

// TestPGWireSCRAMNewToken: a token made while the gateway runs (by
// `tsgate token create`, another process on the same token file) logs in
// with SCRAM at once, though the gateway never saw it in plaintext; once
// revoked it cannot.
func TestPGWireSCRAMNewToken(t *testing.T) {
	s := startPG(t, nil)
	cli, secret, tok := cliToken(t, s.gateway, "bi")
	url := func(secret string) string {
		return fmt.Sprintf("postgres://metabase:%s@%s:%s/tsdb?sslmode=disable", secret, s.host, s.port)
	}
	ctx := context.Background()
	var c *pgx.Conn
	var err error
	// The gateway rereads the token file at most once a second.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err = pgx.Connect(ctx, url(secret))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("SCRAM login with a new token: %v", err)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM cpu").Scan(&n); err != nil || n != 3 {
		t.Errorf("query: %v %d", err, n)
	}
	c.Close(ctx)
	if err := cli.Revoke(tok.ID); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		c, err = pgx.Connect(ctx, url(secret))
		if err != nil || time.Now().After(deadline) {
			break
		}
		c.Close(ctx)
		time.Sleep(200 * time.Millisecond)
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "28P01" {
		t.Errorf("login with a revoked token: %v, want SQLSTATE 28P01", err)
	}
}
