package arc

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"tsgate/errs"
)

type metrics struct {
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	queryLatency *prometheus.HistogramVec
	writeLatency *prometheus.HistogramVec
	rowsWritten  prometheus.Counter
	rowsRejected prometheus.Counter
	errors       *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, backend string) *metrics {
	constLabels := prometheus.Labels{"backend": backend}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tsgate_http_requests_total", Help: "Arc API requests by route and status.",
		}, []string{"endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tsgate_http_request_duration_seconds", Help: "Arc API request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"endpoint"}),
		queryLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tsgate_query_duration_seconds", Help: "Query latency, backend execution and result encoding.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10), ConstLabels: constLabels,
		}, []string{"endpoint"}),
		writeLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tsgate_write_duration_seconds", Help: "Write latency, decoding and durable commit.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10), ConstLabels: constLabels,
		}, []string{"endpoint"}),
		rowsWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tsgate_rows_written_total", Help: "Rows committed to the backend.", ConstLabels: constLabels,
		}),
		rowsRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tsgate_rows_rejected_total", Help: "Input rows rejected (malformed, type conflicts).", ConstLabels: constLabels,
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tsgate_errors_total", Help: "Errors answered, by tsgate error code.",
		}, []string{"code"}),
	}
	reg.MustRegister(m.requests, m.latency, m.queryLatency, m.writeLatency, m.rowsWritten, m.rowsRejected, m.errors)
	for _, c := range errs.Codes() {
		m.errors.WithLabelValues(c.String())
	}
	return m
}

func (s *Server) metricsHandler() http.HandlerFunc {
	h := promhttp.HandlerFor(s.opts.gatherer, promhttp.HandlerOpts{})
	return h.ServeHTTP
}

// statusWriter remembers the status for the request counter.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) instrument(pattern string, next http.HandlerFunc) http.Handler {
	// The label is the route pattern, never the raw path: bounded
	// cardinality whatever clients send.
	lat := s.metrics.latency.WithLabelValues(pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		lat.Observe(time.Since(start).Seconds())
		s.metrics.requests.WithLabelValues(pattern, strconv.Itoa(sw.status)).Inc()
	})
}

// countError records an error answered to a client.
func (s *Server) countError(err error) {
	s.metrics.errors.WithLabelValues(errs.CodeOf(err).String()).Inc()
}
