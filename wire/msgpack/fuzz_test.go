package msgpack

import (
	"testing"

	bt "tsgate/internal/batchtest"
	"tsgate/model"
)

// FuzzDecode: never panics, every error (returned or recorded) is an
// *errs.Error, and a successful batch has only valid tables.
func FuzzDecode(f *testing.F) {
	for _, v := range []any{
		omap{{"m", "cpu"}, {"columns", omap{{"time", []any{sec, sec + 1}}, {"host", []any{"a", nil}}, {"v", []any{1, 2.5}}}}},
		[]any{omap{{"m", "cpu"}, {"columns", omap{{"v", []any{uint64(1 << 63), 1}}}}}, omap{{"m", "cpu"}, {"columns", omap{{"v", []any{true}}}}}},
		omap{{"batch", []any{omap{{"m", "mem"}, {"t", sec}, {"h", "x"}, {"fields", omap{{"v", 1}}}, {"tags", omap{{"v", "t"}}}}}}},
		omap{{"m", 3}, {"f", []any{1, "x", nil}}, {"t", 1.5}},
	} {
		f.Add(enc(f, v))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var b model.Batch
		err := Decode(in, now, &b)
		bt.Decoded(t, &b, err)
	})
}
