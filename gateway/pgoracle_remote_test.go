package gateway

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"tsgate/conformance"
	"tsgate/internal/testenv"
)

// TestPGWireOracleRemote is TestPGWireOracle with tsgate in front of each
// real remote backend (TSGATE_TEST_CONFORMANCE_BACKENDS): the same data
// written through the gateway, the same corpus and generated queries sent
// over pg wire, PostgreSQL 15 deciding. A backend may refuse what it
// cannot answer exactly (0A000, counted); a different answer, or an error
// where PostgreSQL answers, fails.
func TestPGWireOracleRemote(t *testing.T) {
	base := testenv.URL(t, "TSGATE_TEST_POSTGRES_URL")
	spec := testenv.URL(t, "TSGATE_TEST_CONFORMANCE_BACKENDS")
	ctx := context.Background()
	start := conformance.DefaultBase(time.Now())
	cases := oracleCases(t, start)
	seed, n := testenv.FuzzBudget("TSGATE_TEST_PGFUZZ_N", 300)
	for _, b := range strings.Fields(spec) {
		name, url, _ := strings.Cut(b, "=")
		t.Run(name, func(t *testing.T) {
			s := startPG(t, func(c *Config) { c.Backend.URL = url })
			ds := conformance.NewDataset(1, start)
			target := &conformance.Target{Name: name, Backend: s.gateway.backend}
			if err := target.Load(ctx, ds); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { target.Drop(ds) })
			oracle, gw := oracleAndGateway(t, base, s, ds)
			st := oracleStats{refusalsAllowed: true}
			for _, c := range slices.Concat(cases, generatedCases(seed, ds, n)) {
				if _, ok := target.Unavailable(c.SQL); ok {
					continue
				}
				st.run(ctx, t, oracle, gw, &c, nil)
			}
			t.Logf("pg wire in front of %s vs PostgreSQL 15 (generated queries: seed %d):\n%s", name, seed, st.summary())
			for _, f := range st.failures {
				t.Error(f)
			}
		})
	}
}
