package dialects

import (
	"context"
	"errors"
	"net"

	"tsgate/model"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// Backend is one configured database behind the gateway. The gateway
// translates every front end's query with Generator() and hands the
// generated text to Query; it applies the translation's post steps itself.
//
// Implementations stream rows (model.Rows), pool their connections, keep
// credentials out of errors and logs, and return *errs.Error with the
// code where the failure starts (Unavailable for a backend that is down,
// Timeout past ctx's deadline, Engine for the backend's own error text).
type Backend interface {
	// Name labels metrics and logs: "influxql", "postgres", …
	Name() string
	// Generator is the generator whose output Query accepts. It may
	// change while the backend runs (TimescaleDB without its extension
	// gets plain PostgreSQL), so callers ask per query.
	Generator() target.Generator
	// Query runs generated text with bare names resolving in database db
	// and returns rows in tsgate's column model: time as UTC µs
	// (model.TypeTime), int64/uint64/float64/string/bool/NULL, columns in
	// the order the backend returns them (InfluxQL series and Flux tables
	// flattened to rows, series tags as columns).
	Query(ctx context.Context, db, text string) (model.Rows, error)
	// Write stores a decoded batch in db natively, creating measurements
	// and columns as they appear (schema on write). It returns once the
	// backend acknowledged the rows; rows it rejected are counted in the
	// result, never dropped silently.
	Write(ctx context.Context, db string, b *model.Batch) (model.WriteResult, error)
	// Databases lists the databases that hold data, sorted.
	Databases(ctx context.Context) ([]string, error)
	// Measurements lists a database's measurements, sorted.
	Measurements(ctx context.Context, db string) ([]string, error)
	// Schema is the backend's catalog as the translator sees it (tags vs
	// fields, types, required fields), bare names resolving in db.
	Schema(db string) target.Schema
	// Ready reports whether the backend answers.
	Ready(ctx context.Context) error
	// Close releases pooled connections.
	Close() error
}

// Descriptor registers one kind of backend: the one place that names it
// (dialects/registry lists every descriptor; the translator, the opener,
// the CLI and the tests all read that list).
type Descriptor struct {
	// Name is the backend kind, as `tsgate translate --to` and the
	// conformance report spell it.
	Name string
	// Schemes are the backend.url schemes that open it (none for the
	// embedded store, which runs when no URL is set).
	Schemes []string
	// Open connects to the backend a URL names; nil for the embedded
	// store. The URL may carry credentials: errors never repeat it.
	Open func(ctx context.Context, url string) (Backend, error)
	// Generators are the query generators the backend may use, the
	// first being its default; each is a translation target of its own.
	Generators []target.Generator
	// SQLOnlyOutside says the backend's language is not SQL (InfluxQL,
	// Flux): conformance cases that need SQL-only constructs are outside
	// it rather than refusals to count.
	SQLOnlyOutside bool
}

// ArcNative is an optional Backend capability: the backend runs Arc SQL
// (DuckDB SQL) as written, so Arc queries skip translation. Only the
// embedded store is one; a remote Arc still gets generated text.
type ArcNative interface {
	RunsArcSQL() bool
}

// Wrapper is a backend that stands for another (the gateway's switchable
// backend, a dual-writer): capabilities are the wrapped backend's.
type Wrapper interface {
	Unwrap() Backend
}

// As finds capability T on b or on what b wraps.
func As[T any](b Backend) (T, bool) {
	for b != nil {
		if t, ok := b.(T); ok {
			return t, true
		}
		w, ok := b.(Wrapper)
		if !ok {
			break
		}
		b = w.Unwrap()
	}
	var zero T
	return zero, false
}

// DatabaseInURL is an optional Backend capability: the backend's URL
// names an Arc database in its path (arc://host/db, influxql://host/db,
// clickhouse://host/db), the one requests naming none go to. Tools that
// take a URL (tsgate migrate, tsgate translate --backend) read it here
// rather than parse URLs themselves. PostgreSQL's path names the server's
// database, not an Arc database, so it has none.
type DatabaseInURL interface {
	// URLDatabase is the Arc database the URL names, "" when none.
	URLDatabase() string
}

// Deleter is an optional Backend capability: deleting stored data in the
// backend's own terms. where is a row condition tsgate parsed and checked
// (translate.Predicate) or built itself (a retention cut-off); the
// backend prints it in its language, so no user text reaches it. A
// condition the backend cannot express exactly is refused with
// errs.Unsupported (SQLSTATE 0A000) naming the backend.
type Deleter interface {
	// DeleteRows deletes measurement m's rows of database db for which
	// where holds.
	DeleteRows(ctx context.Context, db, m string, where ast.Expr) error
	// DropDatabase deletes database db and every measurement in it.
	DropDatabase(ctx context.Context, db string) error
}

// Predicater is implemented by SQL generators (sqlgen): a condition
// printed alone, as the generator prints a query's WHERE.
type Predicater interface {
	Predicate(e ast.Expr, env *target.Env) (string, error)
}

// IdempotentWriter is an optional Backend capability: a backend whose
// writes are idempotent stores each row of a batch once however often the
// batch is written (InfluxDB: a point with the same measurement, tag set
// and time overwrites the stored one). The gateway may then send a batch
// again after any transient failure, even one that left it partly stored.
type IdempotentWriter interface {
	IdempotentWrites() bool
}

// NotStoredError marks a failed Write that the backend knows stored no
// row of the batch: the failure came before any row was sent, the one
// request carrying rows never reached the server (the connection was not
// established), or the transaction holding them was rolled back. Sending
// the batch again cannot store a row twice. Backends wrap the error they
// would have returned (an *errs.Error, still found by errors.As).
type NotStoredError struct{ Err error }

func (e *NotStoredError) Error() string { return e.Err.Error() }
func (e *NotStoredError) Unwrap() error { return e.Err }

// NotStored marks err as a failure that stored nothing; nil stays nil.
func NotStored(err error) error {
	if err == nil {
		return nil
	}
	return &NotStoredError{Err: err}
}

// WriteRetrySafe reports whether a batch whose Write on b failed with err
// may be written again without storing any row twice: b's writes are
// idempotent, or err says nothing was stored. It says nothing about
// whether a retry can succeed; the caller decides that by the error code.
func WriteRetrySafe(b Backend, err error) bool {
	if err == nil {
		return false
	}
	var ns *NotStoredError
	if errors.As(err, &ns) {
		return true
	}
	iw, ok := b.(IdempotentWriter)
	return ok && iw.IdempotentWrites()
}

// NeverConnected reports whether err is a failure to establish a
// connection (a dial error: refused, unreachable, no such host, dial
// timeout): the request it belonged to never reached the server.
func NeverConnected(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
