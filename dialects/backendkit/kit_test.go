package backendkit

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"

	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/target"
)

func TestRequiredAfter(t *testing.T) {
	for _, c := range []struct {
		known, had, existing, present, want bool
	}{
		{false, false, false, true, true},   // new measurement, field in every row
		{false, false, true, true, false},   // new field on a measurement with rows
		{true, true, true, true, true},      // still in every row
		{true, true, true, false, false},    // a row lacks it
		{true, false, true, true, false},    // never back to true
		{false, false, false, false, false}, // new, but some row lacks it
	} {
		if got := RequiredAfter(c.known, c.had, c.existing, c.present); got != c.want {
			t.Errorf("RequiredAfter(%v, %v, %v, %v) = %v", c.known, c.had, c.existing, c.present, got)
		}
	}
}

func TestPresentAndTags(t *testing.T) {
	tb := &model.Table{Measurement: "events"}
	tb.AppendRow(1, []model.Cell{{Name: "org_id", Value: model.String("o")}, {Name: "a", Value: model.Int(1)}})
	tb.AppendRow(2, []model.Cell{{Name: "org_id", Value: model.String("o")}, {Name: "b", Value: model.Int(1)}, {Name: "a", Value: model.Int(2)}})
	p := Present(tb)
	if !p["a"] || p["b"] || !p["org_id"] {
		t.Errorf("present %v", p)
	}
	tags := DefaultTags()
	if !tags.IsTag("events", tb.Column("org_id")) || tags.IsTag("events", tb.Column("a")) || tags.IsTag("other", tb.Column("org_id")) {
		t.Error("IsTag")
	}
	merged := tags.Merge(Tags{"cpu": {"hostname"}})
	if len(merged["cpu"]) != 1 || len(tags["cpu"]) != 0 {
		t.Error("Merge must not change the receiver")
	}
}

func TestRedactAndErrors(t *testing.T) {
	u, _ := url.Parse("influxql://user:hunter2@h:8086/db?token=tok123&timeout=1s")
	r := Redact(u)
	if strings.Contains(r, "hunter2") || strings.Contains(r, "tok123") || !strings.Contains(r, "user@h:8086") {
		t.Errorf("Redact = %s", r)
	}
	ue := &url.Error{Op: "Post", URL: "http://user:hunter2@h/x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	e := TransportError(context.Background(), "influxdb", ue)
	if e.Code != errs.Unavailable || strings.Contains(e.Error(), "hunter2") || strings.Contains(errs.As(e.Err).Error(), "hunter2") {
		t.Errorf("%v (%v)", e, e.Err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if c := TransportError(ctx, "x", context.Canceled).Code; c != errs.Canceled {
		t.Errorf("canceled → %v", c)
	}
	if c := StatusError("x", 401, "").Code; c != errs.Unavailable {
		t.Errorf("401 → %v", c)
	}
	if c := StatusError("x", 400, "bad").Code; c != errs.Engine {
		t.Errorf("400 → %v", c)
	}
}

func TestCatalogVersion(t *testing.T) {
	cols := []target.ColumnInfo{{Name: "v", Type: model.TypeFloat}}
	loads := 0
	c := &Catalog{Load: func(context.Context, string) (map[string][]target.ColumnInfo, error) {
		loads++
		return map[string][]target.ColumnInfo{"m": cols}, nil
	}}
	s := c.For("db")
	if _, ok := s.Columns("", "m"); !ok {
		t.Fatal("m unknown")
	}
	v1 := s.Version()
	s.Columns("db", "m")
	if loads != 1 || s.Version() != v1 {
		t.Errorf("cached lookups reloaded (%d) or changed the version", loads)
	}
	c.Invalidate("db")
	if s.Version() == v1 {
		t.Error("Invalidate kept the version")
	}
	cols = append(cols, target.ColumnInfo{Name: "w", Type: model.TypeInt})
	if _, ok := target.Column(s, "", "m", "w"); !ok || loads != 2 {
		t.Errorf("reload after Invalidate: loads %d", loads)
	}
}

func TestUintsAsInts(t *testing.T) {
	tb := &model.Table{Measurement: "m"}
	tb.AppendRow(1, []model.Cell{{Name: "u", Value: model.Uint(7)}, {Name: "s", Value: model.String("x")}})
	tb.AppendRow(2, []model.Cell{{Name: "s", Value: model.String("y")}})
	out := UintsAsInts(tb, FitsInt64)
	c := out.Column("u")
	if c.Type != model.TypeInt || c.At(0) != model.Int(7) || !c.At(1).IsNull() || out.Column("s").At(1) != model.String("y") {
		t.Errorf("%+v", c)
	}
	if err := out.Validate(); err != nil {
		t.Error(err)
	}
}

func TestCatalogErr(t *testing.T) {
	fail := true
	c := &Catalog{Load: func(context.Context, string) (map[string][]target.ColumnInfo, error) {
		if fail {
			return nil, errs.New(errs.Unavailable, "down")
		}
		return map[string][]target.ColumnInfo{}, nil
	}}
	if _, ok := c.Columns("db", "m"); ok || errs.CodeOf(c.Err("db")) != errs.Unavailable {
		t.Errorf("err %v", c.Err("db"))
	}
	fail = false
	c.Columns("db", "m")
	if c.Err("db") != nil {
		t.Error("error kept after a good load")
	}
}
