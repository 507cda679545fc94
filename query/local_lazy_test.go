package query

import (
	"testing"

	"tsgate/guard"
)

// The finishing engine opens on the first split query only; a Local
// closed unused opens none and refuses.
func TestLocalOpensLazily(t *testing.T) {
	g, err := guard.New()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	l, err := NewLocal(g, LocalLimits{MemoryLimit: "64MB", MaxRows: 10, MaxBytes: 1 << 20, Budget: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if l.db != nil {
		t.Fatal("NewLocal opened the engine")
	}
	if err := l.open(); err != nil {
		t.Fatal(err)
	}
	if l.db == nil {
		t.Fatal("open did not open the engine")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	unused, err := NewLocal(g, LocalLimits{MemoryLimit: "64MB"})
	if err != nil {
		t.Fatal(err)
	}
	if err := unused.Close(); err != nil {
		t.Fatal(err)
	}
	if err := unused.open(); err == nil {
		t.Error("a closed Local opened its engine")
	}
}
