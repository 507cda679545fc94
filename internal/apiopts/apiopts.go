package apiopts

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults returns log, reg and g with the unset ones filled: a nil log
// becomes a logger that discards, and a nil reg becomes a new registry
// that is both the registerer and the gatherer (g is then ignored, as
// it would gather metrics registered elsewhere).
func Defaults(log *slog.Logger, reg prometheus.Registerer, g prometheus.Gatherer) (*slog.Logger, prometheus.Registerer, prometheus.Gatherer) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		r := prometheus.NewRegistry()
		reg, g = r, r
	}
	return log, reg, g
}
