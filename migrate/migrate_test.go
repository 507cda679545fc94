package migrate

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"tsgate/conformance"
	"tsgate/dialects/duckdb"
	"tsgate/dialects/duckdb/duckdbtest"
	"tsgate/model"
)

func embeddedSide(t testing.TB, name string) *Side {
	t.Helper()
	s := duckdbtest.Open(t, filepath.Join(t.TempDir(), name+".duckdb"))
	return &Side{Backend: duckdb.NewBackend(s)}
}

func loaded(t *testing.T) (*Side, *conformance.Dataset) {
	t.Helper()
	src := embeddedSide(t, "src")
	ds := conformance.NewDataset(7, conformance.DefaultBase(time.Now()))
	for _, b := range ds.Batches {
		if _, err := src.Backend.Write(context.Background(), ds.Database, b); err != nil {
			t.Fatal(err)
		}
	}
	return src, ds
}

func TestBackfillAndVerify(t *testing.T) {
	ctx := context.Background()
	src, ds := loaded(t)
	dst := embeddedSide(t, "dst")
	opt := Options{Database: ds.Database, Chunk: 10 * time.Minute, MaxRows: 500, Checkpoint: filepath.Join(t.TempDir(), "cp.json")}
	res, err := Backfill(ctx, src, dst, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows["cpu"] != int64(ds.Batches[0].Rows()) || res.Rows["events"] != int64(ds.Batches[1].Rows()) {
		t.Fatalf("copied %v, want cpu=%d events=%d", res.Rows, ds.Batches[0].Rows(), ds.Batches[1].Rows())
	}
	diffs, err := Verify(ctx, src, dst, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 0 {
		t.Fatalf("verification differences: %+v", diffs)
	}
	// Every row identical, tags and NULLs included.
	for _, m := range []string{"cpu", "events"} {
		want, err := runQuery(ctx, src, ds.Database, "SELECT * FROM "+m+" ORDER BY ALL")
		if err != nil {
			t.Fatal(err)
		}
		got, err := runQuery(ctx, dst, ds.Database, "SELECT * FROM "+m+" ORDER BY ALL")
		if err != nil {
			t.Fatal(err)
		}
		if d := conformance.DefaultRules().Compare(want, got, true); d != "" {
			t.Errorf("%s differs after backfill: %s", m, d)
		}
	}
	cols, _ := dst.Backend.Schema(ds.Database).Columns(ds.Database, "cpu")
	for _, c := range cols {
		if c.Name == "hostname" && !c.Tag {
			t.Error("hostname arrived as a field, not a tag")
		}
	}
}

// TestBackfillResume interrupts the copy after a few chunks, then resumes;
// and runs a third time with the checkpoint deleted, as after a crash
// between a committed chunk and its checkpoint: no row is copied twice.
func TestBackfillResume(t *testing.T) {
	src, ds := loaded(t)
	dst := embeddedSide(t, "dst")
	cp := filepath.Join(t.TempDir(), "cp.json")
	stop := errors.New("interrupted")
	ctx, cancel := context.WithCancelCause(context.Background())
	chunks := 0
	opt := Options{Database: ds.Database, Chunk: 10 * time.Minute, Checkpoint: cp, Progress: func(Progress) {
		chunks++
		if chunks == 5 {
			cancel(stop)
		}
	}}
	if _, err := Backfill(ctx, src, dst, opt); err == nil {
		t.Fatal("interrupted backfill reported success")
	}
	opt.Progress = nil
	res, err := Backfill(context.Background(), src, dst, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows["cpu"] == 0 {
		t.Error("resume copied nothing of cpu")
	}
	opt.Checkpoint = filepath.Join(t.TempDir(), "fresh.json")
	res, err = Backfill(context.Background(), src, dst, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows["cpu"] != 0 || res.Rows["events"] != 0 {
		t.Errorf("a rerun without checkpoint copied %v again", res.Rows)
	}
	if res.Skipped["cpu"] != int64(ds.Batches[0].Rows()) {
		t.Errorf("rerun skipped %d cpu rows, want all %d", res.Skipped["cpu"], ds.Batches[0].Rows())
	}
	diffs, err := Verify(context.Background(), src, dst, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 0 {
		t.Fatalf("after interruption and resume: %+v", diffs)
	}
}

// TestBackfillDeclaredTags: Options.Tags makes string columns the source
// does not mark (a remote Arc's API cannot) tags on the target.
func TestBackfillDeclaredTags(t *testing.T) {
	ctx := context.Background()
	src, dst := embeddedSide(t, "src"), embeddedSide(t, "dst")
	var b model.Batch
	tb := b.Table("mem")
	for i := range 10 {
		if err := tb.AppendRow(int64(i)*1_000_000, []model.Cell{{Name: "host", Value: model.String("h1")}, {Name: "note", Value: model.String("x")}, {Name: "used", Value: model.Float(1)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.Backend.Write(ctx, "db", &b); err != nil {
		t.Fatal(err)
	}
	if _, err := Backfill(ctx, src, dst, Options{Database: "db", Tags: map[string][]string{"mem": {"host", "used"}}}); err != nil {
		t.Fatal(err)
	}
	cols, _ := dst.Backend.Schema("db").Columns("db", "mem")
	got := map[string]bool{}
	for _, c := range cols {
		got[c.Name] = c.Tag
	}
	// used is a float: a tag must be a string, so it stays a field.
	if !got["host"] || got["note"] || got["used"] {
		t.Errorf("tags on the target: %v, want host only", got)
	}
}

// TestBackfillSizeKnown: a run knows its size before the first write —
// the source's rows in the range, and what is left after a checkpoint —
// so progress can say how much remains, and an empty source (a wrong
// database) is told apart from success.
func TestBackfillSizeKnown(t *testing.T) {
	ctx := context.Background()
	src, ds := loaded(t)
	wantSource := map[string]int64{}
	var all int64
	for _, b := range ds.Batches {
		wantSource[b.Tables[0].Measurement] += int64(b.Rows())
		all += int64(b.Rows())
	}
	var last Progress
	calls := 0
	opt := Options{Database: ds.Database, Chunk: 10 * time.Minute, Checkpoint: filepath.Join(t.TempDir(), "cp.json"),
		Progress: func(p Progress) {
			calls++
			if p.Expected != all || p.Total+p.Skipped > p.Expected {
				t.Errorf("progress %+v: expected %d rows in all", p, all)
			}
			last = p
		}}
	res, err := Backfill(ctx, src, embeddedSide(t, "dst"), opt)
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || last.Total != last.Expected {
		t.Errorf("last progress %+v after %d calls: not all expected rows copied", last, calls)
	}
	if !maps.Equal(res.Source, wantSource) {
		t.Errorf("source rows %v, want %v", res.Source, wantSource)
	}

	// A time range: the source's rows inside it only.
	base := conformance.DefaultBase(time.Now())
	opt = Options{Database: ds.Database, Since: base, Until: base.Add(30 * time.Minute)}
	want, err := countRange(ctx, src, ds.Database, "cpu", opt.Since, opt.Until)
	if err != nil {
		t.Fatal(err)
	}
	res, err = Backfill(ctx, src, embeddedSide(t, "ranged"), opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Source["cpu"] != want || want == 0 || want == wantSource["cpu"] {
		t.Errorf("cpu rows in range %d, want %d of %d", res.Source["cpu"], want, wantSource["cpu"])
	}

	// Another database: nothing at all.
	res, err = Backfill(ctx, src, embeddedSide(t, "none"), Options{Database: "nosuchdb"})
	if err != nil {
		t.Fatal(err)
	}
	for m, n := range res.Source {
		if n != 0 {
			t.Errorf("empty database: %s has %d rows", m, n)
		}
	}
}
