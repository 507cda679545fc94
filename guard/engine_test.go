package guard

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"strings"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/google/go-cmp/cmp"
)

// TestEngineZoneIsUTC checks that an engine answers in UTC on a host whose
// zone is not UTC. DuckDB reads the host zone (TZ) once per process, so
// the check runs in a child process started with TZ=Asia/Shanghai.
func TestEngineZoneIsUTC(t *testing.T) {
	if os.Getenv("TSGATE_TEST_ZONE_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEngineZoneIsUTC$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "TZ=Asia/Shanghai", "TSGATE_TEST_ZONE_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestEngineZoneIsUTC") {
			t.Fatalf("child (TZ=Asia/Shanghai): %v\n%s", err, out)
		}
		return
	}
	ctx := context.Background()
	const probe = `SELECT current_setting('TimeZone'),
		date_trunc('day', TIMESTAMPTZ '2025-11-26 00:00:00+00')::VARCHAR,
		extract(hour FROM TIMESTAMPTZ '2025-11-26 00:00:00+00'),
		strftime(TIMESTAMPTZ '2025-11-26 00:00:00+00', '%H'),
		(TIMESTAMPTZ '2025-11-26 00:00:00+00')::DATE::VARCHAR`
	type answer struct {
		Zone, Day string
		Hour      int64
		HH, Date  string
	}
	ask := func(db *sql.DB) answer {
		t.Helper()
		var a answer
		if err := db.QueryRowContext(ctx, probe).Scan(&a.Zone, &a.Day, &a.Hour, &a.HH, &a.Date); err != nil {
			t.Fatal(err)
		}
		return a
	}

	// Without the lockdown the host zone leaks in: the test is only
	// meaningful if it does.
	plain, err := duckdb.NewConnector("", nil)
	if err != nil {
		t.Fatal(err)
	}
	pdb := sql.OpenDB(plain)
	defer pdb.Close()
	if got := ask(pdb); got.Zone != "Asia/Shanghai" || got.Hour != 8 {
		t.Fatalf("a plain engine should follow TZ=Asia/Shanghai here, got %+v", got)
	}

	c, err := OpenEngine(ctx, "", "threads=1")
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	db.SetMaxIdleConns(0) // every query on a fresh connection: the zone is the instance's, not one session's
	want := answer{Zone: "Etc/UTC", Day: "2025-11-26 00:00:00+00", Hour: 0, HH: "00", Date: "2025-11-26"}
	for range 2 {
		if d := cmp.Diff(want, ask(db)); d != "" {
			t.Errorf("engine answers (-want +got):\n%s", d)
		}
	}
	if _, err := db.ExecContext(ctx, "SET TimeZone = 'Asia/Shanghai'"); err == nil {
		t.Error("the zone could be changed after the lockdown")
	}
}
