package main

import (
	"slices"
	"strings"
	"testing"

	"tsgate/translate/target"
)

// FuzzSchemaFile: any input is parsed or refused, never a panic; what is
// accepted is sorted, names each column once, and marks only fields
// Required.
func FuzzSchemaFile(f *testing.F) {
	for _, s := range []string{
		`{"cpu": {"tags": ["host"], "fields": {"usage": "float"}, "required": ["usage"]}}`,
		`{"database": "telegraf", "measurements": {"cpu": {"fields": {"v": "integer"}}}}`,
		`{"database": 1, "measurements": {}}`,
		`{"measurements": {"tags": [], "fields": {}}}`,
		`{"db.m": {"tags": ["a", "a"]}}`,
		`null`, `[]`, `{"m": null}`, `{"m": {"fields": {"time": "float"}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := parseSchemaFile(data)
		if err != nil {
			return
		}
		for m, cols := range sf.Schema.Measurements {
			if !slices.IsSortedFunc(cols, func(a, b target.ColumnInfo) int { return strings.Compare(a.Name, b.Name) }) {
				t.Errorf("%s: columns not sorted", m)
			}
			seen := map[string]bool{}
			for _, c := range cols {
				if seen[c.Name] || c.Name == "time" || c.Name == "" {
					t.Errorf("%s: column %q repeated or reserved", m, c.Name)
				}
				seen[c.Name] = true
				if c.Required && c.Tag {
					t.Errorf("%s: tag %q marked required", m, c.Name)
				}
			}
		}
	})
}
