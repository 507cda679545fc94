package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestRateETA(t *testing.T) {
	for _, c := range []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{0, 100, time.Second, "0 rows/s, ETA --"},
		{10, 100, 0, "0 rows/s, ETA --"},
		{50, 100, 10 * time.Second, "5 rows/s, ETA 10s"},
		{1_500_000, 4_500_000, time.Second, "1,500,000 rows/s, ETA 2s"},
		{90, 100, 90 * time.Second, "1 rows/s, ETA 10s"},
		{100, 100, time.Second, "100 rows/s, ETA 0s"},
		{3, 7200 + 3, 3 * time.Second, "1 rows/s, ETA 2h0m0s"},
	} {
		if got := rateETA(c.done, c.total, c.elapsed, "rows"); got != c.want {
			t.Errorf("rateETA(%d, %d, %s) = %q, want %q", c.done, c.total, c.elapsed, got, c.want)
		}
	}
	if d := cmp.Diff([]string{"0", "999", "1,000", "-12,345", "1,234,567"},
		[]string{thousands(0), thousands(999), thousands(1000), thousands(-12345), thousands(1234567)}); d != "" {
		t.Error(d)
	}
}

// TestProgressNotOnDevNull: /dev/null is a character device, not a
// terminal; a run whose stderr goes there draws nothing.
func TestProgressNotOnDevNull(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("/dev/null taken for a terminal")
	}
}

// openPTY opens a pseudo-terminal: the command under test writes to the
// terminal end, the test reads what a person would see from the other.
func openPTY(t *testing.T) (master, term *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// runOnTerminal runs cmd with its stderr on a terminal and returns what
// appeared there, and its exit code.
func runOnTerminal(t *testing.T, cmd *exec.Cmd) (string, int) {
	t.Helper()
	master, term := openPTY(t)
	cmd.Stderr = term
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	term.Close() // the child holds it now; reads end when it exits
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		io.Copy(&out, master) // ends with EIO once the child is gone
		close(done)
	}()
	err := cmd.Wait()
	<-done
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

// TestMigrateCLIDatabaseAndProgress: `tsgate migrate --from
// arc://host:port/DB?token=…` copies DB (it used to copy "default", find
// nothing and report it verified); a source with nothing to copy says so
// and fails unless --allow-empty; a --db that contradicts the URL is an
// error; progress (rows/s, ETA) is drawn on a terminal and nowhere else.
func TestMigrateCLIDatabaseAndProgress(t *testing.T) {
	const token = "migrate-url-token-0123456789"
	p := start(t, t.TempDir(), "TSGATE_AUTH_BOOTSTRAP_TOKEN="+token)
	var lp strings.Builder
	const rows = 600
	for i := range rows {
		fmt.Fprintf(&lp, "cpu,host=h%d usage=%d %d\n", i%3, i, 1764115200+i*6) // an hour, 6 s apart
	}
	if status, body := p.post(t, token, "/write?db=metrics&precision=s", "", []byte(lp.String())); status != 204 {
		t.Fatalf("write: %d %s", status, body)
	}
	src := "arc://" + p.addr + "/metrics?token=" + token
	migrate := func(args ...string) *exec.Cmd {
		dst := t.TempDir()
		c := exec.Command(binary, append([]string{"migrate", "--to", "embedded:" + dst, "--checkpoint", filepath.Join(dst, "cp.json"),
			"--tags", "cpu=host"}, args...)...)
		return c
	}

	t.Run("database from the URL, progress on a terminal", func(t *testing.T) {
		cmd := migrate("--from", src, "--chunk", "1m")
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		screen, code := runOnTerminal(t, cmd)
		if code != 0 {
			t.Fatalf("exit %d\nstdout: %s\nterminal: %s", code, stdout.String(), screen)
		}
		if !strings.Contains(stdout.String(), fmt.Sprintf("cpu: copied %d rows", rows)) || !strings.Contains(stdout.String(), "verified:") {
			t.Errorf("stdout:\n%s", stdout.String())
		}
		for _, want := range []string{"\r\033[K", "rows/s, ETA", fmt.Sprintf("/%d rows", rows)} {
			if !strings.Contains(screen, want) {
				t.Errorf("terminal lacks %q:\n%q", want, screen)
			}
		}
	})
	t.Run("quiet in a log", func(t *testing.T) {
		cmd := migrate("--from", src, "--chunk", "1m")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v\n%s%s", err, stdout.String(), stderr.String())
		}
		if stderr.Len() != 0 {
			t.Errorf("progress written to a pipe:\n%q", stderr.String())
		}
	})
	t.Run("nothing to copy", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			code int
		}{
			{[]string{"--from", "arc://" + p.addr + "/nosuchdb?token=" + token}, 1},
			{[]string{"--from", "arc://" + p.addr + "/nosuchdb?token=" + token, "--allow-empty"}, 0},
			{[]string{"--from", src, "--since", "2030-01-01T00:00:00Z"}, 1},
		} {
			cmd := migrate(c.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			if code != c.code || !strings.Contains(stdout.String(), "nothing to copy") || strings.Contains(stdout.String(), "verified") {
				t.Errorf("%v: exit %d (want %d)\nstdout: %s\nstderr: %s", c.args, code, c.code, stdout.String(), stderr.String())
			}
		}
	})
	t.Run("--db contradicts the URL", func(t *testing.T) {
		out, err := migrate("--from", src, "--db", "other").CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), `source URL names database "metrics"`) {
			t.Errorf("%v: %s", err, out)
		}
	})
}

// TestConformanceProgress: `tsgate conformance` draws its progress bar
// with cases/s and an ETA on a terminal, and nothing into a pipe.
func TestConformanceProgress(t *testing.T) {
	dir := t.TempDir()
	cases := "-- name: count-all\nSELECT count(*) AS n FROM cpu\n\n-- name: max-usage\nSELECT max(usage_user) AS m FROM cpu\n\n" +
		"-- name: by-host\nSELECT hostname, count(*) AS n FROM cpu GROUP BY hostname ORDER BY hostname\n"
	if err := os.WriteFile(filepath.Join(dir, "small.test"), []byte(cases), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"conformance", "--cases", dir, "--translated-duckdb=false", "--baseline", filepath.Join(dir, "baseline.json")}
	if err := os.WriteFile(filepath.Join(dir, "baseline.json"), []byte(`{"duckdb": {"min_passed": 3, "max_failed": 0}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout = io.Discard
	screen, code := runOnTerminal(t, cmd)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, screen)
	}
	for _, want := range []string{"3/3 cases", "cases/s, ETA"} {
		if !strings.Contains(screen, want) {
			t.Errorf("terminal lacks %q:\n%q", want, screen)
		}
	}
	var stderr bytes.Buffer
	cmd = exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "cases/s") {
		t.Errorf("progress written to a pipe:\n%q", stderr.String())
	}
}
