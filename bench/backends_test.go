package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"tsgate/dialects/registry"
	"tsgate/internal/gatewaytest"
	"tsgate/internal/testenv"
	"tsgate/translate"
)

// Issue #4's side-by-side benchmark against the real backends
// (eval "$(./scripts/backends.sh)"): the same TSBS-like cpu rows written
// through a tsgate gateway started in-process with backend.url set, as line
// protocol on the Arc API, and written directly with the backend's own
// path; the same queries sent as Arc SQL through the gateway and as the
// native text the translator generates, sent directly. A backend whose
// TSGATE_TEST_*_URL is unset is skipped.

const (
	backendBatch   = 5000 // rows per write request
	ingestClients  = 4    // concurrent writers, the same on both sides
	queryLoadRows  = 20_000
	backendT0      = int64(1764115200) // 2025-11-26T00:00:00Z, rows one a second
	backendRegions = 4
)

var (
	floatFields = []string{"usage_user", "usage_system", "usage_idle", "usage_nice",
		"usage_iowait", "usage_irq", "usage_softirq", "usage_steal"}
	intFields = []string{"usage_guest", "usage_guest_nice"}
	cpuCols   = append(append([]string{"time", "hostname", "region", "datacenter"}, floatFields...), intFields...)
)

// cpuRows is one batch of rows, columnar, built before any timing.
type cpuRows struct {
	sec        []int64 // unix seconds
	host, reg  []string
	dc         []string
	f          [][]float64
	i          [][]int64
	timeValues []time.Time
}

// makeCPU is n rows starting at second backendT0+off.
func makeCPU(n int, off int64) *cpuRows {
	c := &cpuRows{sec: make([]int64, n), host: make([]string, n), reg: make([]string, n), dc: make([]string, n),
		timeValues: make([]time.Time, n)}
	c.f = make([][]float64, len(floatFields))
	for j := range c.f {
		c.f[j] = make([]float64, n)
	}
	c.i = make([][]int64, len(intFields))
	for j := range c.i {
		c.i[j] = make([]int64, n)
	}
	for r := range n {
		row := off + int64(r)
		h := row % Hosts
		c.sec[r] = backendT0 + row
		c.timeValues[r] = time.Unix(c.sec[r], 0).UTC()
		c.host[r] = "host_" + strconv.FormatInt(h, 10)
		c.reg[r] = "region_" + strconv.FormatInt(h%backendRegions, 10)
		c.dc[r] = c.reg[r] + string(rune('a'+h%3))
		for j := range c.f {
			c.f[j][r] = float64((row*7+int64(j)*13)%10000) / 100
		}
		for j := range c.i {
			c.i[j][r] = (row + int64(j)*31) % 100
		}
	}
	return c
}

// lineProtocol encodes the rows as line protocol, ns timestamps: the body
// the gateway gets, and InfluxDB's /write too.
func (c *cpuRows) lineProtocol() []byte {
	buf := make([]byte, 0, len(c.sec)*260)
	for r := range c.sec {
		buf = append(buf, "cpu,hostname="...)
		buf = append(buf, c.host[r]...)
		buf = append(buf, ",region="...)
		buf = append(buf, c.reg[r]...)
		buf = append(buf, ",datacenter="...)
		buf = append(buf, c.dc[r]...)
		sep := byte(' ')
		for j, name := range floatFields {
			buf = append(buf, sep)
			sep = ','
			buf = append(buf, name...)
			buf = append(buf, '=')
			buf = strconv.AppendFloat(buf, c.f[j][r], 'f', -1, 64)
		}
		for j, name := range intFields {
			buf = append(buf, ',')
			buf = append(buf, name...)
			buf = append(buf, '=')
			buf = strconv.AppendInt(buf, c.i[j][r], 10)
			buf = append(buf, 'i')
		}
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, c.sec[r]*1_000_000_000, 10)
		buf = append(buf, '\n')
	}
	return buf
}

// clickhouseInsert is the rows as one INSERT … FORMAT TabSeparated request.
func (c *cpuRows) clickhouseInsert(db string) []byte {
	buf := make([]byte, 0, len(c.sec)*200)
	buf = append(buf, "INSERT INTO `"+db+"`.cpu ("+strings.Join(cpuCols, ", ")+") FORMAT TabSeparated\n"...)
	for r := range c.sec {
		buf = c.timeValues[r].AppendFormat(buf, "2006-01-02 15:04:05")
		for _, s := range []string{c.host[r], c.reg[r], c.dc[r]} {
			buf = append(buf, '\t')
			buf = append(buf, s...)
		}
		for j := range c.f {
			buf = append(buf, '\t')
			buf = strconv.AppendFloat(buf, c.f[j][r], 'f', -1, 64)
		}
		for j := range c.i {
			buf = append(buf, '\t')
			buf = strconv.AppendInt(buf, c.i[j][r], 10)
		}
		buf = append(buf, '\n')
	}
	return buf
}

// copySource feeds the rows to pgx's CopyFrom (binary COPY), as a pgx
// application would.
type copySource struct {
	c   *cpuRows
	r   int
	row []any
}

func (s *copySource) Next() bool { s.r++; return s.r <= len(s.c.sec) }
func (s *copySource) Err() error { return nil }
func (s *copySource) Values() ([]any, error) {
	r := s.r - 1
	if s.row == nil {
		s.row = make([]any, len(cpuCols))
	}
	s.row[0], s.row[1], s.row[2], s.row[3] = s.c.timeValues[r], s.c.host[r], s.c.reg[r], s.c.dc[r]
	for j := range s.c.f {
		s.row[4+j] = s.c.f[j][r]
	}
	for j := range s.c.i {
		s.row[4+len(floatFields)+j] = s.c.i[j][r]
	}
	return s.row, nil
}

// backendOffset hands out disjoint time ranges, so no batch repeats rows.
var backendOffset atomic.Int64

func nextOffset(n int) int64 { return backendOffset.Add(int64(n)) - int64(n) }

// backendKind is one backend under test.
type backendKind struct {
	name string // sub-benchmark name
	env  string // TSGATE_TEST_*_URL
	// gatewayURL is backend.url for a gateway on the server env names;
	// db is the URL's default database.
	gatewayURL func(env, db string) string
}

var (
	influxKind = backendKind{"influxql", "TSGATE_TEST_INFLUX_URL", func(env, db string) string {
		return "influxql://" + strings.TrimPrefix(env, "http://") + "/" + db
	}}
	fluxKind = backendKind{"flux", "TSGATE_TEST_INFLUX_URL", func(env, db string) string {
		return "flux://" + strings.TrimPrefix(env, "http://") + "/" + db
	}}
	postgresKind   = backendKind{"postgres", "TSGATE_TEST_POSTGRES_URL", func(env, db string) string { return env }}
	clickhouseKind = backendKind{"clickhouse", "TSGATE_TEST_CLICKHOUSE_URL", func(env, db string) string {
		return "clickhouse://" + strings.TrimPrefix(env, "http://") + "/" + db
	}}
)

func envOrSkip(b *testing.B, env string) string {
	v := os.Getenv(env)
	if v == "" {
		b.Skipf("%s is not set; run eval \"$(./scripts/backends.sh)\"", env)
	}
	return v
}

func uniqueDB(prefix string) string {
	return fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano()%1_000_000_000_000)
}

// startBackendGateway runs a real tsgate in front of backendURL and waits
// until it is ready.
func startBackendGateway(b *testing.B, backendURL string) string {
	b.Helper()
	cfg := gatewaytest.Config(b)
	cfg.Backend.URL = backendURL
	cfg.Auth.BootstrapToken = token
	base := gatewaytest.ArcBase(gatewaytest.Start(b, cfg))
	gatewaytest.WaitReady(b, base, 5*time.Second)
	return base
}

func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: ingestClients, DisableCompression: true}}
}

// post sends body and drains the answer, failing unless the status is want.
func post(c *http.Client, u string, header map[string]string, body []byte, want int) error {
	req, err := http.NewRequest("POST", u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("POST %s: status %d: %s", u, resp.StatusCode, msg)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

func gatewayWrite(c *http.Client, base, db string, body []byte) error {
	return post(c, base+"/api/v1/write/line-protocol",
		map[string]string{"Authorization": "Bearer " + token, "x-arc-database": db, "Content-Type": "text/plain"}, body, 204)
}

// ingestSide is one way of writing: prepare builds request i's payload
// (outside the timing), send writes it.
type ingestSide struct {
	prepare func(i int, rows *cpuRows)
	send    func(i int) error
}

// runIngest writes b.N pre-built batches from ingestClients concurrent
// writers and returns rows/s.
func runIngest(b *testing.B, side ingestSide) float64 {
	for i := range b.N {
		side.prepare(i, makeCPU(backendBatch, nextOffset(backendBatch)))
	}
	el := parallel(b, ingestClients, side.send)
	b.StopTimer()
	rate := float64(b.N*backendBatch) / el.Seconds()
	b.ReportMetric(rate, "rows/s")
	return rate
}

type ingestResult struct{ tsgate, direct float64 }

// BenchmarkBackendIngest: rows/s through tsgate's Arc API (line protocol,
// 5,000-row batches, 4 writers) vs the backend's own write path with the
// same rows, batches and writers. tsgate's sub-benchmark reports its
// rows/s as a fraction of direct (x-direct); the goal is ≥ 0.5.
func BenchmarkBackendIngest(b *testing.B) {
	results := map[string]*ingestResult{}
	var order []string
	for _, k := range []backendKind{influxKind, postgresKind, clickhouseKind} {
		b.Run(k.name, func(b *testing.B) {
			env := envOrSkip(b, k.env)
			ctx := context.Background()
			tsDB := uniqueDB("tsgate_bi")
			dirDB := tsDB + "_direct"
			base := startBackendGateway(b, k.gatewayURL(env, tsDB))
			gc := newClient()
			b.Cleanup(func() { dropDatabases(b, k, env, tsDB, dirDB) })
			// The measurement exists on both sides before any timing
			// (tsgate's DDL creates the direct side's table too, so both
			// write into identical tables).
			warm := makeCPU(10, -int64(backendBatch))
			if err := gatewayWrite(gc, base, tsDB, warm.lineProtocol()); err != nil {
				b.Fatal(err)
			}
			var direct ingestSide
			dc := newClient()
			switch k.name {
			case "influxql":
				if err := post(dc, env+"/query?q="+url.QueryEscape(`CREATE DATABASE "`+dirDB+`"`), nil, nil, 200); err != nil {
					b.Fatal(err)
				}
				if err := post(dc, env+"/write?db="+dirDB, nil, warm.lineProtocol(), 204); err != nil {
					b.Fatal(err)
				}
				var bodies [][]byte
				direct = ingestSide{
					prepare: func(i int, r *cpuRows) { bodies = append(bodies[:i], r.lineProtocol()) },
					send: func(i int) error {
						return post(dc, env+"/write?db="+dirDB, map[string]string{"Content-Type": "text/plain"}, bodies[i], 204)
					},
				}
			case "postgres":
				if err := gatewayWrite(gc, base, dirDB, warm.lineProtocol()); err != nil {
					b.Fatal(err)
				}
				cfg, err := pgxpool.ParseConfig(env)
				if err != nil {
					b.Fatal(err)
				}
				cfg.MaxConns = ingestClients
				pool, err := pgxpool.NewWithConfig(ctx, cfg)
				if err != nil {
					b.Fatal(err)
				}
				defer pool.Close()
				var batches []*cpuRows
				direct = ingestSide{
					prepare: func(i int, r *cpuRows) { batches = append(batches[:i], r) },
					send: func(i int) error {
						n, err := pool.CopyFrom(ctx, pgx.Identifier{dirDB, "cpu"}, cpuCols, &copySource{c: batches[i]})
						if err == nil && n != backendBatch {
							err = fmt.Errorf("COPY stored %d rows", n)
						}
						return err
					},
				}
			case "clickhouse":
				if err := gatewayWrite(gc, base, dirDB, warm.lineProtocol()); err != nil {
					b.Fatal(err)
				}
				var bodies [][]byte
				direct = ingestSide{
					prepare: func(i int, r *cpuRows) { bodies = append(bodies[:i], r.clickhouseInsert(dirDB)) },
					send:    func(i int) error { return post(dc, env+"/", nil, bodies[i], 200) },
				}
			}
			res := &ingestResult{}
			results[k.name] = res
			order = append(order, k.name)
			b.Run("direct", func(b *testing.B) {
				settle(b, k, env)
				res.direct = runIngest(b, direct)
			})
			var bodies [][]byte
			b.Run("tsgate", func(b *testing.B) {
				settle(b, k, env)
				res.tsgate = runIngest(b, ingestSide{
					prepare: func(i int, r *cpuRows) { bodies = append(bodies[:i], r.lineProtocol()) },
					send:    func(i int) error { return gatewayWrite(gc, base, tsDB, bodies[i]) },
				})
				if res.direct > 0 {
					b.ReportMetric(res.tsgate/res.direct, "x-direct")
				}
			})
		})
	}
	if len(order) > 0 {
		var sb strings.Builder
		sb.WriteString("\n| backend | direct rows/s | tsgate rows/s | tsgate/direct |\n|---|---:|---:|---:|\n")
		for _, n := range order {
			r := results[n]
			if r.direct == 0 || r.tsgate == 0 {
				continue
			}
			fmt.Fprintf(&sb, "| %s | %.0f | %.0f | %.2f |\n", n, r.direct, r.tsgate, r.tsgate/r.direct)
		}
		fmt.Print(sb.String(), "\n")
	}
}

// settle waits (at most 20 s) for ClickHouse's background merges of the
// parts earlier inserts made, so they do not slow the side timed next.
func settle(b *testing.B, k backendKind, env string) {
	if k.name != "clickhouse" {
		return
	}
	c := newClient()
	for range 200 {
		resp, err := c.Post(env+"/", "text/plain", strings.NewReader("SELECT count() FROM system.merges"))
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.TrimSpace(string(out)) == "0" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dropDatabases removes what a benchmark created, tsgate's metadata rows
// included (best effort).
func dropDatabases(b *testing.B, k backendKind, env string, dbs ...string) {
	ctx := context.Background()
	c := newClient()
	switch k.name {
	case "influxql", "flux":
		for _, db := range dbs {
			post(c, env+"/query?q="+url.QueryEscape(`DROP DATABASE "`+db+`"`), nil, nil, 200)
		}
	case "postgres":
		conn, err := pgx.Connect(ctx, env)
		if err != nil {
			b.Log(err)
			return
		}
		defer conn.Close(ctx)
		for _, db := range dbs {
			conn.Exec(ctx, `DROP SCHEMA IF EXISTS "`+db+`" CASCADE`)
			conn.Exec(ctx, `DELETE FROM _tsgate.columns WHERE db = $1`, db)
		}
	case "clickhouse":
		for _, db := range dbs {
			post(c, env+"/", nil, []byte("DROP DATABASE IF EXISTS `"+db+"`"), 200)
			post(c, env+"/", nil, []byte("ALTER TABLE _tsgate.columns DELETE WHERE db = '"+db+"'"), 200)
		}
	}
}

// backendQuery is one representative query, in Arc SQL, with the rows
// it answers over the loaded data.
type backendQuery struct {
	name, sql string
	rows      int
}

var backendQueries = []backendQuery{
	{"point", `SELECT time, usage_user, usage_system FROM cpu WHERE hostname = 'host_7' ORDER BY time LIMIT 10`, 10},
	{"count_avg", `SELECT count(usage_user) AS n, avg(usage_user) AS mean_user FROM cpu`, 1},
	{"bucket_1m", `SELECT time_bucket(INTERVAL '1 minute', time) AS minute, avg(usage_user) AS mean_user, max(usage_system) AS max_system
FROM cpu WHERE time >= '2025-11-26T01:00:00Z' AND time < '2025-11-26T02:00:00Z' GROUP BY minute ORDER BY minute`, 60},
}

// nativeQuery sends one generated query with the backend's own client
// and returns the rows it answered (for the check before timing; the
// timed loop ignores the count).
type nativeQuery func() (int, error)

// measure runs fn b.N times, timing each call, and returns p50 and p99.
func measure(b *testing.B, fn func() (int, error)) (p50, p99 time.Duration) {
	for range 5 { // connections and caches warm on both sides alike
		if _, err := fn(); err != nil {
			b.Fatal(err)
		}
	}
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := fn(); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(d)
	p50, p99 = d[len(d)/2], d[len(d)*99/100]
	b.ReportMetric(float64(p50)/1e6, "p50-ms")
	b.ReportMetric(float64(p99)/1e6, "p99-ms")
	return p50, p99
}

type latencyResult struct {
	tsgateP50, tsgateP99, directP50, directP99 time.Duration
	native                                     string
}

// BenchmarkBackendQuery: latency of each query as Arc SQL through the
// gateway's /api/v1/query (JSON) vs the translator's native text sent
// directly, over 20,000 rows (100 hosts, 5.5 hours) written through
// tsgate. The tsgate
// sub-benchmark reports added-p50-ms (tsgate p50 − direct p50); the goal
// is ≤ 0.15 ms.
func BenchmarkBackendQuery(b *testing.B) {
	type key struct{ backend, query string }
	results := map[key]*latencyResult{}
	var order []key
	for _, k := range []backendKind{influxKind, fluxKind, postgresKind, clickhouseKind} {
		b.Run(k.name, func(b *testing.B) {
			env := envOrSkip(b, k.env)
			ctx := context.Background()
			db := uniqueDB("tsgate_bq")
			b.Cleanup(func() { dropDatabases(b, k, env, db) })
			loadKind := k
			if k.name == "flux" {
				// Flux reads what tsgate's InfluxQL backend wrote, with
				// its field metadata.
				loadKind = influxKind
			}
			loader := startBackendGateway(b, loadKind.gatewayURL(env, db))
			lc := newClient()
			for off := 0; off < queryLoadRows; off += backendBatch {
				if err := gatewayWrite(lc, loader, db, makeCPU(backendBatch, int64(off)).lineProtocol()); err != nil {
					b.Fatal(err)
				}
			}
			// Freshly written data settles before either side is timed:
			// ClickHouse merges its parts, PostgreSQL gets statistics.
			switch k.name {
			case "clickhouse":
				if err := post(lc, env+"/", nil, []byte("OPTIMIZE TABLE `"+db+"`.cpu FINAL"), 200); err != nil {
					b.Fatal(err)
				}
				settle(b, k, env)
			case "postgres":
				conn, err := pgx.Connect(ctx, env)
				if err != nil {
					b.Fatal(err)
				}
				_, err = conn.Exec(ctx, `VACUUM ANALYZE "`+db+`".cpu`)
				conn.Close(ctx)
				if err != nil {
					b.Fatal(err)
				}
			}
			base := loader
			if loadKind.name != k.name {
				base = startBackendGateway(b, k.gatewayURL(env, db))
			}
			// The translator's output for this backend, with the schema
			// the backend reports (as `tsgate translate` prints it).
			be, err := registry.Open(ctx, k.gatewayURL(env, db))
			if err != nil {
				b.Fatal(err)
			}
			defer be.Close()
			tr := translate.New()
			gc := newClient()
			for _, q := range backendQueries {
				t, err := tr.TranslateIn(ctx, q.sql, be.Generator(), db, be.Schema(db))
				if err != nil {
					b.Fatalf("%s: %v", q.name, err)
				}
				steps := ""
				if len(t.Post) > 0 {
					steps = fmt.Sprintf(" (+%d gateway post steps, not applied on the direct side)", len(t.Post))
				}
				native := strings.Join(strings.Fields(t.Text), " ") + steps
				direct := nativeClient(b, k, env, db, t.Text)
				body := testenv.ArcQuery(q.sql)
				viaGateway := func() (int, error) {
					return gatewayQuery(gc, base, db, body)
				}
				// Both sides answer the same number of rows, and both are
				// warm (connections, server caches) before either is timed.
				for i := range 10 {
					for side, fn := range map[string]nativeQuery{"direct": direct, "tsgate": viaGateway} {
						n, err := fn()
						if err != nil {
							b.Fatalf("%s %s: %v", side, q.name, err)
						}
						if i == 0 && n != q.rows {
							b.Fatalf("%s %s: %d rows, want %d", side, q.name, n, q.rows)
						}
					}
				}
				res := &latencyResult{native: native}
				kk := key{k.name, q.name}
				results[kk] = res
				order = append(order, kk)
				b.Run(q.name, func(b *testing.B) {
					b.Run("direct", func(b *testing.B) { res.directP50, res.directP99 = measure(b, direct) })
					b.Run("tsgate", func(b *testing.B) {
						res.tsgateP50, res.tsgateP99 = measure(b, viaGateway)
						b.ReportMetric(float64(res.tsgateP50-res.directP50)/1e6, "added-p50-ms")
					})
				})
			}
		})
	}
	if len(order) > 0 {
		var sb strings.Builder
		sb.WriteString("\n| backend | query | direct p50 | direct p99 | tsgate p50 | tsgate p99 | added p50 |\n|---|---|---:|---:|---:|---:|---:|\n")
		ms := func(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/1e6) }
		for _, kk := range order {
			r := results[kk]
			if r.directP50 == 0 || r.tsgateP50 == 0 {
				continue
			}
			fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s | %s | %s |\n", kk.backend, kk.query,
				ms(r.directP50), ms(r.directP99), ms(r.tsgateP50), ms(r.tsgateP99), ms(r.tsgateP50-r.directP50))
		}
		sb.WriteString("\nnative text sent directly:\n")
		for _, kk := range order {
			fmt.Fprintf(&sb, "  %s %s: %s\n", kk.backend, kk.query, results[kk].native)
		}
		fmt.Print(sb.String(), "\n")
	}
}

// gatewayQuery posts Arc SQL (JSON) and returns the envelope's row_count.
func gatewayQuery(c *http.Client, base, db string, body []byte) (int, error) {
	req, err := http.NewRequest("POST", base+"/api/v1/query", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("x-arc-database", db)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("status %d: %.300s", resp.StatusCode, out)
	}
	i := bytes.LastIndex(out, []byte(`"row_count":`))
	if i < 0 {
		return 0, fmt.Errorf("no row_count: %.300s", out)
	}
	rest := out[i+len(`"row_count":`):]
	j := bytes.IndexAny(rest, ",}")
	if j < 0 {
		return 0, fmt.Errorf("bad row_count: %.300s", out)
	}
	return strconv.Atoi(string(rest[:j]))
}

// nativeClient is the generated text sent the way an application using
// the backend directly would send it.
func nativeClient(b *testing.B, k backendKind, env, db, text string) nativeQuery {
	ctx := context.Background()
	c := newClient()
	read := func(req *http.Request) ([]byte, error) {
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		out, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("status %d: %.300s", resp.StatusCode, out)
		}
		return out, err
	}
	switch k.name {
	case "influxql":
		// GET /query, JSON answer: InfluxDB's HTTP API as its clients use it.
		u := env + "/query?db=" + url.QueryEscape(db) + "&epoch=u&q=" + url.QueryEscape(text)
		return func() (int, error) {
			req, _ := http.NewRequest("GET", u, nil)
			out, err := read(req)
			if err != nil {
				return 0, err
			}
			var res struct {
				Results []struct {
					Error  string `json:"error"`
					Series []struct {
						Values []json.RawMessage `json:"values"`
					} `json:"series"`
				} `json:"results"`
			}
			if err := json.Unmarshal(out, &res); err != nil {
				return 0, err
			}
			n := 0
			for _, r := range res.Results {
				if r.Error != "" {
					return 0, fmt.Errorf("influxdb: %s", r.Error)
				}
				for _, s := range r.Series {
					n += len(s.Values)
				}
			}
			return n, nil
		}
	case "flux":
		// POST /api/v2/query, annotated CSV: what Flux clients send.
		body, _ := json.Marshal(map[string]any{"query": text, "type": "flux",
			"dialect": map[string]any{"header": true, "annotations": []string{"datatype", "group", "default"}, "delimiter": ","}})
		return func() (int, error) {
			req, _ := http.NewRequest("POST", env+"/api/v2/query", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/csv")
			out, err := read(req)
			if err != nil {
				return 0, err
			}
			// Data rows: not annotations, not blank, not a table's header.
			n := 0
			header := true
			for line := range strings.Lines(string(out)) {
				line = strings.TrimRight(line, "\r\n")
				switch {
				case line == "":
					header = true
				case strings.HasPrefix(line, "#"):
				case header:
					header = false
				default:
					n++
				}
			}
			return n, nil
		}
	case "postgres":
		// pgx with its defaults (prepared, cached statements), search_path
		// set to the database's schema at connect.
		cfg, err := pgxpool.ParseConfig(env)
		if err != nil {
			b.Fatal(err)
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = db
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(pool.Close)
		return func() (int, error) {
			rows, err := pool.Query(ctx, text)
			if err != nil {
				return 0, err
			}
			n := 0
			for rows.Next() {
				if _, err := rows.Values(); err != nil {
					rows.Close()
					return 0, err
				}
				n++
			}
			rows.Close()
			return n, rows.Err()
		}
	case "clickhouse":
		// HTTP interface, the format tsgate's backend reads.
		body := []byte(strings.TrimRight(strings.TrimSpace(text), ";") + "\nFORMAT TabSeparatedWithNamesAndTypes")
		u := env + "/?database=" + url.QueryEscape(db)
		return func() (int, error) {
			req, _ := http.NewRequest("POST", u, bytes.NewReader(body))
			out, err := read(req)
			if err != nil {
				return 0, err
			}
			return bytes.Count(out, []byte{'\n'}) - 2, nil
		}
	}
	b.Fatalf("no native client for %s", k.name)
	return nil
}
