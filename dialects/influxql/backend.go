package influxql

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"tsgate/dialects"
	"tsgate/dialects/backendkit"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/target"
)

// metaMeasurement holds tsgate's per-field bookkeeping inside each
// InfluxDB database: one point per (measurement, field) at time 0, tags
// m and f, field required (bool). InfluxDB has no other place to keep
// it, and a point per field overwrites itself on update. Its leading
// underscore cannot start an Arc measurement name, so it never collides;
// it is hidden from every listing.
const metaMeasurement = "_tsgate_fields"

// Backend is InfluxDB 1.x (1.8 here; GaussDB(for Influx) speaks the same
// API): InfluxQL on /query, line protocol on /write, one InfluxDB database
// (retention policy autogen) per Arc database.
//
// URL: influxql://[user:pass@]host:port[/db][?tls=true&timeout=30s].
// The path's db serves requests whose database is empty; every other Arc
// database maps to the InfluxDB database of the same name, because
// generated text (Flux buckets, qualified InfluxQL sources) names
// databases as Arc does.
//
// Precision: points are written with µs timestamps (precision=u) and read
// back with epoch=u, so time round-trips exactly at Arc's µs. Types:
// float, integer, string, boolean round-trip; unsigned is not enabled in
// InfluxDB 1.x builds, so uint64 values are written as integer when they
// fit in int64 (and read back as int64), else the row is rejected. An
// empty tag value cannot be written, so "" and NULL tags are the same
// absent tag (measured on 1.8: SELECT reads NULL, a WHERE tag = empty-string comparison matches
// it, GROUP BY tag names its group ""). A row with no non-NULL field
// cannot be stored in InfluxDB and is rejected.
//
// Required (what the InfluxQL/Flux generators need for count(*) and raw
// selects): a field is Required when tsgate wrote every point of the
// measurement and each carried it, recorded per field in tsgate's own
// metadata (_tsgate_fields) before the points are written. Points
// written to InfluxDB by anyone else make no field Required.
type Backend struct {
	backendkit.Remote
	chunked bool

	// wmu serializes writes' metadata read-modify-write, so two writers
	// cannot both take a field's absence for "new measurement".
	wmu sync.Mutex
	// known caches, per database, the measurements and fields tsgate has
	// metadata for: measurement → field → required.
	kmu   sync.Mutex
	known map[string]map[string]map[string]bool
	dbs   map[string]bool // databases created (or seen) by this process
}

var (
	_ dialects.Backend       = (*Backend)(nil)
	_ dialects.DatabaseInURL = (*Backend)(nil)
)

// Option configures a Backend.
type Option func(*Backend)

// WithTimeout bounds each write and catalog request (default 30 s).
// Queries are bounded by their context.
func WithTimeout(d time.Duration) Option { return func(b *Backend) { b.Timeout = d } }

// WithChunkedQueries asks InfluxDB to stream results in chunks, so it
// never holds a whole result in its memory. It costs about 1 ms per query
// on loopback (measured: 2.0 ms vs 0.9 ms for a 10-row query), so it is
// off by default; tsgate decodes either form as a stream.
func WithChunkedQueries() Option { return func(b *Backend) { b.chunked = true } }

// Descriptor registers InfluxDB 1.x (and GaussDB(for Influx)) queried
// in InfluxQL.
func Descriptor() dialects.Descriptor {
	return dialects.Descriptor{
		Name: Name, Schemes: []string{"influxql"}, SQLOnlyOutside: true,
		Open:       func(ctx context.Context, u string) (dialects.Backend, error) { return Open(ctx, u) },
		Generators: []target.Generator{New()},
	}
}

// Open parses rawURL (scheme influxql://, or flux:// for the Flux backend
// built on this one) and checks nothing over the network: Ready does. It
// is Open, not New, because New is the package's generator constructor.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Backend, error) {
	r, u, err := backendkit.ParseRemote(rawURL, backendkit.RemoteURL{
		What: "InfluxDB", Schemes: []string{"influxql", "flux", "influxdb"}, Want: "influxql:// or flux://",
		IdleConnTimeout: 90 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	if u.Scheme == "flux" {
		// flux://host/bucket: the bucket is db or db/rp.
		r.DB, _, _ = strings.Cut(r.DB, "/")
	}
	// The URL's database is also the one that serves requests naming
	// none: there is no default.
	r.URLDB = r.DB
	b := &Backend{
		Remote: r,
		known:  map[string]map[string]map[string]bool{},
		dbs:    map[string]bool{},
	}
	b.Catalog = &backendkit.Catalog{Load: b.loadSchema}
	for _, o := range opts {
		o(b)
	}
	return b, nil
}

func (b *Backend) Name() string                { return "influxql" }
func (b *Backend) Generator() target.Generator { return New() }

// Ready pings the server.
func (b *Backend) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, b.Timeout)
	defer cancel()
	resp, err := b.do(ctx, http.MethodGet, "/ping", nil, "", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// do sends one request, returning the response only for a 2xx status.
func (b *Backend) do(ctx context.Context, method, path string, params url.Values, contentType string, body io.Reader) (*http.Response, error) {
	req, err := b.Request(ctx, "influxdb", method, path, params, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/x-msgpack")
	if b.User != "" {
		req.SetBasicAuth(b.User, b.Pass)
	}
	return b.Do(ctx, "influxdb", req, statusError)
}

// statusError reads InfluxDB's error body: JSON {"error": …} for writes,
// msgpack for queries asked for msgpack.
func statusError(resp *http.Response, raw []byte) error {
	text := string(raw)
	if strings.Contains(resp.Header.Get("Content-Type"), "msgpack") {
		if m, err := decodeErrorMsgpack(raw); err == nil {
			text = m
		}
	} else if m, ok := jsonErrorText(raw); ok {
		text = m
	}
	return backendkit.StatusError("influxdb", resp.StatusCode, text)
}

// Query runs InfluxQL text in database db and streams its rows: each
// series' rows with the series' tags as extra columns (sorted by key,
// after the series' own columns); time as µs.
func (b *Backend) Query(ctx context.Context, db, text string) (model.Rows, error) {
	return b.query(ctx, db, text, "")
}

// seriesCol is the column catalog reads get the series name in.
const seriesCol = "_series"

func (b *Backend) query(ctx context.Context, db, text, nameCol string) (model.Rows, error) {
	params := url.Values{"q": {text}, "epoch": {"u"}}
	if b.chunked {
		params.Set("chunked", "true")
		params.Set("chunk_size", "10000")
	}
	if d := b.Database(db); d != "" {
		params.Set("db", d)
	}
	resp, err := b.do(ctx, http.MethodPost, "/query", params, "", nil)
	if err != nil {
		return nil, err
	}
	r := newSeriesRows(ctx, resp.Body)
	r.nameCol = nameCol
	r.chunked = b.chunked
	if err := r.start(); err != nil {
		r.Close()
		return nil, b.missingDatabase(ctx, db, err)
	}
	return r, nil
}

// MissingDatabase is missingDatabase for the Flux backend, whose queries
// fail the same way on a database that does not exist.
func (b *Backend) MissingDatabase(ctx context.Context, db string, err error) error {
	return b.missingDatabase(ctx, db, err)
}

// missingDatabase turns a statement error on a database that does not
// exist into NotFound (a fresh Arc database has no InfluxDB database
// until its first write), asking SHOW DATABASES instead of reading the
// message.
func (b *Backend) missingDatabase(ctx context.Context, db string, err error) error {
	db = b.Database(db)
	if db == "" || errs.CodeOf(err) != errs.Engine {
		return err
	}
	if ok, cerr := b.databaseExists(ctx, db); cerr == nil && !ok {
		return &errs.Error{Code: errs.NotFound, Msg: "database " + db + " does not exist", Err: err}
	}
	return err
}

// queryAll runs a catalog statement and collects its rows; catalog results
// are small.
func (b *Backend) queryAll(ctx context.Context, db, text string) ([]model.ResultColumn, [][]model.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, b.Timeout)
	defer cancel()
	rows, err := b.query(ctx, db, text, seriesCol)
	if err != nil {
		return nil, nil, err
	}
	cols := rows.Columns()
	out, err := model.Collect(rows)
	return cols, out, err
}

func colIndex(cols []model.ResultColumn, name string) int {
	return slices.IndexFunc(cols, func(c model.ResultColumn) bool { return c.Name == name })
}

// Databases lists InfluxDB's databases that hold at least one measurement,
// without InfluxDB's own _internal.
func (b *Backend) Databases(ctx context.Context) ([]string, error) {
	cols, rows, err := b.queryAll(ctx, "", "SHOW DATABASES")
	if err != nil {
		return nil, err
	}
	i := colIndex(cols, "name")
	var out []string
	for _, r := range rows {
		if i < 0 || r[i].Type != model.TypeString || strings.HasPrefix(r[i].S, "_") {
			continue
		}
		ms, err := b.Measurements(ctx, r[i].S)
		if err != nil {
			return nil, err
		}
		if len(ms) > 0 {
			out = append(out, r[i].S)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Measurements lists db's measurements; a database that does not exist
// has none.
func (b *Backend) Measurements(ctx context.Context, db string) ([]string, error) {
	db = b.Database(db)
	// InfluxDB answers SHOW MEASUREMENTS on a missing database with an
	// error only its text tells apart; ask whether it exists instead.
	if ok, err := b.databaseExists(ctx, db); err != nil || !ok {
		return nil, err
	}
	cols, rows, err := b.queryAll(ctx, "", "SHOW MEASUREMENTS ON "+quoteIdent(db))
	if err != nil {
		return nil, err
	}
	i := colIndex(cols, "name")
	var out []string
	for _, r := range rows {
		if i >= 0 && r[i].Type == model.TypeString && r[i].S != metaMeasurement {
			out = append(out, r[i].S)
		}
	}
	slices.Sort(out)
	return out, nil
}

// loadSchema reads one database's tags, fields and tsgate's Required
// metadata. Field types come from SHOW FIELD KEYS; a field InfluxDB
// holds with several types (one per shard) takes the first.
func (b *Backend) loadSchema(ctx context.Context, db string) (map[string][]target.ColumnInfo, error) {
	exists, err := b.databaseExists(ctx, db)
	if err != nil {
		return nil, err
	}
	tables := map[string][]target.ColumnInfo{}
	if !exists {
		return tables, nil
	}
	on := " ON " + quoteIdent(db)
	tagCols, tagRows, err := b.queryAll(ctx, db, "SHOW TAG KEYS"+on)
	if err != nil {
		return nil, err
	}
	fieldCols, fieldRows, err := b.queryAll(ctx, db, "SHOW FIELD KEYS"+on)
	if err != nil {
		return nil, err
	}
	required, tagMeta, err := b.readMeta(ctx, db)
	if err != nil {
		return nil, err
	}
	seen := map[[2]string]bool{}
	add := func(m string, c target.ColumnInfo) {
		if m == metaMeasurement || seen[[2]string{m, c.Name}] {
			return
		}
		seen[[2]string{m, c.Name}] = true
		tables[m] = append(tables[m], c)
	}
	mi, ki := colIndex(tagCols, seriesCol), colIndex(tagCols, "tagKey")
	for _, r := range tagRows {
		if mi >= 0 && ki >= 0 {
			c := target.ColumnInfo{Name: r[ki].S, Tag: true, Type: model.TypeString}
			if tm, ok := tagMeta[r[mi].S][c.Name]; ok {
				c.Required, c.EmptyValues = tm.required, tm.empty
			} else {
				// No bookkeeping: InfluxQL's own reading, '' is a value.
				c.Required, c.Untracked = true, true
			}
			add(r[mi].S, c)
		}
	}
	mi, ki, ti := colIndex(fieldCols, seriesCol), colIndex(fieldCols, "fieldKey"), colIndex(fieldCols, "fieldType")
	for _, r := range fieldRows {
		if mi < 0 || ki < 0 || ti < 0 {
			break
		}
		m, f := r[mi].S, r[ki].S
		typ, _ := model.FieldTypeNamed(r[ti].S) // TypeUnknown for a name it does not know
		add(m, target.ColumnInfo{Name: f, Type: typ, Required: required[m][f]})
	}
	// Fields tsgate's metadata knows but InfluxDB does not list yet: a
	// concurrent write recorded them and its rows are on their way. They
	// must count as existing, so this writer does not take the
	// measurement for new.
	for m, fields := range required {
		for f, req := range fields {
			add(m, target.ColumnInfo{Name: f, Type: model.TypeUnknown, Required: req})
		}
	}
	return tables, nil
}

func (b *Backend) databaseExists(ctx context.Context, db string) (bool, error) {
	cols, rows, err := b.queryAll(ctx, "", "SHOW DATABASES")
	if err != nil {
		return false, err
	}
	i := colIndex(cols, "name")
	for _, r := range rows {
		if i >= 0 && r[i].S == db {
			return true, nil
		}
	}
	return false, nil
}

// tagMeta is tsgate's bookkeeping of one tag: whether every point has it
// and whether some carry the empty string.
type tagMeta struct{ required, empty bool }

// readMeta reads tsgate's metadata: measurement → field → required, and
// measurement → tag → tagMeta (points tagged k=tag).
func (b *Backend) readMeta(ctx context.Context, db string) (map[string]map[string]bool, map[string]map[string]tagMeta, error) {
	cols, rows, err := b.queryAll(ctx, db, `SELECT "required", "empty" FROM `+quoteIdent(metaMeasurement)+` GROUP BY "m", "f", "k"`)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]map[string]bool{}
	tags := map[string]map[string]tagMeta{}
	mi, fi, ri, ki, ei := colIndex(cols, "m"), colIndex(cols, "f"), colIndex(cols, "required"), colIndex(cols, "k"), colIndex(cols, "empty")
	if mi < 0 || fi < 0 || ri < 0 {
		return out, tags, nil
	}
	isTrue := func(v model.Value) bool { return v.Type == model.TypeBool && v.B }
	for _, r := range rows {
		if ki >= 0 && r[ki].S == "tag" {
			m := tags[r[mi].S]
			if m == nil {
				m = map[string]tagMeta{}
				tags[r[mi].S] = m
			}
			tm := tagMeta{required: isTrue(r[ri])}
			if ei >= 0 {
				tm.empty = isTrue(r[ei])
			}
			m[r[fi].S] = tm
			continue
		}
		m := out[r[mi].S]
		if m == nil {
			m = map[string]bool{}
			out[r[mi].S] = m
		}
		m[r[fi].S] = isTrue(r[ri])
	}
	return out, tags, nil
}

// quoteIdent quotes an InfluxQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// ensureDatabase creates db (idempotent in InfluxDB) once per process.
func (b *Backend) ensureDatabase(ctx context.Context, db string) error {
	b.kmu.Lock()
	done := b.dbs[db]
	b.kmu.Unlock()
	if done {
		return nil
	}
	params := url.Values{"q": {"CREATE DATABASE " + quoteIdent(db)}}
	resp, err := b.do(ctx, http.MethodPost, "/query", params, "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	r := newSeriesRows(ctx, resp.Body)
	if err := r.start(); err != nil {
		return err
	}
	for r.Next(nil) {
	}
	if err := r.Err(); err != nil {
		return err
	}
	b.kmu.Lock()
	b.dbs[db] = true
	b.kmu.Unlock()
	return nil
}

// writeLines posts line protocol to db with µs precision.
func (b *Backend) writeLines(ctx context.Context, db string, body []byte) error {
	params := url.Values{"db": {db}, "precision": {"u"}}
	resp, err := b.do(ctx, http.MethodPost, "/write", params, "text/plain; charset=utf-8", bytes.NewReader(body))
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// EmptyTagsAreAbsent: InfluxDB reads a tag a point lacks as ” and
// cannot store an empty tag value.
func (b *Backend) EmptyTagsAreAbsent() {}
