package duckdbtest

import (
	"context"
	"testing"

	"tsgate/dialects/duckdb"
)

// Open opens the store at path (in a directory that exists, usually
// t.TempDir()), failing the test if it cannot, and closes it when the
// test ends (closing twice is harmless, so a test may close it earlier).
func Open(t testing.TB, path string, opts ...duckdb.Option) *duckdb.Store {
	t.Helper()
	s, err := duckdb.Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
