package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"tsgate/auth"
	"tsgate/internal/testenv"
)

// TestReplicasShareTokens runs three gateways in front of one PostgreSQL
// backend with auth.store_url on the same database, as a Deployment
// behind a load balancer does. A token made on one replica answers on the
// others — Arc API and pg wire SCRAM login — within a second; revoked on
// another, it stops everywhere within a second, open pg sessions
// included. The store's tables stay out of every client's reach.
func TestReplicasShareTokens(t *testing.T) {
	db := testenv.PostgresDB(t, "tsgate_pgw")
	type replica struct {
		*testServer
		host, port string
	}
	var rs []replica
	for range 3 {
		ts := startGateway(t, func(c *Config) {
			c.Backend.URL = db
			c.Auth.StoreURL = db
		})
		host, port, _ := net.SplitHostPort(ts.gateway.Addr("pgwire").String())
		rs = append(rs, replica{ts, host, port})
	}
	if n := len(rs[2].gateway.tokens.List()); n != 1 {
		t.Fatalf("%d tokens after three replicas bootstrapped, want the one admin token", n)
	}
	if code, body, _ := rs[0].do(t, req{path: "/write?db=tsdb&precision=s", body: []byte("cpu,host=a usage=1.5 1764115200\ncpu,host=b usage=2.5 1764115260\n")}); code != 204 {
		t.Fatalf("write: %d %s", code, body)
	}

	secret, tok, err := rs[0].gateway.tokens.Create("dashboards", "", []auth.Permission{auth.Read})
	if err != nil {
		t.Fatal(err)
	}
	query := func(r replica, token string) int {
		code, _, _ := r.do(t, req{path: "/api/v1/query", body: jsonQuery("SELECT count(*) FROM cpu"),
			header: map[string]string{"Authorization": "Bearer " + token, "x-arc-database": "tsdb", "Content-Type": "application/json"}})
		return code
	}
	pgURL := func(r replica, token, dbname string) string {
		return fmt.Sprintf("postgres://grafana:%s@%s:%s/%s?sslmode=disable", token, r.host, r.port, dbname)
	}
	ctx := context.Background()
	login := func(r replica, token, dbname string) (*pgx.Conn, error) {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return pgx.Connect(cctx, pgURL(r, token, dbname))
	}
	var sessions []*pgx.Conn
	for i, r := range rs[1:] {
		d := testenv.Eventually(t, time.Second, "Arc API on another replica", func() bool { return query(r, secret) == 200 })
		t.Logf("replica %d: Arc API accepted the new token after %s", i+1, d)
		var c *pgx.Conn
		d = testenv.Eventually(t, time.Second, "pg wire SCRAM login on another replica", func() bool {
			c, err = login(r, secret, "tsdb")
			return err == nil
		})
		t.Logf("replica %d: pg wire SCRAM login after %s", i+1, d)
		t.Cleanup(func() { c.Close(ctx) })
		var n int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM cpu").Scan(&n); err != nil || n != 2 {
			t.Errorf("replica %d: pg wire query: %v %d", i+1, err, n)
		}
		sessions = append(sessions, c)
	}

	// The store's tables are tsgate's: no client reads them, whatever
	// database it names.
	for _, q := range []string{"SELECT * FROM _tsgate.auth_tokens", `SELECT * FROM "_tsgate".auth_state`} {
		if code := func() int {
			code, _, _ := rs[1].do(t, req{path: "/api/v1/query", body: jsonQuery(q),
				header: map[string]string{"Authorization": "Bearer " + adminToken, "Content-Type": "application/json"}})
			return code
		}(); code == 200 {
			t.Errorf("Arc API: %q answered 200", q)
		}
		var v any
		if err := sessions[0].QueryRow(ctx, q).Scan(&v); err == nil {
			t.Errorf("pg wire: %q answered", q)
		}
	}
	var pe *pgconn.PgError
	if c, err := login(rs[1], adminToken, "_tsgate"); !errors.As(err, &pe) || pe.Code != "3D000" {
		// A session in database _tsgate would read the token hashes
		// and SCRAM verifiers as bare names.
		t.Errorf("pg wire login to database _tsgate: %v, want 3D000", err)
		if c != nil {
			c.Close(ctx)
		}
	}

	if err := rs[1].gateway.tokens.Revoke(tok.ID); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 2} {
		d := testenv.Eventually(t, time.Second, "revocation on the Arc API", func() bool { return query(rs[i], secret) == 401 })
		t.Logf("replica %d: Arc API refused the revoked token after %s", i, d)
	}
	open := sessions[1] // on replica 2, logged in before the revocation
	d := testenv.Eventually(t, time.Second, "revocation on an open pg session", func() bool {
		var n int
		err := open.QueryRow(ctx, "SELECT count(*) FROM cpu").Scan(&n)
		return errors.As(err, &pe) && pe.Code == "28000"
	})
	t.Logf("replica 2: open pg session refused after %s", d)
	if _, err := login(rs[0], secret, "tsdb"); !errors.As(err, &pe) || pe.Code != "28P01" {
		t.Errorf("pg wire login with a revoked token: %v, want 28P01", err)
	}
}
