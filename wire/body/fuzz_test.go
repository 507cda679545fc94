package body

import (
	"bytes"
	"errors"
	"testing"

	"tsgate/errs"
)

// FuzzRead: never panics, every error is an *errs.Error with a client
// code, and no result exceeds the limit.
func FuzzRead(f *testing.F) {
	f.Add([]byte("cpu v=1"))
	f.Add(gz(f, []byte("cpu v=1")))
	f.Add(zs(f, []byte("cpu v=1")))
	f.Add(gz(f, bytes.Repeat([]byte("a"), 5000)))
	f.Add(zs(f, bytes.Repeat([]byte("a"), 5000)))
	f.Fuzz(func(t *testing.T, in []byte) {
		const limit = 4096
		for _, w := range []Wording{LineProtocol, MsgPack} {
			out, _, err := ReadLimits(bytes.NewReader(in), Limits{MaxDecompressed: limit, Wording: w})
			if err != nil {
				var e *errs.Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v is %T", err, err)
				}
				if e.Code != errs.Invalid && e.Code != errs.TooLarge {
					t.Fatalf("error %q has code %v", e.Msg, e.Code)
				}
				continue
			}
			if len(out) > limit {
				t.Fatalf("%d bytes over the %d limit", len(out), limit)
			}
		}
	})
}
