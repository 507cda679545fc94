package main

import (
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"tsgate/internal/testenv"

	"github.com/jackc/pgx/v5"
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
	return send(t, req)
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
	mt := testenv.FreeAddr(t)
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
	mt := testenv.FreeAddr(t)
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
	bad := exec.Command(binary, "serve", "--data-dir", t.TempDir(), "--arc-listen", testenv.FreeAddr(t))
	bad.Env = append(bad.Environ(), "TSGATE_MEMTRACE_LISTEN=127.0.0.1:0", "TSGATE_PGWIRE_LISTEN=127.0.0.1:0", "TSGATE_MEMTRACE_BOOTSTRAP_KEY=secret")
	if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), "must look like an mtk_ key") {
		t.Fatalf("malformed bootstrap key: %v\n%s", err, out)
	}
}

func tsgateEnv(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// TestMemtraceOrgCLI: memtrace's organization commands — org create with
// a generated id, per-organization backends (tsgate's add-backend and
// memtrace's add-arc names) sealed under the master key, org delete with
// memtrace's foreign-key rule — against a running server.
func TestMemtraceOrgCLI(t *testing.T) {
	mk, _, err := tsgate(t, "memtrace", "keygen", "master")
	if b, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(mk)); err != nil || derr != nil || len(b) != 32 {
		t.Fatalf("keygen master: %q %v", mk, err)
	}
	dir := t.TempDir()
	mt := testenv.FreeAddr(t)
	const arcToken = "tsg_cli_test_admin_token_0123456789"
	env := []string{"TSGATE_MEMTRACE_MASTER_KEY=" + strings.TrimSpace(mk)}
	p := start(t, dir, append(env, "TSGATE_MEMTRACE_LISTEN="+mt, "TSGATE_MEMTRACE_BOOTSTRAP_KEY="+memtraceKey, "TSGATE_AUTH_BOOTSTRAP_TOKEN="+arcToken)...)
	run := func(env []string, args ...string) (string, string, error) {
		return tsgateEnv(t, env, append(append([]string{"memtrace"}, args...), "--data-dir", dir)...)
	}

	out, e, err := run(nil, "org", "create", "Team C")
	m := regexp.MustCompile(`(?m)^Organization created\n  id:   (org_[0-9a-f]{24})\n  name: Team C\n$`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("org create: %v %q %s", err, out, e)
	}
	org := m[1]
	if _, e, err := run(nil, "org", "create", ""); err == nil || !strings.Contains(e, "name must be non-empty") {
		t.Errorf("org create with no name: %v %s", err, e)
	}

	// A backend of its own: PostgreSQL. Sealing needs the master key.
	pg := testenv.PostgresDB(t, "tsgate_cli")
	if _, e, err := run(nil, "org", "add-backend", org, "-url", pg); err == nil || !strings.Contains(e, "MEMTRACE_MASTER_KEY is not set") {
		t.Fatalf("add-backend without the master key: %v %s", err, e)
	}
	if _, e, err := run(env, "org", "add-backend", "org_nope", "-url", pg); err == nil || !strings.Contains(e, "org 'org_nope' not found; create it first") {
		t.Errorf("add-backend to a missing org: %v %s", err, e)
	}
	if out, e, err := run(env, "org", "add-backend", org, "-url", pg); err != nil || !strings.Contains(out, "Arc instance bound to "+org+"\n") || !strings.Contains(out, "database: memory\n") {
		t.Fatalf("add-backend: %v %s %s", err, out, e)
	}
	if _, e, err := run(env, "org", "add-arc", org, "-url", "http://"+p.addr, "-database", "x"); err == nil || !strings.Contains(e, "org '"+org+"' already has an arc instance configured") {
		t.Errorf("second binding: %v %s", err, e)
	}
	if out, e, err := run(env, "org", "show-backend", org); err != nil || !strings.Contains(out, "database:    memory") || !strings.Contains(out, "url:         postgres://") {
		t.Errorf("show-backend: %v %s %s", err, out, e)
	}
	key, e, err := run(nil, "key", "create", "-org", org, "-name", "c-writer")
	if err != nil {
		t.Fatalf("key create: %v %s", err, e)
	}
	key = strings.TrimSpace(key)
	if st, b := memtraceCall(t, mt, key, "POST", "/api/v1/memories", `{"agent_id":"a","content":"kept in PostgreSQL"}`); st != 201 {
		t.Fatalf("write to the org's backend: %d %s", st, b)
	}
	pgc, err := pgx.Connect(context.Background(), pg)
	if err != nil {
		t.Fatal(err)
	}
	defer pgc.Close(context.Background())
	var content string
	if err := pgc.QueryRow(context.Background(), `SELECT content FROM memory.events WHERE org_id = $1`, org).Scan(&content); err != nil || content != "kept in PostgreSQL" {
		t.Errorf("memory in the org's PostgreSQL: %q %v", content, err)
	}

	// memtrace's add-arc: Arc's URL, database and API key become an
	// arc:// backend (here this tsgate's own Arc API stands in for Arc).
	out, _, err = run(nil, "org", "create", "Team D")
	orgD := regexp.MustCompile(`org_[0-9a-f]{24}`).FindString(out)
	if err != nil || orgD == "" {
		t.Fatalf("org create: %v %s", err, out)
	}
	if out, e, err := run(env, "org", "add-arc", orgD, "--url", "http://"+p.addr, "--database", "team_d", "--api-key", arcToken); err != nil ||
		!strings.Contains(out, "url:      arc://"+p.addr+"/team_d?token=tsg_***************************6789\n") {
		t.Fatalf("add-arc: %v %s %s", err, out, e)
	}
	if out, _, err := run(env, "org", "show-arc", orgD); err != nil || !strings.Contains(out, "measurement: events") {
		t.Errorf("show-arc: %v %s", err, out)
	}
	dkey, _, _ := run(nil, "key", "create", "-org", orgD, "-name", "d-writer")
	if st, b := memtraceCall(t, mt, strings.TrimSpace(dkey), "POST", "/api/v1/memories", `{"agent_id":"a","content":"through Arc"}`); st != 201 {
		t.Fatalf("write through the org's Arc: %d %s", st, b)
	}
	if st, b := memtraceCall(t, mt, strings.TrimSpace(dkey), "GET", "/api/v1/memories", ""); st != 200 || !strings.Contains(b, `"content":"through Arc"`) {
		t.Errorf("read through the org's Arc: %d %s", st, b)
	}
	if _, e, err := run(env, "org", "remove-arc", orgD); err != nil {
		t.Errorf("remove-arc: %v %s", err, e)
	}
	if _, e, err := run(env, "org", "show-arc", orgD); err == nil || !strings.Contains(e, "no arc instance configured for "+orgD) {
		t.Errorf("show-arc after remove: %v %s", err, e)
	}

	// org delete: memtrace's foreign keys refuse while keys (here: enabled
	// ones), agents or sessions remain; the binding goes with the org.
	if _, e, err := run(nil, "org", "delete", org); err == nil || !strings.Contains(e, "FOREIGN KEY constraint failed") || !strings.Contains(e, "1 enabled key") {
		t.Errorf("delete an org with a key: %v %s", err, e)
	}
	list, _, _ := run(nil, "key", "list", "-org", org)
	id := strings.Fields(strings.Split(list, "\n")[1])[0]
	if _, e, err := run(nil, "key", "revoke", id); err != nil {
		t.Fatalf("revoke: %v %s", err, e)
	}
	if out, e, err := run(nil, "org", "delete", org); err != nil || out != "Organization "+org+" deleted\n" {
		t.Fatalf("delete: %v %s %s", err, out, e)
	}
	if out, _, _ := run(nil, "org", "list"); strings.Contains(out, org) {
		t.Errorf("deleted org still listed:\n%s", out)
	}
	if _, e, err := run(nil, "org", "delete", "org_nope"); err == nil || !strings.Contains(e, "org 'org_nope' not found") {
		t.Errorf("delete a missing org: %v %s", err, e)
	}
}
