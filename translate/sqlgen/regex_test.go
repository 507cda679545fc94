package sqlgen

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDotNoNewline(t *testing.T) {
	const nl = "[^\n]"
	for _, tc := range []struct {
		in, want string
		changed  bool
	}{
		{"abc", "abc", false},
		{"a.b", "a" + nl + "b", true},
		{`a\.b`, `a\.b`, false},
		{"[.]", "[.]", false},
		{"[^.]x.", "[^.]x" + nl, true},
		{"[].]", "[].]", false},
		{"[^].]", "[^].]", false},
		{"[[:alpha:].]x.", "[[:alpha:].]x" + nl, true},
		{".*.*", nl + "*" + nl + "*", true},
		{`\\.`, `\\` + nl, true},
		{"naïve.", "naïve" + nl, true},
	} {
		got, changed := dotNoNewline(tc.in)
		if d := cmp.Diff(tc.want, got); d != "" || changed != tc.changed {
			t.Errorf("dotNoNewline(%q): changed %v, want %v (-want +got):\n%s", tc.in, changed, tc.changed, d)
		}
	}
}
