package conformance

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"tsgate/dialects/registry"
	"tsgate/internal/testenv"
)

// TestDifferentialFuzz generates queries over the dataset (nasty
// measurement included) and runs them on the embedded reference, on the
// same engine through the DuckDB generator, and on every real backend of
// TSGATE_TEST_CONFORMANCE_BACKENDS; any wrong answer fails, printed
// minimized as a ready conformance case. The seed and budget are fixed
// (TSGATE_TEST_FUZZ_SEED, TSGATE_TEST_FUZZ_N override them) so CI runs the
// same queries every time.
func TestDifferentialFuzz(t *testing.T) {
	ctx := context.Background()
	seed, n := testenv.FuzzBudget("TSGATE_TEST_FUZZ_N", 400)
	targets := []*Target{embeddedTarget(t, "duckdb", true), embeddedTarget(t, "duckdb-translated", false)}
	for _, kv := range strings.Fields(os.Getenv("TSGATE_TEST_CONFORMANCE_BACKENDS")) {
		name, url, _ := strings.Cut(kv, "=")
		be, err := registry.Open(ctx, url)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(func() { be.Close() })
		targets = append(targets, &Target{Name: name, Backend: be})
	}
	ds := NewDataset(1, DefaultBase(time.Now()))
	rep, err := Fuzz(ctx, ds, targets, FuzzOptions{N: n, Seed: seed, Local: testLocal(t), Shadow: embeddedTarget(t, "duckdb-shadow", false)})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.Summary())
	if rep.Queries < n/2 {
		t.Errorf("the reference accepted only %d of %d generated queries: the generator drifted; first rejections: %v", rep.Queries, n, rep.refErrors)
	}
	for _, b := range rep.Backends {
		if b.Wrong > 0 {
			t.Errorf("%s: %d wrong answers (minimized above)", b.Name, b.Wrong)
		}
		// Order-dependent rounding is rare; many such answers would mean
		// the shadow is hiding differences it should not.
		if b.Unstable > n/50 {
			t.Errorf("%s: %d answers put down to row order (samples above), more than 2%% of %d", b.Name, b.Unstable, n)
		}
	}
}

// TestReversedDataset: the shadow reference gets the same rows, each
// table's in reverse order.
func TestReversedDataset(t *testing.T) {
	ds := NewDataset(1, DefaultBase(time.Now()))
	rev, err := reversed(ds)
	if err != nil {
		t.Fatal(err)
	}
	rows := func(d *Dataset) (n int) {
		for _, b := range d.Batches {
			n += b.Rows()
		}
		return n
	}
	if rows(rev) != rows(ds) || len(rev.Batches) != len(ds.Batches) {
		t.Fatalf("rows %d in %d batches, want %d in %d", rows(rev), len(rev.Batches), rows(ds), len(ds.Batches))
	}
	orig := ds.Batches[0].Tables[0]
	last := rev.Batches[len(rev.Batches)-1].Tables[0]
	if orig.Measurement != last.Measurement || orig.Time[0] != last.Time[last.Len()-1] || orig.Time[orig.Len()-1] != last.Time[0] {
		t.Errorf("first batch's table %s not reversed into the last batch (%s)", orig.Measurement, last.Measurement)
	}
	for _, c := range orig.Columns {
		rc := last.Column(c.Name)
		if rc == nil {
			t.Fatalf("column %s lost", c.Name)
		}
		for i := range orig.Len() {
			if c.At(i) != rc.At(orig.Len()-1-i) {
				t.Fatalf("column %s row %d: %v, reversed %v", c.Name, i, c.At(i), rc.At(orig.Len()-1-i))
			}
		}
	}
}
