package gateway

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tsgate/dialects/backendkit/kittest"
	"tsgate/internal/testenv"
)

// cutProxy forwards a loopback port to a server and can cut every
// connection at once and refuse new ones for a while: a network outage
// between tsgate and its backend, with the server itself untouched.
type cutProxy struct {
	addr, to string
	mu       sync.Mutex
	ln       net.Listener
	conns    map[net.Conn]bool
}

func newCutProxy(t *testing.T, to string) *cutProxy {
	t.Helper()
	p := &cutProxy{addr: testenv.FreeAddr(t), to: to, conns: map[net.Conn]bool{}}
	p.listen(t)
	t.Cleanup(func() { p.cut(false) })
	return p
}

func (p *cutProxy) listen(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.to)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[u] = true, true
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close(); c.Close() }()
			go func() { io.Copy(c, u); c.Close(); u.Close() }()
		}
	}()
}

// cut closes every connection; with listening false, also the listener.
func (p *cutProxy) cut(listening bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !listening && p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// TestWritePostgresOutageNoLossNoDuplicates loads rows through the Arc
// write API into PostgreSQL across a network outage (every connection
// cut mid-load, new ones refused for a second). PostgreSQL is not
// idempotent, so the gateway retries only writes whose transaction
// cannot have committed: every row answered 204 is stored, and no row
// is stored twice, whatever the answer was.
func TestWritePostgresOutageNoLossNoDuplicates(t *testing.T) {
	base, u, db := outageServer(t, "TSGATE_TEST_POSTGRES_URL")
	ctx := context.Background()
	direct := testenv.Postgres(t, base)
	t.Cleanup(func() {
		direct.Exec(ctx, `DROP SCHEMA IF EXISTS "`+db+`" CASCADE`)
		direct.Exec(ctx, `DELETE FROM _tsgate.columns WHERE db = $1`, db)
	})
	secret := ""
	if u.User != nil {
		secret, _ = u.User.Password()
	}
	outageNoLossNoDuplicates(t, "postgres", u.Host, func(proxy string) string {
		pu := *u
		pu.Host = proxy
		return pu.String()
	}, db, secret, func() map[string]int {
		counts := map[string]int{}
		rows, err := direct.Query(ctx, `SELECT w, seq, count(*) FROM "`+db+`"."load" GROUP BY w, seq`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var w string
			var seq, n int64
			if err := rows.Scan(&w, &seq, &n); err != nil {
				t.Fatal(err)
			}
			counts[fmt.Sprintf("%s/%d", w, seq)] = int(n)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return counts
	})
}

// TestWriteClickHouseOutageNoLossNoDuplicates is the same outage with
// ClickHouse, which keeps duplicates and has no transactions: only a
// write whose first INSERT never reached the server is retried.
func TestWriteClickHouseOutageNoLossNoDuplicates(t *testing.T) {
	base, u, db := outageServer(t, "TSGATE_TEST_CLICKHOUSE_URL")
	t.Cleanup(func() { testenv.ClickHouse(t, base, "DROP DATABASE IF EXISTS `"+db+"`") })
	outageNoLossNoDuplicates(t, "clickhouse", u.Host, func(proxy string) string {
		return "clickhouse://" + proxy + "/" + db
	}, db, "", func() map[string]int {
		counts := map[string]int{}
		out := testenv.ClickHouse(t, base, "SELECT w, seq, count() FROM `"+db+"`.`load` GROUP BY w, seq FORMAT TabSeparated")
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var w string
			var seq int64
			var n int
			if _, err := fmt.Sscanf(line, "%s\t%d\t%d", &w, &seq, &n); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			counts[fmt.Sprintf("%s/%d", w, seq)] = n
		}
		return counts
	})
}

// outageServer is the real server env names, its URL parsed, and a
// fresh database name for the load.
func outageServer(t *testing.T, env string) (base string, u *url.URL, db string) {
	t.Helper()
	base = kittest.URL(t, env)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return base, u, kittest.DBName("wg")
}

// outageNoLossNoDuplicates runs the load through a cutProxy in front of
// server (backendURL makes the gateway's backend.url from the proxy's
// address) and checks the answers against stored (row counts by
// "w<writer>/<seq>", read straight from the backend).
func outageNoLossNoDuplicates(t *testing.T, name, server string, backendURL func(proxy string) string, db, secret string, stored func() map[string]int) {
	proxy := newCutProxy(t, server)
	ts := startGateway(t, func(c *Config) { c.Backend.URL = backendURL(proxy.addr) })

	const writers, rowsPerBatch = 8, 20
	var (
		stop                 atomic.Bool
		mu                   sync.Mutex
		ok, unavailable      int
		accepted             = make([][]int64, writers)
		wg                   sync.WaitGroup
		base0                = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
		client               = &http.Client{Timeout: 60 * time.Second}
		retriedAway, refused int
		failed               []failedBatch
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := 0; !stop.Load(); batch++ {
				first := int64(batch * rowsPerBatch)
				resp, body, err := postLoadBatch(client, ts, db, "w"+strconv.Itoa(w), batch, rowsPerBatch, base0)
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				mu.Lock()
				switch {
				case resp.StatusCode == http.StatusNoContent:
					ok++
					for i := range int64(rowsPerBatch) {
						accepted[w] = append(accepted[w], first+i)
					}
				case resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(body, name):
					unavailable++
					failed = append(failed, failedBatch{w, first, body})
					switch {
					case strings.Contains(body, "nothing was stored"):
						retriedAway++
					case strings.Contains(body, "may have been stored"):
						refused++ // not retried: may be stored, never twice
					default:
						t.Errorf("503 %s: says neither that nothing was stored nor that the batch may be", body)
					}
				default:
					t.Errorf("answer %d %s: want 204, or 503 naming %s", resp.StatusCode, body, name)
				}
				if secret != "" && strings.Contains(body, secret) {
					t.Errorf("answer leaks the password: %s", body)
				}
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	time.Sleep(time.Second)
	proxy.cut(false)
	time.Sleep(time.Second)
	proxy.listen(t)
	time.Sleep(1500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	retries := ts.metric(t, `tsgate_backend_write_retries_total{backend="`+name+`"}`)
	t.Logf("%d writes answered 204, %d answered 503 (%d after retries ran out, nothing stored; %d not retried, may be stored); %v retries",
		ok, unavailable, retriedAway, refused, retries)
	if ok == 0 || unavailable == 0 || retries == 0 {
		t.Fatalf("the load did not span the outage: %d 204s, %d 503s, %v retries", ok, unavailable, retries)
	}

	counts := stored()
	dups := 0
	for k, n := range counts {
		if n > 1 {
			dups++
			if dups <= 5 {
				t.Errorf("%s stored %d times", k, n)
			}
		}
	}
	lost, checked := 0, 0
	for w := range writers {
		for _, seq := range accepted[w] {
			checked++
			if counts[fmt.Sprintf("w%d/%d", w, seq)] == 0 {
				lost++
				if lost <= 5 {
					t.Errorf("writer %d seq %d was answered 204 but is not in PostgreSQL", w, seq)
				}
			}
		}
	}
	t.Logf("%d accepted rows checked, %d missing; %d rows stored, %d stored more than once", checked, lost, len(counts), dups)
	for _, f := range failed {
		n := 0
		for i := range int64(rowsPerBatch) {
			n += counts[fmt.Sprintf("w%d/%d", f.w, f.first+i)]
		}
		t.Logf("503 batch w%d/%d: %d of %d rows stored; answer %s", f.w, f.first, n, rowsPerBatch, f.body)
		if n > 0 && strings.Contains(f.body, "nothing was stored") {
			t.Errorf("batch w%d/%d answered %q has %d rows stored", f.w, f.first, f.body, n)
		}
	}
}

type failedBatch struct {
	w     int
	first int64
	body  string
}
