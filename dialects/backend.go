package dialects

import (
	"context"

	"tsgate/model"
	"tsgate/translate/target"
)

// Backend is one configured database behind the gateway. The gateway
// translates every front end's query for Target() and hands the generated
// text to Query; it applies the translation's post steps itself.
//
// Implementations stream rows (model.Rows), pool their connections, keep
// credentials out of errors and logs, and return *errs.Error with the
// code where the failure starts (Unavailable for a backend that is down,
// Timeout past ctx's deadline, Engine for the backend's own error text).
type Backend interface {
	// Name labels metrics and logs: "influxql", "postgres", …
	Name() string
	// Target is the translate registry name of the generator whose output
	// Query accepts ("influxql", "flux", "postgres", "timescaledb",
	// "clickhouse", "clickhouse-legacy", "duckdb").
	Target() string
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
