package migrate

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"tsgate/dialects"
	"tsgate/errs"
	"tsgate/model"
)

// PrecisionReport is what a backfill would lose to a target that stores
// time more coarsely than the source's µs: per measurement, how many of
// the rows in range have a timestamp off the target's grid (they would be
// truncated toward the past).
type PrecisionReport struct {
	Target    string        // the target backend's name
	Precision time.Duration // the target's time resolution
	// Measurements lists every measurement checked, sorted by name.
	Measurements []PrecisionCount
}

// PrecisionCount is one measurement's line of a PrecisionReport.
type PrecisionCount struct {
	Measurement string
	Rows        int64 // rows in the copied range
	Finer       int64 // of those, rows with a timestamp finer than the target keeps
}

// Lossy reports whether any row would be truncated.
func (r *PrecisionReport) Lossy() bool {
	for _, m := range r.Measurements {
		if m.Finer > 0 {
			return true
		}
	}
	return false
}

// String is the report as the CLI prints it.
func (r *PrecisionReport) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "precision: the target (%s) stores time in steps of %s; the source keeps µs\n", r.Target, r.Precision)
	for _, m := range r.Measurements {
		fmt.Fprintf(&sb, "  %s: %d of %d rows have a finer timestamp", m.Measurement, m.Finer, m.Rows)
		if m.Finer > 0 {
			fmt.Fprintf(&sb, " (would be truncated to %s)", r.Precision)
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// PrecisionLossError refuses a backfill that would truncate timestamps
// without Options.AllowPrecisionLoss.
type PrecisionLossError struct{ Report *PrecisionReport }

func (e *PrecisionLossError) Error() string {
	var n int64
	for _, m := range e.Report.Measurements {
		n += m.Finer
	}
	return fmt.Sprintf("%d rows have timestamps finer than the target's %s; nothing was written (allow the truncation with --allow-precision-loss)", n, e.Report.Precision)
}

// CheckPrecision counts, before anything is written, the rows in range
// whose timestamps the target cannot keep. It returns nil when the target
// keeps µs (every backend but ClickHouse 18.16): nothing can be lost.
func CheckPrecision(ctx context.Context, src, dst *Side, opt Options) (*PrecisionReport, error) {
	p := dialects.TimePrecision(dst.Backend)
	if p <= time.Microsecond {
		return nil, nil
	}
	ms, err := measurements(ctx, src, opt)
	if err != nil {
		return nil, err
	}
	rep := &PrecisionReport{Target: dst.Backend.Name(), Precision: p}
	step := p.Microseconds()
	for _, m := range ms {
		q := fmt.Sprintf("SELECT count(*) AS n, count(*) FILTER (WHERE time_bucket(INTERVAL '%d microseconds', time) <> time) AS finer FROM %s%s", step, quoteIdent(m), rangeWhere(opt))
		c := PrecisionCount{Measurement: m}
		r, err := runQuery(ctx, src, opt.Database, q)
		if err == nil && len(r.Rows) == 1 {
			c.Rows, c.Finer = intOf(r.Rows[0][0]), intOf(r.Rows[0][1])
		} else {
			// A source whose dialect cannot say it (the query is Arc
			// SQL, translated for it): read the times and count here.
			if c, err = scanPrecision(ctx, src, opt, m, step); err != nil {
				return nil, fmt.Errorf("%s: precision check: %w", m, err)
			}
		}
		rep.Measurements = append(rep.Measurements, c)
	}
	sort.Slice(rep.Measurements, func(i, j int) bool { return rep.Measurements[i].Measurement < rep.Measurements[j].Measurement })
	return rep, nil
}

// scanPrecision streams the range's rows and checks each timestamp.
func scanPrecision(ctx context.Context, src *Side, opt Options, m string, step int64) (PrecisionCount, error) {
	c := PrecisionCount{Measurement: m}
	rows, err := src.pipeline().QueryArc(ctx, opt.Database, "SELECT * FROM "+quoteIdent(m)+rangeWhere(opt))
	if err != nil {
		return c, err
	}
	defer rows.Close()
	ti := -1
	for i, col := range rows.Columns() {
		if col.Name == "time" {
			ti = i
		}
	}
	if ti < 0 {
		return c, errs.Newf(errs.Internal, "SELECT * on %s returned no time column", m)
	}
	row := make([]model.Value, len(rows.Columns()))
	for rows.Next(row) {
		c.Rows++
		if row[ti].I%step != 0 {
			c.Finer++
		}
	}
	return c, rows.Err()
}

// rangeWhere is the WHERE clause of Since/Until, or "".
func rangeWhere(opt Options) string {
	var conds []string
	if !opt.Since.IsZero() {
		conds = append(conds, "time >= "+ts(opt.Since))
	}
	if !opt.Until.IsZero() {
		conds = append(conds, "time < "+ts(opt.Until))
	}
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

func intOf(v model.Value) int64 {
	switch v.Type {
	case model.TypeInt:
		return v.I
	case model.TypeUint:
		return int64(v.U)
	case model.TypeFloat:
		return int64(v.F)
	}
	return 0
}

// onGrid checks that the copied range's bounds are whole steps of the
// target's precision: a chunk boundary between two instants the target
// stores as one would make the target's count of a chunk disagree with
// the source's.
func onGrid(opt Options, p time.Duration) error {
	for _, b := range []struct {
		name string
		t    time.Time
	}{{"--since", opt.Since}, {"--until", opt.Until}} {
		if !b.t.IsZero() && !b.t.Truncate(p).Equal(b.t) {
			return errs.Newf(errs.Invalid, "%s %s is not a whole multiple of the target's time precision (%s)", b.name, b.t.Format(time.RFC3339Nano), p)
		}
	}
	if opt.Chunk%p != 0 {
		return errs.Newf(errs.Invalid, "--chunk %s is not a whole multiple of the target's time precision (%s)", opt.Chunk, p)
	}
	return nil
}
