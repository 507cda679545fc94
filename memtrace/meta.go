package memtrace

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"

	"tsgate/errs"
)

// Meta is the metadata store: orgs, API keys, agents, sessions. SQLite
// by default; PostgreSQL when several replicas must share it.
type Meta struct {
	db  *sql.DB
	pg  bool
	now func() time.Time
}

// OpenMeta opens the store: a postgres:// or postgresql:// URL selects
// PostgreSQL, anything else is a SQLite file path. The schema is created
// when missing.
func OpenMeta(ctx context.Context, target string) (*Meta, error) {
	m := &Meta{now: time.Now}
	var err error
	if strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://") {
		m.pg = true
		m.db, err = sql.Open("pgx", target)
	} else {
		if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
			return nil, fmt.Errorf("metadata directory: %w", err)
		}
		m.db, err = sql.Open("sqlite", "file:"+target+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)")
		// One connection: SQLite has one writer, and a pool would only
		// trade waiting here for SQLITE_BUSY there.
		m.db.SetMaxOpenConns(1)
	}
	if err != nil {
		return nil, fmt.Errorf("open metadata store: %w", err)
	}
	if err := m.initSchema(ctx); err != nil {
		m.db.Close()
		return nil, err
	}
	return m, nil
}

// Close releases the store.
func (m *Meta) Close() error { return m.db.Close() }

// Shared reports whether several replicas may share the store
// (PostgreSQL): a replica then cannot know every memory from its own
// writes alone.
func (m *Meta) Shared() bool { return m.pg }

// Ping reports whether the store answers.
func (m *Meta) Ping(ctx context.Context) error { return m.db.PingContext(ctx) }

// Times are stored as Unix nanoseconds: one portable, orderable
// representation in both SQLite and PostgreSQL, with no driver guessing
// time zones.
func (m *Meta) initSchema(ctx context.Context) error {
	serial := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if m.pg {
		serial = "BIGSERIAL PRIMARY KEY"
	}
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS organizations (
			id TEXT PRIMARY KEY,
			name TEXT NOT NULL,
			created_at BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS api_keys (
			id ` + serial + `,
			key_hash TEXT NOT NULL,
			key_prefix TEXT NOT NULL,
			name TEXT NOT NULL UNIQUE,
			org_id TEXT NOT NULL REFERENCES organizations(id),
			permissions TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			enabled INTEGER NOT NULL DEFAULT 1)`,
		`CREATE INDEX IF NOT EXISTS idx_api_keys_prefix ON api_keys(key_prefix)`,
		`CREATE TABLE IF NOT EXISTS agents (
			id TEXT PRIMARY KEY,
			org_id TEXT NOT NULL REFERENCES organizations(id),
			name TEXT NOT NULL,
			description TEXT NOT NULL,
			config_json TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			last_active_at BIGINT,
			UNIQUE(org_id, name))`,
		`CREATE TABLE IF NOT EXISTS sessions (
			id TEXT PRIMARY KEY,
			org_id TEXT NOT NULL REFERENCES organizations(id),
			agent_id TEXT NOT NULL REFERENCES agents(id),
			status TEXT NOT NULL,
			metadata_json TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			closed_at BIGINT)`,
		`CREATE INDEX IF NOT EXISTS idx_sessions_org_agent ON sessions(org_id, agent_id)`,
		// An organization's own backend (memtrace's arc_instances): at
		// most one, its URL sealed under the master key.
		`CREATE TABLE IF NOT EXISTS org_backends (
			org_id TEXT PRIMARY KEY REFERENCES organizations(id),
			id TEXT NOT NULL,
			url_sealed TEXT NOT NULL,
			database TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL)`,
	}
	return m.locked(ctx, func(ex execer) error {
		for _, s := range stmts {
			if _, err := ex.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("metadata schema: %w", err)
			}
		}
		return nil
	})
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// metaLockID is the PostgreSQL advisory lock that serializes schema
// creation and bootstrap across replicas starting together (concurrent
// CREATE TABLE IF NOT EXISTS can fail on PostgreSQL).
const metaLockID = 0x6d656d7472616365 // "memtrace"

func (m *Meta) locked(ctx context.Context, fn func(execer) error) error {
	if !m.pg {
		return fn(m.db)
	}
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("metadata store: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(metaLockID)); err != nil {
		return fmt.Errorf("metadata store lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(metaLockID))
	return fn(pgConn{conn})
}

// pgConn rebinds ? placeholders on a pinned connection.
type pgConn struct{ c *sql.Conn }

func (p pgConn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return p.c.ExecContext(ctx, rebind(q), args...)
}
func (p pgConn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return p.c.QueryContext(ctx, rebind(q), args...)
}
func (p pgConn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return p.c.QueryRowContext(ctx, rebind(q), args...)
}

// rebind turns ? placeholders into $n. The store's own statements carry
// no ? inside literals, so a plain scan is exact.
func rebind(q string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func (m *Meta) q(q string) string {
	if m.pg {
		return rebind(q)
	}
	return q
}

func (m *Meta) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	r, err := m.db.ExecContext(ctx, m.q(q), args...)
	if err != nil {
		return nil, metaErr(err)
	}
	return r, nil
}

// execOne runs a statement that must change a row; none makes the error
// when it changed none (a name taken, an id unknown), only then, so that
// a statement that succeeds allocates no error.
func (m *Meta) execOne(ctx context.Context, none func() error, q string, args ...any) error {
	r, err := m.exec(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return none()
	}
	return nil
}

// scanner is a row to scan: *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// queryAll runs a metadata query and appends each row, as scan reads it,
// to out: nil where an empty list is null, empty where it is [].
func queryAll[T any](ctx context.Context, m *Meta, out []T, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := m.db.QueryContext(ctx, m.q(q), args...)
	if err != nil {
		return nil, metaErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, metaErr(err)
		}
		out = append(out, v)
	}
	return out, metaErr(rows.Err())
}

// queryOne is the row a metadata query finds, as scan reads it; the zero
// value (nil) when there is none.
func queryOne[T any](ctx context.Context, m *Meta, scan func(scanner) (T, error), q string, args ...any) (T, error) {
	v, err := scan(m.db.QueryRowContext(ctx, m.q(q), args...))
	if errors.Is(err, sql.ErrNoRows) {
		var zero T
		return zero, nil
	}
	return v, metaErr(err)
}

func metaErr(err error) error {
	if err == nil {
		return nil
	}
	return errs.Wrap(errs.Unavailable, err, "metadata store: "+err.Error())
}

// GenerateID is a prefixed random id: prefix + 24 hex digits.
func GenerateID(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func optTime(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromNanos(n.Int64)
	return &t
}

// Org is an organization: the tenant every key, agent, session and memory
// belongs to.
type Org struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// CreateOrg adds an org; an existing id is a Conflict.
func (m *Meta) CreateOrg(ctx context.Context, id, name string) error {
	if err := checkID("org_id", id); err != nil || id == "" {
		return invalidf("invalid org id %q: %s", id, msgBadID)
	}
	if name == "" {
		name = id
	}
	taken := func() error { return errs.Newf(errs.Conflict, "organization %q already exists", id) }
	return m.execOne(ctx, taken, "INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", id, name, nanos(m.now()))
}

// Orgs lists the orgs, oldest first.
func (m *Meta) Orgs(ctx context.Context) ([]Org, error) {
	return queryAll(ctx, m, nil, func(sc scanner) (Org, error) {
		var o Org
		var c int64
		err := sc.Scan(&o.ID, &o.Name, &c)
		o.CreatedAt = fromNanos(c)
		return o, err
	}, "SELECT id, name, created_at FROM organizations ORDER BY created_at, id")
}

func (m *Meta) orgExists(ctx context.Context, id string) (bool, error) {
	var n int
	if err := m.db.QueryRowContext(ctx, m.q("SELECT COUNT(*) FROM organizations WHERE id = ?"), id).Scan(&n); err != nil {
		return false, metaErr(err)
	}
	return n > 0, nil
}

// Agent is a registered agent.
type Agent struct {
	ID           string         `json:"id"`
	OrgID        string         `json:"org_id"`
	Name         string         `json:"name"`
	Description  string         `json:"description,omitempty"`
	Config       map[string]any `json:"config,omitempty"`
	CreatedAt    time.Time      `json:"created_at"`
	LastActiveAt *time.Time     `json:"last_active_at,omitempty"`
}

// CreateAgent registers an agent; its name is unique in the org.
func (m *Meta) CreateAgent(ctx context.Context, org, name, description string, config map[string]any) (*Agent, error) {
	if name == "" {
		return nil, invalidf("name is required")
	}
	cfg, err := metadataJSON(config)
	if err != nil {
		return nil, err
	}
	a := &Agent{ID: GenerateID("agent_"), OrgID: org, Name: name, Description: description, Config: config, CreatedAt: m.now().UTC()}
	taken := func() error { return errs.Newf(errs.Conflict, "agent '%s' already exists in this organization", name) }
	if err := m.execOne(ctx, taken, `INSERT INTO agents (id, org_id, name, description, config_json, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, a.ID, org, name, description, cfg, nanos(a.CreatedAt)); err != nil {
		return nil, err
	}
	if len(a.Config) == 0 {
		a.Config = nil
	}
	return a, nil
}

const agentCols = "id, org_id, name, description, config_json, created_at, last_active_at"

func scanAgent(sc scanner) (*Agent, error) {
	var a Agent
	var cfg string
	var created int64
	var last sql.NullInt64
	if err := sc.Scan(&a.ID, &a.OrgID, &a.Name, &a.Description, &cfg, &created, &last); err != nil {
		return nil, err
	}
	a.Config = parseMetadata(cfg)
	// memtrace's agents table stamps created_at with SQLite's
	// CURRENT_TIMESTAMP, whole seconds, and reads give that back (only the
	// create answer carries the clock's nanoseconds).
	a.CreatedAt = fromNanos(created).Truncate(time.Second)
	a.LastActiveAt = optTime(last)
	return &a, nil
}

// Agent finds an agent of org by id or name; nil when there is none.
func (m *Meta) Agent(ctx context.Context, org, idOrName string) (*Agent, error) {
	return queryOne(ctx, m, scanAgent, "SELECT "+agentCols+" FROM agents WHERE (id = ? OR name = ?) AND org_id = ? ORDER BY created_at LIMIT 1", idOrName, idOrName, org)
}

// Agents lists org's agents, newest first.
func (m *Meta) Agents(ctx context.Context, org string) ([]*Agent, error) {
	return queryAll(ctx, m, []*Agent{}, scanAgent, "SELECT "+agentCols+" FROM agents WHERE org_id = ? ORDER BY created_at DESC, id DESC", org)
}

// DeleteAgent removes an agent by id. memtrace's foreign key refuses to
// delete an agent that still has sessions; that refusal is kept, and
// rendered as memtrace renders it (404 with SQLite's text).
func (m *Meta) DeleteAgent(ctx context.Context, org, id string) error {
	var n int
	if err := m.db.QueryRowContext(ctx, m.q("SELECT COUNT(*) FROM sessions WHERE agent_id = ?"), id).Scan(&n); err != nil {
		return metaErr(err)
	}
	var exists int
	if err := m.db.QueryRowContext(ctx, m.q("SELECT COUNT(*) FROM agents WHERE id = ? AND org_id = ?"), id, org).Scan(&exists); err != nil {
		return metaErr(err)
	}
	if exists == 0 {
		return errs.New(errs.NotFound, "agent not found")
	}
	if n > 0 {
		return errs.New(errs.NotFound, "FOREIGN KEY constraint failed")
	}
	if _, err := m.exec(ctx, "DELETE FROM agents WHERE id = ? AND org_id = ?", id, org); err != nil {
		return err
	}
	return nil
}

// SessionCounts is the session figures of agent stats.
func (m *Meta) SessionCounts(ctx context.Context, org, agent string) (total, active int, err error) {
	err = m.db.QueryRowContext(ctx, m.q(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END), 0)
		FROM sessions WHERE org_id = ? AND agent_id = ?`), org, agent).Scan(&total, &active)
	return total, active, metaErr(err)
}

// Session is a bounded piece of an agent's work.
type Session struct {
	ID        string         `json:"id"`
	OrgID     string         `json:"org_id"`
	AgentID   string         `json:"agent_id"`
	Status    string         `json:"status"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	ClosedAt  *time.Time     `json:"closed_at,omitempty"`
}

// CreateSession starts an active session for a registered agent of org.
func (m *Meta) CreateSession(ctx context.Context, org, agentID string, md map[string]any) (*Session, error) {
	if agentID == "" {
		return nil, invalidf("agent_id is required")
	}
	mj, err := metadataJSON(md)
	if err != nil {
		return nil, err
	}
	now := m.now().UTC()
	s := &Session{ID: GenerateID("sess_"), OrgID: org, AgentID: agentID, Status: "active", Metadata: md, CreatedAt: now, UpdatedAt: now}
	// The agent must be one of org's (memtrace's foreign key only checked
	// that it existed in some org); its error text is kept.
	refused := func() error { return invalidf("failed to create session: FOREIGN KEY constraint failed") }
	if err := m.execOne(ctx, refused, `INSERT INTO sessions (id, org_id, agent_id, status, metadata_json, created_at, updated_at)
		SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), 'active', CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT) WHERE EXISTS (SELECT 1 FROM agents WHERE id = ? AND org_id = ?)`,
		s.ID, org, agentID, mj, nanos(now), nanos(now), agentID, org); err != nil {
		return nil, err
	}
	if len(s.Metadata) == 0 {
		s.Metadata = nil
	}
	return s, nil
}

const sessionCols = "id, org_id, agent_id, status, metadata_json, created_at, updated_at, closed_at"

func scanSession(sc scanner) (*Session, error) {
	var s Session
	var md string
	var created, updated int64
	var closed sql.NullInt64
	if err := sc.Scan(&s.ID, &s.OrgID, &s.AgentID, &s.Status, &md, &created, &updated, &closed); err != nil {
		return nil, err
	}
	s.Metadata = parseMetadata(md)
	s.CreatedAt, s.UpdatedAt, s.ClosedAt = fromNanos(created), fromNanos(updated), optTime(closed)
	return &s, nil
}

// Session finds a session of org; nil when there is none.
func (m *Meta) Session(ctx context.Context, org, id string) (*Session, error) {
	return queryOne(ctx, m, scanSession, "SELECT "+sessionCols+" FROM sessions WHERE id = ? AND org_id = ?", id, org)
}

// Sessions lists org's sessions, newest first, optionally of one agent.
func (m *Meta) Sessions(ctx context.Context, org, agent string) ([]*Session, error) {
	q := "SELECT " + sessionCols + " FROM sessions WHERE org_id = ?"
	args := []any{org}
	if agent != "" {
		q += " AND agent_id = ?"
		args = append(args, agent)
	}
	return queryAll(ctx, m, []*Session{}, scanSession, q+" ORDER BY created_at DESC, id DESC", args...)
}

// UpdateSession sets status (closed also stamps closed_at) and replaces
// metadata when given.
func (m *Meta) UpdateSession(ctx context.Context, org, id, status string, md map[string]any) (*Session, error) {
	now := nanos(m.now())
	var sets []string
	var args []any
	if status != "" {
		sets = append(sets, "status = ?")
		args = append(args, status)
		if status == "closed" {
			sets = append(sets, "closed_at = ?")
			args = append(args, now)
		}
	}
	if md != nil {
		b, err := json.Marshal(md)
		if err != nil {
			return nil, invalidf("failed to serialize metadata: %v", err)
		}
		sets = append(sets, "metadata_json = ?")
		args = append(args, string(b))
	}
	sets = append(sets, "updated_at = ?")
	args = append(args, now, id, org)
	unknown := func() error { return invalidf("session not found") }
	if err := m.execOne(ctx, unknown, "UPDATE sessions SET "+strings.Join(sets, ", ")+" WHERE id = ? AND org_id = ?", args...); err != nil {
		return nil, err
	}
	return m.Session(ctx, org, id)
}

// LockDedup serializes, across every replica sharing this PostgreSQL
// store, the dedup check and write of memories with these dedup keys in
// org: it takes one advisory lock per key (in ascending order, so
// overlapping batches cannot deadlock) on a pinned connection and returns
// their release. A replica's own locks (Server.lockKeys) cannot see the
// other replicas; without this two of them could both find a key new and
// both store it. On SQLite, which one process owns, it does nothing.
func (m *Meta) LockDedup(ctx context.Context, org string, keys []string) (func(), error) {
	if !m.pg || len(keys) == 0 {
		return func() {}, nil
	}
	ids := make([]int64, 0, len(keys))
	for _, k := range keys {
		h := fnv.New64a()
		h.Write([]byte("dedup\x00" + org + "\x00" + k))
		ids = append(ids, int64(h.Sum64()))
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "metadata store unavailable for the dedup lock")
	}
	// One statement takes them all, in the subquery's order.
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(k) FROM (SELECT unnest($1::bigint[]) AS k ORDER BY 1) AS s", ids); err != nil {
		// A lock taken before the error is released with the session's
		// other locks.
		conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock_all()")
		conn.Close()
		if ctx.Err() != nil {
			return nil, errs.Wrap(errs.Canceled, err, "request canceled while waiting for the dedup lock")
		}
		return nil, errs.Wrap(errs.Unavailable, err, "dedup lock")
	}
	return func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock_all()"); err != nil {
			// The connection's session may still hold locks: drop it
			// rather than hand it back to the pool.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, nil
}
