package arc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"tsgate/errs"
)

// ArrowBackend is an optional Backend capability: results as the
// engine's own Arrow record batches (the embedded store's DuckDB, as in
// Arc). ok is false when the backend has none for this query; the API
// then builds batches from Query's rows.
type ArrowBackend interface {
	QueryArrow(ctx context.Context, q Query) (rr array.RecordReader, ok bool, err error)
}

const (
	arrowContentType     = "application/vnd.apache.arrow.stream"
	trailerTruncated     = "Arc-Stream-Truncated"
	trailerExecutionTime = "Arc-Execution-Time-Ms"
	trailerRowsCapped    = "Arc-Rows-Capped"
)

// poison is what Arc writes instead of the end-of-stream marker when a
// stream fails after its headers: a continuation token announcing 64
// bytes of metadata that never come, so a reader fails with an unexpected
// EOF instead of taking a short result for a whole one.
var poison = []byte{0xFF, 0xFF, 0xFF, 0xFF, 0x40, 0x00, 0x00, 0x00, 0x00}

// queryArrow serves POST /api/v1/query/arrow: Arc's Arrow IPC stream.
func (s *Server) queryArrow(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	fail := func(err error) {
		s.countError(err)
		e := errs.As(err)
		if e.Code == errs.Internal || e.Code == errs.Engine {
			s.log.Warn("query failed", "endpoint", "query_arrow", "err", err)
		}
		writeJSON(w, e.Code.HTTPStatus(), authErrorBody{Error: e.Msg})
	}
	sql, err := s.readSQL(r)
	if err != nil {
		fail(err)
		return
	}
	compression := strings.ToLower(strings.TrimSpace(r.Header.Get("x-arc-arrow-compression")))
	switch compression {
	case "", "zstd", "lz4":
	default:
		fail(errs.New(errs.Invalid, "invalid x-arc-arrow-compression: must be zstd or lz4"))
		return
	}
	dictionary := truthyHeader(r.Header.Get("x-arc-arrow-dictionary"))
	p, err := s.queryPlan(r, sql, "Arrow")
	if err != nil {
		fail(err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.queryTimeout)
	defer cancel()
	rr, err := s.arrowReader(ctx, p)
	if err != nil {
		fail(timeoutAware(ctx, err))
		return
	}
	defer rr.Release()
	// The first batch is read before the status is sent: a query that
	// fails at once gets a proper error answer, not a poisoned stream.
	var first arrow.RecordBatch
	if rr.Next() {
		first = rr.RecordBatch()
	} else if err := rr.Err(); err != nil {
		fail(timeoutAware(ctx, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", arrowContentType)
	h.Set("Trailer", trailerTruncated+", "+trailerExecutionTime+", "+trailerRowsCapped)
	w.WriteHeader(http.StatusOK)
	st := arrowStream{w: w, rc: http.NewResponseController(w), compression: compression, dictionary: dictionary}
	defer st.release()
	var rows int64
	streamErr := func() error {
		for rec := first; rec != nil; {
			if err := st.write(rec); err != nil {
				return err
			}
			rows += rec.NumRows()
			rec = nil
			if rr.Next() {
				rec = rr.RecordBatch()
			}
		}
		if err := rr.Err(); err != nil {
			return timeoutAware(ctx, err)
		}
		return st.close(rr.Schema())
	}()
	if streamErr != nil {
		if errors.Is(streamErr, errClientGone) {
			return
		}
		s.countError(streamErr)
		s.log.Error("arrow stream failed after its headers", "rows", rows, "err", streamErr)
		w.Write(poison)
		h.Set(trailerTruncated, errs.As(streamErr).Msg)
	}
	h.Set(trailerExecutionTime, strconv.FormatInt(time.Since(start).Milliseconds(), 10))
	s.metrics.queryLatency.WithLabelValues("query_arrow").Observe(time.Since(start).Seconds())
}

var errClientGone = errors.New("client went away")

// arrowReader runs a plan and returns its result as Arrow batches: the
// engine's own when it has them (decimals cast as Arc casts them), else
// built from the backend's rows.
func (s *Server) arrowReader(ctx context.Context, p *plan) (array.RecordReader, error) {
	q := Query{DB: p.db, SQL: p.sql, HeaderDB: p.header}
	if ab, ok := s.backend.(ArrowBackend); ok {
		rr, ok, err := ab.QueryArrow(ctx, q)
		if err != nil {
			return nil, err
		}
		if ok {
			return castDecimals(rr), nil
		}
	}
	rows, err := s.backend.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	rr, err := newRowsReader(rows)
	if err != nil {
		return nil, err
	}
	return rr, nil
}

// arrowStream writes record batches as an Arrow IPC stream; the writer is
// made with the first batch, whose columns decide dictionary encoding.
type arrowStream struct {
	w           http.ResponseWriter
	rc          *http.ResponseController
	compression string
	dictionary  bool
	iw          *ipc.Writer
	dict        *dictEncoder
}

func (st *arrowStream) open(schema *arrow.Schema) {
	opts := []ipc.Option{ipc.WithSchema(schema)}
	switch st.compression {
	case "zstd":
		opts = append(opts, ipc.WithZstd())
	case "lz4":
		opts = append(opts, ipc.WithLZ4())
	}
	st.iw = ipc.NewWriter(st.w, opts...)
}

func (st *arrowStream) write(rec arrow.RecordBatch) error {
	if st.iw == nil {
		schema := rec.Schema()
		if st.dictionary {
			st.dict = newDictEncoder(rec)
			if st.dict != nil {
				schema = st.dict.schema
			}
		}
		st.open(schema)
	}
	out := rec
	if st.dict != nil {
		var err error
		if out, err = st.dict.encode(rec); err != nil {
			return errs.Wrap(errs.Internal, err, "dictionary-encode batch: "+err.Error())
		}
		defer out.Release()
	}
	if err := st.iw.Write(out); err != nil {
		return fmt.Errorf("%w: %w", errClientGone, err)
	}
	if err := st.rc.Flush(); err != nil {
		return fmt.Errorf("%w: %w", errClientGone, err)
	}
	return nil
}

// close ends the stream; a result without batches still sends its schema.
func (st *arrowStream) close(schema *arrow.Schema) error {
	if st.iw == nil {
		st.open(schema)
	}
	err := st.iw.Close()
	st.iw = nil
	if err != nil {
		return fmt.Errorf("%w: %w", errClientGone, err)
	}
	return nil
}

func (st *arrowStream) release() {
	if st.dict != nil {
		st.dict.release()
	}
}

func truthyHeader(v string) bool { return strings.EqualFold(v, "true") || v == "1" }

// Dictionary encoding (x-arc-arrow-dictionary: true), decided on the first
// batch as Arc decides it: a utf8 column qualifies when that batch has at
// least dictMinRows rows and the column at most min(rows/4,
// dictMaxUniques) distinct values. Each qualifying column keeps one
// dictionary for the stream; the IPC writer sends it again whenever it
// grew (replacement dictionaries, which every Arrow reader accepts).
const (
	dictMinRows    = 256
	dictMaxUniques = 4096
)

type dictEncoder struct {
	schema   *arrow.Schema
	builders map[int]array.DictionaryBuilder
}

func newDictEncoder(first arrow.RecordBatch) *dictEncoder {
	n := int(first.NumRows())
	if n < dictMinRows {
		return nil
	}
	limit := min(n/4, dictMaxUniques)
	fields := first.Schema().Fields()
	var builders map[int]array.DictionaryBuilder
	for i := range fields {
		col, ok := first.Column(i).(*array.String)
		if !ok || !fewUniques(col, limit) {
			continue
		}
		dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
		if builders == nil {
			builders = map[int]array.DictionaryBuilder{}
		}
		builders[i] = array.NewDictionaryBuilder(memory.DefaultAllocator, dt)
		fields[i].Type = dt
	}
	if builders == nil {
		return nil
	}
	md := first.Schema().Metadata()
	return &dictEncoder{schema: arrow.NewSchema(fields, &md), builders: builders}
}

func fewUniques(col *array.String, limit int) bool {
	seen := make(map[string]struct{}, limit+1)
	for i := range col.Len() {
		if col.IsNull(i) {
			continue
		}
		seen[col.Value(i)] = struct{}{}
		if len(seen) > limit {
			return false
		}
	}
	return true
}

// encode returns rec with the qualifying columns dictionary-encoded; the
// caller releases it.
func (d *dictEncoder) encode(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	return replaceColumns(rec, d.schema, func(i int, col arrow.Array) (arrow.Array, error) {
		b, ok := d.builders[i]
		if !ok {
			return nil, nil
		}
		if err := b.AppendArray(col); err != nil {
			return nil, err
		}
		return b.NewDictionaryArray(), nil
	})
}

// replaceColumns is rec under schema with each column that convert
// returns in place of the original (nil keeps it); the caller releases
// the result.
func replaceColumns(rec arrow.RecordBatch, schema *arrow.Schema, convert func(i int, col arrow.Array) (arrow.Array, error)) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, rec.NumCols())
	var made []arrow.Array
	defer func() {
		// The new record holds its own references.
		for _, a := range made {
			a.Release()
		}
	}()
	for i := range cols {
		a, err := convert(i, rec.Column(i))
		if err != nil {
			return nil, err
		}
		if a == nil {
			cols[i] = rec.Column(i)
			continue
		}
		made = append(made, a)
		cols[i] = a
	}
	return array.NewRecordBatch(schema, cols, rec.NumRows()), nil
}

func (d *dictEncoder) release() {
	for _, b := range d.builders {
		b.Release()
	}
}

// castDecimals casts decimal columns as Arc does before streaming (many
// Arrow clients, Grafana's among them, cannot read decimals):
// DECIMAL(p,0) and HUGEINT to int64, a value that does not fit failing the
// stream; other decimals to float64.
func castDecimals(rr array.RecordReader) array.RecordReader {
	fields := rr.Schema().Fields()
	casts := false
	for i, f := range fields {
		var scale int32
		switch t := f.Type.(type) {
		case *arrow.Decimal128Type:
			scale = t.Scale
		case *arrow.Decimal256Type:
			scale = t.Scale
		default:
			continue
		}
		casts = true
		if scale == 0 {
			fields[i].Type = arrow.PrimitiveTypes.Int64
		} else {
			fields[i].Type = arrow.PrimitiveTypes.Float64
		}
	}
	if !casts {
		return rr
	}
	md := rr.Schema().Metadata()
	return &decimalCaster{RecordReader: rr, schema: arrow.NewSchema(fields, &md)}
}

type decimalCaster struct {
	array.RecordReader
	schema *arrow.Schema
	cur    arrow.RecordBatch
	err    error
}

func (c *decimalCaster) Schema() *arrow.Schema          { return c.schema }
func (c *decimalCaster) RecordBatch() arrow.RecordBatch { return c.cur }
func (c *decimalCaster) Record() arrow.RecordBatch      { return c.cur }

func (c *decimalCaster) Err() error {
	if c.err != nil {
		return c.err
	}
	return c.RecordReader.Err()
}

func (c *decimalCaster) Release() {
	if c.cur != nil {
		c.cur.Release()
		c.cur = nil
	}
	c.RecordReader.Release()
}

func (c *decimalCaster) Next() bool {
	if c.cur != nil {
		c.cur.Release()
		c.cur = nil
	}
	if c.err != nil || !c.RecordReader.Next() {
		return false
	}
	rec, err := replaceColumns(c.RecordReader.RecordBatch(), c.schema, func(i int, col arrow.Array) (arrow.Array, error) {
		if arrow.TypeEqual(col.DataType(), c.schema.Field(i).Type) {
			return nil, nil
		}
		return castDecimal(col, c.schema.Field(i).Name)
	})
	if err != nil {
		c.err = err
		return false
	}
	c.cur = rec
	return true
}

func castDecimal(src arrow.Array, name string) (arrow.Array, error) {
	switch a := src.(type) {
	case *array.Decimal128:
		return castDecimalArray(a, a.DataType().(*arrow.Decimal128Type).Scale, name)
	case *array.Decimal256:
		return castDecimalArray(a, a.DataType().(*arrow.Decimal256Type).Scale, name)
	}
	return nil, errs.Newf(errs.Internal, "column %q: cannot cast %s", name, src.DataType())
}

// decimalNum is a Decimal128 or Decimal256 value.
type decimalNum interface {
	BigInt() *big.Int
	ToFloat64(scale int32) float64
}

// decimalArray is what castDecimalArray reads of an Arrow Decimal128 or
// Decimal256 array.
type decimalArray[N decimalNum] interface {
	Len() int
	IsNull(i int) bool
	Value(i int) N
}

// castDecimalArray is castDecimal for one decimal width: scale 0 to int64,
// any other to float64, refusing a value that does not fit (a float64
// holds every Decimal128, not every Decimal256).
func castDecimalArray[N decimalNum](a decimalArray[N], scale int32, name string) (arrow.Array, error) {
	// Two direct loops rather than one over a conversion func: this runs
	// for every value of a DECIMAL column.
	mem := memory.DefaultAllocator
	n := a.Len()
	if scale == 0 {
		b := array.NewInt64Builder(mem)
		defer b.Release()
		b.Reserve(n)
		for i := range n {
			if a.IsNull(i) {
				b.AppendNull()
				continue
			}
			bi := a.Value(i).BigInt()
			if !bi.IsInt64() {
				return nil, errs.Newf(errs.Engine, "column %q: value %s does not fit int64", name, bi)
			}
			b.Append(bi.Int64())
		}
		return b.NewArray(), nil
	}
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	b.Reserve(n)
	for i := range n {
		if a.IsNull(i) {
			b.AppendNull()
			continue
		}
		f := a.Value(i).ToFloat64(scale)
		if math.IsInf(f, 0) {
			return nil, errs.Newf(errs.Engine, "column %q: value does not fit float64", name)
		}
		b.Append(f)
	}
	return b.NewArray(), nil
}
