package manage

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"tsgate/errs"
	"tsgate/internal/atomicfile"
	"tsgate/internal/pgmeta"
)

// backing keeps the state document where the Manager reads and writes it:
// a file under the data directory for one gateway, or PostgreSQL
// (auth.store_url) for replicas behind one load balancer, which must see
// the same databases, policies and queries and must not run one job
// twice.
type backing interface {
	// load returns the document (nil: none yet) and its version.
	load(ctx context.Context) ([]byte, int64, error)
	// version returns the stored version, cheaply.
	version(ctx context.Context) (int64, error)
	// store replaces the document if it is still at version; it returns
	// the new version, or errStale when another writer came first.
	store(ctx context.Context, doc []byte, version int64) (int64, error)
	// claim takes the job key for the caller until release; ok is false
	// when another caller (or replica) holds it.
	claim(ctx context.Context, key string) (release func(), ok bool, err error)
	// lockState waits for the state lock, which serializes changes
	// across replicas (the Manager's mutex does within one).
	lockState(ctx context.Context) (release func(), err error)
	close()
}

// errStale is a compare-and-swap lost to another replica.
var errStale = errs.New(errs.Conflict, "the management state was changed by another replica at the same time; retry")

// storeTimeout bounds one round trip to the shared store for the calls
// that carry no context of their own (the management API's
// create/update/delete).
const storeTimeout = 10 * time.Second

// ---- file ----

type fileBacking struct {
	path    string
	mu      sync.Mutex
	running map[string]bool
}

func newFileBacking(path string) *fileBacking {
	return &fileBacking{path: path, running: map[string]bool{}}
}

func (f *fileBacking) load(context.Context) ([]byte, int64, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	return b, 0, err
}

// version is constant: this process is the file's only writer.
func (f *fileBacking) version(context.Context) (int64, error) { return 0, nil }

func (f *fileBacking) store(_ context.Context, doc []byte, _ int64) (int64, error) {
	return 0, atomicfile.Write(f.path, doc, 0o600)
}

func (f *fileBacking) claim(_ context.Context, key string) (func(), bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running[key] {
		return nil, false, nil
	}
	f.running[key] = true
	return func() {
		f.mu.Lock()
		delete(f.running, key)
		f.mu.Unlock()
	}, true, nil
}

// lockState: the Manager's mutex already serializes this process, the
// file's only writer.
func (f *fileBacking) lockState(context.Context) (func(), error) { return func() {}, nil }

func (f *fileBacking) close() {}

// ---- PostgreSQL ----

// pgBacking keeps the document in one row of _tsgate.manage_state (the
// bookkeeping schema the token store and the PostgreSQL backend use).
// Writes are compare-and-swap on the row's version; a job is claimed with
// a session advisory lock held on its own connection while it runs, so
// across replicas one job runs once at a time, and a replica that dies
// mid-job releases it with its connection.
type pgBacking struct {
	pool *pgxpool.Pool
}

var pgManageSchema = []string{
	`CREATE TABLE IF NOT EXISTS _tsgate.manage_state (
		id boolean PRIMARY KEY DEFAULT true CHECK (id),
		version bigint NOT NULL DEFAULT 0,
		doc text)`,
	`INSERT INTO _tsgate.manage_state (id) VALUES (true) ON CONFLICT (id) DO NOTHING`,
}

// openPGBacking connects to url and creates the table if it is missing.
func openPGBacking(ctx context.Context, url string) (*pgBacking, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("manage: store URL: %w", err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("manage: connect: %w", err)
	}
	if err := pgmeta.Create(ctx, pool, pgManageSchema...); err != nil {
		pool.Close()
		return nil, fmt.Errorf("manage: create the state table: %w", err)
	}
	return &pgBacking{pool: pool}, nil
}

func (p *pgBacking) load(ctx context.Context) ([]byte, int64, error) {
	var doc *string
	var v int64
	if err := p.pool.QueryRow(ctx, `SELECT doc, version FROM _tsgate.manage_state`).Scan(&doc, &v); err != nil {
		return nil, 0, unavailable(err)
	}
	if doc == nil {
		return nil, v, nil
	}
	return []byte(*doc), v, nil
}

func (p *pgBacking) version(ctx context.Context) (int64, error) {
	var v int64
	if err := p.pool.QueryRow(ctx, `SELECT version FROM _tsgate.manage_state`).Scan(&v); err != nil {
		return 0, unavailable(err)
	}
	return v, nil
}

func (p *pgBacking) store(ctx context.Context, doc []byte, version int64) (int64, error) {
	var v int64
	err := p.pool.QueryRow(ctx, `UPDATE _tsgate.manage_state SET doc = $1, version = version + 1
		WHERE version = $2 RETURNING version`, string(doc), version).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, errStale
	}
	if err != nil {
		return 0, unavailable(err)
	}
	return v, nil
}

func (p *pgBacking) claim(ctx context.Context, key string) (func(), bool, error) {
	return p.advisory(ctx, key, `SELECT pg_try_advisory_lock($1)`)
}

func (p *pgBacking) lockState(ctx context.Context) (func(), error) {
	release, _, err := p.advisory(ctx, "state", `SELECT true FROM pg_advisory_lock($1)`)
	return release, err
}

// advisory runs query, which takes the session advisory lock $1 (or says
// false), on a connection it keeps until release.
func (p *pgBacking) advisory(ctx context.Context, key, query string) (func(), bool, error) {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return nil, false, unavailable(err)
	}
	id := lockID(key)
	var ok bool
	if err := conn.QueryRow(ctx, query, id).Scan(&ok); err != nil {
		// Canceled mid-wait, the lock may still have been granted: the
		// session goes, and the lock with it.
		conn.Conn().Close(context.Background())
		conn.Release()
		return nil, false, unavailable(err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, id); err != nil {
			// The lock lives as long as the session: close it.
			conn.Conn().Close(ctx)
		}
		conn.Release()
	}, true, nil
}

func (p *pgBacking) close() { p.pool.Close() }

// lockID is a job key's advisory lock number, in a range of its own
// (the key is prefixed, so other tsgate locks hash elsewhere).
func lockID(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte("tsgate:manage:" + key))
	return int64(h.Sum64())
}

func unavailable(err error) error {
	return errs.Wrap(errs.Unavailable, err, "the shared management store (auth.store_url) is unavailable")
}
