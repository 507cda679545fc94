package conformance

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"tsgate/dialects/registry"
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
	seed, n := uint64(20261205), 400
	if v, err := strconv.ParseUint(os.Getenv("TSGATE_TEST_FUZZ_SEED"), 10, 64); err == nil {
		seed = v
	}
	if v, err := strconv.Atoi(os.Getenv("TSGATE_TEST_FUZZ_N")); err == nil {
		n = v
	}
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
	rep, err := Fuzz(ctx, ds, targets, FuzzOptions{N: n, Seed: seed, Local: testLocal(t)})
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
	}
}
