package backendkit

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"tsgate/dialects"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/ast"
	"tsgate/translate/target"
)

// Remote is what an HTTP backend (remote Arc, ClickHouse, InfluxDB) takes
// from its URL: where the server is, who tsgate is there, which database
// serves requests that name none, how long a request may take, which
// columns are tags, and the schema cache. The backends embed it, so its
// methods are theirs.
type Remote struct {
	// Base is scheme://host, without credentials.
	Base *url.URL
	// User and Pass are the URL's credentials, "" when it has none.
	User, Pass string
	// DB serves requests whose database is empty; URLDB is the database
	// the URL's path names, "" when none (DB then is the backend's
	// default).
	DB, URLDB string
	Client    *http.Client
	// Timeout bounds writes and catalog requests (default 30 s, the
	// URL's ?timeout=); queries are bounded by their context.
	Timeout time.Duration
	Tags    Tags
	// Catalog is the backend's schema; the backend sets its Load.
	Catalog  *Catalog
	redacted string
}

// RemoteURL says what a backend's URL may be, for ParseRemote.
type RemoteURL struct {
	// What names the backend in errors ("ClickHouse").
	What string
	// Schemes are the URL schemes accepted; Want lists them for an error
	// ("clickhouse://").
	Schemes []string
	Want    string
	// DefaultDB serves requests with no database when the URL's path
	// names none.
	DefaultDB string
	// IdleConnTimeout is how long an idle connection is kept for reuse.
	IdleConnTimeout time.Duration
}

// ParseRemote parses rawURL, scheme://[user:pass@]host[/db][?tls=true&
// timeout=30s], without connecting. It returns the parsed URL as well,
// for the backend's own parts (a token, a bucket). An error never quotes
// the URL: it may carry credentials.
func ParseRemote(rawURL string, spec RemoteURL) (Remote, *url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse's error repeats the URL, credentials included.
		return Remote{}, nil, errs.Newf(errs.Invalid, "invalid %s backend URL", spec.What)
	}
	if !slices.Contains(spec.Schemes, u.Scheme) {
		return Remote{}, nil, errs.Newf(errs.Invalid, "%s backend URL scheme %q: want %s", spec.What, u.Scheme, spec.Want)
	}
	if u.Host == "" {
		return Remote{}, nil, errs.Newf(errs.Invalid, "%s backend URL has no host", spec.What)
	}
	q := u.Query()
	scheme := "http"
	if q.Get("tls") == "true" {
		scheme = "https"
	}
	r := Remote{
		Base:     &url.URL{Scheme: scheme, Host: u.Host},
		URLDB:    strings.Trim(u.Path, "/"),
		Client:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: spec.IdleConnTimeout}},
		Tags:     DefaultTags(),
		redacted: Redact(u),
	}
	r.DB = r.URLDB
	if r.DB == "" {
		r.DB = spec.DefaultDB
	}
	if u.User != nil {
		r.User = u.User.Username()
		r.Pass, _ = u.User.Password()
	}
	if r.Timeout, err = Timeout(q, spec.What, 30*time.Second); err != nil {
		return Remote{}, nil, err
	}
	return r, u, nil
}

// String is the URL without credentials, for logs.
func (r *Remote) String() string { return r.redacted }

// URLDatabase implements dialects.DatabaseInURL.
func (r *Remote) URLDatabase() string { return r.URLDB }

// Database is the database a request for db goes to: db, or DB when db
// is empty.
func (r *Remote) Database(db string) string {
	if db == "" {
		return r.DB
	}
	return db
}

// Close releases idle connections.
func (r *Remote) Close() error {
	r.Client.CloseIdleConnections()
	return nil
}

// Request builds a request to path on the server, with query q when it
// is not nil; name labels the backend in its error.
func (r *Remote) Request(ctx context.Context, name, method, path string, q url.Values, body io.Reader) (*http.Request, error) {
	u := *r.Base
	u.Path = path
	if q != nil {
		u.RawQuery = q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, name+": build request")
	}
	return req, nil
}

// Do sends req on the backend's client (see Send).
func (r *Remote) Do(ctx context.Context, name string, req *http.Request, status func(resp *http.Response, body []byte) error) (*http.Response, error) {
	return Send(ctx, r.Client, name, req, status)
}

// Send sends req on c and returns a 2xx response. A failed round trip is
// classified by TransportError (name labels the backend); for any other
// status, status makes the error from the response and the first 64 KiB
// of its body. It takes the client so a backend with its own
// connections (Flux beside InfluxQL) sends the same way.
func Send(ctx context.Context, c *http.Client, name string, req *http.Request, status func(resp *http.Response, body []byte) error) (*http.Response, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, TransportError(ctx, name, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return nil, status(resp, raw)
}

// SchemaError is the error of db's last failed schema discovery (the
// backend was down, say), nil after a success: Schema reports a failed
// lookup as an unknown measurement, and this tells the two apart.
func (r *Remote) SchemaError(db string) error { return r.Catalog.Err(r.Database(db)) }

// Schema is the catalog for requests whose default database is db.
func (r *Remote) Schema(db string) target.Schema { return r.Catalog.For(r.Database(db)) }

// ByName indexes a measurement's stored columns by name.
func ByName(cols []target.ColumnInfo) map[string]target.ColumnInfo {
	out := make(map[string]target.ColumnInfo, len(cols))
	for _, c := range cols {
		out[c.Name] = c
	}
	return out
}

// StoredType is the lookup model.Table.Resolve takes, over a
// measurement's stored columns: a stored column's type, and no opinion
// on a column the backend does not have yet.
func StoredType(cols map[string]target.ColumnInfo) func(name string) (model.FieldType, bool) {
	return func(name string) (model.FieldType, bool) {
		c, ok := cols[name]
		return c.Type, ok
	}
}

// Resolve types t against what the backend stores (stored, as
// model.Table.Resolve takes it) and adds the rows it rejects, and why, to
// res. It returns the rows left; ok is false when none is.
func Resolve(t *model.Table, stored func(name string) (model.FieldType, bool), res *model.WriteResult) (kept *model.Table, ok bool) {
	kept, rejected, conflicts := t.Resolve(stored)
	res.Rejected += rejected
	res.Conflicts = append(res.Conflicts, conflicts...)
	return kept, kept.Len() > 0
}

// ResolveBatch begins a write to db: it reads db's stored columns from c
// and types each of batch's tables against its measurement's (Resolve),
// adding the rows it rejects, and why, to res. check, when set, screens
// a table first: its error rejects all the table's rows. It returns the
// stored columns and the tables with rows left; an error reading the
// catalog is marked dialects.NotStored, since nothing was sent yet.
func ResolveBatch(ctx context.Context, c *Catalog, db string, batch *model.Batch, res *model.WriteResult, check func(t *model.Table) error) (stored map[string][]target.ColumnInfo, kept []*model.Table, err error) {
	stored, err = c.Tables(ctx, db)
	if err != nil {
		return nil, nil, dialects.NotStored(err)
	}
	for _, t := range batch.Tables {
		if check != nil {
			if err := check(t); err != nil {
				res.Rejected += t.Len()
				res.Conflicts = append(res.Conflicts, err)
				continue
			}
		}
		if t, ok := Resolve(t, StoredType(ByName(stored[t.Measurement])), res); ok {
			kept = append(kept, t)
		}
	}
	return stored, kept, nil
}

// MaxConflicts is how many conflicts a write result reports: enough to
// show what went wrong, bounded however many rows did.
const MaxConflicts = 10

// CapConflicts keeps res's first MaxConflicts conflicts.
func CapConflicts(res *model.WriteResult) {
	if len(res.Conflicts) > MaxConflicts {
		res.Conflicts = res.Conflicts[:MaxConflicts]
	}
}

// deleter is what DeleteCondition needs of a backend.
type deleter interface {
	Name() string
	Generator() target.Generator
	Schema(db string) target.Schema
	Measurements(ctx context.Context, db string) ([]string, error)
}

// DeleteCondition prints where as b's generator prints a query's WHERE,
// for a DELETE of measurement m's rows in db. ok is false, with no error,
// when db has no measurement m: there is nothing to delete.
func DeleteCondition(ctx context.Context, b deleter, db, m string, where ast.Expr) (cond string, ok bool, err error) {
	p, isPred := b.Generator().(dialects.Predicater)
	if !isPred {
		return "", false, errs.Newf(errs.Unsupported, "deleting rows is not available on %s", b.Name())
	}
	cond, err = p.Predicate(where, &target.Env{Schema: b.Schema(db), Database: db})
	if err != nil {
		return "", false, err
	}
	ms, err := b.Measurements(ctx, db)
	if err != nil || !slices.Contains(ms, m) {
		return "", false, err
	}
	return cond, true, nil
}
