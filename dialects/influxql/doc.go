// Package influxql generates InfluxQL (InfluxDB 1.x) from tsgate's AST. It
// builds a github.com/influxdata/influxql statement and prints it with the
// library's String(), so quoting, escaping and duration formats are the
// server's own and the text re-parses to an equal statement.
//
// The analysis shared with Flux (dialects/influxql/plan) decides what the
// statement computes and what the gateway does afterwards
// (target.PostStep). InfluxQL-specific choices:
//
//   - GROUP BY time(w, offset) carries the SQL bucket's origin as an
//     offset from the epoch, InfluxQL's anchor (Arc SQL's time_bucket
//     anchors there too, so usually there is none), and fill(none),
//     because SQL has no rows for empty buckets.
//   - A GROUP BY time() query without an upper time bound gets one at
//     InfluxDB's largest time: InfluxQL would otherwise stop at now().
//   - Timestamps are RFC3339 strings with ns digits; relative bounds are
//     now() ± a duration.
//   - LIKE becomes =~ with an anchored, fully quoted regular expression;
//     IN lists become ORs of equalities (NOT IN: ANDs of inequalities).
package influxql
