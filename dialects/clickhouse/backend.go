package clickhouse

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"tsgate/dialects"
	"tsgate/dialects/backendkit"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// metaDB holds tsgate's column metadata (tags, Required fields). Its
// leading underscore cannot start an Arc database name.
const metaDB = "_tsgate"

// Backend is ClickHouse over its HTTP interface, written for 18.16 (the
// Debian server here; clickhouse-go cannot insert into it) and generating
// with the "clickhouse-legacy" target. One ClickHouse database per Arc
// database, one MergeTree table per measurement ordered by time.
//
// URL: clickhouse://[user:pass@]host:8123[/db][?tls=true&timeout=30s].
// The path's db serves requests whose database is empty (default
// "default"); every other Arc database maps to the ClickHouse database of
// the same name.
//
// Types: time DateTime('UTC'), which in 18.16 is whole seconds — written
// µs are truncated toward the past (a declared precision loss, the
// generator's notes say so too), and times outside 1970…2105 are
// rejected. Tags Nullable(String); fields Nullable(Float64 / Int64 /
// UInt64 / String / UInt8 for bool). Results: UInt8 reads as bool
// (ClickHouse's comparisons are UInt8), other unsigned types as uint64 —
// so count() is uint64 here where DuckDB says int64.
type Backend struct {
	backendkit.Remote
	gen target.Generator

	// wmu serializes DDL and metadata updates of this process: 18.16 has
	// no ADD COLUMN IF NOT EXISTS, so a writer checks, then alters.
	wmu      sync.Mutex
	metaDone bool
}

var _ dialects.DatabaseInURL = (*Backend)(nil)

var (
	_ dialects.Backend         = (*Backend)(nil)
	_ dialects.TimePrecisioner = (*Backend)(nil)
)

// Descriptor registers ClickHouse: the 18.16 profile is what the backend
// runs; the modern profile is a translation target of its own.
func Descriptor() dialects.Descriptor {
	return dialects.Descriptor{
		Name: "clickhouse", Schemes: []string{"clickhouse"},
		Open:       func(ctx context.Context, u string) (dialects.Backend, error) { return Open(ctx, u) },
		Generators: []target.Generator{NewLegacy(), New()},
	}
}

// Open parses rawURL; it does not connect (Ready does). It is Open, not
// New, because New is the package's generator constructor.
func Open(ctx context.Context, rawURL string) (*Backend, error) {
	r, _, err := backendkit.ParseRemote(rawURL, backendkit.RemoteURL{
		What: "ClickHouse", Schemes: []string{"clickhouse"}, Want: "clickhouse://",
		DefaultDB: "default", IdleConnTimeout: 9 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	b := &Backend{Remote: r, gen: NewLegacy()}
	b.Catalog = &backendkit.Catalog{Load: b.loadSchema}
	return b, nil
}

// TimePrecision: DateTime in 18.16 is whole seconds.
func (b *Backend) TimePrecision() time.Duration { return time.Second }

func (b *Backend) Name() string                { return "clickhouse" }
func (b *Backend) Generator() target.Generator { return b.gen }

// Ready pings the server.
func (b *Backend) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, b.Timeout)
	defer cancel()
	req, err := b.Request(ctx, "clickhouse", http.MethodGet, "/ping", nil, nil)
	if err != nil {
		return err
	}
	resp, err := b.Do(ctx, "clickhouse", req, func(resp *http.Response, _ []byte) error {
		return backendkit.StatusError("clickhouse", resp.StatusCode, "ping failed")
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return nil
}

// post sends one statement (query text first in the body, then data),
// database db as the default for bare names. ClickHouse buffers the
// response (wait_end_of_query) so an error found mid-result still gets
// an error status instead of a truncated 200.
func (b *Backend) post(ctx context.Context, db string, body io.Reader, extra url.Values) (*http.Response, error) {
	params := url.Values{"wait_end_of_query": {"1"}, "buffer_size": {"1048576"}}
	if db != "" {
		params.Set("database", db)
	}
	for k, v := range extra {
		params[k] = v
	}
	req, err := b.Request(ctx, "clickhouse", http.MethodPost, "/", params, body)
	if err != nil {
		return nil, err
	}
	if b.User != "" {
		req.SetBasicAuth(b.User, b.Pass)
	}
	// ClickHouse answers a statement it ran with 200, so Do's any-2xx
	// success test is the same check.
	return b.Do(ctx, "clickhouse", req, func(resp *http.Response, raw []byte) error {
		return statusError(resp, string(raw))
	})
}

// statusError classifies a ClickHouse failure by its HTTP status and,
// from 19.x on, the X-ClickHouse-Exception-Code header; 18.16 sends no
// header but maps its exception codes to statuses itself (unknown table
// and database: 404).
func statusError(resp *http.Response, text string) error {
	text = strings.TrimSpace(text)
	code, _ := strconv.Atoi(resp.Header.Get("X-ClickHouse-Exception-Code"))
	switch {
	case resp.StatusCode == http.StatusNotFound || code == 60 || code == 81: // UNKNOWN_TABLE, UNKNOWN_DATABASE
		return errs.Newf(errs.NotFound, "clickhouse: %s", text)
	case code == 159: // TIMEOUT_EXCEEDED
		return errs.Newf(errs.Timeout, "clickhouse: %s", text)
	}
	return backendkit.StatusError("clickhouse", resp.StatusCode, text)
}

// exec runs a statement without a result.
func (b *Backend) exec(ctx context.Context, db, stmt string) error {
	resp, err := b.post(ctx, db, strings.NewReader(stmt), nil)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// Query runs generated SQL and streams its rows from
// TabSeparatedWithNamesAndTypes: names and ClickHouse types first, so
// every value is parsed straight to its model type.
func (b *Backend) Query(ctx context.Context, db, text string) (model.Rows, error) {
	text = strings.TrimRight(strings.TrimSpace(text), ";")
	resp, err := b.post(ctx, b.Database(db), strings.NewReader(text+"\nFORMAT TabSeparatedWithNamesAndTypes"), nil)
	if err != nil {
		return nil, err
	}
	r := &tsvRows{Stream: backendkit.Stream{Body: &backendkit.Body{ReadCloser: resp.Body}}, ctx: ctx, br: bufio.NewReaderSize(resp.Body, 64<<10)}
	if err := r.header(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// queryAll runs a small catalog query, in database system: the
// request's database may not exist yet.
func (b *Backend) queryAll(ctx context.Context, text string) ([][]model.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, b.Timeout)
	defer cancel()
	rows, err := b.Query(ctx, "system", text)
	if err != nil {
		return nil, err
	}
	return model.Collect(rows)
}

// Databases lists databases with tables, without ClickHouse's and
// tsgate's own.
func (b *Backend) Databases(ctx context.Context) ([]string, error) {
	return b.names(ctx, `SELECT DISTINCT database FROM system.tables WHERE database NOT IN ('system', '`+metaDB+`')`)
}

// Measurements lists db's tables.
func (b *Backend) Measurements(ctx context.Context, db string) ([]string, error) {
	return b.names(ctx, `SELECT name FROM system.tables WHERE database = `+quoteString(b.Database(db)))
}

// names runs a catalog query whose rows are one name each, sorted.
func (b *Backend) names(ctx context.Context, text string) ([]string, error) {
	rows, err := b.queryAll(ctx, text)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, r[0].S)
	}
	slices.Sort(out)
	return out, nil
}

// loadSchema reads system.columns and tsgate's metadata for db.
func (b *Backend) loadSchema(ctx context.Context, db string) (map[string][]target.ColumnInfo, error) {
	if err := b.ensureMeta(ctx); err != nil {
		return nil, err
	}
	meta, err := b.readMeta(ctx, db)
	if err != nil {
		return nil, err
	}
	rows, err := b.queryAll(ctx, `SELECT table, name, type FROM system.columns WHERE database = `+quoteString(db))
	if err != nil {
		return nil, err
	}
	tables := map[string][]target.ColumnInfo{}
	for _, r := range rows {
		m, name, typ := r[0].S, r[1].S, r[2].S
		if _, ok := tables[m]; !ok {
			tables[m] = []target.ColumnInfo{}
		}
		if name == "time" {
			continue
		}
		mc := meta[[2]string{m, name}]
		nullable := strings.HasPrefix(typ, "Nullable(")
		tables[m] = append(tables[m], target.ColumnInfo{Name: name, Tag: mc.tag, Type: columnType(typ),
			Required: !mc.tag && (!nullable || mc.required)})
	}
	return tables, nil
}

type metaCol struct{ tag, required bool }

// readMeta reads the latest metadata row per column (the table is an
// append log; argMax by version picks the newest).
func (b *Backend) readMeta(ctx context.Context, db string) (map[[2]string]metaCol, error) {
	rows, err := b.queryAll(ctx, `SELECT measurement, name, argMax(is_tag, ver), argMax(required, ver)
		FROM `+metaDB+`.columns WHERE db = `+quoteString(db)+` GROUP BY measurement, name`)
	if err != nil {
		return nil, err
	}
	out := map[[2]string]metaCol{}
	for _, r := range rows {
		out[[2]string{r[0].S, r[1].S}] = metaCol{tag: r[2].B, required: r[3].B}
	}
	return out, nil
}

// ensureMeta creates tsgate's metadata table once per process.
func (b *Backend) ensureMeta(ctx context.Context) error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	if b.metaDone {
		return nil
	}
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS " + metaDB,
		"CREATE TABLE IF NOT EXISTS " + metaDB + ".columns (db String, measurement String, name String, is_tag UInt8, required UInt8, ver UInt64) ENGINE = MergeTree() ORDER BY (db, measurement, name, ver)",
	} {
		if err := b.exec(ctx, "", q); err != nil {
			return err
		}
	}
	b.metaDone = true
	return nil
}

// columnType maps a ClickHouse column type to a field type: exactly the
// ones tsgate creates; anything else is unknown (writes to it are
// rejected rather than converted).
func columnType(t string) model.FieldType {
	t = strings.TrimSuffix(strings.TrimPrefix(t, "Nullable("), ")")
	switch t {
	case "Float64":
		return model.TypeFloat
	case "Int64":
		return model.TypeInt
	case "UInt64":
		return model.TypeUint
	case "String":
		return model.TypeString
	case "UInt8":
		return model.TypeBool
	}
	return model.TypeUnknown
}

// ident always quotes, unlike the generator's quoteIdent: DDL names
// may be keywords (database "default").
func ident(s string) string {
	return "`" + strings.NewReplacer(`\`, `\\`, "`", "\\`").Replace(s) + "`"
}

// DeleteRows deletes m's rows of db for which where holds with ALTER TABLE
// … DELETE (a mutation: ClickHouse applies it in the background, so the
// rows may still be read for a moment after this returns). The condition
// is printed from the AST by the backend's generator.
func (b *Backend) DeleteRows(ctx context.Context, db, m string, where ast.Expr) error {
	cond, ok, err := backendkit.DeleteCondition(ctx, b, db, m, where)
	if !ok {
		return err
	}
	return b.exec(ctx, "", "ALTER TABLE "+ident(b.Database(db))+"."+ident(m)+" DELETE WHERE "+cond)
}

// DropDatabase drops db and forgets its columns' metadata.
func (b *Backend) DropDatabase(ctx context.Context, db string) error {
	if err := b.ensureMeta(ctx); err != nil {
		return err
	}
	if err := b.exec(ctx, "", "DROP DATABASE IF EXISTS "+ident(b.Database(db))); err != nil {
		return err
	}
	err := b.exec(ctx, "", "ALTER TABLE "+metaDB+".columns DELETE WHERE db = "+quoteString(b.Database(db)))
	b.Catalog.Invalidate(b.Database(db))
	return err
}
