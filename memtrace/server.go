package memtrace

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"tsgate/errs"
	"tsgate/model"
)

// Backend is what the memtrace API needs from the gateway: Arc SQL reads
// through the translation pipeline and the ordinary write path.
type Backend interface {
	// Query runs Arc SQL with bare names resolving in db. A measurement
	// that does not exist yet must read as an empty result, as on Arc.
	Query(ctx context.Context, db, sql string) (model.Rows, error)
	// Write commits a batch durably before returning.
	Write(ctx context.Context, db string, b *model.Batch) (model.WriteResult, error)
	// Ready reports whether the backend can serve.
	Ready(ctx context.Context) error
}

type options struct {
	log          *slog.Logger
	database     string
	measurement  string
	dedup        bool
	dedupHours   int
	auth         bool
	maxBody      int64
	registerer   prometheus.Registerer
	gatherer     prometheus.Gatherer
	cache        ContextCache
	maxInflight  int
	writeWait    time.Duration
	writeRetries int
	now          func() time.Time
}

// Option configures a Server.
type Option func(*options)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithDatabase is the database memories live in (memtrace: "memory").
func WithDatabase(db string) Option { return func(o *options) { o.database = db } }

// WithMeasurement is the measurement memories are rows of (memtrace:
// "events"). Unlike memtrace, reads honour it too.
func WithMeasurement(m string) Option { return func(o *options) { o.measurement = m } }

// WithDedup turns content dedup on or off and sets its window.
func WithDedup(enabled bool, windowHours int) Option {
	return func(o *options) { o.dedup, o.dedupHours = enabled, windowHours }
}

// WithoutAuth serves every request as org_default with every permission.
func WithoutAuth() Option { return func(o *options) { o.auth = false } }

// WithMaxBody caps request bodies (default 4 MiB, memtrace's limit).
func WithMaxBody(n int64) Option { return func(o *options) { o.maxBody = n } }

// WithMetrics registers the memtrace_* metrics on reg and serves g on
// /metrics.
func WithMetrics(reg prometheus.Registerer, g prometheus.Gatherer) Option {
	return func(o *options) { o.registerer, o.gatherer = reg, g }
}

// WithContextCache caches session contexts.
func WithContextCache(c ContextCache) Option { return func(o *options) { o.cache = c } }

// WithWriteLimit bounds concurrent memory writes: past n, a write waits at
// most wait for a slot, then is answered 503 — backpressure instead of an
// unbounded (or, in memtrace, lossy) queue.
func WithWriteLimit(n int, wait time.Duration) Option {
	return func(o *options) { o.maxInflight, o.writeWait = n, wait }
}

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Server is the memtrace HTTP API.
type Server struct {
	backend Backend
	meta    *Meta
	keys    *keyCache
	o       options
	m       *metrics
	started time.Time
	mux     *http.ServeMux

	// lastMicros makes memory times strictly increasing in this process,
	// so a batch's memories keep their order and pages never tie.
	lastMicros atomic.Int64
	// stripes serialize dedup check-then-write per dedup key hash, so two
	// concurrent copies of one memory cannot both pass the check.
	stripes    [256]sync.Mutex
	writeSlots chan struct{}
}

// New builds the API over backend with metadata in meta.
func New(backend Backend, meta *Meta, opts ...Option) *Server {
	o := options{
		database: "memory", measurement: "events", dedup: true, dedupHours: 24, auth: true,
		maxBody: 4 << 20, maxInflight: 64, writeWait: 5 * time.Second, writeRetries: 3, now: time.Now,
	}
	for _, fn := range opts {
		fn(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if o.registerer == nil {
		r := prometheus.NewRegistry()
		o.registerer, o.gatherer = r, r
	}
	if o.maxInflight <= 0 {
		o.maxInflight = 64
	}
	s := &Server{backend: backend, meta: meta, keys: newKeyCache(o.now), o: o, started: o.now(),
		writeSlots: make(chan struct{}, o.maxInflight)}
	s.m = newMetrics(o.registerer)
	s.routes()
	return s
}

// Handler is the API's root handler.
func (s *Server) Handler() http.Handler { return s }

type handler func(w http.ResponseWriter, r *http.Request, k *KeyInfo)

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /health", s.health)
	m.HandleFunc("GET /ready", s.ready)
	m.Handle("GET /metrics", promhttp.HandlerFor(s.o.gatherer, promhttp.HandlerOpts{}))
	rd, wr := PermRead, PermWrite
	route := func(pattern, perm string, h handler) { m.Handle(pattern, s.authorize(perm, h)) }
	route("POST /api/v1/memories", wr, s.createMemory)
	route("GET /api/v1/memories", rd, s.listMemories)
	route("GET /api/v1/memories/{id}", rd, s.getMemory)
	route("POST /api/v1/search", rd, s.search)
	route("POST /api/v1/agents", wr, s.createAgent)
	route("GET /api/v1/agents", rd, s.listAgents)
	route("GET /api/v1/agents/{id}", rd, s.getAgent)
	route("GET /api/v1/agents/{id}/memories", rd, s.agentMemories)
	route("GET /api/v1/agents/{id}/stats", rd, s.agentStats)
	route("DELETE /api/v1/agents/{id}", wr, s.deleteAgent)
	route("POST /api/v1/sessions", wr, s.createSession)
	route("GET /api/v1/sessions", rd, s.listSessions)
	route("GET /api/v1/sessions/{id}", rd, s.getSession)
	route("PUT /api/v1/sessions/{id}", wr, s.updateSession)
	route("GET /api/v1/sessions/{id}/memories", rd, s.sessionMemories)
	// Context is a POST that only reads.
	route("POST /api/v1/sessions/{id}/context", rd, s.sessionContext)
	s.mux = m
}

// ServeHTTP answers unknown routes the way memtrace's HTTP framework does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "Cannot "+r.Method+" "+r.URL.Path)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// apiKey is where memtrace looks: x-api-key, else Authorization with an
// optional "Bearer " prefix.
func apiKey(r *http.Request) string {
	if k := r.Header.Get("x-api-key"); k != "" {
		return k
	}
	k := r.Header.Get("Authorization")
	if len(k) > 7 && k[:7] == "Bearer " {
		k = k[7:]
	}
	return k
}

func (s *Server) authorize(perm string, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.o.auth {
			h(w, r, &KeyInfo{Name: "anonymous", OrgID: "org_default", Permissions: []string{PermAdmin}, Enabled: true})
			return
		}
		key := apiKey(r)
		if key == "" {
			writeJSON(w, http.StatusUnauthorized, errorBody{"missing API key"})
			return
		}
		k, err := s.keys.Verify(r.Context(), s.meta, key)
		if err != nil {
			s.fail(w, r, err, false)
			return
		}
		if k == nil {
			writeJSON(w, http.StatusUnauthorized, errorBody{"invalid API key"})
			return
		}
		if !k.Has(perm) {
			writeJSON(w, http.StatusForbidden, errorBody{"permission denied"})
			return
		}
		h(w, r, k)
	})
}

type errorBody struct {
	Error string `json:"error"`
}

// writeJSON encodes like memtrace's framework: encoding/json with HTML
// escaping, no trailing newline.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"failed to encode response"}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// fail renders err. memtrace answers its read paths' validation errors
// with 500 (its generic error path); clients tolerate it, so readQuirk
// keeps it. Everything else gets the status its code means.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error, readQuirk bool) {
	e := errs.As(err)
	status := http.StatusInternalServerError
	switch e.Code {
	case errs.Invalid:
		if !readQuirk {
			status = http.StatusBadRequest
		}
	case errs.Conflict:
		status = http.StatusConflict
	case errs.NotFound:
		status = http.StatusNotFound
	case errs.PermissionDenied:
		status = http.StatusForbidden
	case errs.TooLarge:
		status = http.StatusRequestEntityTooLarge
	case errs.Unavailable:
		status = http.StatusServiceUnavailable
	case errs.Timeout:
		status = http.StatusGatewayTimeout
	}
	if status >= 500 {
		s.o.log.Warn("memtrace request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeJSON(w, status, errorBody{e.Msg})
}

// readBody reads a request body up to the configured cap.
func (s *Server) readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, s.o.maxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errs.Newf(errs.TooLarge, "request body too large (limit %d bytes)", s.o.maxBody)
	}
	if errs.IsDeadline(err) {
		return nil, errs.Wrap(errs.RequestTimeout, err, "request body not received in time")
	}
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "invalid request body: "+err.Error())
	}
	return b, nil
}

func badBody(err error) error {
	return errs.Wrap(errs.Invalid, err, "invalid request body: "+err.Error())
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"status":  "ok",
		"service": "memtrace",
		"uptime":  s.o.now().Sub(s.started).String(),
		"arc":     s.backendHealth(r.Context()),
	})
}

// backendHealth is memtrace's per-org Arc map. Every org here shares the
// gateway's backend, so each shows that backend's state.
func (s *Server) backendHealth(ctx context.Context) map[string]bool {
	ok := s.backend.Ready(ctx) == nil
	out := map[string]bool{}
	orgs, err := s.meta.Orgs(ctx)
	if err != nil {
		return out
	}
	for _, o := range orgs {
		out[o.ID] = ok
	}
	return out
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	h := s.backendHealth(r.Context())
	ok := len(h) > 0 && s.meta.Ping(r.Context()) == nil
	for _, v := range h {
		ok = ok && v
	}
	if !ok {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "arc": h})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "arc": h})
}

// query runs one Arc SQL read and records it.
func (s *Server) query(ctx context.Context, kind, sql string) (model.Rows, error) {
	s.m.queries.WithLabelValues(kind).Inc()
	start := time.Now()
	rows, err := s.backend.Query(ctx, s.o.database, sql)
	s.m.arcLatency.WithLabelValues("query").Observe(time.Since(start).Seconds())
	return rows, err
}

// TimePrecisioner is implemented by a Backend that can tell how finely it
// stores time. Where it is coarser than µs (ClickHouse 18.16 keeps whole
// seconds), memories also carry their exact time (exactTimeField), which
// orders those made within one second and gives their time back.
type TimePrecisioner interface {
	TimePrecision() time.Duration
}

func (s *Server) coarseTime() bool {
	tp, ok := s.backend.(TimePrecisioner)
	return ok && tp.TimePrecision() > time.Microsecond
}

// ColumnChecker is implemented by a Backend that can tell whether a
// measurement has a column.
type ColumnChecker interface {
	HasColumn(db, measurement, column string) bool
}

// orderByTime is the ORDER BY of memtrace's time-ordered reads, with the
// exact time as tiebreaker where the backend keeps less than µs and the
// events measurement has it (memories copied in by `tsgate migrate`, or
// written before, do not).
func (s *Server) orderByTime(dir string) string {
	cc, ok := s.backend.(ColumnChecker)
	if s.coarseTime() && ok && cc.HasColumn(s.o.database, s.o.measurement, exactTimeField) {
		return " ORDER BY time " + dir + ", " + exactTimeField + " " + dir
	}
	return " ORDER BY time " + dir
}

// NativeArcSQL is implemented by a Backend that can tell whether it runs
// Arc's DuckDB SQL as written (tsgate's embedded store) instead of
// translating it for another engine. Such a backend gets list and search
// queries in the form DuckDB runs fastest (see newestBound).
type NativeArcSQL interface {
	NativeArcSQL() bool
}

// queryList runs a list or search query: narrowed where the backend runs
// Arc SQL natively, plain otherwise. A refusal of the narrowed form (the
// backend was switched to a translating one in between) is retried plain.
func (s *Server) queryList(ctx context.Context, kind string, q *listQuery) (model.Rows, error) {
	q.orderBy = s.orderByTime
	if nb, ok := s.backend.(NativeArcSQL); ok && nb.NativeArcSQL() {
		sql, err := q.sql(s.o.measurement, true)
		if err != nil {
			return nil, err
		}
		rows, err := s.query(ctx, kind, sql)
		if errs.CodeOf(err) != errs.Unsupported {
			return rows, err
		}
	}
	sql, err := q.sql(s.o.measurement, false)
	if err != nil {
		return nil, err
	}
	return s.query(ctx, kind, sql)
}

// count runs a `SELECT COUNT(*) as cnt` query; no row reads as zero.
func (s *Server) count(ctx context.Context, kind, sql string) (int, error) {
	rows, err := s.query(ctx, kind, sql)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	vals := make([]model.Value, len(rows.Columns()))
	n := 0
	if len(vals) > 0 && rows.Next(vals) {
		n = valueInt(vals[0])
	}
	return n, rows.Err()
}

// sortedKeys is for deterministic iteration in tests and logs.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
