package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"tsgate/dialects/duckdbsql"
	"tsgate/errs"
	"tsgate/internal/sqlrows"
	"tsgate/model"
)

// Query runs sql with bare table names resolving in database db.
//
// Every text is classified first by DuckDB's own parser (the guard): only
// one query on the allow-list runs, for the caller the context names
// (auth.CallerFrom), so no statement can leave state on a pooled
// connection — no temp table, transaction, setting or attached database
// survives a request. A connection whose query failed is discarded, not
// pooled again, whatever the failure was.
//
// Statements are not prepared once and cached per connection, although
// preparing is most of a small query's cost (416 µs unprepared against
// 95 µs prepared on a 1,000-row view): DuckDB plans a prepared statement
// with the table statistics of the moment, and a later execution reads
// through that plan. Measured: a count over a range that held no rows when
// it was prepared still answered 0 after rows arrived in it (a resumed
// backfill then copied its range twice). Catalog and search-path changes
// do trigger a rebind; data changes do not.
func (s *Store) Query(ctx context.Context, db, query string) (model.Rows, error) {
	query, conn, dc, err := s.queryConn(ctx, db, query)
	if err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		s.discard(conn, dc)
		return nil, classify(ctx, err)
	}
	return newRows(ctx, rows, func(err error) { s.release(conn, dc, err) })
}

// queryConn passes query through the guard and takes a pooled connection
// whose bare names resolve in db: run is the statement the guard lets
// through, the only one the connection may be given.
func (s *Store) queryConn(ctx context.Context, db, query string) (run string, conn *sql.Conn, dc any, err error) {
	st, err := s.guard.Arc(ctx, db, query)
	if err != nil {
		return "", nil, nil, err
	}
	conn, err = s.db.Conn(ctx)
	if err != nil {
		return "", nil, nil, classify(ctx, err)
	}
	// Bare names resolve through the connection's search path, and
	// connections are pooled: a bare `FROM cpu` must mean this request's
	// database, not the previous user's. A database nobody wrote to has
	// no schema yet; an empty schema makes its bare names fail as missing
	// tables, exactly as they should.
	path := emptySchema
	if s.hasDatabase(db) {
		path = db
	}
	dc = driverConn(conn)
	if !s.paths.is(dc, path) {
		if _, err := conn.ExecContext(ctx, "SET search_path = "+quoteLiteral(quoteIdent(path))); err != nil {
			s.discard(conn, dc)
			return "", nil, nil, classify(ctx, err)
		}
		s.paths.set(dc, path)
	}
	return st.Run, conn, dc, nil
}

// discard closes a pooled connection for good: database/sql drops a
// connection whose Raw callback returns driver.ErrBadConn instead of
// pooling it again.
func (s *Store) discard(conn *sql.Conn, dc any) {
	s.paths.forget(dc)
	discardConn(conn)
}

func discardConn(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

// NewRows streams a DuckDB result read through database/sql as
// model.Rows, typed as the store's queries are; closing it closes rows
// and conn. Other DuckDB users (the Parquet migration source) share it.
func NewRows(ctx context.Context, conn *sql.Conn, rows *sql.Rows) (model.Rows, error) {
	return newRows(ctx, rows, func(err error) { releaseConn(conn, err) })
}

// release is releaseConn for a store connection: one dropped after a
// failure also leaves the search-path cache (as discard does).
func (s *Store) release(conn *sql.Conn, dc any, err error) {
	if err != nil {
		s.paths.forget(dc)
	}
	releaseConn(conn, err)
}

// releaseConn is how a result gives conn back once it ends: pooled again,
// unless the query failed midway — that may leave the connection in any
// state, so it is dropped.
func releaseConn(conn *sql.Conn, err error) {
	if err != nil {
		discardConn(conn)
		return
	}
	conn.Close()
}

// newRows streams rows as model.Rows, typed as the store's queries are.
// release frees the connection (and whatever else the result holds) once
// the result ends: err is what ended it, nil when it was read to its end
// or closed — or could not start, which leaves the connection sound.
func newRows(ctx context.Context, rows *sql.Rows, release func(err error)) (model.Rows, error) {
	cols, err := sqlrows.Columns(rows, sqlrows.FieldType)
	if err != nil {
		release(nil)
		return nil, classify(ctx, err)
	}
	// node is the parsed DuckDB type of a column tsgate renders as text.
	node := make([]*typeNode, len(cols))
	for i, c := range cols {
		if c.Type == model.TypeText {
			node[i] = parseType(c.BackendType)
		}
	}
	return sqlrows.New(rows, cols,
		func(i int, v any) model.Value { return toValue(v, node[i]) },
		release,
		func(err error) error { return classify(ctx, err) }), nil
}

// connPaths remembers the search path each pooled DuckDB connection was
// last set to, so a query skips the SET when its connection already
// points at its database (the SET was a quarter of a trivial query's
// cost). Keys are the driver's connection objects; holding them keeps a
// closed connection's address from being reused by a new one, so a hit
// always means that very connection. The map is cleared when it grows
// past a bound, which only costs the next queries a SET.
type connPaths struct {
	mu sync.Mutex
	m  map[any]string
}

const maxConnPaths = 256

func (c *connPaths) is(dc any, path string) bool {
	if dc == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[dc]
	return ok && p == path
}

func (c *connPaths) set(dc any, path string) {
	if dc == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxConnPaths {
		c.m = make(map[any]string)
	}
	c.m[dc] = path
}

func (c *connPaths) forget(dc any) {
	if dc == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, dc)
}

// driverConn is the driver connection under a pooled *sql.Conn (nil if
// it cannot be had: the path is then set every time).
func driverConn(conn *sql.Conn) any {
	var dc any
	if err := conn.Raw(func(c any) error { dc = c; return nil }); err != nil {
		return nil
	}
	return dc
}

// IsCatalogError reports whether err is DuckDB saying a name does not
// exist (a table, most often); the Arc front end turns a missing
// measurement into an empty result the way Arc does.
func IsCatalogError(err error) bool {
	var de *duckdb.Error
	return errors.As(err, &de) && de.Type == duckdb.ErrorTypeCatalog
}

// Classify turns a DuckDB driver error into a typed one (other DuckDB
// users — the gateway's finishing engine — share it).
func Classify(ctx context.Context, err error) error { return classify(ctx, err) }

// classify turns a driver error into a typed one. DuckDB's own message is
// what Arc clients see (Arc returns the engine text), so it is kept.
func classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return errs.Wrap(errs.Timeout, err, "Query timed out")
	case errors.Is(ctx.Err(), context.Canceled):
		return errs.Wrap(errs.Canceled, err, "query canceled")
	}
	var de *duckdb.Error
	if errors.As(err, &de) {
		if state, msg, ok := duckdbsql.Raised(de.Msg); ok && de.Type == duckdb.ErrorTypeInvalidInput {
			// An error the translation itself raises (PostgreSQL's
			// overflow): its own SQLSTATE and message.
			code := errs.Engine
			if state == "0A000" {
				code = errs.Unsupported // refused once the data showed it
			}
			return &errs.Error{Code: code, SQLState: state, Msg: msg, Err: err}
		}
		e := errs.Wrap(errs.Engine, err, de.Error())
		e.SQLState = sqlState(de.Type)
		return e
	}
	return errs.Wrap(errs.Engine, err, err.Error())
}

// sqlState is the PostgreSQL error class closest to a DuckDB error type,
// for pg wire; the Arc API answers every engine error 500, as Arc does.
func sqlState(t duckdb.ErrorType) string {
	switch t {
	case duckdb.ErrorTypeCatalog:
		return "42704" // undefined_object: a table, function or schema
	case duckdb.ErrorTypeBinder, duckdb.ErrorTypeMismatchType, duckdb.ErrorTypeInvalidType:
		return "42000" // syntax_error_or_access_rule_violation
	case duckdb.ErrorTypeParser, duckdb.ErrorTypeSyntax:
		return "42601"
	case duckdb.ErrorTypeConversion, duckdb.ErrorTypeInvalidInput:
		return "22P02"
	case duckdb.ErrorTypeOutOfRange:
		return "22003"
	case duckdb.ErrorTypeDivideByZero:
		return "22012"
	case duckdb.ErrorTypeNotImplemented:
		return "0A000"
	case duckdb.ErrorTypePermission:
		return "42501"
	case duckdb.ErrorTypeInterrupt:
		return "57014"
	case duckdb.ErrorTypeOutOfMemory:
		return "53200"
	}
	return "XX000"
}

// toValue converts what duckdb-go hands database/sql into a typed Value.
// Types tsgate does not model become text the way Arc's JSON renders them
// (render.go); t is the column's parsed type, nil for the modelled ones.
func toValue(v any, t *typeNode) model.Value {
	if t != nil {
		switch x := v.(type) {
		case string:
			// ENUM: its label, as text like the column's other values.
			return model.Value{Type: model.TypeText, S: x}
		case time.Time:
			return model.Value{Type: model.TypeText, S: arcText(v, t)}
		}
	}
	if val, ok := sqlrows.Value(v); ok {
		return val
	}
	return model.Value{Type: model.TypeText, S: arcText(v, t)}
}
