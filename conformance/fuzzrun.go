package conformance

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
	"time"

	"tsgate/errs"
	"tsgate/model"
	"tsgate/query"
	"tsgate/translate"
)

// FuzzOptions bound a differential fuzz run.
type FuzzOptions struct {
	// N is the number of queries to generate (0: until Duration).
	N int
	// Duration stops the run early (0: none).
	Duration time.Duration
	// Seed makes the run reproducible: the same seed and dataset draw the
	// same queries.
	Seed  uint64
	Rules Rules
	// Local lets backends answer by split plans, as the gateway does.
	Local *query.Local
	// Progress, when set, is called every so often with queries done.
	Progress func(done, total int, elapsed time.Duration)
	// Shadow, when set, is a second reference store: it gets the dataset
	// with every table's rows in reverse order. A backend's differing
	// answer to a query whose reference answer itself changes with row
	// order (a float sum or variance with cancellation: rounding depends
	// on the order of additions) is counted UNSTABLE, apart from WRONG —
	// no engine owes one particular order's rounding — and sampled.
	Shadow *Target
}

// FuzzStats is one backend's tally.
type FuzzStats struct {
	Name      string `json:"backend"`
	Generated int    `json:"generated"`
	Same      int    `json:"same"`
	Refused   int    `json:"refused"`
	Errors    int    `json:"errors"`
	Wrong     int    `json:"wrong"`
	// Unstable are differences on queries whose reference answer depends
	// on row order (see FuzzOptions.Shadow); UnstableSamples shows some.
	Unstable        int      `json:"unstable"`
	UnstableSamples []string `json:"unstable_samples,omitempty"`
	// Wrongs are the wrong answers, minimized, one per distinct minimized
	// query.
	Wrongs []FuzzWrong `json:"wrongs,omitempty"`
	// ErrorSamples are a few backend errors, for the report.
	ErrorSamples []string `json:"error_samples,omitempty"`
	seen         map[string]bool
}

// FuzzWrong is one wrong answer.
type FuzzWrong struct {
	Query     string `json:"query"`
	Minimized string `json:"minimized"`
	Diff      string `json:"diff"`
	// Case is the minimized query as a ready conformance case.
	Case string `json:"case"`
}

// FuzzReport is a whole run.
type FuzzReport struct {
	Seed      uint64        `json:"seed"`
	Queries   int           `json:"queries"`
	Invalid   int           `json:"invalid"` // the reference itself failed
	Elapsed   time.Duration `json:"elapsed_ns"`
	Backends  []*FuzzStats  `json:"backends"`
	refErrors []string
}

// Fuzz loads ds into every target, then generates queries and runs each
// on the reference and on every other target, comparing under the rules.
// A wrong answer is minimized to a small query that still differs and
// kept with a ready conformance case. Refusals (SQLSTATE 0A000) are
// acceptable outcomes; errors are counted apart.
func Fuzz(ctx context.Context, ds *Dataset, targets []*Target, opt FuzzOptions) (*FuzzReport, error) {
	if opt.Rules == (Rules{}) {
		opt.Rules = DefaultRules()
	}
	var ref *Target
	for _, t := range targets {
		if t.Reference {
			ref = t
		}
	}
	if ref == nil {
		return nil, errors.New("no reference target")
	}
	defer dropAll(targets, ds)
	for _, t := range targets {
		if err := t.Load(ctx, ds); err != nil {
			return nil, fmt.Errorf("%s: load dataset: %w", t.Name, err)
		}
	}
	var shadow *query.Pipeline
	if opt.Shadow != nil {
		defer dropAll([]*Target{opt.Shadow}, ds)
		rev, err := reversed(ds)
		if err == nil {
			err = opt.Shadow.Load(ctx, rev)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: load dataset: %w", opt.Shadow.Name, err)
		}
		shadow = query.New(opt.Shadow.Backend)
	}
	rep := &FuzzReport{Seed: opt.Seed}
	pipes := map[*Target]*query.Pipeline{}
	for _, t := range targets {
		var opts []query.Option
		if !t.Reference {
			opts = append(opts, query.Translated())
			if opt.Local != nil {
				opts = append(opts, query.WithLocal(opt.Local))
			}
		}
		pipes[t] = query.New(t.Backend, opts...)
		if !t.Reference {
			rep.Backends = append(rep.Backends, &FuzzStats{Name: t.Name, seen: map[string]bool{}})
		}
	}
	gen := newGenerator(opt.Seed, ds)
	start := time.Now()
	for i := 0; opt.N == 0 || i < opt.N; i++ {
		if opt.Duration > 0 && time.Since(start) > opt.Duration {
			break
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		q := gen.query()
		sql := q.String()
		want, err := runArc(ctx, pipes[ref], ds.Database, sql, true)
		if err != nil {
			rep.Invalid++
			if len(rep.refErrors) < 5 {
				rep.refErrors = append(rep.refErrors, sql+": "+err.Error())
			}
			continue
		}
		rep.Queries++
		bi := 0
		for _, t := range targets {
			if t.Reference {
				continue
			}
			st := rep.Backends[bi]
			bi++
			st.Generated++
			if t.unavailable[q.table] {
				st.Refused++ // the backend refused this data at write
				continue
			}
			got, err := runArc(ctx, pipes[t], ds.Database, sql, false)
			switch {
			case errs.CodeOf(err) == errs.Unsupported:
				st.Refused++
				continue
			case err != nil:
				st.Errors++
				if len(st.ErrorSamples) < 20 {
					st.ErrorSamples = append(st.ErrorSamples, sql+"\n  → "+err.Error())
				}
				continue
			}
			diff := opt.Rules.Compare(want, got, q.ordered())
			if diff == "" {
				st.Same++
				continue
			}
			if shadow != nil {
				if alt, err := runArc(ctx, shadow, ds.Database, sql, true); err == nil && opt.Rules.Compare(want, alt, q.ordered()) != "" {
					st.Unstable++
					if len(st.UnstableSamples) < 5 {
						st.UnstableSamples = append(st.UnstableSamples, sql+"\n"+indent(diff))
					}
					continue
				}
			}
			st.Wrong++
			min := minimize(ctx, q, func(c *genQuery) bool {
				return differs(ctx, pipes[ref], pipes[t], ds.Database, c, opt.Rules)
			})
			ms := min.String()
			if st.seen[ms] {
				continue
			}
			st.seen[ms] = true
			_, d2 := differsDiff(ctx, pipes[ref], pipes[t], ds.Database, min, opt.Rules)
			st.Wrongs = append(st.Wrongs, FuzzWrong{Query: sql, Minimized: ms, Diff: d2, Case: fuzzCase(t.Name, min)})
		}
		if opt.Progress != nil && (i+1)%50 == 0 {
			opt.Progress(i+1, opt.N, time.Since(start))
		}
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// runArc runs Arc SQL on a pipeline and reads the result; the reference
// runs it as written, the others through their translation.
func runArc(ctx context.Context, p *query.Pipeline, db, sql string, ref bool) (*Result, error) {
	if ref {
		return read(p.QueryArc(ctx, db, sql))
	}
	plan, err := p.Plan(ctx, db, sql, translate.FromArc)
	if err != nil {
		return nil, err
	}
	return read(p.Run(ctx, db, plan))
}

func differs(ctx context.Context, ref, p *query.Pipeline, db string, q *genQuery, ru Rules) bool {
	ok, _ := differsDiff(ctx, ref, p, db, q, ru)
	return ok
}

func differsDiff(ctx context.Context, ref, p *query.Pipeline, db string, q *genQuery, ru Rules) (bool, string) {
	sql := q.String()
	want, err := runArc(ctx, ref, db, sql, true)
	if err != nil {
		return false, ""
	}
	got, err := runArc(ctx, p, db, sql, false)
	if err != nil {
		return false, ""
	}
	d := ru.Compare(want, got, q.ordered())
	return d != "", d
}

// minimize drops parts of q while it still differs: select items,
// branches of the WHERE tree, HAVING, grouping, ordering, DISTINCT,
// LIMIT. It is greedy and bounded; the result differs by construction.
func minimize(ctx context.Context, q *genQuery, still func(*genQuery) bool) *genQuery {
	cur := q
	for round := 0; round < 40; round++ {
		improved := false
		for _, c := range shrinks(cur) {
			if ctx.Err() != nil {
				return cur
			}
			if still(c) {
				cur, improved = c, true
				break
			}
		}
		if !improved {
			break
		}
	}
	return cur
}

// shrinks are q's one-step-smaller variants.
func shrinks(q *genQuery) []*genQuery {
	var out []*genQuery
	clone := func() *genQuery {
		c := *q
		c.items = slices.Clone(q.items)
		c.group = slices.Clone(q.group)
		c.desc = slices.Clone(q.desc)
		return &c
	}
	if q.limit >= 0 {
		c := clone()
		c.limit, c.offset = -1, 0
		out = append(out, c)
	}
	if q.offset > 0 {
		c := clone()
		c.offset = 0
		out = append(out, c)
	}
	if q.having != "" {
		c := clone()
		c.having = ""
		out = append(out, c)
	}
	if q.distinct {
		c := clone()
		c.distinct = false
		out = append(out, c)
	}
	if q.where != nil {
		c := clone()
		c.where = nil
		out = append(out, c)
		for _, sub := range subPreds(q.where) {
			c := clone()
			c.where = sub
			out = append(out, c)
		}
	}
	if len(q.items) > 1 {
		for i, it := range q.items {
			// A grouped item goes with its GROUP BY entry.
			c := clone()
			c.items = slices.Delete(slices.Clone(q.items), i, i+1)
			if len(c.desc) > i {
				c.desc = slices.Delete(slices.Clone(q.desc), i, i+1)
			}
			if gi := slices.Index(c.group, it.expr); gi >= 0 {
				c.group = slices.Delete(c.group, gi, gi+1)
			}
			out = append(out, c)
		}
	}
	if q.order && q.limit < 0 {
		c := clone()
		c.order, c.desc = false, nil
		out = append(out, c)
	}
	return out
}

// subPreds are the trees one level down: each child of AND/OR, NOT's
// operand.
func subPreds(p *pred) []*pred {
	if p.op == "leaf" {
		return nil
	}
	return p.kids
}

// fuzzCase renders a minimized query as a conformance case.
func fuzzCase(backend string, q *genQuery) string {
	h := fnv.New32a()
	h.Write([]byte(q.String()))
	var tags []string
	if !q.order {
		tags = append(tags, "unordered")
	}
	if q.sqlOnly {
		tags = append(tags, "sql-only")
	}
	s := fmt.Sprintf("-- name: fuzz-%s-%08x\n", backend, h.Sum32())
	if len(tags) > 0 {
		s += "-- tags: " + strings.Join(tags, " ") + "\n"
	}
	return s + q.String() + "\n"
}

// Summary prints one line per backend and the wrong answers.
func (r *FuzzReport) Summary() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "seed %d: %d queries (%d the reference rejected) in %s\n", r.Seed, r.Queries, r.Invalid, r.Elapsed.Round(time.Second))
	for _, b := range r.Backends {
		fmt.Fprintf(&sb, "%-20s generated %d  same %d  refused %d  errors %d  unstable %d  WRONG %d\n", b.Name, b.Generated, b.Same, b.Refused, b.Errors, b.Unstable, b.Wrong)
	}
	for _, b := range r.Backends {
		for _, e := range b.ErrorSamples[:min(len(b.ErrorSamples), 6)] {
			fmt.Fprintf(&sb, "\nerror on %s: %s\n", b.Name, indent(e))
		}
	}
	for _, b := range r.Backends {
		for _, u := range b.UnstableSamples {
			fmt.Fprintf(&sb, "\nunstable on %s (the reference's answer depends on row order): %s\n", b.Name, indent(u))
		}
	}
	for _, b := range r.Backends {
		sort.Slice(b.Wrongs, func(i, j int) bool { return len(b.Wrongs[i].Minimized) < len(b.Wrongs[j].Minimized) })
		for _, w := range b.Wrongs {
			fmt.Fprintf(&sb, "\nWRONG on %s: %s\n%s\n", b.Name, w.Minimized, indent(w.Diff))
		}
	}
	return sb.String()
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}

// reversed is ds with every table's rows in reverse order, for the
// shadow reference.
func reversed(ds *Dataset) (*Dataset, error) {
	out := *ds
	out.Batches = make([]*model.Batch, len(ds.Batches))
	for i, b := range ds.Batches {
		nb := &model.Batch{}
		for _, t := range b.Tables {
			nt := nb.Table(t.Measurement)
			for r := t.Len() - 1; r >= 0; r-- {
				cells := make([]model.Cell, 0, len(t.Columns))
				for _, c := range t.Columns {
					if c.Valid[r] {
						cells = append(cells, model.Cell{Name: c.Name, Tag: c.Tag, Value: c.At(r)})
					}
				}
				if err := nt.AppendRow(t.Time[r], cells); err != nil {
					return nil, err
				}
			}
		}
		out.Batches[len(ds.Batches)-1-i] = nb
	}
	return &out, nil
}
