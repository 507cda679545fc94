package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"tsgate/dialects"
	"tsgate/dialects/backendkit/kittest"
	"tsgate/dialects/postgres"
	"tsgate/errs"
	"tsgate/internal/testenv"
	"tsgate/model"
	"tsgate/translate"
)

// open connects to the PostgreSQL that scripts/services.sh started; each
// test gets its own schema (Arc database), dropped afterwards.
func open(t testing.TB) (*postgres.Backend, string) {
	t.Helper()
	return kittest.Server(t, "TSGATE_TEST_POSTGRES_URL", "tsgate_test",
		func(u *url.URL, _ string) (*postgres.Backend, error) {
			return postgres.Open(context.Background(), u.String())
		})
}

func TestRoundTripMatchesDuckDB(t *testing.T) {
	b, db := open(t)
	kittest.Run(t, b, db, kittest.Options{})
}

// TestStoredNatively checks the tables as PostgreSQL sees them: column
// types, tags in tsgate's metadata, time exact to the µs.
func TestStoredNatively(t *testing.T) {
	b, db := open(t)
	ctx := context.Background()
	batch := kittest.Fixture(time.Now(), 1)
	kittest.MustWrite(t, b, db, batch)
	rows, err := b.Pool().Query(ctx, `SELECT column_name, data_type, coalesce(domain_name, '') FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = 'mixed' ORDER BY column_name`, db)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var n, typ, dom string
		if err := rows.Scan(&n, &typ, &dom); err != nil {
			t.Fatal(err)
		}
		got = append(got, n+":"+typ+":"+dom)
	}
	want := "b:boolean:,f:double precision:,host:text:,i:bigint:,s:text:,time:timestamp with time zone:,u:numeric:uint64"
	if strings.Join(got, ",") != want {
		t.Errorf("columns\n got %s\nwant %s", strings.Join(got, ","), want)
	}
	var tags []string
	rows, err = b.Pool().Query(ctx, `SELECT name FROM _tsgate.columns WHERE db = $1 AND measurement = 'events' AND is_tag ORDER BY name`, db)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tags = append(tags, n)
	}
	if strings.Join(tags, ",") != "agent_id,event_type,memory_type,org_id,session_id" {
		t.Errorf("tags %v", tags)
	}
	mixed := batch.Tables[1]
	var us int64
	var u string
	if err := b.Pool().QueryRow(ctx, `SELECT (extract(epoch FROM time) * 1000000)::bigint, u::text FROM "`+db+`".mixed WHERE u IS NOT NULL ORDER BY time DESC LIMIT 1`).Scan(&us, &u); err != nil {
		t.Fatal(err)
	}
	if us != mixed.Time[3] || u != "1099511627776" {
		t.Errorf("time %d u %s, want %d 1099511627776", us, u, mixed.Time[3])
	}
	// uint64's whole range.
	big := &model.Batch{}
	big.Table("mixed").AppendRow(mixed.Time[0]+10, []model.Cell{{Name: "f", Value: model.Float(0)},
		{Name: "u", Value: model.Uint(1<<64 - 1)}})
	kittest.MustWrite(t, b, db, big)
	res, cols, err := kittest.RunQuery(ctx, translate.New(), b, db, `SELECT u FROM mixed WHERE u IS NOT NULL ORDER BY u DESC LIMIT 1`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0][0] != model.Uint(1<<64-1) {
		t.Errorf("%v %v", cols, res)
	}
}

func TestSchemaRequiredAndConflicts(t *testing.T) {
	b, db := open(t)
	ctx := context.Background()
	kittest.MustWrite(t, b, db, kittest.Fixture(time.Now(), 1))
	kittest.WantFixtureRequired(t, b.Schema(db))
	if c := kittest.Col(t, b.Schema(db), "mixed", "u"); c.Type != model.TypeUint {
		t.Errorf("u %+v", c)
	}
	v0 := b.Schema(db).Version()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	batch := &model.Batch{}
	tb := batch.Table("mixed")
	tb.AppendRow(t0, []model.Cell{{Name: "host", Tag: true, Value: model.String("h9")}, {Name: "f", Value: model.Float(1)}, {Name: "new_col", Value: model.Int(3)}})
	tb.AppendRow(t0+1, []model.Cell{{Name: "f", Value: model.String("not a float")}})
	tb.AppendRow(t0+2, []model.Cell{{Name: "f", Value: model.Float(2)}, {Name: "i", Value: model.Float(2.5)}})
	tb.AppendRow(t0+3, []model.Cell{{Name: "f", Value: model.Float(4)}})
	res := kittest.WantWrite(t, b, db, batch, 2, 2)
	var tc *model.TypeConflict
	if !errors.As(res.Conflicts[0], &tc) {
		t.Errorf("conflict %v", res.Conflicts[0])
	}
	if c := kittest.Col(t, b.Schema(db), "mixed", "new_col"); c.Type != model.TypeInt || c.Required {
		t.Errorf("new_col %+v", c)
	}
	if b.Schema(db).Version() == v0 {
		t.Error("schema version unchanged after ALTER TABLE")
	}
	got, _, err := kittest.RunQuery(ctx, translate.New(), b, db, `SELECT time, host, f, new_col FROM mixed WHERE time >= '2025-01-01T00:00:00Z' ORDER BY time`)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0][0] != model.Time(t0) || got[0][1] != model.String("h9") || got[0][3] != model.Int(3) ||
		got[1][0] != model.Time(t0+3) || got[1][2] != model.Float(4) || !got[1][3].IsNull() {
		t.Errorf("rows %v", got)
	}
	// A row without importance makes it optional; a fresh backend agrees.
	kittest.WantRequiredAfterGap(t, b, db, t0, func() (dialects.Backend, error) {
		return postgres.Open(ctx, kittest.URL(t, "TSGATE_TEST_POSTGRES_URL"))
	})
	kittest.WantListed(t, b, db, "cpu,events,mixed", "_tsgate")
}

func TestRejectsNUL(t *testing.T) {
	b, db := open(t)
	batch := &model.Batch{}
	tb := batch.Table("m")
	tb.AppendRow(1, []model.Cell{{Name: "s", Value: model.String("a\x00b")}})
	tb.AppendRow(2, []model.Cell{{Name: "s", Value: model.String("ok")}})
	kittest.WantWrite(t, b, db, batch, 1, 1)
}

func TestDown(t *testing.T) {
	b, err := postgres.Open(context.Background(), "postgres://u:secret@"+testenv.FreeAddr(t)+"/x?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	kittest.Down(t, b, "secret", "SELECT 1")
}

func TestEngineErrors(t *testing.T) {
	b, db := open(t)
	ctx := context.Background()
	rows, err := b.Query(ctx, db, "SELECT * FROM no_such_table")
	if err == nil {
		rows.Close()
	}
	kittest.WantCode(t, err, errs.NotFound)
	rows, err = b.Query(ctx, db, "SELECT 1/0")
	if err == nil {
		rows.Close()
	}
	kittest.WantCode(t, err, errs.Engine)
	if e := errs.As(err); e.State() != "22012" {
		t.Errorf("SQLSTATE %s, want 22012", e.State())
	}
}

// TestDatabasesSeparate: the same bare name means each request's own
// database, query after query on pooled connections.
func TestDatabasesSeparate(t *testing.T) {
	b, db1 := open(t)
	ctx := context.Background()
	db2 := db1 + "_b"
	t.Cleanup(func() {
		b.Pool().Exec(ctx, `DROP SCHEMA IF EXISTS "`+db2+`" CASCADE`)
		b.Pool().Exec(ctx, `DELETE FROM _tsgate.columns WHERE db = $1`, db2)
	})
	for i, db := range []string{db1, db2} {
		batch := &model.Batch{}
		batch.Table("m").AppendRow(1_700_000_000_000_000, []model.Cell{{Name: "v", Value: model.Int(int64(i))}})
		kittest.MustWrite(t, b, db, batch)
	}
	for i := range 40 {
		db, want := db1, int64(0)
		if i%3 == 0 {
			db, want = db2, 1
		}
		got, _, err := kittest.RunQuery(ctx, translate.New(), b, db, "SELECT v FROM m")
		if err != nil || len(got) != 1 || got[0][0] != model.Int(want) {
			t.Fatalf("query %d in %s: %v %v", i, db, got, err)
		}
	}
}

// TestTagIndexes: memtrace's selective tags (events' agent_id and
// session_id) are indexed with time, on creation and when a later write
// adds one; other tags and fields, and other measurements' tags, are not.
func TestTagIndexes(t *testing.T) {
	b, db := open(t)
	ctx := context.Background()
	write := func(m string, cells ...model.Cell) {
		t.Helper()
		batch := &model.Batch{}
		if err := batch.Table(m).AppendRow(1_700_000_000_000_000, cells); err != nil {
			t.Fatal(err)
		}
		kittest.MustWrite(t, b, db, batch)
	}
	tag := func(n, v string) model.Cell { return model.Cell{Name: n, Tag: true, Value: model.String(v)} }
	write("events", tag("org_id", "o"), tag("agent_id", "a"), model.Cell{Name: "content", Value: model.String("x")})
	write("events", tag("session_id", "s"), model.Cell{Name: "content", Value: model.String("y")})
	write("cpu", tag("host", "h"), model.Cell{Name: "usage", Value: model.Float(1)})
	indexes := func(table string) string {
		t.Helper()
		rows, err := b.Pool().Query(ctx, `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY indexdef`, db, table)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var def string
			if err := rows.Scan(&def); err != nil {
				t.Fatal(err)
			}
			got = append(got, def[strings.Index(def, " USING ")+len(" USING "):])
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(got, " | ")
	}
	if got, want := indexes("events"), `btree (agent_id, "time") | btree (session_id, "time") | btree ("time")`; got != want {
		t.Errorf("events indexes\n got %s\nwant %s", got, want)
	}
	if got, want := indexes("cpu"), `btree ("time")`; got != want {
		t.Errorf("cpu indexes\n got %s\nwant %s", got, want)
	}
}
