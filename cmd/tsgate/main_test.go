package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tsgate/internal/syncbuf"
	"tsgate/internal/testenv"
)

var binary string

// TestMain builds the real binary once: these tests run tsgate the way a
// user does, as a separate process that can be killed.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tsgate-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "tsgate")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type proc struct {
	cmd    *exec.Cmd
	addr   string
	stderr *syncbuf.Buffer
}

// start runs tsgate serve on dataDir, with env added to the
// environment, until the test ends, and waits until it is ready.
func start(t *testing.T, dataDir string, env ...string) *proc {
	t.Helper()
	return startArgs(t, dataDir, nil, env...)
}

// startArgs is start with extra serve flags (--config).
func startArgs(t *testing.T, dataDir string, args []string, env ...string) *proc {
	t.Helper()
	addr := testenv.FreeAddr(t)
	cmd := exec.Command(binary, append([]string{"serve", "--data-dir", dataDir, "--arc-listen", addr}, args...)...)
	// Port 0 for memtrace and pg wire: their fixed defaults may be taken
	// by another test or another process.
	cmd.Env = append(append(os.Environ(), "TSGATE_MEMTRACE_LISTEN=127.0.0.1:0", "TSGATE_PGWIRE_LISTEN=127.0.0.1:0"), env...)
	p := &proc{cmd: cmd, addr: addr, stderr: &syncbuf.Buffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("tsgate never became ready; stderr:\n%s", p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) post(t *testing.T, token, path, contentType string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+p.addr+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return send(t, req)
}

// writeLoad starts writers goroutines, writer w posting batch(w, i) for
// i = 0, 1, … to path on p as token, until the server is gone or the
// returned wait is called; wait returns once every writer has stopped.
// ack(w, i) is called, one call at a time, for each batch answered 204.
func (p *proc) writeLoad(token, path string, writers int, batch func(w, i int) string, ack func(w, i int)) (wait func()) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := make(chan struct{})
	client := &http.Client{Timeout: 5 * time.Second}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("POST", "http://"+p.addr+path, strings.NewReader(batch(w, i)))
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 204 {
					mu.Lock()
					ack(w, i)
					mu.Unlock()
				}
			}
		}()
	}
	return func() {
		close(stop)
		wg.Wait()
	}
}

// send does req and returns the answer's status and body.
func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, b := testenv.Do(t, req)
	return resp.StatusCode, string(b)
}

// TestKill9Durability: 8 writers post batches concurrently; tsgate is
// killed with SIGKILL in the middle. After a restart every batch that was
// answered 204 is there, whole, and no batch is there in part.
func TestKill9Durability(t *testing.T) {
	const token = "durability-token-0123456789"
	dir := t.TempDir()
	p := start(t, dir, "TSGATE_AUTH_BOOTSTRAP_TOKEN="+token)
	const writers, perBatch = 8, 50
	acked := map[[2]int]bool{}
	wait := p.writeLoad(token, "/write?db=dur", writers, func(w, b int) string {
		var lp strings.Builder
		for i := range perBatch {
			fmt.Fprintf(&lp, "cpu,w=w%d b=%di,i=%di %d\n", w, b, i, int64(1764115200+b*perBatch+i)*1e9+int64(w))
		}
		return lp.String()
	}, func(w, b int) { acked[[2]int{w, b}] = true })
	time.Sleep(1500 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	wait()
	if len(acked) < writers {
		t.Fatalf("only %d batches acknowledged before the kill: the test measured nothing", len(acked))
	}

	p2 := start(t, dir)
	status, body := p2.post(t, token, "/api/v1/query", "application/json",
		[]byte(`{"sql":"SELECT w, b, count(*) AS n FROM dur.cpu GROUP BY w, b"}`))
	if status != 200 {
		t.Fatalf("query: %d %s", status, body)
	}
	var res struct {
		Data [][]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	stored := map[[2]int]int{}
	for _, r := range res.Data {
		var w int
		fmt.Sscanf(r[0].(string), "w%d", &w)
		stored[[2]int{w, int(r[1].(float64))}] = int(r[2].(float64))
	}
	for k := range acked {
		if stored[k] != perBatch {
			t.Errorf("acknowledged batch %v: %d of %d rows after kill -9", k, stored[k], perBatch)
		}
	}
	for k, n := range stored {
		if n != perBatch {
			t.Errorf("batch %v stored in part: %d of %d rows", k, n, perBatch)
		}
	}
	t.Logf("%d batches acknowledged, %d stored (in flight at the kill: %d)", len(acked), len(stored), len(stored)-len(acked))
	p2.cmd.Process.Signal(syscall.SIGTERM)
	if err := p2.cmd.Wait(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, p2.stderr.String())
	}
}

var tokenLine = regexp.MustCompile(`(?m)^\s+(tsg_[A-Za-z0-9_-]{43})$`)

// TestBootstrapTokenShownOnce: the first start prints a working admin
// token; later starts print none and the token keeps working.
func TestBootstrapTokenShownOnce(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir)
	m := tokenLine.FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("no admin token printed:\n%s", p.stderr.String())
	}
	tok := m[1]
	if status, body := p.post(t, tok, "/write?db=boot", "", []byte("m v=1\n")); status != 204 {
		t.Fatalf("write with bootstrap token: %d %s", status, body)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()

	p2 := start(t, dir)
	if tokenLine.MatchString(p2.stderr.String()) {
		t.Fatalf("second start printed a token again:\n%s", p2.stderr.String())
	}
	if status, _ := p2.post(t, tok, "/api/v1/query", "application/json", []byte(`{"sql":"SELECT 1"}`)); status != 200 {
		t.Fatalf("token after restart: %d", status)
	}
	b, err := os.ReadFile(filepath.Join(dir, "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(tok)) {
		t.Fatal("token file holds the secret in clear")
	}
}

// TestTokenCLI: a token made by `tsgate token create` works on a running
// server and stops working once revoked — with the token file, and with
// the PostgreSQL store replicas share (TSGATE_AUTH_STORE_URL), where the
// CLI talks to the database and the server hears of the change.
func TestTokenCLI(t *testing.T) {
	t.Run("file", func(t *testing.T) { testTokenCLI(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		u := testenv.PostgresDB(t, "tsgate_cli")
		testTokenCLI(t, []string{"TSGATE_AUTH_STORE_URL=" + u})
	})
}

func testTokenCLI(t *testing.T, env []string) {
	const admin = "cli-admin-token-0123456789"
	dir := t.TempDir()
	p := start(t, dir, append([]string{"TSGATE_AUTH_BOOTSTRAP_TOKEN=" + admin}, env...)...)
	cli := func(args ...string) *exec.Cmd {
		c := exec.Command(binary, args...)
		c.Env = append(os.Environ(), env...)
		return c
	}
	out, err := cli("token", "create", "--data-dir", dir, "-name", "reader", "-permissions", "read").Output()
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(out))
	// answers polls a query with tok until it is answered want, as a
	// change of the token store reaches the server: the file is looked
	// at on a miss; PostgreSQL's change is announced within a second.
	answers := func(want int, what string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			status, body := p.post(t, tok, "/api/v1/query", "application/json", []byte(`{"sql":"SELECT 1"}`))
			if status == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s after 5 s: %d %s", what, status, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	answers(200, "new read token refused")
	if status, body := p.post(t, tok, "/write", "", []byte("m v=1\n")); status != 403 || body != `{"error":"Permission denied: write required","success":false}` {
		t.Fatalf("read token writing: %d %s", status, body)
	}
	list, err := cli("token", "list", "--data-dir", dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	var id string
	sc := bufio.NewScanner(bytes.NewReader(list))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[1] == "reader" {
			id = f[0]
		}
	}
	if id == "" {
		t.Fatalf("token list lacks reader:\n%s", list)
	}
	// The ID before the flag: flags are read wherever they stand.
	if out, err := cli("token", "revoke", id, "--data-dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("revoke: %v %s", err, out)
	}
	answers(401, "revoked token still accepted")
}

// TestMigrateCLI copies an embedded store to another with `tsgate
// migrate`, which verifies the copy, and serves the copy.
func TestMigrateCLI(t *testing.T) {
	const token = "migrate-token-0123456789"
	srcDir, dstDir := t.TempDir(), t.TempDir()
	p := start(t, srcDir, "TSGATE_AUTH_BOOTSTRAP_TOKEN="+token)
	var lp strings.Builder
	for i := range 500 {
		fmt.Fprintf(&lp, "cpu,host=h%d usage=%d.25,n=%di %d\n", i%7, i, i, int64(1764115200+i*30)*1e9)
	}
	if status, body := p.post(t, token, "/write?db=mig", "", []byte(lp.String())); status != 204 {
		t.Fatalf("write: %d %s", status, body)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()

	cmd := exec.Command(binary, "migrate", "--from", "embedded:"+srcDir, "--to", "embedded:"+dstDir, "--db", "mig",
		"--chunk", "20m", "--checkpoint", filepath.Join(t.TempDir(), "cp.json"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "cpu: copied 500 rows") || !strings.Contains(string(out), "verified:") {
		t.Fatalf("migrate output:\n%s", out)
	}
	p2 := start(t, dstDir, "TSGATE_AUTH_BOOTSTRAP_TOKEN="+token)
	status, body := p2.post(t, token, "/api/v1/query", "application/json", []byte(`{"sql":"SELECT count(*) AS n, sum(n) AS s FROM mig.cpu"}`))
	if status != 200 || !strings.Contains(body, `"data":[[500,"124750"]]` /* sum(BIGINT) is a HUGEINT: Arc prints it as a string */) {
		t.Fatalf("copy: %d %s", status, body)
	}
}

// TestStrayArgumentsNamed: an argument a command does not take is named
// in an error, not silently ignored.
func TestStrayArgumentsNamed(t *testing.T) {
	out, err := exec.Command(binary, "serve", "stray", "--data-dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `unexpected argument "stray"`) {
		t.Fatalf("serve with a stray argument: %v\n%s", err, out)
	}
	out, err = exec.Command(binary, "token", "list", "extra", "--data-dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `unexpected argument "extra"`) {
		t.Fatalf("token list with a stray argument: %v\n%s", err, out)
	}
}

// TestFileModes: the data directory and every file tsgate keeps in it are
// its user's alone (0700/0600), also when an older version left them
// readable, and files made while it runs (the store's WAL) too.
func TestFileModes(t *testing.T) {
	const token = "modes-token-0123456789"
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "memtrace.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p := start(t, dir, "TSGATE_AUTH_BOOTSTRAP_TOKEN="+token)
	if status, body := p.post(t, token, "/write?db=m&precision=s", "", []byte("cpu v=1i 1764115200\n")); status != 204 {
		t.Fatalf("write: %d %s", status, body)
	}
	check := func() {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			want := os.FileMode(0o600)
			if d.IsDir() {
				want = 0o700
			}
			if info.Mode().Perm() != want {
				t.Errorf("%s: mode %v, want %v", path, info.Mode().Perm(), want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check() // while running: the WAL holds the write
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	check()
}
