package translate

import (
	"context"
	"errors"
	"slices"
	"unicode/utf8"

	"tsgate/errs"
	"tsgate/translate/ast"
	"tsgate/translate/duckparse"
	"tsgate/translate/pgparse"
	"tsgate/translate/target"
)

// Source is the SQL dialect queries arrive in.
type Source = pgparse.Flavor

const (
	// FromArc is Arc's DuckDB SQL (the HTTP query API).
	FromArc = pgparse.Arc
	// FromPostgres is PostgreSQL SQL (pg wire).
	FromPostgres = pgparse.Postgres
)

// ErrDuckDBOnly is wrapped by the error for a query that uses syntax only
// DuckDB has. The DuckDB backend may run such a query as written; every
// other target must refuse it. Test with errors.Is or IsDuckDBOnly.
var ErrDuckDBOnly = pgparse.ErrDuckDBOnly

// ErrSyntax is wrapped by every other parse error (SQLSTATE 42601).
var ErrSyntax = pgparse.ErrSyntax

// IsDuckDBOnly reports whether err is a parse failure caused by
// DuckDB-only syntax (as opposed to invalid SQL or a refusal).
func IsDuckDBOnly(err error) bool { return errors.Is(err, ErrDuckDBOnly) }

// Translation is one query translated for one target. It is shared by
// every caller that hits the cache: treat it as read-only.
type Translation struct {
	Target   string
	Language target.Language
	// Text is the query in the target's language; empty for Catalog.
	Text  string
	Notes []target.Note
	// Post lists row-level operations the gateway must apply to the
	// backend's rows, in order (always empty for SQL targets).
	Post []target.PostStep
	// Statement is the parsed and rewritten query.
	Statement ast.Statement
	// Catalog is set for SHOW DATABASES, SHOW TABLES and DESCRIBE, which
	// the gateway answers from its own catalog for every target.
	Catalog ast.Statement
	// Const is set when the gateway answers the query itself (a SELECT of
	// constants, see ConstResult); Text is empty then.
	Const *ConstResult
}

// Translator translates queries. It is safe for concurrent use.
type Translator struct {
	source Source
	cache  *lru
	// parser caches parse trees by literal-normalized text, so a query
	// that differs from an earlier one only in its values skips pg_query.
	parser *pgparse.Parser
	// duck, when set, parses Arc SQL pg_query cannot read with DuckDB's
	// own grammar (see WithDuckDBParser).
	duck DuckDBParser
}

// DuckDBParser returns DuckDB's parse tree of sql as json_serialize_sql
// writes it with skip_null (guard.Guard.SyntaxTree). An error means the
// parser did not answer, not that sql is invalid.
type DuckDBParser func(ctx context.Context, sql string) ([]byte, error)

// WithDuckDBParser makes Arc SQL that PostgreSQL's grammar cannot read
// (GROUP BY ALL, SELECT * EXCLUDE, //, INTERVAL 5 MINUTE, …) go through
// DuckDB's grammar instead (translate/duckparse), so it reaches every
// target translated or refused by construct. What pg_query reads is
// unaffected; PostgreSQL SQL never uses it.
func WithDuckDBParser(p DuckDBParser) Option { return func(t *Translator) { t.duck = p } }

// Option configures a Translator.
type Option func(*Translator)

// WithSource sets the dialect queries arrive in (default FromArc).
func WithSource(s Source) Option { return func(t *Translator) { t.source = s } }

// WithCacheSize bounds the translation cache (entries; 0 disables it).
// The default is 4096.
func WithCacheSize(n int) Option { return func(t *Translator) { t.cache = newLRU(n) } }

// WithParseCacheSize bounds the parse-tree cache keyed by literal-normalized
// text (entries; 0 disables it). The default is 4096.
func WithParseCacheSize(n int) Option { return func(t *Translator) { t.parser = pgparse.NewParser(n) } }

// New returns a Translator.
func New(opts ...Option) *Translator {
	t := &Translator{source: FromArc}
	for _, o := range opts {
		o(t)
	}
	if t.cache == nil {
		t.cache = newLRU(4096)
	}
	if t.parser == nil {
		t.parser = pgparse.NewParser(4096)
	}
	return t
}

// Translate translates sql for gen's target. Errors are *errs.Error:
// Invalid (42601) for bad SQL, Unsupported (0A000) for a refusal (and for
// DuckDB-only syntax, wrapping ErrDuckDBOnly). schema may be nil when
// the target needs none. Results, refusals included, are cached by
// exact text, target and schema version.
func (t *Translator) Translate(ctx context.Context, sql string, gen target.Generator, schema target.Schema) (*Translation, error) {
	return t.TranslateIn(ctx, sql, gen, "", schema)
}

// TranslateIn is Translate for a request whose default database is known
// (Arc's x-arc-database header, InfluxDB's db parameter): unqualified
// tables are looked up there, and Flux, which names its bucket in the
// text, needs it.
func (t *Translator) TranslateIn(ctx context.Context, sql string, gen target.Generator, database string, schema target.Schema) (*Translation, error) {
	if err := ctx.Err(); err != nil {
		return nil, errs.Wrap(errs.Canceled, err, "translation canceled")
	}
	var ver uint64
	if schema != nil {
		ver = schema.Version()
	}
	key := cacheKey{sql: sql, target: gen.Name(), database: database, version: ver}
	if tr, err, ok := t.cache.get(key); ok {
		return tr, err
	}
	tr, err := t.translate(ctx, sql, gen, database, schema)
	if code := errs.CodeOf(err); err != nil && (code == errs.Canceled || code == errs.Internal) && ctx.Err() != nil {
		return tr, err // not an answer about the text: do not cache it
	}
	t.cache.put(key, tr, err)
	return tr, err
}

func (t *Translator) translate(ctx context.Context, sql string, gen target.Generator, database string, schema target.Schema) (*Translation, error) {
	st, err := t.parse(ctx, sql, database, schema)
	if err != nil {
		return nil, err
	}
	if t.source == FromArc && gen.Language() == target.SQL {
		if q, ok := st.(ast.Query); ok {
			nameLikeDuckDB(q)
		}
	}
	return generate(sql, st, gen, t.source, &target.Env{Schema: schema, Database: database, PostgresSemantics: t.source == FromPostgres})
}

func generate(sql string, st ast.Statement, gen target.Generator, src Source, env *target.Env) (*Translation, error) {
	tr := &Translation{Target: gen.Name(), Language: gen.Language(), Statement: st}
	q, ok := st.(ast.Query)
	if !ok {
		tr.Catalog = st
		return tr, nil
	}
	if err := Rewrite(q, src); err != nil {
		return nil, charPos(sql, err)
	}
	if src == FromPostgres {
		if err := resolveDivision(q, env.Schema); err != nil {
			return nil, charPos(sql, err)
		}
	}
	if c, ok := constantSelect(q); ok {
		tr.Const = c
		return tr, nil
	}
	if gen.Language() == target.SQL {
		expandStar(q, env.Schema)
	}
	if err := Check(q, gen); err != nil {
		return nil, charPos(sql, err)
	}
	if err := CheckSemantics(q, gen, env); err != nil {
		return nil, charPos(sql, err)
	}
	out, err := gen.Generate(q, env)
	if err != nil {
		return nil, charPos(sql, err)
	}
	tr.Text, tr.Notes, tr.Post = out.Text, out.Notes, out.Post
	return tr, nil
}

// charPos turns the byte position a generator reports into the 1-based
// character position errs.Error promises.
func charPos(sql string, err error) error {
	var e *errs.Error
	if !errors.As(err, &e) || e.Position <= 0 || e.Position > len(sql)+1 {
		return err
	}
	c := *e
	c.Position = utf8.RuneCountInString(sql[:e.Position-1]) + 1
	return &c
}

// expandStar spells out SELECT * over one measurement as time, then every
// column alphabetically — Arc's order, which the embedded store keeps —
// because a SQL backend's table lists its columns in the order they were
// added. Without a schema the star stays: the backend's order is all
// there is to go on.
func expandStar(q ast.Query, schema target.Schema) {
	s, ok := q.(*ast.Select)
	if !ok || schema == nil || len(s.Columns) != 1 || len(s.From) != 1 || len(s.GroupBy) > 0 {
		return
	}
	st, ok := s.Columns[0].Expr.(*ast.Star)
	if !ok {
		return
	}
	t, ok := s.From[0].(*ast.Table)
	if !ok || (st.Table != "" && st.Table != t.Name && st.Table != t.Alias) {
		return
	}
	cols, ok := schema.Columns(t.Schema, t.Name)
	if !ok {
		return
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	slices.Sort(names)
	items := []*ast.SelectItem{{Span: st.Span, Expr: &ast.ColumnRef{Span: st.Span, Table: st.Table, Name: "time"}}}
	for _, n := range names {
		items = append(items, &ast.SelectItem{Span: st.Span, Expr: &ast.ColumnRef{Span: st.Span, Table: st.Table, Name: n}})
	}
	s.Columns = items
}

// nameLikeDuckDB aliases the unaliased aggregates of an Arc query's select
// list with the names DuckDB (Arc) gives them — count_star(), max(usage)
// — because other SQL engines name them differently (PostgreSQL "max",
// ClickHouse "count()") and Arc clients read results by column name. Only
// aggregates of a plain column or * are named: their DuckDB names are
// certain; other expressions keep the target's naming.
func nameLikeDuckDB(q ast.Query) {
	s, ok := q.(*ast.Select)
	if !ok {
		return
	}
	for _, it := range s.Columns {
		if _, agg := it.Expr.(*ast.Agg); !agg || it.Alias != "" {
			continue
		}
		if name, ok := duckparse.DuckDBName(it.Expr); ok {
			it.Alias = name
		}
	}
}

// Parse parses sql in the translator's source dialect (through its parse
// cache), without translating it: a fresh tree each call. database and
// schema are the request's (either may be empty): DuckDB-only syntax
// needs them for SELECT * EXCLUDE and //.
func (t *Translator) Parse(ctx context.Context, sql, database string, schema target.Schema) (ast.Statement, error) {
	return t.parse(ctx, sql, database, schema)
}

// parse is pg_query's parse, then, for Arc SQL it cannot read, DuckDB's.
// When DuckDB cannot read the text either (or its parser does not
// answer), pg_query's error stands, so nothing pg_query answered before
// changes. A construct the DuckDB front end refuses is refused by name,
// still marked DuckDB-only: the embedded store runs such text as written.
func (t *Translator) parse(ctx context.Context, sql, database string, schema target.Schema) (ast.Statement, error) {
	st, err := t.parser.Parse(sql, t.source)
	if err == nil || t.duck == nil || t.source != FromArc || !errors.Is(err, ErrDuckDBOnly) && !errors.Is(err, ErrSyntax) {
		return st, err
	}
	tree, derr := t.duck(ctx, sql)
	if derr != nil {
		if ctx.Err() != nil {
			return nil, derr
		}
		return nil, err
	}
	st, cerr := duckparse.Convert(sql, tree, duckparse.Env{Schema: schema, Database: database})
	if cerr == nil {
		return st, nil
	}
	e := errs.As(cerr)
	switch {
	case e.Code == errs.Unsupported:
		c := *e
		if c.Err == nil {
			c.Err = ErrDuckDBOnly
		}
		if c.Hint == "" {
			c.Hint = "the DuckDB (Arc) backend runs this query as written"
		}
		return nil, &c
	case e.Code == errs.Invalid && !errors.Is(cerr, duckparse.ErrSyntax):
		return nil, cerr // DuckDB's grammar reads it, and it is wrong (EXCLUDE of a missing column)
	}
	return nil, err
}
