package guard

import (
	"context"
	"database/sql"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"tsgate/errs"
)

// TestBucketRun: the text each two-argument time_bucket runs as. The
// offset is -(2000-01-03 mod width) µs: 7 minutes → -360 s, a week → -4
// days (2000-01-03 is a Monday, the epoch a Thursday).
func TestBucketRun(t *testing.T) {
	g := newGuard(t)
	ctx := context.Background()
	for _, c := range []struct{ in, want string }{
		{"SELECT time_bucket(INTERVAL '7 minutes', time) FROM cpu",
			"SELECT time_bucket(INTERVAL '7 minutes', time, INTERVAL '-360000000 microseconds') FROM cpu"},
		{"SELECT time_bucket('7 minutes', time) FROM cpu",
			"SELECT time_bucket('7 minutes', time, INTERVAL '-360000000 microseconds') FROM cpu"},
		{"SELECT time_bucket(INTERVAL 7 MINUTE, time) AS b FROM cpu",
			"SELECT time_bucket(INTERVAL 7 MINUTE, time, INTERVAL '-360000000 microseconds') AS b FROM cpu"},
		{"SELECT main.time_bucket('1 week'::INTERVAL, \"time\" ) FROM cpu",
			"SELECT main.time_bucket('1 week'::INTERVAL, \"time\" , INTERVAL '-345600000000 microseconds') FROM cpu"},
		// Nested calls, a comment and a string with parentheses inside.
		{"SELECT time_bucket(INTERVAL '11 minutes' /* ) */, time_bucket(INTERVAL '5 days', time)) AS b, ')' FROM cpu",
			"SELECT time_bucket(INTERVAL '11 minutes' /* ) */, time_bucket(INTERVAL '5 days', time, INTERVAL '-345600000000 microseconds'), INTERVAL '-480000000 microseconds') AS b, ')' FROM cpu"},
		{"EXPLAIN SELECT time_bucket(INTERVAL '7 minutes', time) FROM cpu",
			"EXPLAIN SELECT time_bucket(INTERVAL '7 minutes', time, INTERVAL '-360000000 microseconds') FROM cpu"},
		// Widths that divide the 10,959 days between the origins, months,
		// and calls that already name an origin or offset run as written.
		{"SELECT time_bucket(INTERVAL '5 minutes', time), time_bucket(INTERVAL 1 DAY, time) FROM cpu", ""},
		{"SELECT time_bucket(INTERVAL '7 months', time) FROM cpu", ""},
		{"SELECT time_bucket(INTERVAL '7 minutes', time, TIMESTAMP '2024-01-01') FROM cpu", ""},
		{"SELECT time_bucket(INTERVAL '7 minutes', time, INTERVAL '1 minute') FROM cpu", ""},
		// A width DuckDB cannot read fails as DuckDB words it.
		{"SELECT time_bucket('seven minutes', time) FROM cpu", ""},
		{"SELECT time_bucket FROM cpu", ""},
	} {
		st, err := g.Arc(ctx, "telegraf", c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		want := c.want
		if want == "" {
			want = c.in
		}
		if diff := cmp.Diff(want, st.Run); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.in, diff)
		}
	}
	for _, q := range []string{
		"SELECT time_bucket(w, time) FROM cpu",
		"SELECT time_bucket(INTERVAL (2 + 5) MINUTE, time) FROM cpu",
		"SELECT time_bucket(to_minutes(CAST(random() * 10 AS BIGINT)), time) FROM cpu",
	} {
		_, err := g.Arc(ctx, "telegraf", q)
		if e := errs.As(err); e == nil || e.SQLState != "0A000" {
			t.Errorf("%s: %v, want a 0A000 refusal", q, err)
		}
	}
}

// TestBucketRunAnswers runs the aligned text in DuckDB: 7-minute buckets
// of 2023-11-14 22:13:20 start at 22:13:00 (the epoch's grid, Arc's
// answer recorded in gateway/testdata/arc-recorded/bucket_7m.body), not
// 22:12:00 (2000-01-03's), and every type keeps its type.
func TestBucketRunAnswers(t *testing.T) {
	g := newGuard(t)
	ctx := context.Background()
	if err := g.ready(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ sql, want string }{
		{"SELECT time_bucket(INTERVAL '7 minutes', TIMESTAMP '2023-11-14 22:13:20.6')::VARCHAR", "2023-11-14 22:13:00"},
		{"SELECT time_bucket(INTERVAL '7 minutes', TIMESTAMPTZ '2023-11-14 22:13:20.6+00')::VARCHAR", "2023-11-14 22:13:00+00"},
		{"SELECT time_bucket(INTERVAL '1 week', DATE '2023-11-14')::VARCHAR", "2023-11-09"},
		{"SELECT time_bucket(INTERVAL '11 minutes', TIMESTAMP '1969-12-31 23:59:59.999999')::VARCHAR", "1969-12-31 23:49:00"},
		{"SELECT time_bucket(INTERVAL '11 minutes', TIMESTAMP '1970-01-01 00:00:00')::VARCHAR", "1970-01-01 00:00:00"},
	} {
		st, err := g.Arc(ctx, "x", c.sql)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := g.p.db.QueryRowContext(ctx, st.Run).Scan(&got); err != nil {
			t.Fatalf("%s: %v", st.Run, err)
		}
		if got != c.want {
			t.Errorf("%s = %s, want %s", st.Run, got, c.want)
		}
	}
	// Against epoch arithmetic over a spread of times and widths.
	for _, w := range []int64{7 * 60, 11 * 60, 13, 5 * 86400, 7 * 86400, 90 * 60} {
		for _, ts := range []int64{-86400*400 - 1, -1, 0, 1, 1_700_000_000, 4_102_444_800 + 12345} {
			q := "SELECT epoch_us(time_bucket(to_seconds(" + strconv.FormatInt(w, 10) + "), make_timestamp(" + strconv.FormatInt(ts*1_000_000+999_999, 10) + ")))"
			st, err := g.Arc(ctx, "x", q)
			if err != nil {
				t.Fatal(err)
			}
			var got sql.NullInt64
			if err := g.p.db.QueryRowContext(ctx, st.Run).Scan(&got); err != nil {
				t.Fatalf("%s: %v", st.Run, err)
			}
			want := floorDiv(ts, w) * w * 1_000_000
			if got.Int64 != want {
				t.Errorf("width %ds at %s: %s, want %s (%s)", w, time.Unix(ts, 0).UTC(), time.UnixMicro(got.Int64).UTC(), time.UnixMicro(want).UTC(), st.Run)
			}
		}
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// FuzzBucketAlignment: for any width in seconds and any time, the aligned
// text answers epoch arithmetic's bucket, whichever way the width is
// spelled.
func FuzzBucketAlignment(f *testing.F) {
	f.Add(uint32(420), int64(1_700_000_000_600_000), uint8(0))
	f.Add(uint32(7*86400), int64(-1), uint8(1))
	f.Add(uint32(13), int64(946_857_600_000_000), uint8(2))
	g := newGuard(f)
	if err := g.ready(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, w uint32, us int64, spelling uint8) {
		if w == 0 || us < -200_000_000_000_000_000 || us > 200_000_000_000_000_000 {
			return // a width DuckDB accepts, times well inside its range
		}
		n := strconv.FormatUint(uint64(w), 10)
		width := []string{"INTERVAL '" + n + " seconds'", "'" + n + " seconds'", "INTERVAL " + n + " SECOND"}[int(spelling)%3]
		q := "SELECT epoch_us(time_bucket(" + width + ", make_timestamp(" + strconv.FormatInt(us, 10) + ")))"
		st, err := g.Arc(context.Background(), "x", q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var got sql.NullInt64
		if err := g.p.db.QueryRowContext(context.Background(), st.Run).Scan(&got); err != nil {
			t.Fatalf("%s ran as %s: %v", q, st.Run, err)
		}
		wu := int64(w) * 1_000_000
		if want := floorDiv(us, wu) * wu; got.Int64 != want {
			t.Errorf("%s ran as %s: %d, want %d", q, st.Run, got.Int64, want)
		}
	})
}
