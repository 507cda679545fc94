package main

import (
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

const memtraceKey = "mtk_Y2xpLXRlc3QtYWRtaW4ta2V5LWZvci10c2dhdGUtbXQ="

var memtraceKeyLine = regexp.MustCompile(`(?m)^\s+(mtk_[A-Za-z0-9_=-]{44})$`)

func memtraceCall(t *testing.T, addr, key, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	req.Header.Set("x-api-key", key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func tsgate(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// TestMemtraceCLI: orgs and keys made with the CLI work on a running
// server; a revoked key does not; the org comes only from the key.
func TestMemtraceCLI(t *testing.T) {
	dir := t.TempDir()
	mt := freePort(t)
	start(t, dir, "TSGATE_MEMTRACE_LISTEN="+mt, "TSGATE_MEMTRACE_BOOTSTRAP_KEY="+memtraceKey)
	if _, e, err := tsgate(t, "memtrace", "org", "add", "org_b", "-name", "Team B", "--data-dir", dir); err != nil {
		t.Fatalf("org add: %v %s", err, e)
	}
	if _, e, err := tsgate(t, "memtrace", "org", "add", "org_b", "--data-dir", dir); err == nil {
		t.Fatalf("org add twice succeeded: %s", e)
	}
	out, _, err := tsgate(t, "memtrace", "org", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "org_default") || !strings.Contains(out, "Team B") {
		t.Fatalf("org list: %v\n%s", err, out)
	}
	out, e, err := tsgate(t, "memtrace", "key", "create", "-org", "org_b", "-name", "b-writer", "--data-dir", dir)
	if err != nil {
		t.Fatalf("key create: %v %s", err, e)
	}
	key := strings.TrimSpace(out)
	if st, b := memtraceCall(t, mt, key, "POST", "/api/v1/memories", `{"agent_id":"a","content":"from b"}`); st != 201 || !strings.Contains(b, `"org_id":"org_b"`) {
		t.Fatalf("write with the new key: %d %s", st, b)
	}
	if st, b := memtraceCall(t, mt, memtraceKey, "GET", "/api/v1/memories", ""); st != 200 || b != `{"memories":[],"count":0,"has_more":false}` {
		t.Fatalf("org_default sees org_b's memory: %d %s", st, b)
	}
	// A key revoked before it was ever used is refused at once.
	out, _, err = tsgate(t, "memtrace", "key", "create", "-org", "org_b", "-name", "b-reader", "-permissions", "read", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	reader := strings.TrimSpace(out)
	list, _, err := tsgate(t, "memtrace", "key", "list", "-org", "org_b", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, l := range strings.Split(list, "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[1] == "b-reader" {
			id = f[0]
		}
	}
	if id == "" || strings.Contains(list, "admin") {
		t.Fatalf("key list -org org_b:\n%s", list)
	}
	if _, e, err := tsgate(t, "memtrace", "key", "revoke", id, "--data-dir", dir); err != nil {
		t.Fatalf("revoke: %v %s", err, e)
	}
	if st, b := memtraceCall(t, mt, reader, "GET", "/api/v1/memories", ""); st != 401 || b != `{"error":"invalid API key"}` {
		t.Fatalf("revoked key: %d %s", st, b)
	}
	if _, _, err := tsgate(t, "memtrace", "key", "create", "-name", "x", "-permissions", "sudo", "--data-dir", dir); err == nil {
		t.Fatal("unknown permission accepted")
	}
}

// TestMemtraceBootstrapShownOnce: a fresh server prints one admin key,
// which works; a restart prints none; a malformed bootstrap key stops the
// server from starting.
func TestMemtraceBootstrapShownOnce(t *testing.T) {
	dir := t.TempDir()
	mt := freePort(t)
	p := start(t, dir, "TSGATE_MEMTRACE_LISTEN="+mt)
	m := memtraceKeyLine.FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("no memtrace key printed:\n%s", p.stderr.String())
	}
	if st, b := memtraceCall(t, mt, m[1], "POST", "/api/v1/agents", `{"name":"boot"}`); st != 201 {
		t.Fatalf("bootstrap key: %d %s", st, b)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	p2 := start(t, dir, "TSGATE_MEMTRACE_LISTEN="+mt)
	if memtraceKeyLine.MatchString(p2.stderr.String()) {
		t.Fatalf("restart printed a key again:\n%s", p2.stderr.String())
	}
	if st, _ := memtraceCall(t, mt, m[1], "GET", "/api/v1/agents/boot", ""); st != 200 {
		t.Fatalf("key after restart: %d", st)
	}
	bad := exec.Command(binary, "serve", "--data-dir", t.TempDir(), "--arc-listen", freePort(t))
	bad.Env = append(bad.Environ(), "TSGATE_MEMTRACE_LISTEN=127.0.0.1:0", "TSGATE_PGWIRE_LISTEN=127.0.0.1:0", "TSGATE_MEMTRACE_BOOTSTRAP_KEY=secret")
	if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), "must look like an mtk_ key") {
		t.Fatalf("malformed bootstrap key: %v\n%s", err, out)
	}
}
