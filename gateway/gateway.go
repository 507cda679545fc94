package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"tsgate/auth"
	"tsgate/conformance"
	"tsgate/dialects"
	"tsgate/dialects/duckdb"
	"tsgate/errs"
	"tsgate/guard"
	"tsgate/internal/logring"
	"tsgate/manage"
	"tsgate/query"
	"tsgate/replicate"
	"tsgate/wire/arc"
	"tsgate/wire/console"
)

// Gateway is a running tsgate: backend, token store and front ends.
type Gateway struct {
	cfg Config
	log *slog.Logger
	// store is the embedded DuckDB store, nil when backend.url names
	// another backend.
	store   *duckdb.Store
	backend dialects.Backend
	// sw is backend as the replicate.Switch Reload swaps.
	sw *replicate.Switch
	// writeGuard bounds and retries writes to remote backends: the
	// primary's (through sw) and memtrace's organizations'.
	writeGuard *replicate.WriteGuard
	// pipeline translates front ends' queries for the backend.
	pipeline *query.Pipeline
	// guard classifies every statement before it reaches an engine.
	guard *guard.Guard
	// starting is what start-up still does in the background (memtrace's
	// first-key bootstrap): /ready turns 200 once each is closed.
	starting []<-chan struct{}
	// local finishes what a remote backend cannot answer exactly; nil
	// when query.hybrid is off.
	local *query.Local
	// refused counts connections over a listener's cap, open those
	// accepted and not yet closed, by listener.
	refused *prometheus.CounterVec
	open    *prometheus.GaugeVec
	// pgErrors counts statements pg wire answered with an error, by code
	// (the Arc API counts its own in tsgate_errors_total).
	pgErrors *prometheus.CounterVec
	tokens   *auth.Store
	arc      *arc.Server
	// manager keeps Arc's databases, retention policies and continuous
	// queries, and runs them.
	manager *manage.Manager
	// frontends are the listeners: the Arc API first, then the others.
	frontends []*frontend
}

// frontend is one listener and how to serve and drain it.
type frontend struct {
	name     string
	ln       net.Listener
	serve    func(net.Listener) error
	shutdown func(context.Context) error
}

// addHTTP binds addr and registers an HTTP front end on it.
func (g *Gateway) addHTTP(name, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s listen %s: %w", name, addr, err)
	}
	hc := g.cfg.HTTP
	write := hc.WriteTimeout.Duration
	if write == 0 {
		write = g.cfg.Arc.QueryTimeout.Duration + time.Minute
	}
	ln = newLimitListener(ln, hc.MaxConnections, httpBusy(), g.refused.WithLabelValues(name), g.open.WithLabelValues(name))
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: hc.ReadHeaderTimeout.Duration,
		ReadTimeout:       hc.ReadTimeout.Duration,
		WriteTimeout:      write,
		IdleTimeout:       hc.IdleTimeout.Duration,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
	g.frontends = append(g.frontends, &frontend{name: name, ln: ln, serve: srv.Serve, shutdown: srv.Shutdown})
	return nil
}

// Logger is the gateway's logger: the one New was given, whose records
// GET /api/v1/logs also lists.
func (g *Gateway) Logger() *slog.Logger { return g.log }

// Addr is the bound address of the named front end ("arc", "memtrace",
// "pgwire"), nil when it is not running. Useful with port 0.
func (g *Gateway) Addr(name string) net.Addr {
	for _, f := range g.frontends {
		if f.name == name {
			return f.ln.Addr()
		}
	}
	return nil
}

func (g *Gateway) closeListeners() {
	for _, f := range g.frontends {
		f.ln.Close()
	}
}

// NewLogger builds the configured structured logger writing to w.
func NewLogger(cfg LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// StorePath is the embedded store's file under the data directory.
func StorePath(dataDir string) string { return filepath.Join(dataDir, "tsgate.duckdb") }

// ManagePath is the file under the data directory holding Arc's
// databases, retention policies and continuous queries.
func ManagePath(dataDir string) string { return filepath.Join(dataDir, "arc-manage.json") }

// TokenPath is the token file under the data directory.
func TokenPath(dataDir string) string { return filepath.Join(dataDir, "tokens.json") }

// OpenTokens opens the token store cfg names: the PostgreSQL database of
// auth.store_url, shared by replicas, else the token file in data_dir.
func OpenTokens(ctx context.Context, cfg Config, log *slog.Logger) (*auth.Store, error) {
	if cfg.Auth.StoreURL != "" {
		return auth.OpenPostgres(ctx, cfg.Auth.StoreURL, auth.WithLogger(log))
	}
	return auth.Open(TokenPath(cfg.DataDir))
}

// New opens the backend and token store and binds the listeners, so a
// port conflict fails here and not after "started". The bootstrap admin
// token, when one is created, is written to announce once.
func New(ctx context.Context, cfg Config, log *slog.Logger, announce io.Writer) (_ *Gateway, err error) {
	// Every record the gateway logs from here on, at the configured
	// level, is also kept for Arc's GET /api/v1/logs (time, level,
	// front end and message only: package logring).
	logs := logring.New(logring.Capacity)
	log = slog.New(logring.NewHandler(log.Handler(), logs))
	g := &Gateway{cfg: cfg, log: log}
	// On failure, release what was opened so far, newest first.
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := secureDir(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	g.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tsgate_connections_refused_total",
		Help: "Connections refused because a listener was at its connection cap, by listener.",
	}, []string{"listener"})
	g.open = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tsgate_connections_open",
		Help: "Connections open on a listener, by listener (capped by http.max_connections and pgwire.max_connections).",
	}, []string{"listener"})
	g.pgErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tsgate_pgwire_errors_total",
		Help: "Statements pg wire answered with an error, by tsgate error code (unsupported: refused as not expressible on the backend).",
	}, []string{"code"})
	for _, c := range errs.Codes() {
		g.pgErrors.WithLabelValues(c.String())
	}
	reg.MustRegister(g.refused, g.open, g.pgErrors)
	// The backend is switchable: [migration] may add a dual-written
	// secondary and shadow reads, and a reload may swap them
	// (replication.go, package replicate).
	var adminOnly []string
	if cfg.Memtrace.Listen != "" {
		// Every organization's memories: only memtrace's own queries and
		// admins read them.
		adminOnly = append(adminOnly, cfg.Memtrace.Database)
	}
	if g.guard, err = guard.New(guard.AdminOnly(adminOnly...)); err != nil {
		return nil, err
	}
	undo = append(undo, func() { g.guard.Close() })
	if cfg.Query.Hybrid {
		lim := query.LocalLimits{MaxRows: cfg.Query.MaxPullRows, MaxBytes: cfg.Query.MaxPullBytes,
			Budget: cfg.Query.PullBudgetBytes, MemoryLimit: cfg.Query.LocalMemoryLimit}
		if g.local, err = query.NewLocal(g.guard, lim); err != nil {
			return nil, err
		}
		undo = append(undo, func() { g.local.Close() })
		if err := g.local.Register(reg); err != nil {
			return nil, err
		}
	}
	g.writeGuard = replicate.NewWriteGuard(writeLimits(cfg.Backend), reg)
	// Opening the embedded store is the longest step of a start (a
	// DuckDB instance, its file, the schema cache); the token store and
	// memtrace's metadata store, which do not need it, open beside it.
	var sw *replicate.Switch
	var swErr error
	swDone := make(chan struct{})
	go func() {
		defer close(swDone)
		sw, swErr = g.newSwitch(ctx, cfg, log, reg, g.writeGuard)
	}()
	undo = append(undo, func() {
		<-swDone
		if swErr == nil {
			sw.Close()
		}
	})
	var arcAuth []arc.Option
	if cfg.Auth.Enabled {
		if g.tokens, err = OpenTokens(ctx, cfg, log); err != nil {
			return nil, err
		}
		undo = append(undo, func() { g.tokens.Close() })
		secret, err := g.tokens.Bootstrap(cfg.Auth.BootstrapToken)
		if err != nil {
			return nil, fmt.Errorf("bootstrap admin token: %w", err)
		}
		if secret != "" {
			if cfg.Auth.BootstrapToken != "" {
				log.Info("admin token created from TSGATE_AUTH_BOOTSTRAP_TOKEN")
			} else {
				fmt.Fprintf(announce, "\ntsgate: admin token (shown once, store it now):\n\n    %s\n\n", secret)
			}
		}
		arcAuth = append(arcAuth, arc.WithAuth(g.tokens))
	} else {
		log.Warn("authentication is disabled (auth.enabled = false): anyone who reaches the API can read and write")
	}
	mt, err := g.openMemtrace(ctx)
	if err != nil {
		return nil, err
	}
	if mt != nil {
		undo = append(undo, func() { mt.close() })
	}
	<-swDone
	if swErr != nil {
		return nil, swErr
	}
	g.sw, g.backend, g.store = sw, sw, pinStore(sw, cfg.DataDir)
	g.pipeline = query.New(sw, g.pipelineOptions()...)
	arcOpts := append([]arc.Option{
		arc.WithLogger(log.With(logring.ComponentKey, "arc")),
		arc.WithLogs(logs),
		arc.WithFlush(sw.Flush),
		arc.WithQueryTimeout(cfg.Arc.QueryTimeout.Duration),
		arc.WithMaxBody(cfg.Arc.MaxBodyBytes),
		arc.WithMaxSQLLength(cfg.Arc.MaxSQLLength),
	}, arcAuth...)
	arcOpts = append(arcOpts, arc.WithMetrics(reg, reg))
	ab := arcBackend{p: g.pipeline, g: g.guard}
	// Replicas that share tokens (auth.store_url) share Arc's databases,
	// retention policies and continuous queries too, and run each job
	// once between them.
	if cfg.Auth.StoreURL != "" {
		g.manager, err = manage.OpenPostgres(ctx, cfg.Auth.StoreURL, manageEngine{ab, sw})
	} else {
		g.manager, err = manage.Open(ManagePath(cfg.DataDir), manageEngine{ab, sw})
	}
	if err != nil {
		return nil, err
	}
	undo = append(undo, g.manager.Close)
	arcOpts = append(arcOpts, arc.WithManager(g.manager, arc.ManageConfig{
		DeleteEnabled:         cfg.Delete.Enabled,
		ConfirmationThreshold: cfg.Delete.ConfirmationThreshold,
		MaxRowsPerDelete:      cfg.Delete.MaxRowsPerDelete,
		Retention:             cfg.Retention.Enabled,
		ContinuousQueries:     cfg.ContinuousQuery.Enabled,
	}))
	if cfg.UI.Enabled {
		arcOpts = append(arcOpts, arc.WithRoutes(g.console().Routes()...))
	}
	g.arc = arc.New(ab, arcOpts...)
	undo = append(undo, g.closeListeners)
	if err := g.addHTTP("arc", cfg.Arc.Listen, g.arc.Handler()); err != nil {
		return nil, err
	}
	// Further front ends register here, one call each, after the Arc API
	// (whose metrics registry and token store they may share).
	if err := g.startMemtrace(ctx, mt, reg, announce); err != nil {
		return nil, err
	}
	if err := g.addPGWire(cfg); err != nil {
		return nil, err
	}
	return g, nil
}

// console is the web console over this gateway: its guard, the current
// primary's schema and name.
func (g *Gateway) console() *console.Console {
	baseline, _ := fs.ReadFile(conformance.Corpus(), "baseline.json")
	report := g.cfg.UI.ConformanceReport
	if report == "" {
		report = filepath.Join(g.cfg.DataDir, "conformance.json")
	}
	return console.New(console.Config{
		Guard:  g.guard,
		Schema: g.sw.Schema,
		Live: func() console.Live {
			b, asWritten := g.sw.Primary()
			return console.Live{Backend: b.Name(), Generator: b.Generator().Name(), AsWritten: asWritten}
		},
		Baseline:     baseline,
		ReportPath:   report,
		MaxSQLLength: g.cfg.Arc.MaxSQLLength,
	})
}

// ArcAddr is the Arc API's bound address (useful with port 0).
func (g *Gateway) ArcAddr() net.Addr { return g.Addr("arc") }

// Run serves until ctx is canceled, then shuts down gracefully: /ready
// turns 503, the listener closes, in-flight requests (writes included)
// finish within the shutdown timeout, then the store closes.
func (g *Gateway) Run(ctx context.Context) error {
	errc := make(chan error, len(g.frontends))
	attrs := []any{"backend", g.backend.Name(), "auth", g.cfg.Auth.Enabled}
	if g.store != nil {
		attrs = append(attrs, "store", StorePath(g.cfg.DataDir))
	}
	for _, f := range g.frontends {
		go func() {
			err := f.serve(f.ln)
			if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
				err = fmt.Errorf("%s: %w", f.name, err)
			} else {
				err = nil
			}
			errc <- err
		}()
		attrs = append(attrs, f.name, f.ln.Addr().String())
	}
	jobs, stopJobs := context.WithCancel(ctx)
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		g.manager.Run(jobs, manage.Schedule{
			Retention: g.cfg.Retention.Enabled, RetentionEvery: g.cfg.Retention.Interval.Duration,
			ContinuousQueries: g.cfg.ContinuousQuery.Enabled,
		}, g.log)
	}()
	// The listeners serve (/health answers) while background start-up
	// finishes; /ready waits for it.
	for _, c := range g.starting {
		select {
		case <-c:
		case <-ctx.Done():
		}
	}
	g.arc.SetReady(true)
	g.log.Info("tsgate serving", attrs...)
	// The SQL guard's parser engine opens on first use; open it now,
	// after the listeners, so the first query does not wait for it.
	go func() {
		if err := g.guard.Warm(); err != nil {
			g.log.Error("SQL parser unavailable: every query will be refused", "err", err)
		}
	}()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	g.arc.SetReady(false)
	g.log.Info("shutting down")
	stopJobs()
	<-jobsDone
	sctx, cancel := context.WithTimeout(context.Background(), g.cfg.ShutdownTimeout.Duration)
	defer cancel()
	var errsOut []error
	errsOut = append(errsOut, serveErr)
	for _, f := range g.frontends {
		errsOut = append(errsOut, f.shutdown(sctx))
	}
	if g.tokens != nil {
		errsOut = append(errsOut, g.tokens.Close())
	}
	g.manager.Close()
	errsOut = append(errsOut, g.backend.Close())
	if g.local != nil {
		errsOut = append(errsOut, g.local.Close())
	}
	return errors.Join(append(errsOut, g.guard.Close())...)
}

// secureDir makes the data directory and what tsgate keeps in it private
// to the server's user (directories 0700, files 0600): the store, its
// write-ahead log, the token file and memtrace's metadata hold customer
// data and secrets. New files are created so already (the command sets
// umask 077); this also closes up what an older version left readable.
// Only tsgate's own files are touched: data_dir may be shared.
func secureDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	// A shared directory (sticky or world-writable, like /tmp) is left
	// as it is; tsgate's files in it are still closed up below.
	if st.Mode()&os.ModeSticky == 0 && st.Mode().Perm()&0o002 == 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	for _, name := range []string{"tsgate.duckdb", "tsgate.duckdb.wal", "tokens.json", "arc-manage.json", "memtrace.db", "memtrace.db-wal", "memtrace.db-shm", "dualwrite"} {
		err := filepath.WalkDir(filepath.Join(dir, name), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch {
			case d.IsDir():
				return os.Chmod(path, 0o700)
			case d.Type().IsRegular():
				return os.Chmod(path, 0o600)
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// pipelineOptions are every pipeline's: the guard, and the local engine
// when split plans are on.
func (g *Gateway) pipelineOptions() []query.Option {
	opts := []query.Option{query.WithGuard(g.guard)}
	if g.local != nil {
		opts = append(opts, query.WithLocal(g.local))
	}
	return opts
}
