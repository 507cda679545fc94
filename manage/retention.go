package manage

import (
	"context"
	"time"

	"tsgate/errs"
)

// RetentionPolicy is Arc's retention policy, in its response shape (field
// order as Arc's; the last_* fields come from the newest execution).
type RetentionPolicy struct {
	ID int64 `json:"id"`
	// The request's fields, flattened in place by JSON.
	RetentionRequest
	lastRun
	LastDeletedCount *int64 `json:"last_deleted_count"`
	stamps
}

// RetentionRequest is Arc's create/update body: every field is replaced
// (a missing is_active is false, a missing buffer_days 0, as in Arc).
type RetentionRequest struct {
	Name          string  `json:"name"`
	Database      string  `json:"database"`
	Measurement   *string `json:"measurement"`
	RetentionDays int     `json:"retention_days"`
	BufferDays    int     `json:"buffer_days"`
	IsActive      bool    `json:"is_active"`
}

// RetentionExecution is one run of a policy.
type RetentionExecution struct {
	ID                  int64   `json:"id"`
	PolicyID            int64   `json:"policy_id"`
	ExecutionTime       string  `json:"execution_time"`
	Status              string  `json:"status"`
	DeletedCount        int64   `json:"deleted_count"`
	CutoffDate          *string `json:"cutoff_date"`
	ExecutionDurationMs float64 `json:"execution_duration_ms"`
	ErrorMessage        *string `json:"error_message"`
}

// RetentionResult is Arc's answer to an execution.
type RetentionResult struct {
	PolicyID             int64    `json:"policy_id"`
	PolicyName           string   `json:"policy_name"`
	DeletedCount         int64    `json:"deleted_count"`
	FilesDeleted         int      `json:"files_deleted"`
	ExecutionTimeMs      float64  `json:"execution_time_ms"`
	DryRun               bool     `json:"dry_run"`
	CutoffDate           string   `json:"cutoff_date"`
	AffectedMeasurements []string `json:"affected_measurements"`
}

func invalid(msg string) error { return errs.New(errs.Invalid, msg) }

func checkRetention(r RetentionRequest, create bool) error {
	if create {
		if err := required("name", r.Name, "database", r.Database); err != nil {
			return err
		}
		if r.RetentionDays <= 0 {
			return invalid("retention_days must be greater than 0")
		}
	}
	if r.RetentionDays <= r.BufferDays {
		return invalid("retention_days must be greater than buffer_days")
	}
	return nil
}

// CreateRetention stores a new policy.
func (m *Manager) CreateRetention(r RetentionRequest) (RetentionPolicy, error) {
	if err := checkRetention(r, true); err != nil {
		return RetentionPolicy{}, err
	}
	return retentionRecords().add(m, r.Name, func() *RetentionPolicy {
		return &RetentionPolicy{ID: m.nextID("retention"), RetentionRequest: r, stamps: m.created()}
	})
}

// Retentions lists the policies, newest first (Arc's created_at DESC).
func (m *Manager) Retentions() []RetentionPolicy {
	m.lock()
	defer m.unlock()
	out := make([]RetentionPolicy, 0, len(m.state.Retention))
	recs := retentionRecords()
	for i := len(m.state.Retention) - 1; i >= 0; i-- {
		out = append(out, recs.show(m, m.state.Retention[i]))
	}
	return out
}

// Retention returns one policy.
func (m *Manager) Retention(id int64) (RetentionPolicy, error) {
	return retentionRecords().view(m, id)
}

// UpdateRetention replaces a policy's fields.
func (m *Manager) UpdateRetention(id int64, r RetentionRequest) (RetentionPolicy, error) {
	if err := checkRetention(r, false); err != nil {
		return RetentionPolicy{}, err
	}
	return retentionRecords().update(m, id, func(p *RetentionPolicy) {
		p.RetentionRequest = r
		p.UpdatedAt = stamp(m.now())
	})
}

// DeleteRetention removes a policy and its executions.
func (m *Manager) DeleteRetention(id int64) error { return retentionRecords().remove(m, id) }

// RetentionExecutions lists a policy's runs, newest first.
func (m *Manager) RetentionExecutions(id int64, limit int) ([]RetentionExecution, error) {
	return retentionRecords().executions(m, id, limit)
}

// ExecuteRetention deletes the rows older than the policy's cut-off (now
// minus retention and buffer days) from its measurement, or from every
// measurement of its database. A dry run only counts them.
func (m *Manager) ExecuteRetention(ctx context.Context, id int64, dryRun bool) (RetentionResult, error) {
	return m.executeRetention(ctx, id, dryRun, nil)
}

// executeRetention runs a policy once it holds it. due, the scheduler's
// test, is asked again then, of the state as it is now: another replica
// may have just run the policy (errNotDue).
func (m *Manager) executeRetention(ctx context.Context, id int64, dryRun bool, due func(RetentionPolicy) bool) (RetentionResult, error) {
	start := m.now()
	pol, release, err := retentionRecords().take(ctx, m, id, true)
	if err != nil {
		return RetentionResult{}, err
	}
	defer release()
	if !pol.IsActive {
		return RetentionResult{}, invalid("Retention policy is not active")
	}
	if due != nil && !due(pol) {
		return RetentionResult{}, errNotDue
	}
	cutoff := start.UTC().Add(-time.Duration(pol.RetentionDays+pol.BufferDays) * 24 * time.Hour)
	res := RetentionResult{PolicyID: pol.ID, PolicyName: pol.Name, DryRun: dryRun, CutoffDate: cutoff.Format(time.RFC3339)}
	var ms []string
	if pol.Measurement != nil {
		ms = []string{*pol.Measurement}
	} else if ms, err = m.engine.Measurements(ctx, pol.Database); err != nil {
		return res, err
	}
	// Arc reports every measurement the policy covered, whether or not it
	// had rows to delete (null when the database has none).
	if len(ms) > 0 {
		res.AffectedMeasurements = ms
	}
	where := olderThan(cutoff)
	runErr := func() error {
		for _, meas := range ms {
			n, err := m.CountRows(ctx, pol.Database, meas, where)
			if err != nil {
				return errs.Wrap(errs.CodeOf(err), err, "retention aborted at measurement \""+meas+"\": "+errs.As(err).Msg)
			}
			if n == 0 {
				continue
			}
			if !dryRun {
				if err := m.engine.DeleteRows(ctx, pol.Database, meas, where); err != nil {
					return errs.Wrap(errs.CodeOf(err), err, "retention aborted at measurement \""+meas+"\": "+errs.As(err).Msg)
				}
			}
			res.DeletedCount += n
			res.FilesDeleted++
		}
		return nil
	}()
	res.ExecutionTimeMs = float64(m.now().Sub(start).Microseconds()) / 1000
	if !dryRun {
		m.recordRetention(pol.ID, start, res, runErr)
	}
	return res, runErr
}

func (m *Manager) recordRetention(id int64, at time.Time, res RetentionResult, runErr error) {
	m.lock()
	defer m.unlock()
	cutoff := res.CutoffDate
	status, msg := outcome(runErr)
	retentionRecords().record(m, &RetentionExecution{
		ID: m.nextID("retention_execution"), PolicyID: id, ExecutionTime: stamp(at), Status: status,
		DeletedCount: res.DeletedCount, CutoffDate: &cutoff, ExecutionDurationMs: res.ExecutionTimeMs, ErrorMessage: &msg,
	})
	_ = m.save() // the deletion happened; a lost history row is not worth failing it
}
