package clickhouse_test

import (
	"context"
	"errors"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"tsgate/dialects"
	"tsgate/dialects/backendkit/kittest"
	"tsgate/dialects/clickhouse"
	"tsgate/errs"
	"tsgate/internal/testenv"
	"tsgate/model"
	"tsgate/translate"
)

// open connects to the ClickHouse that scripts/backends.sh started; each
// test gets its own database, dropped afterwards.
func open(t testing.TB) (*clickhouse.Backend, string) {
	t.Helper()
	return kittest.Server(t, "TSGATE_TEST_CLICKHOUSE_URL", "tsgate_test",
		func(u *url.URL, db string) (*clickhouse.Backend, error) {
			return clickhouse.Open(context.Background(), "clickhouse://"+u.Host+"/"+db)
		})
}

func TestRoundTripMatchesDuckDB(t *testing.T) {
	b, db := open(t)
	kittest.Run(t, b, db, kittest.Options{TimeGrid: 1_000_000})
}

// TestCountIsInt64: count() and count(DISTINCT) read as int64, as DuckDB
// reports them, not ClickHouse's UInt64 (Arc's msgpack envelope names the
// type, so a client would see the difference).
func TestCountIsInt64(t *testing.T) {
	b, db := open(t)
	ctx := context.Background()
	batch := &model.Batch{}
	tb := batch.Table("c")
	for i, h := range []string{"a", "b", "a"} {
		tb.AppendRow(int64(1_700_000_000+i)*1_000_000, []model.Cell{
			{Name: "host", Tag: true, Value: model.String(h)},
			{Name: "v", Value: model.Float(float64(i))},
		})
	}
	kittest.MustWrite(t, b, db, batch)
	tr := translate.New()
	for _, c := range []struct {
		sql  string
		want []int64
	}{
		{`SELECT count(*) FROM c`, []int64{3}},
		{`SELECT count(v) AS n FROM c GROUP BY host ORDER BY host`, []int64{2, 1}},
		{`SELECT count(DISTINCT host) FROM c`, []int64{2}},
		{`SELECT count(*) FILTER (WHERE v > 0) FROM c`, []int64{2}},
		{`SELECT host, count(*) AS n FROM c GROUP BY host HAVING count(*) > 1`, []int64{2}},
	} {
		rows, _, err := kittest.RunQuery(ctx, tr, b, db, c.sql)
		if err != nil {
			t.Errorf("%s: %v", c.sql, err)
			continue
		}
		var got []int64
		for _, r := range rows {
			v := r[len(r)-1]
			if v.Type != model.TypeInt {
				t.Errorf("%s: count is %v (type %d), want int64", c.sql, v, v.Type)
			}
			got = append(got, v.I)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.sql, got, c.want)
		}
	}
}

// TestPrecision: ClickHouse 18.16's DateTime keeps whole seconds, so a µs
// time reads back truncated to its second; times before 1970 are
// rejected, not wrapped.
func TestPrecision(t *testing.T) {
	b, db := open(t)
	ctx := context.Background()
	t0 := time.Date(2025, 6, 1, 10, 20, 30, 999_999_000, time.UTC).UnixMicro()
	batch := &model.Batch{}
	tb := batch.Table("p")
	tb.AppendRow(t0, []model.Cell{{Name: "v", Value: model.Float(1)}})
	tb.AppendRow(-1, []model.Cell{{Name: "v", Value: model.Float(2)}})
	kittest.WantWrite(t, b, db, batch, 1, 1)
	got, _, err := kittest.RunQuery(ctx, translate.New(), b, db, `SELECT time, v FROM p`)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2025, 6, 1, 10, 20, 30, 0, time.UTC).UnixMicro()
	if len(got) != 1 || got[0][0] != model.Time(want) || got[0][1] != model.Float(1) {
		t.Errorf("got %v, want time %d", got, want)
	}
}

// TestStoredNatively checks the tables as ClickHouse sees them.
func TestStoredNatively(t *testing.T) {
	b, db := open(t)
	ctx := context.Background()
	kittest.MustWrite(t, b, db, kittest.Fixture(time.Now(), 1_000_000))
	got, _ := kittest.QueryAll(t, b, db, `SELECT name, type FROM system.columns WHERE database = '`+db+`' AND table = 'mixed' ORDER BY name`)
	var s []string
	for _, r := range got {
		s = append(s, r[0].S+":"+r[1].S)
	}
	want := "b:Nullable(UInt8),f:Nullable(Float64),host:Nullable(String),i:Nullable(Int64),s:Nullable(String),time:DateTime('UTC'),u:Nullable(UInt64)"
	if strings.Join(s, ",") != want {
		t.Errorf("columns\n got %s\nwant %s", strings.Join(s, ","), want)
	}
	got, _ = kittest.QueryAll(t, b, db, "SELECT engine_full FROM system.tables WHERE database = '"+db+"' AND name = 'events'")
	if len(got) != 1 || !strings.Contains(got[0][0].S, "MergeTree") || !strings.Contains(got[0][0].S, "ORDER BY time") {
		t.Errorf("engine %v", got)
	}
	// uint64's top value and a string with every TSV escape.
	weird := "tab\tnl\ncr\rbs\\nul\x00quote'\"ü"
	nb := &model.Batch{}
	nb.Table("mixed").AppendRow(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro(), []model.Cell{
		{Name: "f", Value: model.Float(0)}, {Name: "u", Value: model.Uint(1<<64 - 1)}, {Name: "s", Value: model.String(weird)}})
	kittest.MustWrite(t, b, db, nb)
	res, _, err := kittest.RunQuery(ctx, translate.New(), b, db, `SELECT u, s FROM mixed WHERE time >= '2030-01-01T00:00:00Z'`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0][0] != model.Uint(1<<64-1) || res[0][1] != model.String(weird) {
		t.Errorf("%v", res)
	}
}

// TestFloatsStoredExactly: a float comes back with the bits it was
// written with, and equals the same number written as a literal in a
// query. 18.16 reads text floats up to one ulp off (1.66 stored as
// 1.6600000000000001), so the writer must not send text.
func TestFloatsStoredExactly(t *testing.T) {
	b, db := open(t)
	ctx := context.Background()
	vals := []float64{1.66, 6.81, 0.1, 123456.789, 1e300, -2.5e-300, 5e-324, math.MaxFloat64, 9007199254740993}
	batch := &model.Batch{}
	tb := batch.Table("fl")
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for i, v := range vals {
		tb.AppendRow(base.Add(time.Duration(i)*time.Second).UnixMicro(), []model.Cell{{Name: "f", Value: model.Float(v)}, {Name: "s", Value: model.String(strconv.Itoa(i))}})
	}
	if res, err := b.Write(ctx, db, batch); err != nil || res.Rows != len(vals) {
		t.Fatalf("%+v %v", res, err)
	}
	got, _, err := kittest.RunQuery(ctx, translate.New(), b, db, `SELECT f FROM fl ORDER BY time`)
	if err != nil {
		t.Fatal(err)
	}
	var gotBits, wantBits []uint64
	for i, r := range got {
		gotBits = append(gotBits, math.Float64bits(r[0].F))
		wantBits = append(wantBits, math.Float64bits(vals[i]))
	}
	if d := cmp.Diff(wantBits, gotBits); d != "" {
		t.Errorf("stored bits (-want +got):\n%s", d)
	}
	// NaN is refused with a reason, the rest of the batch kept.
	nb := &model.Batch{}
	nb.Table("fl").AppendRow(base.Add(time.Hour).UnixMicro(), []model.Cell{{Name: "f", Value: model.Float(math.NaN())}})
	nb.Table("fl").AppendRow(base.Add(2*time.Hour).UnixMicro(), []model.Cell{{Name: "f", Value: model.Float(2)}})
	res, err := b.Write(ctx, db, nb)
	if err != nil || res.Rows != 1 || res.Rejected != 1 || len(res.Conflicts) != 1 || !strings.Contains(res.Conflicts[0].Error(), "NaN") {
		t.Fatalf("NaN write: %+v %v", res, err)
	}
	for i, v := range vals {
		q := `SELECT count(*) FROM fl WHERE f = ` + strconv.FormatFloat(v, 'g', -1, 64)
		got, _, err := kittest.RunQuery(ctx, translate.New(), b, db, q)
		if v == 5e-324 {
			// 18.16 cannot read a subnormal literal: refused, not sent.
			if errs.As(err).Code != errs.Unsupported {
				t.Errorf("%s: %v, want a refusal", q, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0][0] != model.Int(1) {
			t.Errorf("value %d: %s = %v, want one row", i, q, got)
		}
	}
}

func TestSchemaRequiredAndConflicts(t *testing.T) {
	b, db := open(t)
	ctx := context.Background()
	kittest.MustWrite(t, b, db, kittest.Fixture(time.Now(), 1_000_000))
	kittest.WantFixtureRequired(t, b.Schema(db))
	v0 := b.Schema(db).Version()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	batch := &model.Batch{}
	tb := batch.Table("mixed")
	tb.AppendRow(t0, []model.Cell{{Name: "f", Value: model.Float(1)}, {Name: "new_col", Value: model.Int(3)}})
	tb.AppendRow(t0+1_000_000, []model.Cell{{Name: "f", Value: model.String("not a float")}})
	tb.AppendRow(t0+2_000_000, []model.Cell{{Name: "f", Value: model.Float(4)}})
	res := kittest.WantWrite(t, b, db, batch, 2, 1)
	var tc *model.TypeConflict
	if !errors.As(res.Conflicts[0], &tc) || tc.Field != "f" {
		t.Errorf("conflict %v", res.Conflicts[0])
	}
	if c := kittest.Col(t, b.Schema(db), "mixed", "new_col"); c.Type != model.TypeInt || c.Required {
		t.Errorf("new_col %+v", c)
	}
	if b.Schema(db).Version() == v0 {
		t.Error("schema version unchanged after ALTER TABLE")
	}
	got, _, err := kittest.RunQuery(ctx, translate.New(), b, db, `SELECT time, f, new_col FROM mixed WHERE time >= '2025-01-01T00:00:00Z' ORDER BY time`)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0][2] != model.Int(3) || got[1][1] != model.Float(4) || !got[1][2].IsNull() {
		t.Errorf("rows %v", got)
	}
	u, _ := url.Parse(kittest.URL(t, "TSGATE_TEST_CLICKHOUSE_URL"))
	kittest.WantRequiredAfterGap(t, b, db, t0, func() (dialects.Backend, error) {
		return clickhouse.Open(ctx, "clickhouse://"+u.Host+"/"+db)
	})
	kittest.WantListed(t, b, db, "cpu,events,mixed", "_tsgate", "system")
}

func TestDown(t *testing.T) {
	b, err := clickhouse.Open(context.Background(), "clickhouse://u:secret@"+testenv.FreeAddr(t)+"/db")
	if err != nil {
		t.Fatal(err)
	}
	kittest.Down(t, b, "secret", "SELECT 1")
}

func TestEngineErrors(t *testing.T) {
	b, _ := open(t)
	ctx := context.Background()
	_, err := b.Query(ctx, "default", "SELECT * FROM no_such_table_xyz")
	kittest.WantCode(t, err, errs.NotFound)
	_, err = b.Query(ctx, "default", "SELECT throwIf(number = 3) FROM system.numbers LIMIT 10")
	kittest.WantCode(t, err, errs.Engine)
}
