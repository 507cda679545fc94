package replicate

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tsgate/dialects"
	"tsgate/dialects/duckdb"
	"tsgate/dialects/duckdb/duckdbtest"
	"tsgate/errs"
	"tsgate/model"
)

func payloads(t *testing.T, q *queue) [][]byte {
	t.Helper()
	var out [][]byte
	// Peek/Ack would consume; read through a second handle instead.
	for _, r := range q.pending {
		b, err := os.ReadFile(filepath.Join(q.dir, segName(r.seg)))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b[r.off+recordHeader:r.off+r.size])
	}
	return out
}

func TestDualQueueTornTailDiscarded(t *testing.T) {
	dir := t.TempDir()
	q, err := openQueue(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := q.Append([]byte(fmt.Sprintf("record-%d", i)), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	seg := filepath.Join(dir, segName(q.activeID))
	q.Close()

	cases := []struct {
		name string
		tail func() []byte
	}{
		{"short header", func() []byte { return []byte{9, 0, 0} }},
		{"short payload", func() []byte {
			h := make([]byte, recordHeader)
			binary.LittleEndian.PutUint32(h, 100)
			return append(h, "only-part"...)
		}},
		{"bad checksum", func() []byte {
			p := []byte("record-x")
			h := make([]byte, recordHeader)
			binary.LittleEndian.PutUint32(h, uint32(len(p)))
			binary.LittleEndian.PutUint32(h[4:], 12345)
			return append(h, p...)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, _ := os.ReadFile(seg)
			f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(c.tail())
			f.Close()
			q, err := openQueue(dir, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			if q.recovered == 0 {
				t.Error("torn tail not reported")
			}
			after, _ := os.ReadFile(seg)
			if !bytes.Equal(before, after) {
				t.Errorf("segment not truncated back to its last whole record: %d bytes, want %d", len(after), len(before))
			}
			got := payloads(t, q)
			if len(got) != 3 {
				t.Fatalf("%d records after recovery, want 3", len(got))
			}
			for i, p := range got {
				if string(p) != fmt.Sprintf("record-%d", i) {
					t.Errorf("record %d = %q", i, p)
				}
			}
		})
	}

	// Zeros where the file was extended (some filesystems after a
	// crash) are a torn tail too.
	f, _ := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(make([]byte, 4096))
	f.Close()
	q2, err := openQueue(dir, 0)
	if err != nil {
		t.Fatalf("zero-filled tail: %v", err)
	}
	if n, _, _ := q2.Stats(); n != 3 {
		t.Errorf("%d records after a zero-filled tail, want 3", n)
	}
	q2.Close()

	// Damage to a record followed by whole records is corruption, not a
	// torn append: refused, nothing guessed or cut.
	b, _ := os.ReadFile(seg)
	b[recordHeader] ^= 0xff
	os.WriteFile(seg, b, 0o640)
	if _, err := openQueue(dir, 0); errs.CodeOf(err) != errs.Internal {
		t.Fatalf("damaged first record: err %v, want an Internal error", err)
	}
	if after, _ := os.ReadFile(seg); len(after) != len(b) {
		t.Error("a corrupt segment was modified")
	}
}

func TestDualQueueCorruptMiddleSegmentRefused(t *testing.T) {
	dir := t.TempDir()
	q, err := openQueue(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	q.segSize = 64 // one record per segment
	for i := range 3 {
		if err := q.Append([]byte(fmt.Sprintf("record-%d-padding-to-exceed-the-segment", i)), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	first := filepath.Join(dir, segName(q.pending[0].seg))
	q.Close()
	b, _ := os.ReadFile(first)
	b[len(b)-1] ^= 0xff
	os.WriteFile(first, b, 0o640)
	_, err = openQueue(dir, 0)
	if errs.CodeOf(err) != errs.Internal {
		t.Fatalf("corrupt non-final segment: err %v, want an Internal error", err)
	}
}

func TestDualQueueAckSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	q, err := openQueue(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	q.segSize = 100
	for i := range 6 {
		if err := q.Append([]byte(fmt.Sprintf("r%d-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i)), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	for range 4 {
		p, ok, err := q.Peek()
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		_ = p
		if err := q.Ack(); err != nil {
			t.Fatal(err)
		}
	}
	q.Close()
	q, err = openQueue(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	p, ok, err := q.Peek()
	if err != nil || !ok || string(p[:2]) != "r4" {
		t.Fatalf("after reopen head = %q %v %v, want r4", p, ok, err)
	}
	if n, _, _ := q.Stats(); n != 2 {
		t.Fatalf("%d pending, want 2", n)
	}
	segs, _ := q.segments()
	if len(segs) > 2 {
		t.Errorf("consumed segments not deleted: %v", segs)
	}
	// Drain and append again: new records must not hide below the ack.
	q.Ack()
	q.Ack()
	q.Append([]byte("r6"), time.Now())
	q.Close()
	q, err = openQueue(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok, _ := q.Peek(); !ok || string(p) != "r6" {
		t.Fatalf("record appended after a full drain lost across reopen: %q %v", p, ok)
	}
}

func TestDualBatchRoundTrip(t *testing.T) {
	var b model.Batch
	tb := b.Table("cpu")
	tb.AppendRow(1, []model.Cell{{Name: "host", Tag: true, Value: model.String("a")}, {Name: "v", Value: model.Float(1.5)}})
	tb.AppendRow(2, []model.Cell{{Name: "host", Tag: true, Value: model.String("b")}, {Name: "v", Value: model.Int(7)}, {Name: "ok", Value: model.Bool(true)}})
	tb.AppendRow(3, []model.Cell{{Name: "u", Value: model.Uint(9)}})
	p, err := encodeBatch("db1", &b)
	if err != nil {
		t.Fatal(err)
	}
	db, got, err := decodeBatch(p)
	if err != nil || db != "db1" {
		t.Fatal(db, err)
	}
	gt := got.Tables[0]
	if gt.Len() != 3 || len(gt.Columns) != len(tb.Columns) {
		t.Fatalf("rebuilt %d rows %d columns", gt.Len(), len(gt.Columns))
	}
	for i, c := range tb.Columns {
		g := gt.Columns[i]
		if g.Name != c.Name || g.Type != c.Type || g.Tag != c.Tag {
			t.Fatalf("column %d: %+v vs %+v", i, g, c)
		}
		for r := range 3 {
			if g.At(r) != c.At(r) {
				t.Errorf("column %s row %d: %v vs %v", c.Name, r, g.At(r), c.At(r))
			}
		}
	}
}

func seqBatch(i int) *model.Batch {
	var b model.Batch
	b.Table("m").AppendRow(int64(1_700_000_000_000_000+i), []model.Cell{
		{Name: "host", Tag: true, Value: model.String(fmt.Sprintf("h%d", i%3))},
		{Name: "seq", Value: model.Int(int64(i))},
	})
	return &b
}

// TestDualQueueFullDiverges: past queue_max_bytes writes still succeed on
// the primary, and the secondary is marked diverged (metric, marker file)
// instead of anything being dropped silently.
func TestDualQueueFullDiverges(t *testing.T) {
	ctx := context.Background()
	prim := duckdb.NewBackend(duckdbtest.Open(t, filepath.Join(t.TempDir(), "tsgate.duckdb")))
	defer prim.Close()
	down := func(context.Context) (dialects.Backend, error) {
		return nil, errs.New(errs.Unavailable, "secondary down")
	}
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	one, _ := encodeBatch("db", seqBatch(0))
	limit := int64(3*(len(one)+recordHeader) + 10) // room for three batches
	dw, err := NewDualWriter(prim, down, dir, limit, WithDualMetrics(reg), WithBackoff(time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer dw.Stop()
	for i := range 20 {
		if _, err := dw.Write(ctx, "db", seqBatch(i)); err != nil {
			t.Fatalf("write %d failed on a full queue: %v", i, err)
		}
	}
	if !dw.Diverged() {
		t.Fatal("queue overflow did not mark the secondary diverged")
	}
	if _, err := os.Stat(filepath.Join(dir, divergedFile)); err != nil {
		t.Fatal("no DIVERGED marker:", err)
	}
	n, b := dw.QueueDepth()
	if n != 3 || b > limit {
		t.Fatalf("queue depth %d batches %d bytes, want 3 and at most %d bytes", n, b, limit)
	}
	if v := gaugeValue(t, dw.m.diverged); v != 1 {
		t.Errorf("tsgate_dualwrite_diverged = %v", v)
	}
	if v := gaugeValue(t, dw.m.dropped); v != float64(20-n) {
		t.Errorf("tsgate_dualwrite_unqueued_total = %v, want %d", v, 20-n)
	}
	rows, err := prim.Query(ctx, "db", "SELECT count(*) FROM m")
	if err != nil {
		t.Fatal(err)
	}
	v := make([]model.Value, 1)
	rows.Next(v)
	rows.Close()
	if v[0].I != 20 {
		t.Fatalf("primary holds %d rows, want 20", v[0].I)
	}
	// A restart remembers the divergence.
	dw.Stop()
	dw2, err := NewDualWriter(prim, down, dir, limit)
	if err != nil {
		t.Fatal(err)
	}
	defer dw2.Stop()
	if !dw2.Diverged() {
		t.Error("divergence forgotten across a restart")
	}
	if errors.Is(err, errQueueFull) {
		t.Fatal("unreachable")
	}
}
