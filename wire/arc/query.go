package arc

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"time"

	"tsgate/errs"
	"tsgate/model"
)

type queryRequest struct {
	SQL string `json:"sql"`
}

// readQuery reads {"sql": …} from a JSON or form body, as Arc does; any
// other content type is Arc's "Unprocessable Entity".
func (s *Server) readQuery(r *http.Request) (string, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	r.Body = http.MaxBytesReader(nil, r.Body, int64(s.opts.maxSQL)*8+4096)
	switch ct {
	case "application/json":
		var q queryRequest
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
			if errs.IsDeadline(err) {
				return "", errs.Wrap(errs.RequestTimeout, err, "Request body not received in time")
			}
			return "", errs.Wrap(errs.Invalid, err, "Invalid request body: "+err.Error())
		}
		return q.SQL, nil
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseForm(); err != nil {
			return "", errs.Wrap(errs.Invalid, err, "Invalid request body: "+err.Error())
		}
		return r.PostForm.Get("sql"), nil
	}
	return "", errs.New(errs.Invalid, "Invalid request body: Unprocessable Entity")
}

// plan is a query ready to run: what and where.
type plan struct {
	sql string
	db  string
	// header: the database came from x-arc-database, so the query may
	// not name another one (db.table).
	header   bool
	show     showKind
	showFrom string
}

type showKind uint8

const (
	showNone showKind = iota
	showDatabases
	showTables
)

// prepare applies Arc's request rules in Arc's order.
func (s *Server) prepare(r *http.Request) (*plan, error) {
	sql, err := s.readSQL(r)
	if err != nil {
		return nil, err
	}
	return s.planFor(r, sql)
}

// queryPlan is planFor for an endpoint that runs only queries: it refuses
// SHOW DATABASES and SHOW TABLES (only /api/v1/query serves them), naming
// the endpoint in Arc's message.
func (s *Server) queryPlan(r *http.Request, sql, endpoint string) (*plan, error) {
	p, err := s.planFor(r, sql)
	if err != nil {
		return nil, err
	}
	switch p.show {
	case showDatabases:
		return nil, errs.New(errs.Invalid, "SHOW DATABASES is not supported on the "+endpoint+" endpoint; use /api/v1/query instead")
	case showTables:
		return nil, errs.New(errs.Invalid, "SHOW TABLES/MEASUREMENTS is not supported on the "+endpoint+" endpoint; use /api/v1/query instead")
	}
	return p, nil
}

// readSQL reads the request's query and applies Arc's first rules to its
// text.
func (s *Server) readSQL(r *http.Request) (string, error) {
	sql, err := s.readQuery(r)
	if err != nil {
		return "", err
	}
	return sql, checkText(sql, s.opts.maxSQL)
}

// planFor applies the rules that follow the text's: the database header
// and SHOW commands.
func (s *Server) planFor(r *http.Request, sql string) (*plan, error) {
	header := r.Header.Get("x-arc-database")
	if header != "" && !model.ValidDatabase(header) {
		return nil, errs.New(errs.Invalid, "invalid x-arc-database header: name contains invalid characters (allowed: alphanumeric, underscore, hyphen)")
	}
	p := &plan{sql: sql, db: header, header: header != ""}
	if p.db == "" {
		p.db = "default"
	}
	if kind, from, ok := showCommand(sql); ok {
		p.show = kind
		if kind == showTables {
			p.showFrom = p.db
			if from != "" {
				p.showFrom = from
			}
			if !model.ValidDatabase(p.showFrom) {
				return nil, errs.New(errs.Invalid, invalidDatabaseName)
			}
		}
	}
	return p, nil
}

var (
	showDatabasesCols = []model.ResultColumn{{Name: "database", Type: model.TypeString, BackendType: "VARCHAR"}}
	showTablesCols    = []model.ResultColumn{
		{Name: "database", Type: model.TypeString, BackendType: "VARCHAR"},
		{Name: "table_name", Type: model.TypeString, BackendType: "VARCHAR"},
		{Name: "storage_path", Type: model.TypeString, BackendType: "VARCHAR"},
		{Name: "file_count", Type: model.TypeInt, BackendType: "BIGINT"},
		{Name: "total_size_mb", Type: model.TypeFloat, BackendType: "DOUBLE"},
	}
)

// run executes a plan: SHOW commands from the backend's catalog, queries
// through the backend.
func (s *Server) run(ctx context.Context, p *plan) (model.Rows, error) {
	switch p.show {
	case showDatabases:
		dbs, err := s.databases(ctx)
		if err != nil {
			return nil, err
		}
		rows := &model.SliceRows{Cols: showDatabasesCols}
		for _, db := range dbs {
			rows.Data = append(rows.Data, []model.Value{model.String(db)})
		}
		return rows, nil
	case showTables:
		ms, err := s.backend.Measurements(ctx, p.showFrom)
		if err != nil {
			return nil, err
		}
		rows := &model.SliceRows{Cols: showTablesCols}
		for _, m := range ms {
			// Arc's file statistics describe its Parquet layout; a
			// table in another engine has no files to count.
			rows.Data = append(rows.Data, []model.Value{
				model.String(p.showFrom), model.String(m), model.String(s.backend.Name() + "://" + p.showFrom + "/" + m),
				model.Int(0), model.Float(0),
			})
		}
		return rows, nil
	}
	return s.backend.Query(ctx, Query{DB: p.db, SQL: p.sql, HeaderDB: p.header})
}

func (s *Server) queryJSON(w http.ResponseWriter, r *http.Request) {
	s.query(w, r, "query", &jsonEncoder{profile: r.Header.Get("x-arc-profile") == "true"})
}

func (s *Server) queryMsgpack(w http.ResponseWriter, r *http.Request) {
	s.query(w, r, "query_msgpack", &msgpackEncoder{})
}

// resultEncoder renders a query result in one of the API's formats.
type resultEncoder interface {
	contentType() string
	// begin starts the body once the columns are known.
	begin(buf []byte, cols []model.ResultColumn) []byte
	row(buf []byte, vals []model.Value) []byte
	// end closes the body.
	end(buf []byte, rows int, elapsed, planning time.Duration, timestamp string) []byte
	// errorBody renders a failure.
	errorBody(msg string, elapsed time.Duration, timestamp string) []byte
	// finishRows lets a columnar encoder see every row before output.
	streaming() bool
}

// flushAt is how much of a result is buffered before the status line is
// committed. Below it, an error mid-result still gets a proper error
// response; above it the result streams with bounded memory.
const flushAt = 256 << 10

func (s *Server) query(w http.ResponseWriter, r *http.Request, endpoint string, enc resultEncoder) {
	start := time.Now()
	p, err := s.prepare(r)
	if err != nil {
		s.queryFailed(w, endpoint, enc, start, err)
		return
	}
	s.runQuery(w, r, endpoint, enc, p, start)
}

func (s *Server) queryFailed(w http.ResponseWriter, endpoint string, enc resultEncoder, start time.Time, err error) {
	s.countError(err)
	e := errs.As(err)
	if e.Code == errs.Internal || e.Code == errs.Engine {
		s.log.Warn("query failed", "endpoint", endpoint, "err", err)
	}
	w.Header().Set("Content-Type", enc.contentType())
	w.WriteHeader(e.Code.HTTPStatus())
	w.Write(enc.errorBody(e.Msg, time.Since(start), time.Now().UTC().Format(time.RFC3339)))
}

// runQuery runs a prepared plan and streams its result in enc's format.
func (s *Server) runQuery(w http.ResponseWriter, r *http.Request, endpoint string, enc resultEncoder, p *plan, start time.Time) {
	timestamp := func() string { return time.Now().UTC().Format(time.RFC3339) }
	fail := func(err error) { s.queryFailed(w, endpoint, enc, start, err) }
	planned := time.Since(start)
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.queryTimeout)
	defer cancel()
	rows, err := s.run(ctx, p)
	if err != nil {
		fail(timeoutAware(ctx, err))
		return
	}
	defer rows.Close()

	cols := rows.Columns()
	vals := make([]model.Value, len(cols))
	buf := make([]byte, 0, 4096)
	buf = enc.begin(buf, cols)
	committed := false
	n := 0
	for rows.Next(vals) {
		n++
		buf = enc.row(buf, vals)
		if enc.streaming() && len(buf) >= flushAt {
			if !committed {
				w.Header().Set("Content-Type", enc.contentType())
				w.WriteHeader(http.StatusOK)
				committed = true
			}
			if _, err := w.Write(buf); err != nil {
				return // client went away
			}
			buf = buf[:0]
		}
	}
	if err := rows.Err(); err != nil {
		err = timeoutAware(ctx, err)
		if committed {
			// The status is already sent: cut the connection so the
			// client sees a broken response, never a short valid one.
			s.log.Error("query failed mid-result", "endpoint", endpoint, "rows", n, "err", err)
			panic(http.ErrAbortHandler)
		}
		fail(err)
		return
	}
	buf = enc.end(buf, n, time.Since(start), planned, timestamp())
	if !committed {
		w.Header().Set("Content-Type", enc.contentType())
		w.WriteHeader(http.StatusOK)
	}
	w.Write(buf)
	s.metrics.queryLatency.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
}

// timeoutAware turns any failure after the deadline into Arc's 504.
func timeoutAware(ctx context.Context, err error) error {
	if ctx.Err() == context.DeadlineExceeded {
		return errs.Wrap(errs.Timeout, err, "Query timed out")
	}
	return err
}

type measurementInfo struct {
	Database    string  `json:"database"`
	Measurement string  `json:"measurement"`
	FileCount   int     `json:"file_count"`
	TotalSizeMB float64 `json:"total_size_mb"`
	StoragePath string  `json:"storage_path"`
}

func (s *Server) listMeasurements(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	filter := r.URL.Query().Get("database")
	if filter != "" && !model.ValidDatabase(filter) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"success": false,
			"error": "invalid database parameter: name contains invalid characters (allowed: alphanumeric, underscore, hyphen)"})
		return
	}
	dbs := []string{filter}
	if filter == "" {
		var err error
		if dbs, err = s.databases(r.Context()); err != nil {
			s.countError(err)
			writeJSON(w, errs.CodeOf(err).HTTPStatus(), map[string]any{"success": false, "error": "Failed to read storage: " + errs.As(err).Msg})
			return
		}
	}
	out := []measurementInfo{}
	for _, db := range dbs {
		ms, err := s.backend.Measurements(r.Context(), db)
		if err != nil {
			s.countError(err)
			writeJSON(w, errs.CodeOf(err).HTTPStatus(), map[string]any{"success": false, "error": "Failed to read storage: " + errs.As(err).Msg})
			return
		}
		for _, m := range ms {
			out = append(out, measurementInfo{Database: db, Measurement: m, StoragePath: s.backend.Name() + "://" + db + "/" + m})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"success":           true,
		"measurements":      out,
		"count":             len(out),
		"execution_time_ms": time.Since(start).Milliseconds(),
	})
}

type databaseInfo struct {
	Name             string `json:"name"`
	MeasurementCount int    `json:"measurement_count"`
}

// databases lists the backend's databases and those created through the
// API that hold nothing yet (Arc lists a database's directory once its
// marker exists).
func (s *Server) databases(ctx context.Context) ([]string, error) {
	dbs, err := s.backend.Databases(ctx)
	if err != nil || s.opts.manager == nil {
		return dbs, err
	}
	for _, db := range s.opts.manager.Databases() {
		if !slices.Contains(dbs, db) {
			dbs = append(dbs, db)
		}
	}
	slices.Sort(dbs)
	return dbs, nil
}

func (s *Server) listDatabases(w http.ResponseWriter, r *http.Request) {
	dbs, err := s.databases(r.Context())
	if err != nil {
		s.countError(err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Failed to list databases: " + errs.As(err).Msg})
		return
	}
	out := make([]databaseInfo, 0, len(dbs))
	for _, db := range dbs {
		ms, err := s.backend.Measurements(r.Context(), db)
		if err != nil {
			s.countError(err)
			writeJSON(w, http.StatusInternalServerError, errorBody{Error: "Failed to list databases: " + errs.As(err).Msg})
			return
		}
		out = append(out, databaseInfo{Name: db, MeasurementCount: len(ms)})
	}
	writeJSON(w, http.StatusOK, struct {
		Databases []databaseInfo `json:"databases"`
		Count     int            `json:"count"`
	}{out, len(out)})
}

func (s *Server) listDatabaseMeasurements(w http.ResponseWriter, r *http.Request) {
	db := r.PathValue("name")
	if !model.ValidDatabase(db) {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "Invalid database name: must start with a letter and contain only alphanumeric characters, underscores, or hyphens (max 64 characters)"})
		return
	}
	ms, err := s.backend.Measurements(r.Context(), db)
	if err != nil {
		s.countError(err)
		writeError(w, err)
		return
	}
	type meas struct {
		Name string `json:"name"`
	}
	out := make([]meas, len(ms))
	for i, m := range ms {
		out[i] = meas{Name: m}
	}
	writeJSON(w, http.StatusOK, map[string]any{"database": db, "measurements": out, "count": len(out)})
}
