package registry

import (
	"context"
	"strings"
	"testing"

	"tsgate/dialects"
	"tsgate/errs"
)

// TestOneEntryPerName checks that the list is a registry: backend names,
// URL schemes and generator names each appear once, and every generator
// is found by its name.
func TestOneEntryPerName(t *testing.T) {
	names, schemes, gens := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, d := range All() {
		if d.Name == "" || names[d.Name] {
			t.Errorf("backend name %q empty or repeated", d.Name)
		}
		names[d.Name] = true
		if len(d.Schemes) > 0 && d.Open == nil {
			t.Errorf("%s: schemes %v but no Open", d.Name, d.Schemes)
		}
		for _, s := range d.Schemes {
			if schemes[s] {
				t.Errorf("scheme %q registered twice", s)
			}
			schemes[s] = true
		}
		for _, g := range d.Generators {
			if gens[g.Name()] {
				t.Errorf("generator %q registered twice", g.Name())
			}
			gens[g.Name()] = true
			got, err := Generator(g.Name())
			if err != nil || got.Name() != g.Name() {
				t.Errorf("Generator(%q) = %v, %v", g.Name(), got, err)
			}
		}
	}
	if All()[0].Name != "duckdb" {
		t.Errorf("the embedded store must come first, got %q", All()[0].Name)
	}
}

func TestOpenUnknownScheme(t *testing.T) {
	_, err := Open(context.Background(), "nosuch://user:secret@host/db")
	if errs.CodeOf(err) != errs.Unsupported {
		t.Fatalf("got %v, want Unsupported", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error repeats credentials: %v", err)
	}
	for _, s := range []string{"influxql://", "postgres://", "clickhouse://"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not list %s: %v", s, err)
		}
	}
	if _, err := Open(context.Background(), "not a url"); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("got %v, want Invalid", err)
	}
	if _, err := Generator("nosuch"); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("Generator(nosuch) = %v, want Invalid", err)
	}
}

// TestURLDatabase: the Arc database a backend URL names, as the tools
// that take URLs read it (dialects.DatabaseInURL). Opening connects to
// nothing.
func TestURLDatabase(t *testing.T) {
	for _, c := range []struct {
		url  string
		want string
		has  bool
	}{
		{"arc://127.0.0.1:8000/telegraf?token=x", "telegraf", true},
		{"arc://127.0.0.1:8000?token=x", "", true},
		{"influxql://u:p@127.0.0.1:8086/metrics", "metrics", true},
		{"influxql://127.0.0.1:8086", "", true},
		{"flux://127.0.0.1:8086/metrics/autogen?org=o", "metrics", true},
		{"clickhouse://127.0.0.1:8123/analytics", "analytics", true},
		{"postgres://u@127.0.0.1:5432/tsgate", "", false},
	} {
		be, err := Open(context.Background(), c.url)
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		d, ok := be.(dialects.DatabaseInURL)
		got := ""
		if ok {
			got = d.URLDatabase()
		}
		if ok != c.has || got != c.want {
			t.Errorf("%s: URLDatabase %q (capability %v), want %q (%v)", c.url, got, ok, c.want, c.has)
		}
		be.Close()
	}
}
