package backendkit

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"tsgate/dialects"
	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/target"
)

func TestParseRemote(t *testing.T) {
	spec := RemoteURL{What: "Test", Schemes: []string{"tst", "tst2"}, Want: "tst://", DefaultDB: "default", IdleConnTimeout: time.Second}
	type parsed struct {
		Base, User, Pass, DB, URLDB, String string
		Timeout                             time.Duration
	}
	for _, c := range []struct {
		url  string
		want parsed
		err  string // the error's message; it never quotes the URL
	}{
		{url: "tst://u:hunter2@h:1/metrics?timeout=2s",
			want: parsed{Base: "http://h:1", User: "u", Pass: "hunter2", DB: "metrics", URLDB: "metrics", String: "tst://u@h:1/metrics?timeout=2s", Timeout: 2 * time.Second}},
		{url: "tst2://h:1?tls=true&token=tok",
			want: parsed{Base: "https://h:1", DB: "default", String: "tst2://h:1?tls=true&token=xxxxx", Timeout: 30 * time.Second}},
		{url: "tst://h:1/a/b/",
			want: parsed{Base: "http://h:1", DB: "a/b", URLDB: "a/b", String: "tst://h:1/a/b/", Timeout: 30 * time.Second}},
		{url: "tst://u:hunter2@h:1/%zz", err: "invalid Test backend URL"},
		{url: "http://u:hunter2@h:1", err: `Test backend URL scheme "http": want tst://`},
		{url: "tst:///db", err: "Test backend URL has no host"},
		{url: "tst://u:hunter2@h:1?timeout=-1s", err: `Test backend URL: invalid timeout "-1s"`},
	} {
		r, _, err := ParseRemote(c.url, spec)
		if c.err != "" {
			if errs.CodeOf(err) != errs.Invalid || errs.As(err).Msg != c.err {
				t.Errorf("%s: error %v, want Invalid %q", c.url, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		got := parsed{Base: r.Base.String(), User: r.User, Pass: r.Pass, DB: r.DB, URLDB: r.URLDB, String: r.String(), Timeout: r.Timeout}
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", c.url, d)
		}
		if r.Database("") != c.want.DB || r.Database("x") != "x" {
			t.Errorf("%s: Database(\"\") %q, Database(x) %q", c.url, r.Database(""), r.Database("x"))
		}
		if !r.Tags.IsTag("events", &model.Column{Name: "org_id", Type: model.TypeString}) {
			t.Errorf("%s: default tags not set", c.url)
		}
		if strings.Contains(r.String(), "hunter2") {
			t.Errorf("%s: String shows the password", c.url)
		}
	}
}

func TestResolve(t *testing.T) {
	tb := &model.Table{Measurement: "m"}
	for i := range 12 {
		// Rows 0-9: v conflicts with the stored float; rows 10-11: w only.
		cells := []model.Cell{{Name: "w", Value: model.Int(int64(i))}}
		if i < 10 {
			cells = append(cells, model.Cell{Name: "v", Value: model.String("x")})
		}
		if err := tb.AppendRow(int64(i), cells); err != nil {
			t.Fatal(err)
		}
	}
	stored := ByName([]target.ColumnInfo{{Name: "v", Type: model.TypeFloat}})
	var res model.WriteResult
	kept, ok := Resolve(tb, StoredType(stored), &res)
	if !ok || kept.Len() != 2 || res.Rejected != 10 || len(res.Conflicts) != 1 {
		t.Fatalf("kept %d (ok %v), rejected %d, conflicts %v", kept.Len(), ok, res.Rejected, res.Conflicts)
	}
	only := &model.Table{Measurement: "m"}
	if err := only.AppendRow(1, []model.Cell{{Name: "v", Value: model.String("x")}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := Resolve(only, StoredType(stored), &res); ok || res.Rejected != 11 {
		t.Errorf("a table with no row left: ok %v, rejected %d", ok, res.Rejected)
	}
	for range 20 {
		res.Conflicts = append(res.Conflicts, errs.New(errs.Invalid, "x"))
	}
	CapConflicts(&res)
	if len(res.Conflicts) != MaxConflicts {
		t.Errorf("CapConflicts left %d", len(res.Conflicts))
	}
}

func TestResolveBatch(t *testing.T) {
	batch := &model.Batch{}
	for _, m := range []string{"m", "long", "new"} {
		batch.Table(m).AppendRow(1, []model.Cell{{Name: "v", Value: model.String("x")}})
		batch.Table(m).AppendRow(2, []model.Cell{{Name: "w", Value: model.Int(1)}})
	}
	c := &Catalog{Load: func(context.Context, string) (map[string][]target.ColumnInfo, error) {
		return map[string][]target.ColumnInfo{"m": {{Name: "v", Type: model.TypeFloat}}}, nil
	}}
	var res model.WriteResult
	stored, kept, err := ResolveBatch(context.Background(), c, "db", batch, &res, func(t *model.Table) error {
		if t.Measurement == "long" {
			return errs.New(errs.Invalid, "too long")
		}
		return nil
	})
	if err != nil || len(stored) != 1 {
		t.Fatalf("stored %v, err %v", stored, err)
	}
	// m loses its conflicting row, long all of its rows, new nothing.
	if len(kept) != 2 || kept[0].Len() != 1 || kept[1].Measurement != "new" || kept[1].Len() != 2 ||
		res.Rejected != 3 || len(res.Conflicts) != 2 {
		t.Fatalf("kept %v, result %+v", kept, res)
	}

	down := &Catalog{Load: func(context.Context, string) (map[string][]target.ColumnInfo, error) {
		return nil, errs.New(errs.Unavailable, "down")
	}}
	if _, _, err := ResolveBatch(context.Background(), down, "db", batch, &res, nil); !errors.As(err, new(*dialects.NotStoredError)) {
		t.Errorf("a failed catalog read: %v, want it marked NotStored", err)
	}
}

func TestRemoteRequestDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/ok" || req.URL.Query().Get("q") != "1" {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte("bad " + req.URL.String()))
			return
		}
		w.Write([]byte("fine"))
	}))
	defer srv.Close()
	r, _, err := ParseRemote("tst://"+strings.TrimPrefix(srv.URL, "http://"), RemoteURL{What: "Test", Schemes: []string{"tst"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	status := func(resp *http.Response, body []byte) error {
		return StatusError("tst", resp.StatusCode, string(body))
	}
	req, err := r.Request(ctx, "tst", http.MethodGet, "/ok", url.Values{"q": {"1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.Do(ctx, "tst", req, status)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "fine" {
		t.Errorf("body %q", body)
	}
	req, _ = r.Request(ctx, "tst", http.MethodGet, "/other", nil, nil)
	_, err = r.Do(ctx, "tst", req, status)
	if errs.CodeOf(err) != errs.Engine || !strings.Contains(err.Error(), "bad /other") {
		t.Errorf("a 400: %v", err)
	}
	if _, err := r.Request(ctx, "tst", "BAD METHOD", "/", nil, nil); errs.CodeOf(err) != errs.Internal {
		t.Errorf("an unbuildable request: %v", err)
	}
}
