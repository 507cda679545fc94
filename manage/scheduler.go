package manage

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
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
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	m.setRunning(&runState{schedule: c, nextTick: m.now().Add(tickEvery)})
	defer m.setRunning(nil)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.setRunning(&runState{schedule: c, nextTick: m.now().Add(tickEvery)})
			m.tick(auth.Internal(ctx), c, log)
		}
	}
}

// tickEvery is how often the scheduler looks for due jobs.
const tickEvery = 5 * time.Second

// runState is a running scheduler: what it runs, and when it looks next.
type runState struct {
	schedule Schedule
	nextTick time.Time
}

func (m *Manager) setRunning(r *runState) {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	m.running = r
}

// SchedulerStatus is what the scheduler is doing, for Arc's
// GET /api/v1/schedulers.
type SchedulerStatus struct {
	// Running: Run is running, with Schedule.
	Running  bool
	Schedule Schedule
	// CQJobs are the continuous queries it runs, by id: the active ones
	// whose interval is a Go duration of at least 10 s (it skips the
	// others).
	CQJobs []CQJob
	// RetentionNext is the tick at which the first active policy falls
	// due; zero when no policy is active.
	RetentionNext time.Time
}

// CQJob is a continuous query the scheduler runs.
type CQJob struct {
	ID       int64
	Name     string
	Interval time.Duration
}

// SchedulerStatus reports the scheduler's state: zero when Run is not
// running; jobs only of the kinds its Schedule runs.
func (m *Manager) SchedulerStatus() SchedulerStatus {
	m.runMu.Lock()
	r := m.running
	m.runMu.Unlock()
	if r == nil {
		return SchedulerStatus{}
	}
	st := SchedulerStatus{Running: true, Schedule: r.schedule}
	if r.schedule.ContinuousQueries {
		qs := m.CQs("", "true")
		slices.SortFunc(qs, func(a, b ContinuousQuery) int { return cmp.Compare(a.ID, b.ID) })
		for _, q := range qs {
			if every, ok := cqEvery(q); ok {
				st.CQJobs = append(st.CQJobs, CQJob{ID: q.ID, Name: q.Name, Interval: every})
			}
		}
	}
	if r.schedule.Retention {
		for _, p := range m.Retentions() {
			if !p.IsActive {
				continue
			}
			// Due once RetentionEvery has passed since its last run (as
			// tick decides), run at the first tick from then.
			at := r.nextTick
			if due, ok := dueFrom(p.LastExecutionTime, r.schedule.RetentionEvery); ok && due.After(at) {
				at = at.Add((due.Sub(at) + tickEvery - 1) / tickEvery * tickEvery)
			}
			if st.RetentionNext.IsZero() || at.Before(st.RetentionNext) {
				st.RetentionNext = at
			}
		}
	}
	return st
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
	due, ok := dueFrom(last, every)
	return !ok || !now.Before(due)
}

// dueFrom is when a job last run at *last falls due again; ok is false
// when it is due at once (never run, or a time that does not parse).
func dueFrom(last *string, every time.Duration) (time.Time, bool) {
	if last == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, *last)
	if err != nil {
		return time.Time{}, false
	}
	return t.Add(every), true
}

// cqEvery is how often the scheduler runs q; ok is false for a query it
// leaves alone: an interval that is not a Go duration of at least
// minCQInterval.
func cqEvery(q ContinuousQuery) (time.Duration, bool) {
	every, err := time.ParseDuration(q.Interval)
	return every, err == nil && every >= minCQInterval
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
		every, ok := cqEvery(q)
		if !ok {
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
