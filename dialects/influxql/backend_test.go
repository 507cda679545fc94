package influxql_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tsgate/dialects/backendkit/kittest"
	"tsgate/dialects/influxql"
	"tsgate/errs"
	"tsgate/internal/testenv"
	"tsgate/model"
	"tsgate/translate"
	"tsgate/translate/target"
)

// open connects to the InfluxDB that scripts/backends.sh started and
// drops the test's database afterwards.
func open(t testing.TB) (*influxql.Backend, string) {
	t.Helper()
	return kittest.Server(t, "TSGATE_TEST_INFLUX_URL", "tsgate_test",
		func(u *url.URL, db string) (*influxql.Backend, error) {
			return influxql.Open(context.Background(), "influxql://"+u.Host+"/"+db)
		})
}

func TestRoundTripMatchesDuckDB(t *testing.T) {
	b, db := open(t)
	kittest.Run(t, b, db, kittest.Options{UintAsInt: true})
}

// TestStoredNatively reads the written points back with plain InfluxQL:
// tags are tags, fields keep their types, time is exact to the µs.
func TestStoredNatively(t *testing.T) {
	b, db := open(t)
	batch := kittest.Fixture(time.Now(), 1)
	kittest.MustWrite(t, b, db, batch)
	got, _ := kittest.QueryAll(t, b, db, `SHOW TAG KEYS FROM "events"`)
	var keys []string
	for _, r := range got {
		keys = append(keys, r[0].S)
	}
	if strings.Join(keys, ",") != "agent_id,event_type,memory_type,org_id,session_id" {
		t.Errorf("events tag keys = %v", keys)
	}
	got, _ = kittest.QueryAll(t, b, db, `SHOW FIELD KEYS FROM "mixed"`)
	types := map[string]string{}
	for _, r := range got {
		types[r[0].S] = r[1].S
	}
	want := map[string]string{"b": "boolean", "f": "float", "i": "integer", "s": "string", "u": "integer"}
	for k, v := range want {
		if types[k] != v {
			t.Errorf("field %s: type %q, want %q (all: %v)", k, types[k], v, types)
		}
	}
	got, cols := kittest.QueryAll(t, b, db, `SELECT "f", "i" FROM "mixed" WHERE "host" = 'h0' ORDER BY time`)
	mixed := batch.Tables[1]
	if len(got) != 2 || cols[0] != "time" {
		t.Fatalf("got %v %v", cols, got)
	}
	if got[0][0] != model.Time(mixed.Time[0]) || got[1][0] != model.Time(mixed.Time[2]) {
		t.Errorf("times %v, %v: want µs %d, %d", got[0][0], got[1][0], mixed.Time[0], mixed.Time[2])
	}
	if got[0][2] != model.Int(-42) || got[1][1] != model.Float(1e300) {
		t.Errorf("values %v", got)
	}
}

func TestSchemaRequired(t *testing.T) {
	b, db := open(t)
	ctx := context.Background()
	kittest.MustWrite(t, b, db, kittest.Fixture(time.Now(), 1))
	cols, ok := b.Schema(db).Columns("", "events")
	if !ok {
		t.Fatal("events unknown")
	}
	req := map[string]bool{}
	tags := map[string]bool{}
	for _, c := range cols {
		req[c.Name], tags[c.Name] = c.Required, c.Tag
	}
	for _, f := range []string{"content", "metadata_json", "tags_csv", "dedup_key", "importance"} {
		if !req[f] || tags[f] {
			t.Errorf("%s: required=%v tag=%v, want a Required field", f, req[f], tags[f])
		}
	}
	if req["parent_id"] {
		t.Error("parent_id is absent from some rows but marked Required")
	}
	// Tags: Required means every point has the tag (InfluxDB reads an
	// absent one as '', which only then means '').
	if !tags["org_id"] || !req["org_id"] {
		t.Errorf("org_id: tag=%v required=%v, want a tag every point has", tags["org_id"], req["org_id"])
	}
	// A later write without content makes it optional for good.
	v0 := b.Schema(db).Version()
	batch := &model.Batch{}
	tb := batch.Table("events")
	if err := tb.AppendRow(time.Now().UnixMicro(), []model.Cell{{Name: "org_id", Value: model.String("o")},
		{Name: "agent_id", Tag: true, Value: model.String("")},
		{Name: "importance", Value: model.Float(1)}}); err != nil {
		t.Fatal(err)
	}
	kittest.MustWrite(t, b, db, batch)
	cols, _ = b.Schema(db).Columns("", "events")
	for _, c := range cols {
		if c.Name == "content" && c.Required {
			t.Error("content still Required after a row without it")
		}
		if c.Name == "importance" && !c.Required {
			t.Error("importance lost Required though every row has it")
		}
		if c.Name == "session_id" && c.Required {
			t.Error("tag session_id still Required after a row without it")
		}
		if c.Name == "agent_id" && (!c.Required || !c.EmptyValues) {
			t.Errorf("tag agent_id: required=%v empty=%v after a row with agent_id '', want both", c.Required, c.EmptyValues)
		}
		if c.Name == "org_id" && (!c.Required || c.EmptyValues) {
			t.Errorf("tag org_id: required=%v empty=%v, want required and never empty", c.Required, c.EmptyValues)
		}
	}
	if b.Schema(db).Version() == v0 {
		t.Error("schema version did not change")
	}
	// A fresh Backend (a restarted tsgate) reads the same metadata.
	b2, err := influxql.Open(ctx, "influxql://"+strings.TrimPrefix(kittest.URL(t, "TSGATE_TEST_INFLUX_URL"), "http://")+"/"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	cols, _ = b2.Schema(db).Columns("", "events")
	for _, c := range cols {
		if c.Name == "importance" && !c.Required {
			t.Error("a new Backend does not see importance as Required")
		}
		if c.Name == "content" && c.Required {
			t.Error("a new Backend sees content as Required")
		}
	}
	// tsgate's metadata measurement stays hidden.
	kittest.WantListed(t, b, db, "cpu,events,mixed")
}

// TestSchemaOnWriteAndConflicts: a new field appears in the schema; a
// row whose field type conflicts with the stored one is rejected and the
// others are kept.
func TestSchemaOnWriteAndConflicts(t *testing.T) {
	b, db := open(t)
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	write := func(cells ...[]model.Cell) model.WriteResult {
		t.Helper()
		batch := &model.Batch{}
		tb := batch.Table("m")
		for i, c := range cells {
			if err := tb.AppendRow(t0+int64(i), c); err != nil {
				t.Fatal(err)
			}
		}
		res, err := b.Write(ctx, db, batch)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	host := model.Cell{Name: "host", Tag: true, Value: model.String("a")}
	write([]model.Cell{host, {Name: "v", Value: model.Float(1)}})
	if _, ok := b.Schema(db).Columns("", "m"); !ok {
		t.Fatal("m unknown after write")
	}
	res := write(
		[]model.Cell{host, {Name: "v", Value: model.Float(2)}, {Name: "extra", Value: model.Int(5)}},
		[]model.Cell{host, {Name: "v", Value: model.String("oops")}},
		[]model.Cell{host, {Name: "v", Value: model.Float(3)}},
	)
	if res.Rows != 2 || res.Rejected != 1 || len(res.Conflicts) != 1 {
		t.Fatalf("result %+v", res)
	}
	var tc *model.TypeConflict
	if !errorsAs(res.Conflicts[0], &tc) || tc.Field != "v" || tc.Want != model.TypeFloat {
		t.Errorf("conflict %v", res.Conflicts[0])
	}
	c, ok := columnOf(b, db, "m", "extra")
	if !ok || c.Type != model.TypeInt || c.Required {
		t.Errorf("extra: %+v %v (a field added later is not Required)", c, ok)
	}
	got, _, err := kittest.RunQuery(ctx, translate.New(), b, db, `SELECT time, v FROM m ORDER BY time`)
	if err != nil {
		t.Fatal(err)
	}
	// t0 overwritten by the second batch's first row (same series and
	// time: InfluxDB's upsert), t0+1 rejected, t0+2 kept.
	if len(got) != 2 || got[0][0] != model.Time(t0) || got[0][1] != model.Float(2) ||
		got[1][0] != model.Time(t0+2) || got[1][1] != model.Float(3) {
		t.Errorf("rows %v", got)
	}
}

// TestDown: a backend that is not listening answers Unavailable, quickly.
func TestDown(t *testing.T) {
	b, err := influxql.Open(context.Background(), "influxql://user:secret@"+testenv.FreeAddr(t)+"/db")
	if err != nil {
		t.Fatal(err)
	}
	kittest.Down(t, b, "secret", "SELECT * FROM m")
}

func TestOpenURL(t *testing.T) {
	for _, bad := range []string{"http://h:1/db", "influxql:///db", "influxql://u:pw@h:1/db?timeout=x"} {
		_, err := influxql.Open(context.Background(), bad)
		kittest.WantCode(t, err, errs.Invalid)
		if strings.Contains(err.Error(), "pw") {
			t.Errorf("%v leaks the password", err)
		}
	}
}

// TestEngineError: InfluxDB's own error text reaches the caller as
// Engine; a database nobody wrote to yet is NotFound.
func TestEngineError(t *testing.T) {
	b, db := open(t)
	_, err := b.Query(context.Background(), db, `SELECT "v" FROM "m"`)
	kittest.WantCode(t, err, errs.NotFound)
	batch := &model.Batch{}
	batch.Table("m").AppendRow(1, []model.Cell{{Name: "v", Value: model.Float(1)}})
	kittest.MustWrite(t, b, db, batch)
	_, err = b.Query(context.Background(), db, "SELECT FROM WHERE")
	kittest.WantCode(t, err, errs.Engine)
}

// TestConcurrentWrites: writers racing on one measurement keep Required
// honest: a field some writer omits ends up optional.
func TestConcurrentWrites(t *testing.T) {
	b, db := open(t)
	ctx := context.Background()
	t0 := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	errc := make(chan error, 8)
	for w := range 8 {
		go func() {
			batch := &model.Batch{}
			tb := batch.Table("race")
			for i := range 50 {
				cells := []model.Cell{{Name: "always", Value: model.Float(1)}}
				if w != 3 {
					cells = append(cells, model.Cell{Name: "mostly", Value: model.Int(int64(i))})
				}
				tb.AppendRow(t0+int64(w*1000+i), cells)
			}
			_, err := b.Write(ctx, db, batch)
			errc <- err
		}()
	}
	for range 8 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	b2, err := influxql.Open(ctx, "influxql://"+strings.TrimPrefix(kittest.URL(t, "TSGATE_TEST_INFLUX_URL"), "http://")+"/"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	always, _ := target.Column(b2.Schema(db), "", "race", "always")
	mostly, _ := target.Column(b2.Schema(db), "", "race", "mostly")
	if !always.Required || mostly.Required {
		t.Errorf("always %+v, mostly %+v", always, mostly)
	}
	got, _, err := kittest.RunQuery(ctx, translate.New(), b, db, `SELECT count(*) AS n FROM race`)
	if err != nil || len(got) != 1 || got[0][0] != model.Int(400) {
		t.Errorf("count %v %v", got, err)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func columnOf(b *influxql.Backend, db, m, name string) (target.ColumnInfo, bool) {
	return target.Column(b.Schema(db), "", m, name)
}

// TestNoAcknowledgedRowLost kills a private influxd (SIGKILL) in the
// middle of a write load and restarts it: every row whose Write returned
// nil is there afterwards, and writes while it is down fail Unavailable.
func TestNoAcknowledgedRowLost(t *testing.T) {
	kittest.URL(t, "TSGATE_TEST_INFLUX_URL") // same gate as the other tests
	bin := os.Getenv("TSGATE_INFLUXD")
	if bin == "" {
		home, _ := os.UserHomeDir()
		bin = filepath.Join(home, ".cache", "tsgate", "bin", "influxd")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("influxd not found at %s (scripts/backends.sh installs it): %v", bin, err)
	}
	dir := t.TempDir()
	addr := testenv.FreeAddr(t)
	// The shared server's configuration, on this test's directory and ports.
	conf := testenv.InfluxdConfig(t, dir, testenv.FreeAddr(t), addr)
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "run", "-config", conf)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	cmd := start()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	b, err := influxql.Open(context.Background(), "influxql://"+addr+"/durable", influxql.WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	waitReady := func() {
		for range 100 {
			if b.Ready(context.Background()) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatal("influxd did not start")
	}
	waitReady()

	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	var acked []int64
	seq := int64(0)
	writeOne := func() error {
		batch := &model.Batch{}
		tb := batch.Table("load")
		first := seq
		for range 200 {
			tb.AppendRow(t0+seq, []model.Cell{{Name: "host", Tag: true, Value: model.String("h")},
				{Name: "seq", Value: model.Int(seq)}})
			seq++
		}
		_, err := b.Write(ctx, "durable", batch)
		if err == nil {
			for s := first; s < seq; s++ {
				acked = append(acked, s)
			}
		}
		return err
	}
	for range 20 {
		if err := writeOne(); err != nil {
			t.Fatal(err)
		}
	}
	// Kill it while a write may be in flight.
	done := make(chan struct{})
	go func() {
		time.Sleep(5 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		close(done)
	}()
	for range 10 {
		writeOne()
	}
	<-done
	cmd.Wait()
	kittest.WantCode(t, writeOne(), errs.Unavailable)
	cmd = start()
	waitReady()
	for range 10 {
		if err := writeOne(); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := kittest.QueryAll(t, b, "durable", `SELECT "seq" FROM "load"`)
	have := map[int64]bool{}
	for _, r := range got {
		have[r[1].I] = true
	}
	lost := 0
	for _, s := range acked {
		if !have[s] {
			lost++
		}
	}
	if lost > 0 || len(acked) < 30*200 {
		t.Errorf("%d of %d acknowledged rows lost (%d stored)", lost, len(acked), len(have))
	}
	t.Logf("%d rows acknowledged, %d stored, none lost", len(acked), len(have))
}

// TestChunked reads a result spanning several InfluxDB chunks (and
// several series) in both modes.
func TestChunked(t *testing.T) {
	b, db := open(t)
	ctx := context.Background()
	kittest.MustWrite(t, b, db, kittest.CPUBatch(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 25_000))
	c, err := influxql.Open(ctx, "influxql://"+strings.TrimPrefix(kittest.URL(t, "TSGATE_TEST_INFLUX_URL"), "http://")+"/"+db, influxql.WithChunkedQueries())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, be := range []*influxql.Backend{b, c} {
		got, cols := kittest.QueryAll(t, be, db, `SELECT "usage_user" FROM "cpu" GROUP BY "hostname"`)
		hosts := map[string]int{}
		for _, r := range got {
			hosts[r[2].S]++
		}
		if len(got) != 25_000 || len(hosts) != 100 || strings.Join(cols, ",") != "time,usage_user,hostname" {
			t.Errorf("%d rows, %d hosts, columns %v", len(got), len(hosts), cols)
		}
	}
}
