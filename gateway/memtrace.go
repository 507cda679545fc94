package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tsgate/auth"
	"tsgate/dialects"
	"tsgate/memtrace"
	"tsgate/model"
	"tsgate/translate"
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
func (b memtraceBackend) NativeArcSQL() bool { return b.g.sw.state().identity }

// TimePrecision is the current primary's: memtrace keeps an exact time
// beside a coarser one.
func (b memtraceBackend) TimePrecision() time.Duration {
	return dialects.TimePrecision(b.g.sw.state().primary)
}

// HasColumn reads the current primary's schema.
func (b memtraceBackend) HasColumn(db, measurement, column string) bool {
	sc := b.g.pipeline.Schema(db)
	if sc == nil {
		return false
	}
	cols, ok := sc.Columns(db, measurement)
	return ok && slices.ContainsFunc(cols, func(c translate.ColumnInfo) bool { return c.Name == column })
}

func (b memtraceBackend) Write(ctx context.Context, db string, batch *model.Batch) (model.WriteResult, error) {
	return b.g.backend.Write(ctx, db, batch)
}

func (b memtraceBackend) Ready(ctx context.Context) error { return b.g.backend.Ready(ctx) }

// startMemtrace opens the metadata store (bootstrapping it on first start),
// the optional Redis cache, and binds the memtrace API. Disabled when
// memtrace.listen is empty.
func (g *Gateway) startMemtrace(ctx context.Context, reg *prometheus.Registry, announce io.Writer) error {
	cfg := g.cfg.Memtrace
	if cfg.Listen == "" {
		return nil
	}
	meta, err := memtrace.OpenMeta(ctx, MemtraceMetaTarget(g.cfg))
	if err != nil {
		return err
	}
	secret, err := meta.Bootstrap(ctx, cfg.BootstrapKey)
	if err != nil {
		meta.Close()
		return fmt.Errorf("memtrace bootstrap: %w", err)
	}
	if secret != "" {
		if cfg.BootstrapKey != "" {
			g.log.Info("memtrace admin key for org_default created from TSGATE_MEMTRACE_BOOTSTRAP_KEY")
		} else {
			fmt.Fprintf(announce, "\ntsgate: memtrace admin key for org_default (shown once, store it now):\n\n    %s\n\n", secret)
		}
	}
	closers := []func() error{meta.Close}
	closeAll := func() error {
		var es []error
		for _, c := range closers {
			es = append(es, c())
		}
		return errors.Join(es...)
	}
	opts := []memtrace.Option{
		memtrace.WithLogger(g.log.With("frontend", "memtrace")),
		memtrace.WithDatabase(cfg.Database),
		memtrace.WithMeasurement(cfg.Measurement),
		memtrace.WithDedup(cfg.Dedup.Enabled, cfg.Dedup.WindowHours),
		memtrace.WithMaxBody(cfg.MaxBodyBytes),
		memtrace.WithMetrics(reg, reg),
	}
	if !cfg.AuthEnabled {
		g.log.Warn("memtrace authentication is disabled (memtrace.auth_enabled = false): every request acts as org_default")
		opts = append(opts, memtrace.WithoutAuth())
	}
	if cfg.Cache.RedisURL != "" {
		rc, err := memtrace.NewRedisCache(ctx, cfg.Cache.RedisURL, cfg.Cache.TTL.Duration)
		if err != nil {
			closeAll()
			return err
		}
		closers = append(closers, rc.Close)
		opts = append(opts, memtrace.WithContextCache(rc))
	}
	srv := memtrace.New(memtraceBackend{g: g, measurement: cfg.Measurement}, meta, opts...)
	if err := g.addHTTP("memtrace", cfg.Listen, srv.Handler()); err != nil {
		closeAll()
		return err
	}
	// The metadata store and cache close after the listener has drained.
	f := g.frontends[len(g.frontends)-1]
	shutdown := f.shutdown
	f.shutdown = func(ctx context.Context) error { return errors.Join(shutdown(ctx), closeAll()) }
	return nil
}
