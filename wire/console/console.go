package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"time"

	"tsgate/auth"
	"tsgate/dialects/registry"
	"tsgate/errs"
	"tsgate/guard"
	"tsgate/translate"
	"tsgate/translate/target"
	"tsgate/wire/arc"
)

//go:embed assets
var assets embed.FS

// Live is what the console shows of the running backend.
type Live struct {
	// Backend is the backend's name ("duckdb", "influxql", …).
	Backend string
	// Generator is the target its queries are translated for.
	Generator string
	// AsWritten: Arc SQL runs on it as written, untranslated (the
	// embedded store).
	AsWritten bool
}

// Config is what the console reads from the gateway.
type Config struct {
	// Guard classifies a query and checks the caller may read its tables
	// before anything is translated.
	Guard *guard.Guard
	// Schema is the live backend's catalog, bare names resolving in db:
	// every target is translated against the data as it is.
	Schema func(db string) target.Schema
	// Live describes the backend now serving (it changes on a reload).
	Live func() Live
	// Baseline is conformance/baseline.json.
	Baseline []byte
	// ReportPath is the last `tsgate conformance --report json` output;
	// absent is fine.
	ReportPath string
	// MaxSQLLength caps the query text, as arc.max_sql_length does.
	MaxSQLLength int
}

// Console serves the page and its JSON routes.
type Console struct {
	cfg Config
	tr  *translate.Translator
}

// New builds the console.
func New(cfg Config) *Console {
	if cfg.MaxSQLLength <= 0 {
		cfg.MaxSQLLength = 10000
	}
	return &Console{cfg: cfg, tr: translate.New(translate.WithSource(translate.FromArc))}
}

// Routes are the console's routes on the Arc listener.
func (c *Console) Routes() []arc.Route {
	static, _ := fs.Sub(assets, "assets")
	files := http.StripPrefix("/ui/", http.FileServerFS(static))
	return []arc.Route{
		{Pattern: "GET /ui", Handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/ui/", http.StatusMovedPermanently)
		}},
		{Pattern: "GET /ui/", Handler: func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			// Nothing but the embedded files: no CDN, no inline script,
			// no framing.
			h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cache-Control", "no-cache")
			files.ServeHTTP(w, r)
		}},
		{Pattern: "POST /api/v1/ui/translate", Perm: auth.Read, Handler: c.translate},
		{Pattern: "GET /api/v1/ui/conformance", Perm: auth.Read, Handler: c.conformance},
	}
}

// errorJSON is an error at this edge: tsgate's code, its SQLSTATE, the
// message, hint and position.
type errorJSON struct {
	Code     string `json:"code"`
	SQLState string `json:"sqlstate"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
	Position int    `json:"position,omitempty"`
}

func errorOf(err error) *errorJSON {
	e := errs.As(err)
	return &errorJSON{Code: e.Code.String(), SQLState: e.State(), Message: e.Msg, Hint: e.Hint, Position: e.Position}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, err error) {
	writeJSON(w, errs.CodeOf(err).HTTPStatus(), map[string]any{"error": errorOf(err)})
}

// translation is one target's answer.
type translation struct {
	Target string `json:"target"`
	// Backends are the backends that use this target.
	Backends []string `json:"backends"`
	Live     bool     `json:"live"`
	Language string   `json:"language"`
	// Outcome: translated, answered (by the gateway itself: a constant
	// or its catalog), refused (SQLSTATE 0A000) or error.
	Outcome string `json:"outcome"`
	Text    string `json:"text,omitempty"`
	// Answer is what the gateway answers without the backend.
	Answer string   `json:"answer,omitempty"`
	Notes  []string `json:"notes,omitempty"`
	// Steps run in the gateway on the backend's rows.
	Steps      []string   `json:"steps,omitempty"`
	Error      *errorJSON `json:"error,omitempty"`
	DuckDBOnly bool       `json:"duckdb_only,omitempty"`
}

type translateRequest struct {
	SQL      string `json:"sql"`
	Database string `json:"database"`
}

// translate answers the query's translation for every target. It runs
// nothing: the guard's parse happens in its private, empty engine, and
// the translator only generates text.
func (c *Console) translate(w http.ResponseWriter, r *http.Request) {
	var req translateRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(c.cfg.MaxSQLLength)*4+1024))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		writeError(w, errs.New(errs.Invalid, `want {"sql": "…", "database": "…"}`))
		return
	}
	if req.SQL == "" || len(req.SQL) > c.cfg.MaxSQLLength {
		writeError(w, errs.Newf(errs.Invalid, "sql must be 1 to %d characters", c.cfg.MaxSQLLength))
		return
	}
	if req.Database == "" {
		req.Database = "default"
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	// Who may read what: the same classification and table check a query
	// gets before it runs.
	if _, err := c.cfg.Guard.Arc(ctx, req.Database, req.SQL); err != nil {
		writeError(w, err)
		return
	}
	live := c.cfg.Live()
	schema := c.cfg.Schema(req.Database)
	uses := map[string][]string{}
	for _, d := range registry.All() {
		for _, g := range d.Generators {
			uses[g.Name()] = append(uses[g.Name()], d.Name)
		}
	}
	var out []translation
	for _, gen := range registry.Generators() {
		t := translation{Target: gen.Name(), Backends: uses[gen.Name()], Live: gen.Name() == live.Generator, Language: gen.Language().String()}
		tr, err := c.tr.TranslateIn(ctx, req.SQL, gen, req.Database, schema)
		switch {
		case err != nil:
			t.Outcome, t.Error = "error", errorOf(err)
			if errs.CodeOf(err) == errs.Unsupported {
				t.Outcome = "refused"
			}
			t.DuckDBOnly = errors.Is(err, translate.ErrDuckDBOnly)
		case tr.Catalog != nil:
			t.Outcome, t.Answer = "answered", "the gateway's catalog: "+fmt.Sprint(tr.Catalog)
		case tr.Const != nil:
			t.Outcome, t.Answer = "answered", tr.Const.String()
		default:
			t.Outcome, t.Text = "translated", tr.Text
			for _, n := range tr.Notes {
				t.Notes = append(t.Notes, n.String())
			}
			for _, p := range tr.Post {
				t.Steps = append(t.Steps, p.String())
			}
		}
		out = append(out, t)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"database":     req.Database,
		"backend":      live.Backend,
		"as_written":   live.AsWritten,
		"translations": out,
	})
}

// report is the part of a conformance JSON report the matrix shows.
type report struct {
	Started  time.Time `json:"started"`
	Total    int       `json:"total"`
	Backends []struct {
		Name    string         `json:"name"`
		Counts  map[string]int `json:"counts"`
		Results []struct {
			Case    string `json:"case"`
			Outcome string `json:"outcome"`
			Detail  string `json:"detail,omitempty"`
		} `json:"results"`
	} `json:"backends"`
}

// maxReport bounds the report file read (a full run is a few MB).
const maxReport = 64 << 20

// conformance answers the baseline and, when there is one, the last
// report.
func (c *Console) conformance(w http.ResponseWriter, r *http.Request) {
	resp := map[string]any{"report_path": c.cfg.ReportPath}
	var baseline map[string]any
	if err := json.Unmarshal(c.cfg.Baseline, &baseline); err == nil {
		resp["baseline"] = baseline
	}
	if c.cfg.ReportPath != "" {
		rep, err := readReport(c.cfg.ReportPath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			resp["report_error"] = err.Error()
		default:
			resp["report"] = rep
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func readReport(path string) (*report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rep report
	dec := json.NewDecoder(io.LimitReader(f, maxReport))
	if err := dec.Decode(&rep); err != nil {
		return nil, errors.New("the conformance report " + path + " is not a `tsgate conformance --report json` output: " + err.Error())
	}
	// Details can be long (whole differing results): the matrix shows
	// the first of them.
	for i := range rep.Backends {
		for j := range rep.Backends[i].Results {
			if d := &rep.Backends[i].Results[j].Detail; len(*d) > 600 {
				*d = (*d)[:600] + "…"
			}
		}
	}
	return &rep, nil
}
