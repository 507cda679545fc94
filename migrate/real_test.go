package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tsgate/conformance"
	"tsgate/dialects"
	"tsgate/dialects/backendkit/kittest"
	"tsgate/dialects/clickhouse"
	"tsgate/dialects/influxql"
	"tsgate/dialects/postgres"
	"tsgate/errs"
	"tsgate/internal/testenv"
	"tsgate/model"
)

// realTarget is one of the real servers scripts/backends.sh starts, with a
// database of its own for one test (dropped afterwards) and a way to ask
// the server directly, outside tsgate.
type realTarget struct {
	name string
	side *Side
	// Database is the Arc database the test writes (an InfluxDB or
	// ClickHouse database, a PostgreSQL schema).
	db string
	// count asks the server itself how many rows db.m holds; field is a
	// field every row has (InfluxDB counts points through one).
	count func(t testing.TB, m, field string) int64
	// sql runs a query on the server itself and returns the first
	// column of the first row as text.
	scalar func(t testing.TB, q string) string
	// http is the server's HTTP base URL (InfluxDB, ClickHouse); pg is
	// the PostgreSQL backend (its pool).
	http string
	pg   *postgres.Backend
	// drop removes the database from the server.
	drop func(t testing.TB)
}

var realEnv = map[string]string{
	"influxdb":   "TSGATE_TEST_INFLUX_URL",
	"postgres":   "TSGATE_TEST_POSTGRES_URL",
	"clickhouse": "TSGATE_TEST_CLICKHOUSE_URL",
}

// openReal opens target name ("influxdb", "postgres", "clickhouse") on a
// fresh database, skipping (locally) when its TSGATE_TEST_* variable is
// unset, as the dialect tests do.
func openReal(t testing.TB, name string) *realTarget {
	t.Helper()
	return openRealDB(t, name, kittest.DBName("tsgate_mig"))
}

// openRealDB is openReal on database db, which is dropped first if it
// exists (a fresh backend: no catalog remembers it).
func openRealDB(t testing.TB, name, db string) *realTarget {
	t.Helper()
	ctx := context.Background()
	raw := kittest.URL(t, realEnv[name])
	rt := &realTarget{name: name, db: db}
	// use makes b, the backend tsgate reaches the server through, the
	// target's side, closed when the test ends.
	use := func(b dialects.Backend, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		rt.side = &Side{Backend: b}
		t.Cleanup(func() { b.Close() })
	}
	// at is db on the HTTP server (InfluxDB, ClickHouse) under a dialect's
	// scheme.
	at := func(scheme string) string {
		u, _ := url.Parse(raw)
		return scheme + "://" + u.Host + "/" + db
	}
	// countWith is a count that asks the server the query q makes.
	countWith := func(q func(m, field string) string) func(testing.TB, string, string) int64 {
		return func(t testing.TB, m, field string) int64 {
			n, _ := strconv.ParseInt(rt.scalar(t, q(m, field)), 10, 64)
			return n
		}
	}
	switch name {
	case "influxdb":
		use(influxql.Open(ctx, at("influxql")))
		rt.http = raw
		rt.scalar = func(t testing.TB, q string) string { return influxScalar(t, raw, db, q) }
		rt.count = countWith(func(m, field string) string { return fmt.Sprintf(`SELECT count(%q) FROM %q`, field, m) })
		rt.drop = func(t testing.TB) { influxScalar(t, raw, "", `DROP DATABASE "`+db+`"`) }
	case "postgres":
		b, err := postgres.Open(ctx, raw)
		use(b, err)
		rt.pg = b
		rt.scalar = func(t testing.TB, q string) string {
			t.Helper()
			var v any
			if err := b.Pool().QueryRow(ctx, q).Scan(&v); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if tm, ok := v.(time.Time); ok {
				return tm.UTC().Format(time.RFC3339Nano)
			}
			return fmt.Sprint(v)
		}
		rt.count = countWith(func(m, _ string) string { return fmt.Sprintf(`SELECT count(*) FROM %q.%q`, db, m) })
		rt.drop = func(t testing.TB) {
			b.Pool().Exec(ctx, `DROP SCHEMA IF EXISTS "`+db+`" CASCADE`)
			b.Pool().Exec(ctx, `DELETE FROM _tsgate.columns WHERE db = $1`, db)
		}
	case "clickhouse":
		use(clickhouse.Open(ctx, at("clickhouse")))
		rt.http = raw
		rt.scalar = func(t testing.TB, q string) string { return clickhouseScalar(t, raw, q) }
		rt.count = countWith(func(m, _ string) string { return fmt.Sprintf("SELECT count() FROM `%s`.`%s`", db, m) })
		rt.drop = func(t testing.TB) {
			clickhouseScalar(t, raw, "DROP DATABASE IF EXISTS `"+db+"`")
		}
	default:
		t.Fatalf("unknown target %s", name)
	}
	if err := rt.side.Backend.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	rt.drop(t)
	t.Cleanup(func() { rt.drop(t) })
	return rt
}

// influxScalar runs InfluxQL over HTTP and returns the first value of the
// first series' first row (its last column: the first is time), "" when
// there is none.
func influxScalar(t testing.TB, base, db, q string) string {
	t.Helper()
	rows := testenv.InfluxQL(t, base, db, q)
	if len(rows) == 0 {
		return ""
	}
	return influxNumber(t, q, rows[0][len(rows[0])-1])
}

// influxNumber is a number InfluxQL answered, as its text ("" for null).
func influxNumber(t testing.TB, q string, v any) string {
	t.Helper()
	switch v := v.(type) {
	case json.Number:
		return string(v)
	case nil:
		return ""
	}
	t.Fatalf("%s: %v is not a number", q, v)
	return ""
}

func clickhouseScalar(t testing.TB, base, q string) string {
	t.Helper()
	first, _, _ := strings.Cut(testenv.ClickHouse(t, base, q), "\n")
	first, _, _ = strings.Cut(first, "\t")
	return first
}

// subSecondBase is where the sub-second source's rows start.
var subSecondBase = time.Date(2025, 11, 26, 10, 0, 0, 0, time.UTC)

// openSubSecond is openReal(t, name) with a subSecondSource for its
// database.
func openSubSecond(t *testing.T, name string) (*realTarget, *Side) {
	t.Helper()
	rt := openReal(t, name)
	return rt, subSecondSource(t, rt.db)
}

// subSecondSource is an embedded store with measurement fine (every
// third row 250 ms past its second) and coarse (whole seconds), 90 rows
// each from subSecondBase.
func subSecondSource(t *testing.T, db string) *Side {
	src := embeddedSide(t, "src")
	var b model.Batch
	fine, coarse := b.Table("fine"), b.Table("coarse")
	for i := range 90 {
		off := time.Duration(0)
		if i%3 == 0 {
			off = 250 * time.Millisecond
		}
		if err := fine.AppendRow(coarseTime(i).Add(off).UnixMicro(), coarseRow(i)); err != nil {
			t.Fatal(err)
		}
		if err := coarse.AppendRow(coarseTime(i).UnixMicro(), coarseRow(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.Backend.Write(context.Background(), db, &b); err != nil {
		t.Fatal(err)
	}
	return src
}

// coarseTime and coarseRow are the source's i-th coarse row: every 20 s
// from subSecondBase, host h0 or h1, v = i.
func coarseTime(i int) time.Time { return subSecondBase.Add(time.Duration(i) * 20 * time.Second) }

func coarseRow(i int) []model.Cell {
	return []model.Cell{{Name: "host", Tag: true, Value: model.String("h" + strconv.Itoa(i%2))}, {Name: "v", Value: model.Float(float64(i))}}
}

// TestPrecisionLossClickHouse: ClickHouse 18.16 keeps whole seconds. The
// backfill counts the rows it would truncate, per measurement, and writes
// nothing until the loss is allowed; then it copies, and the verification
// (per-hour counts and sums) is clean.
func TestPrecisionLossClickHouse(t *testing.T) {
	ctx := context.Background()
	rt, src := openSubSecond(t, "clickhouse")
	var got *PrecisionReport
	opt := Options{Database: rt.db, Checkpoint: filepath.Join(t.TempDir(), "cp.json"), Precision: func(r *PrecisionReport) { got = r }}

	_, err := Backfill(ctx, src, rt.side, opt)
	var lossErr *PrecisionLossError
	if !errors.As(err, &lossErr) {
		t.Fatalf("backfill to a whole-second target: %v, want a precision-loss refusal", err)
	}
	want := []PrecisionCount{{"coarse", 90, 0}, {"fine", 90, 30}}
	if got == nil || got.Precision != time.Second || fmt.Sprint(got.Measurements) != fmt.Sprint(want) {
		t.Fatalf("report %+v, want %v at 1s", got, want)
	}
	if !strings.Contains(got.String(), "fine: 30 of 90 rows have a finer timestamp") {
		t.Errorf("report text:\n%s", got)
	}
	if n := rt.scalar(t, "SELECT count() FROM system.databases WHERE name = '"+rt.db+"'"); n != "0" {
		t.Fatalf("the refused backfill created the target database (%s)", n)
	}

	// A bound between two seconds would split what the target stores as
	// one instant.
	bad := opt
	bad.AllowPrecisionLoss, bad.Since = true, subSecondBase.Add(500*time.Millisecond)
	if _, err := Backfill(ctx, src, rt.side, bad); err == nil || !strings.Contains(err.Error(), "--since") {
		t.Errorf("sub-second --since on a whole-second target: %v", err)
	}

	opt.AllowPrecisionLoss = true
	res, err := Backfill(ctx, src, rt.side, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows["fine"] != 90 || res.Rows["coarse"] != 90 {
		t.Fatalf("copied %v", res.Rows)
	}
	diffs, err := Verify(ctx, src, rt.side, opt)
	if err != nil || len(diffs) != 0 {
		t.Fatalf("verify: %v %+v", err, diffs)
	}
	// In ClickHouse itself: the first row, 250 ms past 10:00:00, is
	// stored at 10:00:00.
	if s := rt.scalar(t, "SELECT toUnixTimestamp(min(time)) FROM `"+rt.db+"`.fine"); s != strconv.FormatInt(subSecondBase.Unix(), 10) {
		t.Errorf("first fine row stored at %s, want %d", s, subSecondBase.Unix())
	}
	// Resuming from scratch (no checkpoint) finds every chunk there,
	// truncated times included: no duplicates.
	opt.Checkpoint = ""
	res, err = Backfill(ctx, src, rt.side, opt)
	if err != nil || res.Rows["fine"] != 0 || res.Skipped["fine"] != 90 {
		t.Fatalf("rerun: %v %+v", err, res)
	}
	if n := rt.count(t, "fine", "v"); n != 90 {
		t.Errorf("ClickHouse holds %d fine rows, want 90", n)
	}
}

// TestPrecisionKeptTargets: InfluxDB (ns) and PostgreSQL (µs) keep every
// µs: no report, nothing refused, times exact.
func TestPrecisionKeptTargets(t *testing.T) {
	for _, name := range []string{"influxdb", "postgres"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			rt, src := openSubSecond(t, name)
			opt := Options{Database: rt.db}
			if rep, err := CheckPrecision(ctx, src, rt.side, opt); err != nil || rep != nil {
				t.Fatalf("precision report %v %v, want none", rep, err)
			}
			if _, err := Backfill(ctx, src, rt.side, opt); err != nil {
				t.Fatal(err)
			}
			want := subSecondBase.Add(250 * time.Millisecond)
			var got string
			if name == "influxdb" {
				got = influxTime(t, rt.http, rt.db, `SELECT "v" FROM "fine" ORDER BY time LIMIT 1`)
				if got != strconv.FormatInt(want.UnixMicro(), 10) {
					t.Errorf("first fine row at %s µs, want %d", got, want.UnixMicro())
				}
			} else {
				got = rt.scalar(t, `SELECT min(time) FROM "`+rt.db+`".fine`)
				if got != want.Format(time.RFC3339Nano) {
					t.Errorf("first fine row at %s, want %s", got, want.Format(time.RFC3339Nano))
				}
			}
		})
	}
}

// influxTime is the time (epoch µs) of the first row q returns.
func influxTime(t testing.TB, base, db, q string) string {
	t.Helper()
	rows := testenv.InfluxQL(t, base, db, q)
	if len(rows) == 0 {
		t.Fatalf("%s: no rows", q)
	}
	return influxNumber(t, q, rows[0][0])
}

// TestResumeRealBackends interrupts the backfill at a random chunk on
// each real server, resumes it, then runs it once more as after a crash
// that lost the checkpoint: the server holds every row exactly once (its
// own count) and the verification is clean.
func TestResumeRealBackends(t *testing.T) {
	for _, name := range []string{"influxdb", "postgres", "clickhouse"} {
		t.Run(name, func(t *testing.T) {
			rt := openReal(t, name)
			src := embeddedSide(t, "src")
			ds := conformance.NewDataset(11, conformance.DefaultBase(time.Now()))
			ds.Database = rt.db
			// cpu and events: this test is about resuming. (The nasty
			// measurements hold 1e300-scale floats whose per-hour sums
			// depend on summation order, and times ClickHouse 18.16
			// cannot store.)
			ds.Batches = ds.Batches[:2]
			for _, b := range ds.Batches {
				if _, err := src.Backend.Write(context.Background(), ds.Database, b); err != nil {
					t.Fatal(err)
				}
			}
			// 10-minute chunks: 12 per measurement, 24 in all. The
			// interruption comes at a random instant: between chunks, in
			// a count, in the middle of a write.
			delay := time.Duration(20+rand.IntN(500)) * time.Millisecond
			cp := filepath.Join(t.TempDir(), "cp.json")
			ctx, cancel := context.WithCancelCause(context.Background())
			time.AfterFunc(delay, func() { cancel(errors.New("interrupted")) })
			chunks := 0
			opt := Options{Database: ds.Database, Chunk: 10 * time.Minute, Checkpoint: cp, Progress: func(Progress) { chunks++ }}
			if _, err := Backfill(ctx, src, rt.side, opt); err == nil {
				t.Logf("the backfill finished within %s, before the interruption", delay)
			} else {
				t.Logf("interrupted after %s, %d chunks: %v", delay, chunks, err)
			}
			// Resume at once, as an impatient operator would: a write cut
			// off by the interruption may still be committing on the
			// server (ClickHouse finishes an INSERT whose body it
			// received), and the resumed run must wait for it itself.
			opt.Progress = nil
			res, err := Backfill(context.Background(), src, rt.side, opt)
			if err != nil {
				t.Fatal(err)
			}
			first := res.Rows["cpu"] + res.Rows["events"]
			opt.Checkpoint = ""
			res, err = Backfill(context.Background(), src, rt.side, opt)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows["cpu"] != 0 || res.Rows["events"] != 0 {
				t.Errorf("a rerun without checkpoint copied %v again", res.Rows)
			}
			total := int64(ds.Batches[0].Rows() + ds.Batches[1].Rows())
			if res.Skipped["cpu"]+res.Skipped["events"] != total || first > total {
				t.Errorf("resume copied %d, rerun found %d of %d rows", first, res.Skipped["cpu"]+res.Skipped["events"], total)
			}
			diffs, err := Verify(context.Background(), src, rt.side, opt)
			if err != nil {
				t.Fatal(err)
			}
			var unchecked []string
			for _, d := range diffs {
				if !d.Unchecked {
					t.Errorf("verify: %s: %s", d.Measurement, d.What)
				}
				unchecked = append(unchecked, d.What)
			}
			// InfluxQL cannot count per group a field some points lack
			// (usage_guest_nice); its sum is still compared.
			if want := name == "influxdb"; want != (len(unchecked) == 1 && strings.HasPrefix(unchecked[0], "count(usage_guest_nice) per hour not compared")) {
				t.Errorf("not compared: %q", unchecked)
			}
			if n := rt.count(t, "cpu", "usage_user"); n != int64(ds.Batches[0].Rows()) {
				t.Errorf("%s holds %d cpu rows, want %d", name, n, ds.Batches[0].Rows())
			}
			if n := rt.count(t, "events", "content"); n != int64(ds.Batches[1].Rows()) {
				t.Errorf("%s holds %d events rows, want %d", name, n, ds.Batches[1].Rows())
			}
		})
	}
}

// TestPartlyWrittenPiece: a piece the target holds part of (a write of
// several requests killed half way) is written again on InfluxDB, whose
// writes overwrite, and refused as a conflict on PostgreSQL, where it
// would duplicate rows.
func TestPartlyWrittenPiece(t *testing.T) {
	for _, name := range []string{"influxdb", "postgres"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			rt, src := openSubSecond(t, name)
			var part model.Batch
			tb := part.Table("coarse")
			for i := range 40 {
				if err := tb.AppendRow(coarseTime(i).UnixMicro(), coarseRow(i)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := rt.side.Backend.Write(ctx, rt.db, &part); err != nil {
				t.Fatal(err)
			}
			_, err := Backfill(ctx, src, rt.side, Options{Database: rt.db, Measurements: []string{"coarse"}})
			if name == "postgres" {
				if errs.CodeOf(err) != errs.Conflict {
					t.Fatalf("backfill over a partly filled range: %v, want a conflict", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := rt.count(t, "coarse", "v"); n != 90 {
				t.Errorf("InfluxDB holds %d rows, want 90", n)
			}
		})
	}
}
