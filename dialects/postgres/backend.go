package postgres

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"tsgate/dialects"
	"tsgate/dialects/backendkit"
	"tsgate/errs"
	"tsgate/internal/pgmeta"
	"tsgate/model"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// metaSchema holds tsgate's bookkeeping in the PostgreSQL database: the
// columns table (which columns are tags, which fields are Required) and
// the uint64 domain. Its leading underscore cannot start an Arc database
// name, so it never collides with one.
const metaSchema = "_tsgate"

// Backend is PostgreSQL (14 or later: the generator uses date_bin): one
// PostgreSQL schema per Arc database, one table per measurement with
// `time timestamptz NOT NULL`, tags and string fields text, float64
// double precision, int64 bigint, bool boolean, uint64 the domain
// _tsgate.uint64 (numeric(20,0), 0 ≤ v < 2^64) so the type survives the
// round trip.
//
// URL: postgres://user:pass@host:port/database?sslmode=…&… (any pgx
// connection parameter). Arc database "" maps to schema "default", Arc's
// default database; every other Arc database to the schema of the same
// name.
//
// Precision: timestamptz is µs, so time round-trips exactly. Text cannot
// hold NUL bytes: a row with one is rejected.
type Backend struct {
	pool     *pgxpool.Pool
	redacted string
	tags     backendkit.Tags
	// indexed names the tag columns indexed with time when created.
	indexed backendkit.Tags
	catalog *backendkit.Catalog
	timeout time.Duration
	gen     target.Generator
	name    string
	// onCreate runs inside the write transaction right after a table is
	// created (TimescaleDB makes it a hypertable).
	onCreate func(ctx context.Context, tx pgx.Tx, schema, table string) error

	mmu      sync.Mutex
	metaDone bool

	umu   sync.Mutex
	uints map[uint32]map[uint16]bool // table OID → attnum → a uint64 column

	// paths is each pooled connection's search_path (*pgx.Conn →
	// string), forgotten when the pool closes the connection.
	paths sync.Map
}

var _ dialects.Backend = (*Backend)(nil)

// Option configures a Backend.
type Option func(*Backend)

// WithGenerator makes the backend accept another generator's output (the
// TimescaleDB backend is this one with target "timescaledb").
func WithGenerator(name string, gen target.Generator) Option {
	return func(b *Backend) { b.name, b.gen = name, gen }
}

// WithOnCreate runs fn in the write transaction after each CREATE TABLE.
func WithOnCreate(fn func(ctx context.Context, tx pgx.Tx, schema, table string) error) Option {
	return func(b *Backend) { b.onCreate = fn }
}

// Descriptor registers PostgreSQL.
func Descriptor() dialects.Descriptor {
	return dialects.Descriptor{
		Name: Name, Schemes: []string{"postgres", "postgresql"},
		Open:       func(ctx context.Context, u string) (dialects.Backend, error) { return Open(ctx, u) },
		Generators: []target.Generator{New()},
	}
}

// Open parses rawURL (postgres:// or postgresql://; timescaledb:// is
// accepted for the TimescaleDB backend) and makes the pool; it connects
// lazily, so a server that is down makes Ready fail, not Open. It is
// Open, not New, because New is the package's generator constructor.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Backend, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errs.New(errs.Invalid, "invalid PostgreSQL backend URL")
	}
	switch u.Scheme {
	case "postgres", "postgresql", "timescaledb":
	default:
		return nil, errs.Newf(errs.Invalid, "PostgreSQL backend URL scheme %q: want postgres://", u.Scheme)
	}
	redacted := backendkit.Redact(u)
	u.Scheme = "postgres"
	cfg, err := pgxpool.ParseConfig(u.String())
	if err != nil {
		// pgx's parse errors quote the connection string.
		return nil, errs.Newf(errs.Invalid, "invalid PostgreSQL backend URL %s", redacted)
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	cfg.ConnConfig.RuntimeParams["datestyle"] = "ISO, YMD"
	cfg.ConnConfig.RuntimeParams["application_name"] = "tsgate"
	// Each query sets search_path to its database first, and the same
	// text means different tables in different schemas: prepared
	// statements and cached descriptions keyed by text would be wrong.
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	// A canceled request (pg wire CancelRequest, an Arc client gone, a
	// timeout) sends PostgreSQL a CancelRequest at once and keeps the
	// pooled connection. pgx's default expires the socket instead: the
	// connection is lost, and the server hears of the cancel only from
	// the close path. The deadline stays as the fallback.
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 2 * time.Second}
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	b := &Backend{
		redacted: redacted,
		tags:     backendkit.DefaultTags(),
		// memtrace's selective filters (see indexTag).
		indexed: backendkit.Tags{"events": {"agent_id", "session_id"}},
		timeout: 30 * time.Second,
		gen:     New(),
		name:    "postgres",
		uints:   map[uint32]map[uint16]bool{},
	}
	b.catalog = &backendkit.Catalog{Load: b.loadSchema}
	for _, o := range opts {
		o(b)
	}
	cfg.BeforeClose = func(c *pgx.Conn) { b.paths.Delete(c) }
	// A connection returned mid-statement may be reset by the pool; its
	// search_path is then unknown.
	cfg.AfterRelease = func(c *pgx.Conn) bool {
		if c.PgConn().TxStatus() != 'I' {
			b.paths.Delete(c)
		}
		return true
	}
	if b.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, errs.Newf(errs.Invalid, "PostgreSQL backend %s: %v", redacted, err)
	}
	return b, nil
}

// Name is the generator's target name.
const Name = "postgres"

func (b *Backend) Name() string                { return b.name }
func (b *Backend) Generator() target.Generator { return b.gen }
func (b *Backend) String() string              { return b.redacted }

// Pool is the connection pool, for the TimescaleDB backend's checks.
func (b *Backend) Pool() *pgxpool.Pool { return b.pool }

func (b *Backend) Close() error {
	b.pool.Close()
	return nil
}

func schemaOf(db string) string {
	if db == "" {
		return "default"
	}
	return db
}

// Ready checks a connection answers.
func (b *Backend) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	if err := b.pool.Ping(ctx); err != nil {
		return b.classify(ctx, err)
	}
	return nil
}

// classify turns a pgx error into a typed one: PostgreSQL's own errors by
// SQLSTATE class, connection failures as Unavailable.
func (b *Backend) classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return e
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		out := &errs.Error{Code: errs.Engine, SQLState: pe.Code, Msg: b.name + ": " + pe.Message,
			Detail: pe.Detail, Hint: pe.Hint, Err: err}
		switch {
		case pe.Code == "42P01" || pe.Code == "3F000": // undefined table, undefined schema
			out.Code = errs.NotFound
		case pe.Code == "57014": // query_canceled: statement timeout or cancel
			out.Code = errs.Timeout
		case strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") || pe.Code == "53300":
			// connection exceptions, admin shutdown, too many connections
			out.Code = errs.Unavailable
		case strings.HasPrefix(pe.Code, "28"): // invalid authorization
			out = errs.Newf(errs.Unavailable, "%s rejected tsgate's credentials", b.name)
		}
		return out
	}
	if ctx.Err() != nil {
		return backendkit.TransportError(ctx, b.name, ctx.Err())
	}
	if pgconn.Timeout(err) {
		return &errs.Error{Code: errs.Timeout, Msg: b.name + ": timed out", Err: err}
	}
	// Every other pgx error is the connection's: refused, reset, closed,
	// TLS. The text may quote the host but never the password.
	return &errs.Error{Code: errs.Unavailable, Msg: b.name + " is unavailable (" + b.redacted + ")", Err: err}
}

// ensureMeta creates tsgate's schema, columns table and uint64 domain
// once per process, under an advisory lock so concurrent gateways do not
// race on CREATE.
func (b *Backend) ensureMeta(ctx context.Context) error {
	b.mmu.Lock()
	defer b.mmu.Unlock()
	if b.metaDone {
		return nil
	}
	// pgmeta takes the lock and creates the schema (metaSchema is its
	// _tsgate) in the same transaction, as for auth's and manage's tables.
	err := pgmeta.Create(ctx, b.pool,
		`CREATE TABLE IF NOT EXISTS `+metaSchema+`.columns (
			db text NOT NULL, measurement text NOT NULL, name text NOT NULL,
			is_tag boolean NOT NULL, required boolean NOT NULL,
			PRIMARY KEY (db, measurement, name))`,
		`DO $$ BEGIN
			IF to_regtype('`+metaSchema+`.uint64') IS NULL THEN
				CREATE DOMAIN `+metaSchema+`.uint64 AS numeric(20,0)
					CHECK (VALUE >= 0 AND VALUE <= 18446744073709551615);
			END IF;
		END $$`,
	)
	if err != nil {
		return b.classify(ctx, err)
	}
	b.metaDone = true
	return nil
}

// Databases lists the schemas that hold tables, without PostgreSQL's and
// tsgate's own.
func (b *Backend) Databases(ctx context.Context) ([]string, error) {
	return b.names(ctx, `SELECT DISTINCT table_schema FROM information_schema.tables
		WHERE table_schema NOT IN ('information_schema', $1) AND table_schema NOT LIKE 'pg\_%'`, metaSchema)
}

// Measurements lists the tables of db's schema.
func (b *Backend) Measurements(ctx context.Context, db string) ([]string, error) {
	return b.names(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, schemaOf(db))
}

// names runs a catalog query whose rows are one name each, sorted.
func (b *Backend) names(ctx context.Context, sql string, args ...any) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	rows, err := b.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, b.classify(ctx, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, b.classify(ctx, err)
	}
	slices.Sort(out)
	return out, nil
}

// SchemaError is the error of db's last failed schema discovery (the
// backend was down, say), nil after a success: Schema reports a failed
// lookup as an unknown measurement, and this tells the two apart.
func (b *Backend) SchemaError(db string) error { return b.catalog.Err(schemaOf(db)) }

// Schema is the catalog for requests whose default database is db.
func (b *Backend) Schema(db string) target.Schema { return b.catalog.For(schemaOf(db)) }

// loadSchema reads a schema's columns from information_schema and
// tsgate's metadata. Required: NOT NULL, or a field tsgate wrote in every
// row (its metadata).
func (b *Backend) loadSchema(ctx context.Context, db string) (map[string][]target.ColumnInfo, error) {
	if err := b.ensureMeta(ctx); err != nil {
		return nil, err
	}
	rows, err := b.pool.Query(ctx, `SELECT c.table_name, c.column_name, c.data_type, coalesce(c.domain_name, ''),
			c.is_nullable = 'NO', coalesce(m.is_tag, false), coalesce(m.required, false)
		FROM information_schema.columns c
		LEFT JOIN `+metaSchema+`.columns m ON m.db = c.table_schema AND m.measurement = c.table_name AND m.name = c.column_name
		WHERE c.table_schema = $1 AND c.column_name <> 'time'`, db)
	if err != nil {
		return nil, b.classify(ctx, err)
	}
	defer rows.Close()
	tables := map[string][]target.ColumnInfo{}
	for rows.Next() {
		var m, col, typ, domain string
		var notNull, tag, req bool
		if err := rows.Scan(&m, &col, &typ, &domain, &notNull, &tag, &req); err != nil {
			return nil, b.classify(ctx, err)
		}
		ft := typeOfColumn(typ, domain)
		tables[m] = append(tables[m], target.ColumnInfo{Name: col, Tag: tag, Type: ft, Required: !tag && (notNull || req)})
	}
	if err := rows.Err(); err != nil {
		return nil, b.classify(ctx, err)
	}
	// Tables with only a time column still exist.
	trows, err := b.pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, db)
	if err != nil {
		return nil, b.classify(ctx, err)
	}
	names, err := pgx.CollectRows(trows, pgx.RowTo[string])
	if err != nil {
		return nil, b.classify(ctx, err)
	}
	for _, n := range names {
		if _, ok := tables[n]; !ok {
			tables[n] = []target.ColumnInfo{}
		}
	}
	return tables, nil
}

func typeOfColumn(dataType, domain string) model.FieldType {
	if domain == "uint64" {
		return model.TypeUint
	}
	switch dataType {
	// Only the types tsgate creates: binary COPY must send each column
	// its exact type, so a table made elsewhere with, say, integer
	// columns reads as unknown and writes to those columns are rejected.
	case "double precision":
		return model.TypeFloat
	case "bigint":
		return model.TypeInt
	case "text":
		return model.TypeString
	case "boolean":
		return model.TypeBool
	}
	return model.TypeUnknown
}

// sqlType is the column type tsgate creates for a field type.
func sqlType(t model.FieldType) string {
	switch t {
	case model.TypeFloat:
		return "double precision"
	case model.TypeInt:
		return "bigint"
	case model.TypeUint:
		return metaSchema + ".uint64"
	case model.TypeBool:
		return "boolean"
	}
	return "text"
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// DeleteRows deletes m's rows of db for which where holds: a DELETE whose
// condition the backend's generator prints from the AST, as it prints a
// query's WHERE.
func (b *Backend) DeleteRows(ctx context.Context, db, m string, where ast.Expr) error {
	cond, ok, err := backendkit.DeleteCondition(ctx, b, db, m, where)
	if !ok {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	if _, err := b.pool.Exec(ctx, "DELETE FROM "+quoteIdent(schemaOf(db))+"."+quoteIdent(m)+" WHERE "+cond); err != nil {
		return b.classify(ctx, err)
	}
	return nil
}

// DropDatabase drops db's schema with its tables and forgets their
// metadata, in one transaction.
func (b *Backend) DropDatabase(ctx context.Context, db string) error {
	if err := b.ensureMeta(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DROP SCHEMA IF EXISTS "+quoteIdent(schemaOf(db))+" CASCADE"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM "+metaSchema+".columns WHERE db = $1", schemaOf(db))
		return err
	})
	b.catalog.Invalidate(schemaOf(db))
	if err != nil {
		return b.classify(ctx, err)
	}
	return nil
}
