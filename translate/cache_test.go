package translate

import (
	"context"
	"fmt"
	"testing"
)

func TestCacheBounded(t *testing.T) {
	tr := New(WithCacheSize(3))
	ctx := context.Background()
	for i := range 10 {
		if _, err := tr.Translate(ctx, fmt.Sprintf("SELECT %d", i), gen("postgres"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := tr.cache.len(); n != 3 {
		t.Fatalf("cache holds %d entries, want 3", n)
	}
	a, _ := tr.Translate(ctx, "SELECT 9", gen("postgres"), nil)
	b, _ := tr.Translate(ctx, "SELECT 9", gen("postgres"), nil)
	if a != b {
		t.Error("a repeated query was not served from the cache")
	}
	// Same text, other schema version: a different entry.
	c, _ := tr.Translate(ctx, "SELECT 9", gen("postgres"), &StaticSchema{Ver: 7})
	if c == a {
		t.Error("schema version not part of the key")
	}
}

func TestRefusalsAreCachedAndTyped(t *testing.T) {
	tr := New()
	_, err1 := tr.Translate(context.Background(), "SELECT arg_max(v, time) FROM cpu", gen("postgres"), nil)
	_, err2 := tr.Translate(context.Background(), "SELECT arg_max(v, time) FROM cpu", gen("postgres"), nil)
	if err1 == nil || err1 != err2 {
		t.Fatalf("want the same cached refusal, got %v / %v", err1, err2)
	}
	if !IsDuckDBOnly(func() error {
		_, err := tr.Translate(context.Background(), "SELECT * EXCLUDE (a) FROM t", gen("postgres"), nil)
		return err
	}()) {
		t.Error("EXCLUDE not reported as DuckDB-only")
	}
}
