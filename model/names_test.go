package model

import (
	"regexp"
	"strings"
	"testing"
)

// TestNames: the byte loops are Arc's regular expressions.
func TestNames(t *testing.T) {
	meas := regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]{0,127}$`)
	db := regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)
	for _, s := range []string{"", "a", "A9", "9a", "_a", "-a", "a-b_c", "a.b", "a b", "naïve", "a\x00", "Z" + strings.Repeat("z", 63),
		"Z" + strings.Repeat("z", 64), "m" + strings.Repeat("1", 127), "m" + strings.Repeat("1", 128), "é"} {
		if got, want := ValidMeasurement(s), meas.MatchString(s); got != want {
			t.Errorf("ValidMeasurement(%q) = %v, want %v", s, got, want)
		}
		if got, want := ValidMeasurement([]byte(s)), meas.MatchString(s); got != want {
			t.Errorf("ValidMeasurement([]byte %q) = %v, want %v", s, got, want)
		}
		if got, want := ValidDatabase(s), db.MatchString(s); got != want {
			t.Errorf("ValidDatabase(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzNames(f *testing.F) {
	meas := regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]{0,127}$`)
	db := regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)
	f.Add("cpu")
	f.Fuzz(func(t *testing.T, s string) {
		if ValidMeasurement(s) != meas.MatchString(s) || ValidDatabase(s) != db.MatchString(s) {
			t.Errorf("%q: measurement %v, database %v", s, ValidMeasurement(s), ValidDatabase(s))
		}
	})
}
