package arc

import (
	"context"
	"encoding/json"
	"html"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tsgate/auth"
	"tsgate/errs"
	"tsgate/internal/apiopts"
	"tsgate/internal/logring"
	"tsgate/manage"
	"tsgate/model"
)

// Backend is what the Arc API needs from the gateway: the pipeline that
// runs a query on the configured backend and the write path.
type Backend interface {
	// Name labels metrics and logs ("duckdb", "influxql", …).
	Name() string
	// Query runs an Arc SQL query. A query naming a measurement that
	// does not exist answers an empty result, as Arc's does (it finds no
	// files).
	Query(ctx context.Context, q Query) (model.Rows, error)
	// Write stores a decoded batch in db.
	Write(ctx context.Context, db string, b *model.Batch) (model.WriteResult, error)
	// Databases lists databases that hold data.
	Databases(ctx context.Context) ([]string, error)
	// Measurements lists a database's measurements.
	Measurements(ctx context.Context, db string) ([]string, error)
	// Ready reports whether the backend can serve.
	Ready(ctx context.Context) error
}

// Query is one Arc SQL query as the API received it.
type Query struct {
	// DB is where bare names resolve: x-arc-database, else "default".
	DB  string
	SQL string
	// HeaderDB: DB came from x-arc-database, and Arc then refuses a
	// query that names another database (db.table).
	HeaderDB bool
}

// Server is the Arc-compatible HTTP API.
type Server struct {
	backend Backend
	tokens  *auth.Store
	log     *slog.Logger
	opts    options
	metrics *metrics
	started time.Time
	ready   atomic.Bool
	// imports counts import requests, records imported and failed
	// imports for GET /api/v1/import/stats.
	imports struct{ requests, records, errors atomic.Int64 }
	mux     *http.ServeMux
}

type options struct {
	queryTimeout time.Duration
	maxBody      int64
	maxSQL       int
	registerer   prometheus.Registerer
	gatherer     prometheus.Gatherer
	log          *slog.Logger
	tokens       *auth.Store
	now          func() time.Time
	routes       []Route
	manager      *manage.Manager
	manage       ManageConfig
	flush        func(context.Context) error
	logs         *logring.Ring
}

// Route is a further route on the API's listener (the web console): it
// gets the API's token check, caller in the context and metrics. Perm ""
// makes it public.
type Route struct {
	Pattern string
	Perm    auth.Permission
	Handler http.HandlerFunc
}

// WithRoutes adds routes to the API's own.
func WithRoutes(rs ...Route) Option { return func(o *options) { o.routes = append(o.routes, rs...) } }

// Option configures a Server.
type Option func(*options)

// WithAuth requires tokens from store; without it the API is open.
func WithAuth(store *auth.Store) Option { return func(o *options) { o.tokens = store } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithFlush gives the flush route something to flush: the embedded
// store's buffer when writes are acknowledged before they commit.
func WithFlush(fn func(context.Context) error) Option { return func(o *options) { o.flush = fn } }

// WithQueryTimeout sets when a query answers 504.
func WithQueryTimeout(d time.Duration) Option { return func(o *options) { o.queryTimeout = d } }

// WithMaxBody caps decompressed request bodies.
func WithMaxBody(n int64) Option { return func(o *options) { o.maxBody = n } }

// WithMaxSQLLength caps query text.
func WithMaxSQLLength(n int) Option { return func(o *options) { o.maxSQL = n } }

// WithMetrics registers the API's metrics on reg and serves g on /metrics.
func WithMetrics(reg prometheus.Registerer, g prometheus.Gatherer) Option {
	return func(o *options) { o.registerer, o.gatherer = reg, g }
}

// New builds the API over backend.
func New(backend Backend, opts ...Option) *Server {
	o := options{queryTimeout: 300 * time.Second, maxBody: 100 << 20, maxSQL: 10000, now: time.Now}
	for _, fn := range opts {
		fn(&o)
	}
	o.log, o.registerer, o.gatherer = apiopts.Defaults(o.log, o.registerer, o.gatherer)
	s := &Server{backend: backend, tokens: o.tokens, log: o.log, opts: o, started: o.now()}
	s.metrics = newMetrics(o.registerer, backend.Name())
	s.routes()
	return s
}

// SetReady flips /ready; the gateway clears it when shutdown starts so load
// balancers drain this node first.
func (s *Server) SetReady(v bool) { s.ready.Store(v) }

// Handler is the API's root handler.
func (s *Server) Handler() http.Handler { return s }

func (s *Server) routes() {
	m := http.NewServeMux()
	handle := func(pattern string, perm auth.Permission, h http.HandlerFunc) {
		m.Handle(pattern, s.instrument(pattern, s.authorize(perm, h)))
	}
	public := auth.Permission("")
	handle("GET /health", public, s.health)
	handle("GET /ready", public, s.readyz)
	handle("GET /metrics", public, s.metricsHandler())
	if s.tokens != nil {
		s.tokenRoutes(handle)
	}

	handle("POST /write", auth.Write, s.writeLP(func(r *http.Request) string { return r.URL.Query().Get("db") }))
	handle("POST /api/v2/write", auth.Write, s.writeLP(func(r *http.Request) string { return r.URL.Query().Get("bucket") }))
	handle("POST /api/v1/write/line-protocol", auth.Write, s.writeLP(func(*http.Request) string { return "" }))
	handle("POST /api/v1/write/msgpack", auth.Write, s.writeMsgpack)
	// Arc buffers writes and needs an explicit flush. tsgate commits each
	// write before answering unless ingest.durability is "buffer"; then
	// the flush commits the buffer before it answers.
	handle("POST /api/v1/write/line-protocol/flush", auth.Admin, func(w http.ResponseWriter, r *http.Request) {
		if s.opts.flush != nil {
			if err := s.opts.flush(r.Context()); err != nil {
				s.fail(w, errs.Wrap(errs.As(err).Code, err, "Flush failed: "+err.Error()))
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"message": "All buffers flushed", "status": "success"})
	})
	// Arc's static description of its msgpack format; any token may read
	// it (Arc puts no permission on the route).
	handle("GET /api/v1/write/msgpack/spec", anyToken, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(msgpackSpec))
	})

	handle("POST /api/v1/query", auth.Read, s.queryJSON)
	handle("POST /api/v1/query/msgpack", auth.Read, s.queryMsgpack)
	handle("POST /api/v1/query/arrow", auth.Read, s.queryArrow)
	handle("GET /api/v1/measurements", auth.Read, s.listMeasurements)
	handle("GET /api/v1/databases", auth.Read, s.listDatabases)
	handle("GET /api/v1/databases/{name}/measurements", auth.Read, s.listDatabaseMeasurements)
	handle("POST /api/v1/query/estimate", auth.Read, s.estimate)
	handle("GET /api/v1/query/{measurement}", auth.Read, s.queryMeasurement)
	s.manageRoutes(handle)
	handle("POST /api/v1/import/csv", auth.Admin, s.counted(s.importCSV))
	handle("POST /api/v1/import/lp", auth.Admin, s.counted(s.importLP))
	handle("POST /api/v1/import/parquet", auth.Admin, s.counted(s.importParquet))
	handle("GET /api/v1/import/stats", anyToken, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "success", "stats": map[string]int64{
			"total_requests": s.imports.requests.Load(), "total_records": s.imports.records.Load(), "total_errors": s.imports.errors.Load(),
		}})
	})
	if s.opts.logs != nil {
		handle("GET /api/v1/logs", auth.Admin, s.logs)
	}
	for _, r := range s.opts.routes {
		handle(r.Pattern, r.Perm, r.Handler)
	}
	s.mux = m
}

// ServeHTTP adds CORS to every answer and Arc's 404 body for unknown routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Headers", "Origin,Content-Type,Accept,Authorization,x-api-key,x-arc-database,Content-Encoding")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET,POST,PUT,DELETE,OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	// Fiber routes non-strictly: /api/v1/retention/ is /api/v1/retention
	// (arcli sends the slash on group roots). A path a route takes as
	// sent (the console's /ui/, whose /ui redirects there) keeps its
	// slash.
	_, pattern := s.mux.Handler(r)
	if p := r.URL.Path; pattern == "" && len(p) > 1 && strings.HasSuffix(p, "/") {
		r.URL.Path = strings.TrimRight(p, "/")
		if r.URL.Path == "" {
			r.URL.Path = "/"
		}
		r.URL.RawPath = ""
		_, pattern = s.mux.Handler(r)
	}
	if pattern == "" {
		// Arc authenticates before it routes: without a valid token an
		// unknown path is 401, with one it is Fiber's 404.
		if s.tokens != nil && !publicPath(r.URL.Path) {
			if tok := tokenFrom(r); tok == "" {
				s.metrics.requests.WithLabelValues("unmatched", "401").Inc()
				writeJSON(w, http.StatusUnauthorized, authErrorBody{Error: "Authentication required"})
				return
			} else if _, ok := s.tokens.Verify(tok); !ok {
				s.metrics.requests.WithLabelValues("unmatched", "401").Inc()
				writeJSON(w, http.StatusUnauthorized, authErrorBody{Error: "Invalid or expired token"})
				return
			}
		}
		s.metrics.requests.WithLabelValues("unmatched", "404").Inc()
		writeJSON(w, http.StatusNotFound, errorBody{Error: "Cannot " + r.Method + " " + html.EscapeString(r.URL.Path)})
		return
	}
	s.mux.ServeHTTP(w, r)
}

// publicPath is Arc's list of paths its authentication skips (exact
// paths after cleaning, and two prefixes).
func publicPath(p string) bool {
	p = path.Clean(p)
	switch p {
	case "/health", "/ready", "/api/v1/auth/verify", "/api/v1/internal/cache/invalidate":
		return true
	}
	for _, prefix := range []string{"/metrics", "/api/v1/metrics"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}

type errorBody struct {
	Error string `json:"error"`
}

type authErrorBody struct {
	Error   string `json:"error"`
	Success bool   `json:"success"`
}

// tokenFrom returns the request's token from the places Arc accepts, in
// Arc's order.
func tokenFrom(r *http.Request) string {
	if a := r.Header.Get("Authorization"); a != "" {
		switch {
		case strings.HasPrefix(a, "Bearer "):
			return strings.TrimSpace(a[len("Bearer "):])
		case strings.HasPrefix(a, "Token "):
			return strings.TrimSpace(a[len("Token "):])
		default:
			return strings.TrimSpace(a)
		}
	}
	if k := r.Header.Get("x-api-key"); k != "" {
		return k
	}
	return r.URL.Query().Get("p")
}

// anyToken is a route any valid token may use (Arc puts no permission
// on it, only its global authentication).
const anyToken = auth.Permission("token")

// authorize checks the route's permission and records the caller in the
// request's context, where the engines' guard reads what it may see.
func (s *Server) authorize(perm auth.Permission, next http.HandlerFunc) http.HandlerFunc {
	if perm == "" {
		return next
	}
	if s.tokens == nil {
		// auth.enabled = false: anyone who reaches the API may do
		// anything, as the configuration says.
		return func(w http.ResponseWriter, r *http.Request) {
			next(w, r.WithContext(auth.WithCaller(r.Context(), auth.Caller{Admin: true})))
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		tok := tokenFrom(r)
		if tok == "" {
			writeJSON(w, http.StatusUnauthorized, authErrorBody{Error: "Authentication required"})
			return
		}
		t, ok := s.tokens.Verify(tok)
		if !ok {
			writeJSON(w, http.StatusUnauthorized, authErrorBody{Error: "Invalid or expired token"})
			return
		}
		if perm != anyToken && !t.Has(perm) {
			writeJSON(w, http.StatusForbidden, authErrorBody{Error: "Permission denied: " + string(perm) + " required"})
			return
		}
		next(w, r.WithContext(auth.WithCaller(r.Context(), auth.CallerOf(t))))
	}
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	up := s.opts.now().Sub(s.started)
	// Keys in Arc's (alphabetical) order.
	writeJSON(w, http.StatusOK, map[string]any{
		"status":     "ok",
		"storage":    map[string]storageTier{"hot": s.storageTier()},
		"time":       s.opts.now().UTC().Format(time.RFC3339),
		"uptime":     up.String(),
		"uptime_sec": up.Seconds(),
	})
}

// storageTier is Arc's per-tier storage status (field order as Arc's).
type storageTier struct {
	Backend     string `json:"backend"`
	Credentials string `json:"credentials"`
	State       string `json:"state"`
}

// storageTier describes where the data lives: the embedded store is
// Arc's "local"; a remote backend is named by its kind. /health is
// liveness, so it reports configuration, not a probe (/ready probes).
func (s *Server) storageTier() storageTier {
	name := s.backend.Name()
	if name == "duckdb" {
		name = "local"
	}
	return storageTier{Backend: name, Credentials: "none", State: "ok"}
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	now := s.opts.now()
	if !s.ready.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{
			"status": "not_ready",
			"time":   now.UTC().Format(time.RFC3339),
			"reason": "server is starting up or shutting down; load balancer should not route traffic here",
		})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.backend.Ready(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{
			"status": "not_ready",
			"time":   now.UTC().Format(time.RFC3339),
			"reason": "backend unavailable: " + err.Error(),
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status":     "ready",
		"time":       now.UTC().Format(time.RFC3339),
		"uptime_sec": now.Sub(s.started).Seconds(),
	})
}

// writeJSON renders a small fixed body. Maps encode with sorted keys, which
// is the order Arc's JSON maps come out in.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// writeError renders a typed error as Arc's {"error": …} body.
func writeError(w http.ResponseWriter, err error) {
	e := errs.As(err)
	writeJSON(w, e.Code.HTTPStatus(), errorBody{Error: e.Msg})
}
