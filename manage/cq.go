package manage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"tsgate/errs"
	"tsgate/model"
)

// ContinuousQuery is Arc's continuous query, in its response shape: its
// id, the request's fields (JSON flattens them in place, Arc's order),
// then what tsgate keeps about it.
type ContinuousQuery struct {
	ID int64 `json:"id"`
	CQRequest
	lastRun
	LastProcessedTime  *string `json:"last_processed_time"`
	LastRecordsWritten *int64  `json:"last_records_written"`
	stamps
}

// CQRequest is Arc's create/update body (a full replace).
type CQRequest struct {
	Name                   string   `json:"name"`
	Description            *string  `json:"description"`
	Database               string   `json:"database"`
	SourceMeasurement      string   `json:"source_measurement"`
	DestinationMeasurement string   `json:"destination_measurement"`
	Query                  string   `json:"query"`
	Interval               string   `json:"interval"`
	TagColumns             []string `json:"tag_columns"`
	RetentionDays          *int     `json:"retention_days"`
	DeleteSourceAfterDays  *int     `json:"delete_source_after_days"`
	IsActive               bool     `json:"is_active"`
}

// CQExecution is one run of a continuous query.
type CQExecution struct {
	ID                       int64   `json:"id"`
	QueryID                  int64   `json:"query_id"`
	ExecutionID              string  `json:"execution_id"`
	ExecutionTime            string  `json:"execution_time"`
	Status                   string  `json:"status"`
	StartTime                string  `json:"start_time"`
	EndTime                  string  `json:"end_time"`
	RecordsRead              *int64  `json:"records_read"`
	RecordsWritten           int64   `json:"records_written"`
	ExecutionDurationSeconds float64 `json:"execution_duration_seconds"`
	ErrorMessage             *string `json:"error_message"`
}

// CQResult is Arc's answer to an execution.
type CQResult struct {
	QueryID                int64   `json:"query_id"`
	QueryName              string  `json:"query_name"`
	ExecutionID            string  `json:"execution_id"`
	Status                 string  `json:"status"`
	StartTime              string  `json:"start_time"`
	EndTime                string  `json:"end_time"`
	RecordsRead            *int64  `json:"records_read"`
	RecordsWritten         int64   `json:"records_written"`
	ExecutionTimeSeconds   float64 `json:"execution_time_seconds"`
	DestinationMeasurement string  `json:"destination_measurement"`
	DryRun                 bool    `json:"dry_run"`
	ExecutedAt             string  `json:"executed_at"`
	ExecutedQuery          string  `json:"executed_query,omitempty"`
}

var tagColumnRe = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// Checker classifies a query as the gateway would before running it.
type Checker func(ctx context.Context, db, sql string) error

func checkTags(tags []string) error {
	for _, t := range tags {
		switch {
		case t == "":
			return invalid("tag column name must not be empty")
		case t == "time":
			return invalid(`tag column "time" is reserved: the time column is always the row's timestamp`)
		case !tagColumnRe.MatchString(t):
			return invalid("invalid tag column " + strconv.Quote(t) + ": only alphanumeric, underscore, and hyphen are allowed")
		}
	}
	return nil
}

// substitute fills a query's {start_time} and {end_time} placeholders
// with quoted RFC 3339 instants, as Arc does.
func substitute(q string, start, end time.Time) string {
	q = strings.ReplaceAll(q, "{start_time}", "'"+start.UTC().Format(time.RFC3339)+"'")
	return strings.ReplaceAll(q, "{end_time}", "'"+end.UTC().Format(time.RFC3339)+"'")
}

func (m *Manager) checkCQ(ctx context.Context, r CQRequest, create bool, check Checker) error {
	if create {
		if err := required("name", r.Name, "database", r.Database, "source_measurement", r.SourceMeasurement,
			"destination_measurement", r.DestinationMeasurement); err != nil {
			return err
		}
	}
	if r.DestinationMeasurement != "" && !model.ValidMeasurement(r.DestinationMeasurement) {
		return invalid("invalid destination_measurement: must start with a letter and contain only alphanumeric characters, underscores, or hyphens")
	}
	if create {
		if err := required("query", r.Query, "interval", r.Interval); err != nil {
			return err
		}
	}
	if err := checkTags(r.TagColumns); err != nil {
		return err
	}
	if r.Query != "" {
		if !strings.Contains(r.Query, "{start_time}") || !strings.Contains(r.Query, "{end_time}") {
			return invalid("query must contain {start_time} and {end_time} placeholders")
		}
		probe := substitute(r.Query, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC))
		if err := check(ctx, r.Database, probe); err != nil {
			return errs.Wrap(errs.Invalid, err, "invalid query: "+errs.As(err).Msg)
		}
	}
	return nil
}

// CreateCQ stores a new continuous query.
func (m *Manager) CreateCQ(ctx context.Context, r CQRequest, check Checker) (ContinuousQuery, error) {
	if err := m.checkCQ(ctx, r, true, check); err != nil {
		return ContinuousQuery{}, err
	}
	return cqRecords().add(m, r.Name, func() *ContinuousQuery {
		q := &ContinuousQuery{ID: m.nextID("cq"), stamps: m.created()}
		applyCQ(q, r)
		return q
	})
}

func applyCQ(q *ContinuousQuery, r CQRequest) {
	q.CQRequest = r
	q.TagColumns = nil
	if len(r.TagColumns) > 0 {
		q.TagColumns = slices.Clone(r.TagColumns)
	}
}

// CQs lists continuous queries, newest first, optionally of one database
// and by activity (Arc compares is_active with the literal "true").
func (m *Manager) CQs(database, isActive string) []ContinuousQuery {
	m.lock()
	defer m.unlock()
	var out []ContinuousQuery
	recs := cqRecords()
	for i := len(m.state.CQs) - 1; i >= 0; i-- {
		q := m.state.CQs[i]
		if database != "" && q.Database != database {
			continue
		}
		if isActive != "" && q.IsActive != (isActive == "true") {
			continue
		}
		out = append(out, recs.show(m, q))
	}
	return out
}

func (m *Manager) cq(id int64) (*ContinuousQuery, error) { return cqRecords().get(m, id) }

// CQ returns one continuous query.
func (m *Manager) CQ(id int64) (ContinuousQuery, error) { return cqRecords().view(m, id) }

// UpdateCQ replaces a continuous query's fields.
func (m *Manager) UpdateCQ(ctx context.Context, id int64, r CQRequest, check Checker) (ContinuousQuery, error) {
	if err := m.checkCQ(ctx, r, false, check); err != nil {
		return ContinuousQuery{}, err
	}
	return cqRecords().update(m, id, func(q *ContinuousQuery) {
		applyCQ(q, r)
		q.UpdatedAt = stamp(m.now())
	})
}

// DeleteCQ removes a continuous query and its executions.
func (m *Manager) DeleteCQ(id int64) error { return cqRecords().remove(m, id) }

// CQExecutions lists a query's runs, newest first.
func (m *Manager) CQExecutions(id int64, limit int) ([]CQExecution, error) {
	return cqRecords().executions(m, id, limit)
}

// CQWindow is the window a run processes; zero times take Arc's
// defaults (from the last processed time, else an hour ago, to now).
type CQWindow struct {
	Start, End time.Time
	DryRun     bool
	// prefix names the run in its execution id: "cq-exec-" for a
	// request, "cq-sched-" for the scheduler.
	prefix string
	// due, the scheduler's test, is asked once the query is held, of the
	// state as it is then (errNotDue when another replica just ran it).
	due func(ContinuousQuery) bool
}

// ExecuteCQ runs a continuous query over a window: the query with its
// placeholders filled runs through the pipeline, and its rows are written
// to the destination measurement through tsgate's write path (time from
// the `time` column, else the window's start; declared tag columns as
// tags, every other column a field).
func (m *Manager) ExecuteCQ(ctx context.Context, id int64, w CQWindow) (CQResult, error) {
	// A run holds the query before reading it, so the window starts where
	// the last run (on any replica) ended; a dry run only reads it.
	cq, release, err := cqRecords().take(ctx, m, id, !w.DryRun)
	if err != nil {
		return CQResult{}, err
	}
	defer release()
	if w.due != nil && !w.due(cq) {
		return CQResult{}, errNotDue
	}
	now := m.now().UTC()
	if w.End.IsZero() {
		w.End = now
	}
	if w.Start.IsZero() {
		w.Start = now.Add(-time.Hour)
		if cq.LastProcessedTime != nil {
			if t, err := time.Parse(time.RFC3339, *cq.LastProcessedTime); err == nil {
				w.Start = t
			}
		}
	}
	if !w.Start.Before(w.End) {
		return CQResult{}, invalid("start_time must be before end_time")
	}
	if !cq.IsActive {
		return CQResult{}, invalid("Continuous query is not active")
	}
	if w.prefix == "" {
		w.prefix = "cq-exec-"
	}
	var rnd [4]byte
	rand.Read(rnd[:])
	execID := w.prefix + hex.EncodeToString(rnd[:])
	text := substitute(cq.Query, w.Start, w.End)
	res := CQResult{QueryID: cq.ID, QueryName: cq.Name, ExecutionID: execID, Status: "completed",
		StartTime: w.Start.UTC().Format(time.RFC3339), EndTime: w.End.UTC().Format(time.RFC3339),
		DestinationMeasurement: cq.DestinationMeasurement, DryRun: w.DryRun, ExecutedAt: now.Format(time.RFC3339)}
	if w.DryRun {
		res.Status, res.ExecutedQuery = "dry_run", text
		return res, nil
	}
	start := m.now()
	written, runErr := m.runCQ(ctx, cq, text, w.Start)
	res.RecordsWritten = written
	res.ExecutionTimeSeconds = m.now().Sub(start).Seconds()
	m.recordCQ(cq.ID, res, w.End, runErr)
	if runErr != nil {
		return res, errs.Wrap(errs.CodeOf(runErr), runErr, "Execution failed: "+errs.As(runErr).Msg)
	}
	return res, nil
}

func (m *Manager) runCQ(ctx context.Context, cq ContinuousQuery, text string, windowStart time.Time) (int64, error) {
	rows, err := m.engine.Query(ctx, cq.Database, text)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols := rows.Columns()
	timeCol := slices.IndexFunc(cols, func(c model.ResultColumn) bool { return c.Name == "time" })
	tags := map[string]bool{}
	for _, t := range cq.TagColumns {
		tags[t] = true
	}
	var b model.Batch
	t := b.Table(cq.DestinationMeasurement)
	vals := make([]model.Value, len(cols))
	cells := make([]model.Cell, 0, len(cols))
	for rows.Next(vals) {
		ts := windowStart.UnixMicro()
		if timeCol >= 0 {
			switch v := vals[timeCol]; v.Type {
			case model.TypeTime, model.TypeInt:
				ts = v.I
			case model.TypeFloat:
				ts = int64(v.F)
			case model.TypeString, model.TypeText:
				p, err := time.Parse(time.RFC3339Nano, v.S)
				if err != nil {
					return 0, errs.Newf(errs.Invalid, "time value %q is not RFC 3339", v.S)
				}
				ts = p.UnixMicro()
			}
		}
		cells = cells[:0]
		for i, c := range cols {
			if i == timeCol || vals[i].IsNull() {
				continue
			}
			v := vals[i]
			switch v.Type {
			case model.TypeTime:
				v = model.Int(v.I)
			case model.TypeText:
				v = model.String(v.S)
			}
			if tags[c.Name] {
				if v.Type != model.TypeString {
					s, _ := v.Text()
					v = model.String(s)
				}
				cells = append(cells, model.Cell{Name: c.Name, Tag: true, Value: v})
				continue
			}
			cells = append(cells, model.Cell{Name: c.Name, Value: v})
		}
		if err := t.AppendRow(ts, cells); err != nil {
			return 0, errs.Wrap(errs.Invalid, err, err.Error())
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if t.Len() == 0 {
		return 0, nil
	}
	res, err := m.engine.Write(ctx, cq.Database, &b)
	if err != nil {
		return int64(res.Rows), err
	}
	if res.Rejected > 0 {
		return int64(res.Rows), errs.Newf(errs.Invalid, "%d rows rejected: %v", res.Rejected, res.Conflicts[0])
	}
	return int64(res.Rows), nil
}

func (m *Manager) recordCQ(id int64, res CQResult, processed time.Time, runErr error) {
	m.lock()
	defer m.unlock()
	status, msg := outcome(runErr)
	// Arc stores a successful run's error_message as NULL (its retention
	// history, by contrast, stores "").
	var errMsg *string
	if runErr != nil {
		errMsg = &msg
	}
	cqRecords().record(m, &CQExecution{
		ID: m.nextID("cq_execution"), QueryID: id, ExecutionID: res.ExecutionID, ExecutionTime: res.ExecutedAt,
		Status: status, StartTime: res.StartTime, EndTime: res.EndTime, RecordsWritten: res.RecordsWritten,
		ExecutionDurationSeconds: res.ExecutionTimeSeconds, ErrorMessage: errMsg,
	})
	if q, err := m.cq(id); err == nil && runErr == nil {
		p := processed.UTC().Format(time.RFC3339)
		q.LastProcessedTime = &p
	}
	_ = m.save()
}
