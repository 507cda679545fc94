package backendkit

import (
	"context"
	"errors"
	"math"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/target"
)

// Tags says which columns of a measurement are tags. A write's own flags
// win (line protocol marks its tags); Tags adds the columns a columnar
// msgpack write cannot mark, such as memtrace's.
type Tags map[string][]string

// DefaultTags is memtrace's events measurement: the columns memtrace
// filters on, stored as tags so InfluxDB indexes them.
func DefaultTags() Tags {
	return Tags{"events": {"org_id", "agent_id", "session_id", "memory_type", "event_type"}}
}

// IsTag reports whether column c of measurement m is stored as a tag: it
// is marked as one, or it is a string column the configuration names.
func (t Tags) IsTag(m string, c *model.Column) bool {
	if c.Tag {
		return true
	}
	return c.Type == model.TypeString && slices.Contains(t[m], c.Name)
}

// Merge adds extra to a copy of t.
func (t Tags) Merge(extra Tags) Tags {
	out := Tags{}
	for m, cols := range t {
		out[m] = append([]string(nil), cols...)
	}
	for m, cols := range extra {
		out[m] = append(out[m], cols...)
	}
	return out
}

// Present lists the fields of t that have a value in every row: the
// candidates for Required. Tags are never Required (they are never NULL in
// InfluxDB's model and never consulted for it).
func Present(t *model.Table) map[string]bool {
	out := make(map[string]bool, len(t.Columns))
	for _, c := range t.Columns {
		all := true
		for _, v := range c.Valid {
			if !v {
				all = false
				break
			}
		}
		out[c.Name] = all && t.Len() > 0
	}
	return out
}

// RequiredAfter is the Required flag of a field after a write, given what
// was known before (known: the measurement had metadata; had: the field
// was Required), whether the measurement already held rows written by
// tsgate, and whether this write's rows all carry the field.
//
// A field is Required only when tsgate wrote every row of the
// measurement and each of them carried it. The flag only ever goes from
// true to false, so a crash between the metadata update and the data
// write can leave it too pessimistic, never too optimistic, as long as
// writers update metadata before data.
func RequiredAfter(known, had, existingRows, presentNow bool) bool {
	switch {
	case !presentNow:
		return false
	case known:
		return had
	default:
		// A new field: Required only if the measurement is new too.
		return !existingRows
	}
}

// Catalog is a backend's schema as the translator sees it, cached per
// database. Load fills a database on first use and again after Invalidate
// or when the entry is older than TTL (other writers may change the
// backend behind tsgate's back). Version changes whenever an answer does.
type Catalog struct {
	// Load reads one database's measurements from the backend.
	Load func(ctx context.Context, db string) (map[string][]target.ColumnInfo, error)
	// TTL bounds how long an entry is trusted; 0 means 10 s.
	TTL time.Duration
	// LoadTimeout bounds one Load, which runs under the translator's
	// schema lookup and has no context of its own; 0 means 5 s.
	LoadTimeout time.Duration

	mu      sync.Mutex
	dbs     map[string]*catalogEntry
	errs    map[string]error // the last failed load per database
	version atomic.Uint64
}

type catalogEntry struct {
	tables map[string][]target.ColumnInfo
	loaded time.Time
	fp     string
}

// Columns returns db.m's columns, loading db when needed. Errors read as
// "unknown measurement": the translator then reports NotFound, and the
// query would have failed on the same backend anyway.
func (c *Catalog) Columns(db, m string) ([]target.ColumnInfo, bool) {
	tables, err := c.tables(db)
	if err != nil {
		return nil, false
	}
	cols, ok := tables[m]
	return cols, ok
}

// Tables returns db's measurements, loading them when needed.
func (c *Catalog) Tables(ctx context.Context, db string) (map[string][]target.ColumnInfo, error) {
	c.mu.Lock()
	e := c.dbs[db]
	c.mu.Unlock()
	if e != nil && time.Since(e.loaded) < c.ttl() {
		return e.tables, nil
	}
	tables, err := c.Load(ctx, db)
	c.mu.Lock()
	if c.errs == nil {
		c.errs = map[string]error{}
	}
	if err != nil {
		c.errs[db] = err
	} else {
		delete(c.errs, db)
	}
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	c.store(db, tables)
	return tables, nil
}

// Err is the error of db's last schema load, nil once one succeeds. The
// translator sees a failed load as an unknown measurement (Schema has no
// error path); the gateway asks Err to report the outage instead.
func (c *Catalog) Err(db string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.errs[db]
}

func (c *Catalog) tables(db string) (map[string][]target.ColumnInfo, error) {
	timeout := c.LoadTimeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.Tables(ctx, db)
}

func (c *Catalog) ttl() time.Duration {
	if c.TTL == 0 {
		return 10 * time.Second
	}
	return c.TTL
}

func (c *Catalog) store(db string, tables map[string][]target.ColumnInfo) {
	for _, cols := range tables {
		SortColumns(cols)
	}
	fp := fingerprint(tables)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dbs == nil {
		c.dbs = map[string]*catalogEntry{}
	}
	old := c.dbs[db]
	if old == nil || old.fp != fp {
		c.version.Add(1)
	}
	c.dbs[db] = &catalogEntry{tables: tables, loaded: time.Now(), fp: fp}
}

// Invalidate forgets db after write-side DDL or a metadata change, so the
// next lookup reloads it.
func (c *Catalog) Invalidate(db string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.dbs, db)
	c.version.Add(1)
}

// Version implements target.Schema.
func (c *Catalog) Version() uint64 { return c.version.Load() }

// For returns the target.Schema for requests whose default database is
// db: an empty database name in a lookup means db.
func (c *Catalog) For(db string) target.Schema { return dbSchema{c, db} }

type dbSchema struct {
	c  *Catalog
	db string
}

func (s dbSchema) Columns(database, m string) ([]target.ColumnInfo, bool) {
	if database == "" {
		database = s.db
	}
	return s.c.Columns(database, m)
}

func (s dbSchema) Version() uint64 { return s.c.Version() }

// SortColumns orders columns the way SELECT * lists them after time:
// alphabetically, tags and fields alike — Arc's order (it sorts a
// measurement's columns), which the embedded store keeps too.
func SortColumns(cols []target.ColumnInfo) {
	sort.Slice(cols, func(i, j int) bool { return cols[i].Name < cols[j].Name })
}

func fingerprint(tables map[string][]target.ColumnInfo) string {
	names := make([]string, 0, len(tables))
	for m := range tables {
		names = append(names, m)
	}
	sort.Strings(names)
	var sb strings.Builder
	for _, m := range names {
		sb.WriteString(m)
		sb.WriteByte('(')
		for _, c := range tables[m] {
			sb.WriteString(c.Name)
			sb.WriteByte(byte('0' + c.Type))
			if c.Tag {
				sb.WriteByte('t')
			}
			if c.Required {
				sb.WriteByte('r')
			}
			sb.WriteByte(',')
		}
		sb.WriteByte(')')
	}
	return sb.String()
}

// Redact renders u without its password and secret query parameters, for
// errors and logs.
func Redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	q := c.Query()
	for _, k := range []string{"token", "password", "p"} {
		if q.Has(k) {
			q.Set(k, "xxxxx")
		}
	}
	c.RawQuery = q.Encode()
	return c.String()
}

// TransportError classifies a failed HTTP round trip or connection by
// where it failed: the caller's context (Timeout, Canceled) or the
// network (Unavailable). name labels the backend in the message; cause is
// kept for logs but never shown, since a *url.Error carries the request
// URL and with it any credentials.
func TransportError(ctx context.Context, name string, err error) *errs.Error {
	var e *errs.Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return &errs.Error{Code: errs.Timeout, Msg: name + ": query timed out", Err: scrub(err)}
	case errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, context.Canceled):
		return &errs.Error{Code: errs.Canceled, Msg: name + ": canceled", Err: scrub(err)}
	}
	msg := name + " is unavailable"
	var op *net.OpError
	if errors.As(err, &op) {
		msg += ": " + op.Op + " " + addr(op) + ": " + errText(op.Err)
	}
	return &errs.Error{Code: errs.Unavailable, Msg: msg, Err: scrub(err)}
}

func addr(op *net.OpError) string {
	if op.Addr != nil {
		return op.Addr.String()
	}
	return ""
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// scrub drops the URL (and its credentials) from a *url.Error.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// StatusError classifies a backend's non-success HTTP status: its own
// error text reaches the client as Engine (a 4xx: the backend refused the
// statement) or Unavailable (5xx overload and auth failures: the gateway's
// configuration or the backend's health, not the client's query).
func StatusError(name string, status int, text string) *errs.Error {
	text = strings.TrimSpace(text)
	switch {
	case status == 401 || status == 403:
		return errs.Newf(errs.Unavailable, "%s rejected tsgate's credentials (HTTP %d)", name, status)
	case status == 503 || status == 502 || status == 504:
		return errs.Newf(errs.Unavailable, "%s is unavailable (HTTP %d): %s", name, status, text)
	case status == 413:
		return errs.Newf(errs.TooLarge, "%s: request too large: %s", name, text)
	}
	return errs.Newf(errs.Engine, "%s: %s", name, text)
}

// UintsAsInts returns t with each uint64 column that conv selects turned
// into an int64 column (the caller has checked every value fits). Wire
// formats that cannot say "unsigned" for small values use it: Arc's
// msgpack reads a non-negative integer as int64 unless one exceeds
// int64's range.
func UintsAsInts(t *model.Table, conv func(c *model.Column) bool) *model.Table {
	if !slices.ContainsFunc(t.Columns, func(c *model.Column) bool { return c.Type == model.TypeUint && conv(c) }) {
		return t
	}
	out := &model.Table{Measurement: t.Measurement, Time: slices.Clone(t.Time)}
	out.Columns = make([]*model.Column, len(t.Columns))
	for i, c := range t.Columns {
		if c.Type != model.TypeUint || !conv(c) {
			out.Columns[i] = c
			continue
		}
		n := &model.Column{Name: c.Name, Tag: c.Tag, Type: model.TypeInt, Valid: c.Valid, I: make([]int64, len(c.U))}
		for j, u := range c.U {
			n.I[j] = int64(u)
		}
		out.Columns[i] = n
	}
	return rebuild(out)
}

// rebuild makes a Table whose index matches its columns, through the
// public API (the index is private to model).
func rebuild(t *model.Table) *model.Table {
	out := &model.Table{Measurement: t.Measurement}
	for _, c := range t.Columns {
		if out.Column(c.Name) == nil {
			if _, err := out.AddColumn(c.Name, c.Tag, c.Type); err != nil {
				panic(err) // names came from a valid table
			}
		}
	}
	cells := make([]model.Cell, 0, len(t.Columns))
	for i := range t.Time {
		cells = cells[:0]
		for _, c := range t.Columns {
			cells = append(cells, model.Cell{Name: c.Name, Tag: c.Tag, Value: c.At(i)})
		}
		// Cannot fail: the columns exist with these types or become
		// variants for Resolve.
		_ = out.AppendRow(t.Time[i], cells)
	}
	return out
}

// FitsInt64 reports whether every value of a uint64 column fits int64.
func FitsInt64(c *model.Column) bool {
	for i, u := range c.U {
		if c.Valid[i] && u > math.MaxInt64 {
			return false
		}
	}
	return true
}

// Timeout reads a backend URL's ?timeout= (a Go duration), def when
// absent; what names the backend in the error.
func Timeout(q url.Values, what string, def time.Duration) (time.Duration, error) {
	t := q.Get("timeout")
	if t == "" {
		return def, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil || d <= 0 {
		return 0, errs.Newf(errs.Invalid, "%s backend URL: invalid timeout %q", what, t)
	}
	return d, nil
}
