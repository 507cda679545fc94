package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"tsgate/auth"
	"tsgate/dialects/duckdb"
	"tsgate/errs"
	"tsgate/wire/arc"
)

// Gateway is a running tsgate: backend, token store and listeners.
type Gateway struct {
	cfg    Config
	log    *slog.Logger
	store  *duckdb.Store
	tokens *auth.Store
	arc    *arc.Server
	arcLn  net.Listener
	http   *http.Server
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

// TokenPath is the token file under the data directory.
func TokenPath(dataDir string) string { return filepath.Join(dataDir, "tokens.json") }

// New opens the backend and token store and binds the listeners, so a
// port conflict fails here and not after "started". The bootstrap admin
// token, when one is created, is written to announce once.
func New(ctx context.Context, cfg Config, log *slog.Logger, announce io.Writer) (*Gateway, error) {
	if cfg.Backend.URL != "" {
		scheme, _, _ := strings.Cut(cfg.Backend.URL, "://")
		return nil, errs.Newf(errs.Unsupported, "backend %q: only the embedded DuckDB store is available in this build (leave backend.url empty); remote backends are not implemented yet", scheme)
	}
	g := &Gateway{cfg: cfg, log: log}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	var opts []duckdb.Option
	if cfg.DuckDB.Threads > 0 {
		opts = append(opts, duckdb.WithThreads(cfg.DuckDB.Threads))
	}
	if cfg.DuckDB.MemoryLimit != "" {
		opts = append(opts, duckdb.WithMemoryLimit(cfg.DuckDB.MemoryLimit))
	}
	var err error
	if g.store, err = duckdb.Open(ctx, StorePath(cfg.DataDir), opts...); err != nil {
		return nil, err
	}
	arcOpts := []arc.Option{
		arc.WithLogger(log),
		arc.WithQueryTimeout(cfg.Arc.QueryTimeout.Duration),
		arc.WithMaxBody(cfg.Arc.MaxBodyBytes),
		arc.WithMaxSQLLength(cfg.Arc.MaxSQLLength),
	}
	if cfg.Auth.Enabled {
		if g.tokens, err = auth.Open(TokenPath(cfg.DataDir)); err != nil {
			g.store.Close()
			return nil, err
		}
		secret, err := g.tokens.Bootstrap(cfg.Auth.BootstrapToken)
		if err != nil {
			g.store.Close()
			return nil, fmt.Errorf("bootstrap admin token: %w", err)
		}
		if secret != "" {
			if cfg.Auth.BootstrapToken != "" {
				log.Info("admin token created from TSGATE_AUTH_BOOTSTRAP_TOKEN")
			} else {
				fmt.Fprintf(announce, "\ntsgate: admin token (shown once, store it now):\n\n    %s\n\n", secret)
			}
		}
		arcOpts = append(arcOpts, arc.WithAuth(g.tokens))
	} else {
		log.Warn("authentication is disabled (auth.enabled = false): anyone who reaches the API can read and write")
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	arcOpts = append(arcOpts, arc.WithMetrics(reg, reg))
	g.arc = arc.New(&embedded{store: g.store}, arcOpts...)

	if g.arcLn, err = net.Listen("tcp", cfg.Arc.Listen); err != nil {
		g.store.Close()
		return nil, fmt.Errorf("arc.listen %s: %w", cfg.Arc.Listen, err)
	}
	g.http = &http.Server{
		Handler:           g.arc.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return g, nil
}

// ArcAddr is the Arc API's bound address (useful with port 0).
func (g *Gateway) ArcAddr() net.Addr { return g.arcLn.Addr() }

// Run serves until ctx is canceled, then shuts down gracefully: /ready
// turns 503, the listener closes, in-flight requests (writes included)
// finish within the shutdown timeout, then the store closes.
func (g *Gateway) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- g.http.Serve(g.arcLn) }()
	g.arc.SetReady(true)
	g.log.Info("tsgate serving", "arc", g.arcLn.Addr().String(), "backend", "duckdb",
		"store", StorePath(g.cfg.DataDir), "auth", g.cfg.Auth.Enabled)
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	g.arc.SetReady(false)
	g.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), g.cfg.ShutdownTimeout.Duration)
	defer cancel()
	shutErr := g.http.Shutdown(sctx)
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return errors.Join(serveErr, shutErr, g.store.Close())
}
