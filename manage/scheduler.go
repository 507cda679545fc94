package manage

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"tsgate/auth"
	"tsgate/errs"
)

// minCQInterval is the shortest interval the scheduler runs a continuous
// query at (Arc's).
const minCQInterval = 10 * time.Second

// Run runs, until ctx ends, every active retention policy once per
// retentionEvery and every active continuous query once per its interval
// (a Go duration, at least 10 s), each over the window since its last
// processed time. Jobs run as tsgate itself (auth.Internal), one at a
// time; a manual execution of the same job meanwhile is refused.
func (m *Manager) Run(ctx context.Context, c Schedule, log *slog.Logger) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.tick(auth.Internal(ctx), c, log)
		}
	}
}

// Schedule says what the scheduler runs.
type Schedule struct {
	// Retention runs active policies, each once per RetentionEvery.
	Retention      bool
	RetentionEvery time.Duration
	// ContinuousQueries runs active continuous queries.
	ContinuousQueries bool
}

// errNotDue: a job the scheduler found due had run (on another replica)
// by the time it was held.
var errNotDue = errors.New("not due any more")

// quiet reports a scheduled run that did nothing worth logging: not due
// any more, or running on another replica right now.
func quiet(err error) bool {
	return errors.Is(err, errNotDue) || errs.CodeOf(err) == errs.Conflict
}

// dueAfter: a job whose last run (on any replica) is at least every ago.
func dueAfter(now time.Time, last *string, every time.Duration) bool {
	if last == nil {
		return true
	}
	t, err := time.Parse(time.RFC3339, *last)
	return err != nil || now.Sub(t) >= every
}

func (m *Manager) tick(ctx context.Context, c Schedule, log *slog.Logger) {
	now := m.now().UTC()
	for _, p := range m.Retentions() {
		if !c.Retention || !p.IsActive || ctx.Err() != nil {
			continue
		}
		due := func(p RetentionPolicy) bool { return dueAfter(now, p.LastExecutionTime, c.RetentionEvery) }
		if !due(p) {
			continue
		}
		if res, err := m.executeRetention(ctx, p.ID, false, due); err != nil {
			if !quiet(err) {
				log.Error("retention policy failed", "policy", p.Name, "err", err)
			}
		} else if res.DeletedCount > 0 {
			log.Info("retention policy ran", "policy", p.Name, "deleted", res.DeletedCount, "cutoff", res.CutoffDate)
		}
	}
	for _, q := range m.CQs("", "true") {
		if !c.ContinuousQueries || ctx.Err() != nil {
			return
		}
		every, err := time.ParseDuration(q.Interval)
		if err != nil || every < minCQInterval {
			continue
		}
		// Due by its last run, failed ones included (a failing query is
		// retried at its interval, not at every tick); the window still
		// starts where the last success ended.
		due := func(q ContinuousQuery) bool { return dueAfter(now, q.LastExecutionTime, every) }
		if !due(q) {
			continue
		}
		if _, err := m.ExecuteCQ(ctx, q.ID, CQWindow{End: now, prefix: "cq-sched-", due: due}); err != nil && !quiet(err) {
			log.Error("continuous query failed", "query", q.Name, "err", err)
		}
	}
}
