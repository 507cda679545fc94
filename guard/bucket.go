package guard

import (
	"context"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"tsgate/errs"
	"tsgate/translate/sqllex"
)

// Arc SQL's time_bucket(width, t) counts fixed-width buckets from the Unix
// epoch: Arc rewrites the call into epoch arithmetic before DuckDB sees it
// (internal/api/query.go, rewriteTimeBucket), and InfluxQL's GROUP BY
// time() aligns the same way, so it is the one convention every backend
// shares. DuckDB's own default origin is 2000-01-03, which differs for any
// width that does not divide the 10,959 days between the two (7 minutes,
// 11 minutes, 5 days, a week). The embedded store runs Arc SQL as written,
// except that each two-argument time_bucket with a fixed width gets
// DuckDB's offset argument, the interval that moves 2000-01-03's grid onto
// the epoch's: time_bucket(w, t, offset) = time_bucket(w, t - offset) +
// offset, for TIMESTAMP, TIMESTAMPTZ and DATE alike, so the result keeps
// its type. Arc's rewrite itself is not copied: it rounds sub-second times
// to the nearest second (epoch(t)::BIGINT) instead of truncating them.
// Month widths keep DuckDB's origin (2000-01-01), as Arc keeps them.

// originMonday is 2000-01-03 00:00:00 UTC in µs since the epoch: DuckDB's
// origin for fixed-width buckets.
const originMonday int64 = 946_857_600_000_000

// bucketCall is a two-argument time_bucket in the text.
type bucketCall struct {
	pos   int // 0-based byte offset of the call's name
	width any // the width argument's parse tree
}

// interval is a constant interval width; invalid means DuckDB cannot
// read it, and the query fails the same way when it runs, with DuckDB's
// own message.
type interval struct {
	months, days int32
	micros       int64
	invalid      bool
}

// errBucketWidth refuses a width the gateway cannot read as a constant.
func errBucketWidth() error {
	return &errs.Error{Code: errs.Unsupported, SQLState: "0A000",
		Msg:  "time_bucket with a width that is not a constant interval is not supported by tsgate: it aligns buckets to the Unix epoch, as Arc does, and needs the width to do so",
		Hint: "write the width as a constant (INTERVAL '7 minutes') or give the origin: time_bucket(width, time, TIMESTAMP '1970-01-01')"}
}

// alignBuckets sets st.Run to text with every two-argument, fixed-width
// time_bucket aligned to the epoch, and checks the result with the parser
// again: it must be the same statement over the same tables.
func (p *parser) alignBuckets(ctx context.Context, text string, st *Statement, calls []bucketCall) error {
	type insert struct {
		at   int
		text string
	}
	var ins []insert
	for _, c := range calls {
		iv, ok, err := p.width(ctx, c.width)
		if err != nil {
			return err
		}
		if !ok {
			return errBucketWidth()
		}
		if iv.months != 0 {
			continue // months keep DuckDB's origin, as on Arc
		}
		w, ok := fixedMicros(iv)
		if iv.invalid || !ok || w <= 0 {
			continue // DuckDB refuses the width itself; let it say so
		}
		off := originMonday % w
		if off == 0 {
			continue // the two grids coincide
		}
		at, ok := closingParen(text, c.pos)
		if !ok {
			return errBucketWidth()
		}
		ins = append(ins, insert{at, ", INTERVAL '" + strconv.FormatInt(-off, 10) + " microseconds'"})
	}
	if len(ins) == 0 {
		return nil
	}
	// From the end, so earlier offsets stay valid (a nested call closes
	// before the call around it).
	slices.SortFunc(ins, func(a, b insert) int { return b.at - a.at })
	run := text
	for _, in := range ins {
		run = run[:in.at] + in.text + run[in.at:]
	}
	again, calls2, err := p.classify(ctx, run)
	if err != nil || again.Explain != st.Explain || !slices.Equal(names(again.Tables), names(st.Tables)) ||
		len(calls)-len(calls2) != len(ins) {
		return &errs.Error{Code: errs.Internal, Msg: "time_bucket alignment produced a different statement"}
	}
	st.Run = run
	return nil
}

func names(ns []Name) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.String()
	}
	return out
}

// fixedMicros is a width without months in µs; ok is false on overflow.
func fixedMicros(iv interval) (int64, bool) {
	if iv.days < 0 || iv.micros < 0 {
		return 0, false
	}
	d := int64(iv.days) * 86_400_000_000 // < 2^31 · 2^37: no overflow
	if d > math.MaxInt64-iv.micros {
		return 0, false
	}
	return d + iv.micros, true
}

// width reads a width argument: a string constant (cast to INTERVAL or
// bound to it), or INTERVAL n UNIT, which DuckDB's parser writes as
// to_<unit>(n). ok is false for anything else. A string is read by
// DuckDB itself, as a bound parameter, so its interval syntax is DuckDB's.
func (p *parser) width(ctx context.Context, v any) (interval, bool, error) {
	m, _ := v.(map[string]any)
	class, _ := m["class"].(string)
	switch class {
	case "CAST":
		if typeID(m["cast_type"]) != "INTERVAL" {
			return interval{}, false, nil
		}
		return p.width(ctx, m["child"])
	case "CONSTANT":
		val, _ := m["value"].(map[string]any)
		s, isString := val["value"].(string)
		if typeID(val["type"]) != "VARCHAR" || !isString {
			return interval{}, false, nil
		}
		var iv duckdb.Interval
		if err := p.db.QueryRowContext(ctx, "SELECT CAST(?::VARCHAR AS INTERVAL)", s).Scan(&iv); err != nil {
			if ctx.Err() != nil {
				return interval{}, false, errs.Wrap(errs.Canceled, err, "query canceled")
			}
			return interval{invalid: true}, true, nil
		}
		return interval{months: iv.Months, days: iv.Days, micros: iv.Micros}, true, nil
	case "FUNCTION":
		name, _ := m["function_name"].(string)
		args, _ := m["children"].([]any)
		unit, known := unitMicros[strings.ToLower(name)]
		if !known || len(args) != 1 || m["schema"] != nil || m["catalog"] != nil {
			return interval{}, false, nil
		}
		n, ok := integer(args[0])
		if !ok {
			return interval{}, false, nil
		}
		if unit.months != 0 {
			return interval{months: 1}, true, nil // any month width
		}
		if n < 0 {
			return interval{invalid: true}, true, nil
		}
		hi, lo := bits.Mul64(uint64(n), uint64(unit.micros))
		if hi != 0 || lo > math.MaxInt64 {
			return interval{invalid: true}, true, nil // DuckDB refuses it
		}
		return interval{micros: int64(lo)}, true, nil
	}
	return interval{}, false, nil
}

// unitMicros: DuckDB's to_<unit> interval constructors (INTERVAL n UNIT).
var unitMicros = map[string]struct {
	months int32
	micros int64
}{
	"to_microseconds": {micros: 1}, "to_milliseconds": {micros: 1_000}, "to_seconds": {micros: 1_000_000},
	"to_minutes": {micros: 60_000_000}, "to_hours": {micros: 3_600_000_000},
	"to_days": {micros: 86_400_000_000}, "to_weeks": {micros: 7 * 86_400_000_000},
	"to_months": {months: 1}, "to_quarters": {months: 3}, "to_years": {months: 12},
	"to_decades": {months: 120}, "to_centuries": {months: 1200}, "to_millennia": {months: 12000},
}

// integer reads an integer constant through the casts and trunc DuckDB's
// parser wraps around INTERVAL n UNIT's n.
func integer(v any) (int64, bool) {
	m, _ := v.(map[string]any)
	switch m["class"] {
	case "CONSTANT":
		val, _ := m["value"].(map[string]any)
		switch typeID(val["type"]) {
		case "TINYINT", "SMALLINT", "INTEGER", "BIGINT":
			f, ok := val["value"].(float64)
			if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
				return 0, false
			}
			return int64(f), true
		}
	case "CAST":
		switch typeID(m["cast_type"]) {
		case "DOUBLE", "BIGINT", "INTEGER":
			return integer(m["child"])
		}
	case "FUNCTION":
		args, _ := m["children"].([]any)
		if name, _ := m["function_name"].(string); strings.EqualFold(name, "trunc") && len(args) == 1 {
			return integer(args[0])
		}
	}
	return 0, false
}

func typeID(v any) string {
	m, _ := v.(map[string]any)
	id, _ := m["id"].(string)
	return id
}

// closingParen finds the ) that closes the call whose name starts at pos,
// with the lexer DuckDB's text is read with: the name (possibly
// schema-qualified), (, two arguments at depth one, ). ok is false for
// any other shape.
func closingParen(text string, pos int) (int, bool) {
	if pos < 0 || pos >= len(text) {
		return 0, false
	}
	l := sqllex.New(text[pos:], sqllex.DuckDB)
	sawName := false
	for {
		t, ok := l.Next()
		if !ok {
			return 0, false
		}
		if t.Kind == sqllex.Ident || t.Kind == sqllex.QIdent || t.IsPunct(text[pos:], ".") {
			sawName = true
			continue
		}
		if !sawName || !t.IsPunct(text[pos:], "(") {
			return 0, false
		}
		break
	}
	depth, commas := 1, 0
	for {
		t, ok := l.Next()
		if !ok || t.Kind == sqllex.Bad {
			return 0, false
		}
		src := text[pos:]
		switch {
		case t.IsPunct(src, "(") || t.IsPunct(src, "[") || t.IsPunct(src, "{"):
			depth++
		case t.IsPunct(src, ")") || t.IsPunct(src, "]") || t.IsPunct(src, "}"):
			depth--
			if depth == 0 {
				return pos + t.Start, commas == 1
			}
		case t.IsPunct(src, ",") && depth == 1:
			commas++
		}
	}
}
