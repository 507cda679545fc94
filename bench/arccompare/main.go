package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"tsgate/bench"
	"tsgate/internal/syncbuf"
)

const token = "arccompare-token-0123456789abcdef0123"

func main() {
	var o options
	flag.StringVar(&o.tsgateBin, "tsgate", "bin/tsgate", "tsgate binary")
	flag.StringVar(&o.arcURL, "arc-url", os.Getenv("ARC_URL"), "an Arc already running on loopback (env ARC_URL)")
	flag.StringVar(&o.arcToken, "arc-token", os.Getenv("ARC_TOKEN"), "its admin token (env ARC_TOKEN)")
	flag.StringVar(&o.arcBin, "arc-bin", os.Getenv("ARC_BIN"), "an Arc binary to start (env ARC_BIN); needed for Arc's cold start, RSS and disk")
	flag.IntVar(&o.rounds, "rounds", 5, "rounds; figures are medians over them")
	flag.Float64Var(&o.scale, "scale", 1, "multiplies the requests per ingest run")
	flag.IntVar(&o.diskRows, "disk-rows", 1_000_000, "rows ingested for the disk-per-row figure (0 skips it)")
	flag.DurationVar(&o.idle, "idle", 3*time.Second, "how long a fresh process idles before its RSS is read")
	flag.StringVar(&o.out, "out", "", "directory for results.txt and chart.html")
	flag.StringVar(&o.only, "only", "", "comma-separated subset of msgpack,lp10k,lp1k,cold,queries (default all)")
	flag.IntVar(&o.queryRows, "query-rows", 1_000_000, "rows the query workload runs over")
	flag.IntVar(&o.queryRuns, "query-runs", 15, "runs of each query per side and round (their p50 is the round's figure)")
	var tenv multiFlag
	flag.Var(&tenv, "tsgate-env", "extra KEY=VALUE for tsgate's environment (repeatable), e.g. TSGATE_INGEST_DURABILITY=buffer")
	flag.Parse()
	o.tsgateEnv = tenv
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "arccompare:", err)
		os.Exit(1)
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type options struct {
	tsgateBin, arcURL, arcToken, arcBin, out string
	only                                     string
	tsgateEnv                                []string
	rounds, diskRows, queryRows, queryRuns   int
	scale                                    float64
	idle                                     time.Duration
}

// side is one system under test: how to start a fresh instance of it and
// where its long-running instance listens.
type side struct {
	name  string
	start func(ctx context.Context, dir string) (*proc, error) // nil: cannot start one
	url   string
	token string
	// flush makes buffered rows durable (Arc); nil when writes are
	// durable on acknowledgement.
	flush func(ctx context.Context) error
}

func run(ctx context.Context, o options) error {
	bin, err := filepath.Abs(o.tsgateBin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("tsgate binary: %w", err)
	}
	work, err := os.MkdirTemp("", "arccompare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	ts := &side{name: "tsgate", token: token}
	ts.start = func(ctx context.Context, dir string) (*proc, error) { return startTsgate(ctx, bin, dir, o.tsgateEnv) }
	sides := []*side{ts}
	var arc *side
	if o.arcURL != "" || o.arcBin != "" {
		arc = &side{name: "Arc", url: strings.TrimRight(o.arcURL, "/"), token: o.arcToken}
		if o.arcBin != "" {
			abin, err := filepath.Abs(o.arcBin)
			if err != nil {
				return err
			}
			arc.start = func(ctx context.Context, dir string) (*proc, error) { return startArc(ctx, abin, dir) }
			if arc.token == "" || arc.url == "" {
				arc.token = token
			}
		}
		if arc.token == "" {
			return errors.New("ARC_URL without ARC_BIN needs ARC_TOKEN (an admin token: the flush route is admin-only)")
		}
		sides = append(sides, arc)
	}
	for _, s := range sides {
		if s.url != "" {
			if err := checkLoopback(s.url); err != nil {
				return err
			}
			continue
		}
		dir := filepath.Join(work, s.name+"-long")
		p, err := s.start(ctx, dir)
		if err != nil {
			return fmt.Errorf("start %s: %w", s.name, err)
		}
		defer p.stop()
		s.url = p.url
	}
	// Both sides have Arc's flush route: Arc's commits its buffer, and
	// tsgate's too when ingest.durability is "buffer" (else a no-op).
	for _, s := range sides {
		s.flush = func(ctx context.Context) error {
			return post(ctx, http.DefaultClient, s, "", "/api/v1/write/line-protocol/flush", "", nil, http.StatusOK)
		}
	}

	loads := []workload{
		{key: "msgpack", title: "MessagePack columnar, 10k rows/request, 4 clients", path: "/api/v1/write/msgpack",
			ctype: "application/msgpack", rows: 10_000, requests: 60, body: bench.MessagePack},
		{key: "lp10k", title: "line protocol, 10k-row batches, 4 conns", path: "/api/v1/write/line-protocol",
			ctype: "text/plain", rows: 10_000, requests: 40, body: bench.LineProtocol},
		{key: "lp1k", title: "line protocol, 1k-row batches, 4 conns", path: "/api/v1/write/line-protocol",
			ctype: "text/plain", rows: 1_000, requests: 300, body: bench.LineProtocol},
	}
	want := func(key string) bool {
		return o.only == "" || slices.Contains(strings.Split(o.only, ","), key)
	}
	loads = slices.DeleteFunc(loads, func(l workload) bool { return !want(l.key) })
	for i := range loads {
		l := &loads[i]
		l.requests = max(4, int(float64(l.requests)*o.scale))
		for k := range 8 {
			l.bodies = append(l.bodies, l.body(l.rows, k*l.rows))
		}
	}

	res := newResults(sides)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	queries := want("queries") && o.queryRows > 0
	counts := map[string]int{}
	if queries {
		for _, s := range sides {
			if err := loadQueryRows(ctx, client, s, o.queryRows); err != nil {
				return fmt.Errorf("%s: load the query workload's rows: %w", s.name, err)
			}
		}
	}
	// Warm up: first requests pay for table creation, connection set-up
	// and page faults that no later request does.
	for _, l := range loads {
		l.requests = 8
		for _, s := range sides {
			if _, err := ingestRun(ctx, client, s, l); err != nil {
				return fmt.Errorf("%s %s warm-up: %w", s.name, l.key, err)
			}
		}
	}
	for round := range o.rounds {
		order := slices.Clone(sides)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, l := range loads {
			for _, s := range order {
				r, err := ingestRun(ctx, client, s, l)
				if err != nil {
					return fmt.Errorf("%s %s: %w", s.name, l.key, err)
				}
				res.add(s.name, l.key+".rps", r.rowsPerSec)
				res.add(s.name, l.key+".p50", r.p50)
				res.add(s.name, l.key+".p99", r.p99)
				if s.flush != nil {
					res.add(s.name, l.key+".rps+flush", r.rowsPerSecFlush)
				}
			}
		}
		if queries {
			if err := queryRound(ctx, client, order, o.queryRuns, res, counts); err != nil {
				return err
			}
		}
		for _, s := range order {
			if s.start == nil || !want("cold") {
				continue
			}
			cold, ready, rss, err := coldStart(ctx, s, filepath.Join(work, fmt.Sprintf("%s-cold-%d", s.name, round)), o.idle)
			if err != nil {
				return fmt.Errorf("%s cold start: %w", s.name, err)
			}
			res.add(s.name, "cold", cold)
			res.add(s.name, "ready", ready)
			res.add(s.name, "rss", rss.total)
			res.add(s.name, "rss.anon", rss.anon)
			res.add(s.name, "rss.file", rss.file)
		}
		fmt.Fprintf(os.Stderr, "round %d/%d done\n", round+1, o.rounds)
	}
	if o.diskRows > 0 {
		for _, s := range sides {
			if s.start == nil {
				continue
			}
			bpr, err := diskPerRow(ctx, s, filepath.Join(work, s.name+"-disk"), o.diskRows)
			if err != nil {
				return fmt.Errorf("%s disk: %w", s.name, err)
			}
			res.add(s.name, "disk", bpr)
		}
	}

	var txt bytes.Buffer
	res.print(&txt, loads, o)
	os.Stdout.Write(txt.Bytes())
	if o.out != "" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(o.out, "results.txt"), txt.Bytes(), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(o.out, "chart.html"), res.chart(loads), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// checkLoopback refuses a URL that is not on this machine: the benchmark
// sends traffic to loopback only.
func checkLoopback(u string) error {
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		return fmt.Errorf("%s: only http:// loopback URLs", u)
	}
	host, _, err := net.SplitHostPort(strings.SplitN(rest, "/", 2)[0])
	if err != nil {
		return fmt.Errorf("%s: %w", u, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%s: not a loopback address", u)
	}
	return nil
}

// proc is a server the tool started.
type proc struct {
	cmd  *exec.Cmd
	url  string
	dir  string
	done chan struct{}
	log  *syncbuf.Buffer
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// cleanEnv is the tool's environment without the variables of the
// product it starts, so the caller's settings cannot leak in.
func cleanEnv(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

func startTsgate(ctx context.Context, bin, dir string, extra []string) (*proc, error) {
	var addrs [3]string
	for i := range addrs {
		a, err := freePort()
		if err != nil {
			return nil, err
		}
		addrs[i] = a
	}
	env := append(cleanEnv("TSGATE_"),
		"TSGATE_DATA_DIR="+filepath.Join(dir, "data"),
		"TSGATE_ARC_LISTEN="+addrs[0],
		"TSGATE_MEMTRACE_LISTEN="+addrs[1],
		"TSGATE_PGWIRE_LISTEN="+addrs[2],
		"TSGATE_AUTH_BOOTSTRAP_TOKEN="+token,
		"TSGATE_LOG_LEVEL=error")
	env = append(env, extra...)
	return startProc(ctx, dir, "http://"+addrs[0], env, bin, "serve")
}

// startArc runs Arc in dir (its data paths are relative to the working
// directory) on a loopback port, with telemetry off and its endpoint
// pointed at loopback as well.
func startArc(ctx context.Context, bin, dir string) (*proc, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	env := append(cleanEnv("ARC_"),
		"ARC_SERVER_HOST=127.0.0.1",
		"ARC_SERVER_PORT="+port,
		"ARC_AUTH_BOOTSTRAP_TOKEN="+token,
		"ARC_TELEMETRY_ENABLED=false",
		"ARC_TELEMETRY_ENDPOINT=http://127.0.0.1:9/",
		"ARC_LOG_LEVEL=error")
	return startProc(ctx, dir, "http://"+addr, env, bin)
}

func startProc(ctx context.Context, dir, url string, env []string, bin string, args ...string) (*proc, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := &proc{url: url, dir: dir, done: make(chan struct{}), log: &syncbuf.Buffer{}}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = env
	p.cmd.Stdout = io.Discard
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	if _, err := p.waitFor(ctx, "/health", time.Now(), 60*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// waitFor polls GET path (/health, /ready) until it answers 200 and
// returns the time since start.
func (p *proc) waitFor(ctx context.Context, path string, start time.Time, limit time.Duration) (time.Duration, error) {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for {
		select {
		case <-p.done:
			return 0, fmt.Errorf("%s exited before %s answered 200: %s", p.cmd.Path, path, lastLines(p.log.String(), 5))
		case <-ctx.Done():
			return 0, ctx.Err()
		default:
		}
		resp, err := c.Get(p.url + path)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		if time.Since(start) > limit {
			return 0, fmt.Errorf("not healthy after %s", limit)
		}
		time.Sleep(time.Millisecond)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// stop sends SIGTERM (both servers persist what they hold on it) and
// waits; SIGKILL after a minute.
func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// memory is a process's resident set (VmRSS) and its two parts:
// anonymous memory (heaps, engines' buffers, stacks) and file-backed
// pages, mostly the executable's own code and data mapped from the page
// cache (shared and reclaimable, and how much of the file a process maps
// depends on the page cache's folio sizes, so both binaries are copied
// the same way before a run: bench/arc-compare.sh). MB.
type memory struct{ total, anon, file float64 }

func (p *proc) rss() (memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	fields := map[string]*float64{"VmRSS:": &m.total, "RssAnon:": &m.anon, "RssFile:": &m.file}
	seen := 0
	for _, line := range strings.Split(string(b), "\n") {
		for name, dst := range fields {
			if rest, ok := strings.CutPrefix(line, name); ok {
				kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
				if err != nil {
					return memory{}, err
				}
				*dst = kb * 1024 / 1e6
				seen++
			}
		}
	}
	if seen != len(fields) {
		return memory{}, errors.New("no VmRSS, RssAnon or RssFile in /proc/PID/status")
	}
	return m, nil
}

// coldStart starts a fresh instance on an empty directory and reports
// the time to a healthy /health and to a 200 from /ready (ms), and its
// resident memory after idling.
func coldStart(ctx context.Context, s *side, dir string, idle time.Duration) (ms, readyMs float64, rss memory, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, rss, err
	}
	// startProc waits for health itself; time from just before it.
	t0 := time.Now()
	p, err := s.start(ctx, dir)
	if err != nil {
		return 0, 0, rss, err
	}
	cold := time.Since(t0)
	defer func() {
		p.stop()
		os.RemoveAll(dir)
	}()
	ready, err := p.waitFor(ctx, "/ready", t0, time.Minute)
	if err != nil {
		return 0, 0, rss, err
	}
	select {
	case <-time.After(idle):
	case <-ctx.Done():
		return 0, 0, rss, ctx.Err()
	}
	rss, err = p.rss()
	return float64(cold.Microseconds()) / 1000, float64(ready.Microseconds()) / 1000, rss, err
}

// diskPerRow measures the bytes a fixed row count adds to a fresh data
// directory once the server has stopped: the directory after an empty
// start and stop is the baseline.
func diskPerRow(ctx context.Context, s *side, dir string, rows int) (float64, error) {
	p, err := s.start(ctx, dir)
	if err != nil {
		return 0, err
	}
	p.stop()
	base, err := dirBytes(dir)
	if err != nil {
		return 0, err
	}
	if p, err = s.start(ctx, dir); err != nil {
		return 0, err
	}
	defer p.stop()
	inst := &side{name: s.name, url: p.url, token: s.token}
	const batch = 10_000
	l := workload{key: "disk", path: "/api/v1/write/msgpack", ctype: "application/msgpack", rows: batch, requests: (rows + batch - 1) / batch}
	// Distinct timestamps for every request, built as they are sent.
	l.next = func(i int) []byte { return bench.MessagePack(batch, i*batch) }
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	if _, err := ingestRun(ctx, client, inst, l); err != nil {
		return 0, err
	}
	if err := post(ctx, client, inst, "", "/api/v1/write/line-protocol/flush", "", nil, http.StatusOK); err != nil {
		return 0, err
	}
	p.stop()
	after, err := dirBytes(dir)
	if err != nil {
		return 0, err
	}
	return float64(after-base) / float64(l.requests*batch), nil
}

// dirBytes is the space a directory tree takes on disk (allocated
// blocks, not apparent sizes).
func dirBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			} else {
				n += fi.Size()
			}
		}
		return nil
	})
	return n, err
}

type workload struct {
	key, title, path, ctype string
	db                      string // x-arc-database; "" is the ingest workloads' "bench"
	rows, requests          int
	body                    func(n, off int) []byte
	bodies                  [][]byte
	next                    func(i int) []byte // overrides bodies
}

type runResult struct {
	rowsPerSec, rowsPerSecFlush, p50, p99 float64
}

// ingestRun sends l.requests bodies from 4 concurrent clients and
// reports rows/s and request latency percentiles (ms). For a side with a
// flush it also times the flush that follows.
func ingestRun(ctx context.Context, client *http.Client, s *side, l workload) (runResult, error) {
	const clients = 4
	work := make(chan int)
	lat := make([]time.Duration, l.requests)
	errc := make(chan error, clients)
	start := time.Now()
	for range clients {
		go func() {
			var first error
			for i := range work {
				if first != nil {
					continue
				}
				b := l.next
				var body []byte
				if b != nil {
					body = b(i)
				} else {
					body = l.bodies[i%len(l.bodies)]
				}
				t := time.Now()
				first = post(ctx, client, s, l.db, l.path, l.ctype, body, http.StatusNoContent)
				lat[i] = time.Since(t)
			}
			errc <- first
		}()
	}
	for i := range l.requests {
		work <- i
	}
	close(work)
	var err error
	for range clients {
		err = errors.Join(err, <-errc)
	}
	if err != nil {
		return runResult{}, err
	}
	el := time.Since(start)
	rows := float64(l.requests * l.rows)
	r := runResult{rowsPerSec: rows / el.Seconds()}
	slices.Sort(lat)
	r.p50 = ms(lat[len(lat)/2])
	r.p99 = ms(lat[min(len(lat)-1, len(lat)*99/100)])
	if s.flush != nil {
		if err := s.flush(ctx); err != nil {
			return r, fmt.Errorf("flush: %w", err)
		}
		r.rowsPerSecFlush = rows / time.Since(start).Seconds()
	}
	// Let either side's background work (checkpoints, compaction) settle
	// before the next measurement.
	time.Sleep(300 * time.Millisecond)
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// request is a POST of body to s's path as its admin, database db (""
// is the ingest workloads' "bench").
func request(ctx context.Context, s *side, db, path, ctype string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	if db == "" {
		db = "bench"
	}
	req.Header.Set("x-arc-database", db)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return req, nil
}

func post(ctx context.Context, c *http.Client, s *side, db, path, ctype string, body []byte, want int) error {
	req, err := request(ctx, s, db, path, ctype, body)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != want {
		return fmt.Errorf("POST %s: status %d: %s", path, resp.StatusCode, msg)
	}
	return nil
}
