package conformance

import (
	"strings"
	"testing"
)

// TestMarkdownListsFrontEndDeviations: docs/compatibility.md's section on
// pg wire lists every declaration of both front-end deviation files, which
// the gateway's tests keep exact, so the page says all the places pg wire
// and the Arc API differ and all that pg wire refuses of PostgreSQL.
func TestMarkdownListsFrontEndDeviations(t *testing.T) {
	r := &Report{Total: 0, Backends: []*BackendReport{{Name: "duckdb"}}}
	var sb strings.Builder
	if err := r.WriteMarkdown(&sb); err != nil {
		t.Fatal(err)
	}
	md := sb.String()
	_, section, ok := strings.Cut(md, "\n## pg wire and the Arc API\n")
	if !ok {
		t.Fatalf("no pg wire section in:\n%s", md)
	}
	for _, name := range []string{"pgwire-vs-arc", "pgwire-vs-postgres"} {
		devs, err := LoadDeviations(Corpus(), name)
		if err != nil {
			t.Fatal(err)
		}
		if len(devs) == 0 {
			t.Fatalf("%s.txt declares nothing", name)
		}
		for _, d := range devs {
			if !strings.Contains(section, "| `"+d.Pattern+"` | "+d.Note+" |") {
				t.Errorf("%s.txt: %q is not listed in the pg wire section", name, d.Pattern)
			}
		}
	}
}
