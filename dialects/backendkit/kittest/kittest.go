package kittest

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tsgate/dialects"
	"tsgate/dialects/duckdb"
	"tsgate/dialects/duckdbsql"
	"tsgate/errs"
	"tsgate/internal/testenv"
	"tsgate/model"
	"tsgate/query/rowop"
	"tsgate/translate"
)

// URL is testenv.URL, kept here for the backend tests that import
// kittest already.
func URL(t testing.TB, env string) string {
	t.Helper()
	return testenv.URL(t, env)
}

// DBName is a fresh database name for one test (testenv.UniqueName: no
// other test or run on the same server takes it).
func DBName(prefix string) string { return testenv.UniqueName(prefix) }

// Options describe what a backend guarantees, so the comparison asserts
// exactly that and nothing weaker.
type Options struct {
	// TimeGrid is the backend's time resolution in µs (1 for µs, 1e6 for
	// whole seconds). The fixture's times are put on this grid so both
	// sides store the same instants; Precision tests assert the grid.
	TimeGrid int64
	// UintAsInt: the backend stores uint64 fields as int64.
	UintAsInt bool
	// CountAsUint: the backend's count() is uint64 where DuckDB's is
	// int64 (ClickHouse); the oracle's int64 results are compared as
	// uint64 in columns the backend declares unsigned.
	CountAsUint bool
	// EmptyStringIsNull: the backend cannot tell "" from NULL in a
	// string column (Flux's annotated CSV writes both as an empty cell);
	// the oracle's "" is compared as NULL.
	EmptyStringIsNull bool
	// KeepsEmpty, with EmptyStringIsNull, names the columns where ""
	// still reads "": the gateway coalesces tags and string fields every
	// point has (an empty cell there can only be "").
	KeepsEmpty func(column string) bool
	// NullBoolIsFalse: the backend returns false for a NULL boolean (Flux
	// 0.65's group() fills a table's missing boolean column with false);
	// the oracle's NULL in a column the backend declares boolean is
	// compared as false.
	NullBoolIsFalse bool
	// Skip names queries (by Query.Name) the backend refuses, with why.
	Skip map[string]string
}

// Fixture builds the batch, its times relative to now (memtrace's shapes
// filter on now()) and on the grid.
func Fixture(now time.Time, grid int64) *model.Batch {
	g := func(us int64) int64 { return us - ((us%grid)+grid)%grid }
	base := now.Truncate(time.Second).UnixMicro()
	b := &model.Batch{}
	ev := b.Table("events")
	str := func(n, v string) model.Cell { return model.Cell{Name: n, Value: model.String(v)} }
	event := func(off int64, org, agent, sess, mt, et, content, meta, tags, dedup string, imp float64, parent *string) {
		cells := []model.Cell{str("org_id", org), str("agent_id", agent), str("session_id", sess),
			str("memory_type", mt), str("event_type", et), str("content", content), str("metadata_json", meta),
			str("tags_csv", tags), str("dedup_key", dedup), {Name: "importance", Value: model.Float(imp)}}
		if parent != nil {
			cells = append(cells, str("parent_id", *parent))
		}
		if err := ev.AppendRow(g(base+off), cells); err != nil {
			panic(err)
		}
	}
	p0 := "p0"
	min := int64(60_000_000)
	event(-10*min+123456, "org_default", "agent_1", "sess_1", "episodic", "page_crawled",
		`crawled: it's 100% done\ ünïcødé "quoted"`, `{"k":"v, w"}`, "crawling,web.v2", "d1", 0.75, &p0)
	event(-90*min+1, "org_default", "agent_1", "sess_1", "decision", "error",
		"error: abc_1 happened\nsecond line", "{}", "x", "d2", 0.5, nil)
	event(-120*min, "org_default", "agent_2", "sess_2", "entity", "note",
		"日本語 テキスト", "{}", "", "d1", 0.95, nil)
	event(-3*24*60*min, "org_default", "agent_1", "sess_1", "episodic", "page_crawled",
		"old", "{}", "crawling", "d3", 0.1, &p0)
	event(-5*min+999999, "o'brien", "agent with space,comma=eq", "sess_3", "episodic", "note",
		`back\slash`, "{}", "", "d4", 1, nil)

	mixed := b.Table("mixed")
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).UnixMicro()
	for i, r := range []struct {
		f   float64
		i   *int64
		u   *uint64
		s   *string
		b   *bool
		off int64
	}{
		{f: 1.5, i: ptr(int64(-42)), u: ptr(uint64(7)), s: ptr("a,b=c d"), b: ptr(true), off: 1},
		{f: -0.25, off: 2_000_001},
		{f: 1e300, i: ptr(int64(math.MaxInt64)), s: ptr(""), b: ptr(false), off: 3_500_000},
		{f: 0, u: ptr(uint64(1) << 40), s: ptr("naïve ☃"), off: 4_000_000},
	} {
		cells := []model.Cell{{Name: "host", Tag: true, Value: model.String(fmt.Sprintf("h%d", i%2))},
			{Name: "f", Value: model.Float(r.f)}}
		if r.i != nil {
			cells = append(cells, model.Cell{Name: "i", Value: model.Int(*r.i)})
		}
		if r.u != nil {
			cells = append(cells, model.Cell{Name: "u", Value: model.Uint(*r.u)})
		}
		if r.s != nil {
			cells = append(cells, model.Cell{Name: "s", Value: model.String(*r.s)})
		}
		if r.b != nil {
			cells = append(cells, model.Cell{Name: "b", Value: model.Bool(*r.b)})
		}
		if err := mixed.AppendRow(g(t0+r.off), cells); err != nil {
			panic(err)
		}
	}

	cpu := b.Table("cpu")
	c0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	for i := range 40 {
		host := fmt.Sprintf("host_%d", i%2+1)
		cells := []model.Cell{{Name: "hostname", Tag: true, Value: model.String(host)},
			{Name: "region", Tag: true, Value: model.String("eu-west-1")},
			{Name: "usage_user", Value: model.Float(float64((i*37)%100) + 0.5)},
			{Name: "usage_system", Value: model.Float(float64((i*11)%50) / 4)}}
		if err := cpu.AppendRow(g(c0+int64(i)*7_000_000+int64(i)), cells); err != nil {
			panic(err)
		}
	}
	return b
}

func ptr[T any](v T) *T { return &v }

// Query is one query shape.
type Query struct {
	Name string
	SQL  string
	// Unordered: the SQL has no ORDER BY that fixes the row order; rows
	// are compared as a multiset.
	Unordered bool
	// Star: SELECT *. Its column order is the gateway's to settle (time,
	// tags, fields, each alphabetical, whatever the backend's table
	// order); both sides are put in that order before comparing.
	Star bool
}

// fixtureTags are the fixture's tag columns, for Star ordering.
var fixtureTags = map[string]bool{"org_id": true, "agent_id": true, "session_id": true, "memory_type": true,
	"event_type": true, "host": true, "hostname": true, "region": true}

// starOrder permutes a SELECT * result into time, tags, fields.
func starOrder(cols []string, rows [][]model.Value) ([]string, [][]model.Value) {
	idx := make([]int, len(cols))
	for i := range idx {
		idx[i] = i
	}
	rank := func(n string) int {
		switch {
		case n == "time":
			return 0
		case fixtureTags[n]:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if ra, rb := rank(cols[a]), rank(cols[b]); ra != rb {
			return ra - rb
		}
		return strings.Compare(cols[a], cols[b])
	})
	outCols := make([]string, len(cols))
	for i, j := range idx {
		outCols[i] = cols[j]
	}
	outRows := make([][]model.Value, len(rows))
	for r, row := range rows {
		outRows[r] = make([]model.Value, len(row))
		for i, j := range idx {
			outRows[r][i] = row[j]
		}
	}
	return outCols, outRows
}

// Queries are memtrace's query shapes (from translate/testdata's
// memtrace cases, literals adapted to the fixture) and TSBS-like buckets.
func Queries() []Query {
	return []Query{
		{Name: "list-basic", Star: true, SQL: `SELECT * FROM events WHERE org_id = 'org_default' ORDER BY time DESC LIMIT 100 OFFSET 0`},
		{Name: "list-all-filters", Star: true, SQL: `SELECT * FROM events WHERE org_id = 'org_default' AND agent_id = 'agent_1' AND session_id = 'sess_1' AND memory_type = 'episodic' AND event_type = 'page_crawled' AND tags_csv LIKE '%crawling%' ESCAPE '\' AND time > (CURRENT_TIMESTAMP - INTERVAL '24 hours') AND time < (CURRENT_TIMESTAMP - INTERVAL '1 minutes') ORDER BY time DESC LIMIT 100 OFFSET 0`},
		{Name: "list-asc-offset", Star: true, SQL: `SELECT * FROM events WHERE org_id = 'org_default' AND agent_id = 'agent_1' ORDER BY time ASC LIMIT 2 OFFSET 1`},
		{Name: "search-full", Star: true, SQL: `SELECT * FROM events WHERE org_id = 'org_default' AND memory_type IN ('episodic', 'decision') AND content LIKE '%it''s 100\% done\\%' ESCAPE '\' AND importance >= 0.500000 AND time > (CURRENT_TIMESTAMP - INTERVAL '48 hours') ORDER BY time DESC LIMIT 50`},
		{Name: "dedup-count", SQL: `SELECT COUNT(*) as cnt FROM events WHERE org_id = 'org_default' AND dedup_key = 'd1' AND time > (CURRENT_TIMESTAMP - INTERVAL '24 hours')`},
		{Name: "stats-count-empty", SQL: `SELECT COUNT(*) as cnt FROM events WHERE org_id = 'org_default' AND agent_id = 'nobody'`},
		{Name: "session-context", SQL: `SELECT time, memory_type, event_type, content, importance FROM events WHERE org_id = 'org_default' AND session_id = 'sess_1' AND time > (CURRENT_TIMESTAMP - INTERVAL '24 hours') ORDER BY time DESC LIMIT 100`},
		{Name: "stats-by-type", SQL: `SELECT memory_type, COUNT(*) as cnt FROM events WHERE org_id = 'org_default' AND agent_id = 'agent_1' GROUP BY memory_type`, Unordered: true},
		{Name: "get-by-content", Star: true, SQL: `SELECT * FROM events WHERE org_id = 'org_default' AND content LIKE '%abc\_1%' ESCAPE '\' ORDER BY time DESC LIMIT 1`},
		{Name: "quoted-tag", Star: true, SQL: `SELECT * FROM events WHERE org_id = 'o''brien' AND agent_id = 'agent with space,comma=eq' ORDER BY time DESC LIMIT 10`},
		{Name: "mixed-types", Star: true, SQL: `SELECT * FROM mixed ORDER BY time`},
		{Name: "tsbs-single-groupby", SQL: `SELECT time_bucket(INTERVAL '1 minute', time) AS minute, max(usage_user) AS max_usage_user FROM cpu WHERE hostname IN ('host_1') AND time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T01:00:00Z' GROUP BY minute ORDER BY minute`},
		{Name: "tsbs-double-groupby", SQL: `SELECT time_bucket(INTERVAL '1 minute', time) AS minute, hostname, max(usage_system) AS m, count(*) AS n FROM cpu WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T01:00:00Z' GROUP BY minute, hostname ORDER BY minute, hostname`},
	}
}

// Oracle is the embedded DuckDB store holding the same fixture.
type Oracle struct {
	Store *duckdb.Store
	tr    *translate.Translator
}

// NewOracle opens a DuckDB store in a temporary directory.
func NewOracle(t testing.TB) *Oracle {
	t.Helper()
	st, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "oracle.duckdb"), duckdb.WithThreads(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &Oracle{Store: st, tr: translate.New()}
}

// Run writes the fixture to b and the oracle and compares every query.
func Run(t *testing.T, b dialects.Backend, db string, o Options) {
	ctx := context.Background()
	if o.TimeGrid == 0 {
		o.TimeGrid = 1
	}
	now := time.Now()
	batch := Fixture(now, o.TimeGrid)
	res, err := b.Write(ctx, db, batch)
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	if res.Rows != batch.Rows() || res.Rejected != 0 {
		t.Fatalf("write kept %d of %d rows, rejected %d: %v", res.Rows, batch.Rows(), res.Rejected, res.Conflicts)
	}
	oracle := NewOracle(t)
	if _, err := oracle.Store.Write(ctx, db, Fixture(now, o.TimeGrid)); err != nil {
		t.Fatal(err)
	}
	tr := translate.New()
	for _, q := range Queries() {
		t.Run(q.Name, func(t *testing.T) {
			if why, ok := o.Skip[q.Name]; ok {
				t.Skip(why)
			}
			got, gotCols, err := RunQuery(ctx, tr, b, db, q.SQL)
			if err != nil {
				t.Fatalf("%s: %v", b.Name(), err)
			}
			want, wantCols, err := oracle.run(ctx, db, q.SQL)
			if err != nil {
				t.Fatalf("duckdb: %v", err)
			}
			Compare(t, q, o, gotCols, got, wantCols, want)
		})
	}
}

// RunQuery translates sql for b's target, runs it and applies the post
// steps, as the gateway does.
func RunQuery(ctx context.Context, tr *translate.Translator, b dialects.Backend, db, sql string) ([][]model.Value, []string, error) {
	tl, err := tr.TranslateIn(ctx, sql, b.Generator(), db, b.Schema(db))
	if err != nil {
		return nil, nil, fmt.Errorf("translate: %w", err)
	}
	if tl.Const != nil {
		return Collect(tl.Const.Rows())
	}
	rows, err := b.Query(ctx, db, tl.Text)
	if err != nil {
		return nil, nil, fmt.Errorf("query %q: %w", tl.Text, err)
	}
	out, err := rowop.Apply(rows, tl.Post, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("post steps of %q: %w", tl.Text, err)
	}
	return Collect(out)
}

func (o *Oracle) run(ctx context.Context, db, sql string) ([][]model.Value, []string, error) {
	tl, err := o.tr.TranslateIn(ctx, sql, duckdbsql.New(), db, nil)
	if err != nil {
		return nil, nil, err
	}
	rows, err := o.Store.Query(ctx, db, tl.Text)
	if err != nil {
		return nil, nil, err
	}
	return Collect(rows)
}

// Collect drains rows.
func Collect(rows model.Rows) ([][]model.Value, []string, error) {
	cols := rows.Columns()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	out, err := model.Collect(rows)
	return out, names, err
}

// QueryAll runs text on b in db and collects its rows and column
// names; any error fails the test.
func QueryAll(t testing.TB, b dialects.Backend, db, text string) ([][]model.Value, []string) {
	t.Helper()
	rows, err := b.Query(context.Background(), db, text)
	if err != nil {
		t.Fatal(err)
	}
	got, cols, err := Collect(rows)
	if err != nil {
		t.Fatal(err)
	}
	return got, cols
}

// Compare asserts the backend's rows equal the oracle's, exactly: same
// column names in order, same values and types (uint64 as int64 where the
// backend declares it), time to the µs.
func Compare(t *testing.T, q Query, o Options, gotCols []string, got [][]model.Value, wantCols []string, want [][]model.Value) {
	t.Helper()
	if q.Star {
		gotCols, got = starOrder(gotCols, got)
		wantCols, want = starOrder(wantCols, want)
	}
	if !slices.Equal(gotCols, wantCols) {
		t.Fatalf("columns: got %v, want %v", gotCols, wantCols)
	}
	norm := func(rows [][]model.Value) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			parts := make([]string, len(r))
			for j, v := range r {
				if o.UintAsInt && v.Type == model.TypeUint && v.U <= math.MaxInt64 {
					v = model.Int(int64(v.U))
				}
				parts[j] = Render(v)
			}
			out[i] = strings.Join(parts, " | ")
		}
		if q.Unordered {
			slices.Sort(out)
		}
		return out
	}
	if o.CountAsUint {
		want = countsAsUint(got, want)
	}
	if o.EmptyStringIsNull || o.NullBoolIsFalse {
		want = fluxLosses(got, want, wantCols, o)
	}
	g, w := norm(got), norm(want)
	if !slices.Equal(g, w) {
		t.Errorf("rows differ\n got (%d):\n  %s\nwant (%d):\n  %s", len(g), strings.Join(g, "\n  "), len(w), strings.Join(w, "\n  "))
	}
}

// countsAsUint turns the oracle's non-negative int64 cells into uint64
// where the backend's cell in the same position is uint64.
func countsAsUint(got, want [][]model.Value) [][]model.Value {
	out := make([][]model.Value, len(want))
	for i, row := range want {
		out[i] = slices.Clone(row)
		if i >= len(got) {
			continue
		}
		for j, v := range row {
			if j < len(got[i]) && got[i][j].Type == model.TypeUint && v.Type == model.TypeInt && v.I >= 0 {
				out[i][j] = model.Uint(uint64(v.I))
			}
		}
	}
	return out
}

// fluxLosses applies the documented Flux deviations to the oracle's rows.
func fluxLosses(got, want [][]model.Value, cols []string, o Options) [][]model.Value {
	out := make([][]model.Value, len(want))
	for i, row := range want {
		out[i] = slices.Clone(row)
		for j, v := range row {
			switch {
			case o.EmptyStringIsNull && v.Type == model.TypeString && v.S == "" &&
				(o.KeepsEmpty == nil || j >= len(cols) || !o.KeepsEmpty(cols[j])):
				out[i][j] = model.Value{}
			case o.NullBoolIsFalse && v.IsNull() && i < len(got) && j < len(got[i]) && got[i][j].Type == model.TypeBool:
				out[i][j] = model.Bool(false)
			}
		}
	}
	return out
}

// Render prints a value with its type, so 1 (int) and 1 (float) differ.
func Render(v model.Value) string {
	switch v.Type {
	case model.TypeUnknown:
		return "NULL"
	case model.TypeFloat:
		return fmt.Sprintf("float:%v", v.F)
	case model.TypeInt:
		return fmt.Sprintf("int:%d", v.I)
	case model.TypeUint:
		return fmt.Sprintf("uint:%d", v.U)
	case model.TypeString:
		return fmt.Sprintf("str:%q", v.S)
	case model.TypeBool:
		return fmt.Sprintf("bool:%v", v.B)
	case model.TypeTime:
		return "time:" + time.UnixMicro(v.I).UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	return fmt.Sprintf("%v:%q", v.Type, v.S)
}

// WantCode fails unless err is a tsgate error with code.
func WantCode(t testing.TB, err error, code errs.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("want a %v error, got nil", code)
	}
	if c := errs.CodeOf(err); c != code {
		t.Fatalf("want a %v error, got %v: %v", code, c, err)
	}
}

// CPUBatch is a TSBS-like cpu batch: rows points of 3 tags and 10 float
// fields, 10 s apart from start, hosts cycling over 100.
func CPUBatch(start time.Time, rows int) *model.Batch {
	b := &model.Batch{}
	t := b.Table("cpu")
	fields := []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq",
		"usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}
	cells := make([]model.Cell, 0, 13)
	for i := range rows {
		cells = cells[:0]
		cells = append(cells, model.Cell{Name: "hostname", Tag: true, Value: model.String(fmt.Sprintf("host_%d", i%100))},
			model.Cell{Name: "region", Tag: true, Value: model.String("eu-west-1")},
			model.Cell{Name: "datacenter", Tag: true, Value: model.String("eu-west-1a")})
		for j, f := range fields {
			cells = append(cells, model.Cell{Name: f, Value: model.Float(float64((i*7+j*13)%100) + 0.25)})
		}
		if err := t.AppendRow(start.Add(time.Duration(i/100)*10*time.Second).UnixMicro()+int64(i%100), cells); err != nil {
			panic(err)
		}
	}
	return b
}
