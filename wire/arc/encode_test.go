package arc

import (
	"testing"

	"tsgate/model"
)

// TestJSONDecimals: a decimal cell prints as Arc prints a DECIMAL (%g at
// its precision), whether DuckDB typed it DECIMAL(p,s) or PostgreSQL
// answered a numeric: -1073741824.0 is "-1073741824" from both.
func TestJSONDecimals(t *testing.T) {
	for _, c := range []struct{ backendType, text, want string }{
		{"DECIMAL(21,1)", "-1073741824.0", `["-1073741824"]`},
		{"numeric", "-1073741824.0", `["-1073741824"]`},
		{"numeric", "0.10", `["0.1"]`},
		{"numeric", "0.00001", `["1e-05"]`},
		{"NUMERIC", "12.50", `["12.5"]`},
		{"numeric", "NaN", `["NaN"]`},
		{"text", "1.0", `["1.0"]`},
	} {
		e := &jsonEncoder{}
		e.begin(nil, []model.ResultColumn{{Name: "x", Type: model.TypeText, BackendType: c.backendType}})
		if got := string(e.row(nil, []model.Value{{Type: model.TypeText, S: c.text}})); got != c.want {
			t.Errorf("%s %q: %s, want %s", c.backendType, c.text, got, c.want)
		}
	}
}
