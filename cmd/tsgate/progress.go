package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
)

// progress is one status line a long run (migrate, conformance) rewrites
// in place on a terminal. Anywhere else — a log file, a pipe, a CI job —
// it draws nothing: a log keeps the run's results, not a line per chunk.
type progress struct {
	w     io.Writer
	on    bool
	drawn bool
	last  time.Time
	now   func() time.Time
}

// maxRedraw bounds how often the line is redrawn: a fast run must not
// spend its time writing to the terminal.
const maxRedraw = 100 * time.Millisecond

func newProgress(w io.Writer) *progress {
	return &progress{w: w, on: isTerminal(w), now: time.Now}
}

// show redraws the line, at most every maxRedraw unless final.
func (p *progress) show(line string, final bool) {
	if !p.on {
		return
	}
	now := p.now()
	if !final && p.drawn && now.Sub(p.last) < maxRedraw {
		return
	}
	p.last, p.drawn = now, true
	fmt.Fprintf(p.w, "\r\033[K%s", line)
}

// done ends the line, so what is printed next starts on its own.
func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// isTerminal reports whether w is a terminal (isatty), not merely a
// character device: /dev/null is one, and so is nothing a person reads.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// rateETA says how fast a run goes and when it ends: "1,234 rows/s, ETA
// 1m05s". done of total units took elapsed; until a unit is done there is
// no rate to go by.
func rateETA(done, total int64, elapsed time.Duration, unit string) string {
	if done <= 0 || elapsed <= 0 {
		return "0 " + unit + "/s, ETA --"
	}
	rate := float64(done) / elapsed.Seconds()
	s := fmt.Sprintf("%s %s/s", thousands(int64(rate+0.5)), unit)
	left := total - done
	if left <= 0 {
		return s + ", ETA 0s"
	}
	eta := time.Duration(float64(left) / rate * float64(time.Second))
	return s + ", ETA " + eta.Round(time.Second).String()
}

// thousands writes n with comma separators: 1234567 → "1,234,567".
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
