// Package flux generates Flux (InfluxDB 1.8's /api/v2/query) from tsgate's
// AST, as one pipe-forward pipeline built as a small Flux AST (ast.go) and
// printed:
//
//	from(bucket: "db/autogen")
//	  |> range(start: …, stop: …)
//	  |> filter(fn: (r) => r._measurement == "m" and <tag conditions>)
//	  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
//	  |> filter(fn: (r) => <field conditions>)
//	  |> [map: bucket _time] |> group(columns: …) |> reduce(…)   (aggregates)
//	  |> group() |> sort(columns: ["_time"]) |> limit(n: …, offset: …)
//
// What the query means is decided by dialects/influxql/plan, shared with
// InfluxQL; this package only prints it. Flux-specific choices:
//
//   - range() needs both ends. A missing lower bound is InfluxDB's
//     smallest time (1677-09-21T00:12:43.145224194Z), a missing upper one
//     just past its largest: range(start: 0) would drop points before
//     1970, and the default stop, now(), points in the future.
//   - range() includes start, so `time > t` starts at t + 1ns (relative
//     bounds too: `-23h59m59s999ms999us999ns`). Its stop is documented as
//     exclusive but InfluxDB 1.8 includes it; see stop for the bound that
//     is right either way.
//   - An absent tag is ” (as in InfluxQL): a tag condition true for ”
//     is guarded with `not exists r.tag or …`; under OR every condition on
//     a column that may be absent is guarded, so it is false rather than
//     null there.
//   - Time buckets are computed on the ns integer (floor toward -∞ from
//     the origin), not with window(), whose first and last windows are
//     cut to the range and would mislabel their rows.
//   - Aggregates are one reduce() per group: count, sum, avg (sum and
//     count, divided after), min, max. Others are refused.
//   - The database comes from the table (db.measurement) or the request
//     (Env.Database), with the default retention policy: "db/autogen".
package flux
