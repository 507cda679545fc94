package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"tsgate/dialects"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/target"
)

// copier copies one measurement: a reader goroutine counts and reads the
// source piece by piece, one piece ahead of the writer, which checks the
// target and writes. Reading and writing thus overlap, and at most two
// read pieces (each ≤ MaxRows rows) wait in memory.
type copier struct {
	src, dst *Side
	opt      Options
	grid     time.Duration // the target's time precision
	m        string
	cols     []target.ColumnInfo

	// onTarget: the target is known to have the measurement.
	onTarget bool
	// interrupted is the range an interrupted run was writing when it
	// stopped (checkpoint.Writing), until the piece covering it was
	// settled.
	interrupted *[2]time.Time
}

// piece is a range [a, b) read from the source (batch, n rows) or, with
// batch nil, the end of a chunk: every piece before it is written.
type piece struct {
	a, b     time.Time
	n        int64
	batch    *model.Batch
	chunkEnd time.Time
}

// run sends the pieces of [lo, end) to write in order, chunk by chunk on
// the chunk grid; it stops at the first error of either side.
func (c *copier) run(ctx context.Context, lo, end time.Time, write func(piece) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan piece, 1)
	var readErr error
	go func() {
		defer close(ch)
		readErr = c.read(ctx, lo, end, ch)
	}()
	var err error
	for p := range ch {
		if err = write(p); err != nil {
			break
		}
	}
	cancel()
	for range ch { // let the reader finish before returning
	}
	if err != nil {
		return err
	}
	return readErr
}

func (c *copier) read(ctx context.Context, lo, end time.Time, out chan<- piece) error {
	send := func(p piece) error {
		select {
		case out <- p:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	for ch := lo.Truncate(c.opt.Chunk); ch.Before(end); ch = ch.Add(c.opt.Chunk) {
		a, b := maxTime(ch, lo), minTime(ch.Add(c.opt.Chunk), end)
		if !a.Before(b) {
			continue
		}
		// Jump over empty chunks to the one holding the next row: data
		// from 1900 to 2200 is 16 million ten-minute chunks, nearly all
		// empty. Skipped chunks stay on the same grid, so a resumed run
		// cuts every chunk as this one does.
		next, ok, err := nextTime(ctx, c.src, c.opt.Database, c.m, a, end)
		if err != nil {
			return c.rangeErr(a, end, err)
		}
		if !ok {
			return nil
		}
		if !next.Before(b) {
			ch = next.Truncate(c.opt.Chunk)
			a, b = maxTime(ch, lo), minTime(ch.Add(c.opt.Chunk), end)
		}
		if err := c.split(ctx, a, b, send); err != nil {
			return err
		}
		if err := send(piece{chunkEnd: b}); err != nil {
			return err
		}
	}
	return nil
}

// split reads [a, b), halving it while it holds more than MaxRows rows.
// The halves depend only on the source's counts, so a resumed run cuts a
// chunk exactly as the interrupted one did. a, b and every split point
// lie on the target's grid: rows the target truncates stay in their piece.
func (c *copier) split(ctx context.Context, a, b time.Time, send func(piece) error) error {
	n, err := countRange(ctx, c.src, c.opt.Database, c.m, a, b)
	if err != nil {
		return c.rangeErr(a, b, err)
	}
	if n == 0 {
		return nil
	}
	if n > c.opt.MaxRows && b.Sub(a) >= 2*c.grid {
		mid := a.Add(b.Sub(a) / 2).Truncate(c.grid)
		if err := c.split(ctx, a, mid, send); err != nil {
			return err
		}
		return c.split(ctx, mid, b, send)
	}
	batch, err := c.readBatch(ctx, a, b)
	if err != nil {
		return c.rangeErr(a, b, err)
	}
	return send(piece{a: a, b: b, n: n, batch: batch})
}

func (c *copier) rangeErr(a, b time.Time, err error) error {
	return fmt.Errorf("%s [%s, %s): %w", c.m, a.Format(time.RFC3339Nano), b.Format(time.RFC3339Nano), err)
}

// readBatch reads [a, b) straight into a write batch, tags as tags. The
// rows are not sorted: the chunks are in time order, and no target needs
// the rows of one write in order, so the source is spared a sort.
func (c *copier) readBatch(ctx context.Context, a, b time.Time) (*model.Batch, error) {
	rows, err := c.src.pipeline().QueryArc(ctx, c.opt.Database, "SELECT * FROM "+quoteIdent(c.m)+" WHERE time >= "+ts(a)+" AND time < "+ts(b))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	rc := rows.Columns()
	ti := slices.IndexFunc(rc, func(col model.ResultColumn) bool { return col.Name == "time" })
	if ti < 0 {
		return nil, errs.Newf(errs.Internal, "SELECT * on %s returned no time column", c.m)
	}
	isTag := make([]bool, len(rc))
	for i, col := range rc {
		isTag[i] = slices.ContainsFunc(c.cols, func(ci target.ColumnInfo) bool { return ci.Name == col.Name && ci.Tag }) ||
			(col.Type == model.TypeString && slices.Contains(c.opt.Tags[c.m], col.Name))
	}
	var batch model.Batch
	t := batch.Table(c.m)
	row := make([]model.Value, len(rc))
	cells := make([]model.Cell, 0, len(rc))
	for rows.Next(row) {
		if row[ti].Type != model.TypeTime {
			return nil, errs.Newf(errs.Internal, "time column of %s is %s", c.m, row[ti].Type)
		}
		cells = cells[:0]
		for i, v := range row {
			if i == ti || v.IsNull() {
				continue
			}
			if v.Type < model.TypeFloat || v.Type > model.TypeBool {
				// A DECIMAL, list, struct…: tsgate's write model has
				// float64, int64, uint64, string and bool only.
				return nil, errs.Newf(errs.Unsupported, "%s.%s holds %q, of a type tsgate cannot write (a DECIMAL, list or struct): only float, integer, unsigned, string and boolean columns can be copied; leave the measurement out (--measurements)", c.m, rc[i].Name, v.S)
			}
			cells = append(cells, model.Cell{Name: rc[i].Name, Tag: isTag[i], Value: v})
		}
		if err := t.AppendRow(row[ti].I, cells); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return &batch, nil
}

func idempotent(b dialects.Backend) bool {
	iw, ok := b.(dialects.IdempotentWriter)
	return ok && iw.IdempotentWrites()
}

// write stores a piece. Each Write is one atomic commit on the target
// (or, on InfluxDB, overwrites what an earlier attempt stored), and a
// piece is only written when the target holds none of its range: a
// piece that committed just before an interruption (and after which the
// checkpoint was not saved) is recognized by its count and skipped, so
// resuming never duplicates rows.
func (c *copier) write(ctx context.Context, p piece) (copied, skipped int64, err error) {
	var have int64
	if !c.onTarget {
		dms, err := c.dst.Backend.Measurements(ctx, c.opt.Database)
		if err != nil {
			return 0, 0, fmt.Errorf("target measurements: %w", err)
		}
		c.onTarget = slices.Contains(dms, c.m)
	}
	if c.onTarget {
		if w := c.interrupted; w != nil && p.a.Before(w[1]) && w[0].Before(p.b) {
			c.interrupted = nil
			if err := c.settle(ctx, p); err != nil {
				return 0, 0, err
			}
		}
		if have, err = countRange(ctx, c.dst, c.opt.Database, c.m, p.a, p.b); err != nil {
			return 0, 0, fmt.Errorf("count on target: %w", err)
		}
	}
	switch {
	case have == p.n:
		return 0, p.n, nil
	case have != 0 && have < p.n && idempotent(c.dst.Backend):
		// Part of the piece reached a target whose writes are not one
		// commit but overwrite (InfluxDB: a write of several requests
		// killed half way): writing it again stores each row once.
	case have != 0:
		return 0, 0, errs.Newf(errs.Conflict, "the target already holds %d of the %d rows in this range; it was written by something else: remove them or narrow --since/--until", have, p.n)
	}
	wr, err := c.dst.Backend.Write(ctx, c.opt.Database, p.batch)
	if err != nil {
		return 0, 0, err
	}
	if wr.Rejected > 0 {
		return int64(wr.Rows), 0, errs.Newf(errs.Invalid, "the target rejected %d rows: %v", wr.Rejected, errors.Join(wr.Conflicts...))
	}
	c.onTarget = true
	return int64(wr.Rows), 0, nil
}

// settle waits, on resuming, for the write an interrupted run had under
// way for p's range: until the target holds all of p (it landed) or, at
// most opt.SettleWait, while it holds none of it. A write cut off by the
// interruption either never commits or commits within moments (its body
// was received); counting before it lands would write p a second time.
// A count that moves restarts the wait.
func (c *copier) settle(ctx context.Context, p piece) error {
	deadline := time.Now().Add(c.opt.SettleWait)
	last := int64(-1)
	for {
		have, err := countRange(ctx, c.dst, c.opt.Database, c.m, p.a, p.b)
		if err != nil {
			return fmt.Errorf("count on target: %w", err)
		}
		if have == p.n {
			return nil
		}
		if have != last {
			last = have
			deadline = time.Now().Add(c.opt.SettleWait)
		}
		if time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
