package replicate

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tsgate/dialects"
	"tsgate/errs"
	"tsgate/model"
)

// firstRetryWait is the backoff before a write's first retry; it doubles
// up to WriteLimits.RetryMaxWait.
const firstRetryWait = 100 * time.Millisecond

// writeGuardMetrics are registered once per WriteGuard, which the gateway
// creates once: the collectors outlive reloads.
type writeGuardMetrics struct {
	inflight prometheus.Gauge
	capacity prometheus.Gauge
	retries  *prometheus.CounterVec
	full     *prometheus.CounterVec
}

func newWriteGuardMetrics(reg prometheus.Registerer) *writeGuardMetrics {
	m := &writeGuardMetrics{
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tsgate_backend_write_buffer_rows",
			Help: "Rows of writes in flight to a remote backend (admitted to the write buffer and not yet answered)."}),
		capacity: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tsgate_backend_write_buffer_capacity_rows",
			Help: "The write buffer's size in rows (backend.write_buffer_rows): tsgate_backend_write_buffer_rows over it is how full it is."}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsgate_backend_write_retries_total",
			Help: "Writes sent to the backend again after it was unavailable (only where a retry cannot store a row twice)."}, []string{"backend"}),
		full: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsgate_backend_write_buffer_full_total",
			Help: "Writes answered 503 because the write buffer stayed full (nothing was sent or stored)."}, []string{"backend"}),
	}
	if reg != nil {
		reg.MustRegister(m.inflight, m.capacity, m.retries, m.full)
	}
	return m
}

// WriteLimits bound a WriteGuard; the gateway fills them from its
// backend.write_* settings (defaults applied there, where they are
// documented).
type WriteLimits struct {
	// BufferRows bounds the rows of writes in flight.
	BufferRows int64
	// BufferWait is how long a write waits for room before it is refused.
	BufferWait time.Duration
	// Retries bounds the further attempts of a write whose backend was
	// unavailable; 0 disables retries.
	Retries int
	// RetryMaxWait caps the backoff between attempts.
	RetryMaxWait time.Duration
}

// WriteGuard sits between the front ends and a remote backend's Write.
// It bounds the rows in flight (the buffer: a write waits at most
// bufWait for room, else it is refused with 503 and nothing is sent) and
// retries a write that failed with the backend unavailable, with
// exponential backoff, at most retries times and never past the
// request's deadline, and only where dialects.WriteRetrySafe says the
// retry cannot store a row twice. Every write is answered: stored (204),
// or an error that says what happened; none is dropped or queued beyond
// the request that carries it. It is exported because the gateway shares
// one between the Switch and memtrace's per-organization backends, so
// both count against one buffer.
type WriteGuard struct {
	buf      *rowBuffer
	bufWait  time.Duration
	retries  int
	maxWait  time.Duration
	m        *writeGuardMetrics
	firstTry time.Duration
}

// NewWriteGuard registers the tsgate_backend_write_* metrics on reg (nil:
// unregistered) and bounds writes by l.
func NewWriteGuard(l WriteLimits, reg prometheus.Registerer) *WriteGuard {
	m := newWriteGuardMetrics(reg)
	m.capacity.Set(float64(l.BufferRows))
	return &WriteGuard{
		buf:      newRowBuffer(l.BufferRows, m.inflight),
		bufWait:  l.BufferWait,
		retries:  l.Retries,
		maxWait:  l.RetryMaxWait,
		m:        m,
		firstTry: firstRetryWait,
	}
}

// observe makes backend's series exist at zero, so a dashboard shows no
// retries rather than no data.
func (g *WriteGuard) observe(backend string) {
	g.m.retries.WithLabelValues(backend)
	g.m.full.WithLabelValues(backend)
}

// Write admits b's rows to the buffer, runs write (backend's Write,
// possibly through a dual-writer) and retries it as described above.
// backend is the backend the rows go to: its name labels metrics and
// errors, its capabilities decide retries.
func (g *WriteGuard) Write(ctx context.Context, backend dialects.Backend, b *model.Batch,
	write func(context.Context) (model.WriteResult, error)) (model.WriteResult, error) {
	name := backend.Name()
	n, err := g.buf.acquire(ctx, int64(b.Rows()), g.bufWait)
	if err != nil {
		if ctx.Err() != nil {
			return model.WriteResult{}, errs.Wrap(errs.Canceled, ctx.Err(), "write canceled while waiting for room in the write buffer; nothing was stored")
		}
		g.m.full.WithLabelValues(name).Inc()
		used, capacity := g.buf.stats()
		return model.WriteResult{}, errs.Newf(errs.Unavailable,
			"%s: write buffer full (%d rows in flight to the backend, limit %d; waited %v); nothing was stored, retry later",
			name, used, capacity, g.bufWait)
	}
	defer g.buf.release(n)
	wait := min(g.firstTry, g.maxWait)
	// nothingStored: every attempt so far failed storing nothing.
	nothingStored := true
	for attempt := 1; ; attempt++ {
		res, err := write(ctx)
		if err == nil || errs.CodeOf(err) != errs.Unavailable {
			// The backend's own answer. After earlier attempts it is still
			// the whole truth: those stored nothing, or the backend is
			// idempotent and sending the batch again stays safe.
			return res, err
		}
		if !dialects.WriteRetrySafe(backend, err) {
			// Lost mid-way on a backend that keeps duplicates: the rows
			// may be stored, and the client must know before resending.
			return res, &errs.Error{Code: errs.Unavailable, Err: err,
				Msg: fmt.Sprintf("%s backend unavailable for writes (%d attempt%s): %s; the batch may have been stored in part or in full, and sending it again may store rows twice",
					name, attempt, plural(attempt), errs.As(err).Msg)}
		}
		var ns *dialects.NotStoredError
		nothingStored = nothingStored && errors.As(err, &ns)
		// Retrying is safe and may help; stop at the bound, at the
		// request's deadline and when the client is gone.
		stop := attempt > g.retries
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
			stop = true
		}
		if !stop {
			g.m.retries.WithLabelValues(name).Inc()
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				stop = true
			case <-t.C:
			}
		}
		if stop {
			return model.WriteResult{}, gaveUp(name, attempt, err, nothingStored)
		}
		wait = min(2*wait, g.maxWait)
	}
}

// gaveUp is the 503 of a write retried until its bound: it names the
// backend and says what a client may do with the batch. nothingStored:
// every attempt failed before storing a row.
func gaveUp(name string, attempts int, err error, nothingStored bool) error {
	stored := "nothing was stored"
	if !nothingStored {
		// Only an idempotent backend is retried after a failure that may
		// have stored rows: writing the batch again stores them once.
		stored = "part of the batch may be stored; sending it again is safe"
	}
	return &errs.Error{Code: errs.Unavailable, Err: err,
		Msg: fmt.Sprintf("%s backend unavailable for writes (%d attempt%s): %s; %s", name, attempts, plural(attempts), errs.As(err).Msg, stored)}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// rowBuffer is a FIFO counting semaphore of rows: the bounded in-flight
// write buffer. A batch larger than the whole buffer takes all of it.
type rowBuffer struct {
	mu       sync.Mutex
	capacity int64
	used     int64
	waiters  list.List // of *rowWaiter, oldest first
	gauge    prometheus.Gauge
}

type rowWaiter struct {
	n     int64
	ready chan struct{}
}

func newRowBuffer(capacity int64, gauge prometheus.Gauge) *rowBuffer {
	return &rowBuffer{capacity: capacity, gauge: gauge}
}

func (r *rowBuffer) stats() (used, capacity int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.used, r.capacity
}

// acquire takes n rows of room, waiting at most wait (and not past ctx),
// and returns what it took (n, or the capacity for a larger batch).
func (r *rowBuffer) acquire(ctx context.Context, n int64, wait time.Duration) (int64, error) {
	n = max(min(n, r.capacity), 1)
	r.mu.Lock()
	if r.waiters.Len() == 0 && r.used+n <= r.capacity {
		r.take(n)
		r.mu.Unlock()
		return n, nil
	}
	w := &rowWaiter{n: n, ready: make(chan struct{})}
	el := r.waiters.PushBack(w)
	r.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	var cause error
	select {
	case <-w.ready:
		return n, nil
	case <-t.C:
		cause = context.DeadlineExceeded
	case <-ctx.Done():
		cause = ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-w.ready:
		// Granted while timing out: keep it.
		return n, nil
	default:
	}
	front := r.waiters.Front() == el
	r.waiters.Remove(el)
	if front {
		// A big waiter at the head may have held back smaller ones.
		r.grant()
	}
	return 0, cause
}

func (r *rowBuffer) release(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.take(-n)
	r.grant()
}

// take adjusts the rows in use; r.mu is held.
func (r *rowBuffer) take(n int64) {
	r.used += n
	if r.gauge != nil {
		r.gauge.Set(float64(r.used))
	}
}

// grant admits waiters in order while the oldest fits; r.mu is held.
func (r *rowBuffer) grant() {
	for {
		el := r.waiters.Front()
		if el == nil {
			return
		}
		w := el.Value.(*rowWaiter)
		if r.used+w.n > r.capacity {
			return
		}
		r.take(w.n)
		r.waiters.Remove(el)
		close(w.ready)
	}
}
