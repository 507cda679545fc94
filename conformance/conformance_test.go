package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tsgate/dialects/duckdb"
	"tsgate/dialects/duckdb/duckdbtest"
	"tsgate/dialects/registry"
	"tsgate/guard"
	"tsgate/query"
)

func embeddedTarget(t *testing.T, name string, reference bool) *Target {
	t.Helper()
	s := duckdbtest.Open(t, filepath.Join(t.TempDir(), name+".duckdb"))
	return &Target{Name: name, Backend: duckdb.NewBackend(s), Reference: reference}
}

func TestCorpusParses(t *testing.T) {
	cases, err := ParseCases(Corpus(), "cases")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 300 {
		t.Errorf("corpus has %d cases, the issue asks for at least 300", len(cases))
	}
	sqlOnly := 0
	for _, c := range cases {
		if c.Has("sql-only") {
			sqlOnly++
		}
	}
	if sqlOnly == 0 {
		t.Error("no sql-only cases")
	}
}

// TestSuite runs the corpus on the embedded reference and on the same
// engine reached through the translator's DuckDB generator (every case
// must pass there: same engine, so any difference is a translation bug),
// plus each real backend named by TSGATE_TEST_CONFORMANCE_BACKENDS
// (space-separated name=url pairs), gated by baseline.json.
func TestSuite(t *testing.T) {
	ctx := context.Background()
	cases, err := ParseCases(Corpus(), "cases")
	if err != nil {
		t.Fatal(err)
	}
	base := DefaultBase(time.Now())
	if cases, err = Expand(cases, base); err != nil {
		t.Fatal(err)
	}
	translated := embeddedTarget(t, "duckdb-translated", false)
	if translated.Deviations, err = LoadDeviations(Corpus(), translated.Name); err != nil {
		t.Fatal(err)
	}
	targets := []*Target{embeddedTarget(t, "duckdb", true), translated}
	for _, kv := range strings.Fields(os.Getenv("TSGATE_TEST_CONFORMANCE_BACKENDS")) {
		name, url, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("TSGATE_TEST_CONFORMANCE_BACKENDS: %q is not name=url", kv)
		}
		be, err := registry.Open(ctx, url)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(func() { be.Close() })
		dev, err := LoadDeviations(Corpus(), name)
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, &Target{Name: name, Backend: be, Deviations: dev,
			SQLOnlyOutside: be.Name() == "influxql" || be.Name() == "flux"})
	}
	ds := NewDataset(1, base)
	rep, err := Run(ctx, ds, cases, targets, Options{Local: testLocal(t)})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	rep.WriteText(&sb)
	t.Log("\n" + sb.String())
	data, err := Corpus().(interface{ ReadFile(string) ([]byte, error) }).ReadFile("baseline.json")
	if err != nil {
		t.Fatal(err)
	}
	bl, err := ParseBaseline(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Regressions(bl) {
		t.Error("regression: " + r)
	}
	if ref := rep.Backends[0]; ref.Passed() != rep.Total {
		t.Errorf("the reference itself fails %d cases: the corpus is wrong", rep.Total-ref.Passed())
	}
}

// testLocal is a finishing engine for split plans, as the gateway runs.
func testLocal(t *testing.T) *query.Local {
	t.Helper()
	g, err := guard.New()
	if err != nil {
		t.Fatal(err)
	}
	l, err := query.NewLocal(g, query.DefaultLocalLimits())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(); g.Close() })
	return l
}

// TestNastyTimesDistinct: at every hour of the day the suite may run, the
// nasty points' instants are strictly increasing, so no two points of a
// series share one (a backend keeping one point per series and instant
// would then hold other rows than one keeping both). Before the day
// boundary moved back near midnight, runs from 03:00 to 04:59 UTC put
// base on day or day+1h.
func TestNastyTimesDistinct(t *testing.T) {
	midnight := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for m := 0; m < 24*60; m += 15 {
		base := DefaultBase(midnight.Add(time.Duration(m) * time.Minute))
		ts := nastyTimes(base)
		for i := 1; i < len(ts); i++ {
			if !ts[i].After(ts[i-1]) {
				t.Errorf("base %s: point %d (%s) is not after point %d (%s)", base.Format(time.RFC3339), i, ts[i].Format(time.RFC3339), i-1, ts[i-1].Format(time.RFC3339))
			}
		}
	}
}

// TestVariesPassesOnAnyReferenceAnswer: a case tagged varies runs on the
// reference many times, and a backend passes on any answer the reference
// gave. random() stands in for an order-dependent float sum: the
// reference answers both 0 and 1 in its runs, the other target one of
// them.
func TestVariesPassesOnAnyReferenceAnswer(t *testing.T) {
	ctx := context.Background()
	cases := []Case{{Name: "t/coin", SQL: "SELECT CAST(random() < 0.5 AS INTEGER) AS x FROM cpu LIMIT 1", Tags: []string{"varies"}}}
	targets := []*Target{embeddedTarget(t, "duckdb", true), embeddedTarget(t, "duckdb-translated", false)}
	rep, err := Run(ctx, NewDataset(1, DefaultBase(time.Now())), cases, targets, Options{Local: testLocal(t)})
	if err != nil {
		t.Fatal(err)
	}
	ref, other := rep.Backends[0].Results[0], rep.Backends[1].Results[0]
	if ref.Outcome != Pass || ref.Detail != fmt.Sprintf("2 different answers in %d runs", variesRuns) {
		t.Errorf("reference: %v %q", ref.Outcome, ref.Detail)
	}
	if other.Outcome != Pass {
		t.Errorf("translated: %v %s\n  query: %s", other.Outcome, other.Detail, other.Query)
	}
}
