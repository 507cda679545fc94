package gateway

import (
	"context"
	"fmt"
)

// Reload applies a re-read configuration without a restart. Only the
// backends ([migration] primary and secondary, and backend.url when the
// primary follows it) and the migration knobs are applied; listeners,
// auth and the rest keep their start-up values until a restart. A reload
// that would make a secondary with undelivered batches the primary is
// refused and the running configuration stays (see replicate.Switch.Reload).
func (g *Gateway) Reload(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	cfg.DataDir = g.cfg.DataDir
	plan, err := planFor(cfg)
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	if err := g.sw.Reload(ctx, plan); err != nil {
		return err
	}
	g.cfg.Migration, g.cfg.Backend = cfg.Migration, cfg.Backend
	return nil
}
