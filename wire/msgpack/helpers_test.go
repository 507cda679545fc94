package msgpack

import (
	"bytes"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"tsgate/model"
)

// kv and omap build maps with a fixed key order, so payloads (and the
// messages that name the first column) are deterministic.
type kv struct {
	k string
	v any
}
type omap []kv

// raw is bytes written as they are.
type raw []byte

func enc(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	if err := encode(e, &buf, v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encode(e *msgpack.Encoder, buf *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case omap:
		if err := e.EncodeMapLen(len(v)); err != nil {
			return err
		}
		for _, p := range v {
			if err := e.EncodeString(p.k); err != nil {
				return err
			}
			if err := encode(e, buf, p.v); err != nil {
				return err
			}
		}
		return nil
	case []any:
		if err := e.EncodeArrayLen(len(v)); err != nil {
			return err
		}
		for _, x := range v {
			if err := encode(e, buf, x); err != nil {
				return err
			}
		}
		return nil
	case raw:
		buf.Write(v)
		return nil
	case int:
		return e.EncodeInt(int64(v))
	case int64:
		return e.EncodeInt(v)
	case uint64:
		return e.EncodeUint(v)
	case float32:
		return e.EncodeFloat32(v)
	case float64:
		return e.EncodeFloat64(v)
	case nil:
		return e.EncodeNil()
	}
	return e.Encode(v)
}

var (
	now   = time.Unix(1_700_000_000, 123_456_789)
	nowUS = now.UnixMicro()
	f     = model.Float
	i     = model.Int
	u     = model.Uint
	s     = model.String
	bo    = model.Bool
	null  = model.Value{}
)
