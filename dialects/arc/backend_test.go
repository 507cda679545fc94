package arc_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tsgate/auth"
	"tsgate/dialects/arc"
	"tsgate/dialects/backendkit/kittest"
	"tsgate/dialects/duckdb"
	"tsgate/dialects/duckdb/duckdbtest"
	"tsgate/errs"
	"tsgate/internal/testenv"
	"tsgate/model"
	"tsgate/translate"
	"tsgate/translate/target"
	arcapi "tsgate/wire/arc"
)

// store adapts the embedded store to the Arc API's backend: tsgate
// serving the Arc API is the real Arc-compatible server under test.
type store struct{ s *duckdb.Store }

func (s store) Name() string { return "duckdb" }
func (s store) Query(ctx context.Context, q arcapi.Query) (model.Rows, error) {
	return s.s.Query(ctx, q.DB, q.SQL)
}
func (s store) Write(ctx context.Context, db string, b *model.Batch) (model.WriteResult, error) {
	return s.s.Write(ctx, db, b)
}
func (s store) Databases(context.Context) ([]string, error) { return s.s.Databases(), nil }
func (s store) Measurements(_ context.Context, db string) ([]string, error) {
	return s.s.Measurements(db), nil
}
func (s store) Ready(ctx context.Context) error { return s.s.Ping(ctx) }

// serve starts tsgate's Arc API on a random loopback port, with tokens.
func serve(t *testing.T) (addr, token string) {
	t.Helper()
	dir := t.TempDir()
	st := duckdbtest.Open(t, filepath.Join(dir, "remote.duckdb"), duckdb.WithThreads(1))
	tokens, err := auth.Open(filepath.Join(dir, "tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	token, _, err = tokens.Create("test", "", []auth.Permission{auth.Read, auth.Write})
	if err != nil {
		t.Fatal(err)
	}
	srv := arcapi.New(store{st}, arcapi.WithAuth(tokens))
	srv.SetReady(true)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return strings.TrimPrefix(hs.URL, "http://"), token
}

func open(t *testing.T) (*arc.Backend, string) {
	addr, token := serve(t)
	b, err := arc.Open(context.Background(), "arc://"+addr+"/default?token="+token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	return b, "remote_db"
}

func TestRoundTripMatchesDuckDB(t *testing.T) {
	b, db := open(t)
	kittest.Run(t, b, db, kittest.Options{UintAsInt: true})
}

func TestSchemaAndConflicts(t *testing.T) {
	b, db := open(t)
	ctx := context.Background()
	kittest.MustWrite(t, b, db, kittest.Fixture(time.Now(), 1))
	// Arc's msgpack stores small unsigned values as int64.
	c, ok := target.Column(b.Schema(db), "", "mixed", "u")
	if !ok || c.Type != model.TypeInt {
		t.Errorf("mixed.u %+v %v", c, ok)
	}
	// Values above int64's range make a uint64 column and round-trip.
	big := &model.Batch{}
	big.Table("big").AppendRow(time.Now().UnixMicro(), []model.Cell{{Name: "u", Value: model.Uint(1<<64 - 1)}})
	if res, err := b.Write(ctx, db, big); err != nil || res.Rows != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	got, _, err := kittest.RunQuery(ctx, translate.New(), b, db, "SELECT u FROM big")
	if err != nil || len(got) != 1 || got[0][0] != model.Uint(1<<64-1) {
		t.Errorf("big.u %v %v", got, err)
	}
	v0 := b.Schema(db).Version()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	batch := &model.Batch{}
	tb := batch.Table("mixed")
	tb.AppendRow(t0, []model.Cell{{Name: "f", Value: model.Float(1)}, {Name: "added", Value: model.Bool(true)}})
	tb.AppendRow(t0+1, []model.Cell{{Name: "f", Value: model.String("x")}})
	res := kittest.WantWrite(t, b, db, batch, 1, 1)
	if c, ok := target.Column(b.Schema(db), "", "mixed", "added"); !ok || c.Type != model.TypeBool {
		t.Errorf("added %+v %v", c, ok)
	}
	if b.Schema(db).Version() == v0 {
		t.Error("schema version unchanged")
	}
	// A table whose times Arc would misread is refused, not mangled.
	old := &model.Batch{}
	old.Table("m").AppendRow(5_000_000, []model.Cell{{Name: "v", Value: model.Float(1)}})
	res, err = b.Write(ctx, db, old)
	if err != nil || res.Rejected != 1 || res.Rows != 0 {
		t.Errorf("%+v %v", res, err)
	}
	ms, err := b.Measurements(ctx, db)
	if err != nil || strings.Join(ms, ",") != "big,cpu,events,mixed" {
		t.Errorf("measurements %v %v", ms, err)
	}
	dbs, err := b.Databases(ctx)
	if err != nil || strings.Join(dbs, ",") != db {
		t.Errorf("databases %v %v", dbs, err)
	}
}

func TestErrors(t *testing.T) {
	addr, _ := serve(t)
	ctx := context.Background()
	bad, err := arc.Open(ctx, "arc://"+addr+"/default?token=wrong-token-secret")
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Query(ctx, "d", "SELECT 1")
	kittest.WantCode(t, err, errs.Unavailable)
	if strings.Contains(err.Error(), "wrong-token-secret") || strings.Contains(bad.String(), "wrong-token-secret") {
		t.Errorf("leaks the token: %v %s", err, bad)
	}
	b, db := open(t)
	_, err = b.Query(ctx, db, "SELEC nonsense")
	if c := errs.CodeOf(err); c != errs.Engine && c != errs.Invalid {
		t.Errorf("got %v: %v", c, err)
	}

	d, err := arc.Open(ctx, "arc://"+testenv.FreeAddr(t)+"/db?token=secret-token")
	if err != nil {
		t.Fatal(err)
	}
	kittest.Down(t, d, "secret-token", "SELECT 1")
}
