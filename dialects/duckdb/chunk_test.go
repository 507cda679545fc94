package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"tsgate/errs"
	"tsgate/model"
)

// typedTable builds n rows with every storable type, NULLs at varying
// positions (none in some 2,048-row chunks, some in others) and strings
// on both sides of the 12-byte inline limit.
func typedTable(t *testing.T, b *model.Batch, n, off int) {
	t.Helper()
	tb := b.Table("mix")
	strs := []string{"", "a", "twelve bytes", "thirteen byte", "é—unicode—ü", strings.Repeat("long ", 20)}
	for i := range n {
		r := off + i
		cells := []model.Cell{
			{Name: "host", Tag: true, Value: model.String(fmt.Sprintf("h%d", r%7))},
			{Name: "f", Value: model.Float(float64(r) / 4)},
			{Name: "i", Value: model.Int(int64(r) - 3000)},
			{Name: "u", Value: model.Uint(math.MaxUint64 - uint64(r))},
			{Name: "s", Value: model.String(strs[r%len(strs)])},
			{Name: "b", Value: model.Bool(r%3 == 0)},
		}
		// NULL holes: rows 2048–4095 have none, elsewhere every 5th row
		// lacks f, every 7th lacks s and every 11th lacks b.
		if r < 2048 || r >= 4096 {
			for k, every := range map[int]int{1: 5, 4: 7, 5: 11} {
				if r%every == 0 {
					cells[k].Value = model.Value{}
				}
			}
		}
		if err := tb.AppendRow(1_700_000_000_000_000+int64(r), cells); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChunkAppendTypedColumns(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	// Two requests of the same shape, committed in one group or not:
	// either way every row arrives once, chunk boundaries included.
	var b1, b2 model.Batch
	typedTable(t, &b1, 5000, 0)
	typedTable(t, &b2, 1500, 5000)
	var wg sync.WaitGroup
	for _, b := range []*model.Batch{&b1, &b2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res, err := s.Write(ctx, "db", b); err != nil || res.Rows != b.Rows() {
				t.Errorf("write: %+v %v", res, err)
			}
		}()
	}
	wg.Wait()
	var want model.Batch
	typedTable(t, &want, 6500, 0)
	wt := want.Tables[0]
	var wantRows [][]model.Value
	for i := range wt.Len() {
		r := []model.Value{model.Time(wt.Time[i])}
		for _, name := range []string{"b", "f", "host", "i", "s", "u"} {
			r = append(r, wt.Column(name).At(i))
		}
		wantRows = append(wantRows, r)
	}
	_, got := queryAll(t, s, "db", "SELECT time, b, f, host, i, s, u FROM mix ORDER BY time")
	if d := cmp.Diff(wantRows, got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

// A string that is not UTF-8 (the decoders never produce one) is stored
// with each bad run replaced by U+FFFD: a VARCHAR must be UTF-8.
func TestChunkAppendInvalidUTF8(t *testing.T) {
	s, _ := openTest(t)
	var b model.Batch
	tb := b.Table("m")
	row(t, tb, 1, model.Cell{Name: "s", Value: model.String("ok")})
	row(t, tb, 2, model.Cell{Name: "s", Value: model.String("\xff\xfe")})
	row(t, tb, 3, model.Cell{Name: "s", Value: model.String(strings.Repeat("\xff", 20))})
	mustWrite(t, s, "db", &b)
	_, got := queryAll(t, s, "db", "SELECT s FROM m ORDER BY time")
	want := [][]model.Value{{model.String("ok")}, {model.String("\uFFFD")}, {model.String("\uFFFD")}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

// An append that fails rolls back its whole transaction: no row of the
// request is stored (not even those of a table appended before the
// failure), the error says why, and the next write works.
func TestChunkAppendFailureLosesNothing(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	var first model.Batch
	row(t, first.Table("a"), 1, model.Cell{Name: "v", Value: model.Float(1)})
	row(t, first.Table("b"), 1, model.Cell{Name: "v", Value: model.Float(1)})
	mustWrite(t, s, "db", &first)
	// Change b.v's type behind the store's back: its cache still says
	// DOUBLE, so the appender's type check refuses the next append.
	err := s.alone(ctx, func(ctx context.Context, conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, `ALTER TABLE "_d_db"."b" ALTER v TYPE VARCHAR`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var bad model.Batch
	row(t, bad.Table("a"), 2, model.Cell{Name: "v", Value: model.Float(2)})
	row(t, bad.Table("b"), 2, model.Cell{Name: "v", Value: model.Float(2)})
	_, err = s.Write(ctx, "db", &bad)
	if err == nil || errs.As(err).Code != errs.Engine || !strings.Contains(err.Error(), `column "v" is stored as DuckDB type`) {
		t.Fatalf("write over a changed column: %v", err)
	}
	_, got := queryAll(t, s, "db", "SELECT time FROM a ORDER BY time")
	if d := cmp.Diff([][]model.Value{{model.Time(1)}}, got); d != "" {
		t.Errorf("a after the failed write (-want +got):\n%s", d)
	}
	var next model.Batch
	row(t, next.Table("a"), 3, model.Cell{Name: "v", Value: model.Float(3)})
	if _, err := s.Write(ctx, "db", &next); err != nil {
		t.Fatalf("write after the failure: %v", err)
	}
	_, got = queryAll(t, s, "db", "SELECT time, v FROM a ORDER BY time")
	want := [][]model.Value{{model.Time(1), model.Float(1)}, {model.Time(3), model.Float(3)}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("a (-want +got):\n%s", d)
	}
}

// The checkpointer folds a WAL past its threshold into the database file
// while writes go on, and the rows stay readable.
func TestCheckpointerKeepsWALSmall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tsgate.duckdb")
	const walCap = 1 << 20
	s, err := Open(context.Background(), path, func(o *options) { o.ckptWAL = walCap })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows := 0
	for off := 0; off < 100_000; off += 20_000 {
		var b model.Batch
		typedTable(t, &b, 20_000, off)
		mustWrite(t, s, "db", &b)
		rows += b.Rows()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		fi, err := os.Stat(path + ".wal")
		if err != nil || fi.Size() < walCap {
			break // checkpointed (DuckDB removes or truncates the WAL)
		}
		if time.Now().After(deadline) {
			t.Fatalf("WAL still %d bytes", fi.Size())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s.ckpts.Load() == 0 {
		t.Error("the checkpointer made no checkpoint")
	}
	_, got := queryAll(t, s, "db", "SELECT count(*) FROM mix")
	if d := cmp.Diff([][]model.Value{{model.Int(int64(rows))}}, got); d != "" {
		t.Errorf("count (-want +got):\n%s", d)
	}
}

// Buffer mode acknowledges before the commit, commits on size, age,
// Flush and Close, and loses nothing it acknowledged on a clean Close.
func TestBufferMode(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tsgate.duckdb")
	var mu sync.Mutex
	var lost []error
	s, err := Open(ctx, path, WithBuffer(1000, time.Hour, func(db string, rows int, err error) {
		mu.Lock()
		lost = append(lost, err)
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	count := func() [][]model.Value {
		_, got := queryAll(t, s, "db", "SELECT count(*) FROM mix")
		return got
	}
	write := func(n, off int) {
		t.Helper()
		var b model.Batch
		typedTable(t, &b, n, off)
		res, err := s.Write(ctx, "db", &b)
		if err != nil || res.Rows != n {
			t.Fatalf("write: %+v %v", res, err)
		}
	}
	write(10, 0)
	// Not committed yet: the group waits for 1,000 rows or an hour.
	if s.HasTable("db", "mix") {
		t.Fatal("a buffered write was committed before its group filled")
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([][]model.Value{{model.Int(10)}}, count()); d != "" {
		t.Errorf("after Flush (-want +got):\n%s", d)
	}
	write(600, 10)
	write(600, 610) // the group passes 1,000 rows: committed without a Flush
	deadline := time.Now().Add(10 * time.Second)
	for !cmp.Equal([][]model.Value{{model.Int(1210)}}, count()) {
		if time.Now().After(deadline) {
			t.Fatalf("a full group was not committed: %v", count())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A type conflict with the stored schema is still reported at once.
	var conflict model.Batch
	row(t, conflict.Table("mix"), 5, model.Cell{Name: "f", Value: model.String("x")})
	if res, err := s.Write(ctx, "db", &conflict); err != nil || res.Rejected != 1 || len(res.Conflicts) != 1 {
		t.Errorf("conflicting write: %+v %v", res, err)
	}
	write(5, 1210)
	s = reopen(t, s, path)
	if d := cmp.Diff([][]model.Value{{model.Int(1215)}}, count()); d != "" {
		t.Errorf("after Close and reopen (-want +got):\n%s", d)
	}
	if len(lost) != 0 {
		t.Errorf("writes lost: %v", lost)
	}
}

// Age alone commits a group that never fills.
func TestBufferModeAge(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "tsgate.duckdb"), WithBuffer(1_000_000, 50*time.Millisecond, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b model.Batch
	typedTable(t, &b, 3, 0)
	mustWrite(t, s, "db", &b)
	deadline := time.Now().Add(10 * time.Second)
	for !s.HasTable("db", "mix") {
		if time.Now().After(deadline) {
			t.Fatal("an aged group was not committed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
