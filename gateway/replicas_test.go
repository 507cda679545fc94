package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
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
	rs[0].writeSec(t, "tsdb", "cpu,host=a usage=1.5 1764115200\ncpu,host=b usage=2.5 1764115260\n")

	secret, tok, err := rs[0].gateway.tokens.Create("dashboards", "", []auth.Permission{auth.Read})
	if err != nil {
		t.Fatal(err)
	}
	query := func(r replica, token string) int {
		code, _, _ := r.do(t, req{path: "/api/v1/query", body: testenv.ArcQuery("SELECT count(*) FROM cpu"),
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
			code, _, _ := rs[1].do(t, req{path: "/api/v1/query", body: testenv.ArcQuery(q),
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

// TestReplicasShareManagement: replicas that share auth.store_url share
// Arc's management state too — a policy made on one is read and changed
// on another, concurrent creates on both get distinct ids, a database
// created on one exists on the other — and two schedulers run a
// continuous query once per interval between them, not once each.
func TestReplicasShareManagement(t *testing.T) {
	db := testenv.PostgresDB(t, "tsgate_mgmt")
	var rs []*testServer
	for range 2 {
		rs = append(rs, startGateway(t, func(c *Config) {
			c.Backend.URL = db
			c.Auth.StoreURL = db
			c.ContinuousQuery.Enabled = true
		}))
	}
	body := func(code int, r *testServer, q req) string {
		t.Helper()
		got, b, _ := r.do(t, q)
		if got != code {
			t.Fatalf("%s %s: %d %s, want %d", q.method, q.path, got, b, code)
		}
		return b
	}
	body(201, rs[0], jsonReq("POST", "/api/v1/retention", `{"name":"thirty","database":"tsdb","retention_days":30,"buffer_days":1,"is_active":false}`))
	if b := body(200, rs[1], req{method: "GET", path: "/api/v1/retention/1"}); !strings.Contains(b, `"name":"thirty"`) {
		t.Errorf("the other replica reads %s", b)
	}
	body(200, rs[1], jsonReq("PUT", "/api/v1/retention/1", `{"name":"thirty","database":"tsdb","retention_days":45,"is_active":false}`))
	if b := body(200, rs[0], req{method: "GET", path: "/api/v1/retention/1"}); !strings.Contains(b, `"retention_days":45`) {
		t.Errorf("the first replica reads %s after the other's update", b)
	}
	body(201, rs[1], jsonReq("POST", "/api/v1/databases", `{"name":"fresh"}`))
	body(200, rs[0], req{method: "GET", path: "/api/v1/databases/fresh"})

	// Concurrent creates, alternating replicas: each gets its own id.
	cq := func(name, interval string) string {
		b, _ := json.Marshal(map[string]any{"name": name, "database": "tsdb", "source_measurement": "cpu", "destination_measurement": "cpu_" + name,
			"query":    "SELECT time_bucket(INTERVAL '1 minute', time) AS time, count(*) AS n FROM cpu WHERE time >= {start_time} AND time < {end_time} GROUP BY 1",
			"interval": interval, "tag_columns": []string{}, "is_active": false})
		return string(b)
	}
	var wg sync.WaitGroup
	ids := make([]int64, 8)
	for i := range ids {
		wg.Go(func() {
			code, b, _ := rs[i%2].do(t, jsonReq("POST", "/api/v1/continuous_queries", cq(fmt.Sprintf("q%d", i), "1h")))
			var got struct{ ID int64 }
			if code != 201 || json.Unmarshal([]byte(b), &got) != nil {
				t.Errorf("create q%d on replica %d: %d %s", i, i%2, code, b)
			}
			ids[i] = got.ID
		})
	}
	wg.Wait()
	slices.Sort(ids)
	if want := []int64{1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	for i, r := range rs {
		var list []json.RawMessage
		if err := json.Unmarshal([]byte(body(200, r, req{method: "GET", path: "/api/v1/continuous_queries"})), &list); err != nil || len(list) != 8 {
			t.Errorf("replica %d lists %d queries (%v), want 8", i, len(list), err)
		}
	}

	// Both schedulers see the active query; it runs once per interval.
	b := body(201, rs[0], jsonReq("POST", "/api/v1/continuous_queries", strings.Replace(cq("sched", "10s"), `"is_active":false`, `"is_active":true`, 1)))
	var sched struct{ ID int64 }
	if err := json.Unmarshal([]byte(b), &sched); err != nil {
		t.Fatal(err)
	}
	time.Sleep(27 * time.Second)
	var ex struct {
		Executions []struct {
			ExecutionID   string `json:"execution_id"`
			ExecutionTime string `json:"execution_time"`
		}
	}
	if err := json.Unmarshal([]byte(body(200, rs[1], req{method: "GET", path: fmt.Sprintf("/api/v1/continuous_queries/%d/executions", sched.ID)})), &ex); err != nil {
		t.Fatal(err)
	}
	var times []time.Time
	for _, e := range ex.Executions {
		at, err := time.Parse(time.RFC3339, e.ExecutionTime)
		if err != nil || !strings.HasPrefix(e.ExecutionID, "cq-sched-") {
			t.Fatalf("execution %+v", e)
		}
		times = append(times, at)
	}
	slices.SortFunc(times, time.Time.Compare)
	t.Logf("scheduled runs: %v", times)
	if len(times) < 2 || len(times) > 3 {
		t.Errorf("%d scheduled runs in 27 s at a 10 s interval on two replicas, want 2 or 3", len(times))
	}
	for i := 1; i < len(times); i++ {
		if d := times[i].Sub(times[i-1]); d < 9*time.Second {
			t.Errorf("runs %s apart: the query ran twice in one interval", d)
		}
	}
}
