package manage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"tsgate/dialects"
	"tsgate/dialects/duckdbsql"
	"tsgate/errs"
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

// Manager owns the state document and runs jobs against an Engine.
type Manager struct {
	backing backing
	engine  Engine
	now     func() time.Time

	// mu guards state, the document as of version; every entry point
	// takes it through lock, which first reads the newer document another
	// replica stored, if any.
	mu          sync.Mutex
	state       state
	version     int64
	stateUnlock func()

	// running is what Run is doing (nil when it is not running), for
	// SchedulerStatus; guarded by runMu, not mu, so a status report never
	// waits for the shared store.
	runMu   sync.Mutex
	running *runState
}

// state is the document's content.
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

// Open loads the state file at path (absent = empty): one gateway's state.
func Open(path string, engine Engine) (*Manager, error) {
	return open(context.Background(), newFileBacking(path), engine, path)
}

// OpenPostgres keeps the state in the PostgreSQL database at url (the
// gateway's auth.store_url), shared by every replica that names it.
func OpenPostgres(ctx context.Context, url string, engine Engine) (*Manager, error) {
	b, err := openPGBacking(ctx, url)
	if err != nil {
		return nil, err
	}
	m, err := open(ctx, b, engine, "the shared management state")
	if err != nil {
		b.close()
	}
	return m, err
}

func open(ctx context.Context, b backing, engine Engine, name string) (*Manager, error) {
	m := &Manager{backing: b, engine: engine, now: time.Now}
	doc, v, err := b.load(ctx)
	if err != nil {
		return nil, err
	}
	if doc != nil {
		if err := json.Unmarshal(doc, &m.state); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	m.version = v
	return m, nil
}

// Close releases the shared store's connections.
func (m *Manager) Close() { m.backing.close() }

// lock takes mu — and, when the state is shared, the replicas' state
// lock — and brings state up to the stored version, so an operation
// reads and writes the newest state and replicas change it one at a
// time. When the store cannot be reached, the state last read answers
// (reads may be stale; a write then fails at save). unlock releases.
func (m *Manager) lock() {
	m.mu.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	release, err := m.backing.lockState(ctx)
	if err != nil {
		return
	}
	m.stateUnlock = release
	v, err := m.backing.version(ctx)
	if err != nil || v == m.version {
		return
	}
	doc, v, err := m.backing.load(ctx)
	if err != nil {
		return
	}
	var s state
	if doc != nil && json.Unmarshal(doc, &s) != nil {
		return
	}
	m.state, m.version = s, v
}

func (m *Manager) unlock() {
	if m.stateUnlock != nil {
		m.stateUnlock()
		m.stateUnlock = nil
	}
	m.mu.Unlock()
}

// nextID hands out ids per kind; never reused.
func (m *Manager) nextID(kind string) int64 {
	if m.state.NextID == nil {
		m.state.NextID = map[string]int64{}
	}
	m.state.NextID[kind]++
	return m.state.NextID[kind]
}

// save stores the state (caller holds mu): atomically and durably in the
// file, or in the shared store if no other replica changed it since this
// one read it. A caller whose save fails undoes its change; after a lost
// race the next lock reads the winner's state.
func (m *Manager) save() error {
	b, err := json.MarshalIndent(&m.state, "", "  ")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	v, err := m.backing.store(ctx, b, m.version)
	if err != nil {
		m.version = -1 // read it again at the next lock
		return err
	}
	m.version = v
	return nil
}

// saveError is a failed save as the API reports it: a lost race (409) or
// an unreachable store (503) as such, anything else as msg.
func saveError(err error, msg string) error {
	switch errs.CodeOf(err) {
	case errs.Conflict, errs.Unavailable:
		return err
	}
	return errs.Wrap(errs.Internal, err, msg)
}

// stamp renders a time as Arc's API does (SQLite timestamps read by
// database/sql): UTC, seconds.
func stamp(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

// ---- databases ----

// DatabaseCreated reports when db was created through the API.
func (m *Manager) DatabaseCreated(db string) (time.Time, bool) {
	m.lock()
	defer m.unlock()
	t, ok := m.state.Databases[db]
	return t, ok
}

// Databases lists the databases created through the API.
func (m *Manager) Databases() []string {
	m.lock()
	defer m.unlock()
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
	m.lock()
	defer m.unlock()
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
	m.lock()
	defer m.unlock()
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
	return model.Count(rows)
}

// DeleteRows deletes m's rows of db for which where holds, natively.
func (m *Manager) DeleteRows(ctx context.Context, db, measurement string, where ast.Expr) error {
	return m.engine.DeleteRows(ctx, db, measurement, where)
}

// olderThan is the condition time < cutoff, built, not parsed.
func olderThan(cutoff time.Time) ast.Expr {
	return &ast.Binary{Op: ast.OpLt, L: &ast.ColumnRef{Name: "time"}, R: &ast.TimestampLit{Micros: cutoff.UnixMicro()}}
}
