package replicate

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"tsgate/internal/testenv"

	"tsgate/dialects"
	"tsgate/dialects/registry"
	"tsgate/errs"
	"tsgate/model"
)

// guardBackend is the backend a WriteGuard consults: only Name and the
// optional capability are used.
type guardBackend struct {
	dialects.Backend
	name string
}

func (f guardBackend) Name() string { return f.name }

type idempotentBackend struct{ guardBackend }

func (idempotentBackend) IdempotentWrites() bool { return true }

func rowsBatch(n int) *model.Batch {
	var b model.Batch
	t := b.Table("m")
	for i := range n {
		t.AppendRow(int64(i), []model.Cell{{Name: "v", Value: model.Float(1)}})
	}
	return &b
}

func testGuard(rows int64, retries int) *WriteGuard {
	g := NewWriteGuard(WriteLimits{BufferRows: rows, BufferWait: 50 * time.Millisecond, Retries: retries, RetryMaxWait: 4 * time.Millisecond}, nil)
	g.firstTry = time.Millisecond
	return g
}

// refused is what a backend's transport error looks like when the
// connection was never established.
func refused() error {
	return &errs.Error{Code: errs.Unavailable, Msg: "fake is unavailable: dial tcp 127.0.0.1:1: connect: connection refused",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
}

func TestWriteGuardBufferFull(t *testing.T) {
	g := testGuard(10, 3)
	be := guardBackend{name: "fake"}
	release := make(chan struct{})
	entered := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := g.Write(context.Background(), be, rowsBatch(8), func(context.Context) (model.WriteResult, error) {
			close(entered)
			<-release
			return model.WriteResult{Rows: 8}, nil
		})
		if err != nil {
			t.Error(err)
		}
	}()
	<-entered
	if v := gaugeValue(t, g.m.inflight); v != 8 {
		t.Errorf("in-flight rows = %v, want 8", v)
	}
	called := false
	start := time.Now()
	_, err := g.Write(context.Background(), be, rowsBatch(5), func(context.Context) (model.WriteResult, error) {
		called = true
		return model.WriteResult{}, nil
	})
	waited := time.Since(start)
	e := errs.As(err)
	if err == nil || e.Code != errs.Unavailable || e.Code.HTTPStatus() != 503 {
		t.Fatalf("write into a full buffer: %v, want a 503", err)
	}
	for _, want := range []string{"fake", "write buffer full", "8 rows in flight", "limit 10", "nothing was stored"} {
		if !strings.Contains(e.Msg, want) {
			t.Errorf("message %q does not say %q", e.Msg, want)
		}
	}
	if called {
		t.Error("a refused write reached the backend")
	}
	if waited < 50*time.Millisecond || waited > time.Second {
		t.Errorf("refused after %v, want about the 50ms buffer wait", waited)
	}
	if v := gaugeValue(t, g.m.full.WithLabelValues("fake")); v != 1 {
		t.Errorf("buffer-full total = %v, want 1", v)
	}
	// Room comes back while a write waits: it goes through.
	done := make(chan error, 1)
	go func() {
		_, err := g.Write(context.Background(), be, rowsBatch(5), func(context.Context) (model.WriteResult, error) {
			return model.WriteResult{Rows: 5}, nil
		})
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("write that waited for room: %v", err)
	}
	wg.Wait()
	if v := gaugeValue(t, g.m.inflight); v != 0 {
		t.Errorf("in-flight rows after all writes = %v, want 0", v)
	}
}

func TestWriteGuardOversizeBatchGoesAlone(t *testing.T) {
	g := testGuard(10, 0)
	g.bufWait = 5 * time.Second
	be := guardBackend{name: "fake"}
	var inflight, peak atomic.Int64
	write := func(n int64) func(context.Context) (model.WriteResult, error) {
		return func(context.Context) (model.WriteResult, error) {
			cur := inflight.Add(n)
			for {
				p := peak.Load()
				if cur <= p || peak.CompareAndSwap(p, cur) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			inflight.Add(-n)
			return model.WriteResult{Rows: int(n)}, nil
		}
	}
	var wg sync.WaitGroup
	for i := range 8 {
		n := int64(3)
		if i == 4 {
			n = 100 // larger than the buffer: admitted alone
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := g.Write(context.Background(), be, rowsBatch(int(n)), write(n)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > 100 || (p > 10 && p != 100) {
		t.Errorf("peak rows in flight %d: the big batch shared the buffer", p)
	}
	if used, _ := g.buf.stats(); used != 0 {
		t.Errorf("buffer holds %d rows after every write", used)
	}
}

func TestWriteGuardRetries(t *testing.T) {
	transient := func() error { return dialects.NotStored(refused()) }
	cases := []struct {
		name     string
		backend  dialects.Backend
		fail     func() error // the error of each failing attempt
		failures int          // attempts that fail before one succeeds
		retries  int
		attempts int
		ok       bool
		wantMsg  []string
	}{
		{"not stored, recovers", guardBackend{name: "fake"}, transient, 2, 3, 3, true, nil},
		{"not stored, bound reached", guardBackend{name: "fake"}, transient, 100, 2, 3, false,
			[]string{"fake backend unavailable for writes (3 attempts)", "connection refused", "nothing was stored"}},
		{"retries disabled", guardBackend{name: "fake"}, transient, 100, 0, 1, false,
			[]string{"fake backend unavailable for writes (1 attempt)"}},
		{"idempotent backend, unmarked error", idempotentBackend{guardBackend{name: "influxql"}},
			func() error {
				return errs.New(errs.Unavailable, "influxdb is unavailable: read: connection reset by peer")
			}, 100, 3, 4, false,
			[]string{"influxql backend unavailable for writes (4 attempts)", "sending it again is safe"}},
		{"ambiguous failure is not retried", guardBackend{name: "clickhouse"},
			func() error {
				return errs.New(errs.Unavailable, "clickhouse is unavailable: read: connection reset by peer")
			}, 100, 3, 1, false,
			[]string{"clickhouse backend unavailable for writes (1 attempt): clickhouse is unavailable: read: connection reset by peer",
				"may have been stored", "may store rows twice"}},
		{"a dial error alone does not prove nothing was stored", guardBackend{name: "clickhouse"}, refused, 100, 3, 1, false, nil},
		{"engine errors are not retried", idempotentBackend{guardBackend{name: "influxql"}},
			func() error { return dialects.NotStored(errs.New(errs.Engine, "influxdb: field type conflict")) }, 100, 3, 1, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := testGuard(100, c.retries)
			attempts := 0
			_, err := g.Write(context.Background(), c.backend, rowsBatch(3), func(context.Context) (model.WriteResult, error) {
				attempts++
				if attempts <= c.failures {
					return model.WriteResult{}, c.fail()
				}
				return model.WriteResult{Rows: 3}, nil
			})
			if attempts != c.attempts {
				t.Errorf("%d attempts, want %d", attempts, c.attempts)
			}
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok=%v", err, c.ok)
			}
			if v := gaugeValue(t, g.m.retries.WithLabelValues(c.backend.Name())); v != float64(c.attempts-1) {
				t.Errorf("retries total = %v, want %d", v, c.attempts-1)
			}
			if err == nil {
				return
			}
			if errs.CodeOf(err).HTTPStatus() != 503 && errs.CodeOf(err) != errs.Engine {
				t.Errorf("final error %v (%s), want a 503", err, errs.CodeOf(err))
			}
			for _, want := range c.wantMsg {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q does not say %q", err.Error(), want)
				}
			}
		})
	}
}

// Retries stop at the request's deadline, not after it.
func TestWriteGuardRetriesStopAtDeadline(t *testing.T) {
	g := testGuard(100, 50)
	g.firstTry, g.maxWait = 20*time.Millisecond, 20*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	attempts := 0
	_, err := g.Write(ctx, guardBackend{name: "fake"}, rowsBatch(1), func(context.Context) (model.WriteResult, error) {
		attempts++
		return model.WriteResult{}, dialects.NotStored(refused())
	})
	if errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("err = %v, want Unavailable", err)
	}
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Errorf("gave up after %v, past the 100ms deadline", el)
	}
	if attempts < 2 || attempts > 6 {
		t.Errorf("%d attempts in 100ms with 20ms backoff", attempts)
	}
}

func TestWriteGuardCanceledWhileWaiting(t *testing.T) {
	g := testGuard(1, 0)
	g.bufWait = 5 * time.Second
	be := guardBackend{name: "fake"}
	hold := make(chan struct{})
	go g.Write(context.Background(), be, rowsBatch(1), func(context.Context) (model.WriteResult, error) {
		<-hold
		return model.WriteResult{}, nil
	})
	for used, _ := g.buf.stats(); used == 0; used, _ = g.buf.stats() {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	_, err := g.Write(ctx, be, rowsBatch(1), func(context.Context) (model.WriteResult, error) {
		t.Error("a canceled write reached the backend")
		return model.WriteResult{}, nil
	})
	if errs.CodeOf(err) != errs.Canceled {
		t.Fatalf("err = %v, want Canceled", err)
	}
	close(hold)
	for used, _ := g.buf.stats(); used != 0; used, _ = g.buf.stats() {
		time.Sleep(time.Millisecond)
	}
	if g.buf.waiters.Len() != 0 {
		t.Error("the canceled waiter is still queued")
	}
}

func TestNotStoredKeepsTheCode(t *testing.T) {
	err := dialects.NotStored(refused())
	if errs.CodeOf(err) != errs.Unavailable || !dialects.NeverConnected(err) {
		t.Fatalf("marked error lost its code or cause: %v", err)
	}
	var ns *dialects.NotStoredError
	if !errors.As(err, &ns) || dialects.NotStored(nil) != nil {
		t.Fatal("NotStored marker")
	}
}

// Every remote backend, down: its Write fails Unavailable, marked as
// having stored nothing, so the guard may retry it.
func TestBackendsDownWritesAreRetrySafe(t *testing.T) {
	addr := testenv.FreeAddr(t)
	for _, u := range []string{
		"influxql://" + addr + "/db",
		"flux://" + addr + "/db",
		"postgres://u:p@" + addr + "/db?connect_timeout=2",
		"timescaledb://u:p@" + addr + "/db?connect_timeout=2",
		"clickhouse://" + addr + "/db",
		"arc://" + addr + "/db?token=x",
	} {
		scheme, _, _ := strings.Cut(u, ":")
		t.Run(scheme, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			b, err := registry.Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			_, err = b.Write(ctx, "db", rowsBatch(2))
			if errs.CodeOf(err) != errs.Unavailable {
				t.Fatalf("write to a down %s: %v (%s), want Unavailable", scheme, err, errs.CodeOf(err))
			}
			var ns *dialects.NotStoredError
			if !errors.As(err, &ns) || !dialects.WriteRetrySafe(b, err) {
				t.Errorf("write to a down %s is not marked as having stored nothing: %v", scheme, err)
			}
			_, idem := b.(dialects.IdempotentWriter)
			if want := scheme == "influxql" || scheme == "flux"; idem != want {
				t.Errorf("%s: IdempotentWrites implemented = %v, want %v", scheme, idem, want)
			}
		})
	}
}

// BenchmarkWriteGuard is the guard's own cost on a write that succeeds
// at once (buffer admission, release, gauge).
func BenchmarkWriteGuard(b *testing.B) {
	g := testGuard(1_000_000, 3)
	be := guardBackend{name: "fake"}
	batch := rowsBatch(100)
	write := func(context.Context) (model.WriteResult, error) { return model.WriteResult{Rows: 100}, nil }
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := g.Write(context.Background(), be, batch, write); err != nil {
				b.Fatal(err)
			}
		}
	})
}
