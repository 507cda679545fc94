package logring

import (
	"context"
	"log/slog"
)

// ComponentKey is the attribute that names where a record comes from:
// tsgate's loggers carry it per front end (arc, pgwire, memtrace), where
// Arc's carry "component". Its value becomes the entry's component.
const ComponentKey = "frontend"

// Handler passes every record to the handler it wraps and keeps the time,
// level, component and message of each in a Ring. Enabled is the wrapped
// handler's, so the ring holds what the configured level lets through.
// Handlers derived with WithAttrs and WithGroup feed the same ring.
type Handler struct {
	next      slog.Handler
	ring      *Ring
	component string
	// grouped: a group is open, so later attributes are nested and none
	// of them is the top-level ComponentKey.
	grouped bool
}

// NewHandler wraps next, adding every record it handles to ring.
func NewHandler(next slog.Handler, ring *Ring) *Handler {
	return &Handler{next: next, ring: ring}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	comp := h.component
	if !h.grouped {
		r.Attrs(func(a slog.Attr) bool {
			if c, ok := component(a); ok {
				comp = c
			}
			return true
		})
	}
	// Only these four fields: see the package comment.
	h.ring.Add(Entry{Time: r.Time, Level: levelName(r.Level), Component: comp, Message: r.Message})
	return h.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	if !h.grouped {
		for _, a := range attrs {
			if v, ok := component(a); ok {
				c.component = v
			}
		}
	}
	return &c
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		// slog: an empty group name leaves the handler as it is.
		return h
	}
	c := *h
	c.next = h.next.WithGroup(name)
	c.grouped = true
	return &c
}

// component is a's value when a is the component attribute with a string
// value.
func component(a slog.Attr) (string, bool) {
	if a.Key != ComponentKey {
		return "", false
	}
	v := a.Value.Resolve()
	if v.Kind() != slog.KindString {
		return "", false
	}
	return v.String(), true
}
