package arc

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"tsgate/dialects"
	"tsgate/dialects/backendkit"
	"tsgate/dialects/duckdbsql"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/target"
)

// Backend is a remote Arc-compatible server.
//
// URL: arc://host:port[/db][?token=…&tls=true&timeout=30s]. The path's
// db serves requests whose database is empty (default "default"); the
// token goes in Authorization: Bearer.
//
// Reads use Arc's msgpack query endpoint because it carries column types
// (JSON cannot tell 1 from 1.0, nor int64 from uint64). It is columnar,
// so a result is held in memory once (the server built it whole too).
// Writes are columnar msgpack, the shape memtrace and Telegraf send: the
// remote decides which columns are tags (its own per-measurement
// configuration), since that shape cannot mark them. Arc guesses the
// time unit from a column's first value, so tsgate sends µs and puts a
// row whose time reads unambiguously as µs (1970-04-26 … 2286) first;
// a table with no such row is rejected. Arc's msgpack makes a column of
// non-negative integers int64 unless a value exceeds int64: uint64
// values that fit are stored as int64 (and read back so), and rows
// adding such values to an existing uint64 column are rejected.
type Backend struct {
	backendkit.Remote
	token string
	gen   target.Generator
}

var (
	_ dialects.Backend       = (*Backend)(nil)
	_ dialects.DatabaseInURL = (*Backend)(nil)
)

// Descriptor registers a remote Arc (or tsgate): it is sent DuckDB SQL
// generated from the AST, so only what the translator reads reaches it.
func Descriptor() dialects.Descriptor {
	return dialects.Descriptor{
		Name: "arc", Schemes: []string{"arc"},
		Open: func(ctx context.Context, u string) (dialects.Backend, error) { return Open(ctx, u) },
	}
}

// Open parses rawURL; it does not connect (Ready does).
func Open(ctx context.Context, rawURL string) (*Backend, error) {
	r, u, err := backendkit.ParseRemote(rawURL, backendkit.RemoteURL{
		What: "Arc", Schemes: []string{"arc"}, Want: "arc://",
		DefaultDB: "default", IdleConnTimeout: 90 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	b := &Backend{Remote: r, token: u.Query().Get("token"), gen: duckdbsql.New()}
	b.Catalog = &backendkit.Catalog{Load: b.loadSchema}
	return b, nil
}

func (b *Backend) Name() string                { return "arc" }
func (b *Backend) Generator() target.Generator { return b.gen }

// do sends one request and returns a 2xx response.
func (b *Backend) do(ctx context.Context, method, path, db, contentType string, body io.Reader) (*http.Response, error) {
	req, err := b.Request(ctx, "arc", method, path, nil, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if db != "" {
		req.Header.Set("x-arc-database", db)
	}
	if b.token != "" {
		req.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.Do(ctx, "arc", req, func(resp *http.Response, raw []byte) error {
		return statusError(resp.StatusCode, errorText(resp.Header.Get("Content-Type"), raw))
	})
}

// errorText finds Arc's error message in a JSON or msgpack body.
func errorText(contentType string, raw []byte) string {
	var m struct {
		Error string `json:"error" msgpack:"error"`
	}
	if strings.Contains(contentType, "msgpack") {
		if msgpack.Unmarshal(raw, &m) == nil && m.Error != "" {
			return m.Error
		}
	} else if json.Unmarshal(raw, &m) == nil && m.Error != "" {
		return m.Error
	}
	return strings.TrimSpace(string(raw))
}

// statusError keeps the remote's classification: its status is the
// errs code it started with.
func statusError(status int, text string) error {
	switch status {
	case http.StatusBadRequest:
		return errs.Newf(errs.Invalid, "arc: %s", text)
	case http.StatusNotFound:
		return errs.Newf(errs.NotFound, "arc: %s", text)
	case http.StatusGatewayTimeout:
		return errs.Newf(errs.Timeout, "arc: %s", text)
	case http.StatusRequestEntityTooLarge:
		return errs.Newf(errs.TooLarge, "arc: %s", text)
	}
	return backendkit.StatusError("arc", status, text)
}

// Ready asks the remote's /ready.
func (b *Backend) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, b.Timeout)
	defer cancel()
	resp, err := b.do(ctx, http.MethodGet, "/ready", "", "", nil)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// Query runs DuckDB SQL on the remote.
func (b *Backend) Query(ctx context.Context, db, text string) (model.Rows, error) {
	body, err := json.Marshal(struct {
		SQL string `json:"sql"`
	}{text})
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "arc: encode query")
	}
	resp, err := b.do(ctx, http.MethodPost, "/api/v1/query/msgpack", b.Database(db), "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	rows, err := decodeResult(msgpack.NewDecoder(resp.Body))
	if err != nil {
		return nil, backendkit.ReadError(ctx, "arc", err, "arc: unreadable query response")
	}
	return rows, nil
}

// decodeResult reads {success, columns, types, data: [column…], …}
// straight into typed columns.
func decodeResult(d *msgpack.Decoder) (*model.SliceRows, error) {
	n, err := d.DecodeMapLen()
	if err != nil {
		return nil, err
	}
	var names, types []string
	var cols [][]model.Value
	for range n {
		k, err := d.DecodeString()
		if err != nil {
			return nil, err
		}
		switch k {
		case "columns":
			if err := d.Decode(&names); err != nil {
				return nil, err
			}
		case "types":
			if err := d.Decode(&types); err != nil {
				return nil, err
			}
		case "data":
			nc, err := d.DecodeArrayLen()
			if err != nil {
				return nil, err
			}
			cols = make([][]model.Value, max(nc, 0))
			for i := range cols {
				nr, err := d.DecodeArrayLen()
				if err != nil {
					return nil, err
				}
				typ := ""
				if i < len(types) {
					typ = types[i]
				}
				cols[i] = make([]model.Value, max(nr, 0))
				for j := range cols[i] {
					if cols[i][j], err = decodeValue(d, typ); err != nil {
						return nil, err
					}
				}
			}
		case "error":
			msg, err := d.DecodeString()
			if err != nil {
				return nil, err
			}
			return nil, errs.Newf(errs.Engine, "arc: %s", msg)
		default:
			if err := d.Skip(); err != nil {
				return nil, err
			}
		}
	}
	out := &model.SliceRows{Cols: make([]model.ResultColumn, len(names))}
	for i, name := range names {
		typ := ""
		if i < len(types) {
			typ = types[i]
		}
		out.Cols[i] = model.ResultColumn{Name: name, Type: wireType(typ), BackendType: typ}
	}
	if len(cols) != len(names) {
		return nil, errs.Newf(errs.Engine, "arc: %d data columns for %d names", len(cols), len(names))
	}
	nrows := 0
	if len(cols) > 0 {
		nrows = len(cols[0])
	}
	out.Data = make([][]model.Value, nrows)
	for r := range out.Data {
		row := make([]model.Value, len(cols))
		for c := range cols {
			if r < len(cols[c]) {
				row[c] = cols[c][r]
			}
		}
		out.Data[r] = row
	}
	return out, nil
}

// wireType maps Arc's msgpack type names (Arrow's).
func wireType(t string) model.FieldType {
	switch {
	case t == "float64" || t == "double" || t == "float32":
		return model.TypeFloat
	case t == "int64" || t == "int32" || t == "int16" || t == "int8":
		return model.TypeInt
	case t == "uint64" || t == "uint32" || t == "uint16" || t == "uint8":
		return model.TypeUint
	case t == "utf8" || t == "string" || t == "large_utf8":
		return model.TypeString
	case t == "bool":
		return model.TypeBool
	case strings.HasPrefix(t, "timestamp") || t == "date32":
		return model.TypeTime
	case t == "null":
		return model.TypeUnknown
	}
	return model.TypeText
}

func decodeValue(d *msgpack.Decoder, typ string) (model.Value, error) {
	c, err := d.PeekCode()
	if err != nil {
		return model.Value{}, err
	}
	if c == msgpcode.Nil {
		return model.Value{}, d.DecodeNil()
	}
	switch wireType(typ) {
	case model.TypeFloat:
		f, err := d.DecodeFloat64()
		return model.Float(f), err
	case model.TypeInt:
		i, err := d.DecodeInt64()
		return model.Int(i), err
	case model.TypeUint:
		u, err := d.DecodeUint64()
		return model.Uint(u), err
	case model.TypeBool:
		v, err := d.DecodeBool()
		return model.Bool(v), err
	case model.TypeString:
		s, err := d.DecodeString()
		return model.String(s), err
	case model.TypeTime:
		if msgpcode.IsString(c) {
			s, err := d.DecodeString()
			if err != nil {
				return model.Value{}, err
			}
			t, err := time.Parse(time.RFC3339Nano, s)
			return model.Time(t.UnixMicro()), err
		}
		if msgpcode.IsExt(c) {
			// Arc's encoding: a MessagePack timestamp (extension -1).
			t, err := d.DecodeTime()
			return model.Time(t.UnixMicro()), err
		}
		us, err := d.DecodeInt64()
		return model.Time(us), err
	}
	if msgpcode.IsString(c) {
		s, err := d.DecodeString()
		return model.Value{Type: model.TypeText, S: s}, err
	}
	if msgpcode.IsBin(c) {
		// A BLOB: its bytes, as Arc's JSON shows them.
		b, err := d.DecodeBytes()
		return model.Value{Type: model.TypeText, S: string(b)}, err
	}
	// An untyped column: keep the value as text rather than guess.
	var v any
	if err := d.Decode(&v); err != nil {
		return model.Value{}, err
	}
	b, _ := json.Marshal(v)
	return model.Value{Type: model.TypeText, S: string(b)}, nil
}

// Databases lists the remote's databases that hold measurements.
func (b *Backend) Databases(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, b.Timeout)
	defer cancel()
	resp, err := b.do(ctx, http.MethodGet, "/api/v1/databases", "", "", nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Databases []struct {
			Name             string `json:"name"`
			MeasurementCount int    `json:"measurement_count"`
		} `json:"databases"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "arc: unreadable database list")
	}
	var out []string
	for _, d := range body.Databases {
		if d.MeasurementCount > 0 {
			out = append(out, d.Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Measurements lists db's measurements on the remote.
func (b *Backend) Measurements(ctx context.Context, db string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, b.Timeout)
	defer cancel()
	resp, err := b.do(ctx, http.MethodGet, "/api/v1/databases/"+url.PathEscape(b.Database(db))+"/measurements", "", "", nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Measurements []struct {
			Name string `json:"name"`
		} `json:"measurements"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "arc: unreadable measurement list")
	}
	out := make([]string, 0, len(body.Measurements))
	for _, m := range body.Measurements {
		out = append(out, m.Name)
	}
	slices.Sort(out)
	return out, nil
}

// loadSchema asks the remote for each measurement's columns and types
// with a LIMIT 0 query. Arc's API does not say which columns are tags,
// so Tag follows this gateway's tag configuration, and nothing is
// Required (the DuckDB SQL the remote runs needs neither).
func (b *Backend) loadSchema(ctx context.Context, db string) (map[string][]target.ColumnInfo, error) {
	ms, err := b.Measurements(ctx, db)
	if err != nil {
		return nil, err
	}
	tables := map[string][]target.ColumnInfo{}
	for _, m := range ms {
		rows, err := b.Query(ctx, db, `SELECT * FROM "`+strings.ReplaceAll(m, `"`, `""`)+`" LIMIT 0`)
		if err != nil {
			return nil, err
		}
		var cols []target.ColumnInfo
		for _, c := range rows.Columns() {
			if c.Name == "time" {
				continue
			}
			tag := c.Type == model.TypeString && slices.Contains(b.Tags[m], c.Name)
			cols = append(cols, target.ColumnInfo{Name: c.Name, Tag: tag, Type: c.Type})
		}
		rows.Close()
		tables[m] = cols
	}
	return tables, nil
}

// Write sends b as columnar msgpack, one map per measurement. Types are
// resolved against the remote's columns first, so a conflicting row is
// rejected and counted here; the remote's own partial-write refusal
// (racing writers) fails the whole call with its message.
//
// Arc appends (it keeps duplicates), so an error is marked
// dialects.NotStored only when no row can have been stored: it came
// before the one write request was sent, or that request's connection
// was never established.
func (b *Backend) Write(ctx context.Context, db string, batch *model.Batch) (model.WriteResult, error) {
	ctx, cancel := context.WithTimeout(ctx, b.Timeout)
	defer cancel()
	db = b.Database(db)
	stored, err := b.Catalog.Tables(ctx, db)
	if err != nil {
		return model.WriteResult{}, dialects.NotStored(err)
	}
	var res model.WriteResult
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	var tables []*model.Table
	changed := false
	for _, t := range batch.Tables {
		cols := backendkit.ByName(stored[t.Measurement])
		if _, ok := stored[t.Measurement]; !ok {
			changed = true
		}
		// The remote reads small unsigned values as int64 (see Backend);
		// say so now, so Resolve judges them as the remote will.
		t, ok := backendkit.Resolve(backendkit.UintsAsInts(t, backendkit.FitsInt64), backendkit.StoredType(cols), &res)
		for _, c := range t.Columns {
			if _, ok := cols[c.Name]; !ok {
				changed = true
			}
		}
		if ok {
			tables = append(tables, t)
		}
	}
	var order [][]int
	for _, t := range tables {
		first := slices.IndexFunc(t.Time, func(us int64) bool { return us >= 1e13 && us < 1e16 })
		if first < 0 {
			res.Rejected += t.Len()
			res.Conflicts = append(res.Conflicts, errs.Newf(errs.Invalid,
				"measurement %q: no row's time is between 1970-04-26 and 2286, so Arc's msgpack would misread the time unit", t.Measurement))
			order = append(order, nil)
			continue
		}
		idx := make([]int, t.Len())
		for i := range idx {
			idx[i] = i
		}
		idx[0], idx[first] = idx[first], idx[0]
		order = append(order, idx)
		res.Rows += t.Len()
	}
	n := 0
	for _, o := range order {
		if o != nil {
			n++
		}
	}
	if n == 0 {
		return res, nil
	}
	_ = enc.EncodeArrayLen(n)
	for i, t := range tables {
		if order[i] == nil {
			continue
		}
		encodeTable(enc, t, order[i])
	}
	resp, err := b.do(ctx, http.MethodPost, "/api/v1/write/msgpack", db, "application/msgpack", &buf)
	if err != nil {
		b.Catalog.Invalidate(db)
		if dialects.NeverConnected(err) {
			err = dialects.NotStored(err)
		}
		return model.WriteResult{}, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if changed {
		b.Catalog.Invalidate(db)
	}
	backendkit.CapConflicts(&res)
	return res, nil
}

// encodeTable writes {"m": …, "columns": {"time": […], name: […]…}} with
// rows in order; invalid cells are nil holes. Encoding into a
// bytes.Buffer cannot fail.
func encodeTable(enc *msgpack.Encoder, t *model.Table, order []int) {
	_ = enc.EncodeMapLen(2)
	_ = enc.EncodeString("m")
	_ = enc.EncodeString(t.Measurement)
	// A column without any value in this batch is left out: Arc would
	// type a column of nils as string.
	var live []*model.Column
	for _, c := range t.Columns {
		if slices.Contains(c.Valid, true) {
			live = append(live, c)
		}
	}
	_ = enc.EncodeString("columns")
	_ = enc.EncodeMapLen(len(live) + 1)
	_ = enc.EncodeString("time")
	_ = enc.EncodeArrayLen(len(order))
	for _, i := range order {
		_ = enc.EncodeInt(t.Time[i])
	}
	for _, c := range live {
		_ = enc.EncodeString(c.Name)
		_ = enc.EncodeArrayLen(len(order))
		for _, i := range order {
			if !c.Valid[i] {
				_ = enc.EncodeNil()
				continue
			}
			switch c.Type {
			case model.TypeFloat:
				_ = enc.EncodeFloat64(c.F[i])
			case model.TypeInt:
				_ = enc.EncodeInt64(c.I[i])
			case model.TypeUint:
				_ = enc.EncodeUint64(c.U[i])
			case model.TypeString:
				_ = enc.EncodeString(c.S[i])
			case model.TypeBool:
				_ = enc.EncodeBool(c.B[i])
			default:
				_ = enc.EncodeNil()
			}
		}
	}
}
