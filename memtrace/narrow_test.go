package memtrace

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"tsgate/dialects/duckdb/duckdbtest"
	"tsgate/model"
)

// TestNarrowedListMatchesPlain: the narrowed list/search form (an added
// bound on time, newestBound) returns exactly what the plain form does on
// DuckDB, for both orders, offsets past the matches, filters matching
// nothing, and time ties at the k-th row.
func TestNarrowedListMatchesPlain(t *testing.T) {
	ctx := context.Background()
	st := duckdbtest.Open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	batch := &model.Batch{}
	tb := batch.Table("events")
	var cells []model.Cell
	var err error
	used := map[int64]bool{}
	for i := range 3000 {
		// Unique times, except a run of ties every 100 rows.
		us := rng.Int64N(30 * 24 * 3600 * 1_000_000)
		if i%100 == 0 {
			us = 1_000_000
		}
		for used[us] && i%100 != 0 {
			us++
		}
		used[us] = true
		m := &Memory{Time: base.Add(time.Duration(us) * time.Microsecond), OrgID: []string{"org_a", "org_b"}[i%2], CreateRequest: CreateRequest{
			AgentID: "agent_" + strconv.Itoa(i%5), SessionID: "sess_" + strconv.Itoa(i%7),
			MemoryType: []string{"episodic", "decision"}[i%2], EventType: "general",
			Content: "memory " + strconv.Itoa(i), Tags: []string{"t" + strconv.Itoa(i%3)}, Importance: float64(i%10) / 10,
			DedupKey: strconv.Itoa(i)}}
		if cells, err = appendRow(tb, m, cells, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Write(ctx, "memory", batch); err != nil {
		t.Fatal(err)
	}
	run := func(sql string) ([]string, []int64) {
		t.Helper()
		rows, err := st.Query(ctx, "memory", sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		defer rows.Close()
		cols := rows.Columns()
		ti, ci := slices.IndexFunc(cols, func(c model.ResultColumn) bool { return c.Name == "time" }),
			slices.IndexFunc(cols, func(c model.ResultColumn) bool { return c.Name == "content" })
		var contents []string
		var times []int64
		v := make([]model.Value, len(cols))
		for rows.Next(v) {
			times = append(times, v[ti].I)
			contents = append(contents, v[ci].S)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return contents, times
	}
	queries := []listQuery{
		{orgID: "org_a", limit: 100},
		{orgID: "org_a", agentID: "agent_2", limit: 10, offset: 40},
		{orgID: "org_b", limit: 50, offset: 1490},
		{orgID: "org_b", limit: 50, offset: 5000},
		{orgID: "org_a", tags: []string{"t1"}, limit: 20, asc: true},
		{orgID: "org_a", limit: 7, offset: 3, asc: true},
		{orgID: "org_nobody", limit: 100},
		{orgID: "org_b", memoryTypes: []string{"decision"}, contentContains: "memory 1", minImportance: 0.5, limit: 30, search: true},
		{orgID: "org_a", since: "2026-11-10T00:00:00Z", until: "2026-11-20T00:00:00Z", limit: 100, offset: 10},
		// The tie run (30 rows at one instant, all org_a) straddles the
		// 10th row of the ascending order.
		{orgID: "org_a", limit: 10, asc: true},
	}
	for i, q := range queries {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			plain, err := q.sql("events", false)
			if err != nil {
				t.Fatal(err)
			}
			narrow, _ := q.sql("events", true)
			wantC, wantT := run(plain)
			gotC, gotT := run(narrow)
			if i == 0 && len(wantT) != 100 {
				t.Fatalf("the first query returned %d rows; the data set is not what the test assumes", len(wantT))
			}
			if d := cmp.Diff(wantT, gotT); d != "" {
				t.Errorf("times (-plain +narrow):\n%s", d)
			}
			if !ties(wantT) {
				if d := cmp.Diff(wantC, gotC); d != "" {
					t.Errorf("rows (-plain +narrow):\n%s", d)
				}
			}
		})
	}
}

// ties reports whether times has a repeated instant (the rows among ties
// are the engine's choice, with or without the bound).
func ties(times []int64) bool {
	for i := 1; i < len(times); i++ {
		if times[i] == times[i-1] {
			return true
		}
	}
	return false
}
