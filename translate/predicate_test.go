package translate

import (
	"testing"

	"tsgate/errs"
)

func TestPredicate(t *testing.T) {
	cases := []struct {
		where string
		want  string // the condition printed back; "" for a refusal
		code  errs.Code
	}{
		{`host = 'a'`, `host = 'a'`, 0},
		{`(host = 'a' AND time < '2024-01-01T00:00:00Z') IS TRUE`, `(host = 'a' AND time < TIMESTAMPTZ '2024-01-01 00:00:00+00') IS NOT DISTINCT FROM true`, 0},
		{`usage > 2 OR host IN ('x', 'y')`, `usage > 2 OR host IN ('x', 'y')`, 0},
		{`cpu.host = 'a'`, `cpu.host = 'a'`, 0},
		{`1=1`, `1 = 1`, 0},
		{`host = 'a'; DROP TABLE cpu`, ``, errs.Invalid},
		{`host IN (SELECT host FROM mem)`, ``, errs.Unsupported},
		{`count(*) > 1`, ``, errs.Unsupported},
		{`other.host = 'a'`, ``, errs.Unsupported},
		{`1=1 GROUP BY host`, ``, errs.Invalid},
		{`1=1 UNION SELECT * FROM mem WHERE 1=1`, ``, errs.Invalid},
		{`1=1) OR (1=1`, ``, errs.Invalid},
		{`x = 1 ORDER BY time`, ``, errs.Invalid},
	}
	for _, c := range cases {
		e, err := Predicate("cpu", c.where)
		if c.want == "" {
			if err == nil {
				t.Errorf("%q: accepted as %s", c.where, e)
			} else if got := errs.CodeOf(err); got != c.code {
				t.Errorf("%q: code %v, want %v (%v)", c.where, got, c.code, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.where, err)
			continue
		}
		if got := e.String(); got != c.want {
			t.Errorf("%q: printed %s, want %s", c.where, got, c.want)
		}
	}
}

// FuzzPredicate: whatever the text, Predicate either refuses it or
// returns a condition that prints and reads back as a condition.
func FuzzPredicate(f *testing.F) {
	for _, s := range []string{`host = 'a'`, `(a > 1) IS TRUE`, `1=1) OR (1=1`, `x IN (SELECT 1)`, `time < now() - INTERVAL '1 day'`, `a LIKE '%x%'`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, where string) {
		e, err := Predicate("m", where)
		if err != nil {
			return
		}
		again, err := Predicate("m", e.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which is refused: %v", where, e.String(), err)
		}
		if again.String() != e.String() {
			t.Fatalf("%q: %q then %q", where, e.String(), again.String())
		}
	})
}
