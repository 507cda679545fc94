package backendkit

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"tsgate/errs"
	"tsgate/model"
)

func TestAhead(t *testing.T) {
	var a Ahead
	n := 0
	next := func(dst []model.Value) bool {
		n++
		dst[0] = model.Int(int64(n))
		return n <= 2
	}
	if !a.Read(1, next) || a.Row()[0] != model.Int(1) {
		t.Fatalf("read ahead %v", a.Row())
	}
	dst := make([]model.Value, 1)
	for _, want := range []int64{1, 2} {
		if !(a.Take(dst) || next(dst)) || dst[0] != model.Int(want) {
			t.Fatalf("row %v, want %d", dst, want)
		}
	}
	if a.Take(dst) || next(dst) {
		t.Error("a row after the end")
	}
}

type countingBody struct {
	io.Reader
	closes int
}

func (c *countingBody) Close() error { c.closes++; return nil }

func TestBodyClosesOnceAfterDraining(t *testing.T) {
	r := strings.NewReader(strings.Repeat("x", 100))
	cb := &countingBody{Reader: r}
	b := &Body{ReadCloser: cb, Drain: 60}
	b.Close()
	b.Close()
	if cb.closes != 1 || r.Len() != 40 {
		t.Errorf("closed %d times, %d bytes left", cb.closes, r.Len())
	}
}

func TestReadError(t *testing.T) {
	ctx := context.Background()
	if got := ReadError(ctx, "x", io.ErrUnexpectedEOF, "x: read failed"); errs.CodeOf(got) != errs.Unavailable || !strings.Contains(got.Error(), "read failed") {
		t.Errorf("a broken stream: %v", got)
	}
	own := errs.New(errs.Engine, "x: bad row")
	if got := ReadError(ctx, "x", own, "x: read failed"); got != error(own) {
		t.Errorf("a tsgate error: %v", got)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if got := ReadError(done, "x", errors.New("conn reset"), "x: read failed"); errs.CodeOf(got) != errs.Canceled {
		t.Errorf("after the context ended: %v", got)
	}
}
