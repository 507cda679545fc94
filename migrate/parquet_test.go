package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"tsgate/conformance"
	"tsgate/dialects/parquet"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/target"
)

// arcDir writes Parquet files in Arc's layout, the way Arc's writer
// shapes them (time a UTC µs timestamp, the arc:tags footer key when
// tags is not empty), with DuckDB's COPY.
type arcDir struct {
	t    *testing.T
	root string
	db   *sql.DB
	seq  int
}

func newArcDir(t *testing.T) *arcDir {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &arcDir{t: t, root: t.TempDir(), db: db}
}

// file writes the rows sel selects to db/m/YYYY/MM/DD/HH (daily: no HH,
// as Arc's daily compaction leaves them).
func (a *arcDir) file(db, m string, at time.Time, daily bool, tags, sel string) {
	a.t.Helper()
	a.seq++
	dir := filepath.Join(a.root, db, m, at.Format("2006"), at.Format("01"), at.Format("02"))
	if !daily {
		dir = filepath.Join(dir, at.Format("15"))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		a.t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%s_%s_%09d.parquet", m, at.Format("20060102_150405"), a.seq))
	opts := "FORMAT parquet"
	if tags != "" {
		opts += ", KV_METADATA {'arc:tags': '" + tags + "'}"
	}
	if _, err := a.db.Exec("COPY (" + sel + ") TO '" + path + "' (" + opts + ")"); err != nil {
		a.t.Fatalf("write %s: %v", path, err)
	}
}

// at is the SQL timestamp base + i seconds + i*1237 µs (sub-second parts).
func atExpr(base time.Time, step string) string {
	return fmt.Sprintf("TIMESTAMPTZ '%s' + to_microseconds(%s)", base.Format("2006-01-02 15:04:05+00"), step)
}

// arcDataset is three measurements: cpu, tagged in the footers, spread
// over hourly files and an older daily compacted one, a later file adding
// a column; memtrace's events and a logs measurement written without tag
// metadata (columnar msgpack). It returns the row count per measurement.
func arcDataset(a *arcDir, db string, base time.Time) map[string]int64 {
	for h := range 3 {
		hour := base.Add(time.Duration(h) * time.Hour)
		extra := ""
		if h == 2 {
			extra = ", i * 2 AS extra"
		}
		a.file(db, "cpu", hour, false, "host,region", "SELECT "+atExpr(hour, "i * 1001237")+" AS time, 'h' || (i % 3) AS host, CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END AS region, i * 0.5::DOUBLE AS usage_idle, i AS n, 'ok' AS status"+extra+" FROM range(0, 400) t(i)")
	}
	day := base.Add(-24 * time.Hour)
	a.file(db, "cpu", day, true, "host,region", "SELECT "+atExpr(day, "i * 60000000")+" AS time, 'h9' AS host, 'ap' AS region, 1.5::DOUBLE AS usage_idle, i AS n FROM range(0, 100) t(i)")
	// A write in flight (Arc's temporary file) is not data.
	if err := os.WriteFile(filepath.Join(a.root, db, "cpu", ".arc-123.tmp"), []byte("partial"), 0o644); err != nil {
		a.t.Fatal(err)
	}
	a.file(db, "events", base, false, "", "SELECT "+atExpr(base, "i * 7000001")+" AS time, 'org' || (i % 2) AS org_id, 'agent' || (i % 4) AS agent_id, 's' || (i % 10) AS session_id, 'episodic' AS memory_type, 'memory_added' AS event_type, 'remember ' || i AS content, i / 10.0 AS importance FROM range(0, 300) t(i)")
	a.file(db, "logs", base, false, "", "SELECT "+atExpr(base, "i * 3000000")+" AS time, CASE WHEN i % 5 = 0 THEN 'error' ELSE 'info' END AS level, 'line ' || i AS message, i AS code FROM range(0, 200) t(i)")
	return map[string]int64{"cpu": 1300, "events": 300, "logs": 200}
}

func tagsOf(cols []target.ColumnInfo) []string {
	var out []string
	for _, c := range cols {
		if c.Tag {
			out = append(out, c.Name)
		}
	}
	return out
}

// TestParquetSource copies a directory of Arc Parquet files to the
// embedded store: every row, tags as tags, and a clean verification.
func TestParquetSource(t *testing.T) {
	ctx := context.Background()
	a := newArcDir(t)
	base := time.Date(2025, 11, 26, 0, 0, 0, 0, time.UTC)
	want := arcDataset(a, "arcdb", base)

	be, err := parquet.Open(ctx, "parquet:"+a.root+"?fields=message")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	src := &Side{Backend: be}

	if dbs, err := be.Databases(ctx); err != nil || !slices.Equal(dbs, []string{"arcdb"}) {
		t.Fatalf("databases %v %v", dbs, err)
	}
	ms, err := be.Measurements(ctx, "arcdb")
	if err != nil || !slices.Equal(ms, []string{"cpu", "events", "logs"}) {
		t.Fatalf("measurements %v %v", ms, err)
	}
	wantTags := map[string][]string{
		"cpu":    {"host", "region"},                                                // arc:tags
		"events": {"agent_id", "event_type", "memory_type", "org_id", "session_id"}, // memtrace's tags; content stays a field
		"logs":   {"level"},                                                         // string columns, minus ?fields=message
	}
	for m, tags := range wantTags {
		cols, ok := be.Schema("arcdb").Columns("", m)
		if !ok || !slices.Equal(tagsOf(cols), tags) {
			t.Errorf("%s: tags %v (%v), want %v", m, tagsOf(cols), ok, tags)
		}
	}
	if _, err := be.Write(ctx, "arcdb", &model.Batch{}); errs.CodeOf(err) != errs.Unsupported {
		t.Errorf("write to the Parquet source: %v, want a refusal", err)
	}
	// The engine reads the source directory and nothing else.
	if _, err := be.Query(ctx, "arcdb", "SELECT * FROM read_csv('/etc/passwd')"); err == nil || !strings.Contains(err.Error(), "Permission Error") {
		t.Errorf("the Parquet source's engine reading a file outside its directory: %v, want a permission error", err)
	}

	dst := embeddedSide(t, "dst")
	opt := Options{Database: "arcdb", Checkpoint: filepath.Join(t.TempDir(), "cp.json")}
	res, err := Backfill(ctx, src, dst, opt)
	if err != nil {
		t.Fatal(err)
	}
	for m, n := range want {
		if res.Rows[m] != n {
			t.Errorf("%s: copied %d rows, want %d", m, res.Rows[m], n)
		}
	}
	diffs, err := Verify(ctx, src, dst, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 0 {
		t.Fatalf("verification: %+v", diffs)
	}
	for m, tags := range wantTags {
		cols, _ := dst.Backend.Schema("arcdb").Columns("", m)
		if !slices.Equal(tagsOf(cols), tags) {
			t.Errorf("%s on the target: tags %v, want %v", m, tagsOf(cols), tags)
		}
		// Every row identical, µs and the later file's NULLs included.
		names := []string{"time"}
		for _, c := range cols {
			names = append(names, quoteIdent(c.Name))
		}
		q := "SELECT " + strings.Join(names, ", ") + " FROM " + m + " ORDER BY ALL"
		w, err := runQuery(ctx, src, "arcdb", q)
		if err != nil {
			t.Fatal(err)
		}
		g, err := runQuery(ctx, dst, "arcdb", q)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(w.Rows)) != want[m] {
			t.Errorf("%s: source reads %d rows, want %d", m, len(w.Rows), want[m])
		}
		if d := conformance.DefaultRules().Compare(w, g, true); d != "" {
			t.Errorf("%s differs after backfill: %s", m, d)
		}
	}
	r, err := runQuery(ctx, dst, "arcdb", "SELECT count(extra) AS n, min(time) AS lo FROM cpu")
	if err != nil {
		t.Fatal(err)
	}
	if r.Rows[0][0].I != 400 || r.Rows[0][1].I != base.Add(-24*time.Hour).UnixMicro() {
		t.Errorf("cpu: %d rows with the later column (want 400), first at %d (want the daily file's %d)", r.Rows[0][0].I, r.Rows[0][1].I, base.Add(-24*time.Hour).UnixMicro())
	}
}

// TestParquetSourceDecimal: Arc's DECIMAL columns have no counterpart in
// tsgate's write model; the backfill refuses the measurement by name.
func TestParquetSourceDecimal(t *testing.T) {
	ctx := context.Background()
	a := newArcDir(t)
	base := time.Date(2025, 11, 26, 0, 0, 0, 0, time.UTC)
	a.file("arcdb", "prices", base, false, "sym", "SELECT "+atExpr(base, "i * 1000000")+" AS time, 'X' AS sym, (i * 0.25)::DECIMAL(18, 2) AS price FROM range(0, 10) t(i)")
	be, err := parquet.Open(ctx, "parquet:"+a.root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	_, err = Backfill(ctx, &Side{Backend: be}, embeddedSide(t, "dst"), Options{Database: "arcdb"})
	if errs.CodeOf(err) != errs.Unsupported || !strings.Contains(err.Error(), "prices.price") {
		t.Fatalf("backfill of a DECIMAL column: %v, want a refusal naming prices.price", err)
	}
}

func TestParquetSourceURL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, bad := range []string{"parquet:", "parquet:" + dir + "?tags=x", "parquet:" + filepath.Join(dir, "missing"), "influxql://x/y"} {
		if b, err := parquet.Open(ctx, bad); err == nil {
			b.Close()
			t.Errorf("%q opened", bad)
		}
	}
	b, err := parquet.Open(ctx, "parquet://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if dbs, err := b.Databases(ctx); err != nil || len(dbs) != 0 {
		t.Errorf("empty directory: databases %v %v", dbs, err)
	}
	if ms, err := b.Measurements(ctx, "nothing"); err != nil || len(ms) != 0 {
		t.Errorf("missing database: measurements %v %v", ms, err)
	}
}
