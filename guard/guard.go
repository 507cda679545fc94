package guard

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"tsgate/auth"
	"tsgate/errs"
	"tsgate/model"
)

// Option configures a Guard.
type Option func(*Guard)

// AdminOnly names databases only an admin may read (memtrace's storage:
// every organization's memories).
func AdminOnly(dbs ...string) Option {
	return func(g *Guard) {
		for _, d := range dbs {
			g.adminOnly[strings.ToLower(d)] = true
		}
	}
}

// Guard classifies and checks statements. It is safe for concurrent use.
type Guard struct {
	// The parser engine (an in-memory DuckDB) and the system names it
	// lists are opened on first use (ready): a gateway answers /health
	// without them, and opening them is most of a cold start's 50 ms.
	once    sync.Once
	initErr error
	p       *parser
	system  map[string]bool

	funcs     map[string]bool
	adminOnly map[string]bool

	mu    sync.Mutex
	cache *lru
}

// New opens a guard: its private parser engine and the name lists.
func New(opts ...Option) (*Guard, error) {
	g := &Guard{funcs: map[string]bool{}, adminOnly: map[string]bool{}, cache: newLRU(4096)}
	for _, name := range strings.Fields(allowedFunctions) {
		g.funcs[name] = true
	}
	// Functions the binder handles itself rather than through the
	// function catalog.
	g.funcs["unnest"], g.funcs["unlist"] = true, true
	for _, o := range opts {
		o(g)
	}
	return g, nil
}

// ready opens the parser engine once. Every entry point calls it first
// and fails closed: without the engine nothing is classified, so nothing
// passes.
func (g *Guard) ready() error {
	g.once.Do(func() {
		p, err := newParser()
		if err != nil {
			g.initErr = errs.Wrap(errs.Internal, err, "SQL parser unavailable: "+err.Error())
			return
		}
		sys, err := systemNames(p)
		if err != nil {
			p.close()
			g.initErr = errs.Wrap(errs.Internal, err, "SQL parser unavailable: "+err.Error())
			return
		}
		g.p, g.system = p, sys
	})
	return g.initErr
}

// Warm opens the parser engine now rather than on the first query (the
// gateway calls it once its listeners are up). The error is the one
// every query would get.
func (g *Guard) Warm() error { return g.ready() }

// Close releases the parser engine; a guard never used has none, and a
// closed guard never opens one.
func (g *Guard) Close() error {
	g.once.Do(func() { g.initErr = errs.New(errs.Unavailable, "SQL parser closed") })
	if g.p == nil {
		return nil
	}
	return g.p.close()
}

// systemNames are the relations DuckDB resolves by a bare name whatever
// the search path: its own views in the system catalog (duckdb_tables,
// pg_class, sqlite_master, …).
func systemNames(p *parser) (map[string]bool, error) {
	rows, err := p.db.Query(`SELECT view_name FROM duckdb_views() WHERE internal
		UNION SELECT table_name FROM duckdb_tables() WHERE internal`)
	if err != nil {
		return nil, fmt.Errorf("guard: list system views: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[strings.ToLower(n)] = true
	}
	return out, rows.Err()
}

// Parse classifies text with DuckDB's parser: one query, or an error
// (syntax: 42601; any other statement: Arc's "Dangerous SQL operation
// not allowed"). Answers are cached by exact text; treat them as
// read-only.
func (g *Guard) Parse(ctx context.Context, text string) (*Statement, error) {
	g.mu.Lock()
	e, ok := g.cache.get(text)
	g.mu.Unlock()
	if ok {
		return e.st, e.err
	}
	if err := g.ready(); err != nil {
		return nil, err
	}
	st, err := g.p.parse(ctx, text)
	if code := errs.CodeOf(err); err != nil && (code == errs.Canceled || code == errs.Internal) {
		return nil, err // not an answer about the text
	}
	g.mu.Lock()
	g.cache.put(text, st, err)
	g.mu.Unlock()
	return st, err
}

// SyntaxTree is DuckDB's parse tree of text as json_serialize_sql writes
// it (skip_null := true, empty lists kept): the input of
// translate/duckparse. A text DuckDB cannot parse is an answer too (the
// JSON says error); only a failure of the parser engine is an error.
func (g *Guard) SyntaxTree(ctx context.Context, text string) ([]byte, error) {
	if err := g.ready(); err != nil {
		return nil, err
	}
	var out string
	if err := g.p.tree.QueryRowContext(ctx, text).Scan(&out); err != nil {
		if ctx.Err() != nil {
			return nil, errs.Wrap(errs.Canceled, err, "query canceled")
		}
		return nil, errs.Wrap(errs.Internal, err, "SQL parser unavailable")
	}
	return []byte(out), nil
}

// Arc parses and checks Arc SQL run in database db for the caller ctx
// names (auth.CallerFrom). What to execute is the answer's Run, not text:
// Arc's time-bucket alignment is part of what Arc SQL means.
func (g *Guard) Arc(ctx context.Context, db, text string) (*Statement, error) {
	st, err := g.Parse(ctx, text)
	if err != nil {
		return nil, err
	}
	if err := g.Check(st, g.DatabaseTables(auth.CallerFrom(ctx), db), nil); err != nil {
		return nil, err
	}
	if st.arcErr != nil {
		return nil, st.arcErr
	}
	return st, nil
}

// Check applies the allow-lists to st: functions, table functions, show
// forms, and tables by the tables rule. extraFuncs are functions the
// engine defines beyond DuckDB's built-ins (the catalog's macros), by
// lower-case name, or schema.name for a qualified call.
func (g *Guard) Check(st *Statement, tables func(Name) error, extraFuncs map[string]bool) error {
	extra := func(f Name) bool {
		if f.Catalog != "" {
			return false
		}
		key := strings.ToLower(f.Name)
		if f.Schema != "" {
			key = strings.ToLower(f.Schema) + "." + key
		}
		return extraFuncs[key]
	}
	for _, f := range st.TableFuncs {
		if !extra(f) && (f.Catalog != "" || f.Schema != "" || !allowedTableFunction(f.Name)) {
			return funcError(f, true)
		}
	}
	for _, f := range st.Funcs {
		name := strings.ToLower(f.Name)
		builtin := f.Catalog == "" && (f.Schema == "" || strings.EqualFold(f.Schema, "main")) && g.funcs[name]
		if !builtin && !extra(f) {
			return funcError(f, false)
		}
	}
	for _, s := range st.Shows {
		switch s {
		case "DESCRIBE", "SUMMARY":
		default:
			return &errs.Error{Code: errs.Invalid, SQLState: "25006", Msg: "Dangerous SQL operation not allowed",
				Hint: "SHOW lists what Arc's SHOW DATABASES and SHOW TABLES answer"}
		}
	}
	for _, t := range st.Tables {
		if err := tables(t); err != nil {
			return err
		}
	}
	return nil
}

// allowedTableFunction: the table functions that compute rows from their
// arguments alone.
func allowedTableFunction(name string) bool {
	switch strings.ToLower(name) {
	case "generate_series", "range", "unnest":
		return true
	}
	return false
}

// fileFunction reports DuckDB's file-reading table functions, which Arc
// refuses with its own message (clients may match on it).
func fileFunction(name string) bool {
	n := strings.ToLower(name)
	for _, p := range []string{"read_", "parquet_", "iceberg_", "delta_"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return n == "glob" || n == "sniff_csv" || n == "arc_partition_agg"
}

func funcError(f Name, table bool) error {
	if table && fileFunction(f.Name) {
		return &errs.Error{Code: errs.Invalid, SQLState: "42501", Position: f.Pos,
			Msg: "File I/O function not allowed in user SQL: " + strings.ToLower(f.Name) + "()"}
	}
	kind := "function"
	if table {
		kind = "table function"
	}
	return &errs.Error{Code: errs.PermissionDenied, Position: f.Pos,
		Msg:  "permission denied for " + kind + " " + f.String(),
		Hint: "functions that read files, settings, session state or the catalog are not available"}
}

// reservedSchema reports DuckDB's own schemas and catalogs: no database
// is named like them, and a name qualified with one reaches the engine's
// internals.
func reservedSchema(s string) bool {
	switch s {
	case "information_schema", "pg_catalog", "main", "system", "temp":
		return true
	}
	return false
}

// DatabaseTables is the tables rule for user data: a bare name is a
// measurement of db (never a DuckDB system view it would fall back to); a
// qualified one names a database the caller may read.
func (g *Guard) DatabaseTables(c auth.Caller, db string) func(Name) error {
	return func(t Name) error {
		if t.Catalog != "" {
			return tableError(t, "a catalog-qualified name reaches past the databases")
		}
		if !model.ValidMeasurement(t.Name) {
			// DuckDB would try a name it cannot find as a file or URL
			// (a replacement scan); no measurement is named like that.
			return &errs.Error{Code: errs.Invalid, Position: t.Pos,
				Msg: "String literal not allowed in table position (replacement scans are disabled); reference a table by name"}
		}
		if t.Schema == "" {
			if err := g.ready(); err != nil {
				return err // fail closed: the system names are unknown
			}
			if g.system[strings.ToLower(t.Name)] {
				return tableError(t, "the name is one of the engine's system views; query measurements")
			}
			return g.CanRead(c, db)
		}
		s := strings.ToLower(t.Schema)
		if strings.HasPrefix(s, "_") || reservedSchema(s) {
			return tableError(t, "schema "+t.Schema+" is internal to the engine")
		}
		return g.CanRead(c, t.Schema)
	}
}

// CanRead reports whether c may read database db.
func (g *Guard) CanRead(c auth.Caller, db string) error {
	if g.adminOnly[strings.ToLower(db)] && !c.Admin {
		return &errs.Error{Code: errs.PermissionDenied, Msg: "permission denied for database " + db,
			Hint: "this database needs an admin token"}
	}
	return nil
}

func tableError(t Name, why string) error {
	return &errs.Error{Code: errs.PermissionDenied, Position: t.Pos, Msg: "permission denied for relation " + t.String(), Hint: why}
}
