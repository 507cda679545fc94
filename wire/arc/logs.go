package arc

import (
	"net/http"
	"strconv"
	"time"

	"tsgate/internal/logring"
)

// WithLogs serves GET /api/v1/logs from ring, which the gateway's logger
// feeds; without it the route is not there (404).
func WithLogs(ring *logring.Ring) Option { return func(o *options) { o.logs = ring } }

// logEntry is Arc's logger.LogEntry as it marshals. tsgate records no
// caller, which Arc omits when empty.
type logEntry struct {
	Timestamp time.Time `json:"timestamp"`
	Level     string    `json:"level"`
	Component string    `json:"component,omitempty"`
	Message   string    `json:"message"`
}

// logs is Arc's logsHandler (admin only): limit 1..1000 (else 100),
// level a minimum, since_minutes 1..1440 (else 60), newest first.
func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := intParamIn(q.Get("limit"), 1000, 100)
	level := q.Get("level")
	since := intParamIn(q.Get("since_minutes"), 1440, 60)
	entries := s.opts.logs.Recent(limit, level, time.Duration(since)*time.Minute)
	// Arc answers null for no entries; an empty list is the same to
	// every client that reads it as a list (arcli normalises null to []).
	out := make([]logEntry, len(entries))
	for i, e := range entries {
		// Arc's entries carry zerolog's time, RFC 3339 to the second,
		// read back in UTC.
		out[i] = logEntry{Timestamp: e.Time.UTC().Truncate(time.Second), Level: e.Level, Component: e.Component, Message: e.Message}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"timestamp":     s.opts.now().UTC().Format(time.RFC3339),
		"count":         len(out),
		"limit":         limit,
		"level_filter":  level,
		"since_minutes": since,
		"logs":          out,
	})
}

// intParamIn is Arc's reading of a bounded integer parameter: the value
// when it parses and is in 1..most, else def.
func intParamIn(s string, most, def int) int {
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n <= most {
		return n
	}
	return def
}
