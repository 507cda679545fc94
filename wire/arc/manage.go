package arc

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tsgate/auth"
	"tsgate/errs"
	"tsgate/manage"
	"tsgate/model"
	"tsgate/translate"
)

// Arc's management routes: databases, deletes, retention policies and
// continuous queries, over package manage (state in the data directory,
// jobs on any backend). Request shapes, checks and texts follow Arc's
// handlers (internal/api/databases.go, delete.go, retention.go,
// continuous_query.go); where tsgate differs it says so.

// ManageConfig is the management routes' configuration, Arc's defaults
// in DefaultManageConfig.
type ManageConfig struct {
	// DeleteEnabled allows row and database deletes (off by default, as
	// in Arc).
	DeleteEnabled bool
	// ConfirmationThreshold: a delete of more rows needs confirm=true.
	ConfirmationThreshold int64
	// MaxRowsPerDelete: a delete of more rows is refused.
	MaxRowsPerDelete int64
	// Retention and ContinuousQueries register their routes.
	Retention, ContinuousQueries bool
}

// WithManager serves Arc's management routes over m.
func WithManager(m *manage.Manager, cfg ManageConfig) Option {
	return func(o *options) { o.manager, o.manage = m, cfg }
}

// Checker is an optional Backend capability: classify a query as Query
// would, without running it (a continuous query is checked when it is
// stored).
type Checker interface {
	Check(ctx context.Context, q Query) error
}

func (s *Server) manageRoutes(handle func(string, auth.Permission, http.HandlerFunc)) {
	m := s.opts.manager
	if m == nil {
		return
	}
	handle("POST /api/v1/databases", auth.Admin, s.createDatabase)
	handle("GET /api/v1/databases/{name}", auth.Read, s.getDatabase)
	handle("DELETE /api/v1/databases/{name}", auth.Admin, s.deleteDatabase)
	handle("POST /api/v1/delete", auth.Admin, s.deleteRows)
	handle("GET /api/v1/delete/config", auth.Admin, s.deleteConfig)
	handle("GET /api/v1/schedulers", anyToken, s.schedulers)
	if s.opts.manage.Retention {
		jobRoutes[manage.RetentionPolicy, []manage.RetentionExecution]{
			path: "/api/v1/retention", read: anyToken, badID: "Invalid policy ID",
			deleted: "Retention policy deleted successfully", idKey: "policy_id",
			list:   func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, nilIfEmpty(m.Retentions())) },
			create: s.createRetention, get: m.Retention, update: s.updateRetention, remove: m.DeleteRetention,
			execute: s.executeRetention, executions: m.RetentionExecutions,
		}.register(handle)
	}
	if s.opts.manage.ContinuousQueries {
		jobRoutes[manage.ContinuousQuery, []manage.CQExecution]{
			path: "/api/v1/continuous_queries", read: auth.Admin, badID: "Invalid query ID",
			deleted: "Continuous query deleted successfully", idKey: "query_id",
			list: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusOK, nilIfEmpty(m.CQs(r.URL.Query().Get("database"), r.URL.Query().Get("is_active"))))
			},
			create: s.createCQ, get: m.CQ, update: s.updateCQ, remove: m.DeleteCQ,
			execute: s.executeCQ, executions: m.CQExecutions,
		}.register(handle)
	}
}

// jobRoutes are the routes Arc gives both kinds of scheduled job,
// retention policies (J) and continuous queries, with their run records
// (E): the list, creation, one job, its update and deletion, a manual run
// and its run history. Reading needs read; everything else is admin's.
type jobRoutes[J, E any] struct {
	path    string
	read    auth.Permission
	badID   string // Arc's answer to an id that is not a number
	deleted string // Arc's answer to a deletion
	idKey   string // the id's key in the run history answer

	list, create    http.HandlerFunc
	get             func(id int64) (J, error)
	update, execute func(http.ResponseWriter, *http.Request, int64)
	remove          func(id int64) error
	executions      func(id int64, limit int) (E, error)
}

func (j jobRoutes[J, E]) register(handle func(string, auth.Permission, http.HandlerFunc)) {
	one := j.path + "/{id}"
	handle("GET "+j.path, j.read, j.list)
	handle("POST "+j.path, auth.Admin, j.create)
	handle("GET "+one, j.read, withID(j.badID, func(w http.ResponseWriter, r *http.Request, id int64) {
		v, err := j.get(id)
		answer(w, http.StatusOK, v, err)
	}))
	handle("PUT "+one, auth.Admin, withID(j.badID, j.update))
	handle("DELETE "+one, auth.Admin, withID(j.badID, func(w http.ResponseWriter, r *http.Request, id int64) {
		answer(w, http.StatusOK, map[string]string{"message": j.deleted}, j.remove(id))
	}))
	handle("POST "+one+"/execute", auth.Admin, withID(j.badID, j.execute))
	handle("GET "+one+"/executions", j.read, withID(j.badID, func(w http.ResponseWriter, r *http.Request, id int64) {
		// The executions limit has no upper bound in Arc.
		ex, err := j.executions(id, intParamIn(r.URL.Query().Get("limit"), math.MaxInt, 50))
		answer(w, http.StatusOK, map[string]any{"executions": ex, j.idKey: id}, err)
	}))
}

// nilIfEmpty: Arc's lists come from `var out []T` appended row by row, so
// an empty list is JSON null.
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// answer writes v, or err as Arc's {"error": …} body.
func answer(w http.ResponseWriter, status int, v any, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, status, v)
}

func withID(bad string, h func(http.ResponseWriter, *http.Request, int64)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: bad})
			return
		}
		h(w, r, id)
	}
}

// decodeBody reads a JSON body; a failure is Arc's 400.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := readJSONBody(r, v); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "Invalid request body: " + err.Error()})
		return false
	}
	return true
}

// ---- databases ----

var reservedDatabases = map[string]bool{"system": true, "internal": true, "_internal": true}

const invalidCreateName = "Invalid database name: must start with a letter and contain only alphanumeric characters, underscores, or hyphens (max 64 characters)"

func (s *Server) createDatabase(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	switch {
	case req.Name == "":
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "Database name is required"})
		return
	case !model.ValidDatabase(req.Name):
		writeJSON(w, http.StatusBadRequest, errorBody{Error: invalidCreateName})
		return
	case reservedDatabases[strings.ToLower(req.Name)]:
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "Database name '" + req.Name + "' is reserved"})
		return
	}
	created, err := s.opts.manager.CreateDatabase(r.Context(), req.Name)
	if err != nil {
		if errs.CodeOf(err) != errs.Conflict {
			err = errs.Wrap(errs.Internal, err, "Failed to create database: "+errs.As(err).Msg)
		}
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		Name             string `json:"name"`
		MeasurementCount int    `json:"measurement_count"`
		CreatedAt        string `json:"created_at"`
	}{req.Name, 0, created.UTC().Format(time.RFC3339)})
}

// databaseExists is Arc's rule: the marker (created through the API) or
// any data.
func (s *Server) databaseExists(ctx context.Context, db string) (int, bool, error) {
	ms, err := s.backend.Measurements(ctx, db)
	if err != nil {
		return 0, false, err
	}
	_, created := s.opts.manager.DatabaseCreated(db)
	return len(ms), created || len(ms) > 0, nil
}

func (s *Server) getDatabase(w http.ResponseWriter, r *http.Request) {
	db := r.PathValue("name")
	if !model.ValidDatabase(db) {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: fmt.Sprintf("invalid database name %q", db)})
		return
	}
	n, ok, err := s.databaseExists(r.Context(), db)
	switch {
	case err != nil:
		s.fail(w, err)
	case !ok:
		writeJSON(w, http.StatusNotFound, errorBody{Error: "Database '" + db + "' not found"})
	default:
		writeJSON(w, http.StatusOK, databaseInfo{Name: db, MeasurementCount: n})
	}
}

const deletesDisabled = "Delete operations are disabled. Set delete.enabled=true in tsgate.toml to enable."

func (s *Server) deleteDatabase(w http.ResponseWriter, r *http.Request) {
	db := r.PathValue("name")
	switch {
	case !s.opts.manage.DeleteEnabled:
		writeJSON(w, http.StatusForbidden, errorBody{Error: deletesDisabled})
		return
	case r.URL.Query().Get("confirm") != "true":
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "Confirmation required. Add ?confirm=true to delete the database."})
		return
	case reservedDatabases[strings.ToLower(db)]:
		writeJSON(w, http.StatusForbidden, errorBody{Error: "Cannot delete reserved database '" + db + "'"})
		return
	case !model.ValidDatabase(db):
		writeJSON(w, http.StatusBadRequest, errorBody{Error: fmt.Sprintf("invalid database name %q", db)})
		return
	}
	if _, ok, err := s.databaseExists(r.Context(), db); err != nil {
		s.fail(w, err)
		return
	} else if !ok {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "Database '" + db + "' not found"})
		return
	}
	// Arc counts the files it removed, its marker included; tsgate
	// counts the measurements it dropped (and the marker).
	_, created := s.opts.manager.DatabaseCreated(db)
	n, err := s.opts.manager.DropDatabase(r.Context(), db)
	if err != nil {
		s.fail(w, err)
		return
	}
	if created {
		n++
	}
	writeJSON(w, http.StatusOK, map[string]any{"files_deleted": n, "message": "Database '" + db + "' deleted successfully"})
}

// ---- deletes ----

// deleteResponse is Arc's DeleteResponse, fields in its order.
type deleteResponse struct {
	Success         bool     `json:"success"`
	DeletedCount    int64    `json:"deleted_count"`
	AffectedFiles   int      `json:"affected_files"`
	RewrittenFiles  int      `json:"rewritten_files"`
	ExecutionTimeMs float64  `json:"execution_time_ms"`
	DryRun          bool     `json:"dry_run"`
	FilesProcessed  []string `json:"files_processed"`
	FailedFiles     []string `json:"failed_files,omitempty"`
	Error           string   `json:"error,omitempty"`
}

func (s *Server) deleteConfig(w http.ResponseWriter, r *http.Request) {
	c := s.opts.manage
	writeJSON(w, http.StatusOK, struct {
		Enabled               bool              `json:"enabled"`
		ConfirmationThreshold int64             `json:"confirmation_threshold"`
		MaxRowsPerDelete      int64             `json:"max_rows_per_delete"`
		Implementation        string            `json:"implementation"`
		PerformanceImpact     map[string]string `json:"performance_impact"`
	}{c.DeleteEnabled, c.ConfirmationThreshold, c.MaxRowsPerDelete, "backend-native",
		map[string]string{"deletes": "the backend's own delete (DuckDB/PostgreSQL DELETE, ClickHouse ALTER TABLE … DELETE, InfluxQL DELETE)", "queries": "zero overhead", "writes": "zero overhead"}})
}

// whereText applies Arc's text checks to a delete's condition and returns
// it without a leading WHERE; full says it deletes everything.
func whereText(where string) (cond string, full bool, err error) {
	cond = strings.TrimSpace(where)
	if cond == "" {
		return "", false, errs.New(errs.Invalid, "WHERE clause is required. To delete all data, use WHERE clause '1=1' with confirm=true")
	}
	if len(cond) > 6 && strings.EqualFold(cond[:6], "WHERE ") {
		cond = strings.TrimSpace(cond[6:])
	}
	if strings.Count(cond, "'")%2 != 0 {
		return "", false, errs.New(errs.Invalid, "WHERE clause has unmatched quotes")
	}
	if strings.Count(cond, "(") != strings.Count(cond, ")") {
		return "", false, errs.New(errs.Invalid, "WHERE clause has unmatched parentheses")
	}
	switch strings.ToUpper(cond) {
	case "1=1", "TRUE", "1":
		full = true
	}
	return cond, full, nil
}

func (s *Server) deleteRows(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var req struct {
		Database    string `json:"database"`
		Measurement string `json:"measurement"`
		Where       string `json:"where"`
		DryRun      bool   `json:"dry_run"`
		Confirm     bool   `json:"confirm"`
	}
	fail := func(status int, msg string) {
		writeJSON(w, status, deleteResponse{Error: msg, ExecutionTimeMs: float64(time.Since(start).Milliseconds())})
	}
	if !s.opts.manage.DeleteEnabled {
		fail(http.StatusForbidden, deletesDisabled)
		return
	}
	if err := readJSONBody(r, &req); err != nil {
		fail(http.StatusBadRequest, "Invalid request body: "+err.Error())
		return
	}
	switch {
	case req.Database == "":
		fail(http.StatusBadRequest, "database is required")
		return
	case req.Measurement == "":
		fail(http.StatusBadRequest, "measurement is required")
		return
	case !model.ValidDatabase(req.Database):
		fail(http.StatusBadRequest, "database name contains invalid characters")
		return
	case !model.ValidMeasurement(req.Measurement):
		fail(http.StatusBadRequest, "measurement name contains invalid characters")
		return
	}
	cond, full, err := whereText(req.Where)
	if err != nil {
		fail(http.StatusBadRequest, errs.As(err).Msg)
		return
	}
	// The condition is parsed and printed again by tsgate: only what it
	// understands as a condition on this measurement is deleted by.
	pred, err := translate.Predicate(req.Measurement, cond)
	if err != nil {
		fail(http.StatusBadRequest, errs.As(err).Msg)
		return
	}
	if full && !req.Confirm {
		fail(http.StatusBadRequest, "Full table delete detected (WHERE 1=1). Set confirm=true to proceed.")
		return
	}
	if !req.DryRun && !req.Confirm {
		fail(http.StatusBadRequest, "Confirmation required for delete operation. Set confirm=true or use dry_run=true to preview.")
		return
	}
	m := s.opts.manager
	n, err := m.CountRows(r.Context(), req.Database, req.Measurement, pred)
	if err != nil {
		s.countError(err)
		status := errs.CodeOf(err).HTTPStatus()
		if status < 500 && errs.CodeOf(err) != errs.Unsupported {
			status = http.StatusInternalServerError
		}
		fail(status, "Failed to find affected files: "+errs.As(err).Msg)
		return
	}
	resp := deleteResponse{Success: true, DryRun: req.DryRun, FilesProcessed: []string{}}
	done := func() {
		resp.ExecutionTimeMs = float64(time.Since(start).Milliseconds())
		writeJSON(w, http.StatusOK, resp)
	}
	if n == 0 {
		done()
		return
	}
	c := s.opts.manage
	if n > c.MaxRowsPerDelete {
		fail(http.StatusBadRequest, fmt.Sprintf("Delete would affect %d rows, exceeding maximum of %d. Adjust delete.max_rows_per_delete in tsgate.toml or refine WHERE clause.", n, c.MaxRowsPerDelete))
		return
	}
	if n > c.ConfirmationThreshold && !req.Confirm {
		fail(http.StatusBadRequest, fmt.Sprintf("Delete would affect %d rows (threshold: %d). Set confirm=true to proceed.", n, c.ConfirmationThreshold))
		return
	}
	// Arc reports Parquet files; a backend's table is one "file".
	resp.DeletedCount, resp.AffectedFiles, resp.FilesProcessed = n, 1, []string{req.Database + "/" + req.Measurement}
	if req.DryRun {
		done()
		return
	}
	if err := m.DeleteRows(r.Context(), req.Database, req.Measurement, pred); err != nil {
		s.countError(err)
		s.log.Error("delete failed", "db", req.Database, "measurement", req.Measurement, "err", err)
		status := errs.CodeOf(err).HTTPStatus()
		fail(status, "Delete aborted: "+errs.As(err).Msg)
		return
	}
	resp.RewrittenFiles = 1
	done()
}

// ---- retention ----

func (s *Server) createRetention(w http.ResponseWriter, r *http.Request) {
	var req manage.RetentionRequest
	if !decodeBody(w, r, &req) {
		return
	}
	p, err := s.opts.manager.CreateRetention(req)
	answer(w, http.StatusCreated, p, err)
}

func (s *Server) updateRetention(w http.ResponseWriter, r *http.Request, id int64) {
	var req manage.RetentionRequest
	if !decodeBody(w, r, &req) {
		return
	}
	p, err := s.opts.manager.UpdateRetention(id, req)
	answer(w, http.StatusOK, p, err)
}

func (s *Server) executeRetention(w http.ResponseWriter, r *http.Request, id int64) {
	var req struct {
		DryRun  bool `json:"dry_run"`
		Confirm bool `json:"confirm"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if !req.DryRun && !req.Confirm {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "Confirmation required for retention policy execution. Set confirm=true"})
		return
	}
	res, err := s.opts.manager.ExecuteRetention(r.Context(), id, req.DryRun)
	if err != nil {
		s.countError(err)
	}
	answer(w, http.StatusOK, res, err)
}

// ---- continuous queries ----

// checkQuery is the classification a stored query gets.
func (s *Server) checkQuery(ctx context.Context, db, sql string) error {
	if c, ok := s.backend.(Checker); ok {
		return c.Check(ctx, Query{DB: db, SQL: sql})
	}
	return nil
}

func (s *Server) createCQ(w http.ResponseWriter, r *http.Request) {
	var req manage.CQRequest
	if !decodeBody(w, r, &req) {
		return
	}
	q, err := s.opts.manager.CreateCQ(r.Context(), req, s.checkQuery)
	answer(w, http.StatusCreated, q, err)
}

func (s *Server) updateCQ(w http.ResponseWriter, r *http.Request, id int64) {
	var req manage.CQRequest
	if !decodeBody(w, r, &req) {
		return
	}
	q, err := s.opts.manager.UpdateCQ(r.Context(), id, req, s.checkQuery)
	answer(w, http.StatusOK, q, err)
}

func (s *Server) executeCQ(w http.ResponseWriter, r *http.Request, id int64) {
	var req struct {
		StartTime *string `json:"start_time"`
		EndTime   *string `json:"end_time"`
		DryRun    bool    `json:"dry_run"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	win := manage.CQWindow{DryRun: req.DryRun}
	for _, f := range []struct {
		in   *string
		out  *time.Time
		name string
	}{{req.StartTime, &win.Start, "start_time"}, {req.EndTime, &win.End, "end_time"}} {
		if f.in == nil {
			continue
		}
		t, err := time.Parse(time.RFC3339, *f.in)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "Invalid " + f.name + " format"})
			return
		}
		*f.out = t
	}
	res, err := s.opts.manager.ExecuteCQ(r.Context(), id, win)
	if err != nil {
		s.countError(err)
		if c := errs.CodeOf(err); c != errs.Invalid && c != errs.NotFound && c != errs.Conflict {
			err = errs.Wrap(errs.Internal, err, errs.As(err).Msg)
		}
	}
	answer(w, http.StatusOK, res, err)
}

// schedulers is Arc's GET /api/v1/schedulers (scheduler.go; any token):
// one block per scheduler, Arc's running shape with tsgate's own
// scheduler's state, or Arc's {"enabled": false, "reason"} when the
// feature is off. Arc's open-source build answers the second shape for
// both ("Enterprise license required"): it runs neither. tsgate has no
// license, so license_valid is true; retention runs each active policy
// once per retention.interval rather than on a cron line, so schedule is
// "@every <interval>" (robfig/cron's spelling, the library Arc's
// schedules use) and next_run is the tick at which the first active
// policy falls due (absent when none is active).
func (s *Server) schedulers(w http.ResponseWriter, _ *http.Request) {
	st := s.opts.manager.SchedulerStatus()
	cq := map[string]any{"enabled": false, "reason": "CQ feature not enabled (continuous_query.enabled=false)"}
	if s.opts.manage.ContinuousQueries {
		jobs := make([]map[string]any, 0, len(st.CQJobs))
		for _, j := range st.CQJobs {
			jobs = append(jobs, map[string]any{"cq_id": j.ID, "cq_name": j.Name, "interval": j.Interval.String()})
		}
		cq = map[string]any{"running": st.Running && st.Schedule.ContinuousQueries, "license_valid": true, "job_count": len(jobs), "jobs": jobs}
	}
	ret := map[string]any{"enabled": false, "reason": "Retention feature not enabled (retention.enabled=false)"}
	if s.opts.manage.Retention {
		ret = map[string]any{"running": st.Running && st.Schedule.Retention, "license_valid": true}
		if st.Running {
			ret["schedule"] = "@every " + st.Schedule.RetentionEvery.String()
		}
		if !st.RetentionNext.IsZero() {
			// Arc prints whole seconds; rounded up, never before the run.
			ret["next_run"] = st.RetentionNext.Add(time.Second - 1).Truncate(time.Second).UTC().Format(time.RFC3339)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"cq_scheduler": cq, "retention_scheduler": ret})
}
