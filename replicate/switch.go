package replicate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/prometheus/client_golang/prometheus"

	"tsgate/dialects"
	"tsgate/dialects/duckdb"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/query"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// EmbeddedPrefix names the embedded store in a data directory wherever a
// backend spec is expected (migration.primary/secondary, tsgate migrate).
// Exported because the gateway resolves such specs to absolute ones and
// opens them; here it only keeps redact from parsing one as a URL.
const EmbeddedPrefix = "embedded:"

// Plan is what a Switch serves: normalized backend specs (one backend,
// one spec: the gateway resolves embedded:DIR to an absolute directory)
// and the migration's knobs. Two equal Plans are the same configuration,
// which a reload leaves alone.
type Plan struct {
	// Primary answers every client. Secondary, when not empty, is
	// dual-written and shadow-read.
	Primary, Secondary string
	// QueueDir holds the dual-write queues, one per secondary.
	QueueDir string
	// QueueMaxBytes bounds a queue on disk (0: unbounded).
	QueueMaxBytes int64
	// ShadowFraction (0..1) of Arc SQL queries also run on the secondary.
	ShadowFraction float64
	// ShadowTimeout bounds a shadow query, and opening the secondary for
	// one.
	ShadowTimeout time.Duration
	// DrainTimeout bounds how long a reload that makes the secondary the
	// primary waits for its queue to empty.
	DrainTimeout time.Duration
}

// redact is a spec fit for logs: no credentials, no query parameters.
func redact(spec string) string {
	if strings.HasPrefix(spec, EmbeddedPrefix) {
		return spec
	}
	u, err := url.Parse(spec)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

// queueDirFor is the secondary's own queue: batches it has not taken yet
// stay there across reloads and restarts until it is configured again.
func queueDirFor(root, secondary string) string {
	h := sha256.Sum256([]byte(secondary))
	return filepath.Join(root, hex.EncodeToString(h[:8]))
}

// sharedBackend is one open backend with its users counted: a reload may
// keep it (primary unchanged) or hand it from secondary to primary.
type sharedBackend struct {
	b        dialects.Backend
	identity bool
	refs     int
	pinned   bool
}

// backendPool opens each spec once and closes it when its last user is
// gone (the embedded store is opened by one process handle only).
type backendPool struct {
	mu   sync.Mutex
	open map[string]*sharedBackend
	// opener is Options.Open.
	opener func(ctx context.Context, spec string) (dialects.Backend, bool, error)
}

func (p *backendPool) acquire(ctx context.Context, spec string) (dialects.Backend, bool, func(), error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sb, ok := p.open[spec]
	if !ok {
		b, identity, err := p.opener(ctx, spec)
		if err != nil {
			return nil, false, nil, err
		}
		sb = &sharedBackend{b: b, identity: identity}
		p.open[spec] = sb
	}
	sb.refs++
	var once sync.Once
	return sb.b, sb.identity, func() { once.Do(func() { p.release(spec) }) }, nil
}

func (p *backendPool) release(spec string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sb := p.open[spec]
	if sb == nil {
		return
	}
	sb.refs--
	if sb.refs <= 0 && !sb.pinned {
		delete(p.open, spec)
		sb.b.Close()
	}
}

func (p *backendPool) closeAll() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var es []error
	for spec, sb := range p.open {
		es = append(es, sb.b.Close())
		delete(p.open, spec)
	}
	return errors.Join(es...)
}

// migState is one configuration's backends: what the gateway serves from
// between two reloads.
type migState struct {
	// gen numbers the states a Switch went through: schema versions
	// are mixed with it (see Switch.Schema).
	gen      uint64
	plan     Plan
	primary  dialects.Backend
	identity bool
	// pipeline are the options every pipeline over this state's
	// backends is built with.
	pipeline []query.Option
	// writer is the DualWriter when a secondary is configured, else the
	// primary.
	writer       dialects.Backend
	dw           *DualWriter
	pipe         *query.Pipeline
	shadow       *Shadow
	secPipe      atomic.Pointer[query.Pipeline]
	relPrimary   func()
	relSecondary atomic.Pointer[func()]

	// inflight counts calls (and open result streams) using this state;
	// retired is set once a reload replaced it, and drained closes when
	// both say it is unused.
	inflight    atomic.Int64
	retired     atomic.Bool
	drained     chan struct{}
	drainedOnce sync.Once
}

func (st *migState) enter() bool {
	st.inflight.Add(1)
	if st.retired.Load() {
		st.leave()
		return false
	}
	return true
}

func (st *migState) leave() {
	if st.inflight.Add(-1) == 0 && st.retired.Load() {
		st.drainedOnce.Do(func() { close(st.drained) })
	}
}

func (st *migState) retire() {
	st.retired.Store(true)
	if st.inflight.Load() == 0 {
		st.drainedOnce.Do(func() { close(st.drained) })
	}
	<-st.drained
	if st.dw != nil {
		st.dw.closeSecondary()
	}
	st.relPrimary()
}

// secondaryPipeline is the shadow reads' pipeline over the dual-writer's
// secondary (opening it if the worker has not yet); nil when it cannot be
// opened, which the shadow counts as an error.
func (st *migState) secondaryPipeline() *query.Pipeline {
	if p := st.secPipe.Load(); p != nil {
		return p
	}
	ctx, cancel := context.WithTimeout(context.Background(), st.plan.ShadowTimeout)
	defer cancel()
	sec, err := st.dw.secondaryBackend(ctx)
	if err != nil {
		return nil
	}
	p := query.New(sec, st.pipeline...)
	st.secPipe.CompareAndSwap(nil, p)
	return st.secPipe.Load()
}

// Switch is the gateway's backend: the current migState behind an
// atomic pointer, swapped by Reload without a restart. Every front end
// goes through it.
type Switch struct {
	cur  atomic.Pointer[migState]
	gens atomic.Uint64
	pool *backendPool
	log  *slog.Logger
	dm   *dualMetrics
	sm   *shadowMetrics
	// guard bounds and retries writes to a remote primary.
	guard *WriteGuard
	// pipeline are every pipeline's options (the SQL guard, the local
	// engine for split plans).
	pipeline []query.Option
	// writes pauses writes while a reload hands the secondary's role
	// over, so no write lands on a state being stopped.
	writes   sync.RWMutex
	reloadMu sync.Mutex
	retiring sync.WaitGroup
	closed   bool
}

var _ dialects.Backend = (*Switch)(nil)

// Options are what a Switch needs from the gateway besides its Plan.
type Options struct {
	// Open opens a backend spec of a Plan; identity reports a backend
	// that runs Arc SQL as written (the embedded store). Each spec is
	// opened once and closed when no state uses it any more.
	Open func(ctx context.Context, spec string) (b dialects.Backend, identity bool, err error)
	// Pipeline are the options of every query pipeline the Switch builds.
	Pipeline []query.Option
	// WriteGuard bounds and retries writes to a remote primary.
	WriteGuard *WriteGuard
	// Log receives the dual-writer's, shadow reads' and reloads' records.
	Log *slog.Logger
	// Registerer gets the tsgate_dualwrite_* and tsgate_shadow_* metrics
	// (nil: unregistered).
	Registerer prometheus.Registerer
}

// New opens plan's backends and starts its dual-writer.
func New(ctx context.Context, plan Plan, o Options) (*Switch, error) {
	s := &Switch{
		pool: &backendPool{open: map[string]*sharedBackend{}, opener: o.Open},
		log:  o.Log, dm: newDualMetrics(o.Registerer), sm: newShadowMetrics(o.Registerer),
		guard:    o.WriteGuard,
		pipeline: o.Pipeline,
	}
	st, err := s.build(ctx, plan)
	if err != nil {
		return nil, err
	}
	s.cur.Store(st)
	return s, nil
}

// Pin keeps spec's backend open for the Switch's lifetime when it is the
// current primary and returns it, else nil: pg wire's catalog reads the
// embedded store directly, whatever reloads do later.
func (s *Switch) Pin(spec string) dialects.Backend {
	if s.state().plan.Primary != spec {
		return nil
	}
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	sb := s.pool.open[spec]
	if sb == nil {
		return nil
	}
	sb.pinned = true
	return sb.b
}

// build opens a plan's backends and dual-writer.
func (s *Switch) build(ctx context.Context, plan Plan) (*migState, error) {
	prim, identity, rel, err := s.pool.acquire(ctx, plan.Primary)
	if err != nil {
		return nil, err
	}
	st := &migState{gen: s.gens.Add(1), plan: plan, primary: prim, identity: identity, pipeline: s.pipeline, writer: prim, relPrimary: rel, drained: make(chan struct{})}
	st.pipe = query.New(prim, s.pipeline...)
	if !identity {
		s.guard.observe(prim.Name())
	}
	if plan.Secondary == "" {
		s.dm.depth.Set(0)
		s.dm.bytes.Set(0)
		s.dm.lag.Set(0)
		s.dm.diverged.Set(0)
		s.reportQueues(plan, "")
		return st, nil
	}
	dir := queueDirFor(plan.QueueDir, plan.Secondary)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		rel()
		return nil, fmt.Errorf("dual-write queue directory: %w", err)
	}
	// For an operator looking at the directory: which secondary it feeds.
	_ = os.WriteFile(filepath.Join(dir, "secondary.txt"), []byte(redact(plan.Secondary)+"\n"), 0o600)
	open := func(ctx context.Context) (dialects.Backend, error) {
		b, _, release, err := s.pool.acquire(ctx, plan.Secondary)
		if err != nil {
			return nil, err
		}
		st.relSecondary.Store(&release)
		return b, nil
	}
	st.dw, err = NewDualWriter(prim, open, dir, plan.QueueMaxBytes,
		withDualMetrics(s.dm),
		withDualLogger(s.log.With("secondary", redact(plan.Secondary))),
		withSecondaryRelease(func() {
			if r := st.relSecondary.Load(); r != nil {
				(*r)()
			}
		}))
	if err != nil {
		rel()
		return nil, err
	}
	st.writer = st.dw
	if plan.ShadowFraction > 0 {
		st.shadow = newShadow(func() (*query.Pipeline, func()) {
			if !st.enter() {
				return nil, nil
			}
			p := st.secondaryPipeline()
			if p == nil {
				st.leave()
				return nil, nil
			}
			return p, st.leave
		}, plan.ShadowFraction, withShadowMetrics(s.sm), withShadowTimeout(plan.ShadowTimeout),
			withShadowLogger(s.log.With("secondary", redact(plan.Secondary))))
	}
	s.reportQueues(plan, dir)
	return st, nil
}

// reportQueues warns about queues of secondaries no longer configured
// that still hold batches: they are kept, and delivered when that
// secondary is configured again.
func (s *Switch) reportQueues(plan Plan, current string) {
	ents, err := os.ReadDir(plan.QueueDir)
	if err != nil {
		return
	}
	for _, e := range ents {
		dir := filepath.Join(plan.QueueDir, e.Name())
		if !e.IsDir() || dir == current {
			continue
		}
		q, err := openQueue(dir, 0)
		if err != nil {
			s.log.Error("dual-write: unreadable queue of a secondary no longer configured", "dir", dir, "err", err)
			continue
		}
		n, b, oldest := q.Stats()
		q.Close()
		if n > 0 {
			name, _ := os.ReadFile(filepath.Join(dir, "secondary.txt"))
			s.log.Warn("dual-write: a secondary no longer configured still has queued batches; they are kept and delivered when it is configured again",
				"secondary", strings.TrimSpace(string(name)), "dir", dir, "batches", n, "bytes", b, "oldest", oldest)
		}
	}
}

// Reload applies a new plan: writes pause, the old dual-writer stops
// (its queue stays on disk, reopened by the new one when the secondary is
// unchanged) and the new state is swapped in; reads in flight finish on
// the old state, whose backends are released once it drained. When the
// old secondary becomes the primary, its queue must drain first (within
// drain_timeout) and it must not be diverged, else the reload is refused
// and the old configuration stays: switching to a primary that misses
// acknowledged writes would lose them from the clients' view.
func (s *Switch) Reload(ctx context.Context, plan Plan) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if s.closed {
		return errs.New(errs.Unavailable, "migration reload: the gateway is shutting down")
	}
	old := s.cur.Load()
	if old.plan == plan {
		return nil
	}
	s.writes.Lock()
	defer s.writes.Unlock()
	if old.dw != nil && plan.Primary == old.plan.Secondary {
		if old.dw.Diverged() {
			return errs.New(errs.Conflict, "migration: the secondary is marked diverged (it missed batches); backfill the gap and delete the DIVERGED marker before making it the primary")
		}
		dctx, cancel := context.WithTimeout(ctx, plan.DrainTimeout)
		err := old.dw.WaitEmpty(dctx)
		cancel()
		if err != nil {
			return fmt.Errorf("migration: not switching the primary: %w", err)
		}
	}
	if old.dw != nil {
		old.dw.Stop()
	}
	st, err := s.build(ctx, plan)
	if err != nil {
		// Back to the old configuration; its queue reopens where it was.
		restored, rerr := s.build(ctx, old.plan)
		if rerr != nil {
			s.log.Error("migration: reload failed and the old configuration could not be restored; writes reach the primary only and the secondary is marked diverged as they come", "err", rerr)
			return fmt.Errorf("migration reload: %w", err)
		}
		s.cur.Store(restored)
		s.retire(old)
		return fmt.Errorf("migration reload (old configuration kept): %w", err)
	}
	s.cur.Store(st)
	s.retire(old)
	s.log.Info("migration: backends switched", "primary", redact(plan.Primary), "secondary", redact(plan.Secondary),
		"shadow_fraction", plan.ShadowFraction)
	return nil
}

func (s *Switch) retire(st *migState) {
	s.retiring.Add(1)
	go func() {
		defer s.retiring.Done()
		st.retire()
	}()
}

// acquire is the current state, entered; the caller leaves it.
func (s *Switch) acquire() *migState {
	for {
		st := s.cur.Load()
		if st.enter() {
			return st
		}
	}
}

func (s *Switch) state() *migState { return s.cur.Load() }

// Primary is the current primary and whether it runs Arc SQL as written,
// read together so a reload between two calls cannot mix two states (the
// console and memtrace describe the backend by both).
func (s *Switch) Primary() (b dialects.Backend, asWritten bool) {
	st := s.state()
	return st.primary, st.identity
}

// Plan is the configuration being served: the last one a reload applied.
func (s *Switch) Plan() Plan { return s.state().plan }

// DualWriter is the current dual-writer, nil without a secondary: a
// caller that must know the secondary caught up waits on it (WaitEmpty)
// or reads its depth.
func (s *Switch) DualWriter() *DualWriter { return s.state().dw }

// Shadow is the current shadow reader, nil when shadow reads are off:
// Wait lets a caller see the comparisons in flight counted.
func (s *Switch) Shadow() *Shadow { return s.state().shadow }

func (s *Switch) Name() string                { return s.state().primary.Name() }
func (s *Switch) Generator() target.Generator { return s.state().primary.Generator() }

// Unwrap is the current primary, whose capabilities the gateway uses.
func (s *Switch) Unwrap() dialects.Backend { return s.state().primary }
func (s *Switch) Schema(db string) target.Schema {
	st := s.state()
	inner := st.primary.Schema(db)
	if inner == nil {
		return nil
	}
	return genSchema{Schema: inner, gen: st.gen}
}

// genSchema is a primary's schema whose version also names the state it
// came from. The translation cache and the pg wire catalog key on the
// version; after a switch-over the new primary's version could equal the
// old one's (two counters, or two servers of the same kind), and both
// would go on serving the old backend's schema.
type genSchema struct {
	target.Schema
	gen uint64
}

func (g genSchema) Version() uint64 {
	// A bijection of the inner version for a given state, and a
	// pseudo-random one per state: versions of two states collide only
	// by a 2^-64 accident. (XOR with multiples of one constant would not
	// do: the embedded store's own version is built that way, and two
	// states' terms can cancel.)
	return splitmix64(g.Schema.Version() ^ splitmix64(g.gen))
}

// splitmix64 is SplitMix64's finalizer, a bijection on uint64.
func splitmix64(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	return x ^ x>>31
}

func (s *Switch) Query(ctx context.Context, db, text string) (model.Rows, error) {
	st := s.acquire()
	rows, err := st.primary.Query(ctx, db, text)
	return held(st, rows, err)
}

// QueryArc is Pipeline.QueryArc for the current state: its primary's
// identity decides translation, and its shadow (if any) tees the rows.
func (s *Switch) QueryArc(ctx context.Context, db, sql string) (model.Rows, error) {
	st := s.acquire()
	run := func(ctx context.Context) (model.Rows, error) { return st.pipe.QueryArc(ctx, db, sql) }
	if st.shadow != nil {
		rows, err := st.shadow.Wrap(ctx, db, sql, run)
		return held(st, rows, err)
	}
	rows, err := run(ctx)
	return held(st, rows, err)
}

// QueryArcArrow streams the current primary's own Arrow output when it is
// the embedded store built with DuckDB's Arrow interface; ok is false
// otherwise (and while shadow reads compare the rows, which they read
// through QueryArc).
func (s *Switch) QueryArcArrow(ctx context.Context, db, sql string) (array.RecordReader, bool, error) {
	st := s.acquire()
	b, ok := st.primary.(*duckdb.Backend)
	if !ok || !st.identity || st.shadow != nil || !b.Store().ArrowNative() {
		st.leave()
		return nil, false, nil
	}
	rr, err := b.Store().QueryArrow(ctx, db, sql)
	if err != nil {
		st.leave()
		return nil, true, err
	}
	return &heldArrow{RecordReader: rr, st: st}, true, nil
}

// heldArrow keeps st entered until the reader is released.
type heldArrow struct {
	array.RecordReader
	st   *migState
	once sync.Once
}

func (h *heldArrow) Release() {
	h.RecordReader.Release()
	h.once.Do(h.st.leave)
}

// held keeps st entered until the rows are closed.
func held(st *migState, rows model.Rows, err error) (model.Rows, error) {
	if err != nil {
		st.leave()
		return nil, err
	}
	return &heldRows{Rows: rows, st: st}, nil
}

type heldRows struct {
	model.Rows
	st   *migState
	once sync.Once
}

func (h *heldRows) Close() error {
	err := h.Rows.Close()
	h.once.Do(h.st.leave)
	return err
}

func (s *Switch) Write(ctx context.Context, db string, b *model.Batch) (model.WriteResult, error) {
	s.writes.RLock()
	defer s.writes.RUnlock()
	st := s.acquire()
	defer st.leave()
	if st.identity {
		// The embedded store: its own group commit bounds and batches.
		return st.writer.Write(ctx, db, b)
	}
	return s.guard.Write(ctx, st.primary, b, func(ctx context.Context) (model.WriteResult, error) {
		return st.writer.Write(ctx, db, b)
	})
}

// Flush commits what the embedded store has buffered (ingest.durability
// "buffer"); other backends commit before they answer.
func (s *Switch) Flush(ctx context.Context) error {
	st := s.acquire()
	defer st.leave()
	for _, b := range []dialects.Backend{st.writer, st.primary} {
		if f, ok := b.(interface{ Flush(context.Context) error }); ok {
			return f.Flush(ctx)
		}
	}
	return nil
}

func (s *Switch) Databases(ctx context.Context) ([]string, error) {
	st := s.acquire()
	defer st.leave()
	return st.primary.Databases(ctx)
}

func (s *Switch) Measurements(ctx context.Context, db string) ([]string, error) {
	st := s.acquire()
	defer st.leave()
	return st.primary.Measurements(ctx, db)
}

// DeleteRows deletes on the current primary in its own terms, or refuses
// with 0A000 naming a backend that cannot delete. A dual-written
// secondary is not changed: the migration's backfill and shadow reads
// report the difference.
func (s *Switch) DeleteRows(ctx context.Context, db, m string, where ast.Expr) error {
	return s.onDeleter("deleting rows", func(d dialects.Deleter) error { return d.DeleteRows(ctx, db, m, where) })
}

// DropDatabase drops db on the current primary (see DeleteRows).
func (s *Switch) DropDatabase(ctx context.Context, db string) error {
	return s.onDeleter("dropping a database", func(d dialects.Deleter) error { return d.DropDatabase(ctx, db) })
}

// onDeleter runs del on the current primary, with writes held so no
// switch-over runs meanwhile, or refuses with 0A000 when the primary
// cannot delete (what names the refused operation).
func (s *Switch) onDeleter(what string, del func(dialects.Deleter) error) error {
	s.writes.RLock()
	defer s.writes.RUnlock()
	st := s.acquire()
	defer st.leave()
	d, ok := dialects.As[dialects.Deleter](st.primary)
	if !ok {
		return errs.Newf(errs.Unsupported, "%s is not available on the %s backend", what, st.primary.Name())
	}
	return del(d)
}

func (s *Switch) Ready(ctx context.Context) error {
	st := s.acquire()
	defer st.leave()
	return st.primary.Ready(ctx)
}

// Close stops the dual-writer (its queue stays on disk), waits for the
// states in use to drain and closes every backend.
func (s *Switch) Close() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	st := s.cur.Load()
	var errsOut []error
	if st.dw != nil {
		errsOut = append(errsOut, st.dw.Stop())
	}
	if st.shadow != nil {
		st.shadow.Wait()
	}
	s.retire(st)
	// The front ends have drained by now; a result stream a client
	// abandoned mid-way must not hold the shutdown forever.
	done := make(chan struct{})
	go func() { s.retiring.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.log.Warn("closing backends with result streams still open")
	}
	errsOut = append(errsOut, s.pool.closeAll())
	return errors.Join(errsOut...)
}
