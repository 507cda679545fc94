package guard

import (
	"context"
	"testing"

	"tsgate/auth"
	"tsgate/errs"
)

// The parser engine opens on first use, and a guard that cannot have it
// (here: closed before use) refuses everything rather than letting
// anything through unclassified.
func TestLazyEngineFailsClosed(t *testing.T) {
	g, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if g.p != nil {
		t.Fatal("New opened the parser engine")
	}
	if _, err := g.Parse(context.Background(), "SELECT 1"); err != nil {
		t.Fatalf("first Parse: %v", err)
	}
	if g.p == nil {
		t.Fatal("Parse did not open the parser engine")
	}
	g.Close()

	closed, err := New()
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if _, err := closed.Parse(context.Background(), "SELECT 1"); errs.CodeOf(err) != errs.Unavailable {
		t.Errorf("Parse on a closed guard: %v, want Unavailable", err)
	}
	if _, err := closed.SyntaxTree(context.Background(), "SELECT 1"); errs.CodeOf(err) != errs.Unavailable {
		t.Errorf("SyntaxTree on a closed guard: %v, want Unavailable", err)
	}
	check := closed.DatabaseTables(auth.Caller{Admin: true}, "db")
	if err := check(Name{Name: "duckdb_tables"}); errs.CodeOf(err) != errs.Unavailable {
		t.Errorf("a bare system name on a closed guard: %v, want Unavailable", err)
	}
}
