package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tsgate/internal/syncbuf"
	"tsgate/internal/testenv"

	"github.com/jackc/pgx/v5"
)

// guideBlocks are the shell blocks of docs/migration.md marked
// <!-- guide-test: NAME -->, by name.
func guideBlocks(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "migration.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile("(?s)<!-- guide-test: (\\w+) -->\\s*```sh\\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		out[m[1]] = m[2]
	}
	for _, n := range []string{"setup", "influxdb", "postgres", "clickhouse"} {
		if out[n] == "" {
			t.Fatalf("docs/migration.md has no guide-test block %q", n)
		}
	}
	return out
}

// guideEnv is the environment the guide's setup block defines, pointed at
// the test's servers. The setup block must define exactly these names, so
// the commands the test runs are the ones the guide shows.
func guideEnv(t *testing.T, setup string, env map[string]string) []string {
	t.Helper()
	var defined []string
	for _, line := range strings.Split(strings.TrimSpace(setup), "\n") {
		name, _, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("setup line %q is not an assignment", line)
		}
		defined = append(defined, name)
	}
	var have []string
	for n := range env {
		have = append(have, n)
	}
	slices.Sort(defined)
	slices.Sort(have)
	if !slices.Equal(defined, have) {
		t.Fatalf("the guide's setup defines %v; the test provides %v", defined, have)
	}
	out := append(os.Environ(), "PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"))
	for n, v := range env {
		out = append(out, n+"="+v)
	}
	return out
}

// runBlock runs a guide block with bash in dir; kill > 0 SIGKILLs the
// whole process group after that long. It returns the exit code and the
// combined output.
func runBlock(t *testing.T, block, dir string, env []string, kill time.Duration) (int, string) {
	t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", block)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if kill > 0 {
		timer := time.AfterFunc(kill, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
		defer timer.Stop()
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, out.String()
}

// memtraceDataset is what the guide moves: memtrace's events (µs times,
// most of them off the second), and two Telegraf-like measurements.
type memtraceDataset struct {
	base                   time.Time
	events, cpu, mem       int
	finerEvents            int // events whose time is not a whole second
	probeTime              time.Time
	probeContent, probeOrg string // one event, for spot checks
}

func writeMemtraceDataset(t *testing.T, p *proc, token, db string) *memtraceDataset {
	t.Helper()
	d := &memtraceDataset{base: time.Date(2025, 11, 26, 0, 0, 0, 0, time.UTC)}
	var lines []string
	for i := range 12000 {
		at := d.base.Add(time.Duration(i)*3600*time.Millisecond + time.Duration(i%7)*137*time.Microsecond)
		if at.Truncate(time.Second) != at {
			d.finerEvents++
		}
		content := fmt.Sprintf("user %d prefers \\\"dark mode\\\", step %d", i%13, i)
		if i == 4321 {
			d.probeTime, d.probeContent, d.probeOrg = at, fmt.Sprintf(`user %d prefers "dark mode", step %d`, i%13, i), fmt.Sprintf("org_%d", i%3)
		}
		lines = append(lines, fmt.Sprintf(`events,org_id=org_%d,agent_id=agent_%d,session_id=sess_%02d,memory_type=%s,event_type=%s content="%s",importance=%g,tokens=%di %d`,
			i%3, i%5, i%17, []string{"episodic", "session", "decision", "entity"}[i%4], []string{"general", "tool_call", "error"}[i%3], content, float64(i%10)/10, 10+i%90, at.UnixMicro()))
	}
	d.events = 12000
	for s := range 1440 {
		for h := range 10 {
			at := d.base.Add(time.Duration(s) * 30 * time.Second)
			lines = append(lines, fmt.Sprintf("cpu,host=host_%d,region=%s usage_idle=%g,usage_user=%g %d", h, []string{"eu", "us"}[h%2], float64((s*7+h)%1000)/10, float64((s+h*3)%500)/10, at.UnixMicro()))
			d.cpu++
			if s%2 == 0 {
				lines = append(lines, fmt.Sprintf("mem,host=host_%d used=%di,used_percent=%g %d", h, 1000+s*h, float64(s%100), at.UnixMicro()))
				d.mem++
			}
		}
	}
	for i := 0; i < len(lines); i += 5000 {
		body := strings.Join(lines[i:min(i+5000, len(lines))], "\n")
		if status, resp := p.post(t, token, "/write?db="+db+"&precision=us", "", []byte(body)); status != 204 {
			t.Fatalf("write: %d %s", status, resp)
		}
	}
	return d
}

// TestMigrationGuide runs the step-by-step guide of docs/migration.md:
// memtrace's data written through a tsgate's Arc API, then the guide's
// own commands against the real InfluxDB, PostgreSQL and ClickHouse. Each
// copy is first killed (SIGKILL, the whole process group) at a random
// instant and run again, as the guide says to: exit 0 and a clean
// verification, and the rows checked in each server directly.
func TestMigrationGuide(t *testing.T) {
	influxHTTP := testenv.URL(t, "TSGATE_TEST_INFLUX_URL")
	pgURL := testenv.URL(t, "TSGATE_TEST_POSTGRES_URL")
	chHTTP := testenv.URL(t, "TSGATE_TEST_CLICKHOUSE_URL")
	blocks := guideBlocks(t)
	const token = "guide-token-0123456789"
	db := fmt.Sprintf("guide_%d", time.Now().UnixNano()%1_000_000_000_000)
	p := start(t, t.TempDir(), "TSGATE_AUTH_BOOTSTRAP_TOKEN="+token)
	d := writeMemtraceDataset(t, p, token, db)

	iu, _ := url.Parse(influxHTTP)
	cu, _ := url.Parse(chHTTP)
	env := guideEnv(t, blocks["setup"], map[string]string{
		"DB":      db,
		"ARC":     "arc://" + p.addr + "/" + db + "?token=" + token,
		"GAUSSDB": "influxql://" + iu.Host + "/" + db,
		"PG":      pgURL,
		"CH":      "clickhouse://" + cu.Host + "/" + db,
	})
	ctx := context.Background()
	pg, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		testenv.InfluxQL(t, influxHTTP, "", `DROP DATABASE "`+db+`"`)
		testenv.ClickHouse(t, chHTTP, "DROP DATABASE IF EXISTS `"+db+"`")
		pg.Exec(ctx, `DROP SCHEMA IF EXISTS "`+db+`" CASCADE`)
		pg.Exec(ctx, `DELETE FROM _tsgate.columns WHERE db = $1`, db)
		pg.Close(ctx)
	})
	copied := regexp.MustCompile(`(?m)^(\w+): copied (\d+) rows(?: \((\d+) already on the target\))?$`)

	for _, target := range []string{"influxdb", "postgres", "clickhouse"} {
		t.Run(target, func(t *testing.T) {
			dir := t.TempDir()
			block := blocks[target]
			if target == "clickhouse" {
				// Without --allow-precision-loss: the report, exit 1,
				// nothing written.
				code, out := runBlock(t, strings.Replace(block, "--allow-precision-loss ", "", 1), dir, env, 0)
				if code != 1 || !strings.Contains(out, fmt.Sprintf("events: %d of %d rows have a finer timestamp", d.finerEvents, d.events)) ||
					!strings.Contains(out, "cpu: 0 of ") || !strings.Contains(out, "nothing was written") {
					t.Fatalf("exit %d without --allow-precision-loss:\n%s", code, out)
				}
				if n := testenv.ClickHouse(t, chHTTP, "SELECT count() FROM system.databases WHERE name = '"+db+"'"); n != "0" {
					t.Fatal("the refused copy created the ClickHouse database")
				}
			}
			kill := time.Duration(100+rand.IntN(700)) * time.Millisecond
			code, out := runBlock(t, block, dir, env, kill)
			t.Logf("first run killed after %s (exit %d):\n%s", kill, code, lastLines(out, 4))
			// Rerun at once: a write the kill cut off may still commit
			// on the server, and the resumed run waits for it itself.
			code, out = runBlock(t, block, dir, env, 0)
			if code != 0 || !strings.Contains(out, "verified: row counts and per-hour counts and sums agree") {
				t.Fatalf("the guide's command, run again: exit %d\n%s", code, out)
			}
			// Both runs together copied each row once.
			got := map[string]int{}
			for _, m := range copied.FindAllStringSubmatch(out, -1) {
				n, _ := strconv.Atoi(m[2])
				s, _ := strconv.Atoi(m[3])
				got[m[1]] = n + s
			}
			if got["events"] > d.events || got["cpu"] > d.cpu || got["mem"] > d.mem {
				t.Errorf("rows reported %v, more than written", got)
			}
			switch target {
			case "influxdb":
				checkInflux(t, influxHTTP, db, d)
			case "postgres":
				checkPostgres(t, pg, db, d)
			case "clickhouse":
				checkClickHouse(t, chHTTP, db, d)
			}
		})
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func checkInflux(t *testing.T, base, db string, d *memtraceDataset) {
	for m, want := range map[string]struct {
		field string
		n     int
	}{"events": {"content", d.events}, "cpu": {"usage_idle", d.cpu}, "mem": {"used", d.mem}} {
		rows := testenv.InfluxQL(t, base, db, fmt.Sprintf(`SELECT count(%q) FROM %q`, want.field, m))
		if len(rows) != 1 || fmt.Sprint(rows[0][1]) != strconv.Itoa(want.n) {
			t.Errorf("InfluxDB %s: count %v, want %d", m, rows, want.n)
		}
	}
	for m, tags := range map[string]string{"events": "[[agent_id] [event_type] [memory_type] [org_id] [session_id]]", "cpu": "[[host] [region]]", "mem": "[[host]]"} {
		if got := fmt.Sprint(testenv.InfluxQL(t, base, db, `SHOW TAG KEYS FROM "`+m+`"`)); got != tags {
			t.Errorf("InfluxDB %s tag keys %s, want %s", m, got, tags)
		}
	}
	// One event, found by its exact µs time.
	rows := testenv.InfluxQL(t, base, db, fmt.Sprintf(`SELECT content, org_id FROM events WHERE time = %d`, d.probeTime.UnixNano()))
	if len(rows) != 1 || rows[0][1] != d.probeContent || rows[0][2] != d.probeOrg {
		t.Errorf("InfluxDB event at %s: %v, want %q %q", d.probeTime.Format(time.RFC3339Nano), rows, d.probeContent, d.probeOrg)
	}
}

func checkPostgres(t *testing.T, pg *pgx.Conn, db string, d *memtraceDataset) {
	ctx := context.Background()
	for m, want := range map[string]int{"events": d.events, "cpu": d.cpu, "mem": d.mem} {
		var n int
		if err := pg.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %q.%q`, db, m)).Scan(&n); err != nil || n != want {
			t.Errorf("PostgreSQL %s: %d rows (%v), want %d", m, n, err, want)
		}
	}
	var tags []string
	if err := pg.QueryRow(ctx, `SELECT array_agg(measurement || '.' || name ORDER BY measurement, name) FROM _tsgate.columns WHERE db = $1 AND is_tag`, db).Scan(&tags); err != nil {
		t.Fatal(err)
	}
	if want := "[cpu.host cpu.region events.agent_id events.event_type events.memory_type events.org_id events.session_id mem.host]"; fmt.Sprint(tags) != want {
		t.Errorf("PostgreSQL tags %v, want %s", tags, want)
	}
	var content, org string
	if err := pg.QueryRow(ctx, fmt.Sprintf(`SELECT content, org_id FROM %q.events WHERE time = $1`, db), d.probeTime).Scan(&content, &org); err != nil || content != d.probeContent || org != d.probeOrg {
		t.Errorf("PostgreSQL event at %s: %q %q (%v), want %q %q", d.probeTime.Format(time.RFC3339Nano), content, org, err, d.probeContent, d.probeOrg)
	}
}

func checkClickHouse(t *testing.T, base, db string, d *memtraceDataset) {
	for m, want := range map[string]int{"events": d.events, "cpu": d.cpu, "mem": d.mem} {
		if n := testenv.ClickHouse(t, base, fmt.Sprintf("SELECT count() FROM `%s`.`%s`", db, m)); n != strconv.Itoa(want) {
			t.Errorf("ClickHouse %s: %s rows, want %d", m, n, want)
		}
	}
	// The probe event, its time truncated to the second.
	got := testenv.ClickHouse(t, base, fmt.Sprintf("SELECT content, org_id FROM `%s`.events WHERE time = toDateTime(%d, 'UTC') AND content = '%s' FORMAT TSV",
		db, d.probeTime.Unix(), strings.ReplaceAll(d.probeContent, "'", "\\'")))
	if want := d.probeContent + "\t" + d.probeOrg; got != want {
		t.Errorf("ClickHouse event at %d: %q, want %q", d.probeTime.Unix(), got, want)
	}
}
