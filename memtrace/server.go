package memtrace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"tsgate/errs"
	"tsgate/internal/apiopts"
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
	resolver     Resolver
	onlyBound    bool
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
	table   []route

	// lastMicros makes memory times strictly increasing in this process,
	// so a batch's memories keep their order and pages never tie.
	lastMicros atomic.Int64
	// writeSlots admits create requests (backpressure).
	writeSlots chan struct{}
	storesMu   sync.Mutex
	stores     map[string]*orgStore
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
	o.log, o.registerer, o.gatherer = apiopts.Defaults(o.log, o.registerer, o.gatherer)
	if o.maxInflight <= 0 {
		o.maxInflight = 64
	}
	s := &Server{backend: backend, meta: meta, keys: newKeyCache(o.now), o: o, started: o.now(),
		writeSlots: make(chan struct{}, o.maxInflight), stores: map[string]*orgStore{}}
	s.m = newMetrics(o.registerer)
	s.routes()
	return s
}

// Handler is the API's root handler.
func (s *Server) Handler() http.Handler { return s }

type handler func(w http.ResponseWriter, r *http.Request, k *KeyInfo)

// route is one entry of memtrace's route table. segs are the pattern's
// lower-case segments, ":" standing for a parameter; perm is the
// permission the route needs (routes outside /api/v1 need none).
type route struct {
	method string
	segs   []string
	perm   string
	h      handler
	plain  http.HandlerFunc
}

// methodOrder is the order memtrace's framework lists methods in an
// Allow header.
var methodOrder = [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

func (s *Server) routes() {
	rd, wr := PermRead, PermWrite
	add := func(method, pattern, perm string, h handler, plain http.HandlerFunc) {
		s.table = append(s.table, route{method: method, segs: strings.Split(pattern, "/"), perm: perm, h: h, plain: plain})
	}
	api := func(method, pattern, perm string, h handler) { add(method, pattern, perm, h, nil) }
	add("GET", "/health", "", nil, s.health)
	add("GET", "/ready", "", nil, s.ready)
	add("GET", "/metrics", "", nil, promhttp.HandlerFor(s.o.gatherer, promhttp.HandlerOpts{}).ServeHTTP)
	api("POST", "/api/v1/memories", wr, s.createMemory)
	api("GET", "/api/v1/memories", rd, s.listMemories)
	api("GET", "/api/v1/memories/:", rd, s.getMemory)
	api("POST", "/api/v1/search", rd, s.search)
	api("POST", "/api/v1/agents", wr, s.createAgent)
	api("GET", "/api/v1/agents", rd, s.listAgents)
	api("GET", "/api/v1/agents/:", rd, s.getAgent)
	api("GET", "/api/v1/agents/:/memories", rd, s.agentMemories)
	api("GET", "/api/v1/agents/:/stats", rd, s.agentStats)
	api("DELETE", "/api/v1/agents/:", wr, s.deleteAgent)
	api("POST", "/api/v1/sessions", wr, s.createSession)
	api("GET", "/api/v1/sessions", rd, s.listSessions)
	api("GET", "/api/v1/sessions/:", rd, s.getSession)
	api("PUT", "/api/v1/sessions/:", wr, s.updateSession)
	api("GET", "/api/v1/sessions/:/memories", rd, s.sessionMemories)
	// Context is a POST that only reads.
	api("POST", "/api/v1/sessions/:/context", rd, s.sessionContext)
}

// match reports whether rt's pattern matches the request path's segments
// (detection: lower-cased; raw: as sent) and returns the parameter, raw.
func (rt *route) match(detection, raw []string) (string, bool) {
	if len(detection) != len(rt.segs) {
		return "", false
	}
	param := ""
	for i, seg := range rt.segs {
		if seg == ":" {
			if detection[i] == "" {
				return "", false
			}
			param = raw[i]
			continue
		}
		if detection[i] != seg {
			return "", false
		}
	}
	return param, true
}

// methodMatches: every GET route also answers HEAD, as in memtrace.
func (rt *route) methodMatches(m string) bool {
	return rt.method == m || (m == "HEAD" && rt.method == "GET")
}

// ServeHTTP routes a request the way memtrace's HTTP framework (Fiber)
// does, in its order: body limit, method check, CORS, the /api/v1 key
// check (a prefix middleware, so it answers before routing), then the
// routes. Matching ignores case and trailing slashes; parameters keep
// their case and their percent-encoding; "//" and dot segments are not
// cleaned, so they match nothing.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.o.log.Error("memtrace handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v)
			writeText(w, http.StatusInternalServerError, fmt.Sprint(v))
		}
	}()
	if r.ContentLength > s.o.maxBody {
		tooLarge(w)
		return
	}
	if !slices.Contains(methodOrder[:], r.Method) {
		writeText(w, http.StatusBadRequest, "Invalid http method")
		return
	}
	if !s.cors(w, r) {
		return
	}
	raw := rawPath(r)
	detection := strings.ToLower(raw)
	if len(detection) > 1 {
		detection = strings.TrimRight(detection, "/")
		if detection == "" {
			detection = "/"
		}
	}
	var key *KeyInfo
	if strings.HasPrefix(detection, "/api/v1") {
		var ok bool
		if key, ok = s.authenticate(w, r); !ok {
			return
		}
	}
	dsegs := strings.Split(detection, "/")
	rsegs := strings.Split(raw, "/")[:len(dsegs)]
	for i := range s.table {
		rt := &s.table[i]
		if !rt.methodMatches(r.Method) {
			continue
		}
		param, ok := rt.match(dsegs, rsegs)
		if !ok {
			continue
		}
		if rt.plain != nil {
			rt.plain(w, r)
			return
		}
		if !key.Has(rt.perm) {
			writeJSON(w, http.StatusForbidden, errorBody{"permission denied"})
			return
		}
		r.SetPathValue("id", param)
		rt.h(w, r, key)
		return
	}
	var allow []string
	for _, m := range methodOrder {
		if m == r.Method {
			continue
		}
		for i := range s.table {
			if _, ok := s.table[i].match(dsegs, rsegs); ok && s.table[i].methodMatches(m) {
				allow = append(allow, m)
				break
			}
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeText(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	writeText(w, http.StatusNotFound, "Cannot "+r.Method+" "+html.EscapeString(raw))
}

// rawPath is the request's path as sent, without the query.
func rawPath(r *http.Request) string {
	p := r.RequestURI
	if !strings.HasPrefix(p, "/") {
		// Absolute or authority form (proxies, CONNECT): the parsed path.
		p = r.URL.EscapedPath()
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

// corsMethods is what memtrace's CORS middleware (Fiber's defaults)
// allows in a preflight.
const corsMethods = "GET,POST,HEAD,PUT,DELETE,PATCH"

// cors is memtrace's CORS middleware with Fiber's default configuration:
// any origin, no credentials, request headers echoed, no max age. It
// reports false when it answered the request (a preflight).
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Origin") == "" {
		return true
	}
	h := w.Header()
	if r.Method != http.MethodOptions {
		h.Set("Access-Control-Allow-Origin", "*")
		return true
	}
	if r.Header.Get("Access-Control-Request-Method") == "" {
		h.Add("Vary", "Origin")
		return true
	}
	h.Set("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers, Origin")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", corsMethods)
	if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
		h.Set("Access-Control-Allow-Headers", rh)
	}
	w.WriteHeader(http.StatusNoContent)
	return false
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

// anonymous is the caller when authentication is off: org_default with
// every permission.
func anonymous() *KeyInfo {
	return &KeyInfo{Name: "anonymous", OrgID: "org_default", Permissions: []string{PermAdmin}, Enabled: true}
}

// authenticate is memtrace's key middleware; it answers 401 itself.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*KeyInfo, bool) {
	if !s.o.auth {
		return anonymous(), true
	}
	key := apiKey(r)
	if key == "" {
		writeJSON(w, http.StatusUnauthorized, errorBody{"missing API key"})
		return nil, false
	}
	k, err := s.keys.Verify(r.Context(), s.meta, key)
	if err != nil {
		s.fail(w, r, err, false)
		return nil, false
	}
	if k == nil {
		writeJSON(w, http.StatusUnauthorized, errorBody{"invalid API key"})
		return nil, false
	}
	return k, true
}

// writeText is how memtrace's framework answers its own errors.
func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(msg)))
	w.WriteHeader(status)
	io.WriteString(w, msg)
}

// tooLarge is memtrace's answer to a body over the limit, which its HTTP
// server sends before any middleware runs (so without CORS headers) and
// then closes the connection.
func tooLarge(w http.ResponseWriter) {
	h := w.Header()
	for _, k := range []string{"Access-Control-Allow-Origin", "Vary"} {
		h.Del(k)
	}
	h.Set("Connection", "close")
	writeText(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
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
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// ErrNoInstance marks the error of an organization that has no backend
// of its own where the server requires one (memtrace: no Arc instance).
var ErrNoInstance = errors.New("organization has no backend configured")

// noInstance is memtrace's error for it; its text is what the SDKs look
// for ("arc instance"), so no other error may say that.
func noInstance(org string) error {
	return &errs.Error{Code: errs.Unavailable, Msg: "no arc instance configured for this org", Err: fmt.Errorf("%w: %s", ErrNoInstance, org)}
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
		tooLarge(w)
		return
	case errs.Unavailable:
		status = http.StatusServiceUnavailable
	case errs.Timeout:
		status = http.StatusGatewayTimeout
	}
	if errors.Is(err, ErrNoInstance) {
		// memtrace's body: a map, so its keys come out sorted.
		writeJSON(w, status, map[string]string{"error": e.Msg, "hint": "ask an admin to run `memtrace org add-arc <org_id>`"})
		return
	}
	if status >= 500 {
		s.o.log.Warn("memtrace request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeJSON(w, status, errorBody{e.Msg})
}

// reply answers v with status, or err as fail renders it (readQuirk as
// for fail): the ending every handler shares.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, err error, readQuirk bool, status int, v any) {
	if err != nil {
		s.fail(w, r, err, readQuirk)
		return
	}
	writeJSON(w, status, v)
}

// replyFound is reply for a read by id: a nil v, which the metadata store
// returns for an unknown id, is 404 with notFound as its error.
func replyFound[T any](s *Server, w http.ResponseWriter, r *http.Request, v *T, err error, notFound string) {
	if err == nil && v == nil {
		writeJSON(w, http.StatusNotFound, errorBody{notFound})
		return
	}
	s.reply(w, r, err, true, http.StatusOK, v)
}

// serveBody serves a request with a JSON body: the body read and decoded
// into a Req (a body too large, late or malformed is answered 4xx), then
// what do makes of it answered as reply does. Req's Go name shows in JSON
// errors, so handlers declare it under memtrace's name.
func serveBody[Req, Resp any](s *Server, w http.ResponseWriter, r *http.Request, status int, readQuirk bool, do func(*Req) (Resp, error)) {
	var req Req
	body, err := s.readBody(r)
	if err == nil {
		err = decodeBody(r, body, &req)
	}
	if err != nil {
		s.fail(w, r, err, false)
		return
	}
	v, err := do(&req)
	s.reply(w, r, err, readQuirk, status, v)
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

// bodyDecoder is the decoder memtrace's framework picks for a request's
// Content-Type (Fiber's BodyParser).
type bodyDecoder int

const (
	decodeNone bodyDecoder = iota // no usable type: "Unprocessable Entity"
	decodeJSON                    // a type ending in "json"
	decodeForm                    // form bodies: memtrace's structs have no form names, so nothing is set
)

func decoderFor(contentType string) bodyDecoder {
	ct := strings.ToLower(contentType)
	// application/vnd.api+json; charset=utf-8 → application/json
	if plus := strings.IndexByte(ct, '+'); plus >= 0 {
		semi := strings.IndexByte(ct, ';')
		slash := strings.IndexByte(ct, '/')
		switch {
		case semi >= 0 && semi < plus:
			ct = ct[:semi]
		case slash >= 0:
			end := len(ct)
			if semi >= 0 {
				end = semi
			}
			ct = ct[:slash+1] + ct[plus+1:end]
		}
	}
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	switch {
	case strings.HasSuffix(ct, "json"):
		return decodeJSON
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"), strings.HasPrefix(ct, "multipart/form-data"):
		return decodeForm
	}
	return decodeNone
}

// decodeBody decodes body into v as memtrace does: JSON only under a JSON
// Content-Type; a form body leaves v as it is; no or another type is
// refused. Numbers in free-form maps become float64, as in memtrace.
func decodeBody(r *http.Request, body []byte, v any) error {
	switch decoderFor(r.Header.Get("Content-Type")) {
	case decodeJSON:
		if err := json.Unmarshal(body, v); err != nil {
			return badBody(err)
		}
		return nil
	case decodeForm:
		return nil
	}
	return errs.New(errs.Invalid, "invalid request body: Unprocessable Entity")
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

// backendHealth is memtrace's per-org Arc map: each organization's
// backend state. Organizations without a backend of their own are left
// out where one is required (memtrace lists only orgs with an instance).
func (s *Server) backendHealth(ctx context.Context) map[string]bool {
	out := map[string]bool{}
	orgs, err := s.meta.Orgs(ctx)
	if err != nil {
		return out
	}
	ready := map[string]bool{}
	for _, o := range orgs {
		st, err := s.store(ctx, o.ID)
		if err != nil {
			if !s.o.onlyBound {
				out[o.ID] = false
			}
			continue
		}
		ok, seen := ready[st.t.ID]
		if !seen {
			ok = st.t.Backend.Ready(ctx) == nil
			ready[st.t.ID] = ok
		}
		out[o.ID] = ok
	}
	return out
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	h := s.backendHealth(r.Context())
	if len(h) == 0 && s.o.onlyBound {
		// memtrace's answer when no organization has an Arc instance.
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "reason": "no_instances",
			"hint": "configure an Arc instance with `memtrace org add-arc`"})
		return
	}
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

// query runs one Arc SQL read on st's target and records it.
func (s *Server) query(ctx context.Context, st *orgStore, kind, sql string) (model.Rows, error) {
	s.m.queries.WithLabelValues(kind).Inc()
	start := time.Now()
	rows, err := st.t.Backend.Query(ctx, st.t.Database, sql)
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

func (s *Server) coarseTime(st *orgStore) bool {
	tp, ok := st.t.Backend.(TimePrecisioner)
	return ok && tp.TimePrecision() > time.Microsecond
}

// ColumnChecker is implemented by a Backend that can tell whether a
// measurement has a column.
type ColumnChecker interface {
	HasColumn(db, measurement, column string) bool
}

// exactTimeColumn reports whether st's events carry exactTimeField: the
// backend keeps less than µs and the measurement has the column
// (memories copied in by `tsgate migrate`, or written before, do not).
func (s *Server) exactTimeColumn(st *orgStore) bool {
	cc, ok := st.t.Backend.(ColumnChecker)
	return s.coarseTime(st) && ok && cc.HasColumn(st.t.Database, s.o.measurement, exactTimeField)
}

// orderByTime is the ORDER BY of memtrace's time-ordered reads, with the
// exact time as tiebreaker where there is one.
func (s *Server) orderByTime(st *orgStore, dir string) string {
	if s.exactTimeColumn(st) {
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
func (s *Server) queryList(ctx context.Context, st *orgStore, kind string, q *listQuery) (model.Rows, error) {
	q.orderBy = func(dir string) string { return s.orderByTime(st, dir) }
	if nb, ok := st.t.Backend.(NativeArcSQL); ok && nb.NativeArcSQL() {
		sql, err := q.sql(s.o.measurement, true)
		if err != nil {
			return nil, err
		}
		rows, err := s.query(ctx, st, kind, sql)
		if errs.CodeOf(err) != errs.Unsupported {
			return rows, err
		}
	}
	sql, err := q.sql(s.o.measurement, false)
	if err != nil {
		return nil, err
	}
	return s.query(ctx, st, kind, sql)
}

// count runs a `SELECT COUNT(*) as cnt` query; no row reads as zero.
func (s *Server) count(ctx context.Context, st *orgStore, kind, sql string) (int, error) {
	rows, err := s.query(ctx, st, kind, sql)
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
