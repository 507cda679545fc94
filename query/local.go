package query

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	duckdbdrv "github.com/duckdb/duckdb-go/v2"

	"tsgate/auth"
	"tsgate/dialects/duckdb"
	"tsgate/errs"
	"tsgate/guard"
	"tsgate/model"
	"tsgate/translate/target"
)

// Local is the exact finishing engine: an in-memory DuckDB — Arc's own
// engine, the reference every backend is compared with — where rows a
// remote backend returned are loaded and the part of a query the backend
// cannot express exactly runs as the reference would run it. Every
// query gets a private in-memory catalog, attached for it and detached
// when its rows are closed; the engine is locked down like every other
// (no file or network access, configuration locked) and classifies what
// it runs with the guard.
//
// Memory is bounded: each query may load at most MaxRows rows and
// MaxBytes bytes (estimated as the values' sizes), enforced while the
// rows stream in, and all queries together at most Budget bytes.
type Local struct {
	// The engine opens on the first split query (open): most gateways
	// never run one, and opening it is a fifth of a cold start.
	extra     string // EngineDSN settings
	once      sync.Once
	openErr   error
	connector *duckdbdrv.Connector
	db        *sql.DB
	guard     *guard.Guard
	limits    LocalLimits
	seq       atomic.Uint64

	mu     sync.Mutex
	inUse  int64 // bytes held by queries in flight, against Budget
	budget int64

	// m, when set (Register), counts what split plans pull and how long
	// they take to finish, by backend.
	m *localMetrics
}

type localMetrics struct {
	queries, rows, bytes, capped *prometheus.CounterVec
	load                         *prometheus.HistogramVec
}

// Register adds the engine's series to reg: queries finished locally,
// rows and bytes pulled from each backend, pulls stopped at a cap, and
// the time from the first pulled row to the finishing query's start.
func (l *Local) Register(reg prometheus.Registerer) error {
	m := &localMetrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsgate_hybrid_queries_total",
			Help: "Queries answered by a split plan: the backend's rows finished in the gateway's DuckDB, by backend."}, []string{"backend"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsgate_hybrid_rows_pulled_total",
			Help: "Rows split plans pulled from the backend, by backend."}, []string{"backend"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsgate_hybrid_bytes_pulled_total",
			Help: "Bytes (values' sizes) split plans pulled from the backend, by backend."}, []string{"backend"}),
		capped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsgate_hybrid_pull_capped_total",
			Help: "Split plans refused at query.max_pull_rows or query.max_pull_bytes, by backend."}, []string{"backend"}),
		load: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tsgate_hybrid_load_seconds",
			Help:    "Time a split plan spent pulling the backend's rows into the finishing engine, by backend.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, []string{"backend"}),
	}
	for _, c := range []prometheus.Collector{m.queries, m.rows, m.bytes, m.capped, m.load} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	l.m = m
	return nil
}

// LocalLimits bound the local engine.
type LocalLimits struct {
	// MaxRows and MaxBytes cap what one query may load.
	MaxRows  int64
	MaxBytes int64
	// Budget caps what all queries in flight hold together.
	Budget int64
	// MemoryLimit is DuckDB's memory_limit for the engine ("2GB").
	MemoryLimit string
	// Threads is DuckDB's thread count (0: DuckDB's choice).
	Threads int
}

// DefaultLocalLimits size the engine for about 2 GB of memory.
func DefaultLocalLimits() LocalLimits {
	return LocalLimits{MaxRows: 5_000_000, MaxBytes: 1 << 30, Budget: 2 << 30, MemoryLimit: "2GB"}
}

// NewLocal opens the engine.
func NewLocal(g *guard.Guard, lim LocalLimits) (*Local, error) {
	extra := "memory_limit=" + lim.MemoryLimit
	if lim.Threads > 0 {
		extra += "&threads=" + strconv.Itoa(lim.Threads)
	}
	return &Local{extra: extra, guard: g, limits: lim, budget: lim.Budget}, nil
}

// open opens the engine once; a failure is every split query's answer.
func (l *Local) open() error {
	l.once.Do(func() {
		c, err := guard.OpenEngine(context.Background(), "", l.extra)
		if err != nil {
			l.openErr = errs.Wrap(errs.Unavailable, err, "local engine: "+err.Error())
			return
		}
		l.connector, l.db = c, sql.OpenDB(c)
		l.db.SetMaxIdleConns(8)
	})
	return l.openErr
}

// Close releases the engine, if it was opened; a closed Local opens none.
func (l *Local) Close() error {
	l.once.Do(func() { l.openErr = errs.New(errs.Unavailable, "local engine closed") })
	if l.db == nil {
		return nil
	}
	err := l.db.Close()
	if cerr := l.connector.Close(); err == nil {
		err = cerr
	}
	return err
}

// LocalTable is one measurement's rows to load: DB.Name in the query's
// names, with Columns in the order the embedded store lists them (time
// first, then alphabetically), typed as the store types them.
type LocalTable struct {
	DB, Name string
	Columns  []target.ColumnInfo // time excluded: always first, TIMESTAMPTZ
	Rows     model.Rows
	// Pushed describes what the backend did (for errors and EXPLAIN).
	Pushed string
	// Backend names the backend the rows come from (metrics).
	Backend string
}

// Run loads tables into a private catalog and runs finish there, with
// bare names resolving in db. The rows it returns hold the catalog until
// they are closed.
func (l *Local) Run(ctx context.Context, db string, tables []LocalTable, finish string) (model.Rows, error) {
	// The text is classified like any other before it runs, and runs as
	// the guard says Arc SQL runs: a split Arc query's finish is the
	// user's text, whose time_bucket counts from the epoch as on the
	// embedded store (guard.Statement.Run); generated finishing text
	// names its origins and runs as written.
	st, err := l.guard.Parse(ctx, finish)
	if err != nil {
		return nil, err
	}
	if err := l.guard.Check(st, l.guard.DatabaseTables(auth.CallerFrom(ctx), db), nil); err != nil {
		return nil, err
	}
	finish = st.Run
	if err := l.open(); err != nil {
		return nil, err
	}
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "local engine unavailable")
	}
	cat := "q" + strconv.FormatUint(l.seq.Add(1), 10)
	q := &localQuery{l: l, conn: conn, cat: cat}
	fail := func(err error) (model.Rows, error) {
		q.release()
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "ATTACH ':memory:' AS "+cat); err != nil {
		return fail(errs.Wrap(errs.Internal, err, "local engine: attach"))
	}
	q.attached = true
	start := time.Now()
	schemas := map[string]bool{}
	for _, t := range tables {
		if !schemas[t.DB] {
			if _, err := conn.ExecContext(ctx, "CREATE SCHEMA "+cat+"."+ident(t.DB)); err != nil {
				return fail(errs.Wrap(errs.Internal, err, "local engine: schema"))
			}
			schemas[t.DB] = true
		}
		n, size, err := q.load(ctx, t)
		if m := l.m; m != nil {
			m.rows.WithLabelValues(t.Backend).Add(float64(n))
			m.bytes.WithLabelValues(t.Backend).Add(float64(size))
			if errs.As(err) != nil && errs.As(err).SQLState == "54000" {
				m.capped.WithLabelValues(t.Backend).Inc()
			}
		}
		if err != nil {
			return fail(err)
		}
	}
	if m := l.m; m != nil && len(tables) > 0 {
		m.queries.WithLabelValues(tables[0].Backend).Inc()
		m.load.WithLabelValues(tables[0].Backend).Observe(time.Since(start).Seconds())
	}
	if !schemas[db] {
		if _, err := conn.ExecContext(ctx, "CREATE SCHEMA "+cat+"."+ident(db)); err != nil {
			return fail(errs.Wrap(errs.Internal, err, "local engine: schema"))
		}
	}
	if _, err := conn.ExecContext(ctx, "USE "+cat+"."+ident(db)); err != nil {
		return fail(errs.Wrap(errs.Internal, err, "local engine: use"))
	}
	rows, err := conn.QueryContext(ctx, finish)
	if err != nil {
		return fail(duckdb.Classify(ctx, err))
	}
	// NewRows owns conn from here (it closes it with the rows); the
	// catalog is detached and the budget returned when they close.
	r, err := duckdb.NewRows(ctx, conn, rows)
	if err != nil {
		q.conn = nil
		return fail(err)
	}
	q.conn = nil
	return &localRows{Rows: r, q: q}, nil
}

// localQuery is one query's hold on the engine.
type localQuery struct {
	l        *Local
	conn     *sql.Conn
	cat      string
	attached bool
	held     int64 // bytes reserved against the budget
	once     sync.Once
}

// reserve takes n more bytes of the shared budget.
func (q *localQuery) reserve(n int64) error {
	q.l.mu.Lock()
	defer q.l.mu.Unlock()
	if q.l.inUse+n > q.l.budget {
		return &errs.Error{Code: errs.Unavailable,
			Msg:  fmt.Sprintf("the gateway's finishing engine is at its memory budget (%d bytes across queries in flight)", q.l.budget),
			Hint: "retry shortly, or narrow the query (a time range, tag filters) so less is pulled from the backend"}
	}
	q.l.inUse += n
	q.held += n
	return nil
}

func (q *localQuery) release() {
	q.once.Do(func() {
		if q.attached {
			// The attached catalog belongs to the instance, not the
			// connection: detach it explicitly (on any connection).
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			q.l.db.ExecContext(ctx, "DETACH "+q.cat)
			cancel()
		}
		if q.conn != nil {
			q.conn.Raw(func(any) error { return driver.ErrBadConn })
			q.conn.Close()
		}
		q.l.mu.Lock()
		q.l.inUse -= q.held
		q.l.mu.Unlock()
	})
}

// load creates t's table in the query's catalog and streams its rows in,
// within the query's caps and the shared budget.
func (q *localQuery) load(ctx context.Context, t LocalTable) (rows, bytes int64, err error) {
	var n, size, pending int64
	err = q.loadInto(ctx, t, &n, &size, &pending)
	return n, size + pending, err
}

// loadInto is load, counting rows into *n and bytes into *size and
// *pending (not yet reserved) as it goes.
func (q *localQuery) loadInto(ctx context.Context, t LocalTable, np, sizep, pendingp *int64) error {
	defer t.Rows.Close()
	var ddl strings.Builder
	fmt.Fprintf(&ddl, "CREATE TABLE %s.%s.%s (time TIMESTAMPTZ", q.cat, ident(t.DB), ident(t.Name))
	names := []string{"time"}
	for _, c := range t.Columns {
		fmt.Fprintf(&ddl, ", %s %s", ident(c.Name), sqlType(c.Type))
		names = append(names, c.Name)
	}
	ddl.WriteString(")")
	if _, err := q.conn.ExecContext(ctx, ddl.String()); err != nil {
		return errs.Wrap(errs.Internal, err, "local engine: table")
	}
	// Map the backend's columns onto the table's by name.
	src := t.Rows.Columns()
	from := make([]int, len(names))
	for i, n := range names {
		from[i] = -1
		for j, c := range src {
			if c.Name == n {
				from[i] = j
				break
			}
		}
	}
	var app *duckdbdrv.Appender
	err := q.conn.Raw(func(dc any) error {
		var err error
		app, err = duckdbdrv.NewAppender(dc.(driver.Conn), q.cat, t.DB, t.Name)
		return err
	})
	if err != nil {
		return errs.Wrap(errs.Internal, err, "local engine: appender")
	}
	in := make([]model.Value, len(src))
	row := make([]driver.Value, len(names))
	var n, size, pending int64
	defer func() { *np, *sizep, *pendingp = n, size, pending }()
	const chunk = 64 << 10
	for t.Rows.Next(in) {
		n++
		if n > q.l.limits.MaxRows {
			app.Close()
			return pullCap(fmt.Sprintf("%d rows", q.l.limits.MaxRows), "query.max_pull_rows", t)
		}
		for i, j := range from {
			if j < 0 {
				row[i] = nil
				continue
			}
			v := in[j]
			row[i], pending = driverValue(v, i == 0), pending+valueSize(v)
		}
		if err := app.AppendRow(row...); err != nil {
			app.Close()
			return errs.Wrap(errs.Internal, err, "local engine: append")
		}
		if pending >= chunk {
			size += pending
			if size > q.l.limits.MaxBytes {
				app.Close()
				return pullCap(fmt.Sprintf("%d bytes", q.l.limits.MaxBytes), "query.max_pull_bytes", t)
			}
			if err := q.reserve(pending); err != nil {
				app.Close()
				return err
			}
			pending = 0
		}
		if n%4096 == 0 && ctx.Err() != nil {
			app.Close()
			return errs.Wrap(errs.Canceled, ctx.Err(), "query canceled")
		}
	}
	if err := t.Rows.Err(); err != nil {
		app.Close()
		return err
	}
	if err := q.reserve(pending); err != nil {
		app.Close()
		return err
	}
	if err := app.Close(); err != nil {
		return errs.Wrap(errs.Internal, err, "local engine: append")
	}
	return nil
}

func pullCap(limit, key string, t LocalTable) error {
	return &errs.Error{Code: errs.Unsupported, SQLState: "54000",
		Msg:  fmt.Sprintf("the query needs more than %s of %s from the backend to be answered exactly (%s)", limit, t.Name, key),
		Hint: "what the backend could do itself: " + t.Pushed + "; narrow the query (time range, tag filters) or raise " + key}
}

// localRows are the finishing query's rows; closing them frees the
// query's catalog and budget.
type localRows struct {
	model.Rows
	q *localQuery
}

func (r *localRows) Close() error {
	err := r.Rows.Close()
	r.q.release()
	return err
}

func driverValue(v model.Value, isTime bool) driver.Value {
	switch v.Type {
	case model.TypeUnknown:
		return nil
	case model.TypeTime:
		return time.UnixMicro(v.I).UTC()
	case model.TypeInt:
		if isTime {
			return time.UnixMicro(v.I).UTC()
		}
		return v.I
	case model.TypeUint:
		return v.U
	case model.TypeFloat:
		return v.F
	case model.TypeBool:
		return v.B
	}
	return v.S
}

func valueSize(v model.Value) int64 {
	if v.Type == model.TypeString || v.Type == model.TypeText {
		return int64(16 + len(v.S))
	}
	return 16
}

// sqlType is the embedded store's type for a column type.
func sqlType(t model.FieldType) string {
	switch t {
	case model.TypeFloat:
		return "DOUBLE"
	case model.TypeInt:
		return "BIGINT"
	case model.TypeUint:
		return "UBIGINT"
	case model.TypeBool:
		return "BOOLEAN"
	case model.TypeTime:
		return "TIMESTAMPTZ"
	}
	return "VARCHAR"
}

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
