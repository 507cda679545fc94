package kittest

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"tsgate/dialects"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/target"
)

// Dropper is a backend that can drop a database.
type Dropper interface {
	dialects.Backend
	DropDatabase(ctx context.Context, db string) error
}

// Server opens a backend on the test server the environment variable env
// names, for a fresh database prefix_…, and checks it is Ready: open
// builds the backend from the server's URL and the database name. When
// the test ends the database is dropped (its error ignored: it may never
// have been created) and the backend closed.
func Server[B Dropper](tb testing.TB, env, prefix string, open func(server *url.URL, db string) (B, error)) (B, string) {
	tb.Helper()
	u, err := url.Parse(URL(tb, env))
	if err != nil {
		tb.Fatal(err)
	}
	db := DBName(prefix)
	b, err := open(u, db)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		b.DropDatabase(context.Background(), db)
		b.Close()
	})
	if err := b.Ready(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return b, db
}

// DownBackend is a backend that says why its schema discovery failed
// and prints its URL without credentials.
type DownBackend interface {
	dialects.Backend
	SchemaError(db string) error
	String() string
}

// Down checks a backend opened on testenv.FreeAddr with secret in its URL: query
// (in database "db"), a write, Ready and schema discovery all fail as
// Unavailable, quickly, and neither an error nor String shows secret.
func Down(t *testing.T, b DownBackend, secret, query string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := b.Query(ctx, "db", query)
	WantCode(t, err, errs.Unavailable)
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error leaks the secret: %v", err)
	}
	if strings.Contains(b.String(), secret) {
		t.Errorf("String leaks the secret: %s", b)
	}
	batch := &model.Batch{}
	batch.Table("m").AppendRow(time.Now().UnixMicro(), []model.Cell{{Name: "v", Value: model.Float(1)}})
	_, err = b.Write(ctx, "db", batch)
	WantCode(t, err, errs.Unavailable)
	WantCode(t, b.Ready(ctx), errs.Unavailable)
	// Schema discovery fails too, and says why.
	if _, ok := b.Schema("db").Columns("", "m"); ok {
		t.Error("a measurement found on a server that is down")
	}
	WantCode(t, b.SchemaError("db"), errs.Unavailable)
}

// MustWrite writes batch to b's database db; an error fails the test.
func MustWrite(t testing.TB, b dialects.Backend, db string, batch *model.Batch) {
	t.Helper()
	if _, err := b.Write(context.Background(), db, batch); err != nil {
		t.Fatal(err)
	}
}

// WantWrite writes batch to b's database db and checks that rows rows
// were stored and rejected rows rejected, each with its conflict.
func WantWrite(t testing.TB, b dialects.Backend, db string, batch *model.Batch, rows, rejected int) model.WriteResult {
	t.Helper()
	res, err := b.Write(context.Background(), db, batch)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != rows || res.Rejected != rejected || len(res.Conflicts) != rejected {
		t.Fatalf("write: %+v, want %d rows stored and %d rejected", res, rows, rejected)
	}
	return res
}

// Col is column m.n of s; the test fails when s does not know it.
func Col(t testing.TB, s target.Schema, m, n string) target.ColumnInfo {
	t.Helper()
	c, ok := target.Column(s, "", m, n)
	if !ok {
		t.Fatalf("%s.%s unknown", m, n)
	}
	return c
}

// WantFixtureRequired checks what a backend that keeps tsgate's metadata
// (PostgreSQL, ClickHouse) knows of the fixture's events once it is
// written: content is a Required string field, parent_id (absent from
// some rows) is not Required, org_id is a tag.
func WantFixtureRequired(t *testing.T, s target.Schema) {
	t.Helper()
	if c := Col(t, s, "events", "content"); !c.Required || c.Tag || c.Type != model.TypeString {
		t.Errorf("content %+v", c)
	}
	if c := Col(t, s, "events", "parent_id"); c.Required {
		t.Errorf("parent_id %+v", c)
	}
	if c := Col(t, s, "events", "org_id"); !c.Tag {
		t.Errorf("org_id %+v", c)
	}
}

// WantRequiredAfterGap writes to db, over the fixture, an events row at
// us carrying only org_id and content; then a fresh backend (reopen: a
// restarted tsgate) reads from the metadata that importance and tags_csv
// became optional and content is still Required.
func WantRequiredAfterGap(t *testing.T, b dialects.Backend, db string, us int64, reopen func() (dialects.Backend, error)) {
	t.Helper()
	nb := &model.Batch{}
	nb.Table("events").AppendRow(us, []model.Cell{{Name: "org_id", Value: model.String("o")}, {Name: "content", Value: model.String("c")}})
	if _, err := b.Write(context.Background(), db, nb); err != nil {
		t.Fatal(err)
	}
	b2, err := reopen()
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	for _, c := range []struct {
		name string
		req  bool
	}{{"importance", false}, {"content", true}, {"tags_csv", false}} {
		if got := Col(t, b2.Schema(db), "events", c.name); got.Required != c.req {
			t.Errorf("%s: Required %v, want %v", c.name, got.Required, c.req)
		}
	}
}

// WantListed checks that b lists exactly measurements (comma-separated,
// sorted) in db, and db among its databases, without any of hidden
// (tsgate's metadata, the server's own).
func WantListed(t *testing.T, b dialects.Backend, db, measurements string, hidden ...string) {
	t.Helper()
	ctx := context.Background()
	ms, err := b.Measurements(ctx, db)
	if err != nil || strings.Join(ms, ",") != measurements {
		t.Errorf("measurements %v %v, want %s", ms, err, measurements)
	}
	dbs, err := b.Databases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(dbs, db) {
		t.Errorf("databases %v lack %s", dbs, db)
	}
	for _, h := range hidden {
		if slices.Contains(dbs, h) {
			t.Errorf("%s listed as a database", h)
		}
	}
}

// benchStart is when the benchmarks' CPU batches begin.
func benchStart() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }

// BenchWrite times be's Write of rows-point CPU batches (CPUBatch) into
// db, one an hour after the other from 2025-01-01, and reports rows/s.
func BenchWrite(b *testing.B, be dialects.Backend, db string, rows int) {
	b.Helper()
	b.ResetTimer()
	for i := range b.N {
		if _, err := be.Write(context.Background(), db, CPUBatch(benchStart().Add(time.Duration(i)*time.Hour), rows)); err != nil {
			b.Fatal(err)
		}
	}
	ReportRows(b, rows)
}

// ReportRows reports the rows/s of a benchmark that stores rows points
// per iteration.
func ReportRows(b *testing.B, rows int) {
	b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
}

// SeedCPU writes one rows-point CPU batch at 2025-01-01 into db, for the
// query benchmarks, outside the timing.
func SeedCPU(b *testing.B, be dialects.Backend, db string, rows int) {
	b.Helper()
	MustWrite(b, be, db, CPUBatch(benchStart(), rows))
}

// BenchQuery times query on be in db, reading every row of its ncols
// columns.
func BenchQuery(b *testing.B, be dialects.Backend, db, query string, ncols int) {
	b.Helper()
	dst := make([]model.Value, ncols)
	b.ResetTimer()
	for range b.N {
		rows, err := be.Query(context.Background(), db, query)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next(dst) {
		}
		rows.Close()
	}
}
