package guard

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"tsgate/errs"
	"tsgate/translate/sqllex"
)

// Statement is what DuckDB's parser says a text is: one query, and the
// names it reaches.
type Statement struct {
	// Explain: the text is EXPLAIN [ANALYZE] of the query.
	Explain bool
	// Tables are the base tables the query reads (CTE references
	// excluded), in text order.
	Tables []Name
	// TableFuncs are the table functions it calls.
	TableFuncs []Name
	// Funcs are the scalar, aggregate and window functions it calls,
	// operators included ("+", "~~"), as DuckDB's parser names them.
	Funcs []Name
	// Shows are DESCRIBE/SUMMARIZE/SHOW forms (DuckDB's show_type).
	Shows []string
	// Run is the text to execute as Arc SQL: the text itself, or with
	// every two-argument fixed-width time_bucket aligned to the Unix
	// epoch as Arc aligns it (bucket.go).
	Run string
	// arcErr refuses the text as Arc SQL (a time_bucket whose width is
	// not a constant) although it parses.
	arcErr error
}

// Name is a possibly qualified name and where it starts in the text
// (1-based byte offset; 0 when the parser did not say).
type Name struct {
	Catalog, Schema, Name string
	Pos                   int
}

func (n Name) String() string {
	var parts []string
	for _, p := range []string{n.Catalog, n.Schema, n.Name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

// ErrNotQuery is the refusal of any statement but a query (Arc's wording).
func errNotQuery() error {
	return &errs.Error{Code: errs.Invalid, SQLState: "25006", Msg: "Dangerous SQL operation not allowed",
		Hint: "only queries (SELECT, WITH … SELECT, VALUES, DESCRIBE, EXPLAIN) are accepted"}
}

func errMultiple() error {
	return &errs.Error{Code: errs.Invalid, SQLState: "42601", Msg: "Multiple SQL statements are not allowed"}
}

// parser runs DuckDB's own parser in a private, empty, locked-down
// in-memory instance.
type parser struct {
	db   *sql.DB
	stmt *sql.Stmt
	// tree serializes the whole parse tree for translate/duckparse: it
	// keeps empty lists, because an empty grouping set (ROLLUP's) means
	// something.
	tree *sql.Stmt
}

// engineConfig is the configuration every DuckDB instance tsgate opens
// starts with (the DSN form duckdb-go reads): no file or network access
// and no extension installed or loaded on demand. OpenEngine then pins
// the time zone and locks the configuration.
const engineConfig = "enable_external_access=false&autoinstall_known_extensions=false&autoload_known_extensions=false"

// engineLockdown runs on an engine's first connection, before any other
// exists. DuckDB's session zone defaults to the host's (TZ): on a host
// set to Asia/Shanghai, date_trunc('day', time) over TIMESTAMPTZ cut days
// at 16:00 UTC and extract(hour) answered 8 for midnight, while Arc
// (whose columns carry no zone) and every other backend answer in UTC.
// TimeZone cannot be given as a startup option (the ICU extension that
// owns it loads after them), hence SET GLOBAL, then the lock, so no
// statement can change either later. Etc/UTC, not UTC: DuckDB names the
// zone in Arrow's timestamp type, and Arc's answers say Etc/UTC.
const engineLockdown = PinZone + "; SET GLOBAL lock_configuration = true"

// PinZone sets an engine's time zone to UTC for every connection: the
// statement engineLockdown starts with, for the engines that cannot be
// opened with OpenEngine (they need file access first) to run themselves.
const PinZone = "SET GLOBAL TimeZone = 'Etc/UTC'"

// EngineDSN is the data source name that opens path (empty: in memory)
// with tsgate's configuration plus extra settings (extra:
// "threads=2&memory_limit=1GB"). Open it with OpenEngine; the same DSN
// reaches the same instance through duckdb-go's instance cache.
func EngineDSN(path, extra string) string {
	dsn := path + "?"
	if extra != "" {
		dsn += extra + "&"
	}
	return dsn + engineConfig
}

// OpenEngine opens the DuckDB instance EngineDSN(path, extra) names, with
// its session zone pinned to UTC and its configuration locked.
func OpenEngine(ctx context.Context, path, extra string) (*duckdb.Connector, error) {
	connector, err := duckdb.NewConnector(EngineDSN(path, extra), nil)
	if err != nil {
		return nil, err
	}
	conn, err := connector.Connect(ctx)
	if err == nil {
		_, err = conn.(driver.ExecerContext).ExecContext(ctx, engineLockdown, nil)
		err = errors.Join(err, conn.Close())
	}
	if err != nil {
		connector.Close()
		return nil, fmt.Errorf("lock down DuckDB: %w", err)
	}
	return connector, nil
}

func newParser() (*parser, error) {
	connector, err := OpenEngine(context.Background(), "", "threads=1&max_memory=64MB")
	if err != nil {
		return nil, fmt.Errorf("guard: open parser engine: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(2)
	db.SetMaxIdleConns(2)
	stmt, err := db.Prepare("SELECT json_serialize_sql(?::VARCHAR, skip_null := true, skip_empty := true)::VARCHAR")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("guard: prepare parser: %w", err)
	}
	tree, err := db.Prepare("SELECT json_serialize_sql(?::VARCHAR, skip_null := true)::VARCHAR")
	if err != nil {
		stmt.Close()
		db.Close()
		return nil, fmt.Errorf("guard: prepare parser: %w", err)
	}
	return &parser{db: db, stmt: stmt, tree: tree}, nil
}

func (p *parser) close() error {
	p.stmt.Close()
	p.tree.Close()
	return p.db.Close()
}

// serialized is json_serialize_sql's answer.
type serialized struct {
	Error        bool              `json:"error"`
	ErrorType    string            `json:"error_type"`
	ErrorMessage string            `json:"error_message"`
	Position     string            `json:"position"`
	Statements   []json.RawMessage `json:"statements"`
}

// parse classifies text and works out what runs as Arc SQL.
func (p *parser) parse(ctx context.Context, text string) (*Statement, error) {
	st, calls, err := p.classify(ctx, text)
	if err != nil {
		return nil, err
	}
	st.Run = text
	if len(calls) > 0 {
		if err := p.alignBuckets(ctx, text, st, calls); err != nil {
			if code := errs.CodeOf(err); code == errs.Canceled || code == errs.Internal {
				return nil, err
			}
			st.arcErr = err
		}
	}
	return st, nil
}

// classify classifies text, and lists its two-argument time_bucket calls.
func (p *parser) classify(ctx context.Context, text string) (*Statement, []bucketCall, error) {
	st := &Statement{}
	body, explain := stripExplain(text)
	st.Explain = explain
	var out string
	if err := p.stmt.QueryRowContext(ctx, body).Scan(&out); err != nil {
		if ctx.Err() != nil {
			return nil, nil, errs.Wrap(errs.Canceled, err, "query canceled")
		}
		return nil, nil, errs.Wrap(errs.Internal, err, "SQL parser unavailable")
	}
	var s serialized
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		return nil, nil, errs.Wrap(errs.Internal, err, "SQL parser answer unreadable")
	}
	if s.Error {
		if s.ErrorType == "parser" {
			e := &errs.Error{Code: errs.Invalid, SQLState: "42601", Msg: s.ErrorMessage}
			if pos, err := strconv.Atoi(s.Position); err == nil && pos >= 0 {
				e.Position = pos + 1 + (len(text) - len(body))
			}
			return nil, nil, e
		}
		// json_serialize_sql serializes queries only: anything else is
		// a statement kind that is not allowed.
		return nil, nil, errNotQuery()
	}
	switch len(s.Statements) {
	case 0:
		return nil, nil, errs.New(errs.Invalid, "SQL query is required")
	case 1:
	default:
		return nil, nil, errMultiple()
	}
	var tree any
	if err := json.Unmarshal(s.Statements[0], &tree); err != nil {
		return nil, nil, errs.Wrap(errs.Internal, err, "SQL parser answer unreadable")
	}
	w := walker{st: st, offset: len(text) - len(body)}
	w.walk(tree, nil)
	for _, ns := range [][]Name{st.Tables, st.TableFuncs, st.Funcs} {
		slices.SortStableFunc(ns, func(a, b Name) int { return a.Pos - b.Pos })
	}
	return st, w.buckets, nil
}

// stripExplain splits a leading EXPLAIN [ANALYZE] off text: DuckDB's
// serializer takes only queries, and EXPLAIN's operand is checked as the
// query it is.
func stripExplain(text string) (string, bool) {
	l := sqllex.New(text, sqllex.DuckDB)
	t, ok := l.Next()
	if !ok || !t.Is(text, "EXPLAIN") {
		return text, false
	}
	next, ok := l.Next()
	if ok && next.Is(text, "ANALYZE") {
		next, ok = l.Next()
	}
	if !ok {
		return "", true
	}
	return text[next.Start:], true
}

// walker collects the names a parse tree reaches, scoping CTEs as
// DuckDB does.
type walker struct {
	st      *Statement
	offset  int
	buckets []bucketCall
}

func (w *walker) walk(v any, scope []string) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			w.walk(e, scope)
		}
	case map[string]any:
		w.node(x, scope)
	}
}

func (w *walker) node(m map[string]any, scope []string) {
	if ctes, ok := m["cte_map"].(map[string]any); ok {
		// Each CTE's body sees the CTEs declared before it; the rest of
		// the node sees them all.
		entries, _ := ctes["map"].([]any)
		inner := scope
		for _, e := range entries {
			entry, _ := e.(map[string]any)
			name, _ := entry["key"].(string)
			w.walk(entry["value"], inner)
			inner = append(inner[:len(inner):len(inner)], strings.ToLower(name))
		}
		scope = inner
	}
	typ, _ := m["type"].(string)
	class, _ := m["class"].(string)
	switch {
	case typ == "RECURSIVE_CTE_NODE":
		if name, ok := m["cte_name"].(string); ok {
			scope = append(scope[:len(scope):len(scope)], strings.ToLower(name))
		}
	case typ == "BASE_TABLE":
		n := w.name(m, "catalog_name", "schema_name", "table_name")
		if n.Catalog == "" && n.Schema == "" && inScope(scope, n.Name) {
			break // a CTE reference
		}
		w.st.Tables = append(w.st.Tables, n)
	case typ == "TABLE_FUNCTION":
		if f, ok := m["function"].(map[string]any); ok {
			w.st.TableFuncs = append(w.st.TableFuncs, w.name(f, "catalog", "schema", "function_name"))
			// Its arguments are walked below, not the call itself.
			w.walk(f["children"], scope)
			for k, v := range m {
				if k != "function" {
					w.walk(v, scope)
				}
			}
			return
		}
	case typ == "SHOW_REF":
		show, _ := m["show_type"].(string)
		w.st.Shows = append(w.st.Shows, show)
	case class == "FUNCTION":
		f := w.name(m, "catalog", "schema", "function_name")
		w.st.Funcs = append(w.st.Funcs, f)
		if args, _ := m["children"].([]any); len(args) == 2 && strings.EqualFold(f.Name, "time_bucket") {
			// Pos 0 (no location) fails closingParen: refused, not guessed.
			w.buckets = append(w.buckets, bucketCall{pos: f.Pos - 1, width: args[0]})
		}
	}
	for k, v := range m {
		if k != "cte_map" {
			w.walk(v, scope)
		}
	}
}

func (w *walker) name(m map[string]any, catalog, schema, name string) Name {
	n := Name{}
	n.Catalog, _ = m[catalog].(string)
	n.Schema, _ = m[schema].(string)
	n.Name, _ = m[name].(string)
	if loc, ok := m["query_location"].(float64); ok && loc >= 0 && loc < 1<<40 {
		n.Pos = int(loc) + 1 + w.offset
	}
	return n
}

func inScope(scope []string, name string) bool {
	name = strings.ToLower(name)
	for _, s := range scope {
		if s == name {
			return true
		}
	}
	return false
}
