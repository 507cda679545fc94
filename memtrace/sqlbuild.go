package memtrace

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// quote renders s as a SQL string literal for an equality or IN test.
//
// NUL bytes are dropped (as memtrace does): the SQL text reaches engines
// as a C string, where a NUL would cut the statement short. Only the
// quote is doubled: Arc's engine (DuckDB) and PostgreSQL read backslashes
// in standard string literals literally, so doubling them, as memtrace
// does for equality too, would make a value containing one never match.
// Where memtrace's doubling is meaningful — LIKE patterns with ESCAPE
// '\' — likePattern produces exactly memtrace's text.
func quote(s string) string { return literal(s, false) }

// likePattern renders a `%s%` substring pattern literal whose escape
// character is backslash: backslash, % and _ in s match themselves.
func likePattern(s string) string { return literal(s, true) }

// literal is s as a string literal: NUL dropped and the quote doubled;
// as a LIKE pattern (like) also backslash, % and _ escaped with a
// backslash, and % on both sides.
func literal(s string, like bool) string {
	wild := ""
	if like {
		wild = "%"
	}
	var b strings.Builder
	b.Grow(len(s) + 2 + 2*len(wild))
	b.WriteByte('\'')
	b.WriteString(wild)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
		case '\'':
			b.WriteString("''")
		case '\\', '%', '_':
			if like {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString(wild)
	b.WriteByte('\'')
	return b.String()
}

func condEq(col, v string) string   { return col + " = " + quote(v) }
func condLike(col, v string) string { return col + " LIKE " + likePattern(v) + ` ESCAPE '\'` }

func condIn(col string, vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = quote(v)
	}
	return col + " IN (" + strings.Join(q, ",") + ")"
}

// relativeInterval turns memtrace's relative times (30m, 24h, 7d) into an
// interval literal's text, "" when s is not one. The bounds are
// memtrace's: N from 1 to 8760, days at most 365.
func relativeInterval(s string) string {
	if len(s) < 2 {
		return ""
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 || n > 8760 {
		return ""
	}
	switch s[len(s)-1] {
	case 'h':
		return fmt.Sprintf("%d hours", n)
	case 'd':
		if n > 365 {
			return ""
		}
		return fmt.Sprintf("%d days", n)
	case 'm':
		return fmt.Sprintf("%d minutes", n)
	}
	return ""
}

// timestampLayouts are the absolute times since/until accept. memtrace
// passed any other text through to the database (so since=1w failed there
// as a bad literal); tsgate parses it and renders a canonical literal, so
// nothing but a timestamp ever reaches the query.
var timestampLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

func parseTimestamp(s string) (time.Time, bool) {
	for _, l := range timestampLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// timeBound is the condition for since (op ">") or until (op "<").
func timeBound(param, op, v string) (string, error) {
	if v == "" || (op == "<" && v == "now") {
		return "", nil
	}
	if iv := relativeInterval(v); iv != "" {
		return "time " + op + " (CURRENT_TIMESTAMP - INTERVAL '" + iv + "')", nil
	}
	t, ok := parseTimestamp(v)
	if !ok {
		return "", invalidf("invalid %s: %q is neither a relative time (30m, 24h, 7d) nor an ISO 8601 timestamp", param, v)
	}
	return "time " + op + " '" + t.Format(time.RFC3339Nano) + "'", nil
}

// listQuery is memtrace's shape 1 (list) and shape 2 (search).
type listQuery struct {
	orgID, agentID, sessionID string
	memoryType, eventType     string
	memoryTypes, eventTypes   []string
	tags                      []string
	contentContains           string
	minImportance             float64
	since, until              string
	limit, offset             int
	asc                       bool
	search                    bool
	// orderBy renders the ORDER BY for a direction (nil: by time only).
	orderBy func(dir string) string
}

// sql is the query memtrace issues. With narrow, the same answer is asked
// in a form DuckDB runs several times faster: see newestBound.
func (q *listQuery) sql(measurement string, narrow bool) (string, error) {
	conds := []string{condEq("org_id", q.orgID)}
	if q.agentID != "" {
		conds = append(conds, condEq("agent_id", q.agentID))
	}
	if q.sessionID != "" {
		conds = append(conds, condEq("session_id", q.sessionID))
	}
	if q.memoryType != "" {
		conds = append(conds, condEq("memory_type", q.memoryType))
	}
	if q.eventType != "" {
		conds = append(conds, condEq("event_type", q.eventType))
	}
	if len(q.memoryTypes) > 0 {
		conds = append(conds, condIn("memory_type", q.memoryTypes))
	}
	if len(q.eventTypes) > 0 {
		conds = append(conds, condIn("event_type", q.eventTypes))
	}
	for _, t := range q.tags {
		if t != "" {
			conds = append(conds, condLike("tags_csv", t))
		}
	}
	if q.contentContains != "" {
		conds = append(conds, condLike("content", q.contentContains))
	}
	if q.minImportance > 0 {
		conds = append(conds, fmt.Sprintf("importance >= %f", q.minImportance))
	}
	for _, b := range []struct{ param, op, v string }{{"since", ">", q.since}, {"until", "<", q.until}} {
		c, err := timeBound(b.param, b.op, b.v)
		if err != nil {
			return "", err
		}
		if c != "" {
			conds = append(conds, c)
		}
	}
	order := "DESC"
	if q.asc {
		order = "ASC"
	}
	if narrow {
		k := q.limit
		if !q.search {
			k += q.offset
		}
		conds = append(conds, newestBound(measurement, conds, q.asc, k))
	}
	orderBy := " ORDER BY time " + order
	if q.orderBy != nil {
		orderBy = q.orderBy(order)
	}
	s := "SELECT * FROM " + measurement + " WHERE " + strings.Join(conds, " AND ") +
		orderBy + " LIMIT " + strconv.Itoa(q.limit)
	if !q.search {
		s += " OFFSET " + strconv.Itoa(q.offset)
	}
	return s, nil
}

// newestBound is the condition that keeps, of the rows matching conds,
// only those at or before the k-th in time order (at or after it when
// asc): `time >= (SELECT min(time) FROM (SELECT time … LIMIT k))`.
//
// Added to a query that orders by time and takes k rows, it changes no
// answer: the k rows it takes all pass it (ties at the k-th time pass
// too, so the choice among ties stays the engine's, as without it). It
// exists for DuckDB, which scans every column of every matching row to
// keep the top k (no late materialization through the store's views):
// the inner query reads only the filter columns and time, and the outer
// one then reads whole rows only near the top. With no match the bound
// is NULL and so is the answer, empty as it should be. Measured on 1M
// memories (one agent of 20): 7.4 ms → 4.5 ms p50.
func newestBound(measurement string, conds []string, asc bool, k int) string {
	agg, order, op := "min", "DESC", ">="
	if asc {
		agg, order, op = "max", "ASC", "<="
	}
	return "time " + op + " (SELECT " + agg + "(time) FROM (SELECT time FROM " + measurement + " WHERE " +
		strings.Join(conds, " AND ") + " ORDER BY time " + order + " LIMIT " + strconv.Itoa(k) + "))"
}
