package duckdb

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"tsgate/errs"
	"tsgate/model"
)

func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tsgate.duckdb")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// reopen closes s, which must succeed, and opens its file at path
// again; the new store is closed when the test ends.
func reopen(t *testing.T, s *Store, path string) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	return s2
}

// mustWrite writes b to s's database db; an error fails the test.
func mustWrite(t *testing.T, s *Store, db string, b *model.Batch) {
	t.Helper()
	if _, err := s.Write(context.Background(), db, b); err != nil {
		t.Fatal(err)
	}
}

func row(t *testing.T, tb *model.Table, us int64, cells ...model.Cell) {
	t.Helper()
	if err := tb.AppendRow(us, cells); err != nil {
		t.Fatal(err)
	}
}

func queryAll(t *testing.T, s *Store, db, q string) ([]string, [][]model.Value) {
	t.Helper()
	rows, err := s.Query(context.Background(), db, q)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range rows.Columns() {
		names = append(names, c.Name)
	}
	out, err := model.Collect(rows)
	if err != nil {
		t.Fatal(err)
	}
	return names, out
}

func TestWriteQueryRoundTrip(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	var b model.Batch
	cpu := b.Table("cpu")
	row(t, cpu, 1_000_000, model.Cell{Name: "host", Tag: true, Value: model.String("a")}, model.Cell{Name: "usage", Value: model.Float(1.5)})
	row(t, cpu, 2_000_000, model.Cell{Name: "host", Tag: true, Value: model.String("b")}, model.Cell{Name: "count", Value: model.Int(7)})
	res, err := s.Write(ctx, "my-db", &b)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 2 || res.Rejected != 0 {
		t.Fatalf("result %+v", res)
	}
	names, data := queryAll(t, s, "my-db", "SELECT time, host, usage, count FROM cpu ORDER BY time")
	want := [][]model.Value{
		{model.Time(1_000_000), model.String("a"), model.Float(1.5), {}},
		{model.Time(2_000_000), model.String("b"), {}, model.Int(7)},
	}
	if diff := cmp.Diff([]string{"time", "host", "usage", "count"}, names); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, data); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}

	// The schema survives a reopen, tag flags included.
	s2 := reopen(t, s, path)
	wantCols := []Column{{"count", model.TypeInt, false}, {"host", model.TypeString, true}, {"usage", model.TypeFloat, false}}
	if diff := cmp.Diff(wantCols, s2.Columns("my-db", "cpu")); diff != "" {
		t.Errorf("columns after reopen (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"my-db"}, s2.Databases()); diff != "" {
		t.Errorf("databases (-want +got):\n%s", diff)
	}
}

func TestWriteTypeConflictKeepsOtherRows(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	var b1 model.Batch
	row(t, b1.Table("m"), 1, model.Cell{Name: "v", Value: model.Float(1)})
	mustWrite(t, s, "db", &b1)
	var b2 model.Batch
	m := b2.Table("m")
	row(t, m, 2, model.Cell{Name: "w", Value: model.Int(5)})
	row(t, m, 3, model.Cell{Name: "v", Value: model.Int(5)}) // conflicts with v DOUBLE
	row(t, b2.Table("other"), 4, model.Cell{Name: "x", Value: model.Bool(true)})
	res, err := s.Write(ctx, "db", &b2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 2 || res.Rejected != 1 || len(res.Conflicts) != 1 {
		t.Fatalf("result %+v", res)
	}
	var tc *model.TypeConflict
	if !errors.As(res.Conflicts[0], &tc) || tc.Field != "v" || tc.Want != model.TypeFloat || tc.Got != model.TypeInt {
		t.Fatalf("conflict = %v", res.Conflicts[0])
	}
	_, data := queryAll(t, s, "db", "SELECT count(*) FROM m")
	if diff := cmp.Diff([][]model.Value{{model.Int(2)}}, data); diff != "" {
		t.Errorf("m rows (-want +got):\n%s", diff)
	}
	_, data = queryAll(t, s, "db", "SELECT x FROM other")
	if diff := cmp.Diff([][]model.Value{{model.Bool(true)}}, data); diff != "" {
		t.Errorf("other rows (-want +got):\n%s", diff)
	}
}

func TestQueryRendersExoticTypesAsText(t *testing.T) {
	s, _ := openTest(t)
	_, data := queryAll(t, s, "default", "SELECT 2.5::DECIMAL(4,1) AS d, [1,2] AS l, 170141183460469231731687303715884105727::HUGEINT AS h, 'NaN'::DOUBLE AS n")
	want := [][]model.Value{{
		{Type: model.TypeText, S: "2.5"},
		{Type: model.TypeText, S: "[1,2]"},
		{Type: model.TypeText, S: "170141183460469231731687303715884105727"},
		model.Float(nanValue()),
	}}
	if diff := cmp.Diff(want, data, cmp.Comparer(func(a, b float64) bool { return a == b || (a != a && b != b) })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func nanValue() float64 { z := 0.0; return z / z }

func TestQueryMissingTableIsCatalogError(t *testing.T) {
	s, _ := openTest(t)
	_, err := s.Query(context.Background(), "db", "SELECT * FROM nothing")
	if !IsCatalogError(err) {
		t.Fatalf("err = %v, want a catalog error", err)
	}
}

func TestFileAccessDisabled(t *testing.T) {
	s, _ := openTest(t)
	_, err := s.Query(context.Background(), "db", "SELECT * FROM read_csv('/etc/passwd')")
	if err == nil {
		t.Fatal("reading a file through user SQL succeeded")
	}
}

// TestConcurrentWritesGroupCommit: many concurrent writers, some adding
// the same new column with different types, lose nothing that was
// accepted, and each learns only of its own rejections.
func TestConcurrentWritesGroupCommit(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	const writers = 16
	type outcome struct {
		res model.WriteResult
		err error
	}
	results := make(chan outcome, writers)
	for w := range writers {
		go func() {
			var b model.Batch
			m := b.Table("m")
			v := model.Float(float64(w))
			if w%2 == 1 {
				v = model.Int(int64(w)) // half the writers disagree on v's type
			}
			for i := range 10 {
				if err := m.AppendRow(int64(w*100+i), []model.Cell{{Name: "w", Value: model.Int(int64(w))}, {Name: "v", Value: v}}); err != nil {
					panic(err)
				}
			}
			res, err := s.Write(ctx, "db", &b)
			results <- outcome{res, err}
		}()
	}
	written := 0
	for range writers {
		o := <-results
		if o.err != nil {
			t.Fatal(o.err)
		}
		if o.res.Rows+o.res.Rejected != 10 || (o.res.Rejected != 0 && o.res.Rejected != 10) {
			t.Fatalf("result %+v", o.res)
		}
		written += o.res.Rows
	}
	_, data := queryAll(t, s, "db", "SELECT count(*) FROM m")
	if diff := cmp.Diff([][]model.Value{{model.Int(int64(written))}}, data); diff != "" {
		t.Errorf("stored rows (-want +got):\n%s", diff)
	}
	if written != writers/2*10 {
		t.Errorf("written %d rows, want %d (the writers whose v type won)", written, writers/2*10)
	}
}

// TestSelectStarOrder: SELECT * lists time, then every column
// alphabetically (Arc's order), however the columns arrived.
func TestSelectStarOrder(t *testing.T) {
	s, path := openTest(t)
	var b1 model.Batch
	row(t, b1.Table("m"), 1, model.Cell{Name: "z", Value: model.Float(1)}, model.Cell{Name: "host", Tag: true, Value: model.String("h")})
	mustWrite(t, s, "db", &b1)
	var b2 model.Batch
	row(t, b2.Table("m"), 2, model.Cell{Name: "a", Value: model.Int(2)}, model.Cell{Name: "m", Value: model.Bool(true)})
	mustWrite(t, s, "db", &b2)
	names, data := queryAll(t, s, "db", "SELECT * FROM m ORDER BY time")
	if diff := cmp.Diff([]string{"time", "a", "host", "m", "z"}, names); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	if len(data) != 2 {
		t.Fatalf("rows %v", data)
	}
	s2 := reopen(t, s, path)
	if got := s2.Measurements("db"); !cmp.Equal(got, []string{"m"}) {
		t.Errorf("measurements after reopen %v", got)
	}
}

// TestSearchPathPerQuery checks that pooled connections, whose search path
// is remembered rather than set on every query, still resolve bare names
// in each query's own database: interleaved and concurrent queries on
// three databases (one never written), and after a statement that moves
// its connection's path (USE) or might (several statements).
func TestSearchPathPerQuery(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	for _, db := range []string{"a", "b"} {
		var b model.Batch
		row(t, b.Table("cpu"), 1_000_000, model.Cell{Name: "host", Tag: true, Value: model.String("in-" + db)})
		mustWrite(t, s, db, &b)
	}
	check := func(db string) error {
		rows, err := s.Query(ctx, db, "SELECT host FROM cpu")
		if db == "empty" {
			if err == nil {
				rows.Close()
				return errors.New("database empty: a bare name resolved in another database")
			}
			if !IsCatalogError(err) {
				return err
			}
			return nil
		}
		if err != nil {
			return err
		}
		defer rows.Close()
		v := make([]model.Value, 1)
		if !rows.Next(v) {
			return errors.New(db + ": no row")
		}
		if got, want := v[0].S, "in-"+db; got != want {
			return errors.New(db + ": read " + got)
		}
		return rows.Err()
	}
	for i := range 30 {
		if err := check([]string{"a", "b", "empty"}[i%3]); err != nil {
			t.Fatal(err)
		}
	}
	// Statements that would move a connection's path, or leave other
	// state on it, never run: the guard refuses them.
	for _, q := range []string{"USE b", "SET search_path = 'b'", "SELECT 1; USE b", "CREATE TEMP TABLE cpu AS SELECT 'x' AS host"} {
		if rows, err := s.Query(ctx, "a", q); err == nil {
			rows.Close()
			t.Fatalf("%s: ran", q)
		}
		if err := check("a"); err != nil {
			t.Fatalf("after %s: %v", q, err)
		}
	}
	// A query that fails while running drops its connection.
	for range 4 {
		if rows, err := s.Query(ctx, "b", "SELECT error('boom') FROM cpu"); err == nil {
			v := make([]model.Value, 1)
			for rows.Next(v) {
			}
			if rows.Err() == nil {
				t.Fatal("error() did not fail")
			}
			rows.Close()
		}
		if err := check("a"); err != nil {
			t.Fatalf("after a failed query: %v", err)
		}
	}
	errc := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 50 {
				if err := check([]string{"a", "b", "empty"}[(g+i)%3]); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range 8 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

// TestWriteRefusesUnstorableTypes: a batch built from query results may
// carry a time or text column; the store refuses it whole, with a typed
// error, instead of failing inside the writer.
func TestWriteRefusesUnstorableTypes(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	for _, v := range []model.Value{{Type: model.TypeText, S: "1.50"}, model.Time(5)} {
		var b model.Batch
		row(t, b.Table("m"), 1_000_000, model.Cell{Name: "ok", Value: model.Int(1)}, model.Cell{Name: "bad", Value: v})
		_, err := s.Write(ctx, "db", &b)
		if errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("%s column: err %v, want Invalid", v.Type, err)
		}
	}
	if s.HasTable("db", "m") {
		t.Error("the refused batch created its table")
	}
	// The store still works.
	var b model.Batch
	row(t, b.Table("m"), 1_000_000, model.Cell{Name: "ok", Value: model.Int(1)})
	mustWrite(t, s, "db", &b)
}
