package conformance

import (
	"fmt"
	"math"
	"time"

	"tsgate/model"
)

// The nasty measurement is data chosen to break translations that are
// almost right: tags absent from some points, fields NULL in most, int64
// extremes and the integers around 2^53, -0.0 and magnitudes near float
// limits, strings with quotes, backslashes, LIKE and regex metacharacters,
// non-ASCII text and the empty string, and times on bucket, day and month
// boundaries, before 1970 and far in the future. Every value is one a
// point can carry in InfluxDB's line protocol (no NaN, no Inf, no empty
// tag value) and a time whole in seconds, so every backend can store it;
// what a backend cannot store exactly it must refuse at write.

// nastyStrings are the string values, tag and field alike.
var nastyStrings = []string{
	"plain", "it's", `back\slash`, `"quoted"`, "100%", "under_score", "%_%", `a.b*c+d?`, "(paren)", "[bracket]",
	"{brace}", "caret^dollar$", `pipe|bar`, "naïve", "日本語", "emoji 🚀", "MiXeD", "mixed", "trailing ", " leading",
	"tab\there", "new\nline", "x", "",
}

// nastyInts are the integer values.
var nastyInts = []int64{
	0, 1, -1, 2, 7, 10, 100, -100, 1 << 31, -(1 << 31), 1<<53 - 1, 1 << 53, 1<<53 + 1, -(1 << 53), -(1<<53 + 1),
	math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1, 4611686018427387904,
}

// nastyFloats are the float values.
var nastyFloats = []float64{
	0, math.Copysign(0, -1), 0.1, 0.2, 0.3, 1.5, 2.5, -2.5, 0.5, -0.5, 1e300, -1e300, 1e-300, -1e-300, 1e15 + 0.5,
	123456789.125, 3, -3, 1e21, 9007199254740993, 0.1 + 0.2, 1.7976931348623157e308,
}

// nastyTimes are the instants the points fall on (whole seconds, within
// 1970…2105 so every backend can store them), in order and each once.
// The day boundary's instants reach 90 minutes past midnight; base lies on
// an hour (DefaultBase), so within two hours of midnight the boundary is
// the day before's: else base would fall on day or day+1h, two points of a
// series would share an instant, and backends that keep one point per
// series and instant (InfluxDB, the embedded store) would hold other rows
// than those that keep both (PostgreSQL).
func nastyTimes(base time.Time) []time.Time {
	day := base.Truncate(24 * time.Hour)
	if base.Sub(day) < 2*time.Hour {
		day = day.Add(-24 * time.Hour)
	}
	return []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC),
		time.Date(2000, 1, 3, 0, 0, 0, 0, time.UTC), // DuckDB's time_bucket origin
		time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC),
		time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		day.Add(-time.Second),
		day,
		day.Add(time.Minute - time.Second),
		day.Add(time.Minute),
		day.Add(7 * time.Minute),
		day.Add(time.Hour),
		day.Add(time.Hour + 30*time.Minute),
		base,
		base.Add(time.Second),
		base.Add(59 * time.Second),
		base.Add(5 * time.Minute),
		base.Add(90 * time.Minute),
		time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// oldTimes lie outside what some backends can store (ClickHouse 18.16's
// DateTime spans 1970…2106): the nasty_epoch measurement, which a backend
// may refuse at write (it must refuse, not wrap or clamp).
func oldTimes() []time.Time {
	return []time.Time{
		time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC),
		time.Date(2200, 6, 15, 12, 0, 0, 0, time.UTC),
	}
}

// nastyBatch builds the measurement: one point per time for each of six
// series, cycling through the value lists so every value meets every
// other often enough, with NULLs and absent tags at fixed strides.
func nastyBatch(name string, times []time.Time) *model.Batch {
	var b model.Batch
	t := b.Table(name)
	cells := make([]model.Cell, 0, 8)
	n := 0
	for ti, ts := range times {
		for series := range 6 {
			cells = cells[:0]
			// host is always present; grp is absent from every third
			// point (NULL on SQL backends, '' to InfluxDB); label cycles
			// through the nasty strings (never empty: a tag cannot be).
			cells = append(cells, model.Cell{Name: "host", Tag: true, Value: model.String(fmt.Sprintf("h%d", series))})
			if n%3 != 2 {
				cells = append(cells, model.Cell{Name: "grp", Tag: true, Value: model.String([]string{"a", "b", "A"}[n%3])})
			}
			if s := nastyStrings[n%len(nastyStrings)]; tagSafe(s) {
				cells = append(cells, model.Cell{Name: "label", Tag: true, Value: model.String(s)})
			}
			// v is present in every point (backends that need a
			// never-absent field for count(*) have one).
			cells = append(cells, model.Cell{Name: "v", Value: model.Float(float64(n%17) - 8.25)})
			if n%4 != 3 {
				cells = append(cells, model.Cell{Name: "i", Value: model.Int(nastyInts[(n*7+ti)%len(nastyInts)])})
			}
			if n%5 < 3 {
				cells = append(cells, model.Cell{Name: "f", Value: model.Float(nastyFloats[(n*3+ti)%len(nastyFloats)])})
			}
			if n%2 == 0 {
				cells = append(cells, model.Cell{Name: "s", Value: model.String(nastyStrings[(n*5+ti)%len(nastyStrings)])})
			}
			if n%6 != 5 {
				cells = append(cells, model.Cell{Name: "b", Value: model.Bool(n%3 == 0)})
			}
			// A field NULL in most points.
			if n%9 == 0 {
				cells = append(cells, model.Cell{Name: "sparse", Value: model.Int(int64(n))})
			}
			if err := t.AppendRow(ts.UnixMicro(), cells); err != nil {
				panic(err) // one consistent schema: cannot conflict
			}
			n++
		}
	}
	return &b
}

// tagSafe: a tag value must be non-empty, without surrounding space and
// control characters (line protocol has no escape for a line feed).
func tagSafe(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for _, r := range s {
		if r < 0x20 {
			return false
		}
	}
	return true
}
