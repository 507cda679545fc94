// Package plan is the analysis the InfluxQL and Flux generators share. Both
// targets see InfluxDB's data model, not rows: a measurement's points have
// tags (strings, indexed, never NULL: an absent tag reads as ”) and
// fields (typed, possibly absent), and both languages can say less than
// SQL. Plan decides, once, what the target language evaluates and what the
// gateway must do to the returned rows (target.PostStep) to give exactly
// the SQL answer, and refuses the rest.
//
// The decisions that make the split exact:
//
//   - A point without any of the selected fields is not returned by
//     InfluxQL, and an aggregate of an absent field has no value. So an
//     aggregate's field must be Required (present in every point), and a
//     raw query fetches at least one Required field; count(*) counts a
//     Required field. Without one, the query is refused.
//   - WHERE keeps only column-operator-constant comparisons, LIKE (as an
//     anchored regular expression) and IN lists, with NOT pushed down to
//     the comparisons. Each comparison is then true in the target exactly
//     when it is TRUE in SQL (absent fields compare false, as NULL does),
//     so AND and OR of them agree with SQL's three-valued logic.
//   - Time bounds are top-level conjuncts only; they become the query's
//     time range.
//   - The target orders rows natively only by time, and only when rows
//     are not split into series (no GROUP BY tag). Any other ORDER BY,
//     HAVING, arithmetic on aggregates and LIMIT/OFFSET after a gateway
//     sort are post steps; the last post step is always a StepProject to
//     the query's select list.
//
// Plan never branches on which target it serves: each difference between
// the targets that changes a decision is a field of Options named for the
// behaviour (AggSkipsAbsent, EmptyStringReadsNull), set by the generator.
//
// By concern: plan.go holds the types, Build and the Target description
// both generators embed; timerange.go the time bounds; where.go the rest
// of WHERE; regex.go the LIKE and regex spelling; selectlist.go output
// names, raw queries and the arithmetic the gateway evaluates; group.go
// GROUP BY, time buckets and aggregates; order.go where ORDER BY, HAVING
// and LIMIT run; tags.go reading tags back as written.
package plan
