package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tsgate/conformance"
	"tsgate/dialects"
	"tsgate/dialects/duckdb"
	"tsgate/dialects/registry"
	"tsgate/guard"
	"tsgate/query"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runConformance(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var backends stringList
	fl.Var(&backends, "backend", "backend URL to score, as name=URL or URL (repeatable); the embedded reference always runs")
	casesDir := fl.String("cases", "", "directory of .test case files (default: the built-in corpus)")
	report := fl.String("report", "text", "report format: text, json, html or markdown")
	out := fl.String("out", "", "write the report here instead of standard output")
	seed := fl.Uint64("seed", 1, "dataset seed")
	baseline := fl.String("baseline", "", "baseline.json to gate on (default: the built-in one)")
	translated := fl.Bool("translated-duckdb", true, "also score the embedded engine reached through the translator")
	hybrid := fl.Bool("hybrid", true, "let backends answer by split plans finished in the gateway, as the gateway does (query.hybrid)")
	fuzzN := fl.Int("fuzz", 0, "instead of the case corpus, run N generated queries differentially against the reference")
	fuzzSeed := fl.Uint64("fuzz-seed", 20261205, "seed of the generated queries (the same seed draws the same queries)")
	fuzzTime := fl.Duration("fuzz-time", 0, "stop generating after this long (with --fuzz 0: run until then)")
	if !noArgs(fl, args, stderr) {
		return 2
	}
	corpus := conformance.Corpus()
	casesFS, dir := corpus, "cases"
	if *casesDir != "" {
		casesFS, dir = os.DirFS(*casesDir), "."
	}
	cases, err := conformance.ParseCases(casesFS, dir)
	if err != nil {
		fmt.Fprintln(stderr, "tsgate conformance:", err)
		return 1
	}
	base := conformance.DefaultBase(time.Now())
	if cases, err = conformance.Expand(cases, base); err != nil {
		fmt.Fprintln(stderr, "tsgate conformance:", err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "tsgate-conformance")
	if err != nil {
		fmt.Fprintln(stderr, "tsgate conformance:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	embedded := func(name string, ref bool) (*conformance.Target, error) {
		s, err := duckdb.Open(ctx, filepath.Join(tmp, name+".duckdb"))
		if err != nil {
			return nil, err
		}
		dev, err := conformance.LoadDeviations(corpus, name)
		if err != nil {
			return nil, err
		}
		return &conformance.Target{Name: name, Backend: duckdb.NewBackend(s), Reference: ref, Deviations: dev}, nil
	}
	ref, err := embedded("duckdb", true)
	if err != nil {
		fmt.Fprintln(stderr, "tsgate conformance:", err)
		return 1
	}
	targets := []*conformance.Target{ref}
	if *translated {
		t, err := embedded("duckdb-translated", false)
		if err != nil {
			fmt.Fprintln(stderr, "tsgate conformance:", err)
			return 1
		}
		targets = append(targets, t)
	}
	for _, b := range backends {
		name, url, ok := strings.Cut(b, "=")
		if !ok || strings.Contains(name, "://") {
			url, name = b, ""
		}
		be, err := registry.Open(ctx, url)
		if err != nil {
			fmt.Fprintln(stderr, "tsgate conformance:", err)
			return 1
		}
		defer be.Close()
		if name == "" {
			name = be.Name()
		}
		dev, err := conformance.LoadDeviations(corpus, name)
		if err != nil {
			fmt.Fprintln(stderr, "tsgate conformance:", err)
			return 1
		}
		targets = append(targets, &conformance.Target{Name: name, Backend: be, Deviations: dev,
			SQLOnlyOutside: sqlOnlyOutside(be)})
	}
	defer func() {
		for _, t := range targets[:min(len(targets), 2)] {
			t.Backend.Close()
		}
	}()
	var local *query.Local
	if *hybrid {
		g, err := guard.New()
		if err != nil {
			fmt.Fprintln(stderr, "tsgate conformance:", err)
			return 1
		}
		defer g.Close()
		if local, err = query.NewLocal(g, query.DefaultLocalLimits()); err != nil {
			fmt.Fprintln(stderr, "tsgate conformance:", err)
			return 1
		}
		defer local.Close()
	}
	if *fuzzN > 0 || *fuzzTime > 0 {
		shadow, err := embedded("duckdb-shadow", false)
		if err != nil {
			fmt.Fprintln(stderr, "tsgate conformance:", err)
			return 1
		}
		defer shadow.Backend.Close()
		return runFuzz(ctx, targets, conformance.FuzzOptions{N: *fuzzN, Duration: *fuzzTime, Seed: *fuzzSeed, Local: local, Shadow: shadow}, *seed, base, *out, stdout, stderr)
	}
	opt := conformance.Options{Local: local}
	bar := newProgress(stderr)
	var started time.Time
	opt.Progress = func(backend string, done, total int) {
		if done == 1 {
			started = time.Now()
		}
		const width = 30
		n := done * width / total
		// The rate counts the cases after the first: its start is when
		// the first one ended.
		bar.show(fmt.Sprintf("%-20s [%s%s] %d/%d cases, %s", backend, strings.Repeat("#", n), strings.Repeat(".", width-n),
			done, total, rateETA(int64(done-1), int64(total-1), time.Since(started), "cases")), done == total)
		if done == total {
			bar.done()
		}
	}
	ds := conformance.NewDataset(*seed, base)
	rep, err := conformance.Run(ctx, ds, cases, targets, opt)
	if err != nil {
		fmt.Fprintln(stderr, "tsgate conformance:", err)
		return 1
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(stderr, "tsgate conformance:", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	switch *report {
	case "text":
		err = rep.WriteText(w)
	case "json":
		err = rep.WriteJSON(w)
	case "html":
		err = rep.WriteHTML(w)
	case "markdown":
		err = rep.WriteMarkdown(w)
	default:
		fmt.Fprintf(stderr, "tsgate conformance: unknown report format %q\n", *report)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "tsgate conformance:", err)
		return 1
	}
	if *out != "" || *report != "text" {
		for _, b := range rep.Backends {
			fmt.Fprintln(stderr, b.ScoreLine(rep.Total))
		}
	}
	var blData []byte
	if *baseline != "" {
		blData, err = os.ReadFile(*baseline)
	} else {
		blData, err = fs.ReadFile(corpus, "baseline.json")
	}
	if err != nil {
		fmt.Fprintln(stderr, "tsgate conformance:", err)
		return 1
	}
	bl, err := conformance.ParseBaseline(blData)
	if err != nil {
		fmt.Fprintln(stderr, "tsgate conformance:", err)
		return 1
	}
	if regs := rep.Regressions(bl); len(regs) > 0 {
		for _, r := range regs {
			fmt.Fprintln(stderr, "regression:", r)
		}
		return 3
	}
	return 0
}

// runFuzz is the differential query fuzzer over the targets: every wrong
// answer is printed minimized, as a ready conformance case, and fails the
// run (exit 3); refusals are acceptable outcomes.
func runFuzz(ctx context.Context, targets []*conformance.Target, opt conformance.FuzzOptions, seed uint64, base time.Time, out string, stdout, stderr io.Writer) int {
	bar := newProgress(stderr)
	opt.Progress = func(done, total int, elapsed time.Duration) {
		bar.show(fmt.Sprintf("%d/%d queries, %s", done, total, rateETA(int64(done), int64(total), elapsed, "queries")), done == total)
	}
	rep, err := conformance.Fuzz(ctx, conformance.NewDataset(seed, base), targets, opt)
	bar.done()
	if err != nil {
		fmt.Fprintln(stderr, "tsgate conformance:", err)
		return 1
	}
	w := stdout
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			fmt.Fprintln(stderr, "tsgate conformance:", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	fmt.Fprint(w, rep.Summary())
	for _, b := range rep.Backends {
		if b.Wrong > 0 {
			return 3
		}
	}
	return 0
}

// sqlOnlyOutside says the backend's language is not SQL, as its registry
// entry declares: SQL-only cases are outside it.
func sqlOnlyOutside(be dialects.Backend) bool {
	d, ok := registry.Describe(be.Name())
	return ok && d.SQLOnlyOutside
}
