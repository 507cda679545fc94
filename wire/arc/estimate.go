package arc

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"tsgate/errs"
	"tsgate/model"
)

// estimateResponse is Arc's EstimateResponse, fields in its order.
type estimateResponse struct {
	Success         bool    `json:"success"`
	EstimatedRows   *int64  `json:"estimated_rows"`
	WarningLevel    string  `json:"warning_level"`
	WarningMessage  string  `json:"warning_message,omitempty"`
	ExecutionTimeMs float64 `json:"execution_time_ms"`
	Error           string  `json:"error,omitempty"`
}

// estimate serves POST /api/v1/query/estimate: the query's row count,
// counted for real as Arc does (SELECT COUNT(*) over the query), with
// Arc's warning levels.
func (s *Server) estimate(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	fail := func(err error) {
		s.countError(err)
		e := errs.As(err)
		writeJSON(w, e.Code.HTTPStatus(), estimateResponse{WarningLevel: "error", Error: e.Msg, ExecutionTimeMs: float64(time.Since(start).Milliseconds())})
	}
	sql, err := s.readSQL(r)
	if err != nil {
		fail(err)
		return
	}
	p, err := s.queryPlan(r, sql, "estimate")
	if err != nil {
		fail(err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.queryTimeout)
	defer cancel()
	// Arc answers a count its engine cannot run 200 with success false.
	cannot := func(err error) {
		s.countError(err)
		writeJSON(w, http.StatusOK, estimateResponse{WarningLevel: "error", Error: "Cannot estimate query: " + errs.As(err).Msg,
			ExecutionTimeMs: float64(time.Since(start).Milliseconds())})
	}
	// Arc validates the query itself first; so does tsgate: a text that
	// is not one query is refused as such, not as a broken count. Text
	// that does not parse is the exception: Arc's checks are patterns,
	// so it reaches DuckDB's parser inside the count and fails there.
	if c, ok := s.backend.(Checker); ok {
		if err := c.Check(ctx, Query{DB: p.db, SQL: sql, HeaderDB: p.header}); err != nil {
			if isSyntaxError(err) {
				cannot(err)
			} else {
				fail(err)
			}
			return
		}
	}
	// The user's text goes in whole, as a subquery: the guard classifies
	// the result as one statement, so text that is not one query (a
	// semicolon, an unbalanced parenthesis) fails there.
	q := Query{DB: p.db, SQL: "SELECT COUNT(*) AS n FROM (" + strings.TrimRight(strings.TrimSpace(sql), "; \t\n") + ") AS t", HeaderDB: p.header}
	n, err := s.count(ctx, q)
	if err != nil {
		err = timeoutAware(ctx, err)
		switch code := errs.CodeOf(err); {
		case isSyntaxError(err):
			cannot(err)
		case code == errs.Timeout, code == errs.Invalid, code == errs.PermissionDenied:
			fail(err)
		default:
			cannot(err)
		}
		return
	}
	level, msg := "none", rowMessage(n, "✅ Small query", "")
	switch {
	case n > 1_000_000:
		level, msg = "high", rowMessage(n, "⚠️ Large query", "This may take several minutes and use significant memory.")
	case n > 100_000:
		level, msg = "medium", rowMessage(n, "⚠️ Medium query", "This may take 30-60 seconds.")
	case n > 10_000:
		level, msg = "low", rowMessage(n, "📊", "Should complete quickly.")
	}
	writeJSON(w, http.StatusOK, estimateResponse{Success: true, EstimatedRows: &n, WarningLevel: level, WarningMessage: msg,
		ExecutionTimeMs: float64(time.Since(start).Milliseconds())})
}

// isSyntaxError reports text the SQL parser could not read (SQLSTATE
// 42601, set by the guard where the parse fails).
func isSyntaxError(err error) bool {
	e := errs.As(err)
	return e.Code == errs.Invalid && e.State() == "42601"
}

func (s *Server) count(ctx context.Context, q Query) (int64, error) {
	rows, err := s.backend.Query(ctx, q)
	if err != nil {
		return 0, err
	}
	return model.Count(rows)
}

// rowMessage is Arc's "<prefix>: 1,234 rows.[ suffix]".
func rowMessage(n int64, prefix, suffix string) string {
	digits := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && c != '-' && (len(digits)-i)%3 == 0 && digits[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := prefix + ": " + b.String() + " rows."
	if suffix != "" {
		out += " " + suffix
	}
	return out
}

var (
	orderByRe = regexp.MustCompile(`(?i)^[a-zA-Z_][a-zA-Z0-9_]*(\s+(ASC|DESC))?(,\s*[a-zA-Z_][a-zA-Z0-9_]*(\s+(ASC|DESC))?)*$`)
	// Arc's where-parameter patterns: a query's text is classified by
	// the guard anyway; these keep Arc's answers to the obvious misuse.
	whereForbidden = []string{";", "--", "/*", "*/", "DROP", "DELETE", "INSERT", "UPDATE", "TRUNCATE", "ALTER", "CREATE", "EXEC", "EXECUTE", "XP_", "SP_", "UNION"}
)

// queryMeasurement serves GET /api/v1/query/{measurement}: Arc's
// convenience read of a measurement's latest rows, answered with the
// JSON envelope.
func (s *Server) queryMeasurement(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m := r.PathValue("measurement")
	db := q.Get("database")
	if db == "" {
		db = "default"
	}
	bad := func(msg string) {
		enc := &jsonEncoder{}
		w.Header().Set("Content-Type", enc.contentType())
		w.WriteHeader(http.StatusBadRequest)
		w.Write(enc.errorBody(msg, 0, time.Now().UTC().Format(time.RFC3339)))
	}
	limit, offset := int64(100), int64(0)
	if v := q.Get("limit"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > 1_000_000 {
			bad("Invalid limit: must be a positive integer up to 1000000")
			return
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			bad("Invalid offset: must be a non-negative integer")
			return
		}
		offset = n
	}
	orderBy := "time DESC"
	if v := q.Get("order_by"); v != "" {
		if len(v) > 256 || !orderByRe.MatchString(v) {
			bad("Invalid order_by: must be column names with optional ASC/DESC")
			return
		}
		orderBy = v
	}
	where := q.Get("where")
	switch {
	case m == "":
		bad("Measurement name is required")
		return
	case !model.ValidDatabase(db):
		bad("Invalid database name: name contains invalid characters (allowed: alphanumeric, underscore, hyphen)")
		return
	case !model.ValidMeasurement(m):
		bad("Invalid measurement name: name contains invalid characters (allowed: alphanumeric, underscore, hyphen)")
		return
	}
	if where != "" {
		up := strings.ToUpper(where)
		if len(where) > 4096 {
			bad("Invalid where clause: where clause too long (max 4096 characters)")
			return
		}
		for _, f := range whereForbidden {
			if strings.Contains(up, f) {
				bad("Invalid where clause: where clause contains forbidden pattern: " + f)
				return
			}
		}
		if strings.Count(where, "'")%2 != 0 || strings.Count(where, `"`)%2 != 0 || strings.Count(where, "(") != strings.Count(where, ")") {
			bad("Invalid where clause: unbalanced quotes or parentheses")
			return
		}
	}
	sql := "SELECT * FROM " + db + "." + m
	if where != "" {
		sql += " WHERE " + where
	}
	sql += " ORDER BY " + orderBy + " LIMIT " + strconv.FormatInt(limit, 10) + " OFFSET " + strconv.FormatInt(offset, 10)
	s.runQuery(w, r, "query_measurement", &jsonEncoder{}, &plan{sql: sql, db: db}, time.Now())
}
