package flux

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"tsgate/dialects"
	"tsgate/dialects/backendkit"
	"tsgate/dialects/influxql"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/target"
)

// Backend is InfluxDB 1.8 with flux-enabled = true, queried in Flux on
// POST /api/v2/query (annotated CSV). Writes, schema discovery, Required
// bookkeeping and database listing are the InfluxQL backend's: the data
// is the same InfluxDB database, Flux's bucket "db/autogen".
//
// URL: flux://[user:pass@]host:port[/bucket][?org=…&tls=true&timeout=30s].
// The bucket (db or db/rp) serves requests whose database is empty; org
// is accepted for InfluxDB 2.x compatibility and ignored by 1.8.
//
// Flux output is a stream of tables; Query flattens them to rows, with
// Flux's bookkeeping columns (result, table) dropped. Times are ns in
// Flux and arrive as µs (truncated; tsgate writes µs, so exact).
//
// What InfluxDB 1.8's Flux (0.65) loses, measured on the real server,
// and how the generator keeps answers exact anyway:
//   - an empty string and NULL are the same empty CSV cell: the query
//     returns a companion column marking the "" values (StepEmpty);
//   - group() scrambles a boolean column when it merges tables that
//     lack it (values move to other rows): raw rows with a boolean field
//     are merged by the gateway instead;
//   - pivot() makes columns only for fields some row has, so a result
//     whose rows all lack a field has no such column (the project step
//     reads it as NULL), and map() fails on such a column.
type Backend struct {
	*influxql.Backend
	// client sends the requests to Flux's endpoint on the InfluxQL
	// backend's server: Flux requests have their own connections.
	client *http.Client
}

var _ dialects.Backend = (*Backend)(nil)

// Descriptor registers InfluxDB 1.8+ queried in Flux.
func Descriptor() dialects.Descriptor {
	return dialects.Descriptor{
		Name: Name, Schemes: []string{"flux"}, SQLOnlyOutside: true,
		Open:       func(ctx context.Context, u string) (dialects.Backend, error) { return Open(ctx, u) },
		Generators: []target.Generator{New()},
	}
}

// Open parses rawURL (flux://) and shares its writer with an InfluxQL
// backend on the same server. It is Open, not New, because New is the
// package's generator constructor.
func Open(ctx context.Context, rawURL string, opts ...influxql.Option) (*Backend, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errs.New(errs.Invalid, "invalid Flux backend URL")
	}
	if u.Scheme != "flux" {
		return nil, errs.Newf(errs.Invalid, "Flux backend URL scheme %q: want flux://", u.Scheme)
	}
	ib, err := influxql.Open(ctx, rawURL, opts...)
	if err != nil {
		return nil, err
	}
	b := &Backend{
		Backend: ib,
		client:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second}},
	}
	return b, nil
}

func (b *Backend) Name() string                { return "flux" }
func (b *Backend) Generator() target.Generator { return New() }

func (b *Backend) Close() error {
	b.client.CloseIdleConnections()
	return b.Backend.Close()
}

type request struct {
	Query   string  `json:"query"`
	Type    string  `json:"type"`
	Dialect dialect `json:"dialect"`
}

type dialect struct {
	Header      bool     `json:"header"`
	Annotations []string `json:"annotations"`
	Delimiter   string   `json:"delimiter"`
}

// Query runs Flux text. The database is in the text (the bucket), so db
// is not used: the generator wrote the request's database there.
func (b *Backend) Query(ctx context.Context, db, text string) (model.Rows, error) {
	body, err := json.Marshal(request{Query: text, Type: "flux",
		Dialect: dialect{Header: true, Annotations: []string{"datatype", "group", "default"}, Delimiter: ","}})
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "flux: encode request")
	}
	req, err := b.Request(ctx, "flux", http.MethodPost, "/api/v2/query", nil, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/csv")
	if b.User != "" {
		// InfluxDB 1.8's v2 API takes "Token user:password".
		req.Header.Set("Authorization", "Token "+b.User+":"+b.Pass)
	}
	// The v2 query endpoint answers a query it ran with 200, so Send's
	// 2xx success test is the same check.
	resp, err := backendkit.Send(ctx, b.client, "influxdb", req, func(resp *http.Response, raw []byte) error {
		var m struct {
			Error string `json:"error"`
		}
		text := string(raw)
		if json.Unmarshal(raw, &m) == nil && m.Error != "" {
			text = m.Error
		}
		return b.MissingDatabase(ctx, db, backendkit.StatusError("influxdb (flux)", resp.StatusCode, text))
	})
	if err != nil {
		return nil, err
	}
	r := &csvRows{Stream: backendkit.Stream{Body: &backendkit.Body{ReadCloser: resp.Body}}, ctx: ctx, cr: csv.NewReader(resp.Body), byName: map[string]int{}}
	r.cr.FieldsPerRecord = -1
	r.cr.ReuseRecord = true
	if err := r.start(); err != nil {
		r.Close()
		return nil, b.MissingDatabase(ctx, db, err)
	}
	return r, nil
}

// csvRows flattens Flux's annotated CSV. Each table starts with its
// #datatype, #group and #default annotations and a header; the first
// table fixes the output columns, and a later table's columns map onto
// them by name (group() makes one table in tsgate's generated Flux; a
// column only a later table has is an error, not a dropped value).
type csvRows struct {
	backendkit.Stream
	ctx    context.Context
	cr     *csv.Reader
	byName map[string]int
	fixed  bool

	// The current table.
	types    []string
	defaults []string
	pos      []int // CSV field → output column (-1: dropped)
	inHeader bool

	ahead backendkit.Ahead
}

func (r *csvRows) start() error {
	dst := []model.Value(nil)
	for !r.Done && !r.fixed {
		if _, err := r.record(dst); err != nil {
			return err
		}
	}
	r.fixed = true
	if r.Done {
		return r.Err()
	}
	r.ahead.Read(len(r.Cols), r.next)
	return r.Err()
}

func (r *csvRows) Next(dst []model.Value) bool {
	return r.ahead.Take(dst) || r.next(dst)
}

func (r *csvRows) next(dst []model.Value) bool {
	for !r.Done {
		ok, err := r.record(dst)
		if err != nil {
			return false
		}
		if ok {
			return true
		}
	}
	return false
}

func (r *csvRows) fail(err error) error {
	return r.Fail(backendkit.ReadError(r.ctx, "influxdb", err, "influxdb (flux): reading the result failed"))
}

// record reads one CSV record: an annotation, a header or a data row
// (decoded into dst, reported true).
func (r *csvRows) record(dst []model.Value) (bool, error) {
	rec, err := r.cr.Read()
	if errors.Is(err, io.EOF) {
		r.Done = true
		r.fixed = true
		return false, nil
	}
	if err != nil {
		return false, r.fail(err)
	}
	if len(rec) == 0 || (len(rec) == 1 && rec[0] == "") {
		return false, nil // the blank line between tables
	}
	switch rec[0] {
	case "#datatype":
		r.types = append(r.types[:0], rec...)
		r.inHeader = true
		return false, nil
	case "#group":
		return false, nil
	case "#default":
		r.defaults = append(r.defaults[:0], rec...)
		return false, nil
	}
	if r.inHeader {
		r.inHeader = false
		return false, r.header(rec)
	}
	if dst == nil {
		return false, r.fail(errs.New(errs.Internal, "flux: data before the columns were fixed"))
	}
	for i := range dst {
		dst[i] = model.Value{}
	}
	for i, f := range rec {
		if i >= len(r.pos) || r.pos[i] < 0 {
			continue
		}
		if f == "" && i < len(r.defaults) {
			f = r.defaults[i]
		}
		if f == "" {
			continue // null
		}
		v, err := parseCell(r.types[i], f)
		if err != nil {
			return false, r.fail(errs.Wrap(errs.Engine, err, "flux: column "+r.Cols[r.pos[i]].Name+": "+err.Error()))
		}
		dst[r.pos[i]] = v
	}
	return true, nil
}

// header maps a table's columns; a table of error and reference columns
// is Flux reporting a failure after the response began.
func (r *csvRows) header(rec []string) error {
	if len(rec) >= 2 && rec[1] == "error" {
		msg, _ := r.cr.Read()
		text := "query failed"
		if len(msg) >= 2 && msg[1] != "" {
			text = msg[1]
		}
		return r.fail(errs.Newf(errs.Engine, "influxdb (flux): %s", text))
	}
	r.pos = r.pos[:0]
	for i, name := range rec {
		if i == 0 || name == "result" || name == "table" {
			r.pos = append(r.pos, -1)
			continue
		}
		j, ok := r.byName[name]
		if !ok {
			if r.fixed {
				return r.fail(errs.Newf(errs.Engine, "influxdb (flux): table column %q not in the first table", name))
			}
			j = len(r.Cols)
			r.byName[name] = j
			typ := ""
			if i < len(r.types) {
				typ = r.types[i]
			}
			r.Cols = append(r.Cols, model.ResultColumn{Name: name, Type: columnType(typ), BackendType: typ})
		}
		r.pos = append(r.pos, j)
	}
	r.fixed = true
	return nil
}

func columnType(t string) model.FieldType {
	switch {
	case t == "long":
		return model.TypeInt
	case t == "unsignedLong":
		return model.TypeUint
	case t == "double":
		return model.TypeFloat
	case t == "boolean":
		return model.TypeBool
	case t == "string":
		return model.TypeString
	case strings.HasPrefix(t, "dateTime"):
		return model.TypeTime
	}
	return model.TypeText
}

func parseCell(typ, f string) (model.Value, error) {
	switch columnType(typ) {
	case model.TypeInt:
		n, err := strconv.ParseInt(f, 10, 64)
		return model.Int(n), err
	case model.TypeUint:
		n, err := strconv.ParseUint(f, 10, 64)
		return model.Uint(n), err
	case model.TypeFloat:
		// Flux prints +Inf/-Inf/NaN; Go parses those.
		x, err := strconv.ParseFloat(f, 64)
		return model.Float(x), err
	case model.TypeBool:
		return model.Bool(f == "true"), nil
	case model.TypeString:
		return model.String(f), nil
	case model.TypeTime:
		t, err := time.Parse(time.RFC3339Nano, f)
		return model.Time(t.UnixMicro()), err
	}
	return model.Value{Type: model.TypeText, S: f}, nil
}
