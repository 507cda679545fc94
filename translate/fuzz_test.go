package translate

import (
	"context"
	"errors"
	"testing"

	"tsgate/errs"
	"tsgate/translate/pgparse"
)

// FuzzTranslate: no input panics, every failure is a typed error, and
// whatever parses prints to SQL that parses again.
func FuzzTranslate(f *testing.F) {
	for _, c := range cases {
		f.Add(c.sql)
	}
	tr := New(WithCacheSize(0))
	schema := testSchema()
	f.Fuzz(func(t *testing.T, sql string) {
		st, err := pgparse.Parse(sql, pgparse.Arc)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Code == errs.Internal {
				t.Fatalf("untyped parse error for %q: %v", sql, err)
			}
			return
		}
		if _, err := pgparse.Parse(st.String(), pgparse.Arc); err != nil {
			t.Fatalf("canonical form of %q does not parse: %q: %v", sql, st.String(), err)
		}
		for _, tg := range allTargets {
			if _, err := tr.Translate(context.Background(), sql, gen(tg), schema); err != nil {
				var e *errs.Error
				if !errors.As(err, &e) || e.Code == errs.Internal {
					t.Fatalf("untyped error for %q on %s: %v", sql, tg, err)
				}
			}
		}
	})
}
