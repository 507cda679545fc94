package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tsgate/dialects"
	"tsgate/dialects/duckdb"
	"tsgate/dialects/registry"
	"tsgate/errs"
	"tsgate/replicate"
)

// The gateway's backend is a replicate.Switch: [migration] may add a
// dual-written secondary and shadow reads, and Reload swaps them. This
// file turns the configuration into what package replicate takes.

// normalizeSpec turns embedded: and embedded:DIR into embedded:<absolute
// DIR>, so one store is one spec however it was written.
func normalizeSpec(spec, dataDir string) (string, error) {
	dir, ok := strings.CutPrefix(spec, replicate.EmbeddedPrefix)
	if !ok {
		return spec, nil
	}
	if dir == "" {
		dir = dataDir
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return replicate.EmbeddedPrefix + abs, nil
}

// planFor resolves [migration] (and backend.url, which the primary
// follows when migration.primary is empty) into the Switch's plan.
func planFor(cfg Config) (replicate.Plan, error) {
	m := cfg.Migration
	p := replicate.Plan{QueueDir: m.QueueDir, QueueMaxBytes: m.QueueMaxBytes, ShadowFraction: m.ShadowFraction,
		ShadowTimeout: m.ShadowTimeout.Duration, DrainTimeout: m.DrainTimeout.Duration}
	primary := m.Primary
	if primary == "" {
		primary = cfg.Backend.URL
	}
	if primary == "" {
		primary = replicate.EmbeddedPrefix
	}
	var err error
	if p.Primary, err = normalizeSpec(primary, cfg.DataDir); err != nil {
		return p, err
	}
	if m.Secondary != "" {
		if p.Secondary, err = normalizeSpec(m.Secondary, cfg.DataDir); err != nil {
			return p, err
		}
		if p.Secondary == p.Primary {
			return p, errs.New(errs.Invalid, "migration.secondary is the primary backend")
		}
	}
	if p.QueueDir == "" {
		p.QueueDir = filepath.Join(cfg.DataDir, "dualwrite")
	}
	if p.ShadowTimeout <= 0 {
		p.ShadowTimeout = 30 * time.Second
	}
	if p.DrainTimeout <= 0 {
		p.DrainTimeout = 30 * time.Second
	}
	return p, nil
}

// writeLimits are the write guard's bounds from backend.write_*. A Config
// built by hand (not from Default) gets the defaults, not a buffer of no
// rows.
func writeLimits(cfg BackendConfig) replicate.WriteLimits {
	def := Default().Backend
	if cfg.WriteBufferRows <= 0 {
		cfg.WriteBufferRows = def.WriteBufferRows
	}
	if cfg.WriteRetryMaxWait.Duration <= 0 {
		cfg.WriteRetryMaxWait = def.WriteRetryMaxWait
	}
	return replicate.WriteLimits{
		BufferRows:   cfg.WriteBufferRows,
		BufferWait:   cfg.WriteBufferWait.Duration,
		Retries:      cfg.WriteRetries,
		RetryMaxWait: cfg.WriteRetryMaxWait.Duration,
	}
}

// openSpec opens a plan's backend: embedded:DIR is the embedded store in
// DIR (with the [duckdb] and [ingest] settings), anything else a URL of
// the dialects registry.
func openSpec(opts []duckdb.Option) func(context.Context, string) (dialects.Backend, bool, error) {
	return func(ctx context.Context, spec string) (dialects.Backend, bool, error) {
		dir, ok := strings.CutPrefix(spec, replicate.EmbeddedPrefix)
		if !ok {
			b, err := registry.Open(ctx, spec)
			return b, false, err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, false, fmt.Errorf("data directory: %w", err)
		}
		s, err := duckdb.Open(ctx, StorePath(dir), opts...)
		if err != nil {
			return nil, false, err
		}
		return duckdb.NewBackend(s), true, nil
	}
}

// newSwitch opens the configured backends behind a replicate.Switch. wg
// is the write guard for remote primaries (memtrace's organizations'
// backends share it).
func (g *Gateway) newSwitch(ctx context.Context, cfg Config, log *slog.Logger, reg prometheus.Registerer, wg *replicate.WriteGuard) (*replicate.Switch, error) {
	plan, err := planFor(cfg)
	if err != nil {
		return nil, err
	}
	opts := []duckdb.Option{duckdb.WithGuard(g.guard)}
	if cfg.DuckDB.Threads > 0 {
		opts = append(opts, duckdb.WithThreads(cfg.DuckDB.Threads))
	}
	if cfg.DuckDB.MemoryLimit != "" {
		opts = append(opts, duckdb.WithMemoryLimit(cfg.DuckDB.MemoryLimit))
	}
	if cfg.Ingest.Durability == "buffer" {
		opts = append(opts, duckdb.WithBuffer(cfg.Ingest.BufferRows, cfg.Ingest.BufferAge.Duration, func(db string, rows int, err error) {
			log.Error("buffered write lost: the engine refused it after it was acknowledged", "db", db, "rows", rows, "err", err)
		}))
	}
	return replicate.New(ctx, plan, replicate.Options{
		Open:       openSpec(opts),
		Pipeline:   g.pipelineOptions(),
		WriteGuard: wg,
		Log:        log,
		Registerer: reg,
	})
}

// pinStore keeps the data directory's embedded store open for the
// gateway's lifetime when it is the primary at start (pg wire's catalog
// reads it directly) and returns it, else nil.
func pinStore(sw *replicate.Switch, dataDir string) *duckdb.Store {
	spec, err := normalizeSpec(replicate.EmbeddedPrefix, dataDir)
	if err != nil {
		return nil
	}
	b, ok := sw.Pin(spec).(*duckdb.Backend)
	if !ok {
		return nil
	}
	return b.Store()
}
