package timescaledb

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"tsgate/dialects"
	"tsgate/dialects/postgres"
	"tsgate/errs"
	"tsgate/translate/target"
)

// Backend is TimescaleDB: the PostgreSQL backend, plus hypertables for
// the tables it creates and the timescaledb generator (time_bucket,
// first/last) — when the extension is installed in the database.
//
// URL: timescaledb://user:pass@host:port/database?… (a postgres:// URL
// with another scheme).
//
// Without the extension (plain PostgreSQL, as on this machine, where
// TimescaleDB is not packaged) the combination stays honest instead of
// failing at run time: Target is "postgres", whose output PostgreSQL runs
// (date_bin for buckets; first/last refused by the translator with a
// hint), tables are plain, and Degraded says why. The check runs at Open
// and again on every successful Ready, so installing the extension later
// switches the target without a restart.
type Backend struct {
	*postgres.Backend
	ext atomic.Bool
	// ts and pg are the generators for a server with and without the
	// extension.
	ts, pg target.Generator
}

var _ dialects.Backend = (*Backend)(nil)

// Descriptor registers TimescaleDB (PostgreSQL with the extension).
func Descriptor() dialects.Descriptor {
	return dialects.Descriptor{
		Name: "timescaledb", Schemes: []string{"timescaledb"},
		Open:       func(ctx context.Context, u string) (dialects.Backend, error) { return Open(ctx, u) },
		Generators: []target.Generator{New()},
	}
}

// Open connects like the PostgreSQL backend and looks for the extension;
// a server that is down is not an error here (Ready reports it).
func Open(ctx context.Context, rawURL string, opts ...postgres.Option) (*Backend, error) {
	if !strings.HasPrefix(rawURL, "timescaledb://") {
		return nil, errs.New(errs.Invalid, "TimescaleDB backend URL: want timescaledb://")
	}
	b := &Backend{ts: New(), pg: postgres.New()}
	opts = append(opts, postgres.WithGenerator("timescaledb", b.ts), postgres.WithOnCreate(b.hypertable))
	pb, err := postgres.Open(ctx, rawURL, opts...)
	if err != nil {
		return nil, err
	}
	b.Backend = pb
	b.check(ctx)
	return b, nil
}

// Generator is TimescaleDB's while the extension is installed, plain
// PostgreSQL's otherwise.
func (b *Backend) Generator() target.Generator {
	if b.ext.Load() {
		return b.ts
	}
	return b.pg
}

// Degraded explains a missing extension ("" when TimescaleDB is there),
// for the gateway's readiness report.
func (b *Backend) Degraded() string {
	if b.ext.Load() {
		return ""
	}
	return "the timescaledb extension is not installed: queries are translated for plain PostgreSQL (date_bin buckets; first/last refused) and tables are not hypertables"
}

// Ready checks the server and refreshes the extension check.
func (b *Backend) Ready(ctx context.Context) error {
	if err := b.Backend.Ready(ctx); err != nil {
		return err
	}
	b.check(ctx)
	return nil
}

func (b *Backend) check(ctx context.Context) {
	var ok bool
	err := b.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')`).Scan(&ok)
	if err == nil {
		b.ext.Store(ok)
	}
}

// hypertable makes a new table a hypertable when the extension exists,
// checked inside the creating transaction.
func (b *Backend) hypertable(ctx context.Context, tx pgx.Tx, schema, table string) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')`).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return nil
	}
	qualified := `"` + strings.ReplaceAll(schema, `"`, `""`) + `"."` + strings.ReplaceAll(table, `"`, `""`) + `"`
	_, err := tx.Exec(ctx, `SELECT create_hypertable($1::regclass, 'time', if_not_exists => true)`, qualified)
	return err
}
