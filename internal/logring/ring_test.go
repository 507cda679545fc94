package logring

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// at is the entry "m<i>" logged i minutes after t0 at level.
func at(i int, level string) Entry {
	return Entry{Time: t0.Add(time.Duration(i) * time.Minute), Level: level, Message: fmt.Sprint("m", i)}
}

func messages(es []Entry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Message)
	}
	return out
}

func TestRingRecent(t *testing.T) {
	levels := []string{"DEBUG", "INFO", "WARN", "ERROR"}
	tests := []struct {
		name     string
		capacity int
		added    int // entries m0..m<added-1>, one a minute, levels cycling DEBUG INFO WARN ERROR
		now      int // minutes after t0
		limit    int
		level    string
		since    time.Duration
		want     []string
	}{
		{"empty", 5, 0, 0, 100, "", time.Hour, []string{}},
		{"newest first", 5, 3, 2, 100, "", time.Hour, []string{"m2", "m1", "m0"}},
		{"limit", 5, 4, 3, 2, "", time.Hour, []string{"m3", "m2"}},
		{"limit 0 is all", 5, 3, 2, 0, "", time.Hour, []string{"m2", "m1", "m0"}},
		{"wrap-around keeps the last capacity", 4, 10, 9, 100, "", time.Hour, []string{"m9", "m8", "m7", "m6"}},
		{"wrap-around exactly full", 4, 4, 3, 100, "", time.Hour, []string{"m3", "m2", "m1", "m0"}},
		{"wrap-around past one lap", 3, 7, 6, 2, "", time.Hour, []string{"m6", "m5"}},
		{"level is a minimum", 8, 8, 7, 100, "warn", time.Hour, []string{"m7", "m6", "m3", "m2"}},
		{"level case aside", 8, 8, 7, 100, "ERROR", time.Hour, []string{"m7", "m3"}},
		{"level debug is everything", 8, 4, 3, 100, "debug", time.Hour, []string{"m3", "m2", "m1", "m0"}},
		{"level fatal: none logged", 8, 8, 7, 100, "fatal", time.Hour, []string{}},
		{"unknown level matches by name only", 8, 8, 7, 100, "warning", time.Hour, []string{}},
		{"level then limit", 8, 8, 7, 1, "info", time.Hour, []string{"m7"}},
		{"since cutoff", 10, 10, 9, 100, "", 3 * time.Minute, []string{"m9", "m8", "m7", "m6"}},
		{"since excludes all", 10, 3, 60, 100, "", 10 * time.Minute, []string{}},
		{"since and level", 10, 10, 9, 100, "error", 7 * time.Minute, []string{"m7", "m3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := t0.Add(time.Duration(tt.now) * time.Minute)
			r := New(tt.capacity, WithClock(func() time.Time { return now }))
			for i := 0; i < tt.added; i++ {
				r.Add(at(i, levels[i%len(levels)]))
			}
			if diff := cmp.Diff(tt.want, messages(r.Recent(tt.limit, tt.level, tt.since))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestRingUnknownLevelByName: an entry level off Arc's ladder matches a
// filter of the same name and nothing else.
func TestRingUnknownLevelByName(t *testing.T) {
	r := New(4, WithClock(func() time.Time { return t0 }))
	r.Add(Entry{Time: t0, Level: "TRACE", Message: "a"})
	r.Add(Entry{Time: t0, Level: "ERROR", Message: "b"})
	for _, tt := range []struct {
		level string
		want  []string
	}{{"trace", []string{"a"}}, {"debug", []string{"b"}}, {"", []string{"b", "a"}}} {
		if diff := cmp.Diff(tt.want, messages(r.Recent(10, tt.level, time.Hour))); diff != "" {
			t.Errorf("level %q (-want +got):\n%s", tt.level, diff)
		}
	}
}

func TestRingStampsAndClips(t *testing.T) {
	r := New(2, WithClock(func() time.Time { return t0 }))
	long := strings.Repeat("é", maxText) // 2 bytes a rune
	r.Add(Entry{Level: "INFO", Message: long, Component: "arc"})
	got := r.Recent(1, "", time.Minute)
	want := []Entry{{Time: t0, Level: "INFO", Message: strings.Repeat("é", maxText/2) + "…", Component: "arc"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestHandler: the ring gets what the wrapped handler's level lets
// through, with the component of the logger or the record, and only the
// four kept fields; derived loggers feed the same ring.
func TestHandler(t *testing.T) {
	var out bytes.Buffer
	ring := New(10, WithClock(func() time.Time { return t0 }))
	log := slog.New(NewHandler(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}), ring))
	log.Debug("not let through")
	log.Info("started", "addr", "10.0.0.1:5432")
	log.With("frontend", "pgwire").Warn("auth failed", "user", "bob")
	log.With("frontend", "arc").WithGroup("req").With("frontend", "nested").Error("write failed", "err", "secret detail")
	log.Log(context.Background(), slog.LevelInfo+2, "between info and warn", "frontend", "memtrace")
	log.With("frontend", 7).Info("not a string component")
	log.WithGroup("").With("frontend", "x").Info("empty group is no group")

	got := ring.Recent(0, "", time.Hour)
	for i := range got {
		if got[i].Time.IsZero() {
			t.Errorf("entry %d has no time", i)
		}
		got[i].Time = time.Time{}
	}
	want := []Entry{
		{Level: "INFO", Component: "x", Message: "empty group is no group"},
		{Level: "INFO", Message: "not a string component"},
		{Level: "INFO", Component: "memtrace", Message: "between info and warn"},
		{Level: "ERROR", Component: "arc", Message: "write failed"},
		{Level: "WARN", Component: "pgwire", Message: "auth failed"},
		{Level: "INFO", Message: "started"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The wrapped handler still writes everything, attributes included.
	for _, s := range []string{`msg=started addr=10.0.0.1:5432`, `msg="auth failed" frontend=pgwire user=bob`, `req.err="secret detail"`} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("stderr lacks %q:\n%s", s, out.String())
		}
	}
	if strings.Contains(out.String(), "not let through") {
		t.Errorf("debug record written at level info:\n%s", out.String())
	}
}

// TestRingConcurrent: adds from many goroutines beside readers (run with
// -race) leave exactly the capacity, each entry whole.
func TestRingConcurrent(t *testing.T) {
	r := New(100)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				r.Add(Entry{Level: "INFO", Message: fmt.Sprint(g), Component: fmt.Sprint(g)})
				if i%50 == 0 {
					r.Recent(10, "info", time.Hour)
				}
			}
		}()
	}
	wg.Wait()
	got := r.Recent(0, "", time.Hour)
	if len(got) != 100 {
		t.Fatalf("%d entries, want 100", len(got))
	}
	for _, e := range got {
		if e.Message != e.Component {
			t.Fatalf("torn entry %+v", e)
		}
	}
}

func BenchmarkHandler(b *testing.B) {
	for _, ring := range []bool{false, true} {
		b.Run(fmt.Sprintf("ring=%v", ring), func(b *testing.B) {
			var h slog.Handler = slog.NewJSONHandler(discard{}, nil)
			if ring {
				h = NewHandler(h, New(Capacity))
			}
			log := slog.New(h).With("frontend", "arc")
			b.ReportAllocs()
			for b.Loop() {
				log.Warn("query failed", "endpoint", "query", "err", "boom")
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
