package conformance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"tsgate/dialects"
	"tsgate/errs"
	"tsgate/query"
	"tsgate/translate"
	"tsgate/translate/ast"
)

// Outcome is what happened to one case on one backend.
type Outcome uint8

const (
	// Pass: same result as the reference.
	Pass Outcome = iota + 1
	// Fail: a different result — the worst outcome, a silent wrong answer.
	Fail
	// Refused: the translation declared the query inexpressible and the
	// case is outside the backend's declared subset.
	Refused
	// RefusedUndeclared: refused although the backend claims the case.
	RefusedUndeclared
	// Differs: a different result the backend's deviations file
	// declares, with its reason.
	Differs
	// Error: the backend failed to run the translation.
	Error
)

var outcomeNames = [...]string{Pass: "pass", Fail: "fail", Refused: "refused", RefusedUndeclared: "refused-undeclared",
	Differs: "differs", Error: "error"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "?"
}

// MarshalText writes the outcome's name in JSON reports.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Target is one backend under test.
type Target struct {
	// Name labels the score line and the report column.
	Name string
	// Backend is where the data and the queries go.
	Backend dialects.Backend
	// Reference marks the embedded DuckDB store running Arc SQL as written:
	// its results are the expected ones.
	Reference bool
	// SQLOnlyOutside says cases tagged sql-only lie outside this backend's
	// subset (InfluxQL, Flux), so refusing them is declared.
	SQLOnlyOutside bool
	// Deviations are the backend's declared refusals and differences.
	Deviations []Deviation
	// unavailable are optional measurements the backend refused at write.
	unavailable map[string]bool
}

// Deviation declares that cases matching Pattern (path.Match syntax on the
// case name) may be refused or differ on a backend, and why.
type Deviation struct {
	Pattern string
	Kind    Outcome // Refused or Differs
	Note    string
}

// ParseDeviations reads a deviations file: one per line,
// `pattern refused|differs note…`; # starts a comment.
func ParseDeviations(r io.Reader) ([]Deviation, error) {
	var out []Deviation
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 3 {
			return nil, fmt.Errorf("line %d: want `pattern refused|differs note`", n)
		}
		if _, err := path.Match(f[0], ""); err != nil {
			return nil, fmt.Errorf("line %d: pattern %q: %w", n, f[0], err)
		}
		d := Deviation{Pattern: f[0], Note: strings.Join(f[2:], " ")}
		switch f[1] {
		case "refused":
			d.Kind = Refused
		case "differs":
			d.Kind = Differs
		default:
			return nil, fmt.Errorf("line %d: kind %q: want refused or differs", n, f[1])
		}
		out = append(out, d)
	}
	return out, sc.Err()
}

// LoadDeviations reads deviations/<name>.txt from fsys, none when absent.
func LoadDeviations(fsys fs.FS, name string) ([]Deviation, error) {
	f, err := fsys.Open("deviations/" + name + ".txt")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseDeviations(f)
}

func (t *Target) declared(c *Case, kind Outcome) (string, bool) {
	if kind == Refused && t.SQLOnlyOutside && c.Has("sql-only") {
		return "sql-only construct, outside this backend's subset", true
	}
	for _, d := range t.Deviations {
		if d.Kind != kind {
			continue
		}
		if ok, _ := path.Match(d.Pattern, c.Name); ok {
			return d.Note, true
		}
	}
	return "", false
}

// CaseResult is one case on one backend.
type CaseResult struct {
	Case    string  `json:"case"`
	Outcome Outcome `json:"outcome"`
	// Query is what the backend ran (the translation).
	Query string `json:"query,omitempty"`
	// Detail is the difference, the refusal or the error, and for declared
	// outcomes their note.
	Detail string `json:"detail,omitempty"`
	// Finished says the backend could not answer the whole query and the
	// gateway finished it on the backend's rows (a split plan); Why is
	// the backend's refusal of the whole query.
	Finished bool   `json:"finished_in_gateway,omitempty"`
	Why      string `json:"why_finished,omitempty"`
}

// BackendReport is one backend's results.
type BackendReport struct {
	Name    string          `json:"name"`
	Results []CaseResult    `json:"results"`
	Counts  map[Outcome]int `json:"-"`
	// Pushed counts the passing cases the backend answered whole, without
	// the gateway finishing them.
	Pushed  int               `json:"pushed_down"`
	Score   map[string]int    `json:"counts"`
	Elapsed time.Duration     `json:"-"`
	Notes   map[string]string `json:"-"`
	// results are the reference's answers: one per case, or each
	// distinct one of a case tagged varies.
	results map[string][]*Result `json:"-"`
}

// variesRuns is how often the reference runs a case tagged varies. The
// one such case gave its rarer answer in 5% to 29% of runs (measured: 15
// of 300, 52 of 200); at 5%, 300 runs miss it with a probability of
// about 2e-7.
const variesRuns = 300

// Passed counts passes.
func (b *BackendReport) Passed() int { return b.Counts[Pass] }

// Failed counts what a baseline gates on: wrong results, undeclared
// refusals and errors.
func (b *BackendReport) Failed() int {
	return b.Counts[Fail] + b.Counts[RefusedUndeclared] + b.Counts[Error]
}

// ScoreLine is the one-line summary, e.g.
// "influxql: 287/300 passed, 11 refused (declared), 2 failed".
func (b *BackendReport) ScoreLine(total int) string {
	s := fmt.Sprintf("%s: %d/%d passed", b.Name, b.Counts[Pass], total)
	if f := b.Counts[Pass] - b.Pushed; f > 0 {
		s += fmt.Sprintf(" (%d finished in the gateway)", f)
	}
	if n := b.Counts[Refused]; n > 0 {
		s += fmt.Sprintf(", %d refused (declared)", n)
	}
	if n := b.Counts[Differs]; n > 0 {
		s += fmt.Sprintf(", %d differ (declared)", n)
	}
	if n := b.Counts[RefusedUndeclared]; n > 0 {
		s += fmt.Sprintf(", %d refused (undeclared)", n)
	}
	if n := b.Counts[Fail]; n > 0 {
		s += fmt.Sprintf(", %d failed", n)
	}
	if n := b.Counts[Error]; n > 0 {
		s += fmt.Sprintf(", %d errors", n)
	}
	return s
}

// Report is a whole run.
type Report struct {
	Started  time.Time        `json:"started"`
	Cases    []Case           `json:"-"`
	Total    int              `json:"total"`
	Backends []*BackendReport `json:"backends"`
}

// Options tune a run.
type Options struct {
	Rules Rules
	// Local, when set, lets backends answer what they cannot whole by a
	// split plan (the backend's rows, finished by the local engine), as
	// the gateway does.
	Local *query.Local
	// Progress, when set, is called after each case on each backend.
	Progress func(backend string, done, total int)
}

// Run loads ds into every target, runs every case on the reference and
// then on each other target, and compares.
func Run(ctx context.Context, ds *Dataset, cases []Case, targets []*Target, opt Options) (*Report, error) {
	if opt.Rules == (Rules{}) {
		opt.Rules = DefaultRules()
	}
	var ref *Target
	for _, t := range targets {
		if t.Reference {
			if ref != nil {
				return nil, errors.New("more than one reference target")
			}
			ref = t
		}
	}
	if ref == nil {
		return nil, errors.New("no reference target")
	}
	rep := &Report{Started: time.Now().UTC(), Cases: cases, Total: len(cases)}
	defer dropAll(targets, ds)
	for _, t := range targets {
		if err := t.Load(ctx, ds); err != nil {
			return nil, fmt.Errorf("%s: load dataset: %w", t.Name, err)
		}
	}
	// The reference first: every other backend is compared with it.
	order := append([]*Target{ref}, without(targets, ref)...)
	var refReport *BackendReport
	for _, t := range order {
		br := runTarget(ctx, t, ds, cases, refReport, opt)
		if t == ref {
			refReport = br
		}
		rep.Backends = append(rep.Backends, br)
	}
	return rep, nil
}

func without(ts []*Target, x *Target) []*Target {
	var out []*Target
	for _, t := range ts {
		if t != x {
			out = append(out, t)
		}
	}
	return out
}

// dropAll removes the run's database from every backend that can drop
// one (each run writes a fresh database; left behind, they pile up on the
// servers). Best effort: the results are already taken.
func dropAll(targets []*Target, ds *Dataset) {
	for _, t := range targets {
		if !t.Reference {
			t.Drop(ds)
		}
	}
}

// Load writes the dataset into t's backend; an optional measurement the
// backend refuses (any of its rows) is recorded as unavailable
// (Unavailable) instead of failing.
func (t *Target) Load(ctx context.Context, ds *Dataset) error {
	t.unavailable = map[string]bool{}
	for _, b := range ds.Batches {
		optional := len(b.Tables) == 1 && slices.Contains(ds.Optional, b.Tables[0].Measurement)
		res, err := t.Backend.Write(ctx, ds.Database, b)
		if err != nil {
			if code := errs.CodeOf(err); optional && (code == errs.Invalid || code == errs.Unsupported) {
				t.unavailable[b.Tables[0].Measurement] = true
				continue
			}
			return err
		}
		if res.Rejected > 0 {
			if optional {
				t.unavailable[b.Tables[0].Measurement] = true
				continue
			}
			return fmt.Errorf("backend rejected %d rows: %v", res.Rejected, errors.Join(res.Conflicts...))
		}
	}
	return nil
}

func runTarget(ctx context.Context, t *Target, ds *Dataset, cases []Case, ref *BackendReport, opt Options) *BackendReport {
	start := time.Now()
	br := &BackendReport{Name: t.Name, Counts: map[Outcome]int{}, results: map[string][]*Result{}}
	var opts []query.Option
	if !t.Reference {
		// An embedded target that is not the reference checks the DuckDB
		// generator: its queries are translated like any backend's.
		opts = append(opts, query.Translated())
	}
	if opt.Local != nil {
		opts = append(opts, query.WithLocal(opt.Local))
	}
	p := query.New(t.Backend, opts...)
	for i, c := range cases {
		cr, res := runCase(ctx, t, p, ds, &c, ref, opt)
		if t.Reference && len(res) > 0 {
			br.results[c.Name] = res
		}
		br.Results = append(br.Results, cr)
		br.Counts[cr.Outcome]++
		if cr.Outcome == Pass && !cr.Finished {
			br.Pushed++
		}
		if opt.Progress != nil {
			opt.Progress(t.Name, i+1, len(cases))
		}
	}
	br.Elapsed = time.Since(start)
	br.Score = map[string]int{}
	for o, n := range br.Counts {
		br.Score[o.String()] = n
	}
	return br
}

// runCase runs c on t; for the reference it also returns the results:
// one, or each distinct answer of variesRuns runs of a case tagged
// varies (SQL leaves its answer open and DuckDB's differs between runs:
// a float sum over DISTINCT values, added in hash-table order).
func runCase(ctx context.Context, t *Target, p *query.Pipeline, ds *Dataset, c *Case, ref *BackendReport, opt Options) (CaseResult, []*Result) {
	cr := CaseResult{Case: c.Name}
	if t.Reference {
		cr.Query = c.SQL
		runs := 1
		if c.Has("varies") {
			runs = variesRuns
		}
		var answers []*Result
		for range runs {
			res, err := read(p.QueryArc(ctx, ds.Database, c.SQL))
			if err != nil {
				cr.Outcome, cr.Detail = Error, err.Error()
				return cr, nil
			}
			if !slices.ContainsFunc(answers, func(a *Result) bool { return opt.Rules.Compare(a, res, ordered(c)) == "" }) {
				answers = append(answers, res)
			}
		}
		cr.Outcome = Pass
		if len(answers) > 1 {
			cr.Detail = fmt.Sprintf("%d different answers in %d runs", len(answers), runs)
		}
		return cr, answers
	}
	if m, ok := readsUnavailable(c.SQL, t.unavailable); ok {
		// The backend refused this data at write (as it must: times
		// outside its range), so it holds part of it at most.
		cr.Outcome, cr.Detail = Refused, "the backend refused "+m+" at write"
		return cr, nil
	}
	plan, err := p.Plan(ctx, ds.Database, c.SQL, translate.FromArc)
	if err != nil {
		if errs.CodeOf(err) == errs.Unsupported {
			if note, ok := t.declared(c, Refused); ok {
				cr.Outcome, cr.Detail = Refused, errs.As(err).Msg+" — declared: "+note
			} else {
				cr.Outcome, cr.Detail = RefusedUndeclared, errs.As(err).Msg
			}
			return cr, nil
		}
		cr.Outcome, cr.Detail = Error, "translate: "+err.Error()
		return cr, nil
	}
	cr.Query = plan.String()
	if plan.Hybrid != nil {
		cr.Finished, cr.Why = true, errs.As(plan.Hybrid.Why).Msg
	}
	res, err := read(p.Run(ctx, ds.Database, plan))
	if err != nil {
		cr.Outcome, cr.Detail = Error, err.Error()
		return cr, nil
	}
	answers, ok := ref.results[c.Name]
	if !ok {
		cr.Outcome, cr.Detail = Error, "the reference failed on this case: "+refDetail(ref, c.Name)
		return cr, nil
	}
	// A case whose reference answer varies passes on any answer the
	// reference itself gave; a difference is reported against the first.
	diff := ""
	for _, want := range answers {
		if diff = opt.Rules.Compare(want, res, ordered(c)); diff == "" {
			break
		}
	}
	if diff != "" {
		diff = opt.Rules.Compare(answers[0], res, ordered(c))
		if note, ok := t.declared(c, Differs); ok {
			cr.Outcome, cr.Detail = Differs, diff+"\n— declared: "+note
		} else {
			cr.Outcome, cr.Detail = Fail, diff
		}
		return cr, nil
	}
	cr.Outcome = Pass
	return cr, nil
}

func refDetail(ref *BackendReport, name string) string {
	for _, r := range ref.Results {
		if r.Case == name {
			return r.Detail
		}
	}
	return "not run"
}

// ordered reports whether the case's rows come in a defined order: a
// top-level ORDER BY, unless the case says its order has ties.
func ordered(c *Case) bool {
	if c.Has("unordered") {
		return false
	}
	return Ordered(c.SQL)
}

// Unavailable names a measurement sql reads that the backend refused at
// Load, if any.
func (t *Target) Unavailable(sql string) (string, bool) { return readsUnavailable(sql, t.unavailable) }

// Drop removes the dataset's database from a backend that can drop one.
// Best effort: the results are already taken.
func (t *Target) Drop(ds *Dataset) {
	if d, ok := dialects.As[dialects.Deleter](t.Backend); ok {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		d.DropDatabase(ctx, ds.Database)
		cancel()
	}
}

// readsUnavailable names a measurement of unavailable that sql reads.
func readsUnavailable(sql string, unavailable map[string]bool) (string, bool) {
	if len(unavailable) == 0 {
		return "", false
	}
	st, err := translate.New().Parse(context.Background(), sql, "", nil)
	if err != nil {
		return "", false
	}
	var found string
	ast.Inspect(st, func(n ast.Node) bool {
		if t, ok := n.(*ast.Table); ok && unavailable[t.Name] && found == "" {
			found = t.Name
		}
		return found == ""
	})
	return found, found != ""
}
