package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"tsgate/conformance"
	"tsgate/model"
)

// pgVersusArcDeviations names the declared differences between the two
// front ends of one tsgate on the embedded store, in conformance/deviations.
const pgVersusArcDeviations = "pgwire-vs-arc"

// TestPGWireVersusArcAPI runs every corpus query (Arc SQL) on one tsgate
// over both front ends: the Arc HTTP API, which means DuckDB SQL as Arc
// answers it, and pg wire, which means PostgreSQL. Where pg wire reads
// the text at all (most DuckDB-only syntax is a PostgreSQL syntax error)
// and both answer, a different answer or column name is a place where the
// two languages differ, and conformance/deviations/pgwire-vs-arc.txt must
// say which difference it is; docs/compatibility.md lists that file. An
// undeclared difference fails the test, and so does a declaration that no
// case needs any more.
func TestPGWireVersusArcAPI(t *testing.T) {
	ctx := context.Background()
	start := conformance.DefaultBase(time.Now())
	cases, err := conformance.ParseCases(conformance.Corpus(), "cases")
	if err != nil {
		t.Fatal(err)
	}
	if cases, err = conformance.Expand(cases, start); err != nil {
		t.Fatal(err)
	}
	devs, err := conformance.LoadDeviations(conformance.Corpus(), pgVersusArcDeviations)
	if err != nil {
		t.Fatal(err)
	}
	ds := conformance.NewDataset(1, start)
	s := startLoadedPG(t, ds)
	gw := pgConnect(t, s.url(ds.Database))

	used := map[string]bool{}
	declared := func(name string) bool {
		for _, d := range devs {
			if ok, _ := path.Match(d.Pattern, name); ok && d.Kind == conformance.Differs {
				used[d.Pattern] = true
				return true
			}
		}
		return false
	}
	var same, differs, declaredDiffers, arcErrors int
	notPG := map[string]int{} // SQLSTATE of pg wire's rejection → cases
	var failures []string
	for _, c := range cases {
		qctx, cancel := context.WithTimeout(ctx, time.Minute)
		got, fds, pgErr := pgResult(qctx, gw, c.SQL, false)
		cancel()
		status, body, _ := s.do(t, arcQuery(c.SQL, "x-arc-database", ds.Database))
		if status != 200 {
			// The corpus is what the reference answers; the few cases
			// that expect an error are outside this comparison.
			arcErrors++
			continue
		}
		var diff string
		if pgErr != nil {
			var pe *pgconn.PgError
			code := "client"
			if errors.As(pgErr, &pe) {
				code = pe.Code
			}
			if !strings.HasPrefix(code, "22") {
				// Not PostgreSQL (DuckDB-only syntax or functions), or
				// refused on pg wire: nothing to compare.
				notPG[code]++
				continue
			}
			// A data exception (division by zero, out of range) where
			// the Arc API answers is a difference of the languages.
			diff = fmt.Sprintf("pg wire raises %s (SQLSTATE %s), the Arc API answers", pe.Message, code)
		} else {
			want, err := arcJSONResult(body, fds)
			if err != nil {
				t.Fatalf("%s: %v\n  body: %.300s", c.Name, err, body)
			}
			ordered := !c.Has("unordered") && conformance.Ordered(c.SQL)
			diff = conformance.DefaultRules().Compare(want, got, ordered)
		}
		if diff == "" {
			same++
			if c.Has("varies") {
				// The Arc API's answer differs between runs (pg wire's
				// does not): this run agreeing leaves the declaration
				// standing.
				declared(c.Name)
			}
			continue
		}
		differs++
		if declared(c.Name) {
			declaredDiffers++
			continue
		}
		failures = append(failures, fmt.Sprintf("%s: pg wire answers differently from the Arc API (undeclared)\n  query: %s\n  (want = Arc API, got = pg wire) %s",
			c.Name, oneLine(c.SQL), strings.ReplaceAll(diff, "\n", "\n  ")))
	}
	var codes []string
	for k, n := range notPG {
		codes = append(codes, fmt.Sprintf("%s×%d", k, n))
	}
	sort.Strings(codes)
	t.Logf("pg wire vs Arc API on the embedded store: %d corpus queries; the Arc API answers %d; pg wire does not read or refuses %d of those (SQLSTATE %s); of the other %d, %d same, %d different (%d declared)",
		len(cases), len(cases)-arcErrors, sumCounts(notPG), strings.Join(codes, " "), same+differs, same, differs, declaredDiffers)
	for _, f := range failures {
		t.Error(f)
	}
	for _, d := range devs {
		if !used[d.Pattern] {
			t.Errorf("%s.txt: %q declares nothing that happens any more: remove it", pgVersusArcDeviations, d.Pattern)
		}
	}
	if same < (same+differs)*3/4 {
		t.Errorf("only %d of %d queries both front ends answer agree: the comparison lost its teeth or the front ends drifted", same, same+differs)
	}
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// arcJSONResult reads an Arc JSON query response as conformance values.
// JSON keeps no types, so pg wire's column types say how to read each
// column back: timestamps and dates from their text; numbers, and the
// exact text Arc prints for HUGEINT and DECIMAL, as Int when they are
// integers in range, Float otherwise (the rules compare numbers by value;
// pgValue reads PostgreSQL's numeric the same way).
func arcJSONResult(body string, fds []pgconn.FieldDescription) (*conformance.Result, error) {
	var env struct {
		Success bool                `json:"success"`
		Columns []string            `json:"columns"`
		Data    [][]json.RawMessage `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	if err := dec.Decode(&env); err != nil {
		return nil, err
	}
	if !env.Success {
		return nil, fmt.Errorf("success is false")
	}
	res := &conformance.Result{Columns: env.Columns}
	for _, raw := range env.Data {
		row := make([]model.Value, len(raw))
		for i, r := range raw {
			var oid uint32
			if i < len(fds) {
				oid = fds[i].DataTypeOID
			}
			v, err := arcJSONValue(r, oid)
			if err != nil {
				return nil, fmt.Errorf("column %d: %w", i, err)
			}
			row[i] = v
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

func arcJSONValue(r json.RawMessage, oid uint32) (model.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(r))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return model.Value{}, err
	}
	switch x := v.(type) {
	case nil:
		return model.Value{}, nil
	case bool:
		return model.Bool(x), nil
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return model.Int(i), nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return model.Value{}, err
		}
		return model.Float(f), nil
	case string:
		switch oid {
		case pgtype.TimestamptzOID, pgtype.TimestampOID:
			ts, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return model.String(x), nil
			}
			return model.Time(ts.UnixMicro()), nil
		case pgtype.DateOID:
			ts, err := time.Parse(time.DateOnly, x)
			if err != nil {
				return model.String(x), nil
			}
			return model.Time(ts.UnixMicro()), nil
		case pgtype.Float8OID, pgtype.Float4OID, pgtype.NumericOID:
			// Arc prints NaN and ±Infinity as strings, and HUGEINT and
			// DECIMAL as exact text; pgValue reads numeric the same way.
			if i, err := strconv.ParseInt(x, 10, 64); err == nil {
				return model.Int(i), nil
			}
			if f, err := strconv.ParseFloat(x, 64); err == nil {
				return model.Float(f), nil
			}
		}
		return model.String(x), nil
	}
	// Lists and structs: their JSON text.
	return model.String(string(r)), nil
}
