package manage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"tsgate/dialects"
	"tsgate/dialects/duckdbsql"
	"tsgate/errs"
	"tsgate/internal/atomicfile"
	"tsgate/model"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// Engine is what the jobs need from the gateway: Arc SQL through the
// query pipeline (guard and translation included), tsgate's write path,
// the catalog, and the backend's own delete. Contexts carry the caller
// (auth.CallerFrom); scheduled runs use auth.Internal.
type Engine interface {
	Query(ctx context.Context, db, sql string) (model.Rows, error)
	Write(ctx context.Context, db string, b *model.Batch) (model.WriteResult, error)
	Databases(ctx context.Context) ([]string, error)
	Measurements(ctx context.Context, db string) ([]string, error)
	DeleteRows(ctx context.Context, db, m string, where ast.Expr) error
	DropDatabase(ctx context.Context, db string) error
}

// Manager owns the state file and runs jobs against an Engine.
type Manager struct {
	path   string
	engine Engine
	now    func() time.Time

	mu    sync.Mutex
	state state
	// running guards against one policy or query running twice at once
	// (a manual execute while the scheduler runs it).
	running map[string]bool
}

// state is the file's content.
type state struct {
	// Databases are the databases created through the API, with when.
	Databases map[string]time.Time  `json:"databases,omitempty"`
	Retention []*RetentionPolicy    `json:"retention_policies,omitempty"`
	RetExecs  []*RetentionExecution `json:"retention_executions,omitempty"`
	CQs       []*ContinuousQuery    `json:"continuous_queries,omitempty"`
	CQExecs   []*CQExecution        `json:"cq_executions,omitempty"`
	NextID    map[string]int64      `json:"next_id,omitempty"`
}

// keepExecutions bounds the history kept per policy or query.
const keepExecutions = 100

// Open loads the state file at path (absent = empty).
func Open(path string, engine Engine) (*Manager, error) {
	m := &Manager{path: path, engine: engine, now: time.Now, running: map[string]bool{}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(b, &m.state); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return m, nil
}

// nextID hands out ids per kind; never reused.
func (m *Manager) nextID(kind string) int64 {
	if m.state.NextID == nil {
		m.state.NextID = map[string]int64{}
	}
	m.state.NextID[kind]++
	return m.state.NextID[kind]
}

// save writes the state atomically and durably (caller holds mu).
func (m *Manager) save() error {
	b, err := json.MarshalIndent(&m.state, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(m.path, b, 0o600)
}

// stamp renders a time as Arc's API does (SQLite timestamps read by
// database/sql): UTC, seconds.
func stamp(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

// ---- databases ----

// DatabaseCreated reports when db was created through the API.
func (m *Manager) DatabaseCreated(db string) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.state.Databases[db]
	return t, ok
}

// Databases lists the databases created through the API.
func (m *Manager) Databases() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.state.Databases))
	for db := range m.state.Databases {
		out = append(out, db)
	}
	slices.Sort(out)
	return out
}

// CreateDatabase records db (Arc writes a marker; a backend creates its
// database on the first write). It fails with errs.Conflict when db
// exists already.
func (m *Manager) CreateDatabase(ctx context.Context, db string) (time.Time, error) {
	ms, err := m.engine.Measurements(ctx, db)
	if err != nil {
		return time.Time{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.state.Databases[db]; ok || len(ms) > 0 {
		return time.Time{}, errs.Newf(errs.Conflict, "Database '%s' already exists", db)
	}
	if m.state.Databases == nil {
		m.state.Databases = map[string]time.Time{}
	}
	now := m.now().UTC().Truncate(time.Second)
	m.state.Databases[db] = now
	if err := m.save(); err != nil {
		delete(m.state.Databases, db)
		return time.Time{}, err
	}
	return now, nil
}

// DropDatabase deletes db on the backend and forgets it; it returns the
// number of measurements it held.
func (m *Manager) DropDatabase(ctx context.Context, db string) (int, error) {
	ms, err := m.engine.Measurements(ctx, db)
	if err != nil {
		return 0, err
	}
	if len(ms) > 0 {
		if err := m.engine.DropDatabase(ctx, db); err != nil {
			return 0, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.state.Databases[db]; ok {
		delete(m.state.Databases, db)
		if err := m.save(); err != nil {
			return len(ms), err
		}
	}
	return len(ms), nil
}

// ---- rows ----

// arcPredicate prints a condition as Arc SQL (DuckDB's dialect), the text
// the pipeline runs as written on the embedded store and translates for
// any other backend.
func arcPredicate(where ast.Expr) (string, error) {
	return duckdbsql.New().(dialects.Predicater).Predicate(where, &target.Env{})
}

// CountRows counts m's rows of db for which where holds, through the
// query pipeline.
func (m *Manager) CountRows(ctx context.Context, db, measurement string, where ast.Expr) (int64, error) {
	cond, err := arcPredicate(where)
	if err != nil {
		return 0, err
	}
	rows, err := m.engine.Query(ctx, db, "SELECT count(*) AS n FROM "+ast.QuoteIdentPG(measurement)+" WHERE "+cond)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	v := make([]model.Value, len(rows.Columns()))
	var n int64
	if len(v) == 1 && rows.Next(v) {
		switch v[0].Type {
		case model.TypeInt:
			n = v[0].I
		case model.TypeUint:
			n = int64(v[0].U)
		case model.TypeFloat:
			n = int64(v[0].F)
		}
	}
	return n, rows.Err()
}

// DeleteRows deletes m's rows of db for which where holds, natively.
func (m *Manager) DeleteRows(ctx context.Context, db, measurement string, where ast.Expr) error {
	return m.engine.DeleteRows(ctx, db, measurement, where)
}

// olderThan is the condition time < cutoff, built, not parsed.
func olderThan(cutoff time.Time) ast.Expr {
	return &ast.Binary{Op: ast.OpLt, L: &ast.ColumnRef{Name: "time"}, R: &ast.TimestampLit{Micros: cutoff.UnixMicro()}}
}

// claim marks a job running; false if it already is.
func (m *Manager) claim(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.running[key] {
		return false
	}
	m.running[key] = true
	return true
}

func (m *Manager) release(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.running, key)
}
