package influxql

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"tsgate/dialects/backendkit"
	"tsgate/errs"
	"tsgate/model"
)

// seriesRows streams a chunked msgpack /query response as rows.
//
// InfluxDB's msgpack formatter (services/httpd/response_writer.go) keeps
// value types (int vs float, which JSON loses) and writes, per chunk, a
// map {results: [{statement_id, [messages], series: [{[name], [tags],
// columns, values, [partial]}], [partial]} | {error}]} | {error}, with
// keys in that order. The decoder walks that structure one value at a
// time, keeping only its position, so memory does not grow with the
// result.
type seriesRows struct {
	backendkit.Stream
	ctx context.Context
	dec *msgpack.Decoder

	byName map[string]int
	fixed  bool // cols are settled (the first series was seen, or the stream ended)

	// Position in the stream: counts of what is left at each level.
	topKeys, results, resKeys, series, serKeys, values int

	// The current series: its name, tags, its columns' output positions.
	name    string
	tags    map[string]string
	serCols []int
	// nameCol, when set, adds a column of that name holding each series'
	// name: catalog statements (SHOW TAG KEYS ON db) name the measurement
	// only there.
	nameCol string
	// chunked: partial means "more follows"; otherwise it means InfluxDB
	// cut the result at its max-row-limit, which must not pass as a
	// complete answer.
	chunked bool

	ahead backendkit.Ahead // the first row, read ahead to type the columns
}

func newSeriesRows(ctx context.Context, body io.ReadCloser) *seriesRows {
	// Drain a little so the connection can be reused; give up on large
	// rests, closing is cheaper than reading them.
	return &seriesRows{Stream: backendkit.Stream{Body: &backendkit.Body{ReadCloser: body, Drain: 64 << 10}}, ctx: ctx, dec: msgpack.NewDecoder(body), byName: map[string]int{}}
}

// start reads up to the first row, so statement errors surface from
// Query and Columns is known (and typed by the first row).
func (r *seriesRows) start() error {
	for !r.fixed && !r.Done {
		if err := r.step(); err != nil {
			r.Done = true
			return err
		}
	}
	r.fixed = true
	if r.Done || len(r.Cols) == 0 {
		return nil
	}
	if r.ahead.Read(len(r.Cols), r.next) {
		for i, v := range r.ahead.Row() {
			if r.Cols[i].Type == model.TypeUnknown {
				r.Cols[i].Type = v.Type
			}
		}
	}
	return r.Err()
}

func (r *seriesRows) Next(dst []model.Value) bool {
	return r.ahead.Take(dst) || r.next(dst)
}

func (r *seriesRows) next(dst []model.Value) bool {
	for !r.Done {
		if r.values > 0 {
			r.values--
			if err := r.row(dst); err != nil {
				r.Fail(err)
				return false
			}
			return true
		}
		if err := r.step(); err != nil {
			r.Fail(err)
			return false
		}
	}
	return false
}

// decodeErr classifies a decoding error as backendkit.ReadError does,
// except that only a response cut short (EOF) is Unavailable: any other
// decoder failure, the context still live, is an unreadable response
// (Engine).
func (r *seriesRows) decodeErr(err error) error {
	eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	if !eof && r.ctx.Err() == nil && !errors.As(err, new(*errs.Error)) {
		return errs.Wrap(errs.Engine, err, "influxdb: unreadable response: "+err.Error())
	}
	return backendkit.ReadError(r.ctx, "influxdb", err, "influxdb: response ended early")
}

// step consumes one structural element (a key and its scalar value, or a
// container header) below the row level.
func (r *seriesRows) step() error {
	d := r.dec
	switch {
	case r.serKeys > 0:
		k, err := r.key(&r.serKeys)
		if err != nil {
			return err
		}
		switch k {
		case "name":
			r.name, err = d.DecodeString()
		case "tags":
			err = r.readTags()
		case "columns":
			err = r.readColumns()
		case "values":
			r.values, err = count(d.DecodeArrayLen())
		case "partial":
			err = r.partial()
		default:
			err = d.Skip()
		}
		if err != nil {
			return r.decodeErr(err)
		}
	case r.series > 0:
		if err := r.enter(&r.series, &r.serKeys); err != nil {
			return err
		}
		r.tags = nil
		r.name = ""
		r.serCols = r.serCols[:0]
	case r.resKeys > 0:
		return r.level(&r.resKeys, "series", &r.series, true)
	case r.results > 0:
		return r.enter(&r.results, &r.resKeys)
	case r.topKeys > 0:
		return r.level(&r.topKeys, "results", &r.results, false)
	default:
		// The next chunk, or the end.
		n, err := d.DecodeMapLen()
		if errors.Is(err, io.EOF) {
			r.Done = true
			r.fixed = true
			return nil
		}
		if err != nil {
			return r.decodeErr(err)
		}
		r.topKeys = max(n, 0)
	}
	return nil
}

// key reads the next key of a map, left counting the keys still to come.
func (r *seriesRows) key(left *int) (string, error) {
	*left--
	k, err := r.dec.DecodeString()
	if err != nil {
		return "", r.decodeErr(err)
	}
	return k, nil
}

// level reads the next key of a result (partial: true) or of the
// response (left counts the keys still to come) and its value: the key
// list's array, whose length goes to n; "error", the server's error for
// the statement or the request; "partial" in a result, whether it was
// cut. Other values are skipped.
func (r *seriesRows) level(left *int, list string, n *int, partial bool) error {
	k, err := r.key(left)
	if err != nil {
		return err
	}
	switch {
	case k == list:
		*n, err = count(r.dec.DecodeArrayLen())
	case k == "partial" && partial:
		err = r.partial()
	case k == "error":
		return r.serverError()
	default:
		err = r.dec.Skip()
	}
	if err != nil {
		return r.decodeErr(err)
	}
	return nil
}

// enter reads the header of the next map of an array (left counts the
// maps still to come) into keys, the count of its keys.
func (r *seriesRows) enter(left, keys *int) error {
	*left--
	n, err := count(r.dec.DecodeMapLen())
	if err != nil {
		return r.decodeErr(err)
	}
	*keys = n
	return nil
}

// count is an array's or map's length; a nil one (-1) is empty.
func count(n int, err error) (int, error) { return max(n, 0), err }

// serverError reads the message of an "error" key: InfluxDB's error for a
// statement (in a result) or for the whole request (at the top).
func (r *seriesRows) serverError() error {
	msg, err := r.dec.DecodeString()
	if err != nil {
		return r.decodeErr(err)
	}
	return errs.Newf(errs.Engine, "influxdb: %s", msg)
}

func (r *seriesRows) partial() error {
	p, err := r.dec.DecodeBool()
	if err != nil {
		return err
	}
	if p && !r.chunked {
		return errs.New(errs.TooLarge, "influxdb: the result was cut at the server's max-row-limit; narrow the query or use chunked queries")
	}
	return nil
}

func (r *seriesRows) readTags() error {
	n, err := r.dec.DecodeMapLen()
	if err != nil {
		return err
	}
	r.tags = make(map[string]string, max(n, 0))
	for range n {
		k, err := r.dec.DecodeString()
		if err != nil {
			return err
		}
		v, err := r.dec.DecodeString()
		if err != nil {
			return err
		}
		r.tags[k] = v
	}
	return nil
}

// readColumns maps the series' columns to output positions. The first
// series fixes the output: its columns, then its tag keys sorted. A later
// series of the same statement has the same shape; a column it adds is an
// error rather than a silently dropped value.
func (r *seriesRows) readColumns() error {
	n, err := r.dec.DecodeArrayLen()
	if err != nil {
		return err
	}
	names := make([]string, 0, max(n, 0))
	for range n {
		s, err := r.dec.DecodeString()
		if err != nil {
			return err
		}
		names = append(names, s)
	}
	if !r.fixed {
		for _, s := range names {
			r.addCol(s)
		}
		keys := make([]string, 0, len(r.tags))
		for k := range r.tags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if _, ok := r.byName[k]; !ok {
				r.addCol(k)
				r.Cols[len(r.Cols)-1].Type = model.TypeString
			}
		}
		if r.nameCol != "" {
			r.addCol(r.nameCol)
			r.Cols[len(r.Cols)-1].Type = model.TypeString
		}
		r.fixed = true
	}
	for _, s := range names {
		i, ok := r.byName[s]
		if !ok {
			return errs.Newf(errs.Engine, "influxdb: series column %q not in the first series", s)
		}
		r.serCols = append(r.serCols, i)
	}
	for k := range r.tags {
		if _, ok := r.byName[k]; !ok {
			return errs.Newf(errs.Engine, "influxdb: series tag %q not in the first series", k)
		}
	}
	return nil
}

func (r *seriesRows) addCol(name string) {
	c := model.ResultColumn{Name: name}
	if name == "time" {
		c.Type = model.TypeTime
	}
	r.byName[name] = len(r.Cols)
	r.Cols = append(r.Cols, c)
}

// row decodes one values entry into dst (dst may be nil: discard).
func (r *seriesRows) row(dst []model.Value) error {
	n, err := r.dec.DecodeArrayLen()
	if err != nil {
		return r.decodeErr(err)
	}
	if n != len(r.serCols) {
		return errs.Newf(errs.Engine, "influxdb: row has %d values for %d columns", n, len(r.serCols))
	}
	if dst != nil {
		for i := range dst {
			dst[i] = model.Value{}
		}
		for k, v := range r.tags {
			dst[r.byName[k]] = model.String(v)
		}
		if r.nameCol != "" {
			dst[r.byName[r.nameCol]] = model.String(r.name)
		}
	}
	for _, i := range r.serCols {
		v, err := r.value()
		if err != nil {
			return r.decodeErr(err)
		}
		if dst == nil {
			continue
		}
		if r.Cols[i].Type == model.TypeTime && v.Type == model.TypeInt {
			v = model.Time(v.I)
		}
		dst[i] = v
	}
	return nil
}

// value decodes one cell by its msgpack type.
func (r *seriesRows) value() (model.Value, error) {
	d := r.dec
	c, err := d.PeekCode()
	if err != nil {
		return model.Value{}, err
	}
	switch {
	case c == msgpcode.Nil:
		return model.Value{}, d.DecodeNil()
	case c == msgpcode.True || c == msgpcode.False:
		b, err := d.DecodeBool()
		return model.Bool(b), err
	case c == msgpcode.Float || c == msgpcode.Double:
		f, err := d.DecodeFloat64()
		return model.Float(f), err
	case c >= msgpcode.Uint8 && c <= msgpcode.Uint64:
		u, err := d.DecodeUint64()
		return model.Uint(u), err
	case msgpcode.IsFixedNum(c) || (c >= msgpcode.Int8 && c <= msgpcode.Int64):
		i, err := d.DecodeInt64()
		return model.Int(i), err
	case msgpcode.IsString(c):
		s, err := d.DecodeString()
		return model.String(s), err
	}
	return model.Value{}, errs.Newf(errs.Engine, "influxdb: unexpected msgpack value 0x%02x", c)
}

func decodeErrorMsgpack(raw []byte) (string, error) {
	var m struct {
		Error string `msgpack:"error"`
	}
	if err := msgpack.Unmarshal(raw, &m); err != nil {
		return "", err
	}
	if m.Error == "" {
		return "", errors.New("no error key")
	}
	return m.Error, nil
}

func jsonErrorText(raw []byte) (string, bool) {
	var m struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(raw, &m) != nil || m.Error == "" {
		return "", false
	}
	return m.Error, true
}
