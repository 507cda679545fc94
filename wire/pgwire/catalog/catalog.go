package catalog

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"

	_ "github.com/duckdb/duckdb-go/v2" // the catalog engine

	"tsgate/auth"
	"tsgate/errs"
	"tsgate/guard"
	"tsgate/model"
	"tsgate/translate/pgparse"
	"tsgate/wire/pgwire"
)

// Column is one column of a backend table.
type Column struct {
	Name    string
	Type    model.FieldType
	NotNull bool
}

// Table is one measurement.
type Table struct {
	Name    string
	Columns []Column
}

// Source is the backend's schema.
type Source interface {
	// Version changes whenever a table or column of db changes.
	Version(db string) uint64
	Databases(ctx context.Context) ([]string, error)
	Tables(ctx context.Context, db string) ([]Table, error)
}

// Catalog answers catalog queries. It is safe for concurrent use.
type Catalog struct {
	src           Source
	guard         *guard.Guard
	serverVersion string

	// db is the catalog engine, opened by the first catalog query
	// (engine): a DuckDB instance costs 20-60 ms to open and a few MB,
	// which a gateway whose clients never read pg_catalog need not pay,
	// and which no start-up should wait for.
	dbMu   sync.Mutex
	db     *sql.DB
	closed bool

	mu    sync.Mutex
	snaps map[string]*snapshot // by Arc database
	seq   int
}

type snapshot struct {
	version uint64
	schema  string // pg_catalog tables and the function macros
	is      string // information_schema
	ready   chan struct{}
	err     error
	// tables, isTables and macros are what the snapshot defines (its
	// pg_catalog relations, its information_schema relations, its system
	// function macros): a catalog query may name these and nothing else.
	tables, isTables, macros map[string]bool
}

// New returns a catalog over src; its in-memory engine opens on first
// use. g classifies every catalog query before it runs.
func New(src Source, serverVersion string, g *guard.Guard) *Catalog {
	return &Catalog{src: src, guard: g, serverVersion: serverVersion, snaps: map[string]*snapshot{}}
}

// engine is the catalog engine, opened on the first call. A failed open
// is not remembered: the next query tries again.
func (c *Catalog) engine() (*sql.DB, error) {
	c.dbMu.Lock()
	defer c.dbMu.Unlock()
	if c.closed {
		return nil, errs.New(errs.Unavailable, "catalog engine closed: the server is shutting down")
	}
	if c.db == nil {
		// A catalog database is small; one thread keeps it off the cores
		// the data path uses. Like every engine tsgate opens, it reaches
		// no file, loads no extension and cannot be reconfigured.
		connector, err := guard.OpenEngine(context.Background(), "", "threads=1")
		if err != nil {
			return nil, errs.Wrap(errs.Unavailable, err, "catalog engine unavailable")
		}
		c.db = sql.OpenDB(connector)
	}
	return c.db, nil
}

// Close releases the engine, if it was opened.
func (c *Catalog) Close() error {
	c.dbMu.Lock()
	defer c.dbMu.Unlock()
	c.closed = true
	if c.db == nil {
		return nil
	}
	return c.db.Close()
}

var _ pgwire.Catalog = (*Catalog)(nil)

// Query runs a catalog query for a session.
func (c *Catalog) Query(ctx context.Context, s pgwire.Session, query string) (model.Rows, error) {
	// PostgreSQL's grammar says what the statement is: only a read-only
	// query reaches the engine.
	class, err := pgparse.Classify(query)
	if err != nil {
		return nil, err
	}
	if class.Kind != pgparse.KindQuery {
		return nil, &errs.Error{Code: errs.Invalid, SQLState: "25006",
			Msg: "cannot execute " + class.Statement + " in a read-only transaction"}
	}
	// The catalog of a database lists its measurements: only for a
	// caller who may read it.
	if err := c.guard.CanRead(auth.CallerFrom(ctx), s.Database); err != nil {
		return nil, err
	}
	snap, err := c.snapshot(ctx, s.Database)
	if err != nil {
		return nil, err
	}
	text := rewrite(query, snap, s)
	// The text DuckDB runs is classified again by DuckDB's own parser:
	// it may name the snapshot's relations and functions only.
	st, err := c.guard.Parse(ctx, text)
	if err != nil {
		return nil, err
	}
	if err := c.guard.Check(st, snap.relation, snap.macros); err != nil {
		return nil, err
	}
	db, err := c.engine()
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "catalog engine unavailable")
	}
	if _, err := conn.ExecContext(ctx, "SET search_path = '"+snap.schema+"'"); err != nil {
		conn.Close()
		return nil, errs.Wrap(errs.Internal, err, "catalog search path")
	}
	rows, err := conn.QueryContext(ctx, text)
	if err != nil {
		// Dropped, not pooled again: a failed query leaves nothing
		// behind on a connection anyone else uses.
		conn.Raw(func(any) error { return driver.ErrBadConn })
		conn.Close()
		return nil, errs.Wrap(errs.Engine, err, "catalog query failed: "+err.Error())
	}
	return newRows(conn, rows)
}

// snapshot returns the current snapshot of db's catalog, building it when
// the backend schema changed. Concurrent callers share one build.
func (c *Catalog) snapshot(ctx context.Context, db string) (*snapshot, error) {
	ver := c.src.Version(db)
	c.mu.Lock()
	old := c.snaps[db]
	if old != nil && old.version == ver {
		c.mu.Unlock()
		<-old.ready
		return old, old.err
	}
	c.seq++
	sn := &snapshot{version: ver, schema: fmt.Sprintf("pgc_%d", c.seq), is: fmt.Sprintf("pgis_%d", c.seq), ready: make(chan struct{})}
	c.snaps[db] = sn
	c.mu.Unlock()
	sn.err = c.build(ctx, db, sn)
	close(sn.ready)
	if sn.err != nil {
		c.mu.Lock()
		if c.snaps[db] == sn {
			delete(c.snaps, db)
		}
		c.mu.Unlock()
		return nil, sn.err
	}
	// The previous snapshot may still serve a query in flight; it is
	// dropped lazily, one generation later, by dropping schemas older than
	// the one it replaced.
	if old != nil {
		c.dropBefore(old)
	}
	return sn, nil
}

func (c *Catalog) dropBefore(keep *snapshot) {
	var n int
	fmt.Sscanf(keep.schema, "pgc_%d", &n)
	db, err := c.engine()
	if err != nil {
		return
	}
	rows, err := db.Query("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'pgc\\_%' ESCAPE '\\' OR schema_name LIKE 'pgis\\_%' ESCAPE '\\'")
	if err != nil {
		return
	}
	var drop []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		var m int
		if _, err := fmt.Sscanf(strings.TrimPrefix(strings.TrimPrefix(s, "pgis_"), "pgc_"), "%d", &m); err == nil && m < n {
			drop = append(drop, s)
		}
	}
	rows.Close()
	for _, s := range drop {
		db.Exec("DROP SCHEMA IF EXISTS " + s + " CASCADE")
	}
}

// Stable OIDs. PostgreSQL's own objects keep their real OIDs; user
// objects get a hash in the user range (>= 16384), fixed for a name.
const (
	oidPGCatalog = 11
	oidPublic    = 2200
	oidInfoSch   = 13181
	oidOwner     = 10
	firstUserOID = 16384
)

func stableOID(parts ...string) int64 {
	h := fnv.New32a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return firstUserOID + int64(h.Sum32()%(1<<31-firstUserOID))
}

func quoteLit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// relation is the tables rule for catalog queries: a bare name is one of
// the snapshot's pg_catalog relations, a qualified one one of its
// information_schema relations (the rewriter qualified it so).
func (sn *snapshot) relation(t guard.Name) error {
	name := strings.ToLower(t.Name)
	switch {
	case t.Catalog == "" && t.Schema == "" && sn.tables[name]:
		return nil
	case t.Catalog == "" && strings.EqualFold(t.Schema, sn.is) && sn.isTables[name]:
		return nil
	}
	return &errs.Error{Code: errs.PermissionDenied, Position: t.Pos,
		Msg:  "permission denied for relation " + t.Name,
		Hint: "over pg wire, pg_catalog and information_schema hold the measurements of the session's database; other system relations are not available"}
}
