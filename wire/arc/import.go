package arc

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tsgate/errs"
	"tsgate/model"
	"tsgate/wire/lineprotocol"
)

// Arc's bulk import (internal/api/import.go, import_inprocess.go): a
// multipart upload in field "file", the database from x-arc-database or
// ?db=, written through tsgate's own write path in batches of
// importBatchRows rows. The upload is spooled to a private temporary
// file, never held whole in memory; CSV is read twice (types first, as
// Arc infers them from the whole file, then rows).

const (
	maxImportSize   = 500 << 20 // Arc's 500 MiB
	importBatchRows = 10_000
)

// ImportParquet is an optional Backend capability: reading a Parquet
// file the API spooled to disk (the gateway reads it with a private,
// locked-down DuckDB allowed that one file).
type ImportParquet interface {
	ReadParquet(ctx context.Context, path string) (model.Rows, error)
}

type importTarget struct {
	db, measurement string
	file            *os.File
	size            int64
}

// importFile reads Arc's common import preamble and spools the upload.
// The caller closes and removes the file.
func (s *Server) importFile(w http.ResponseWriter, r *http.Request, needMeasurement bool) (*importTarget, bool) {
	fail := func(status int, msg string) (*importTarget, bool) {
		writeJSON(w, status, errorBody{Error: msg})
		return nil, false
	}
	db := r.Header.Get("x-arc-database")
	if db == "" {
		db = r.URL.Query().Get("db")
	}
	if db == "" {
		return fail(http.StatusBadRequest, "database is required (set x-arc-database header or db query param)")
	}
	if !model.ValidDatabase(db) {
		return fail(http.StatusBadRequest, invalidDatabaseName)
	}
	m := r.URL.Query().Get("measurement")
	if needMeasurement {
		if m == "" {
			return fail(http.StatusBadRequest, "measurement query parameter is required")
		}
		if !model.ValidMeasurement(m) {
			return fail(http.StatusBadRequest, fmt.Sprintf("invalid measurement name %q: must start with a letter and contain only alphanumeric characters, underscores, or hyphens", m))
		}
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return fail(http.StatusBadRequest, "no file uploaded: use multipart/form-data with field name 'file'")
	}
	var part *multipart.Part
	for {
		p, err := mr.NextPart()
		if err != nil {
			return fail(http.StatusBadRequest, "no file uploaded: use multipart/form-data with field name 'file'")
		}
		if p.FormName() == "file" {
			part = p
			break
		}
		p.Close()
	}
	f, err := os.CreateTemp("", "tsgate-import-*")
	if err != nil {
		return fail(http.StatusInternalServerError, "failed to store upload: "+err.Error())
	}
	n, err := io.Copy(f, io.LimitReader(part, maxImportSize+1))
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		if errs.IsDeadline(err) {
			return fail(http.StatusRequestTimeout, "Request body not received in time")
		}
		return fail(http.StatusBadRequest, "failed to read upload: "+err.Error())
	}
	if n > maxImportSize {
		f.Close()
		os.Remove(f.Name())
		return fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("file exceeds maximum import size of %d bytes", maxImportSize))
	}
	if n == 0 {
		f.Close()
		os.Remove(f.Name())
		return fail(http.StatusBadRequest, "file is empty")
	}
	return &importTarget{db: db, measurement: m, file: f, size: n}, true
}

func (t *importTarget) close() {
	t.file.Close()
	os.Remove(t.file.Name())
}

// importResult is Arc's ImportResult, fields in its order.
type importResult struct {
	Database          string   `json:"database"`
	Measurement       string   `json:"measurement"`
	RowsImported      int64    `json:"rows_imported"`
	PartitionsCreated int      `json:"partitions_created"`
	TimeRangeMin      string   `json:"time_range_min,omitempty"`
	TimeRangeMax      string   `json:"time_range_max,omitempty"`
	Columns           []string `json:"columns"`
	DurationMs        int64    `json:"duration_ms"`
}

// importWriter batches rows into tsgate's write path and keeps Arc's
// statistics (rows, hour partitions, time range).
type importWriter struct {
	s        *Server
	ctx      context.Context
	db, m    string
	batch    model.Batch
	rows     int64
	hours    map[int64]bool
	min, max int64
}

func newImportWriter(s *Server, ctx context.Context, db, m string) *importWriter {
	return &importWriter{s: s, ctx: ctx, db: db, m: m, hours: map[int64]bool{}, min: math.MaxInt64, max: math.MinInt64}
}

func (iw *importWriter) add(us int64, cells []model.Cell) error {
	if err := iw.batch.Table(iw.m).AppendRow(us, cells); err != nil {
		return errs.Wrap(errs.Invalid, err, err.Error())
	}
	iw.hours[us/3_600_000_000-boolInt(us < 0 && us%3_600_000_000 != 0)] = true
	iw.min, iw.max = min(iw.min, us), max(iw.max, us)
	if iw.batch.Rows() >= importBatchRows {
		return iw.flush()
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (iw *importWriter) flush() error {
	if iw.batch.Rows() == 0 {
		return nil
	}
	res, err := iw.s.backend.Write(iw.ctx, iw.db, &iw.batch)
	iw.rows += int64(res.Rows)
	iw.s.imports.records.Add(int64(res.Rows))
	iw.s.metrics.rowsWritten.Add(float64(res.Rows))
	if err != nil {
		return err
	}
	if res.Rejected > 0 {
		return errs.Wrap(errs.Invalid, errors.Join(res.Conflicts...), fmt.Sprintf("partial write: %d rows rejected: %v", res.Rejected, res.Conflicts[0]))
	}
	iw.batch = model.Batch{}
	return nil
}

func (iw *importWriter) result(cols []string, start time.Time) importResult {
	r := importResult{Database: iw.db, Measurement: iw.m, RowsImported: iw.rows, PartitionsCreated: len(iw.hours), Columns: cols,
		DurationMs: time.Since(start).Milliseconds()}
	if iw.rows > 0 {
		r.TimeRangeMin = time.UnixMicro(iw.min).UTC().Format(time.RFC3339Nano)
		r.TimeRangeMax = time.UnixMicro(iw.max).UTC().Format(time.RFC3339Nano)
	}
	return r
}

// counted keeps Arc's import statistics around an import handler.
func (s *Server) counted(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.imports.requests.Add(1)
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r)
		if sw.status >= 400 {
			s.imports.errors.Add(1)
		}
	}
}

// ---- CSV ----

type csvKind uint8

const (
	csvInt csvKind = iota
	csvFloat
	csvBool
	csvString
)

func (s *Server) importCSV(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	q := r.URL.Query()
	delim := ','
	if d := q.Get("delimiter"); d != "" {
		if utf8.RuneCountInString(d) != 1 {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: fmt.Sprintf("delimiter must be a single character, got %q", d)})
			return
		}
		delim, _ = utf8.DecodeRuneInString(d)
	}
	skip := 0
	if v := q.Get("skip_rows"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid skip_rows: must be a non-negative integer"})
			return
		}
		skip = n
	}
	timeCol := q.Get("time_column")
	if timeCol == "" {
		timeCol = "time"
	}
	format := q.Get("time_format")
	switch format {
	case "", "epoch_s", "epoch_ms", "epoch_us", "epoch_ns":
	default:
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid time_format: must be epoch_s, epoch_ms, epoch_us, epoch_ns or empty"})
		return
	}
	t, ok := s.importFile(w, r, true)
	if !ok {
		return
	}
	defer t.close()
	fail := func(status int, msg string) { writeJSON(w, status, errorBody{Error: msg}) }
	open := func() (*csv.Reader, []string, error) {
		if _, err := t.file.Seek(0, io.SeekStart); err != nil {
			return nil, nil, err
		}
		br := bufio.NewReader(t.file)
		if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
			br.Discard(3)
		}
		cr := csv.NewReader(br)
		cr.Comma, cr.FieldsPerRecord, cr.ReuseRecord = delim, -1, true
		for range skip {
			if _, err := cr.Read(); err != nil {
				return nil, nil, err
			}
		}
		header, err := cr.Read()
		if err != nil {
			return nil, nil, fmt.Errorf("failed to read CSV header: %w", err)
		}
		return cr, slices.Clone(header), nil
	}
	cr, header, err := open()
	if err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}
	ti := -1
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		header[i] = h
		if h == "" {
			fail(http.StatusBadRequest, "column name cannot be empty (check for trailing/empty delimiters in the header)")
			return
		}
		if seen[h] {
			fail(http.StatusBadRequest, fmt.Sprintf("duplicate column name %q in file; column names must be unique", h))
			return
		}
		seen[h] = true
		if h == timeCol {
			ti = i
		}
	}
	if ti < 0 {
		fail(http.StatusBadRequest, fmt.Sprintf("time column %q not found in file; available columns: %s", timeCol, strings.Join(header, ", ")))
		return
	}
	if timeCol != "time" && seen["time"] {
		fail(http.StatusBadRequest, fmt.Sprintf("cannot rename time column %q to \"time\": a column named \"time\" already exists in the file", timeCol))
		return
	}
	// Pass 1: each column's type, over the whole file.
	types := make([]csvTypes, len(header))
	rows := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			fail(http.StatusUnprocessableEntity, fmt.Sprintf("failed to parse CSV at row %d: %v", rows+1, err))
			return
		}
		rows++
		for i := range header {
			if i >= len(rec) || i == ti {
				continue
			}
			types[i].see(strings.TrimSpace(rec[i]))
		}
	}
	if rows == 0 {
		fail(http.StatusBadRequest, "file contains no rows")
		return
	}
	kinds := make([]csvKind, len(header))
	for i := range types {
		kinds[i] = types[i].kind()
	}
	// Pass 2: rows.
	cr, _, err = open()
	if err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}
	iw := newImportWriter(s, r.Context(), t.db, t.measurement)
	cells := make([]model.Cell, 0, len(header))
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			fail(http.StatusUnprocessableEntity, fmt.Sprintf("failed to parse CSV at row %d: %v", row, err))
			return
		}
		var raw string
		if ti < len(rec) {
			raw = strings.TrimSpace(rec[ti])
		}
		us, err := parseImportTime(raw, format)
		if err != nil {
			fail(http.StatusBadRequest, fmt.Sprintf("failed to parse time column %q: row %d: %v", timeCol, row, err))
			return
		}
		cells = cells[:0]
		for i, h := range header {
			if i == ti {
				continue
			}
			v := ""
			if i < len(rec) {
				v = strings.TrimSpace(rec[i])
			}
			if c, ok := csvCell(h, kinds[i], v); ok {
				cells = append(cells, c)
			}
		}
		if err := iw.add(us, cells); err != nil {
			s.fail(w, err)
			return
		}
	}
	if err := iw.flush(); err != nil {
		s.fail(w, errs.Wrap(errs.CodeOf(err), err, "failed to ingest CSV data: "+errs.As(err).Msg))
		return
	}
	cols := make([]string, len(header))
	copy(cols, header)
	cols[ti] = "time"
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "result": iw.result(cols, start)})
}

// csvTypes tracks which types every non-empty value of a column fits;
// Arc picks integers, else floats, else booleans, else strings.
type csvTypes struct{ notInt, notFloat, notBool bool }

func (t *csvTypes) see(v string) {
	if v == "" {
		return
	}
	if !t.notInt {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			t.notInt = true
		}
	}
	if !t.notFloat {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			t.notFloat = true
		}
	}
	if !t.notBool && !csvBoolean(v) {
		t.notBool = true
	}
}

func (t csvTypes) kind() csvKind {
	switch {
	case !t.notInt:
		return csvInt
	case !t.notFloat:
		return csvFloat
	case !t.notBool:
		return csvBool
	}
	return csvString
}

func csvBoolean(v string) bool {
	switch strings.ToLower(v) {
	case "true", "false", "1", "0":
		return true
	}
	return false
}

// csvCell is one cell as its column's type; an empty numeric or boolean
// cell is NULL, an empty string cell "".
func csvCell(name string, k csvKind, v string) (model.Cell, bool) {
	c := model.Cell{Name: name}
	switch k {
	case csvInt:
		if v == "" {
			return c, false
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		c.Value = model.Int(n)
	case csvFloat:
		if v == "" {
			return c, false
		}
		f, _ := strconv.ParseFloat(v, 64)
		c.Value = model.Float(f)
	case csvBool:
		if v == "" {
			return c, false
		}
		b := strings.EqualFold(v, "true") || v == "1"
		c.Value = model.Bool(b)
	default:
		c.Value = model.String(v)
	}
	return c, true
}

var importLayouts = []string{
	time.RFC3339Nano, time.RFC3339, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02",
}

// parseImportTime reads a time cell: an epoch in the given unit, or (no
// unit) an integer epoch whose magnitude says its unit, a fractional
// epoch in seconds, or a date-time (UTC when it has no zone).
func parseImportTime(v, format string) (int64, error) {
	if v == "" {
		return 0, errors.New("empty time")
	}
	if format != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer epoch", v)
		}
		switch format {
		case "epoch_s":
			return n * 1_000_000, nil
		case "epoch_ms":
			return n * 1_000, nil
		case "epoch_us":
			return n, nil
		}
		return n / 1_000, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		a := n
		if a < 0 {
			a = -a
		}
		switch {
		case a < 1e10:
			return n * 1_000_000, nil
		case a < 1e13:
			return n * 1_000, nil
		case a < 1e16:
			return n, nil
		}
		return n / 1_000, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return int64(math.Round(f * 1e6)), nil
	}
	for _, l := range importLayouts {
		if t, err := time.ParseInLocation(l, v, time.UTC); err == nil {
			return t.UnixMicro(), nil
		}
	}
	return 0, fmt.Errorf("unrecognized time %q", v)
}

// ---- line protocol ----

func (s *Server) importLP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	precName := r.URL.Query().Get("precision")
	if precName == "" {
		precName = "ns"
	}
	prec, err := lineprotocol.ParsePrecision(precName)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: fmt.Sprintf("invalid precision %q: must be ns, us, ms, or s", precName)})
		return
	}
	only := r.URL.Query().Get("measurement")
	t, ok := s.importFile(w, r, false)
	if !ok {
		return
	}
	defer t.close()
	var src io.Reader = bufio.NewReader(t.file)
	if b, _ := src.(*bufio.Reader).Peek(2); len(b) == 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(src)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "failed to decompress gzip file: " + err.Error()})
			return
		}
		src = io.LimitReader(zr, maxImportSize+1)
	}
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var chunk []byte
	lines := 0
	counts := map[string]int64{}
	var rows int64
	write := func() error {
		if len(chunk) == 0 {
			return nil
		}
		var b model.Batch
		if err := lineprotocol.Parse(chunk, prec, time.Now(), &b); err != nil {
			return err
		}
		chunk, lines = chunk[:0], 0
		if only != "" {
			b.Tables = slices.DeleteFunc(b.Tables, func(tb *model.Table) bool { return tb.Measurement != only })
		}
		for _, tb := range b.Tables {
			if !model.ValidMeasurement(tb.Measurement) {
				return errs.Newf(errs.Invalid, "invalid measurement name %q in LP data: must start with a letter and contain only alphanumeric characters, underscores, or hyphens", tb.Measurement)
			}
		}
		if b.Rows() == 0 {
			return nil
		}
		res, err := s.backend.Write(r.Context(), t.db, &b)
		rows += int64(res.Rows)
		s.imports.records.Add(int64(res.Rows))
		s.metrics.rowsWritten.Add(float64(res.Rows))
		if err != nil {
			return err
		}
		if res.Rejected > 0 {
			return errs.Wrap(errs.Invalid, errors.Join(res.Conflicts...), fmt.Sprintf("partial write: %d rows rejected: %v", res.Rejected, res.Conflicts[0]))
		}
		for _, tb := range b.Tables {
			counts[tb.Measurement] += int64(tb.Len())
		}
		return nil
	}
	for sc.Scan() {
		chunk = append(append(chunk, sc.Bytes()...), '\n')
		if lines++; lines >= importBatchRows {
			if err := write(); err != nil {
				s.fail(w, err)
				return
			}
		}
	}
	if err := sc.Err(); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "failed to read file: " + err.Error()})
		return
	}
	if err := write(); err != nil && !(errs.CodeOf(err) == errs.Invalid && rows == 0 && errs.As(err).Msg == "No valid records in request") {
		s.fail(w, err)
		return
	}
	if rows == 0 {
		if only != "" {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: fmt.Sprintf("no records found for measurement %q", only)})
			return
		}
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "no valid line protocol records found in file"})
		return
	}
	ms := make([]string, 0, len(counts))
	for m := range counts {
		ms = append(ms, m)
	}
	slices.Sort(ms)
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "result": struct {
		Database     string   `json:"database"`
		Measurements []string `json:"measurements"`
		RowsImported int64    `json:"rows_imported"`
		Precision    string   `json:"precision"`
		DurationMs   int64    `json:"duration_ms"`
	}{t.db, ms, rows, precName, time.Since(start).Milliseconds()}})
}

// ---- Parquet ----

func (s *Server) importParquet(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	timeCol := r.URL.Query().Get("time_column")
	if timeCol == "" {
		timeCol = "time"
	}
	format := r.URL.Query().Get("time_format")
	pq, ok := s.backend.(ImportParquet)
	if !ok {
		s.fail(w, errs.New(errs.Unsupported, "Parquet import is not available in this build"))
		return
	}
	t, ok := s.importFile(w, r, true)
	if !ok {
		return
	}
	defer t.close()
	rows, err := pq.ReadParquet(r.Context(), t.file.Name())
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: "failed to read parquet file: " + errs.As(err).Msg})
		return
	}
	defer rows.Close()
	cols := rows.Columns()
	ti := slices.IndexFunc(cols, func(c model.ResultColumn) bool { return c.Name == timeCol })
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	if ti < 0 {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: fmt.Sprintf("time column %q not found in file; available columns: %s", timeCol, strings.Join(names, ", "))})
		return
	}
	if timeCol != "time" && slices.Contains(names, "time") {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: fmt.Sprintf("cannot rename time column %q to \"time\": a column named \"time\" already exists in the file", timeCol)})
		return
	}
	p := parquetImport{cols: cols, ti: ti, timeCol: timeCol, format: format, scale: make([]int, len(cols))}
	for i, c := range cols {
		p.scale[i] = -1
		if i == ti || c.Type != model.TypeText {
			continue
		}
		scale, ok := decimalScale(c.BackendType)
		if !ok {
			writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: fmt.Sprintf("unsupported parquet column %q: type %s", c.Name, c.BackendType)})
			return
		}
		p.scale[i] = scale
	}
	if p.mayRefuse() {
		// A value refused half-way must not leave the rows before it
		// stored (the writer flushes every importBatchRows rows): this
		// first pass converts every row and writes nothing; the second
		// reads the file again.
		_, err := p.each(rows, nil)
		rerr := rows.Err()
		rows.Close()
		if err != nil {
			s.fail(w, err)
			return
		}
		if rerr != nil {
			writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: "failed to read parquet file: " + errs.As(rerr).Msg})
			return
		}
		if rows, err = pq.ReadParquet(r.Context(), t.file.Name()); err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: "failed to read parquet file: " + errs.As(err).Msg})
			return
		}
		defer rows.Close()
	}
	iw := newImportWriter(s, r.Context(), t.db, t.measurement)
	row, err := p.each(rows, iw.add)
	if err != nil {
		s.fail(w, err)
		return
	}
	if err := rows.Err(); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: "failed to read parquet file: " + errs.As(err).Msg})
		return
	}
	if row == 0 {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "file contains no rows"})
		return
	}
	if err := iw.flush(); err != nil {
		s.fail(w, errs.Wrap(errs.CodeOf(err), err, "failed to ingest parquet data: "+errs.As(err).Msg))
		return
	}
	names[ti] = "time"
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "result": iw.result(names, start)})
}

// parquetImport turns the rows of an imported Parquet file into tsgate's
// fields.
type parquetImport struct {
	cols            []model.ResultColumn
	ti              int
	timeCol, format string
	// scale is each DECIMAL column's scale, -1 for other columns.
	scale []int
}

// mayRefuse reports whether some value of the file may be refused: a
// DECIMAL value, or a time that is not a TIMESTAMP.
func (p *parquetImport) mayRefuse() bool {
	return p.cols[p.ti].Type != model.TypeTime || slices.ContainsFunc(p.scale, func(s int) bool { return s >= 0 })
}

// each converts the file's rows, in order, and hands each to add (nil:
// convert only). It stops at the first refused row or failed add; the
// caller checks rows.Err.
func (p *parquetImport) each(rows model.Rows, add func(us int64, cells []model.Cell) error) (int, error) {
	vals := make([]model.Value, len(p.cols))
	cells := make([]model.Cell, 0, len(p.cols))
	row := 0
	for rows.Next(vals) {
		row++
		us, err := p.time(vals[p.ti], row)
		if err != nil {
			return row, err
		}
		cells = cells[:0]
		for i, c := range p.cols {
			v := vals[i]
			if i == p.ti || v.IsNull() {
				continue
			}
			switch {
			case p.scale[i] >= 0:
				if v, err = decimalValue(v.S, p.scale[i]); err != nil {
					return row, errs.Newf(errs.Invalid, "parquet column %q (%s), row %d: %v", c.Name, c.BackendType, row, err)
				}
			case v.Type == model.TypeTime:
				v = model.Int(v.I)
			}
			cells = append(cells, model.Cell{Name: c.Name, Value: v})
		}
		if add != nil {
			if err := add(us, cells); err != nil {
				return row, err
			}
		}
	}
	return row, nil
}

func (p *parquetImport) time(v model.Value, row int) (int64, error) {
	switch v.Type {
	case model.TypeTime:
		return v.I, nil
	case model.TypeInt:
		us, _ := parseImportTime(strconv.FormatInt(v.I, 10), p.format)
		return us, nil
	case model.TypeString:
		us, err := parseImportTime(v.S, "")
		if err != nil {
			return 0, errs.Newf(errs.Invalid, "failed to parse time column %q: row %d: %v", p.timeCol, row, err)
		}
		return us, nil
	}
	return 0, errs.Newf(errs.Invalid, "failed to parse time column %q: row %d: not a time", p.timeCol, row)
}

// decimalValue is a DECIMAL value (its exact digits at the type's scale)
// as the field tsgate stores, which must hold it exactly: an integer at
// scale 0, a float at any other scale. Arc stores every DECIMAL as a
// DOUBLE through arrow-go's Decimal128.ToFloat64, which is not even
// correctly rounded (12.45 is stored as 12.450000000000001); tsgate
// refuses a value it cannot store as it is.
func decimalValue(text string, scale int) (model.Value, error) {
	if _, _, _, ok := decimalParts(text); !ok {
		return model.Value{}, fmt.Errorf("%q is not a decimal number", text)
	}
	if scale == 0 {
		i, err := strconv.ParseInt(text, 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return model.Value{}, fmt.Errorf("%s does not fit a 64-bit integer; tsgate imports a DECIMAL of scale 0 as an integer field", text)
		}
		if err != nil {
			return model.Value{}, fmt.Errorf("%q is not an integer", text)
		}
		return model.Int(i), nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return model.Value{}, fmt.Errorf("%s is out of the float64 range", text)
	}
	if short := strconv.FormatFloat(f, 'g', -1, 64); !sameDecimal(text, short) {
		return model.Value{}, fmt.Errorf("%s is not exactly a float64 (the nearest is %s); tsgate imports a DECIMAL with a fraction as a float field only when each value converts exactly", text, short)
	}
	return model.Float(f), nil
}

// sameDecimal reports whether two decimal numerals (plain or with an
// exponent) are the same number.
func sameDecimal(a, b string) bool {
	an, ad, ae, aok := decimalParts(a)
	bn, bd, be, bok := decimalParts(b)
	return aok && bok && an == bn && ad == bd && ae == be
}

// decimalParts reads a decimal numeral — an optional sign, digits with at
// most one '.', an optional exponent — as sign, significant digits (no
// leading or trailing zeros) and exponent e, the number being
// 0.digits × 10^e. Zero is ("", 0), unsigned.
func decimalParts(s string) (neg bool, digits string, exp int, ok bool) {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	mant, e := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		var err error
		mant = s[:i]
		if e, err = strconv.Atoi(s[i+1:]); err != nil || e > 1<<20 || e < -1<<20 {
			return false, "", 0, false
		}
	}
	point, n := len(mant), 0
	d := make([]byte, 0, len(mant))
	for i := 0; i < len(mant); i++ {
		switch c := mant[i]; {
		case c >= '0' && c <= '9':
			d = append(d, c)
			n++
		case c == '.' && point == len(mant):
			point = n
		default:
			return false, "", 0, false
		}
	}
	if n == 0 {
		return false, "", 0, false
	}
	if point == len(mant) {
		point = n
	}
	lead := 0
	for lead < len(d) && d[lead] == '0' {
		lead++
	}
	d = bytes.TrimRight(d[lead:], "0")
	if len(d) == 0 {
		return false, "", 0, true
	}
	return neg, string(d), point - lead + e, true
}
