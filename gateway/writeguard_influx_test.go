package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tsgate/internal/testenv"

	"tsgate/dialects/backendkit/kittest"
)

// startGatewayDown is startGateway for a backend that is down: /ready
// would never answer 200, so it waits for /health instead.
func startGatewayDown(t *testing.T, mutate func(*Config)) *testServer {
	t.Helper()
	cfg := testConfig(t)
	cfg.Memtrace.Listen = ""
	cfg.PGWire.Listen = ""
	mutate(&cfg)
	ts := runGateway(t, cfg)
	awaitHTTP(t, ts.base+"/health", false)
	return ts
}

// A write to a backend that is down answers 503 within the retry bound,
// naming the backend, and the body carries no credentials.
func TestWriteBackendDownAnswers503Fast(t *testing.T) {
	ts := startGatewayDown(t, func(c *Config) {
		c.Backend.URL = "influxql://tsgate:s3cret-pw@" + testenv.FreeAddr(t) + "/down?timeout=5s"
	})
	// Retries: 100 + 200 + 400 ms of backoff with the defaults.
	bound := 700*time.Millisecond + time.Second
	start := time.Now()
	code, body, _ := ts.do(t, req{path: "/write?db=down", body: []byte("cpu,host=a v=1 1700000000000000000\n")})
	took := time.Since(start)
	t.Logf("down backend: %d after %v: %s", code, took, body)
	if code != 503 {
		t.Fatalf("status %d, want 503: %s", code, body)
	}
	if took > bound {
		t.Errorf("answered after %v, want within the retry bound (%v)", took, bound)
	}
	for _, want := range []string{"influxql backend unavailable for writes (4 attempts)", "connection refused", "nothing was stored"} {
		if !strings.Contains(body, want) {
			t.Errorf("body %s does not say %q", body, want)
		}
	}
	if strings.Contains(body, "s3cret") || strings.Contains(body, "tsgate:") {
		t.Errorf("body leaks credentials: %s", body)
	}
	if v := ts.metric(t, `tsgate_backend_write_retries_total{backend="influxql"}`); v != 3 {
		t.Errorf("retries total = %v, want 3", v)
	}
	if v := ts.metric(t, "tsgate_backend_write_buffer_rows"); v != 0 {
		t.Errorf("rows in flight after the answer = %v", v)
	}
}

// privateInfluxd is an influxd of the test's own, on free loopback ports
// and a temporary directory, so the shared server is untouched.
type privateInfluxd struct {
	bin, conf, dir, addr string
	cmd                  *exec.Cmd
}

func influxdBinary(t *testing.T) string {
	t.Helper()
	var cands []string
	if b := os.Getenv("TSGATE_BACKENDS_BIN"); b != "" {
		cands = append(cands, filepath.Join(b, "influxd"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		cands = append(cands, filepath.Join(home, ".cache", "tsgate", "bin", "influxd"))
	}
	if p, err := exec.LookPath("influxd"); err == nil {
		cands = append(cands, p)
	}
	for _, c := range cands {
		if fi, err := os.Stat(c); err == nil && fi.Mode()&0o111 != 0 {
			return c
		}
	}
	t.Fatalf("TSGATE_TEST_INFLUX_URL is set but no influxd binary was found (looked in %v); scripts/backends.sh installs it", cands)
	return ""
}

func newPrivateInfluxd(t *testing.T) *privateInfluxd {
	t.Helper()
	p := &privateInfluxd{bin: influxdBinary(t), dir: t.TempDir(), addr: testenv.FreeAddr(t)}
	p.conf = testenv.InfluxdConfig(t, p.dir, testenv.FreeAddr(t), p.addr)
	t.Cleanup(p.kill)
	p.start(t)
	return p
}

// start runs influxd on the same directory and ports and waits for /ping.
func (p *privateInfluxd) start(t *testing.T) time.Duration {
	t.Helper()
	log, err := os.OpenFile(filepath.Join(p.dir, "influxd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	p.cmd = exec.Command(p.bin, "run", "-config", p.conf)
	p.cmd.Stdout, p.cmd.Stderr = log, log
	start := time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for time.Since(start) < 60*time.Second {
		resp, err := http.Get("http://" + p.addr + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return time.Since(start)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("private influxd on %s did not answer /ping in 60s (log in %s)", p.addr, p.dir)
	return 0
}

// kill stops influxd the hard way (SIGKILL: no flush, no goodbye).
func (p *privateInfluxd) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		p.cmd = nil
	}
}

// seqs reads writer w's seq values straight from InfluxDB.
func (p *privateInfluxd) seqs(t *testing.T, db string, w int) map[int64]bool {
	t.Helper()
	got := map[int64]bool{}
	for _, v := range testenv.InfluxQL(t, "http://"+p.addr, db, fmt.Sprintf(`SELECT seq FROM "load" WHERE w = '%d'`, w)) {
		num, _ := v[1].(json.Number)
		n, err := num.Int64()
		if err != nil {
			t.Fatalf("seq %v: %v", v[1], err)
		}
		got[n] = true
	}
	return got
}

// TestWriteInfluxRestartMidLoadLosesNoAcceptedRow loads rows concurrently
// through the Arc write API into a private InfluxDB, kills influxd
// (SIGKILL) mid-load, restarts it on the same data directory and goes on
// loading. Every row of a write that was answered 204 must be in InfluxDB
// (read back directly), and every other answer must be the 503 that says
// the backend is unavailable, without credentials. With the default
// retries (0.7 s of backoff) the outage shows as 503s; with retries that
// outlast it, as none.
func TestWriteInfluxRestartMidLoadLosesNoAcceptedRow(t *testing.T) {
	kittest.URL(t, "TSGATE_TEST_INFLUX_URL") // the gate: real servers are installed
	t.Run("default retries", func(t *testing.T) { influxRestartMidLoad(t, nil, true) })
	t.Run("retries outlast the outage", func(t *testing.T) {
		influxRestartMidLoad(t, func(b *BackendConfig) {
			b.WriteRetries = 12 // 0.1+0.2+0.4+0.5×9 s ≈ 5 s of backoff
			b.WriteRetryMaxWait = Duration{500 * time.Millisecond}
		}, false)
	})
}

func influxRestartMidLoad(t *testing.T, tune func(*BackendConfig), want503 bool) {
	influx := newPrivateInfluxd(t)
	db := kittest.DBName("wg")
	ts := startGateway(t, func(c *Config) {
		c.Backend.URL = "influxql://tsgate:s3cret-pw@" + influx.addr + "/" + db
		if tune != nil {
			tune(&c.Backend)
		}
	})

	const writers, rowsPerBatch = 8, 20
	type answer struct {
		code int
		body string
		at   time.Time
	}
	var (
		stop     atomic.Bool
		mu       sync.Mutex
		answers  []answer
		accepted = make([][]int64, writers)
		wg       sync.WaitGroup
	)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	client := &http.Client{Timeout: 60 * time.Second}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := 0; !stop.Load(); batch++ {
				first := int64(batch * rowsPerBatch)
				resp, body, err := postLoadBatch(client, ts, db, strconv.Itoa(w), batch, rowsPerBatch, base)
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				mu.Lock()
				answers = append(answers, answer{resp.StatusCode, body, time.Now()})
				if resp.StatusCode == http.StatusNoContent {
					for i := range int64(rowsPerBatch) {
						accepted[w] = append(accepted[w], first+i)
					}
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	killAt := time.Now()
	influx.kill()
	time.Sleep(1500 * time.Millisecond)
	startup := influx.start(t)
	upAt := time.Now()
	time.Sleep(2 * time.Second)
	stop.Store(true)
	wg.Wait()

	var ok, unavailable, okBefore, okAfter int
	var firstOKAfter time.Time
	for _, a := range answers {
		switch {
		case a.code == http.StatusNoContent:
			ok++
			if a.at.Before(killAt) {
				okBefore++
			}
			if a.at.After(upAt) {
				okAfter++
			}
			if a.at.After(killAt) && (firstOKAfter.IsZero() || a.at.Before(firstOKAfter)) {
				firstOKAfter = a.at
			}
		case a.code == http.StatusServiceUnavailable && strings.Contains(a.body, "influxql backend unavailable for writes"):
			unavailable++
		default:
			t.Errorf("answer %d %s: want 204, or 503 saying the backend is unavailable", a.code, a.body)
		}
		if strings.Contains(a.body, "s3cret") {
			t.Errorf("answer leaks credentials: %s", a.body)
		}
	}
	retries := ts.metric(t, `tsgate_backend_write_retries_total{backend="influxql"}`)
	t.Logf("%d writes: %d answered 204 (%d before the kill, %d after the restart), %d answered 503; influxd down %v (restart took %v); first 204 %v after the kill; %v retries",
		len(answers), ok, okBefore, okAfter, unavailable, upAt.Sub(killAt), startup, firstOKAfter.Sub(killAt), retries)
	if okBefore == 0 || okAfter == 0 {
		t.Fatalf("the load did not span the outage: %d 204s before the kill, %d after the restart", okBefore, okAfter)
	}
	if want503 != (unavailable > 0) {
		t.Errorf("%d writes answered 503; want some: %v", unavailable, want503)
	}
	if retries == 0 {
		t.Error("no write was retried during the outage")
	}

	lost, rows := 0, 0
	for w := range writers {
		stored := influx.seqs(t, db, w)
		for _, seq := range accepted[w] {
			rows++
			if !stored[seq] {
				lost++
				if lost <= 5 {
					t.Errorf("writer %d seq %d was answered 204 but is not in InfluxDB", w, seq)
				}
			}
		}
	}
	t.Logf("%d accepted rows checked in InfluxDB, %d missing", rows, lost)
	if lost > 0 {
		t.Fatalf("%d accepted rows lost", lost)
	}
}

// postLoadBatch writes batch number batch of writer tag w (rows seq = batch
// × rows … +rows-1 of measurement load, one a millisecond from base)
// through the Arc API, and returns the answer.
func postLoadBatch(client *http.Client, ts *testServer, db, w string, batch, rows int, base int64) (*http.Response, string, error) {
	var lp bytes.Buffer
	first := int64(batch * rows)
	for i := range int64(rows) {
		seq := first + i
		fmt.Fprintf(&lp, "load,w=%s seq=%di,v=%g %d\n", w, seq, float64(seq)/7, base+seq*int64(time.Millisecond))
	}
	r, err := http.NewRequest("POST", ts.base+"/write?db="+db, &lp)
	if err != nil {
		return nil, "", err
	}
	r.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := client.Do(r)
	if err != nil {
		return nil, "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body), nil
}
