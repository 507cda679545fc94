package gateway

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"tsgate/internal/testenv"
)

// TestPGWireAvgNumeric checks PostgreSQL's avg of integers and quotients
// of integer-valued numbers (sum(bigint) / count(*)), numerics whose
// display scale depends on each group's values (select_div_scale),
// against a real PostgreSQL 15 on groups built to sit on every edge of
// that rule: sums and counts around the base-10000 digit boundaries, equal
// leading digits (the quotient's weight is guessed one lower), zero and
// negative sums, counts past 10,000, sums past 2^63, rounding ties. The
// comparison is of the text each server sends, cell by cell.
func TestPGWireAvgNumeric(t *testing.T) {
	base := testenv.URL(t, "TSGATE_TEST_POSTGRES_URL")
	ctx := context.Background()
	groups := avgGroups(rand.New(rand.NewPCG(20261205, 14)))

	s := startPG(t, nil)
	var lp strings.Builder
	var rows [][]any
	ts := int64(1_700_000_000_000_000_000)
	for gi, vals := range groups {
		g := fmt.Sprintf("g%04d", gi)
		for _, v := range vals {
			ts++
			fmt.Fprintf(&lp, "avgs,g=%s x=%di %d\n", g, v, ts)
			rows = append(rows, []any{g, v})
		}
	}
	if status, body, _ := s.do(t, req{path: "/write?db=avgdb", body: []byte(lp.String())}); status != 204 {
		t.Fatalf("write: %d %s", status, body)
	}

	admin := testenv.Postgres(t, base)
	if _, err := admin.Exec(ctx, "CREATE TEMP TABLE avgs (g text, x bigint)"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CopyFrom(ctx, pgx.Identifier{"avgs"}, []string{"g", "x"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	gw := pgConnect(t, s.url("avgdb"))

	for _, q := range []string{
		"SELECT g, avg(x) AS a, avg(x)::text AS t, round(avg(x)) AS r0, round(avg(x), 2) AS r2, round(avg(x), 18) AS r18 FROM avgs GROUP BY g ORDER BY g",
		"SELECT g, avg(x) FILTER (WHERE x % 3 = 0) AS f, avg(DISTINCT x) AS d, round(avg(x % 1000), 1) AS r FROM avgs GROUP BY g ORDER BY g",
		"SELECT avg(x) AS a, round(avg(x), 3) AS r FROM avgs",
		"SELECT g, sum(x) / count(*) AS q, sum(x) / 7 AS s, sum(x) / -3 AS n, sum(x % 10000) / count(*) AS m FROM avgs GROUP BY g ORDER BY g",
	} {
		want := textRows(t, admin, q)
		got := textRows(t, gw, q)
		if strings.Contains(q, "GROUP BY") && len(want) != len(groups)+1 {
			t.Fatalf("%s: PostgreSQL answered %d rows for %d groups", q, len(want)-1, len(groups))
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s\n(-PostgreSQL +tsgate):\n%s", q, d)
		}
	}
}

// textRows runs q with the simple protocol and returns every cell as the
// text the server sent ("NULL" for NULL), with the column names first.
func textRows(t *testing.T, c *pgx.Conn, q string) [][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rs, err := c.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	var names []string
	for _, f := range rs.FieldDescriptions() {
		names = append(names, fmt.Sprintf("%s:%d", f.Name, f.DataTypeOID))
	}
	out := [][]string{names}
	for rs.Next() {
		var row []string
		for _, v := range rs.RawValues() {
			if v == nil {
				row = append(row, "NULL")
				continue
			}
			row = append(row, string(v))
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// avgGroups builds the groups' values: for each count around a digit
// boundary, sums at and beside the boundaries of the quotient's weight,
// then random groups of every magnitude and groups of int64 extremes.
func avgGroups(r *rand.Rand) [][]int64 {
	var out [][]int64
	// fill makes c values summing to sum (every value within int64).
	fill := func(c, sum int64) []int64 {
		vals := make([]int64, c)
		q, rem := sum/c, sum%c
		for i := range vals {
			vals[i] = q
		}
		vals[c-1] += rem
		return vals
	}
	for _, c := range []int64{1, 2, 3, 4, 5, 7, 9, 10, 11, 99, 100, 101, 9999, 10000, 10001} {
		targets := []int64{0, 1, -1, c, -c, c - 1, c + 1, 2*c + 1, 9999, 10000, 10001, c * 9999, c * 10000, c*10000 + 1, c * 5, 10000*c - 1, c * 123456789}
		if c >= 9999 {
			targets = []int64{1, c + 1, c * 10000}
		}
		for _, sum := range targets {
			out = append(out, fill(c, sum))
		}
	}
	for range 200 {
		c := 1 + r.IntN(40)
		vals := make([]int64, c)
		mag := math.Pow(10, float64(r.IntN(18)))
		for i := range vals {
			vals[i] = int64(r.Float64() * mag)
			if r.IntN(3) == 0 {
				vals[i] = -vals[i]
			}
		}
		out = append(out, vals)
	}
	for _, c := range []int{2, 3, 4, 7} {
		vals := make([]int64, c)
		for i := range vals {
			vals[i] = math.MaxInt64 - int64(r.IntN(1000))
			if c == 7 && i%2 == 1 {
				vals[i] = math.MinInt64 + int64(r.IntN(1000))
			}
		}
		out = append(out, vals)
	}
	return out
}
