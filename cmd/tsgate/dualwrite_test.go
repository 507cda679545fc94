package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tsgate/dialects/duckdb"
	"tsgate/gateway"
	"tsgate/internal/testenv"
	"tsgate/model"
)

func (p *proc) metric(t *testing.T, name string) float64 {
	t.Helper()
	return testenv.Metric(t, "http://"+p.addr, name)
}

// waitQueueEmpty polls the queue depth metric.
func (p *proc) waitQueueEmpty(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for p.metric(t, "tsgate_dualwrite_queue_depth") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("dual-write queue never drained; stderr:\n%s", p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, p.stderr.String())
	}
}

// seqCounts is, per seq value of dw.cpu in the store under dir, how many
// rows carry it.
func seqCounts(t *testing.T, dir string) map[int64]int64 {
	t.Helper()
	s, err := duckdb.Open(context.Background(), gateway.StorePath(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.Query(context.Background(), "dw", "SELECT seq, count(*) FROM cpu GROUP BY seq")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	v := make([]model.Value, 2)
	for rows.Next(v) {
		out[v[0].I] = v[1].I
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKill9DualWrite: tsgate dual-writes to a second embedded store
// under concurrent writes and is killed with SIGKILL mid-stream; after a
// restart the queue resumes and every write answered 204 reaches the
// secondary. A batch the secondary stored just before the kill, whose
// acknowledgement in the queue was not yet on disk, is replayed: at most
// one batch may arrive twice (documented: at-least-once across a crash).
func TestKill9DualWrite(t *testing.T) {
	const token = "dualwrite-token-0123456789"
	aDir, bDir := t.TempDir(), t.TempDir()
	env := []string{"TSGATE_AUTH_BOOTSTRAP_TOKEN=" + token, "TSGATE_MIGRATION_SECONDARY=embedded:" + bDir}
	p := start(t, aDir, env...)
	acked := map[int64]bool{}
	seq := func(w, i int) int64 { return int64(w*1_000_000 + i) }
	wait := p.writeLoad(token, "/write?db=dw", 4, func(w, i int) string {
		return fmt.Sprintf("cpu,host=h%d seq=%di,usage=%d.5 %d\n", w, seq(w, i), i, (1764115200+seq(w, i))*1e9)
	}, func(w, i int) { acked[seq(w, i)] = true })
	time.Sleep(1500 * time.Millisecond)
	depth := p.metric(t, "tsgate_dualwrite_queue_depth")
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	wait()
	if len(acked) < 20 {
		t.Fatalf("only %d writes acknowledged before the kill", len(acked))
	}
	t.Logf("%d writes acknowledged; queue depth shortly before the kill: %v", len(acked), depth)

	p2 := start(t, aDir, env...)
	p2.waitQueueEmpty(t)
	p2.stop(t)

	a, b := seqCounts(t, aDir), seqCounts(t, bDir)
	dups := 0
	for seq := range acked {
		if a[seq] != 1 {
			t.Errorf("primary holds seq %d %d times", seq, a[seq])
		}
		switch b[seq] {
		case 0:
			t.Errorf("acknowledged write seq %d never reached the secondary", seq)
		case 1:
		default:
			dups++
		}
	}
	for seq, n := range b {
		if a[seq] == 0 {
			t.Errorf("secondary holds seq %d (%d times) that the primary does not", seq, n)
		}
	}
	if dups > 1 {
		t.Errorf("%d batches arrived twice; at most the one in flight at the kill may", dups)
	}
}

// TestSIGHUPSwitchOver: a running tsgate dual-writing A → B gets a new
// configuration (B primary, A secondary) by SIGHUP: no restart, B
// answers with everything written before, and later writes reach both.
func TestSIGHUPSwitchOver(t *testing.T) {
	const token = "sighup-token-0123456789"
	aDir, bDir := t.TempDir(), t.TempDir()
	conf := filepath.Join(t.TempDir(), "tsgate.toml")
	writeConf := func(primary, secondary string) {
		t.Helper()
		s := fmt.Sprintf("[migration]\nprimary = %q\nsecondary = %q\n", primary, secondary)
		if err := os.WriteFile(conf, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeConf("", "embedded:"+bDir)
	p := startArgs(t, aDir, []string{"--config", conf}, "TSGATE_AUTH_BOOTSTRAP_TOKEN="+token)
	write := func(from, n int) {
		t.Helper()
		var lp strings.Builder
		for i := from; i < from+n; i++ {
			fmt.Fprintf(&lp, "cpu,host=h%d seq=%di %d\n", i%3, i, (1764115200+int64(i))*1e9)
		}
		if status, body := p.post(t, token, "/write?db=dw", "", []byte(lp.String())); status != 204 {
			t.Fatalf("write: %d %s", status, body)
		}
	}
	count := func() string {
		t.Helper()
		status, body := p.post(t, token, "/api/v1/query", "application/json", []byte(`{"sql":"SELECT count(*) AS n FROM dw.cpu"}`))
		if status != 200 {
			t.Fatalf("query: %d %s", status, body)
		}
		return body
	}
	write(0, 100)
	writeConf("embedded:"+bDir, "embedded:"+aDir)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.stderr.String(), "configuration reloaded") {
		if strings.Contains(p.stderr.String(), "reload failed") || time.Now().After(deadline) {
			t.Fatalf("no reload; stderr:\n%s", p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(count(), `"data":[[100]]`) {
		t.Fatalf("after the switch-over the new primary answers %s", count())
	}
	write(100, 50)
	p.waitQueueEmpty(t)
	pid := p.cmd.Process.Pid
	p.stop(t)
	if a, b := len(seqCounts(t, aDir)), len(seqCounts(t, bDir)); a != 150 || b != 150 {
		t.Fatalf("after the switch-over A holds %d and B %d distinct rows, want 150 each (same process %d throughout)", a, b, pid)
	}
}
