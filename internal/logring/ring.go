package logring

import (
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Capacity is how many records Arc's ring holds (logger.GetBuffer).
const Capacity = 10000

// maxText bounds a kept message or component in bytes, so that the ring's
// memory is bounded whatever is logged: tsgate's messages are constant
// strings, but the HTTP server's error log formats its own.
const maxText = 1024

// Entry is one kept log record.
type Entry struct {
	Time time.Time
	// Level is Arc's name for the record's level: DEBUG, INFO, WARN or
	// ERROR (Arc upper-cases zerolog's "info", "error", …).
	Level     string
	Component string
	Message   string
}

// Ring holds the last records added, up to its capacity, overwriting the
// oldest. It is safe for concurrent use.
type Ring struct {
	now     func() time.Time
	mu      sync.Mutex
	entries []Entry // fixed length: the capacity
	next    int     // where the next entry goes
	n       int     // entries held
}

// Option configures a Ring.
type Option func(*Ring)

// WithClock sets the clock that stamps records without a time and places
// the since cutoff of Recent.
func WithClock(now func() time.Time) Option { return func(r *Ring) { r.now = now } }

// New makes a ring of capacity entries (at least 1).
func New(capacity int, opts ...Option) *Ring {
	r := &Ring{now: time.Now, entries: make([]Entry, max(capacity, 1))}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Add keeps e, dropping the oldest entry when the ring is full.
func (r *Ring) Add(e Entry) {
	if e.Time.IsZero() {
		e.Time = r.now()
	}
	e.Message, e.Component = clip(e.Message), clip(e.Component)
	r.mu.Lock()
	r.entries[r.next] = e
	r.next = (r.next + 1) % len(r.entries)
	if r.n < len(r.entries) {
		r.n++
	}
	r.mu.Unlock()
}

// Recent answers Arc's LogBuffer.GetRecent: up to limit entries (all when
// limit <= 0), newest first, skipping those older than since before now
// and, when level is not empty, those below it (passes).
func (r *Ring) Recent(limit int, level string, since time.Duration) []Entry {
	cutoff := r.now().Add(-since)
	want := strings.ToUpper(level)
	// The filter's place on the ladder, once rather than per entry.
	floor, onLadder := rank(want)
	r.mu.Lock()
	defer r.mu.Unlock()
	if limit <= 0 || limit > r.n {
		limit = r.n
	}
	out := make([]Entry, 0, min(limit, 64))
	// As Arc, the whole ring is scanned: records are added in about time
	// order, not exactly (a record's time is taken before the lock).
	for i := 0; i < r.n && len(out) < limit; i++ {
		e := r.entries[(r.next-1-i+2*len(r.entries))%len(r.entries)]
		if e.Time.Before(cutoff) {
			continue
		}
		if want != "" && !passes(e.Level, want, floor, onLadder) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// passes is Arc's level filter: an entry passes when its level is at or
// above the filter's (want, at floor when onLadder) on debug < info <
// warn < error < fatal; when either is not on that ladder, only when the
// names are equal (case aside). levelName's names are on it as they are.
func passes(entry, want string, floor int, onLadder bool) bool {
	e, ok := rank(entry)
	if !ok {
		e, ok = rank(strings.ToUpper(entry))
	}
	if !ok || !onLadder {
		return strings.EqualFold(entry, want)
	}
	return e >= floor
}

func rank(level string) (int, bool) {
	switch level {
	case "DEBUG":
		return 0, true
	case "INFO":
		return 1, true
	case "WARN":
		return 2, true
	case "ERROR":
		return 3, true
	case "FATAL":
		return 4, true
	}
	return 0, false
}

// levelName names l as Arc's ring does; slog's in-between levels
// (INFO+2) round down to the named level below, so the filter ladder
// applies to them.
func levelName(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "DEBUG"
	case l < slog.LevelWarn:
		return "INFO"
	case l < slog.LevelError:
		return "WARN"
	}
	return "ERROR"
}

// clip cuts s to at most maxText bytes on a rune boundary.
func clip(s string) string {
	if len(s) <= maxText {
		return s
	}
	i := maxText
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
