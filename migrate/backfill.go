package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"tsgate/conformance"
	"tsgate/dialects"
	"tsgate/errs"
	"tsgate/internal/atomicfile"
	"tsgate/model"
	"tsgate/query"
	"tsgate/translate/target"
)

// Side is one end of a migration.
type Side struct {
	Backend dialects.Backend
	pipe    *query.Pipeline
}

func (s *Side) pipeline() *query.Pipeline {
	if s.pipe == nil {
		s.pipe = query.New(s.Backend)
	}
	return s.pipe
}

// Options control a backfill.
type Options struct {
	// Database is read from the source and written to the target.
	Database string
	// Measurements to copy; empty means all the source has.
	Measurements []string
	// Since and Until bound the copied time range (zero: unbounded).
	Since, Until time.Time
	// Chunk is the time span read and written at once (default 1 h); a
	// chunk holding more than MaxRows rows is split in halves.
	Chunk   time.Duration
	MaxRows int64
	// Checkpoint is the file recording finished chunks (empty: none, no
	// resume).
	Checkpoint string
	// Progress is called after each chunk.
	Progress func(p Progress)
	// Tags names, per measurement, string columns to write as tags
	// although the source does not mark them (a remote Arc's API cannot
	// say which columns are tags).
	Tags map[string][]string
	// AllowPrecisionLoss lets a backfill truncate timestamps the target
	// cannot keep (ClickHouse 18.16: whole seconds); without it Backfill
	// refuses with a *PrecisionLossError before writing anything.
	AllowPrecisionLoss bool
	// SettleWait bounds how long a resumed run waits for the piece an
	// interrupted run was writing to land on a target that keeps
	// duplicates (default 5 s; see checkpoint.Writing).
	SettleWait time.Duration
	// Precision, when set, receives the precision report (CheckPrecision)
	// before the first write, whether the loss is allowed or not.
	Precision func(r *PrecisionReport)
}

// Progress reports a finished chunk.
type Progress struct {
	Measurement string
	ChunkEnd    time.Time
	Rows        int64 // rows of this measurement copied so far in this run
	Total       int64 // rows of all measurements copied so far in this run
	// Skipped counts rows found already on the target (an interrupted
	// run's last piece), which the run did not copy again.
	Skipped int64
	// Expected is the rows this run set out to copy: the source's rows
	// in the range, less what the checkpoint says is done. Total+Skipped
	// reaches it unless the source changes during the run.
	Expected int64
	Elapsed  time.Duration
}

// Result summarizes a backfill.
type Result struct {
	Rows    map[string]int64
	Skipped map[string]int64 // rows found already copied when resuming
	// Source is, per measurement, the rows the source holds in the
	// range: all zero (or no measurement at all) means there was nothing
	// to copy — a wrong database, say — which no verification can tell
	// from success.
	Source  map[string]int64
	Elapsed time.Duration
}

// checkpoint records, per measurement, the end of the last chunk known to
// be committed on the target.
type checkpoint struct {
	Database string               `json:"database"`
	Done     map[string]time.Time `json:"done"`
	// Writing is, per measurement, the piece whose write last started
	// on a target that keeps duplicates (PostgreSQL, ClickHouse): saved
	// before the write, so a resumed run knows which range a write cut
	// off by the interruption may still commit into. ClickHouse finishes
	// an INSERT whose body it received after its client is gone; a
	// PostgreSQL COMMIT sent just before may land after.
	Writing map[string][2]time.Time `json:"writing,omitempty"`
	path    string
}

func loadCheckpoint(path, db string) (*checkpoint, error) {
	cp := &checkpoint{Database: db, Done: map[string]time.Time{}, Writing: map[string][2]time.Time{}, path: path}
	if path == "" {
		return cp, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return cp, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, cp); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if cp.Writing == nil {
		cp.Writing = map[string][2]time.Time{}
	}
	if cp.Database != db {
		return nil, fmt.Errorf("checkpoint %s is for database %q, not %q", path, cp.Database, db)
	}
	cp.path = path
	return cp, nil
}

// save writes atomically and durably: a crash leaves the old or the new
// checkpoint.
func (c *checkpoint) save() error {
	if c.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Clean(c.path), b, 0o644)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func ts(t time.Time) string { return "'" + t.UTC().Format("2006-01-02T15:04:05.999999Z") + "'" }

// query runs Arc SQL on a side and reads every row.
func runQuery(ctx context.Context, s *Side, db, sql string) (*conformance.Result, error) {
	rows, err := s.pipeline().QueryArc(ctx, db, sql)
	if err != nil {
		return nil, err
	}
	return conformance.Read(rows)
}

// Backfill copies the source's measurements to the target.
func Backfill(ctx context.Context, src, dst *Side, opt Options) (*Result, error) {
	if opt.Chunk <= 0 {
		opt.Chunk = time.Hour
	}
	if opt.MaxRows <= 0 {
		opt.MaxRows = 100_000
	}
	if opt.SettleWait <= 0 {
		opt.SettleWait = 5 * time.Second
	}
	cp, err := loadCheckpoint(opt.Checkpoint, opt.Database)
	if err != nil {
		return nil, err
	}
	ms, err := measurements(ctx, src, opt)
	if err != nil {
		return nil, err
	}
	// A target that keeps time more coarsely than µs: chunk bounds on its
	// grid, and the loss counted and reported before the first write.
	grid := dialects.TimePrecision(dst.Backend)
	if err := onGrid(opt, grid); err != nil {
		return nil, err
	}
	rep, err := CheckPrecision(ctx, src, dst, opt)
	if err != nil {
		return nil, err
	}
	if rep != nil {
		if opt.Precision != nil {
			opt.Precision(rep)
		}
		if rep.Lossy() && !opt.AllowPrecisionLoss {
			return nil, &PrecisionLossError{Report: rep}
		}
	}
	res := &Result{Rows: map[string]int64{}, Skipped: map[string]int64{}, Source: map[string]int64{}}
	// Every measurement's range and rows first: the run's size is known
	// before the first write, so progress can say how much is left, and
	// a source with nothing to copy says so.
	var (
		plans    []*measurementPlan
		expected int64
	)
	for _, m := range ms {
		p, err := planMeasurement(ctx, src, opt, cp, grid, m)
		if err != nil {
			return nil, err
		}
		res.Source[m] = p.inRange
		if p.inRange > 0 {
			plans = append(plans, p)
			expected += p.todo
		}
	}
	start := time.Now()
	var total, skippedTotal int64
	for _, pl := range plans {
		m := pl.m
		// Chunks start on the chunk grid so a resumed run sees the same
		// boundaries as the interrupted one. The next pieces are read
		// from the source while the current one is written.
		cc := &copier{src: src, dst: dst, opt: opt, grid: grid, m: m, cols: pl.cols}
		if w, ok := cp.Writing[m]; ok {
			cc.interrupted = &w
		}
		err = cc.run(ctx, pl.lo, pl.end, func(p piece) error {
			if p.batch != nil {
				if cp.path != "" && !idempotent(dst.Backend) {
					cp.Writing[m] = [2]time.Time{p.a, p.b}
					if err := cp.save(); err != nil {
						return fmt.Errorf("checkpoint: %w", err)
					}
				}
				copied, skipped, err := cc.write(ctx, p)
				if err != nil {
					return fmt.Errorf("%s [%s, %s): %w", m, p.a.Format(time.RFC3339Nano), p.b.Format(time.RFC3339Nano), err)
				}
				res.Rows[m] += copied
				res.Skipped[m] += skipped
				total += copied
				skippedTotal += skipped
				return nil
			}
			cp.Done[m] = p.chunkEnd
			if err := cp.save(); err != nil {
				return fmt.Errorf("checkpoint: %w", err)
			}
			if opt.Progress != nil {
				opt.Progress(Progress{Measurement: m, ChunkEnd: p.chunkEnd, Rows: res.Rows[m], Total: total,
					Skipped: skippedTotal, Expected: expected, Elapsed: time.Since(start)})
			}
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// measurementPlan is one measurement's part of a run.
type measurementPlan struct {
	m    string
	cols []target.ColumnInfo
	// lo and end bound the chunks still to copy (end exclusive), on the
	// target's time grid, past what the checkpoint says is done.
	lo, end time.Time
	// inRange is the source's rows in the requested range; todo those
	// past the checkpoint.
	inRange, todo int64
}

// planMeasurement finds m's range on the source and how many rows a run
// has to copy.
func planMeasurement(ctx context.Context, src *Side, opt Options, cp *checkpoint, grid time.Duration, m string) (*measurementPlan, error) {
	cols, ok := src.Backend.Schema(opt.Database).Columns(opt.Database, m)
	if !ok {
		return nil, errs.Newf(errs.NotFound, "source has no measurement %q in database %q", m, opt.Database)
	}
	lo, hi, n, err := span(ctx, src, opt.Database, m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m, err)
	}
	p := &measurementPlan{m: m, cols: cols}
	if n == 0 {
		return p, nil
	}
	// On the target's grid: truncated times stay inside the range.
	lo = lo.Truncate(grid)
	if !opt.Since.IsZero() && opt.Since.After(lo) {
		lo = opt.Since
	}
	end := hi.Truncate(grid).Add(grid) // exclusive
	if !opt.Until.IsZero() && opt.Until.Before(end) {
		end = opt.Until
	}
	p.inRange = n
	if !opt.Since.IsZero() || !opt.Until.IsZero() {
		if p.inRange, err = countRange(ctx, src, opt.Database, m, lo, end); err != nil {
			return nil, fmt.Errorf("%s: %w", m, err)
		}
	}
	p.todo = p.inRange
	if done, ok := cp.Done[m]; ok && done.After(lo) {
		lo = done
		if p.todo, err = countRange(ctx, src, opt.Database, m, lo, end); err != nil {
			return nil, fmt.Errorf("%s: %w", m, err)
		}
	}
	p.lo, p.end = lo, end
	return p, nil
}

// measurements is opt.Measurements, or every measurement the source has.
func measurements(ctx context.Context, src *Side, opt Options) ([]string, error) {
	if len(opt.Measurements) > 0 {
		return opt.Measurements, nil
	}
	return src.Backend.Measurements(ctx, opt.Database)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// span is a measurement's first and last timestamp and row count.
func span(ctx context.Context, s *Side, db, m string) (lo, hi time.Time, n int64, err error) {
	r, err := runQuery(ctx, s, db, "SELECT min(time) AS lo, max(time) AS hi, count(*) AS n FROM "+quoteIdent(m))
	if err != nil {
		return
	}
	if len(r.Rows) != 1 || r.Rows[0][2].Type != model.TypeInt {
		return lo, hi, 0, errs.Newf(errs.Internal, "unexpected span result for %s", m)
	}
	n = r.Rows[0][2].I
	if n == 0 {
		return
	}
	return time.UnixMicro(r.Rows[0][0].I).UTC(), time.UnixMicro(r.Rows[0][1].I).UTC(), n, nil
}

// nextTime is the time of the first row in [a, end); ok false when none.
func nextTime(ctx context.Context, s *Side, db, m string, a, end time.Time) (t time.Time, ok bool, err error) {
	r, err := runQuery(ctx, s, db, "SELECT min(time) AS t FROM "+quoteIdent(m)+" WHERE time >= "+ts(a)+" AND time < "+ts(end))
	if err != nil {
		return t, false, err
	}
	if len(r.Rows) != 1 || len(r.Rows[0]) != 1 {
		return t, false, errs.Newf(errs.Internal, "unexpected next-time result for %s", m)
	}
	switch v := r.Rows[0][0]; v.Type {
	case model.TypeUnknown: // NULL: no row
		return t, false, nil
	case model.TypeTime:
		return time.UnixMicro(v.I).UTC(), true, nil
	}
	// Never guess: a wrong "no more rows" would skip data.
	return t, false, errs.Newf(errs.Internal, "next-time result for %s is %v, not a time", m, r.Rows[0][0].Type)
}

func countRange(ctx context.Context, s *Side, db, m string, a, b time.Time) (int64, error) {
	r, err := runQuery(ctx, s, db, "SELECT count(*) AS n FROM "+quoteIdent(m)+" WHERE time >= "+ts(a)+" AND time < "+ts(b))
	if err != nil {
		return 0, err
	}
	if len(r.Rows) == 0 {
		return 0, nil
	}
	v := r.Rows[0][0]
	switch v.Type {
	case model.TypeInt:
		return v.I, nil
	case model.TypeUint:
		return int64(v.U), nil
	case model.TypeFloat:
		return int64(v.F), nil
	}
	return 0, nil
}

// Difference is one disagreement Verify found, or (Unchecked) one
// comparison a side's query language cannot express.
type Difference struct {
	Measurement string
	What        string
	// Unchecked: not a disagreement but a column whose per-hour count or
	// sum a side refuses to compute (InfluxQL cannot count a field some
	// points lack per group); What says which and why.
	Unchecked bool
}

// Verify compares source and target per measurement: per hour the row
// count and each numeric field's count and sum (so the total rows too).
// When a side cannot express one query for all of them, each field is
// compared on its own, with its sum alone when its count is refused.
func Verify(ctx context.Context, src, dst *Side, opt Options) ([]Difference, error) {
	ms, err := measurements(ctx, src, opt)
	if err != nil {
		return nil, err
	}
	var out []Difference
	for _, m := range ms {
		cols, _ := src.Backend.Schema(opt.Database).Columns(opt.Database, m)
		var aggs []string
		var fields []string
		for _, c := range cols {
			if c.Tag || (c.Type != model.TypeFloat && c.Type != model.TypeInt && c.Type != model.TypeUint) {
				continue
			}
			fields = append(fields, c.Name)
			aggs = append(aggs, countAgg(c.Name), sumAgg(c.Name))
		}
		d, err := compareHours(ctx, src, dst, opt, m, aggs)
		if errs.CodeOf(err) == errs.Unsupported {
			// Piece by piece: the rows per hour, then each field.
			if d, err = compareHours(ctx, src, dst, opt, m, nil); err == nil && d == "" {
				for _, f := range fields {
					d, err = compareHours(ctx, src, dst, opt, m, []string{countAgg(f), sumAgg(f)})
					if errs.CodeOf(err) == errs.Unsupported {
						what := fmt.Sprintf("count(%s) per hour not compared: %v", f, err)
						if d, err = compareHours(ctx, src, dst, opt, m, []string{sumAgg(f)}); errs.CodeOf(err) == errs.Unsupported {
							what = fmt.Sprintf("count(%s) and sum(%s) per hour not compared: %v", f, f, err)
							d, err = "", nil
						}
						out = append(out, Difference{Measurement: m, What: what, Unchecked: true})
					}
					if err != nil || d != "" {
						break
					}
				}
			}
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", m, err)
		}
		if d != "" {
			out = append(out, Difference{Measurement: m, What: d})
		}
	}
	return out, nil
}

func countAgg(f string) string {
	return fmt.Sprintf("count(%s) AS %s", quoteIdent(f), quoteIdent("n_"+f))
}

func sumAgg(f string) string {
	return fmt.Sprintf("sum(%s) AS %s", quoteIdent(f), quoteIdent("sum_"+f))
}

// compareHours runs the per-hour row count and aggs on both sides and
// returns the first difference, or "".
func compareHours(ctx context.Context, src, dst *Side, opt Options, m string, aggs []string) (string, error) {
	sel := append([]string{"time_bucket(INTERVAL '1 hour', time) AS hour", "count(*) AS n"}, aggs...)
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(m) + rangeWhere(opt) + " GROUP BY hour ORDER BY hour"
	want, err := runQuery(ctx, src, opt.Database, q)
	if err != nil {
		return "", fmt.Errorf("source: %w", err)
	}
	got, err := runQuery(ctx, dst, opt.Database, q)
	if err != nil {
		return "", fmt.Errorf("target: %w", err)
	}
	numify(want)
	numify(got)
	return conformance.DefaultRules().Compare(want, got, true), nil
}

// numify turns numbers a backend renders as text into numbers: DuckDB's
// sum of a BIGINT is a HUGEINT, which tsgate (like Arc) shows as a string,
// while InfluxDB's is an int64 — the same sum.
func numify(r *conformance.Result) {
	for _, row := range r.Rows {
		for i, v := range row {
			if v.Type != model.TypeText {
				continue
			}
			if n, err := strconv.ParseInt(v.S, 10, 64); err == nil {
				row[i] = model.Int(n)
			} else if f, err := strconv.ParseFloat(v.S, 64); err == nil {
				row[i] = model.Float(f)
			}
		}
	}
}
