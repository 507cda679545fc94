package memtrace

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics carry the names the seed's Grafana dashboard queries.
type metrics struct {
	writes     prometheus.Counter
	queries    *prometheus.CounterVec
	bufferSize prometheus.Gauge
	arcLatency *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		writes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "memtrace_writes_total", Help: "Memories committed to the backend.",
		}),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "memtrace_queries_total", Help: "Queries memtrace sent to the backend, by kind.",
		}, []string{"kind"}),
		// memtrace's buffer held rows not yet flushed to Arc; tsgate has
		// no such buffer, so this is the rows being committed right now
		// (what a client is waiting on), the closest honest equivalent.
		bufferSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "memtrace_buffer_size", Help: "Memories accepted and being committed (tsgate holds no unflushed buffer).",
		}),
		arcLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "memtrace_arc_latency_seconds", Help: "Backend latency of memtrace's reads and writes, whatever the backend.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"op"}),
	}
	reg.MustRegister(m.writes, m.queries, m.bufferSize, m.arcLatency)
	return m
}
