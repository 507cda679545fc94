package gateway

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"tsgate/conformance"
	"tsgate/internal/testenv"
	"tsgate/model"
	"tsgate/wire/pgwire/catalog"
)

// pgOracleDeviations names the declared differences between tsgate's pg
// wire (embedded store) and PostgreSQL 15, in conformance/deviations.
const pgOracleDeviations = "pgwire-vs-postgres"

// TestPGWireOracle is the differential suite of pg wire: the conformance
// dataset is loaded into a real PostgreSQL 15 as plain tables and into a
// tsgate on the embedded store; every corpus query PostgreSQL accepts runs
// on both (PostgreSQL directly, tsgate over pg wire) and the results are
// compared under the conformance rules, with PostgreSQL as the oracle: pg
// wire means PostgreSQL. A different answer, column name or an undeclared
// refusal (0A000) fails the test unless conformance/deviations/
// pgwire-vs-postgres.txt declares it with its reason; a declaration no
// case needs any more fails it too, so the file stays true.
func TestPGWireOracle(t *testing.T) {
	base := testenv.URL(t, "TSGATE_TEST_POSTGRES_URL")
	ctx := context.Background()
	start := conformance.DefaultBase(time.Now())
	cases := oracleCases(t, start)
	devs, err := conformance.LoadDeviations(conformance.Corpus(), pgOracleDeviations)
	if err != nil {
		t.Fatal(err)
	}
	ds := conformance.NewDataset(1, start)
	s := startLoadedPG(t, ds)
	oracle, gw := oracleAndGateway(t, base, s, ds)

	var st oracleStats
	for _, c := range cases {
		st.run(ctx, t, oracle, gw, &c, devs)
	}
	t.Log("\n" + st.summary())
	for _, f := range st.failures {
		t.Error(f)
	}
	for _, d := range devs {
		if !st.used[d.Pattern+" "+kindName(d.Kind)] {
			t.Errorf("%s.txt: %q %s declares nothing that happens any more: remove it", pgOracleDeviations, d.Pattern, kindName(d.Kind))
		}
	}

	// Generated queries over the same hostile data, the oracle deciding:
	// a refusal is fine here, a different answer never is.
	seed, n := testenv.FuzzBudget("TSGATE_TEST_PGFUZZ_N", 300)
	fz := oracleStats{refusalsAllowed: true}
	for _, c := range generatedCases(seed, ds, n) {
		fz.run(ctx, t, oracle, gw, &c, nil)
	}
	t.Logf("generated queries (seed %d):\n%s", seed, fz.summary())
	if answered := fz.total - fz.pgRejects; fz.same < answered/4 {
		t.Errorf("only %d of %d generated queries PostgreSQL answers were compared equal: the comparison lost its teeth", fz.same, answered)
	}
	// Result types: a driver decodes by the column's type OID. The one
	// difference left is PostgreSQL's numeric where tsgate computes a
	// double (avg of integers, numeric division): same value, float8 on
	// the wire (listed in docs/compatibility.md). Any other is a
	// regression.
	for _, o := range []map[string]int{st.oids, fz.oids} {
		for k, n := range o {
			if k != "numeric→float8" {
				t.Errorf("result type OID %s in %d columns", k, n)
			}
		}
	}
	for _, f := range fz.failures {
		t.Error(f)
	}
}

// startLoadedPG is a tsgate on the embedded store with pg wire on, holding
// ds, loaded through its backend.
func startLoadedPG(t *testing.T, ds *conformance.Dataset) *pgServer {
	t.Helper()
	s := startPG(t, nil)
	for _, b := range ds.Batches {
		res, err := s.gateway.backend.Write(context.Background(), ds.Database, b)
		if err != nil || res.Rejected > 0 {
			t.Fatalf("write to tsgate: %v (%d rejected)", err, res.Rejected)
		}
	}
	return s
}

// oracleCases are the corpus and, after it, the cases of PostgreSQL's
// semantics the Arc corpus cannot hold (it is Arc SQL, answered by
// DuckDB), expanded at start.
func oracleCases(t *testing.T, start time.Time) []conformance.Case {
	t.Helper()
	cases, err := conformance.ParseCases(conformance.Corpus(), "cases")
	if err != nil {
		t.Fatal(err)
	}
	extra, err := conformance.ParseCases(os.DirFS("testdata/pgoracle"), ".")
	if err != nil {
		t.Fatal(err)
	}
	if cases, err = conformance.Expand(append(cases, extra...), start); err != nil {
		t.Fatal(err)
	}
	return cases
}

// generatedCases are n fuzzer queries over ds as cases.
func generatedCases(seed uint64, ds *conformance.Dataset, n int) []conformance.Case {
	var out []conformance.Case
	for i, q := range conformance.Generate(seed, ds, n) {
		c := conformance.Case{Name: fmt.Sprintf("fuzz-%d", i), SQL: q.SQL}
		if !q.Ordered {
			c.Tags = []string{"unordered"}
		}
		out = append(out, c)
	}
	return out
}

func kindName(k conformance.Outcome) string {
	if k == conformance.Refused {
		return "refused"
	}
	return "differs"
}

// oracleStats counts the outcomes of the differential run.
type oracleStats struct {
	total, pgRejects                 int
	same, refused, differs, errored  int
	declaredRefused, declaredDiffers int
	namesMatched, namesCompared      int
	oids                             map[string]int      // "pg→tsgate" type OID mismatches
	oidCases                         map[string][]string // the first cases of each mismatch
	failures                         []string
	used                             map[string]bool
	refusals                         []string
	// refusalsAllowed: generated queries may be refused; only wrong
	// answers and errors fail.
	refusalsAllowed bool
}

func (st *oracleStats) declared(devs []conformance.Deviation, name string, kind conformance.Outcome) (string, bool) {
	for _, d := range devs {
		if d.Kind != kind {
			continue
		}
		if ok, _ := path.Match(d.Pattern, name); ok {
			if st.used == nil {
				st.used = map[string]bool{}
			}
			st.used[d.Pattern+" "+kindName(kind)] = true
			return d.Note, true
		}
	}
	return "", false
}

func (st *oracleStats) run(ctx context.Context, t *testing.T, oracle, gw *pgx.Conn, c *conformance.Case, devs []conformance.Deviation) {
	t.Helper()
	st.total++
	qctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	want, wantFD, wantErr := pgResult(qctx, oracle, c.SQL, true)
	var dataErr *pgconn.PgError
	if wantErr != nil && (!errors.As(wantErr, &dataErr) || !strings.HasPrefix(dataErr.Code, "22")) {
		// Outside PostgreSQL's language (time_bucket, DuckDB functions…):
		// no oracle, nothing to compare.
		st.pgRejects++
		return
	}
	got, gotFD, err := pgResult(qctx, gw, c.SQL, true)
	if wantErr != nil && err == nil {
		// A data exception (division by zero, out of range) is
		// PostgreSQL's answer: an answer from tsgate instead is wrong.
		st.differ(devs, c, fmt.Sprintf("PostgreSQL raises %s (SQLSTATE %s), tsgate answers %d rows", dataErr.Message, dataErr.Code, len(got.Rows)))
		return
	}
	if wantErr != nil && err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == dataErr.Code {
			st.same++
			return
		}
	}
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "0A000" {
			st.refused++
			if st.refusalsAllowed {
				return
			}
			st.refusals = append(st.refusals, c.Name+": "+pe.Message)
			if _, ok := st.declared(devs, c.Name, conformance.Refused); ok {
				st.declaredRefused++
				return
			}
			st.failures = append(st.failures, fmt.Sprintf("%s: refused (undeclared): %s\n  query: %s", c.Name, pe.Message, oneLine(c.SQL)))
			return
		}
		st.errored++
		st.failures = append(st.failures, fmt.Sprintf("%s: tsgate error: %v\n  query: %s", c.Name, err, oneLine(c.SQL)))
		return
	}
	// Column names: what drivers key on.
	st.namesCompared++
	wantNames, gotNames := fdNames(wantFD), fdNames(gotFD)
	namesOK := strings.Join(wantNames, "\x00") == strings.Join(gotNames, "\x00")
	if namesOK {
		st.namesMatched++
	}
	if len(wantFD) == len(gotFD) {
		for i := range wantFD {
			if w, g := wantFD[i].DataTypeOID, gotFD[i].DataTypeOID; w != g {
				if st.oids == nil {
					st.oids = map[string]int{}
				}
				k := fmt.Sprintf("%s→%s", oidName(w), oidName(g))
				st.oids[k]++
				if len(st.oidCases[k]) < 4 {
					if st.oidCases == nil {
						st.oidCases = map[string][]string{}
					}
					st.oidCases[k] = append(st.oidCases[k], c.Name)
				}
			}
		}
	}
	// A numeric on both sides compares as its exact text, display scale
	// included (1.5000000000000000 is not 1.5 to a client); beside
	// another type, by value.
	numeric := func(fds []pgconn.FieldDescription, i int) bool {
		return i < len(fds) && fds[i].DataTypeOID == pgtype.NumericOID
	}
	for i := range max(len(wantFD), len(gotFD)) {
		if !numeric(wantFD, i) || !numeric(gotFD, i) {
			if numeric(wantFD, i) {
				numericByValue(want, i)
			}
			if numeric(gotFD, i) {
				numericByValue(got, i)
			}
		}
	}
	// Values compare positionally: the names were compared above.
	got.Columns = want.Columns
	ordered := !c.Has("unordered") && conformance.Ordered(c.SQL)
	diff := conformance.DefaultRules().Compare(want, got, ordered)
	if diff == "" && namesOK {
		st.same++
		return
	}
	if !namesOK {
		diff = strings.TrimSpace(fmt.Sprintf("column names: want %q, got %q\n%s", wantNames, gotNames, diff))
	}
	st.differ(devs, c, diff)
}

func (st *oracleStats) differ(devs []conformance.Deviation, c *conformance.Case, diff string) {
	st.differs++
	if _, ok := st.declared(devs, c.Name, conformance.Differs); ok {
		st.declaredDiffers++
		return
	}
	st.failures = append(st.failures, fmt.Sprintf("%s: differs from PostgreSQL (undeclared)\n  query: %s\n  %s",
		c.Name, oneLine(c.SQL), strings.ReplaceAll(diff, "\n", "\n  ")))
}

func (st *oracleStats) summary() string {
	var sb strings.Builder
	answered := st.total - st.pgRejects
	fmt.Fprintf(&sb, "pg wire (embedded store) vs PostgreSQL 15: %d corpus queries, %d rejected by PostgreSQL, %d answered by it\n",
		st.total, st.pgRejects, answered)
	fmt.Fprintf(&sb, "  %-28s %4d (%.1f%%)\n", "same", st.same, 100*float64(st.same)/float64(max(answered, 1)))
	fmt.Fprintf(&sb, "  %-28s %4d (%d declared)\n", "refused by tsgate (0A000)", st.refused, st.declaredRefused)
	fmt.Fprintf(&sb, "  %-28s %4d (%d declared)\n", "different", st.differs, st.declaredDiffers)
	fmt.Fprintf(&sb, "  %-28s %4d\n", "errors", st.errored)
	fmt.Fprintf(&sb, "  %-28s %4d/%d\n", "column names matched", st.namesMatched, st.namesCompared)
	var keys []string
	for k := range st.oids {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&sb, "  type OID differs %-20s %4d columns (%s…)\n", k, st.oids[k], strings.Join(st.oidCases[k], ", "))
	}
	for _, r := range st.refusals {
		fmt.Fprintf(&sb, "  refused: %s\n", r)
	}
	return sb.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func fdNames(fds []pgconn.FieldDescription) []string {
	out := make([]string, len(fds))
	for i, f := range fds {
		out[i] = f.Name
	}
	return out
}

func oidName(oid uint32) string {
	if t, ok := pgtype.NewMap().TypeForOID(oid); ok {
		return t.Name
	}
	return fmt.Sprint(oid)
}

// pgResult runs sql and reads its rows as conformance values; with
// exactNumeric, finite numerics as strings of their exact text, display
// scale included (numericByValue reads them as numbers), else as numbers.
func pgResult(ctx context.Context, c *pgx.Conn, sql string, exactNumeric bool) (*conformance.Result, []pgconn.FieldDescription, error) {
	rows, err := c.Query(ctx, sql)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	res := &conformance.Result{Columns: fdNames(fds)}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, nil, err
		}
		row := make([]model.Value, len(vals))
		for i, v := range vals {
			if row[i], err = pgValue(v, exactNumeric); err != nil {
				return nil, nil, fmt.Errorf("column %s: %w", fds[i].Name, err)
			}
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	// pgx reuses the descriptions' memory for the next query.
	return res, slices.Clone(fds), nil
}

// pgValue maps a value pgx decoded to the conformance model: integers of
// any width as Int, numeric as Int when integral and in range (sum(bigint)
// is numeric in PostgreSQL) else Float, timestamps of every kind as UTC
// microseconds.
func pgValue(v any, exactNumeric bool) (model.Value, error) {
	switch x := v.(type) {
	case nil:
		return model.Value{}, nil
	case int16:
		return model.Int(int64(x)), nil
	case int32:
		return model.Int(int64(x)), nil
	case int64:
		return model.Int(x), nil
	case float32:
		return model.Float(float64(x)), nil
	case float64:
		return model.Float(x), nil
	case bool:
		return model.Bool(x), nil
	case string:
		return model.String(x), nil
	case time.Time:
		return model.Time(x.UnixMicro()), nil
	case pgtype.Numeric:
		switch {
		case x.NaN:
			return model.Float(math.NaN()), nil
		case x.InfinityModifier == pgtype.Infinity:
			return model.Float(math.Inf(1)), nil
		case x.InfinityModifier == pgtype.NegativeInfinity:
			return model.Float(math.Inf(-1)), nil
		}
		if exactNumeric {
			text, err := x.Value()
			if err != nil {
				return model.Value{}, err
			}
			return model.String(text.(string)), nil
		}
		if x.Exp >= 0 {
			n := new(big.Int).Mul(x.Int, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(x.Exp)), nil))
			if n.IsInt64() {
				return model.Int(n.Int64()), nil
			}
		}
		f, err := x.Float64Value()
		if err != nil {
			return model.Value{}, err
		}
		return model.Float(f.Float64), nil
	case pgtype.Interval:
		return model.String(fmt.Sprintf("%d months %d days %d µs", x.Months, x.Days, x.Microseconds)), nil
	case []byte:
		return model.String(string(x)), nil
	}
	return model.String(fmt.Sprint(v)), nil
}

// numericByValue turns column i's exact numeric texts (pgValue) into
// numbers: Int when integral and in range, else Float.
func numericByValue(r *conformance.Result, i int) {
	for _, row := range r.Rows {
		if i >= len(row) || row[i].Type != model.TypeString {
			continue
		}
		if n, err := strconv.ParseInt(row[i].S, 10, 64); err == nil {
			row[i] = model.Int(n)
		} else if f, err := strconv.ParseFloat(row[i].S, 64); err == nil {
			row[i] = model.Float(f)
		}
	}
}

// oracleAndGateway loads ds, which s holds, into a fresh schema on the
// PostgreSQL at base and connects to both: the oracle with that schema
// first on its search path, the gateway over pg wire on ds's database.
// The PostgreSQL tables get their columns in the order tsgate's catalog
// lists them (\d): SELECT * must then agree on both.
func oracleAndGateway(t *testing.T, base string, s *pgServer, ds *conformance.Dataset) (oracle, gw *pgx.Conn) {
	t.Helper()
	tables, err := storeCatalog{g: s.gateway}.Tables(context.Background(), ds.Database)
	if err != nil {
		t.Fatal(err)
	}
	schema := loadOracle(t, base, ds, tables)
	return oracleConn(t, base, schema), pgConnect(t, s.url(ds.Database))
}

// oracleConn connects to PostgreSQL with the oracle schema first on the
// search path and UTC as the session time zone (tsgate's).
func oracleConn(t *testing.T, base, schema string) *pgx.Conn {
	t.Helper()
	return pgConnectWith(t, base, func(cfg *pgx.ConnConfig) {
		cfg.RuntimeParams["search_path"] = schema
		cfg.RuntimeParams["TimeZone"] = "UTC"
	})
}

// loadOracle creates a fresh schema on the PostgreSQL at base holding the
// dataset as plain tables (time timestamptz, tags text, fields by type,
// absent values NULL), columns in the order tables gives, and drops it
// when the test ends.
func loadOracle(t *testing.T, base string, ds *conformance.Dataset, tables []catalog.Table) string {
	t.Helper()
	ctx := context.Background()
	admin := testenv.Postgres(t, base)
	schema := testenv.UniqueName("tsgate_oracle")
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop oracle schema: %v", err)
		}
	})
	order := map[string][]string{}
	for _, tb := range tables {
		for _, c := range tb.Columns {
			order[tb.Name] = append(order[tb.Name], c.Name)
		}
	}
	for _, batch := range ds.Batches {
		for _, tb := range batch.Tables {
			cols := order[tb.Measurement]
			if len(cols) != len(tb.Columns)+1 {
				t.Fatalf("%s: tsgate's catalog lists %v, the batch has %d columns and time", tb.Measurement, cols, len(tb.Columns))
			}
			var ddl []string
			for _, name := range cols {
				typ := "timestamptz"
				if name != "time" {
					typ = pgTypeOf(tb.Column(name).Type)
				}
				ddl = append(ddl, pgx.Identifier{name}.Sanitize()+" "+typ)
			}
			ident := pgx.Identifier{schema, tb.Measurement}
			if _, err := admin.Exec(ctx, "CREATE TABLE "+ident.Sanitize()+" ("+strings.Join(ddl, ", ")+")"); err != nil {
				t.Fatal(err)
			}
			rows := make([][]any, tb.Len())
			for i := range rows {
				row := make([]any, len(cols))
				for j, name := range cols {
					if name == "time" {
						row[j] = time.UnixMicro(tb.Time[i]).UTC()
						continue
					}
					row[j] = goValue(tb.Column(name).At(i))
				}
				rows[i] = row
			}
			n, err := admin.CopyFrom(ctx, ident, cols, pgx.CopyFromRows(rows))
			if err != nil || int(n) != tb.Len() {
				t.Fatalf("copy %s: %v (%d of %d rows)", tb.Measurement, err, n, tb.Len())
			}
		}
	}
	return schema
}

func pgTypeOf(ft model.FieldType) string {
	switch ft {
	case model.TypeFloat:
		return "double precision"
	case model.TypeInt:
		return "bigint"
	case model.TypeUint:
		return "numeric(20)"
	case model.TypeBool:
		return "boolean"
	}
	return "text"
}

func goValue(v model.Value) any {
	switch v.Type {
	case model.TypeFloat:
		return v.F
	case model.TypeInt:
		return v.I
	case model.TypeUint:
		return new(big.Int).SetUint64(v.U).String()
	case model.TypeString:
		return v.S
	case model.TypeBool:
		return v.B
	}
	return nil
}
