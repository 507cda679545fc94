package gateway

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"tsgate/internal/testenv"

	"github.com/jackc/pgx/v5"

	"tsgate/dialects/duckdb"
	"tsgate/errs"
	"tsgate/model"
)

func (ts *testServer) count(t *testing.T, db, m string) string {
	t.Helper()
	code, body, _ := ts.do(t, arcQuery("SELECT count(*) AS n FROM "+m, "x-arc-database", db))
	if code != 200 {
		t.Fatalf("count: %d %s", code, body)
	}
	return body[strings.Index(body, `"data":`):strings.Index(body, `,"row_count"`)]
}

func (ts *testServer) write(t *testing.T, db string, from, n int) {
	t.Helper()
	var b strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "cpu,host=h%d usage=%d 1764115%03d\n", i%3, i, i)
	}
	code, body, _ := ts.do(t, req{path: "/write?db=" + db + "&precision=s", body: []byte(b.String())})
	if code != 204 {
		t.Fatalf("write: %d %s", code, body)
	}
}

func storeCount(t *testing.T, dir, db string) int64 {
	t.Helper()
	s := openStore(t, dir)
	defer s.Close()
	rows, err := s.Query(context.Background(), db, "SELECT count(*) FROM cpu")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	v := make([]model.Value, 1)
	rows.Next(v)
	return v[0].I
}

// TestReloadSwitchOver: dual-write A → B, then a reload swaps them (B
// primary, A secondary: B's queue drained first), then drops the
// secondary; every write lands where it must, with no restart.
func TestReloadSwitchOver(t *testing.T) {
	ctx := context.Background()
	bDir := t.TempDir()
	var cfg Config
	ts := startGateway(t, func(c *Config) {
		c.Migration.Secondary = "embedded:" + bDir
		cfg = *c
	})
	g := ts.gateway
	aDir := g.cfg.DataDir
	ts.write(t, "db", 0, 10)

	swapped := cfg
	swapped.Migration.Primary, swapped.Migration.Secondary = "embedded:"+bDir, "embedded:"
	if err := g.Reload(ctx, swapped); err != nil {
		t.Fatal(err)
	}
	if p := g.sw.Plan().Primary; !strings.HasSuffix(p, bDir) {
		t.Fatalf("primary after the swap is %s", p)
	}
	// B already holds A's writes: the old queue drained before the swap.
	if got := ts.count(t, "db", "cpu"); got != `"data":[[10]]` {
		t.Fatalf("after the swap the new primary holds %s", got)
	}
	ts.write(t, "db", 10, 5)
	if err := g.sw.DualWriter().WaitEmpty(ctx); err != nil {
		t.Fatal(err)
	}
	if got := ts.count(t, "db", "cpu"); got != `"data":[[15]]` {
		t.Fatalf("new primary holds %s, want 15", got)
	}

	// Secondary removed: writes reach the primary only.
	alone := swapped
	alone.Migration.Secondary = ""
	if err := g.Reload(ctx, alone); err != nil {
		t.Fatal(err)
	}
	if g.sw.DualWriter() != nil {
		t.Fatal("dual-writer still running without a secondary")
	}
	ts.write(t, "db", 15, 5)
	if got := ts.count(t, "db", "cpu"); got != `"data":[[20]]` {
		t.Fatalf("primary holds %s, want 20", got)
	}
	// Same configuration again: nothing to do.
	if err := g.Reload(ctx, alone); err != nil {
		t.Fatal(err)
	}
	ts.stop()
	if a, b := storeCount(t, aDir, "db"), storeCount(t, bDir, "db"); a != 15 || b != 20 {
		t.Fatalf("A holds %d rows (want 15: written before the swap and dual-written after), B %d (want 20)", a, b)
	}
}

// TestReloadRefusesUndeliveredSwap: the secondary is down with batches
// queued; a reload making it the primary is refused (it misses
// acknowledged writes), the running configuration stays and writes keep
// working; a reload away to another secondary keeps the old queue on
// disk, and configuring the old secondary again resumes it.
func TestReloadRefusesUndeliveredSwap(t *testing.T) {
	ctx := context.Background()
	down := "influxql://" + testenv.FreeAddr(t) + "/db"
	var cfg Config
	ts := startGateway(t, func(c *Config) {
		c.Migration.Secondary = down
		c.Migration.DrainTimeout = Duration{300 * time.Millisecond}
		cfg = *c
	})
	g := ts.gateway
	ts.write(t, "db", 0, 3)
	swapped := cfg
	swapped.Migration.Primary, swapped.Migration.Secondary = down, "embedded:"
	err := g.Reload(ctx, swapped)
	if errs.CodeOf(err) != errs.Timeout {
		t.Fatalf("swap to a secondary with queued batches: err %v, want a Timeout refusal", err)
	}
	if g.sw.Plan().Secondary != down {
		t.Fatal("refused reload changed the configuration")
	}
	ts.write(t, "db", 3, 2)
	if n, _ := g.sw.DualWriter().QueueDepth(); n != 2 {
		t.Fatalf("queue depth %d after the refused reload, want 2 batches", n)
	}

	other := cfg
	other.Migration.Secondary = "embedded:" + t.TempDir()
	if err := g.Reload(ctx, other); err != nil {
		t.Fatal(err)
	}
	ts.write(t, "db", 5, 1)
	if err := g.sw.DualWriter().WaitEmpty(ctx); err != nil {
		t.Fatal(err)
	}
	// Back to the down secondary: its two batches are still queued.
	if err := g.Reload(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if n, _ := g.sw.DualWriter().QueueDepth(); n != 2 {
		t.Fatalf("old secondary's queue resumed with %d batches, want 2", n)
	}
}

func openStore(t testing.TB, dir string) *duckdb.Store {
	t.Helper()
	s, err := duckdb.Open(context.Background(), StorePath(dir))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestReloadCatalogFollowsPrimary: after a switch-over the pg wire catalog
// and translations describe the new primary, even where its schema
// version equals the old primary's: two embedded stores, each opened with
// one table already there, both report the same version.
func TestReloadCatalogFollowsPrimary(t *testing.T) {
	ctx := context.Background()
	aDir, bDir := t.TempDir(), t.TempDir()
	fill := func(dir, table string, cells ...model.Cell) {
		t.Helper()
		st := openStore(t, dir)
		defer st.Close()
		var batch model.Batch
		if err := batch.Table(table).AppendRow(1_764_115_200_000_000, cells); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Write(ctx, "tsdb", &batch); err != nil {
			t.Fatal(err)
		}
	}
	fill(aDir, "cpu", model.Cell{Name: "usage", Value: model.Float(0.5)})
	fill(bDir, "mem", model.Cell{Name: "free", Value: model.Float(1)})

	var cfg Config
	ts := startGateway(t, func(c *Config) {
		c.DataDir = aDir
		cfg = *c
	})
	host, port, _ := net.SplitHostPort(ts.gateway.Addr("pgwire").String())
	s := &pgServer{testServer: ts, host: host, port: port}
	c := pgConnect(t, s.url("tsdb"))
	tables := func() string {
		t.Helper()
		rows, err := c.Query(ctx, "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1")
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(got, ",")
	}
	if got, want := tables(), "cpu.time,cpu.usage"; got != want {
		t.Fatalf("before the switch the catalog lists %s, want %s", got, want)
	}
	var usage float64
	if err := c.QueryRow(ctx, "SELECT * FROM cpu").Scan(new(time.Time), &usage); err != nil || usage != 0.5 {
		t.Fatalf("SELECT * before the switch: %v %g", err, usage)
	}

	switched := cfg
	switched.Migration.Primary = "embedded:" + bDir
	if err := s.gateway.Reload(ctx, switched); err != nil {
		t.Fatal(err)
	}
	if got, want := tables(), "mem.free,mem.time"; got != want {
		t.Errorf("after the switch the catalog lists %s, want %s", got, want)
	}
	var free float64
	if err := c.QueryRow(ctx, "SELECT * FROM mem").Scan(new(time.Time), &free); err != nil || free != 1 {
		t.Errorf("SELECT * on the new primary: %v %g", err, free)
	}
	if _, err := c.Exec(ctx, "SELECT * FROM cpu"); err == nil {
		t.Error("the old primary's table still answers")
	}
}
