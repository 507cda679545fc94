package replicate

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tsgate/dialects"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/target"
)

// queuedBatch is a queue record's payload: the database and the batch's
// tables column by column (model.Table's index is unexported, so the
// batch is rebuilt row by row on decode, which also restores columns of
// one name with several types).
type queuedBatch struct {
	DB     string
	Tables []queuedTable
}

type queuedTable struct {
	Measurement string
	Time        []int64
	Columns     []model.Column
}

func encodeBatch(db string, b *model.Batch) ([]byte, error) {
	qb := queuedBatch{DB: db, Tables: make([]queuedTable, 0, len(b.Tables))}
	for _, t := range b.Tables {
		qt := queuedTable{Measurement: t.Measurement, Time: t.Time, Columns: make([]model.Column, len(t.Columns))}
		for i, c := range t.Columns {
			qt.Columns[i] = *c
		}
		qb.Tables = append(qb.Tables, qt)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&qb); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeBatch(p []byte) (string, *model.Batch, error) {
	var qb queuedBatch
	if err := gob.NewDecoder(bytes.NewReader(p)).Decode(&qb); err != nil {
		return "", nil, errs.Wrap(errs.Internal, err, "dual-write queue: undecodable record")
	}
	b := &model.Batch{}
	for _, qt := range qb.Tables {
		t := b.Table(qt.Measurement)
		for i := range qt.Columns {
			// gob leaves empty slices nil; Column.At indexes Valid only.
			if len(qt.Columns[i].Valid) != len(qt.Time) {
				return "", nil, errs.New(errs.Internal, "dual-write queue: record with ragged columns")
			}
		}
		cells := make([]model.Cell, 0, len(qt.Columns))
		for r, ts := range qt.Time {
			cells = cells[:0]
			for i := range qt.Columns {
				c := &qt.Columns[i]
				if v := c.At(r); !v.IsNull() {
					cells = append(cells, model.Cell{Name: c.Name, Tag: c.Tag, Value: v})
				}
			}
			if err := t.AppendRow(ts, cells); err != nil {
				return "", nil, errs.Wrap(errs.Internal, err, "dual-write queue: record does not rebuild")
			}
		}
	}
	return qb.DB, b, nil
}

// dualMetrics are created once per Switch: dual-writers come and go with
// reloads, the registered collectors stay.
type dualMetrics struct {
	depth, bytes, lag, diverged prometheus.Gauge
	replayed, errors, dropped   prometheus.Counter
	deadLetters                 prometheus.Counter
}

func newDualMetrics(reg prometheus.Registerer) *dualMetrics {
	m := &dualMetrics{
		depth:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "tsgate_dualwrite_queue_depth", Help: "Batches accepted by the primary and not yet acknowledged by the secondary."}),
		bytes:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "tsgate_dualwrite_queue_bytes", Help: "Bytes of the dual-write queue's unacknowledged records."}),
		lag:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "tsgate_dualwrite_lag_seconds", Help: "Age of the oldest batch waiting for the secondary (0 when none)."}),
		diverged:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "tsgate_dualwrite_diverged", Help: "1 when the secondary misses batches the queue could not hold (see the queue directory's DIVERGED file)."}),
		replayed:    prometheus.NewCounter(prometheus.CounterOpts{Name: "tsgate_dualwrite_replayed_total", Help: "Batches the secondary acknowledged."}),
		errors:      prometheus.NewCounter(prometheus.CounterOpts{Name: "tsgate_dualwrite_errors_total", Help: "Failed attempts to write a queued batch to the secondary, and failed enqueues."}),
		dropped:     prometheus.NewCounter(prometheus.CounterOpts{Name: "tsgate_dualwrite_unqueued_total", Help: "Batches the primary accepted that could not be queued for the secondary (queue full or failing)."}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{Name: "tsgate_dualwrite_dead_letters_total", Help: "Batches the secondary refused for good (invalid for it), moved to the queue's dead-letter directory."}),
	}
	if reg != nil {
		reg.MustRegister(m.depth, m.bytes, m.lag, m.diverged, m.replayed, m.errors, m.dropped, m.deadLetters)
	}
	return m
}

// DualWriter is a Backend that writes to a primary and, through a durable
// on-disk queue, to a secondary. The primary's answer is the client's;
// the secondary is fed by a worker, in order, retried with bounded
// exponential backoff, and a queued batch is removed only once the
// secondary acknowledged it. Reads, schema and catalog are the primary's.
// It works over any two backends, which is how its tests drive it; the
// gateway reaches the Switch's through Switch.DualWriter.
type DualWriter struct {
	primary dialects.Backend
	open    func(context.Context) (dialects.Backend, error)
	release func()
	dir     string
	log     *slog.Logger
	m       *dualMetrics
	q       *queue
	dead    *queue
	minWait time.Duration
	maxWait time.Duration
	timeout time.Duration

	wake chan struct{}
	stop chan struct{}
	done chan struct{}

	secMu     sync.Mutex
	secondary dialects.Backend
	diverged  atomic.Bool
	closeOnce sync.Once
}

var _ dialects.Backend = (*DualWriter)(nil)

// DualOption configures a DualWriter.
type DualOption func(*DualWriter)

// withDualLogger sets the logger.
func withDualLogger(l *slog.Logger) DualOption { return func(d *DualWriter) { d.log = l } }

// WithDualMetrics registers the tsgate_dualwrite_* metrics on reg.
func WithDualMetrics(reg prometheus.Registerer) DualOption {
	return func(d *DualWriter) { d.m = newDualMetrics(reg) }
}

func withDualMetrics(m *dualMetrics) DualOption { return func(d *DualWriter) { d.m = m } }

// WithBackoff bounds the retry delay after a failed secondary write.
func WithBackoff(min, max time.Duration) DualOption {
	return func(d *DualWriter) { d.minWait, d.maxWait = min, max }
}

// withSecondaryRelease is called once the DualWriter no longer uses a
// secondary it opened (the gateway's backends are shared and counted).
func withSecondaryRelease(f func()) DualOption { return func(d *DualWriter) { d.release = f } }

// divergedFile marks a queue whose secondary missed batches; it survives
// restarts until an operator has repaired the gap (a backfill of the
// time range, see docs/migration.md) and deletes it.
const divergedFile = "DIVERGED"

// NewDualWriter opens (or resumes) the queue in dir and starts the replay
// worker. open connects to the secondary; it is called by the worker and
// retried, so a secondary that is down at start delays nothing. maxBytes
// bounds the queue on disk (0: unbounded).
func NewDualWriter(primary dialects.Backend, open func(context.Context) (dialects.Backend, error), dir string, maxBytes int64, opts ...DualOption) (*DualWriter, error) {
	d := &DualWriter{
		primary: primary, open: open, dir: dir,
		log: slog.New(slog.DiscardHandler), minWait: 100 * time.Millisecond, maxWait: 30 * time.Second, timeout: 30 * time.Second,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	for _, o := range opts {
		o(d)
	}
	if d.m == nil {
		d.m = newDualMetrics(nil)
	}
	var err error
	if d.q, err = openQueue(dir, maxBytes); err != nil {
		return nil, err
	}
	if d.q.recovered > 0 {
		d.log.Warn("dual-write queue: discarded a torn record at the end of the queue (an append interrupted by a crash, never acknowledged to anyone)",
			"dir", dir, "bytes", d.q.recovered)
	}
	if d.dead, err = openQueue(filepath.Join(dir, "dead"), 0); err != nil {
		d.q.Close()
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, divergedFile)); err == nil {
		d.diverged.Store(true)
		d.log.Error("dual-write: the secondary is marked diverged (it missed batches); repair it and delete the marker", "marker", filepath.Join(dir, divergedFile))
	}
	d.updateGauges()
	go d.run()
	return d, nil
}

func (d *DualWriter) Name() string                    { return d.primary.Name() }
func (d *DualWriter) Generator() target.Generator     { return d.primary.Generator() }
func (d *DualWriter) Schema(db string) target.Schema  { return d.primary.Schema(db) }
func (d *DualWriter) Ready(ctx context.Context) error { return d.primary.Ready(ctx) }
func (d *DualWriter) Databases(ctx context.Context) ([]string, error) {
	return d.primary.Databases(ctx)
}
func (d *DualWriter) Measurements(ctx context.Context, db string) ([]string, error) {
	return d.primary.Measurements(ctx, db)
}
func (d *DualWriter) Query(ctx context.Context, db, text string) (model.Rows, error) {
	return d.primary.Query(ctx, db, text)
}

// Write writes to the primary and, once it accepted rows, queues the
// batch for the secondary before answering: a write the client saw
// succeed is on disk for the secondary. Queueing failures never fail the
// write; they mark the secondary diverged.
func (d *DualWriter) Write(ctx context.Context, db string, b *model.Batch) (model.WriteResult, error) {
	wr, err := d.primary.Write(ctx, db, b)
	if err != nil || wr.Rows == 0 {
		return wr, err
	}
	if qerr := d.enqueue(db, b); qerr != nil {
		d.m.errors.Inc()
		d.m.dropped.Inc()
		d.markDiverged(qerr)
	}
	return wr, nil
}

func (d *DualWriter) enqueue(db string, b *model.Batch) error {
	p, err := encodeBatch(db, b)
	if err != nil {
		return err
	}
	if err := d.q.Append(p, time.Now()); err != nil {
		return err
	}
	d.updateGauges()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return nil
}

func (d *DualWriter) markDiverged(cause error) {
	first := !d.diverged.Swap(true)
	d.m.diverged.Set(1)
	if first {
		msg := fmt.Sprintf("diverged at %s: %v\n", time.Now().UTC().Format(time.RFC3339Nano), cause)
		if err := os.WriteFile(filepath.Join(d.dir, divergedFile), []byte(msg), 0o600); err != nil {
			d.log.Error("dual-write: cannot write the diverged marker", "err", err)
		}
	}
	// Error once; every further batch is counted in
	// tsgate_dualwrite_unqueued_total rather than flooding the log.
	lvl := slog.LevelDebug
	if first {
		lvl = slog.LevelError
	}
	d.log.Log(context.Background(), lvl, "dual-write: a batch the primary accepted could not be queued for the secondary; the secondary is now diverged (missing data) and needs a backfill of the gap",
		"err", cause, "queue", d.dir)
}

// Diverged reports whether the secondary missed batches.
func (d *DualWriter) Diverged() bool { return d.diverged.Load() }

// QueueDepth is the number of batches and bytes waiting for the secondary.
func (d *DualWriter) QueueDepth() (int, int64) {
	n, b, _ := d.q.Stats()
	return n, b
}

func (d *DualWriter) updateGauges() {
	n, b, oldest := d.q.Stats()
	d.m.depth.Set(float64(n))
	d.m.bytes.Set(float64(b))
	if n == 0 {
		d.m.lag.Set(0)
	} else {
		d.m.lag.Set(time.Since(oldest).Seconds())
	}
	if d.diverged.Load() {
		d.m.diverged.Set(1)
	} else {
		d.m.diverged.Set(0)
	}
}

// secondaryBackend is the open secondary, opening it if needed (the
// replay worker and shadow reads use it).
func (d *DualWriter) secondaryBackend(ctx context.Context) (dialects.Backend, error) {
	d.secMu.Lock()
	defer d.secMu.Unlock()
	if d.secondary != nil {
		return d.secondary, nil
	}
	s, err := d.open(ctx)
	if err != nil {
		return nil, err
	}
	d.secondary = s
	return s, nil
}

// permanent says a secondary's refusal will not change on retry: the
// batch itself is invalid for it.
func permanent(err error) bool {
	switch errs.CodeOf(err) {
	case errs.Invalid, errs.Unsupported, errs.TooLarge, errs.PermissionDenied:
		return true
	}
	return false
}

func (d *DualWriter) run() {
	defer close(d.done)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-d.stop:
		case <-d.done:
		}
		cancel()
	}()
	wait := d.minWait
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		d.updateGauges()
		p, ok, err := d.q.Peek()
		if err == nil && !ok {
			select {
			case <-d.stop:
				return
			case <-d.wake:
			case <-tick.C: // keeps the lag gauge moving
			}
			continue
		}
		if err == nil {
			err = d.replay(ctx, p)
		}
		if err == nil {
			wait = d.minWait
			continue
		}
		if ctx.Err() != nil {
			return
		}
		d.m.errors.Inc()
		d.log.Warn("dual-write: secondary write failed; retrying", "err", err, "retry_in", wait)
		timer := time.NewTimer(wait)
		for waiting := true; waiting; {
			select {
			case <-d.stop:
				timer.Stop()
				return
			case <-timer.C:
				waiting = false
			case <-tick.C: // the lag grows while the secondary is down
				d.updateGauges()
			}
		}
		wait = min(2*wait, d.maxWait)
	}
}

// replay writes the oldest queued batch to the secondary and acks it.
func (d *DualWriter) replay(ctx context.Context, p []byte) error {
	db, b, err := decodeBatch(p)
	if err != nil {
		return d.deadLetter(p, err)
	}
	sec, err := d.secondaryBackend(ctx)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, d.timeout)
	wr, err := sec.Write(wctx, db, b)
	cancel()
	if err != nil {
		if permanent(err) {
			return d.deadLetter(p, err)
		}
		return err
	}
	if wr.Rejected > 0 {
		// The primary kept these rows' siblings; the secondary's own
		// schema rejected them. Retrying cannot change that, and the
		// rest of the batch is stored: log, do not block the queue.
		d.log.Warn("dual-write: the secondary rejected rows the primary may have kept", "rows", wr.Rejected, "conflicts", errors.Join(wr.Conflicts...))
	}
	if err := d.q.Ack(); err != nil {
		return err
	}
	d.m.replayed.Inc()
	return nil
}

// deadLetter moves a batch the secondary will never take out of the way,
// on disk in the same format, counted and logged: never dropped silently.
func (d *DualWriter) deadLetter(p []byte, cause error) error {
	if err := d.dead.Append(p, time.Now()); err != nil {
		return err
	}
	d.m.deadLetters.Inc()
	d.markDiverged(fmt.Errorf("secondary refused a batch for good (kept in %s): %w", filepath.Join(d.dir, "dead"), cause))
	return d.q.Ack()
}

// WaitEmpty blocks until the queue is empty or ctx ends.
func (d *DualWriter) WaitEmpty(ctx context.Context) error {
	for {
		if n, _ := d.QueueDepth(); n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			n, _ := d.QueueDepth()
			return errs.Wrap(errs.Timeout, ctx.Err(), fmt.Sprintf("dual-write queue still holds %d batches for the secondary", n))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Stop ends the worker and closes the queue (its records stay on disk);
// the primary and secondary stay open. Safe to call twice.
func (d *DualWriter) Stop() error {
	var err error
	d.closeOnce.Do(func() {
		close(d.stop)
		<-d.done
		d.updateGauges()
		err = errors.Join(d.q.Close(), d.dead.Close())
	})
	return err
}

// closeSecondary hands the secondary back: to its release function
// (withSecondaryRelease) when one was given, else by closing it.
func (d *DualWriter) closeSecondary() error {
	d.secMu.Lock()
	defer d.secMu.Unlock()
	sec := d.secondary
	d.secondary = nil
	switch {
	case sec == nil:
		return nil
	case d.release != nil:
		d.release()
		return nil
	}
	return sec.Close()
}

// Close stops the DualWriter and closes the secondary and the primary.
func (d *DualWriter) Close() error {
	return errors.Join(d.Stop(), d.closeSecondary(), d.primary.Close())
}
