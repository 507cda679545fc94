package replicate

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tsgate/conformance"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/query"
	"tsgate/translate"
)

// Shadow-read outcomes, the values of tsgate_shadow_reads_total's result
// label.
const (
	shadowMatch    = "match"
	shadowMismatch = "mismatch"
	shadowError    = "error"
	shadowRefused  = "refused" // the secondary's translator refuses the query
	shadowSkipped  = "skipped" // result too large to tee, client stopped early, or too many in flight
)

type shadowMetrics struct {
	reads *prometheus.CounterVec
}

func newShadowMetrics(reg prometheus.Registerer) *shadowMetrics {
	m := &shadowMetrics{reads: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tsgate_shadow_reads_total",
		Help: "Queries also run on the migration secondary, by comparison outcome.",
	}, []string{"result"})}
	for _, r := range []string{shadowMatch, shadowMismatch, shadowError, shadowRefused, shadowSkipped} {
		m.reads.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.reads)
	}
	return m
}

// Shadow runs a fraction of Arc SQL queries on a secondary as well and
// compares its rows with the primary's by the conformance rules. The
// primary's rows stream to the client untouched; a bounded copy is kept
// for the comparison, which runs in the background. Only the Switch
// builds one; the type is exported for Switch.Shadow's callers, which Wait
// for the comparisons in flight.
type Shadow struct {
	secondary func() (*query.Pipeline, func())
	fraction  float64
	timeout   time.Duration
	maxRows   int
	log       *slog.Logger
	m         *shadowMetrics
	rules     conformance.Rules
	// slots bounds shadow queries in flight, so a slow secondary costs
	// skipped comparisons, not the gateway's memory.
	slots chan struct{}
	wg    sync.WaitGroup
	// done is called after each comparison (tests wait on it).
	done func(result string)
}

// shadowOption configures a Shadow.
type shadowOption func(*Shadow)

// withShadowTimeout bounds the secondary's query (default 30 s).
func withShadowTimeout(d time.Duration) shadowOption { return func(s *Shadow) { s.timeout = d } }

// withShadowMaxRows bounds the tee'd copy of the primary's rows (default
// 100,000); larger results are counted as skipped.
func withShadowMaxRows(n int) shadowOption { return func(s *Shadow) { s.maxRows = n } }

// withShadowLogger sets the logger mismatches go to.
func withShadowLogger(l *slog.Logger) shadowOption { return func(s *Shadow) { s.log = l } }

func withShadowMetrics(m *shadowMetrics) shadowOption { return func(s *Shadow) { s.m = m } }

// newShadow shadows fraction (0..1) of queries onto the pipeline
// secondary returns (nil when the secondary is not available yet, which
// counts as an error) with a release function called once that query is
// done with it.
func newShadow(secondary func() (*query.Pipeline, func()), fraction float64, opts ...shadowOption) *Shadow {
	s := &Shadow{
		secondary: secondary, fraction: fraction, timeout: 30 * time.Second, maxRows: 100_000,
		log: slog.New(slog.DiscardHandler), rules: conformance.DefaultRules(), slots: make(chan struct{}, 4),
	}
	for _, o := range opts {
		o(s)
	}
	if s.m == nil {
		s.m = newShadowMetrics(nil)
	}
	return s
}

// sample decides whether this query is shadowed.
func (s *Shadow) sample() bool {
	return s.fraction > 0 && (s.fraction >= 1 || rand.Float64() < s.fraction)
}

// Wrap runs the primary's query (primary) and, for a sampled query, the
// secondary's in the background; the returned rows are the primary's.
func (s *Shadow) Wrap(ctx context.Context, db, sql string, primary func(context.Context) (model.Rows, error)) (model.Rows, error) {
	if !s.sample() {
		return primary(ctx)
	}
	select {
	case s.slots <- struct{}{}:
	default:
		s.record(shadowSkipped)
		return primary(ctx)
	}
	sec := make(chan shadowResult, 1)
	// wg covers the whole shadow read, comparison included, so Wait
	// (shutdown, tests) sees its outcome counted.
	s.wg.Add(1)
	// The secondary's query outlives the client's request context (it is
	// compared after the primary's last row), bounded by its own timeout.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	go func() { sec <- s.runSecondary(sctx, db, sql) }()
	rows, err := primary(ctx)
	if err != nil {
		// Nothing to compare with: the client sees the primary's error.
		go func() {
			defer s.wg.Done()
			<-sec
			cancel()
			<-s.slots
			s.record(shadowSkipped)
		}()
		return nil, err
	}
	t := &teeRows{Rows: rows, max: s.maxRows, cols: rows.Columns()}
	t.finish = func(complete bool) {
		go func() {
			defer s.wg.Done()
			defer func() { cancel(); <-s.slots }()
			r := <-sec
			s.compare(db, sql, t, complete, r)
		}()
	}
	return t, nil
}

type shadowResult struct {
	res  *conformance.Result
	text string
	err  error
}

func (s *Shadow) runSecondary(ctx context.Context, db, sql string) shadowResult {
	p, release := s.secondary()
	if p == nil {
		return shadowResult{err: errs.New(errs.Unavailable, "shadow reads: the secondary is not open yet")}
	}
	if release != nil {
		defer release()
	}
	text := sql
	var rows model.Rows
	var err error
	if p.AsWritten() {
		rows, err = p.Backend().Query(ctx, db, sql)
	} else {
		var tr *translate.Translation
		if tr, err = p.Translate(ctx, db, sql, translate.FromArc); err != nil {
			return shadowResult{err: err}
		}
		text = tr.Text
		rows, err = p.Execute(ctx, db, tr)
	}
	if err != nil {
		return shadowResult{text: text, err: err}
	}
	res, err := conformance.Read(rows)
	return shadowResult{res: res, text: text, err: err}
}

func (s *Shadow) compare(db, sql string, t *teeRows, complete bool, r shadowResult) {
	switch {
	case !complete || t.over:
		s.record(shadowSkipped)
	case r.err != nil && errs.CodeOf(r.err) == errs.Unsupported:
		s.record(shadowRefused)
		s.log.Debug("shadow read refused by the secondary's translator", "db", db, "query", sql, "err", r.err)
	case r.err != nil:
		s.record(shadowError)
		s.log.Warn("shadow read failed on the secondary", "db", db, "query", sql, "secondary_query", r.text, "err", r.err)
	default:
		want := &conformance.Result{Rows: t.rows}
		for _, c := range t.cols {
			want.Columns = append(want.Columns, c.Name)
		}
		if d := s.rules.Compare(want, r.res, conformance.Ordered(sql)); d != "" {
			s.record(shadowMismatch)
			s.log.Warn("shadow read mismatch: the secondary answers differently", "db", db,
				"query", sql, "secondary_query", r.text, "difference", d)
			return
		}
		s.record(shadowMatch)
	}
}

func (s *Shadow) record(result string) {
	s.m.reads.WithLabelValues(result).Inc()
	if s.done != nil {
		s.done(result)
	}
}

// Wait blocks until the shadow queries in flight have finished.
func (s *Shadow) Wait() { s.wg.Wait() }

// teeRows passes the primary's rows through, copying up to max of them.
type teeRows struct {
	model.Rows
	cols   []model.ResultColumn
	max    int
	rows   [][]model.Value
	over   bool
	ended  bool
	once   sync.Once
	finish func(complete bool)
}

func (t *teeRows) Next(dst []model.Value) bool {
	if !t.Rows.Next(dst) {
		t.ended = t.Rows.Err() == nil
		t.end()
		return false
	}
	if !t.over {
		if len(t.rows) >= t.max {
			t.over, t.rows = true, nil
		} else {
			t.rows = append(t.rows, append([]model.Value(nil), dst...))
		}
	}
	return true
}

func (t *teeRows) end() { t.once.Do(func() { t.finish(t.ended) }) }

func (t *teeRows) Close() error {
	err := t.Rows.Close()
	t.end()
	return err
}
