package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"

	_ "github.com/duckdb/duckdb-go/v2" // the catalog engine

	"tsgate/errs"
	"tsgate/model"
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
	db            *sql.DB
	serverVersion string

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
}

// New opens the in-memory catalog engine.
func New(src Source, serverVersion string) (*Catalog, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	// A catalog database is small; one thread keeps it off the cores the
	// data path uses.
	if _, err := db.Exec("SET threads = 1"); err != nil {
		db.Close()
		return nil, err
	}
	return &Catalog{src: src, db: db, serverVersion: serverVersion, snaps: map[string]*snapshot{}}, nil
}

// Close releases the engine.
func (c *Catalog) Close() error { return c.db.Close() }

var _ pgwire.Catalog = (*Catalog)(nil)

// Query runs a catalog query for a session.
func (c *Catalog) Query(ctx context.Context, s pgwire.Session, query string) (model.Rows, error) {
	snap, err := c.snapshot(ctx, s.Database)
	if err != nil {
		return nil, err
	}
	text := rewrite(query, snap, s)
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "catalog engine unavailable")
	}
	if _, err := conn.ExecContext(ctx, "SET search_path = '"+snap.schema+"'"); err != nil {
		conn.Close()
		return nil, errs.Wrap(errs.Internal, err, "catalog search path")
	}
	rows, err := conn.QueryContext(ctx, text)
	if err != nil {
		conn.Close()
		return nil, errs.Wrap(errs.Engine, err, "catalog query failed: "+err.Error())
	}
	return newRows(ctx, conn, rows)
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
	rows, err := c.db.Query("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'pgc\\_%' ESCAPE '\\' OR schema_name LIKE 'pgis\\_%' ESCAPE '\\'")
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
		c.db.Exec("DROP SCHEMA IF EXISTS " + s + " CASCADE")
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

func sqlNull(s string) string {
	if s == "" {
		return "NULL"
	}
	return quoteLit(s)
}
