package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tsgate/auth"
	"tsgate/dialects"
	"tsgate/dialects/registry"
	"tsgate/errs"
	"tsgate/internal/logring"
	"tsgate/memtrace"
	"tsgate/model"
	"tsgate/query"
	"tsgate/replicate"
	"tsgate/translate/target"
)

// MemtraceMetaTarget is where the memtrace metadata store lives under cfg:
// the PostgreSQL URL when set, else the SQLite file.
func MemtraceMetaTarget(cfg Config) string {
	switch {
	case cfg.Memtrace.Metadata.URL != "":
		return cfg.Memtrace.Metadata.URL
	case cfg.Memtrace.Metadata.Path != "":
		return cfg.Memtrace.Metadata.Path
	}
	return filepath.Join(cfg.DataDir, "memtrace.db")
}

// memtraceBackend gives the memtrace API the gateway's read pipeline and
// write path.
type memtraceBackend struct {
	g           *Gateway
	measurement string
}

func (b memtraceBackend) Query(ctx context.Context, db, sql string) (model.Rows, error) {
	// memtrace reads its own storage (each query scoped to the key's
	// organization by the memtrace package), which no Arc token but an
	// admin may.
	ctx = auth.Internal(ctx)
	rows, err := b.g.pipeline.QueryArc(ctx, db, sql)
	// Before the first memory there is no events measurement; Arc answers
	// an empty result then, and so must every backend here. The backend's
	// own catalog says whether that is the case, not the error's text.
	if err != nil {
		if ms, merr := b.g.backend.Measurements(ctx, db); merr == nil && !slices.Contains(ms, b.measurement) {
			return &model.SliceRows{}, nil
		}
	}
	return rows, err
}

// NativeArcSQL says whether the current primary runs Arc SQL as written
// (the embedded store); memtrace then sends its list queries in DuckDB's
// fastest form.
func (b memtraceBackend) NativeArcSQL() bool {
	_, asWritten := b.g.sw.Primary()
	return asWritten
}

// TimePrecision is the current primary's: memtrace keeps an exact time
// beside a coarser one.
func (b memtraceBackend) TimePrecision() time.Duration {
	return dialects.TimePrecision(b.g.sw.Unwrap())
}

// HasColumn reads the current primary's schema.
func (b memtraceBackend) HasColumn(db, measurement, column string) bool {
	sc := b.g.pipeline.Schema(db)
	if sc == nil {
		return false
	}
	cols, ok := sc.Columns(db, measurement)
	return ok && slices.ContainsFunc(cols, func(c target.ColumnInfo) bool { return c.Name == column })
}

func (b memtraceBackend) Write(ctx context.Context, db string, batch *model.Batch) (model.WriteResult, error) {
	return b.g.backend.Write(ctx, db, batch)
}

func (b memtraceBackend) Ready(ctx context.Context) error { return b.g.backend.Ready(ctx) }

// orgBackend is an organization's own backend (memtrace's per-org Arc
// instance): opened through the registry like backend.url, queried
// through a pipeline with the gateway's guard, written through the
// gateway's write guard (bounded, retried only where safe).
type orgBackend struct {
	b           dialects.Backend
	p           *query.Pipeline
	wg          *replicate.WriteGuard
	measurement string
}

func (o *orgBackend) Query(ctx context.Context, db, sql string) (model.Rows, error) {
	// memtrace's own reads, each scoped to the key's organization by the
	// memtrace package.
	ctx = auth.Internal(ctx)
	rows, err := o.p.QueryArc(ctx, db, sql)
	if err != nil {
		// No events measurement yet reads as empty, as on Arc.
		if ms, merr := o.b.Measurements(ctx, db); merr == nil && !slices.Contains(ms, o.measurement) {
			return &model.SliceRows{}, nil
		}
	}
	return rows, err
}

func (o *orgBackend) Write(ctx context.Context, db string, batch *model.Batch) (model.WriteResult, error) {
	return o.wg.Write(ctx, o.b, batch, func(ctx context.Context) (model.WriteResult, error) {
		return o.b.Write(ctx, db, batch)
	})
}

func (o *orgBackend) Ready(ctx context.Context) error { return o.b.Ready(ctx) }

func (o *orgBackend) NativeArcSQL() bool { return o.p.AsWritten() }

func (o *orgBackend) TimePrecision() time.Duration { return dialects.TimePrecision(o.b) }

func (o *orgBackend) HasColumn(db, measurement, column string) bool {
	sc := o.p.Schema(db)
	if sc == nil {
		return false
	}
	cols, ok := sc.Columns(db, measurement)
	return ok && slices.ContainsFunc(cols, func(c target.ColumnInfo) bool { return c.Name == column })
}

// orgBindingTTL is how long an organization's binding is trusted before
// the metadata store is asked again: `org add-backend` and
// `remove-backend` reach a running server within it (memtrace needs a
// restart).
const orgBindingTTL = 10 * time.Second

// orgTargets resolves each organization's target: its own backend when
// it has one, else the gateway's (or memtrace's 503 when one is
// required). Backends are opened once per URL and closed at shutdown.
type orgTargets struct {
	g        *Gateway
	meta     *memtrace.Meta
	sealer   *memtrace.Sealer
	require  bool
	fallback memtrace.Target

	mu       sync.Mutex
	bindings map[string]orgBinding
	open     map[string]*orgBackend // by URL
}

type orgBinding struct {
	b       *memtrace.OrgBackend // nil: none
	expires time.Time
}

func (o *orgTargets) resolve(ctx context.Context, org string) (memtrace.Target, error) {
	now := time.Now()
	o.mu.Lock()
	bd, ok := o.bindings[org]
	o.mu.Unlock()
	if !ok || now.After(bd.expires) {
		b, err := o.meta.OrgBackendOf(ctx, o.sealer, org)
		if err != nil {
			return memtrace.Target{}, err
		}
		bd = orgBinding{b: b, expires: now.Add(orgBindingTTL)}
		o.mu.Lock()
		if len(o.bindings) > 100000 {
			o.bindings = map[string]orgBinding{}
		}
		o.bindings[org] = bd
		o.mu.Unlock()
	}
	if bd.b == nil {
		if o.require {
			return memtrace.Target{}, memtrace.NoInstance(org)
		}
		return o.fallback, nil
	}
	be, err := o.backend(ctx, bd.b.URL)
	if err != nil {
		return memtrace.Target{}, err
	}
	return memtrace.Target{Backend: be, Database: bd.b.Database, ID: bd.b.ID + "|" + bd.b.Database}, nil
}

func (o *orgTargets) backend(ctx context.Context, rawURL string) (*orgBackend, error) {
	o.mu.Lock()
	be := o.open[rawURL]
	o.mu.Unlock()
	if be != nil {
		return be, nil
	}
	// Opened without the lock: a backend that is slow to answer must not
	// hold up every other organization's requests.
	b, err := registry.Open(ctx, rawURL)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "organization backend: "+errs.As(err).Msg)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if prev := o.open[rawURL]; prev != nil {
		// Another request opened it meanwhile.
		b.Close()
		return prev, nil
	}
	be = &orgBackend{b: b, p: query.New(b, query.WithGuard(o.g.guard)), wg: o.g.writeGuard, measurement: o.g.cfg.Memtrace.Measurement}
	o.open[rawURL] = be
	return be, nil
}

func (o *orgTargets) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	var es []error
	for _, be := range o.open {
		es = append(es, be.b.Close())
	}
	o.open = map[string]*orgBackend{}
	return errors.Join(es...)
}

// memtraceParts is memtrace's start-up in two steps: openMemtrace needs
// no backend and runs beside the embedded store's open; startMemtrace
// binds the API once the backend is there. close releases what both
// opened, once: the gateway's undo when New fails, the memtrace front
// end's shutdown otherwise.
type memtraceParts struct {
	meta   *memtrace.Meta
	sealer *memtrace.Sealer
	// bootDone is closed when the first-key bootstrap has finished; nil
	// until startMemtrace starts it.
	bootDone chan struct{}
	closers  []func() error
	once     sync.Once
	closeErr error
}

func (m *memtraceParts) close() error {
	m.once.Do(func() {
		if m.bootDone != nil {
			<-m.bootDone // the bootstrap uses meta
		}
		var es []error
		for i := len(m.closers) - 1; i >= 0; i-- {
			es = append(es, m.closers[i]())
		}
		m.closeErr = errors.Join(es...)
	})
	return m.closeErr
}

// openMemtrace opens the metadata store and checks it can serve every
// organization. Nil when memtrace.listen is empty.
func (g *Gateway) openMemtrace(ctx context.Context) (*memtraceParts, error) {
	cfg := g.cfg.Memtrace
	if cfg.Listen == "" {
		return nil, nil
	}
	if cfg.BootstrapKey != "" && !memtrace.ValidKeyFormat(cfg.BootstrapKey) {
		return nil, errors.New("memtrace.bootstrap_key must look like an mtk_ key (mtk_ followed by 44 base64url characters)")
	}
	meta, err := memtrace.OpenMeta(ctx, MemtraceMetaTarget(g.cfg))
	if err != nil {
		return nil, err
	}
	m := &memtraceParts{meta: meta, closers: []func() error{meta.Close}}
	// Organizations' own backends: their URLs are sealed, so a store
	// that has any needs the master key to serve them.
	if cfg.MasterKey != "" {
		if m.sealer, err = memtrace.NewSealer(cfg.MasterKey); err != nil {
			m.close()
			return nil, fmt.Errorf("memtrace.master_key: %w", err)
		}
	}
	if n, err := meta.CountOrgBackends(ctx); err != nil {
		m.close()
		return nil, err
	} else if n > 0 && m.sealer == nil {
		m.close()
		return nil, fmt.Errorf("memtrace: %d organizations have their own backend, sealed under a master key: set memtrace.master_key (TSGATE_MEMTRACE_MASTER_KEY or MEMTRACE_MASTER_KEY)", n)
	}
	return m, nil
}

// startMemtrace bootstraps the metadata store on first start, opens the
// optional Redis cache and binds the memtrace API. m (from openMemtrace)
// is closed by the caller if this fails, by the front end's shutdown
// otherwise.
func (g *Gateway) startMemtrace(ctx context.Context, m *memtraceParts, reg *prometheus.Registry, announce io.Writer) error {
	if m == nil {
		return nil
	}
	cfg := g.cfg.Memtrace
	// The first start creates org_default's admin key, hashed with bcrypt
	// (about 60 ms by design): that runs beside the rest of the start-up;
	// memtrace requests wait for it (bootstrapped) and /ready turns 200
	// after it, with the key already printed. It starts after the
	// embedded store has opened, so that the two do not share the cores.
	m.bootDone = make(chan struct{})
	var bootErr error
	go func() {
		defer close(m.bootDone)
		secret, err := m.meta.Bootstrap(context.WithoutCancel(ctx), cfg.BootstrapKey)
		if err != nil {
			bootErr = fmt.Errorf("memtrace bootstrap: %w", err)
			g.log.Error("memtrace unavailable", "err", bootErr)
			return
		}
		if secret != "" {
			if cfg.BootstrapKey != "" {
				g.log.Info("memtrace admin key for org_default created from TSGATE_MEMTRACE_BOOTSTRAP_KEY")
			} else {
				fmt.Fprintf(announce, "\ntsgate: memtrace admin key for org_default (shown once, store it now):\n\n    %s\n\n", secret)
			}
		}
	}()
	g.starting = append(g.starting, m.bootDone)
	opts := []memtrace.Option{
		memtrace.WithLogger(g.log.With(logring.ComponentKey, "memtrace")),
		memtrace.WithDatabase(cfg.Database),
		memtrace.WithMeasurement(cfg.Measurement),
		memtrace.WithDedup(cfg.Dedup.Enabled, cfg.Dedup.WindowHours),
		memtrace.WithMaxBody(cfg.MaxBodyBytes),
		memtrace.WithMetrics(reg, reg),
	}
	targets := &orgTargets{g: g, meta: m.meta, sealer: m.sealer, require: cfg.RequireOrgBackend,
		fallback: memtrace.Target{Backend: memtraceBackend{g: g, measurement: cfg.Measurement}, Database: cfg.Database, ID: "backend.url"},
		bindings: map[string]orgBinding{}, open: map[string]*orgBackend{}}
	m.closers = append(m.closers, targets.Close)
	opts = append(opts, memtrace.WithResolver(targets.resolve), memtrace.WithHealthOrgs(cfg.RequireOrgBackend))
	if !cfg.AuthEnabled {
		g.log.Warn("memtrace authentication is disabled (memtrace.auth_enabled = false): every request acts as org_default")
		opts = append(opts, memtrace.WithoutAuth())
	}
	if cfg.Cache.RedisURL != "" {
		rc, err := memtrace.NewRedisCache(ctx, cfg.Cache.RedisURL, cfg.Cache.TTL.Duration)
		if err != nil {
			return err
		}
		m.closers = append(m.closers, rc.Close)
		opts = append(opts, memtrace.WithContextCache(rc))
	}
	srv := memtrace.New(memtraceBackend{g: g, measurement: cfg.Measurement}, m.meta, opts...)
	if err := g.addHTTP("memtrace", cfg.Listen, bootstrapped(m.bootDone, &bootErr, srv.Handler())); err != nil {
		return err
	}
	// The metadata store and cache close after the listener has drained.
	f := g.frontends[len(g.frontends)-1]
	shutdown := f.shutdown
	f.shutdown = func(ctx context.Context) error { return errors.Join(shutdown(ctx), m.close()) }
	return nil
}

// bootstrapped holds requests until the memtrace bootstrap is done, and
// answers 503 if it failed: no key exists to authenticate anyone.
func bootstrapped(done <-chan struct{}, err *error, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-done:
		case <-r.Context().Done():
			return
		}
		if *err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, `{"error":"memtrace bootstrap failed; see the server log"}`)
			return
		}
		h.ServeHTTP(w, r)
	})
}
