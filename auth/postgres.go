package auth

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"tsgate/errs"
	"tsgate/internal/pgmeta"
)

// A PostgreSQL store (auth.store_url) is what several replicas behind one
// load balancer share: a token made or revoked on one is known to all.
//
// The tables live in the schema _tsgate, tsgate's bookkeeping schema,
// which the PostgreSQL backend also uses and never lists as an Arc
// database (no Arc database name starts with "_"), so the store may share
// the backend's PostgreSQL database. One row, auth_state, holds the
// store-wide SCRAM salt and a version every change increments; writers
// lock it, so changes from all replicas are serialized and versions only
// grow. A change notifies channel tsgate_auth when it commits; each
// replica's watcher listens, and also reads the version every
// pollInterval in case a notification was lost with a connection.

const (
	// pgChannel is the LISTEN/NOTIFY channel a change is announced on.
	pgChannel = "tsgate_auth"
	// pollInterval bounds how stale a replica's tokens can be when no
	// notification arrives: revocation reaches every replica within it.
	pollInterval = 500 * time.Millisecond
)

// pgSchema is created through pgmeta, under the lock the PostgreSQL
// backend creates its _tsgate tables under.
var pgSchema = []string{
	`CREATE TABLE IF NOT EXISTS _tsgate.auth_state (
		id boolean PRIMARY KEY DEFAULT true CHECK (id),
		version bigint NOT NULL DEFAULT 0,
		scram_salt bytea,
		scram_iterations integer)`,
	`INSERT INTO _tsgate.auth_state (id) VALUES (true) ON CONFLICT (id) DO NOTHING`,
	`CREATE TABLE IF NOT EXISTS _tsgate.auth_tokens (
		id text PRIMARY KEY,
		name text NOT NULL,
		sha256 text NOT NULL UNIQUE,
		permissions text[] NOT NULL,
		created_at timestamptz NOT NULL,
		scram_stored_key bytea,
		scram_server_key bytea)`,
	// Added with Arc's token API: a store made before them gains the
	// columns here and still loads. Tokens stored without a number (seq
	// NULL, also what a replica of an older version inserts) are numbered
	// in created_at order when read (numberTokens) and keep that number
	// from the next change on; next_seq 0 means "past the highest".
	`ALTER TABLE _tsgate.auth_state ADD COLUMN IF NOT EXISTS next_seq bigint NOT NULL DEFAULT 0`,
	`ALTER TABLE _tsgate.auth_tokens
		ADD COLUMN IF NOT EXISTS seq bigint,
		ADD COLUMN IF NOT EXISTS description text NOT NULL DEFAULT '',
		ADD COLUMN IF NOT EXISTS expires_at timestamptz,
		ADD COLUMN IF NOT EXISTS disabled boolean NOT NULL DEFAULT false`,
	`CREATE UNIQUE INDEX IF NOT EXISTS auth_tokens_seq ON _tsgate.auth_tokens (seq)`,
}

type pgBacking struct {
	pool *pgxpool.Pool
	// listen is the watcher's connection configuration.
	listen *pgx.ConnConfig
}

// PostgresOption configures OpenPostgres.
type PostgresOption func(*pgOptions)

type pgOptions struct {
	log  *slog.Logger
	poll time.Duration
}

// WithLogger reports the watcher losing and regaining PostgreSQL.
func WithLogger(l *slog.Logger) PostgresOption { return func(o *pgOptions) { o.log = l } }

// IsPostgresURL reports whether target names a PostgreSQL store rather
// than a token file.
func IsPostgresURL(target string) bool {
	return strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://")
}

// OpenPostgres opens the token store in the PostgreSQL database url
// names, creating its tables when missing, and starts watching it. Close
// stops the watcher. The URL may carry a password: no error repeats it.
func OpenPostgres(ctx context.Context, url string, opts ...PostgresOption) (*Store, error) {
	o := pgOptions{log: slog.New(slog.DiscardHandler), poll: pollInterval}
	for _, fn := range opts {
		fn(&o)
	}
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors redact the password.
		return nil, errs.Wrap(errs.Invalid, err, "auth.store_url: "+err.Error())
	}
	pc.MaxConns = 4
	// Named, so an operator can tell tsgate's connections apart in
	// pg_stat_activity.
	pc.ConnConfig.RuntimeParams["application_name"] = "tsgate-auth"
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "auth store: "+err.Error())
	}
	b := &pgBacking{pool: pool, listen: pc.ConnConfig.Copy()}
	b.listen.RuntimeParams["application_name"] = "tsgate-auth-watch"
	ictx, cancel := context.WithTimeout(ctx, ioTimeout)
	defer cancel()
	if err := b.init(ictx); err != nil {
		pool.Close()
		return nil, err
	}
	s, err := newStore(b, true)
	if err != nil {
		return nil, err
	}
	wctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { b.watch(wctx, s, o) })
	s.stop = func() { stop(); wg.Wait() }
	return s, nil
}

func pgErr(err error) error {
	if err == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	return errs.Wrap(errs.Unavailable, err, "auth store: "+err.Error())
}

func (b *pgBacking) init(ctx context.Context) error {
	return pgErr(pgmeta.Create(ctx, b.pool, pgSchema...))
}

// querier is what loading needs: a pool, a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// read loads the state within q's snapshot as stored: tokens without a
// number have Seq 0 and NextSeq may be 0 (numberTokens numbers them).
// lock takes the state row for update, serializing writers.
func read(ctx context.Context, q querier, lock bool) (state, int64, error) {
	sel := `SELECT version, scram_salt, scram_iterations, next_seq FROM _tsgate.auth_state`
	if lock {
		sel += ` FOR UPDATE`
	}
	var (
		st    state
		v     int64
		salt  []byte
		iters *int32
	)
	if err := q.QueryRow(ctx, sel).Scan(&v, &salt, &iters, &st.NextSeq); err != nil {
		return state{}, 0, err
	}
	if salt != nil && iters != nil {
		st.SCRAM = &SCRAMParams{Salt: salt, Iterations: int(*iters)}
	}
	rows, err := q.Query(ctx, `SELECT id, seq, name, description, sha256, permissions, created_at, expires_at, disabled,
		scram_stored_key, scram_server_key
		FROM _tsgate.auth_tokens ORDER BY created_at, id`)
	if err != nil {
		return state{}, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			t              Token
			seq            *int64
			perms          []string
			stored, server []byte
		)
		if err := rows.Scan(&t.ID, &seq, &t.Name, &t.Description, &t.Hash, &perms, &t.CreatedAt, &t.ExpiresAt, &t.Disabled,
			&stored, &server); err != nil {
			return state{}, 0, err
		}
		if seq != nil {
			t.Seq = *seq
		}
		t.CreatedAt = t.CreatedAt.UTC()
		if t.ExpiresAt != nil {
			e := t.ExpiresAt.UTC()
			t.ExpiresAt = &e
		}
		for _, p := range perms {
			t.Permissions = append(t.Permissions, Permission(p))
		}
		if stored != nil && server != nil {
			t.SCRAM = &SCRAMKeys{StoredKey: stored, ServerKey: server}
		}
		st.Tokens = append(st.Tokens, &t)
	}
	return st, v, rows.Err()
}

// sameRow reports whether a and b would be stored as the same row.
func sameRow(a, b *Token) bool {
	sameKeys := (a.SCRAM == nil) == (b.SCRAM == nil) &&
		(a.SCRAM == nil || bytes.Equal(a.SCRAM.StoredKey, b.SCRAM.StoredKey) && bytes.Equal(a.SCRAM.ServerKey, b.SCRAM.ServerKey))
	sameExpiry := (a.ExpiresAt == nil) == (b.ExpiresAt == nil) && (a.ExpiresAt == nil || a.ExpiresAt.Equal(*b.ExpiresAt))
	return a.Seq == b.Seq && a.Name == b.Name && a.Description == b.Description && a.Hash == b.Hash &&
		slices.Equal(a.Permissions, b.Permissions) && a.CreatedAt.Equal(b.CreatedAt) && a.Disabled == b.Disabled &&
		sameExpiry && sameKeys
}

// tokenRow is t's columns in pgTokenColumns' order.
func tokenRow(t *Token) []any {
	perms := make([]string, len(t.Permissions))
	for i, p := range t.Permissions {
		perms[i] = string(p)
	}
	var stored, server []byte
	if t.SCRAM != nil {
		stored, server = t.SCRAM.StoredKey, t.SCRAM.ServerKey
	}
	return []any{t.ID, t.Seq, t.Name, t.Description, t.Hash, perms, t.CreatedAt, t.ExpiresAt, t.Disabled, stored, server}
}

const pgTokenColumns = `id, seq, name, description, sha256, permissions, created_at, expires_at, disabled, scram_stored_key, scram_server_key`

// load reads one consistent snapshot of the state.
func (b *pgBacking) load(ctx context.Context) (state, int64, error) {
	return b.loadOn(ctx, b.pool)
}

type beginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

func (b *pgBacking) loadOn(ctx context.Context, c beginner) (state, int64, error) {
	tx, err := c.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return state{}, 0, pgErr(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	st, v, err := read(ctx, tx, false)
	if err != nil {
		return state{}, 0, pgErr(err)
	}
	numberTokens(&st)
	return st, v, pgErr(tx.Commit(ctx))
}

func (b *pgBacking) version(ctx context.Context) (int64, error) {
	var v int64
	err := b.pool.QueryRow(ctx, `SELECT version FROM _tsgate.auth_state`).Scan(&v)
	return v, pgErr(err)
}

// update applies fn under the state row's lock and writes what changed:
// new tokens, deleted ones, changed ones (verifiers learned, Arc API
// updates, rotation, revocation, numbers given to tokens stored without
// one), the salt on the first token, the next number. The version moves
// and the change is announced in the same transaction, so a replica that
// hears of it reads it.
func (b *pgBacking) update(ctx context.Context, fn func(*state) error) (state, int64, error) {
	var (
		out state
		ver int64
	)
	err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		st, v, err := read(ctx, tx, true)
		if err != nil {
			return err
		}
		// stored is the rows as stored; given is them as fn gets them,
		// numbered. fn changed the state when it differs from given; the
		// change then writes every row that differs from stored, numbers
		// numberTokens gave included, so they stick from then on.
		stored, given := map[string]Token{}, map[string]Token{}
		for _, t := range st.Tokens {
			stored[t.ID] = *t
		}
		numberTokens(&st)
		for _, t := range st.Tokens {
			given[t.ID] = *t
		}
		readSCRAM, readNext := st.SCRAM, st.NextSeq
		if err := fn(&st); err != nil {
			return err
		}
		changed := st.SCRAM != readSCRAM || st.NextSeq != readNext || len(st.Tokens) != len(given)
		for _, t := range st.Tokens {
			if r, ok := given[t.ID]; !ok || !sameRow(&r, t) {
				changed = true
			}
		}
		if !changed {
			out, ver = st, v
			return nil
		}
		kept := map[string]bool{}
		for _, t := range st.Tokens {
			kept[t.ID] = true
			o, ok := stored[t.ID]
			switch {
			case !ok:
				if _, err := tx.Exec(ctx, `INSERT INTO _tsgate.auth_tokens (`+pgTokenColumns+`)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, tokenRow(t)...); err != nil {
					return err
				}
			case !sameRow(&o, t):
				if _, err := tx.Exec(ctx, `UPDATE _tsgate.auth_tokens SET (`+pgTokenColumns+`)
					= ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) WHERE id = $1`, tokenRow(t)...); err != nil {
					return err
				}
			}
		}
		for id := range stored {
			if !kept[id] {
				if _, err := tx.Exec(ctx, `DELETE FROM _tsgate.auth_tokens WHERE id = $1`, id); err != nil {
					return err
				}
			}
		}
		var salt []byte
		var iters *int32
		if st.SCRAM != nil {
			n := int32(st.SCRAM.Iterations)
			salt, iters = st.SCRAM.Salt, &n
		}
		if err := tx.QueryRow(ctx, `UPDATE _tsgate.auth_state SET version = version + 1, scram_salt = $1, scram_iterations = $2,
			next_seq = $3 RETURNING version`, salt, iters, st.NextSeq).Scan(&ver); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, pgChannel, ""); err != nil {
			return err
		}
		out = st
		return nil
	})
	if err != nil {
		return state{}, 0, pgErr(err)
	}
	return out, ver, nil
}

func (b *pgBacking) close() error {
	b.pool.Close()
	return nil
}

// watch keeps s current until ctx ends: on its own connection it listens
// for changes and reads the version at least every poll interval,
// reloading when it moved. When PostgreSQL is unreachable the tokens last
// loaded stay in force (failing closed would lock every client out) and
// it reconnects with backoff.
func (b *pgBacking) watch(ctx context.Context, s *Store, o pgOptions) {
	wait := 100 * time.Millisecond
	failing := false
	for ctx.Err() == nil {
		err := b.listen1(ctx, s, o.poll, func() {
			wait = 100 * time.Millisecond
			if failing {
				failing = false
				o.log.Info("auth store: PostgreSQL reachable again; tokens are current")
			}
		})
		if ctx.Err() != nil {
			return
		}
		if !failing {
			failing = true
			o.log.Warn("auth store: lost PostgreSQL; serving the tokens last loaded until it is back", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// listen1 runs one connection's worth of watching; it returns the error
// that ended it. up is called once the connection listens and is current.
func (b *pgBacking) listen1(ctx context.Context, s *Store, poll time.Duration, up func()) error {
	cctx, cancel := context.WithTimeout(ctx, ioTimeout)
	conn, err := pgx.ConnectConfig(cctx, b.listen.Copy())
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+pgChannel); err != nil {
		return err
	}
	first := true
	for {
		// Listening before reading: a change committed after this read
		// is either in it or announced.
		qctx, cancel := context.WithTimeout(ctx, ioTimeout)
		var v int64
		err := conn.QueryRow(qctx, `SELECT version FROM _tsgate.auth_state`).Scan(&v)
		if err == nil && v != s.currentVersion() {
			var st state
			if st, v, err = b.loadOn(qctx, conn); err == nil {
				s.install(st, v)
			}
		}
		cancel()
		if err != nil {
			return err
		}
		if first {
			up()
			first = false
		}
		wctx, cancel := context.WithTimeout(ctx, poll)
		_, err = conn.WaitForNotification(wctx)
		cancel()
		if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = nil // the poll interval passed without news
		}
		if err != nil {
			return err
		}
	}
}
